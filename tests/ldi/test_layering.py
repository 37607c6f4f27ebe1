"""LDI invariants on synthetic step scenes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photo3d.camera.intrinsics import Intrinsics, Pose
from photo3d.depth.upsample import matte_depth_edges
from photo3d.ldi import layering as ldi_module
from photo3d.ldi import silhouettes
from photo3d.ldi.discontinuities import (
    cut_contrast,
    detect_discontinuities,
    drop_colourless_cuts,
    normalized_disparity,
    quantization_levels,
    sharpen_depth_edges,
)
from photo3d.ldi.layering import band_for_cameras, build_ldi
from photo3d.ldi.structure import EMPTY_DEPTH, LDIParams
from photo3d.mesh.triangulate import mesh_from_ldi, silhouette_offsets
from photo3d.render.renderer import Renderer

H, W = 96, 128
Z_FG, Z_BG = 2.0, 5.0


def step_scene(fg_color=(255, 0, 0), seed=0):
    """A fronto-parallel square at Z_FG over a textured background plane at Z_BG with no red in it."""
    rng = np.random.default_rng(seed)
    image = np.zeros((H, W, 3), np.uint8)
    image[..., 1] = rng.integers(40, 200, (H, W))
    image[..., 2] = rng.integers(40, 200, (H, W))
    depth = np.full((H, W), Z_BG, np.float32)
    depth[30:70, 40:90] = Z_FG
    image[30:70, 40:90] = fg_color
    return image, depth, Intrinsics.from_fov(W, H)


def fg_pixels_of_cuts(ldi):
    """(row, col) of the nearer pixel of every cut link in layer 0."""
    d = ldi.depth[0]
    cut_r, cut_d = ldi.cuts
    out = []
    for y, x in zip(*np.nonzero(cut_r), strict=True):
        out.append((y, x) if d[y, x] < d[y, x + 1] else (y, x + 1))
    for y, x in zip(*np.nonzero(cut_d), strict=True):
        out.append((y, x) if d[y, x] < d[y + 1, x] else (y + 1, x))
    return out


def test_cuts_exactly_the_step_outline():
    image, depth, k = step_scene()
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=8))
    cut_r, cut_d = ldi.cuts
    expected_r = np.zeros_like(cut_r)
    expected_r[30:70, 39] = expected_r[30:70, 89] = True
    expected_d = np.zeros_like(cut_d)
    expected_d[29, 40:90] = expected_d[69, 40:90] = True
    np.testing.assert_array_equal(cut_r, expected_r)
    np.testing.assert_array_equal(cut_d, expected_d)


def test_a_flat_link_beside_a_step_over_two_links_is_not_cut():
    """A step spread over two links makes the trend beside it half the step; the flat links there stay linked."""
    dn = np.full((40, 60), 0.5, np.float32)
    dn[:, 30] = 0.65  # 0.5 | 0.65 | 0.8: the step takes links 29-30 and 30-31
    dn[:, 31:] = 0.8
    dn[:, 28] += 0.003  # flat to within weak, and noisy
    dn[:, 33] -= 0.003
    cut_r, cut_d = detect_discontinuities(dn, LDIParams())
    assert not cut_d.any()
    np.testing.assert_array_equal(np.flatnonzero(cut_r.any(axis=0)), [29, 30])
    assert cut_r[:, 29:31].all()


def test_back_layer_behind_every_step_continues_the_background():
    image, depth, k = step_scene()
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=8))
    assert ldi.num_layers == 2
    fg = fg_pixels_of_cuts(ldi)
    assert len(fg) > 150
    for y, x in fg:
        assert ldi.depth[1, y, x] == pytest.approx(Z_BG, rel=1e-4), (y, x)
    # The band reaches band_px into the foreground and never past the foreground.
    syn = ldi.synthesis
    assert syn[30:70, 40:90].sum() == syn.sum()
    assert syn[30:70, 40:48].all() and not syn[40:60, 50:80].any()
    # Empty samples are marked by EMPTY_DEPTH and have no links.
    empty = ldi.depth[1] == EMPTY_DEPTH
    assert empty[50, 65] and not ldi.link_right[1, 50, 64:66].any()


@pytest.mark.parametrize("half_res_band", [0, 4])  # 4: inpainted at half resolution
def test_back_layer_colour_comes_from_background_only(half_res_band):
    image, depth, k = step_scene(fg_color=(255, 0, 0))
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=10, half_res_band=half_res_band))
    own = ldi.synthesis
    assert own.sum() > 500
    assert ldi.color[1][own][:, 0].max() == 0  # the background has no red; the foreground is pure red
    assert ldi.color[1][own][:, 1:].min() >= 40


def test_context_behind_weak_cuts_only_is_no_background():
    """Half the square (red) stands 0.011 in front of the other (blue), a weak step that hysteresis links to
    the square's outline and so is cut; the red half's disparity dips by 0.0015 here and there. Those red
    pixels are not 'in front' of the blue half's plane by more than weak, yet no steep step borders them:
    they are the red half's own surface, no context, so no red in the fill behind the red half (before: 165)."""
    image, depth, k = step_scene(fg_color=(255, 0, 0))
    image[30:70, 40:65] = (0, 0, 255)
    depth[30:70, 40:65] = Z_FG / (1.0 - 0.011)
    dips = np.zeros(depth.shape, bool)
    dips[30:70, 68:90] = np.random.default_rng(1).random((40, 22)) < 0.3
    depth[dips] = Z_FG / (1.0 - 0.0015)
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=10, median=1, soft_edges=False))
    cut_r, _ = ldi.cuts
    assert cut_r[30:70, 64].sum() > 20  # the weak step is cut
    own = ldi.synthesis & (ldi.alias[1] < 0) & (ldi.depth[1] > 0)  # layer 1's own samples, no seam copies
    behind_red = own[:, 65:90]
    assert behind_red.sum() > 100
    assert ldi.color[1][:, 65:90][behind_red][:, 0].max() == 0


