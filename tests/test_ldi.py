"""LDI invariants on synthetic step scenes."""

from __future__ import annotations

import numpy as np
import pytest

from photo3d.camera import Intrinsics, Pose
from photo3d.ldi import EMPTY_DEPTH, LDIParams, band_for_cameras, build_ldi, detect_discontinuities
from photo3d.mesh import mesh_from_ldi
from photo3d.render import Renderer

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


def test_back_layer_colour_comes_from_background_only():
    image, depth, k = step_scene(fg_color=(255, 0, 0))
    ldi = build_ldi(image, depth, k, params=LDIParams(band_px=10))
    own = ldi.synthesis
    assert own.sum() > 500
    assert ldi.color[1][own][:, 0].max() == 0  # the background has no red; the foreground is pure red
    assert ldi.color[1][own][:, 1:].min() >= 40


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