def test_no_face_spans_a_step_and_back_faces_join_the_background():
    image, depth, k = step_scene()
    mesh = mesh_from_ldi(build_ldi(image, depth, k, params=LDIParams(band_px=8)))
    z = mesh.vertices[mesh.faces][:, :, 2]
    spans = z.max(1) / z.min(1)
    assert spans.max() < 1.01  # every triangle lies on one side of the step
    back = mesh.layers[mesh.faces].max(1) > 0
    assert back.sum() > 0
    # Back-layer faces that touch the seam use the surface's own vertices: shared, so no crack.
    seam_faces = back & (mesh.layers[mesh.faces].min(1) == 0)
    assert seam_faces.sum() > 100
    assert np.allclose(z[back], Z_BG, rtol=1e-4)


def test_slanted_background_plane_stays_a_plane():
    """Disparity of a plane is affine in the image; the back layer must extend that plane exactly."""
    image, _, k = step_scene()
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    disparity = 0.2 + 0.0008 * xs + 0.0005 * ys  # a slanted plane, 1/z affine in (u, v)
    depth = (1.0 / disparity).astype(np.float32)
    depth[30:70, 40:90] = 1.5
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=10, median=1))
    own = ldi.synthesis
    got = 1.0 / ldi.depth[1][own]
    np.testing.assert_allclose(got, disparity[own], rtol=2e-3)


def test_thresholds_do_not_depend_on_depth_units():
    image, depth, k = step_scene()
    depth = depth + np.linspace(0, 0.5, W, dtype=np.float32)[None, :]
    a = build_ldi(image, depth, k, params=LDIParams(band_px=8))
    b = build_ldi(image, depth * 1000.0, k, params=LDIParams(band_px=8))
    for ca, cb in zip(a.cuts, b.cuts, strict=True):
        np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(a.synthesis, b.synthesis)


def test_tiny_fragments_are_dropped_and_gaps_linked():
    dn = np.full((40, 60), 0.3, np.float32)
    dn[10, 10] = 0.8  # a one-pixel speck: too small to be an edge
    dn[20:35, 20:50] = 0.8  # a real step ...
    dn[20, 35] = 0.3 + 0.015  # ... whose top edge dips to a weak jump (above weak, below strong) in one column
    dn[5:8, 40:55] = 0.3 + 0.015  # a plateau whose edge is only ever weak: no discontinuity
    params = LDIParams(min_edge_px=6)
    cut_r, cut_d = detect_discontinuities(dn, params)
    assert not cut_r[10, 9:11].any() and not cut_d[9:11, 10].any()
    assert cut_d[19, 20:50].all()  # hysteresis links the weak column into the strong edge
    assert cut_r[20:35, 19].all()
    assert not cut_d[3:8, 40:55].any() and not cut_r[5:8, 38:56].any()


def test_cut_contrast_finds_a_blurred_colour_edge_a_few_pixels_off_the_cut():
    image = np.zeros((4, 40, 3), np.uint8)
    image[:, 20:] = (90, 60, 30)  # a colour step between columns 19 and 20 ...
    image = cv2.blur(image, (5, 1))  # ... spread over 5 px
    cut = np.zeros((4, 39), bool)
    cut[:, 19] = cut[:, 22] = cut[:, 30] = True  # on it, 3 px off, 11 px off
    contrast = cut_contrast(image, cut, axis=1, reach=3).reshape(4, 3)
    assert (contrast[:, 0] == 180).all() and (contrast[:, 1] == 180).all()  # the full step, L1 over RGB
    assert (contrast[:, 2] == 0).all()
    # The same along the other axis, and the border clamped.
    flipped = np.ascontiguousarray(image.transpose(1, 0, 2))
    assert (cut_contrast(flipped, cut.T, axis=0, reach=3).reshape(3, 4).T == contrast).all()
    assert cut_contrast(image, np.eye(4, 39, 36, dtype=bool), axis=1, reach=3).tolist() == [0, 0, 0]


def test_cuts_with_no_colour_edge_are_linked_again():
    image, depth, k = step_scene()
    image[30:70, 40:60] = image[30:70, 20:40]  # the square's left part has the background's texture ...
    image[30:70, 40:60, 0] = 0  # ... and no red: its left edge shows no colour edge
    dn = normalized_disparity(depth)[0]
    cut_r, cut_d = detect_discontinuities(dn, LDIParams())
    # Averaged along the edge, the texture varies by 152 at most here (no edge), red over it by 316 at least.
    kept_r, kept_d = drop_colourless_cuts(image, cut_r, cut_d, min_contrast=240, reach=2)
    assert cut_r[30:70, 39].all() and not kept_r[30:70, 39].any()  # the left edge is linked
    assert kept_r[30:70, 89].all()  # the red right edge stays cut
    np.testing.assert_array_equal(kept_d[29, 60:90], True)
    assert drop_colourless_cuts(image, cut_r, cut_d, min_contrast=0, reach=2)[0].sum() == cut_r.sum()
    # build_ldi does the same by default: the plain square keeps every cut.
    plain = build_ldi(*step_scene(), params=LDIParams(band_px=8))
    assert plain.cuts[0][30:70, 39].all() and plain.cuts[0][30:70, 89].all()


def test_band_matches_trajectory_parallax():
    image, depth, k = step_scene()
    tx = 0.3
    cut_r, cut_d = build_ldi(image, depth, k, params=LDIParams(band_px=4)).cuts
    gap = band_for_cameras(depth, cut_r, cut_d, k, [Pose.identity(), Pose.translation(tx, 0, 0)])
    expected = k.fx * tx * (1 / Z_FG - 1 / Z_BG)  # parallax difference between the two depths
    assert gap == pytest.approx(expected, abs=1.0)
    ldi = build_ldi(image, depth, k, poses=[Pose.translation(tx, 0, 0)])
    assert ldi.band_px >= expected


@pytest.mark.gl
def test_moving_camera_opens_no_hole_at_the_step(gl):
    """The disocclusion a lateral move opens is filled by the back layer: no background-colour pixel inside."""
    image, depth, k = step_scene()
    tx = 0.25
    ldi = build_ldi(image, depth, k, poses=[Pose.translation(tx, 0, 0), Pose.translation(-tx, 0, 0)])
    mesh = mesh_from_ldi(ldi)
    r = Renderer(W, H, 1, background=(255, 0, 255), fill_holes=False, context=gl)
    try:
        r.upload(mesh)
        for sign in (1, -1):
            out = r.render(Pose.translation(sign * tx, 0, 0), k)
            shift = int(np.ceil(k.fx * tx / Z_BG)) + 2  # the frame edge uncovered by the move
            inner = out[:-1, shift:-shift] if sign > 0 else out[:-1, shift:-shift]
            magenta = (inner[..., 0] == 255) & (inner[..., 1] == 0) & (inner[..., 2] == 255)
            assert not magenta.any(), f"hole pixels at {np.argwhere(magenta)[:5]}"
    finally:
        r.release()


# --- multi-layer LDI, depth-edge filter, silhouettes ------------------------------------------------------------------

Z_MID = 3.5


def nested_scene():
    """Wall (blue, Z_BG) behind a green rectangle (Z_MID) whose right edge a red square (Z_FG) covers."""
    rng = np.random.default_rng(1)
    image = np.zeros((H, W, 3), np.uint8)
    image[..., 2] = rng.integers(120, 200, (H, W))
    depth = np.full((H, W), Z_BG, np.float32)
    depth[20:80, 10:70] = Z_MID
    image[20:80, 10:70] = (0, 160, 0)
    depth[35:65, 55:95] = Z_FG
    image[35:65, 55:95] = (255, 0, 0)
    return image, depth, Intrinsics.from_fov(W, H)


def test_nested_occluders_get_a_layer_each():
    """Behind the square: the rectangle continued, and behind that the wall; planes stay planes, colours theirs."""
    image, depth, k = nested_scene()
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=12))
    assert ldi.num_layers >= 3
    under = np.zeros((H, W), bool)
    under[40:60, 58:66] = True  # under the square, near its left edge: the rectangle continued
    assert np.allclose(ldi.depth[1][under], Z_MID, rtol=1e-4)
    assert (ldi.color[1][under][:, 1] > 100).all() and (ldi.color[1][under][:, 0] == 0).all()
    # Samples of the layers behind that are their own (not seam copies of the layer in front).
    own = [ldi.valid[j] & (ldi.alias[j] < 0) for j in range(2, ldi.num_layers)]
    z = np.concatenate([ldi.depth[j][m] for j, m in enumerate(own, start=2)])
    c = np.concatenate([ldi.color[j][m] for j, m in enumerate(own, start=2)])
    assert len(z) > 20
    assert np.allclose(z, Z_BG, rtol=1e-4)  # the third layer continues the wall
    assert (c[:, 0] == 0).all() and (c[:, 1] == 0).all()  # with the wall's colour only: no red, no green


def test_max_layers_bounds_the_stack():
    image, depth, k = nested_scene()
    assert build_ldi(image, depth, k, params=LDIParams(band_px=12, max_layers=2)).num_layers == 2
    assert build_ldi(image, depth, k, params=LDIParams(band_px=12, max_layers=1)).num_layers == 1


def soft_step(sigma: float = 1.5):
    """A disparity step blurred over a few pixels (as depth networks give), with a sharp colour edge at x = 60."""
    dn = np.full((40, 120), 0.4, np.float32)
    dn[:, 60:] = 1.0
    soft = cv2.GaussianBlur(dn, (0, 0), sigma)
    image = np.zeros((40, 120, 3), np.uint8)
    image[:, :60] = (30, 90, 200)
    image[:, 60:] = (220, 60, 40)
    return dn, soft, image


def test_depth_edge_filter_turns_a_soft_edge_into_the_colour_step():
    sharp, soft, image = soft_step()
    out = sharpen_depth_edges(soft, image, radius=2, iterations=2)
    for before, after in ((soft, 0.4), (out, 0.75)):
        jumps = np.diff(before[5:-5], axis=1)
        # The largest jump of every row lies on the colour edge (between x = 59 and 60) ...
        assert (jumps.argmax(axis=1) == 59).all()
        # ... and, filtered, it carries at least 75 % of the step (blurred: under 40 %).
        share = jumps.max(axis=1) / 0.6
        assert (share >= after).all() if after > 0.5 else (share < after).all()


def test_depth_edge_filter_leaves_planes_and_sharp_edges_alone():
    sharp, _, image = soft_step()
    np.testing.assert_array_equal(sharpen_depth_edges(sharp, image), sharp)
    ys, xs = np.mgrid[0:40, 0:120].astype(np.float32)
    slant = (0.2 + 0.006 * xs + 0.004 * ys).astype(np.float32)
    noisy = np.random.default_rng(0).integers(0, 255, (40, 120, 3)).astype(np.uint8)
    np.testing.assert_array_equal(sharpen_depth_edges(slant, noisy), slant)


def test_silhouette_vertices_sit_on_the_pixel_edge():
    image, depth, k = step_scene()
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=8))
    dx, dy = silhouette_offsets(ldi)
    assert (dx[40:60, 40] == -0.5).all() and (dx[40:60, 89] == 0.5).all()
    assert (dy[30, 45:85] == -0.5).all() and (dy[69, 45:85] == 0.5).all()
    assert dx[40:60, 41:89].sum() == 0 and dx[:, :39].sum() == 0  # interior and background stay at their centres
    mesh = mesh_from_ldi(ldi)
    fg = mesh.vertices[(mesh.layers == 0) & np.isclose(mesh.vertices[:, 2], Z_FG)]
    u = fg[:, 0] / fg[:, 2] * k.fx + k.cx
    assert u.min() == pytest.approx(40.0, abs=1e-4) and u.max() == pytest.approx(90.0, abs=1e-4)  # pixel edges


@pytest.mark.gl
@pytest.mark.parametrize("grow", [True, False])
def test_foreground_keeps_its_full_width_when_the_camera_moves(gl, grow):
    """The red square is 50 px wide; seen from a moved camera it must still cover 50 px of every row."""
    image, depth, k = step_scene(fg_color=(255, 0, 0))
    tx = 0.2
    ldi = build_ldi(image, depth, k, poses=[Pose.translation(tx, 0, 0)])
    r = Renderer(W, H, 1, fill_holes=False, context=gl)
    try:
        r.upload(mesh_from_ldi(ldi, grow_silhouettes=grow))
        out = r.render(Pose.translation(tx, 0, 0), k)
    finally:
        r.release()
    red = (out[..., 0] > 200) & (out[..., 1] < 30)
    widths = red[35:65].sum(axis=1)
    if grow:
        assert (widths == 50).all(), widths
    else:
        assert (widths == 49).all(), widths  # half a pixel lost on either side


def test_one_level_steps_of_a_quantised_map_are_not_edges():
    """A slanted plane stored in 20 levels is a staircase; only the real step (5 levels) is cut."""
    xs = np.arange(200, dtype=np.float32)
    levels = np.linspace(0.3, 1.0, 20, dtype=np.float32)  # one level = 0.037 > strong
    dn = np.repeat(levels[np.clip((xs / 10).astype(int), 0, 19)][None, :], 60, axis=0)
    dn[20:40, 100:150] = np.minimum(dn[20:40, 100:150] + 5 * (levels[1] - levels[0]), 1.0)
    found = quantization_levels(dn)
    assert found is not None and len(found) >= 16
    cut_r, cut_d = detect_discontinuities(dn, LDIParams(), found)
    assert not cut_r[:15].any() and not cut_r[45:].any()  # the staircase rows
    assert cut_d[19, 100:150].all() and cut_r[25:35, 99].all()  # the step's outline
    # Without the levels every stair is cut.
    plain_r, _ = detect_discontinuities(dn, LDIParams())
    assert plain_r[:15].sum(axis=1).min() >= 15
    # Few values (flat layers, as in a two-depth test scene) are not a quantised map.
    assert quantization_levels(np.where(xs < 100, 0.4, 1.0)[None, :].repeat(60, 0).astype(np.float32)) is None


def test_soft_depth_edges_are_moved_onto_the_colour_edge():
    image, depth, k = step_scene()
    soft = (1.0 / cv2.GaussianBlur((1.0 / depth).astype(np.float32), (0, 0), 2.5)).astype(np.float32)

    def right_depth(**params) -> float:
        ldi = build_ldi(image, soft, k, params=LDIParams(band_px=8, **params))
        return float(np.mean(np.abs(ldi.depth[0] - depth) < 0.1 * depth))

    # The blurred ramp puts background depth on the square's rim and foreground depth around it; recovery
    # and the ramp collapse put the step on the colour edge: measured 90.0 % of pixels within 10 % of the true
    # depth without, 99.8 % with (97.5 % with the recovery alone, before ramps were collapsed).
    assert right_depth(recover_edges=False, matte_edges=False) < 0.92
    assert right_depth() > 0.99


def soft_disc_scene(depth_offset: float = 0.0):
    """A red disc (radius 30 px, Z_FG) with an anti-aliased rim over a textured wall (Z_BG, no red).

    Returns the photo, the depth map (its disc ``depth_offset`` px wider than the colour's) and the true coverage.
    """
    rng = np.random.default_rng(5)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    r = np.hypot(ys - 50.0, xs - 64.0)
    coverage = np.clip(30.0 - r + 0.5, 0.0, 1.0)  # 1 inside, a one-pixel linear rim
    wall = np.stack([np.zeros((H, W)), rng.integers(60, 160, (H, W)), rng.integers(120, 220, (H, W))], -1)
    image = np.rint(coverage[..., None] * np.array([230.0, 30.0, 20.0]) + (1 - coverage[..., None]) * wall)
    depth = np.where(r <= 30.0 + depth_offset, Z_FG, Z_BG).astype(np.float32)
    return image.astype(np.uint8), depth, coverage, Intrinsics.from_fov(W, H)


def test_soft_silhouette_pixels_get_alpha_and_the_background_behind_them():
    image, depth, coverage, k = soft_disc_scene()
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=8, matte_radius=3))
    assert ldi.alpha is not None and ldi.alpha.shape == ldi.depth.shape
    soft = ldi.alpha[0] < 255
    assert soft.sum() >= 60  # the rim is about 190 px around; most of it is mixed
    assert (ldi.alpha[1:] == 255).all()
    rim = (coverage > 0.2) & (coverage < 0.8)
    assert np.abs(ldi.alpha[0][rim] / 255.0 - coverage[rim]).mean() < 0.2
    # Soft samples are foreground, and layer 1 behind them holds the wall's colour: no red.
    assert np.allclose(ldi.depth[0][soft], Z_FG, rtol=1e-3)
    behind = soft & ldi.valid[1] & (ldi.alias[1] < 0)
    assert behind.sum() == soft.sum()
    assert ldi.color[1][behind][:, 0].max() <= 40
    # Decontaminated: the soft samples' own colour is the disc's red, not a mix.
    assert np.median(ldi.color[0][soft][:, 0]) > 180
    # Composited, the layers give back the photo (exactly but for 8-bit rounding, unless a solved colour
    # fell out of gamut and was clipped).
    a = ldi.alpha[0][..., None] / 255.0
    composite = a * ldi.color[0] + (1 - a) * np.where(behind[..., None], ldi.color[1], ldi.color[0])
    err = np.abs(composite - image).max(axis=-1)
    in_gamut = soft & ((ldi.color[0] > 0) & (ldi.color[0] < 255)).all(axis=-1)
    assert in_gamut.sum() > 0.8 * soft.sum()
    assert err[in_gamut].max() <= 1.5
    # Off, every sample is opaque and the photo is layer 0 as it was.
    hard = build_ldi(image, depth, k, params=LDIParams(band_px=8, soft_edges=False))
    assert hard.alpha is None and (hard.color[0] == image).all()


def test_a_matte_alpha_the_colours_do_not_hold_is_lowered(monkeypatch):
    """The matte claims 30 % red on wall pixels whose colour holds none (as cf matting does at the outer edge of a
    blurred silhouette): they keep almost no alpha, and the background behind them stays the photo's.

    Kept, the alpha would have the background solved from the compositing equation, (photo - 0.3 red) / 0.7:
    a line brighter and bluer than the wall, shown once the disc moves away.
    """
    image, depth, coverage, k = soft_disc_scene()
    next_to_rim = cv2.dilate((coverage > 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    real = silhouettes.estimate_matte
    claimed = np.zeros(coverage.shape, bool)

    def overconfident(photo, trimap, *args, **kwargs):
        matte = real(photo, trimap, *args, **kwargs)
        wall = matte.unknown & (coverage == 0) & next_to_rim
        claimed[:] = wall
        matte.alpha[wall] = 0.3
        matte.foreground[wall] = (230, 30, 20)
        return matte

    monkeypatch.setattr(silhouettes, "estimate_matte", overconfident)
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=8, matte_radius=3))
    soft = claimed & (ldi.alpha[0] < 255)
    assert soft.sum() >= 10
    assert ldi.alpha[0][soft].max() <= 40  # 0.3 claimed: 77 (the textured wall leaves up to 35)
    behind = soft & ldi.valid[1] & (ldi.alias[1] < 0)
    assert behind.sum() == soft.sum()
    err = np.abs(ldi.color[1][behind].astype(int) - image[behind])
    assert err.max() <= 20 and err.mean() <= 4, (err.max(), err.mean())


def test_the_fill_continues_the_background_edge_it_meets():
    """A grey wall darkens to 120 in the one-pixel ring around a disc (a blur halo, a shadow).

    The ring stays in view as the back layer's seam; the fill behind the disc starts at the ring's colour and
    fades into the wall's within a few pixels. A fill from the context alone, which starts beyond the ring,
    met it in a line of 60 grey levels.
    """
    ys, xs = np.mgrid[0:H, 0:W]
    r = np.hypot(ys - 48.0, xs - 64.0)
    disc = r <= 20.0
    ring = ~disc & (cv2.dilate(disc.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    image = np.full((H, W, 3), 180, np.uint8)
    image[disc] = (200, 30, 30)
    image[ring] = 120
    depth = np.where(disc, Z_FG, Z_BG).astype(np.float32)
    ldi = build_ldi(image, depth, Intrinsics.from_fov(W, H), params=LDIParams(band_px=32, soft_edges=False))
    own = ldi.valid[1] & (ldi.alias[1] < 0)
    seam = ldi.valid[1] & (ldi.alias[1] >= 0)
    assert (seam & ring).sum() > 0.9 * ring.sum()
    grey = ldi.color[1].astype(int).mean(axis=-1)
    beside = own & (cv2.dilate(ring.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    assert beside.sum() > 100
    assert np.abs(grey[beside] - 120).max() <= 20
    deep = own & (r < 8.0)
    assert deep.sum() > 100 and np.abs(grey[deep] - 180).max() <= 2
    assert (np.abs(ldi.color[1][own].astype(int) - grey[own][:, None]) <= 1).all()  # grey only: no disc red


def test_a_cut_with_nothing_in_front_of_its_background_synthesises_nothing():
    """A cut whose near side is no nearer than the background continued under it: no synthesis, no error."""
    dn = np.full((32, 32), 0.5, np.float32)
    cut_r = np.zeros((32, 31), bool)
    cut_r[10:20, 15] = True
    synthesis, back_dn, color = ldi_module._back_layer(
        np.full((32, 32, 3), 100, np.uint8),
        dn,
        dn > 0,
        cut_r,
        np.zeros((31, 32), bool),
        8,
        LDIParams(),
        ldi_module.ClassicalInpainter(),
    )
    assert not synthesis.any() and back_dn.shape == dn.shape and color.shape == (32, 32, 3)


def test_a_depth_edge_off_the_colour_edge_moves_onto_it():
    """The depth's disc is 3 px wider than the photo's: the matte gives the ring back to the wall."""
    image, depth, coverage, k = soft_disc_scene(depth_offset=3.0)
    ring = (coverage == 0) & (depth == Z_FG)
    assert ring.sum() > 300
    soft = build_ldi(image, depth, k, params=LDIParams(band_px=8, matte_radius=5, recover_edges=False, edge_radius=0))
    hard = build_ldi(image, depth, k, params=LDIParams(band_px=8, soft_edges=False, recover_edges=False, edge_radius=0))
    assert np.isclose(hard.depth[0][ring], Z_FG, rtol=1e-3).mean() > 0.99
    assert np.isclose(soft.depth[0][ring], Z_BG, rtol=1e-3).mean() > 0.95


def test_a_staircase_at_a_silhouette_is_matted_like_a_step():
    """On the disc's right half the depth steps down over two one-pixel treads (as a phone's map does where
    edge-aware filtering leaves a staircase); the colour is the disc's as before.

    Every tread pixel is the edge of some cut; taken for the ridge of a thin surface, each kept its side and
    marked a place where three surfaces meet, which kept the matte off that half: measured 0-40 soft samples on
    the right for 91 on the left.
    """
    image, depth, _, k = soft_disc_scene()
    ys, xs = np.mgrid[0:H, 0:W]
    r = np.hypot(ys - 50.0, xs - 64.0)
    stair = depth.copy()
    stair[(xs > 64) & (r > 30.0) & (r <= 31.0)] = Z_FG / 0.8  # normalised disparity 1.0 -> 0.8 -> 0.6 -> 0.4
    stair[(xs > 64) & (r > 31.0) & (r <= 32.0)] = Z_FG / 0.6
    for radius in (3, 6):
        soft = build_ldi(image, stair, k, params=LDIParams(band_px=8, matte_radius=radius)).alpha[0] < 255
        left, right = soft[:, :64].sum(), soft[:, 65:].sum()
        assert left >= 60 and right >= 0.9 * left, (radius, left, right)


def test_a_weak_spur_of_a_silhouette_changes_no_alpha():
    """Two wall pixels beside the disc's rim lie 0.012 nearer than the wall (above ``weak``, below ``strong``):
    hysteresis links their step to the silhouette's cut. The soft silhouette is the one without them.

    As a side of the matte, the spur's far side passed for foreground along a one-pixel line into the wall:
    42 more soft samples. (The depth filters, off here, would remove so small a spur.)
    """
    image, depth, _, k = soft_disc_scene()
    spur = depth.copy()
    spur[50, 95:97] = Z_FG / (0.4 + 0.012)
    params = LDIParams(
        band_px=8, matte_radius=6, median=0, edge_radius=0, recover_edges=False, matte_edges=False, align_edges=False
    )
    assert detect_discontinuities(normalized_disparity(spur)[0], params)[1][49:51, 95:97].all()  # a cut
    np.testing.assert_array_equal(
        build_ldi(image, spur, k, params=params).alpha[0], build_ldi(image, depth, k, params=params).alpha[0]
    )


def test_matted_specks_off_the_silhouette_stay_with_the_background():
    """Red specks on the wall near the disc's rim matte as partly foreground, but touch no foreground.

    Joined to the foreground at its depth, each would be a speck too small to
    cut (see ``min_edge_px``), linked to the wall around it: triangles from the
    disc's depth to the wall's, stretched across the frame as the camera moves.
    """
    image, depth, coverage, k = soft_disc_scene()
    specks = [(50, 64 + 33), (50, 64 - 34), (50 + 33, 64), (50 - 33, 64 + 5)]  # 2 x 2 px, top-left corners
    for y, x in specks:
        assert coverage[y - 1 : y + 3, x - 1 : x + 3].max() == 0.0  # off the rim: wall all around
        image[y : y + 2, x : x + 2] = (0.8 * np.array([230.0, 30.0, 20.0]) + 0.2 * image[y, x]).astype(np.uint8)
    # Fragments under 10 px are not cut, as in a photo of 2000 px.
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=8, matte_radius=6, min_edge_px=10))
    for y, x in specks:
        assert np.isclose(ldi.depth[0][y, x], Z_BG, rtol=1e-3), (y, x, ldi.depth[0][y, x])
    z = ldi.depth[0]
    for link, a, b in ((ldi.link_right[0], z[:, :-1], z[:, 1:]), (ldi.link_down[0], z[:-1], z[1:])):
        assert (np.abs(a - b)[link] < 0.1 * np.minimum(a, b)[link]).all()


def uncertain_ring(coverage: np.ndarray) -> np.ndarray:
    """The unmixed pixels from 10 px inside to 14 px outside the rim of :func:`soft_disc_scene`'s disc."""
    r = np.hypot(*(np.mgrid[0:H, 0:W] - np.array([50.0, 64.0])[:, None, None]))
    return (r > 20) & (r < 44) & ((coverage == 0) | (coverage == 1))


def test_a_wide_ramp_off_the_colour_edge_becomes_a_step_on_it():
    """A network-like edge: the depth's disc is 6 px wider than the photo's and blurred into a ramp ~12 px wide."""
    image, depth, coverage, _ = soft_disc_scene(depth_offset=6.0)
    dn, _ = normalized_disparity(depth)
    ramp = cv2.GaussianBlur(dn, (0, 0), 3.0)
    mid = 0.5 * (float(dn.max()) + float(dn.min()))
    ring = uncertain_ring(coverage)
    right = lambda d: np.mean((d[ring] >= mid) == (coverage[ring] == 1))  # noqa: E731
    out = matte_depth_edges(ramp, image, reach=10, min_step=0.04)
    # Measured: the blurred, offset ramp puts 76.0 % of the zone on the right side of the mid-level, the matte all.
    assert right(ramp) < 0.8
    assert right(out) > 0.99
    # And the moved pixels take their side's plateau, so the ramp is now one step between the two levels
    # (within 2 % of the span: each side's plane is fitted next to the band, where the ramp's foot tilts it;
    # measured 1.8 % at most, 0.2 % on average).
    moved = out != ramp
    near, far = float(ramp.max()), float(ramp.min())
    assert np.minimum(np.abs(out[moved] - near), np.abs(out[moved] - far)).max() < 0.02 * (near - far)


def seam_steps(values: np.ndarray, moved: np.ndarray, side: np.ndarray) -> list[np.ndarray]:
    """Across and down: the steps |values| between 4-neighbours of ``side`` of which one is ``moved``."""
    steps = []
    for a, b in (
        ((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
        ((slice(None, -1),), (slice(1, None),)),
    ):
        meet = side[a] & side[b] & (moved[a] != moved[b])
        steps.append(np.abs(values[a] - values[b])[meet])
    return steps


def test_moved_pixels_continue_a_slanted_floor_beside_the_edge():
    """The disc's ramp over a floor that recedes upwards: moved floor pixels take the floor's plane, not the
    mean of a large box around them (which reaches up the slope and leaves a trough, a false cut, beside the edge)."""
    image, _, _, _ = soft_disc_scene()
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    floor = (0.3 + 0.004 * ys).astype(np.float32)
    dn = np.where(np.hypot(ys - 50.0, xs - 64.0) <= 36.0, 1.0, floor).astype(np.float32)
    ramp = cv2.GaussianBlur(dn, (0, 0), 3.0)
    out = matte_depth_edges(ramp, image, reach=10, min_step=0.04)
    moved, on_floor = out != ramp, out < 0.8
    assert (moved & on_floor).sum() > 2000
    # Measured: 0.005 from the floor on average (the box mean: 0.025; the floor rises 0.004 per row).
    assert np.abs(out - floor)[moved & on_floor].mean() < 0.01
    # No cut opens where the moved pixels meet the unmoved floor: every step there is below the LDI's
    # bridging tolerance (measured at most 0.006; the box mean left 270 of 370 such steps above it, up to 0.16).
    for steps in seam_steps(out, moved, on_floor):
        assert steps.size > 100
        assert steps.max() < LDIParams().weak


def test_moved_pixels_meet_the_full_size_surface_without_a_step():
    """A disc whose depth ramps down 6 px outside its colour edge, on a flat floor; the matte is solved at half
    size (f = 2), where the floor's plateau pixels at the foot of the ramp average ramp values in. The moved
    floor pixels still meet the unmoved full-size floor within the LDI's bridging tolerance (measured 0.004;
    with the half-size level alone, 0.018: a false cut)."""
    h, w = 600, 800
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(ys - 300.0, xs - 400.0)
    image = np.where((r <= 200.0)[..., None], np.uint8([200, 60, 40]), np.uint8([40, 90, 200])).astype(np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 1.0)
    dn = np.clip(1.0 - 0.02 * (r - 206.0), 0.3, 1.0).astype(np.float32)
    out = matte_depth_edges(dn, image, reach=24, min_step=0.3)
    moved, floor = out != dn, out < 0.35
    assert (moved & floor).sum() > 10000
    for steps in seam_steps(out, moved, floor):
        assert steps.size > 500
        assert steps.max() < LDIParams().weak


def test_matting_depth_edges_leaves_planes_and_steps_on_the_colour_edge_alone():
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    slant = (0.2 + 0.006 * xs + 0.004 * ys).astype(np.float32)
    noisy = np.random.default_rng(0).integers(0, 255, (H, W, 3)).astype(np.uint8)
    np.testing.assert_array_equal(matte_depth_edges(slant, noisy, reach=10, min_step=0.04), slant)
    image, depth, _ = step_scene()
    dn, _ = normalized_disparity(depth)
    out = matte_depth_edges(dn, image, reach=10, min_step=0.04)
    np.testing.assert_allclose(out, dn, atol=1e-5)


def test_build_ldi_mattes_the_ramps_of_a_soft_map_only():
    image, depth, coverage, k = soft_disc_scene(depth_offset=6.0)
    dn, _ = normalized_disparity(depth)
    soft_depth = (Z_FG / cv2.GaussianBlur(dn, (0, 0), 3.0)).astype(np.float32)
    ring = uncertain_ring(coverage)

    def right(d: np.ndarray, **params) -> float:
        ldi = build_ldi(image, d, k, params=LDIParams(band_px=8, edge_reach=10, **params))
        return float(np.mean(((ldi.depth[0] < 0.5 * (Z_FG + Z_BG)) == (coverage == 1))[ring]))

    # Measured, with / without the matte: 99.7 % / 98.1 % of the zone on the right side of the step without soft
    # silhouettes (the recovery and the ramp collapse fix most of it already); 99.9 % / 99.6 % with them.
    assert right(soft_depth, soft_edges=False, matte_edges=False) < 0.985
    assert right(soft_depth, soft_edges=False) > 0.995
    assert right(soft_depth) > 0.998
    # A sharp map keeps its step where the depth puts it, 6 px off the colour edge: the matte does not run.
    np.testing.assert_array_equal(
        build_ldi(image, depth, k, params=LDIParams(band_px=8, edge_reach=10, soft_edges=False)).depth,
        build_ldi(
            image, depth, k, params=LDIParams(band_px=8, edge_reach=10, soft_edges=False, matte_edges=False)
        ).depth,
    )


def test_a_soft_ramp_colour_cannot_place_becomes_one_step_at_its_midpoint():
    """White on white: a square's depth blurred into a ramp ~12 px wide over a wall of the same texture."""
    rng = np.random.default_rng(3)
    image = np.repeat(rng.integers(200, 215, (H, W, 1)), 3, axis=2).astype(np.uint8)
    dn = np.full((H, W), Z_FG / Z_BG, np.float32)
    dn[30:70, 40:90] = 1.0
    soft = cv2.GaussianBlur(dn, (0, 0), 2.5)
    # (By default a depth edge with no colour edge is no cut at all: drop_colourless_cuts. Kept here.)
    params = LDIParams(band_px=8, min_cut_contrast=0)
    ldi = build_ldi(image, (Z_FG / soft).astype(np.float32), Intrinsics.from_fov(W, H), params=params)
    cut_r, cut_d = ldi.cuts
    # Measured without the collapse: runs of 6 cut links at the left side of rows 50-61 (slivers), the rest of
    # each ramp uncut (rubber), 4 layers; with it one cut per side and 2 layers.
    assert ldi.depth.shape[0] == 2
    for cuts, edges in ((cut_r[38:62], (39, 89)), (cut_d[:, 48:82].T, (29, 69))):  # away from the corners
        for line in cuts:
            assert len(np.nonzero(line)[0]) == 2
            # The step sits where the symmetric ramp crosses halfway: on the true edge, within a pixel.
            assert np.abs(np.nonzero(line)[0] - np.array(edges)).max() <= 1
    # And no ramp is left: every pixel of those rows is at one of the two depths (the ramp's ends, within 3 %).
    rows = ldi.depth[0, 38:62]
    assert np.all(np.minimum(np.abs(rows / Z_FG - 1), np.abs(rows / Z_BG - 1)) < 0.03)


def test_a_bump_of_the_background_beside_a_step_is_no_foreground():
    """A smooth bump of the wall (+0.03 in disparity, no cut) within the band of the square's outline stands
    in front of the wall's plane by more than weak, but it is background: no layer behind it (before: 45
    synthesised pixels on the wall), and it stays context for the fill."""
    image, depth, k = step_scene()
    yy, xx = np.mgrid[:H, :W]
    dn = Z_FG / depth
    dn += 0.03 * np.exp(-((yy - 50) ** 2 + (xx - 101) ** 2) / (2 * 3.0**2))  # 11 px right of the square
    ldi = build_ldi(image, (Z_FG / dn).astype(np.float32), k, params=LDIParams(band_px=20, soft_edges=False))
    cut_r, cut_d = ldi.cuts
    assert not cut_r[:, 92:].any() and not cut_d[:, 92:].any()  # the bump is smooth: no cut on it
    syn = ldi.synthesis
    assert syn[30:70, 40:90].sum() > 1000
    assert syn[30:70, 40:90].sum() == syn.sum()


@pytest.mark.parametrize(("exponent", "split"), [(0.0, 50.0), (0.5, 100 / 3), (1.0, 20.0)])
def test_pixels_between_two_cuts_continue_the_one_that_uncovers_them_first(exponent, split):
    """Seeds along x = 0 (jump 0.1) and x = 100 (jump 0.4): a pixel at x takes the left one while
    x / 0.1^e < (100 - x) / 0.4^e, so the split moves from the middle (nearest seed) towards the weak cut."""
    seeds = np.zeros((8, 101), bool)
    seeds[:, [0, 100]] = True
    jumps = np.zeros((8, 101), np.float32)
    jumps[:, 0], jumps[:, 100] = 0.1, 0.4
    dist, index, sy, sx = ldi_module._first_revealing_seed(seeds, jumps, exponent=exponent)
    chosen = sx[index]
    x = np.arange(101)
    assert (chosen[:, x < split - 1.5] == 0).all() and (chosen[:, x > split + 1.5] == 100).all()
    np.testing.assert_allclose(
        dist[4], np.minimum(x, 100 - x) if exponent == 0 else np.where(chosen[4] == 0, x, 100 - x)
    )


def test_a_fill_at_half_resolution_starts_its_texture_as_far_from_the_context():
    """Random texture (4 px blocks, which halving keeps) left of a wide hole: at half resolution the copies
    still start 6 px (photo pixels) from the context and are fully on by 30 px, as at full resolution."""
    rng = np.random.default_rng(3)
    color = np.kron(rng.uniform(60.0, 180.0, (16, 40, 3)), np.ones((4, 4, 1))).astype(np.float32)
    known = np.zeros((64, 160), bool)
    known[:, :60] = True
    hole = ~known
    inpainter = ldi_module.ClassicalInpainter()
    grain = color[known][:, 0].std()
    for scale in (1, 2):
        out = ldi_module._fill_scaled(inpainter, color, known, hole, scale)
        near, far = out[:, 60:64, 0], out[:, 92:104, 0]  # within 4 px of the context; 32-44 px from it
        assert near.std(axis=0).mean() < 0.35 * grain, scale
        assert far.std(axis=0).mean() > 0.7 * grain, scale
