"""Analytic checks of the renderer: identity reproduction, exact parallax, SSAA/MSAA coverage in linear light,
fractional SSAA footprints, textured meshes, temporal flicker, depth test."""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np
import pytest

from benchmarks.metrics import srgb_to_linear, temporal_flicker
from photo3d.camera.intrinsics import Intrinsics, Pose
from photo3d.errors import Photo3DError
from photo3d.ldi.layering import LDIParams, build_ldi
from photo3d.mesh.triangulate import Mesh, mesh_from_ldi
from photo3d.render.renderer import Renderer
from photo3d.sample import make_sample_scene

pytestmark = pytest.mark.gl


def smooth_texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Band-limited random colour texture, (h, w, 3) uint8."""
    rng = np.random.default_rng(seed)
    noise = rng.random((h, w, 3)).astype(np.float32)
    tex = cv2.GaussianBlur(noise, (0, 0), 2.0)
    tex = (tex - tex.min()) / (tex.max() - tex.min())
    return np.rint(tex * 255).astype(np.uint8)


def plane_mesh(image: np.ndarray, z: float, k: Intrinsics) -> Mesh:
    ldi = build_ldi(image, np.full(image.shape[:2], z, np.float32), k)
    return mesh_from_ldi(ldi)


def linear_to_srgb8(lin: np.ndarray) -> np.ndarray:
    """Exact sRGB encoding (IEC 61966-2-1) of linear light in [0, 1], rounded to uint8."""
    c = np.clip(lin, 0.0, 1.0)
    enc = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.rint(enc * 255).astype(np.uint8)


def rectangle(k: Intrinsics, u0: float, u1: float, v0: float, v1: float, z: float = 1.0, color=255) -> Mesh:
    """A one-colour fronto-parallel rectangle between pixel coordinates u0..u1, v0..v1 (pixel edges at integers)."""
    corners = [((u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z) for u, v in [(u0, v0), (u1, v0), (u0, v1), (u1, v1)]]
    return Mesh(
        vertices=np.array(corners, np.float32),
        colors=np.full((4, 3), color, np.uint8),
        faces=np.array([[0, 3, 1], [0, 2, 3]], np.int32),
        layers=np.zeros(4, np.int8),
    )


def render(gl, mesh, k, pose=Pose.identity(), ssaa=1, background=(0, 0, 0), fill_holes=False, msaa=0):
    r = Renderer(k.width, k.height, ssaa, msaa=msaa, background=background, fill_holes=fill_holes, context=gl)
    try:
        r.upload(mesh)
        return r.render(pose, k).copy()
    finally:
        r.release()


def test_reports_renderer(gl):
    r = Renderer(8, 8, 1, context=gl)
    assert "OpenGL" in r.renderer_name and len(r.renderer_name) > 10
    r.release()


def test_identity_pose_reproduces_plane_exactly(gl):
    """Vertices at pixel centres: the source view of a plane returns every pixel's own colour."""
    h, w = 48, 64
    image = smooth_texture(h, w)
    k = Intrinsics.from_fov(w, h)
    out = render(gl, plane_mesh(image, 3.0, k), k)
    # The last row and column lie beyond the last vertex centre; everything else must match.
    diff = np.abs(out[:-1, :-1].astype(int) - image[:-1, :-1].astype(int))
    assert diff.max() <= 1, f"max difference {diff.max()} at {np.unravel_index(diff.argmax(), diff.shape)}"


def test_identity_pose_reproduces_sample_scene(gl):
    """Identity view of a layered scene: exact away from depth edges; PSNR over 30 dB overall."""
    scene = make_sample_scene(320, 240)
    ldi = build_ldi(scene.image, scene.depth, scene.intrinsics, params=LDIParams(band_px=6))
    out = render(gl, mesh_from_ldi(ldi), scene.intrinsics).astype(np.float64)
    ref = scene.image.astype(np.float64)
    cut_r, cut_d = ldi.cuts
    near_cut = np.zeros(scene.depth.shape, bool)
    near_cut[:, :-1] |= cut_r
    near_cut[:, 1:] |= cut_r
    near_cut[:-1, :] |= cut_d
    near_cut[1:, :] |= cut_d
    near_cut = cv2.dilate(near_cut.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    inner = np.zeros_like(near_cut)
    inner[:-1, :-1] = True
    away = inner & ~near_cut
    assert np.abs(out - ref)[away].max() <= 1
    mse = np.mean((out[:-1, :-1] - ref[:-1, :-1]) ** 2)
    assert 10 * np.log10(255**2 / mse) > 30.0


@pytest.mark.parametrize("shift_px", [8.0, 3.0])
def test_fronto_parallel_plane_shifts_by_f_t_over_z(gl, shift_px):
    """Moving the camera by tx shifts a plane at depth Z by exactly f * tx / Z pixels (to the left)."""
    h, w, z = 64, 96, 2.5
    image = smooth_texture(h, w, seed=1)
    k = Intrinsics.from_fov(w, h)
    tx = shift_px * z / k.fx
    out = render(gl, plane_mesh(image, z, k), k, Pose.translation(tx, 0.0, 0.0))
    s = int(shift_px)
    expected = image[:-1, s : w - 1]
    got = out[:-1, : w - 1 - s]
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_subpixel_shift_interpolates_between_pixels(gl):
    """A shift of 2.37 px: each pixel is the linear blend of the two source pixels it falls between."""
    h, w, z, shift = 64, 96, 2.0, 2.37
    image = smooth_texture(h, w, seed=2)
    k = Intrinsics.from_fov(w, h)
    out = render(gl, plane_mesh(image, z, k), k, Pose.translation(shift * z / k.fx, 0.0, 0.0))
    s0, a = int(shift), shift - int(shift)
    src = image.astype(np.float64)
    expected = (1 - a) * src[:-1, s0 : w - 1] + a * src[:-1, s0 + 1 : w]
    got = out[:-1, : w - 1 - s0].astype(np.float64)
    assert np.abs(got - expected).max() <= 1.5


@pytest.mark.parametrize("k_ssaa", [2, 4])
def test_ssaa_box_filters_partial_coverage_in_linear_light(gl, k_ssaa):
    """A white rectangle ending half-way across a pixel column covers half of its SSAA samples.

    Half the light of white is linear 0.5, which sRGB encodes as 188 (an 8-bit mean of the encoded
    values would give 128).
    """
    h, w = 8, 8
    k = Intrinsics(w, h, 8.0, 8.0, w / 2, h / 2)
    mesh = rectangle(k, -1.0, 4.5, -1.0, h + 1.0)
    out = render(gl, mesh, k, ssaa=k_ssaa)
    assert np.all(out[:, :4] == 255)
    assert linear_to_srgb8(np.array(0.5)) == 188
    assert np.all(np.abs(out[:, 4].astype(int) - 188) <= 1)
    assert np.all(out[:, 5:] == 0)
    aliased = render(gl, mesh, k, ssaa=1)
    assert set(np.unique(aliased[:, 4])) <= {0, 255}


def test_fractional_ssaa_weights_texels_by_their_overlap(gl):
    """ssaa 1.5: output pixel p covers texels [1.5 p, 1.5 p + 1.5); a texel cut in half weighs 0.5.

    The rectangle ends at texel edge 7 (u = 7 / 1.5). Pixel 4's footprint [6, 7.5) holds texel 6 (white,
    weight 1) and half of texel 7 (black, weight 0.5): linear 1 / 1.5 = 2/3, encoded 213 (equal weights
    would give 188). Pixel 3 ([4.5, 6)) is all white, pixel 5 ([7.5, 9)) all black.
    """
    h, w = 8, 8
    k = Intrinsics(w, h, 8.0, 8.0, w / 2, h / 2)
    r = Renderer(w, h, 1.5, fill_holes=False, context=gl)
    try:
        assert r.big_size == (12, 12)
        r.upload(rectangle(k, -1.0, 7.0 / 1.5, -1.0, h + 1.0))
        out = r.render(Pose.identity(), k)
    finally:
        r.release()
    expected = int(linear_to_srgb8(np.array(2.0 / 3.0)))
    assert expected == 213
    assert np.all(out[:, :4] == 255)
    assert np.all(np.abs(out[:, 4].astype(int) - expected) <= 1)
    assert np.all(out[:, 5:] == 0)


def area_resample_linear(big: np.ndarray, w: int, h: int) -> np.ndarray:
    """CPU reference of the SSAA resolve: area-weighted box filter in linear light, (H', W', 3) -> (h, w, 3) uint8."""

    def weights(n_big: int, n: int) -> np.ndarray:
        a = np.zeros((n, n_big))
        for p in range(n):
            lo, hi = p * n_big / n, (p + 1) * n_big / n
            for i in range(math.floor(lo), min(math.ceil(hi), n_big)):
                a[p, i] = min(i + 1, hi) - max(i, lo)
        return a / a.sum(axis=1, keepdims=True)

    ax, ay = weights(big.shape[1], w), weights(big.shape[0], h)
    lin = np.einsum("ph,hwc,qw->pqc", ay, srgb_to_linear(big), ax)
    return linear_to_srgb8(lin)


@pytest.mark.parametrize("ssaa", [2, 3, 1.5, 2.5, 1.3])
def test_ssaa_resolve_matches_cpu_area_filter(gl, ssaa):
    """The GPU resolve equals a CPU area filter (linear light) of the same scene drawn at the big size, within 1."""
    h, w, z = 28, 40, 2.0
    image = smooth_texture(h, w, seed=3)
    k = Intrinsics.from_fov(w, h)
    mesh = plane_mesh(image, z, k)
    pose = Pose.translation(0.37 * z / k.fx, -0.21 * z / k.fy, 0.0)
    bw, bh = math.floor(w * ssaa + 0.5), math.floor(h * ssaa + 0.5)
    sx, sy = bw / w, bh / h
    k_big = Intrinsics(bw, bh, k.fx * sx, k.fy * sy, k.cx * sx, k.cy * sy)
    big = render(gl, mesh, k_big, pose, ssaa=1)
    got = render(gl, mesh, k, pose, ssaa=ssaa)
    expected = area_resample_linear(big, w, h)
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() <= 1, f"max difference {diff.max()} at {np.unravel_index(diff.argmax(), diff.shape)}"


@pytest.mark.parametrize("bad", [0, 0.5, 0.999, 4.01, 8, float("nan"), "two"])
def test_ssaa_outside_1_to_4_is_a_one_line_error(gl, bad):
    with pytest.raises(Photo3DError, match="ssaa") as info:
        Renderer(8, 8, bad, context=gl)
    assert "\n" not in str(info.value)


def test_msaa_choices_and_clamping(gl, caplog):
    with pytest.raises(Photo3DError, match="msaa"):
        Renderer(8, 8, 1, msaa=3, context=gl)
    with caplog.at_level(logging.WARNING, logger="photo3d.render.renderer"):
        r = Renderer(8, 8, 1, msaa=8, context=gl)
    try:
        assert r.msaa in (2, 4, 8) and r.msaa <= max(gl.max_samples, 2)
        if gl.max_samples < 8:
            assert r.msaa < 8 and "msaa" in caplog.text
    finally:
        r.release()


def test_msaa_antialiases_a_slanted_edge(gl):
    """A white half-plane with a slanted edge at ssaa 1: without MSAA only 0/255; with 4 samples, steps between."""
    h, w = 16, 16
    k = Intrinsics(w, h, 16.0, 16.0, w / 2, h / 2)
    z = 1.0
    # The edge runs from (4, -1) to (10, 17): about 0.33 px to the right per row.
    pts = [(-4.0, -1.0), (4.0, -1.0), (-4.0, 17.0), (10.0, 17.0)]
    mesh = rectangle(k, 0, 1, 0, 1)
    mesh.vertices = np.array([((u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z) for u, v in pts], np.float32)
    plain = render(gl, mesh, k)
    assert set(np.unique(plain)) <= {0, 255}
    smooth = render(gl, mesh, k, msaa=4)
    between = (smooth > 0) & (smooth < 255)
    assert between[..., 0].any(axis=1).sum() >= h - 2  # nearly every row has an edge pixel in between
    # Away from the edge both agree exactly: only pixels next to it differ.
    edge = np.abs(plain[..., 0].astype(int) - smooth[..., 0].astype(int)) > 0
    assert edge.sum() <= 3 * h


def test_msaa_resolves_in_linear_light(gl):
    """A vertical edge through pixel centres covers 2 of the 4 standard sample positions: linear 0.5 = 188."""
    h, w = 8, 8
    k = Intrinsics(w, h, 8.0, 8.0, w / 2, h / 2)
    out = render(gl, rectangle(k, -1.0, 4.5, -1.0, h + 1.0), k, msaa=4)
    assert np.all(out[:, :4] == 255) and np.all(out[:, 5:] == 0)
    assert np.all(np.abs(out[:, 4].astype(int) - 188) <= 1)


def test_depth_test_keeps_the_nearer_surface(gl):
    """Two overlapping planes: the nearer one wins whichever is drawn last."""
    h, w = 16, 16
    k = Intrinsics.from_fov(w, h)
    red = np.zeros((h, w, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((h, w, 3), np.uint8)
    blue[..., 2] = 255
    near, far = plane_mesh(red, 1.0, k), plane_mesh(blue, 2.0, k)
    for first, second in ((near, far), (far, near)):
        n = first.num_vertices
        both = Mesh(
            vertices=np.concatenate([first.vertices, second.vertices]),
            colors=np.concatenate([first.colors, second.colors]),
            faces=np.concatenate([first.faces, second.faces + n]),
            layers=np.zeros(2 * n, np.int8),
        )
        out = render(gl, both, k)
        assert np.all(out[:-1, :-1, 0] == 255) and np.all(out[:-1, :-1, 2] == 0)


def test_render_rejects_mismatched_intrinsics(gl):
    k = Intrinsics.from_fov(16, 16)
    r = Renderer(16, 16, 1, context=gl)
    try:
        r.upload(plane_mesh(np.zeros((16, 16, 3), np.uint8), 1.0, k))
        with pytest.raises(ValueError, match="16x16"):
            r.render(Pose.identity(), Intrinsics.from_fov(32, 16))
    finally:
        r.release()


@pytest.mark.parametrize(("ssaa", "msaa"), [(1, 0), (2, 0), (1.5, 0), (1, 4)])
def test_fill_holes_takes_the_colours_around_a_hole(gl, ssaa, msaa):
    """A plane with a square hole cut out: with fill_holes the hole shows the plane's colour, not the background."""
    h, w = 32, 32
    k = Intrinsics.from_fov(w, h)
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 1] = 200
    mesh = plane_mesh(image, 2.0, k)
    centres = mesh.vertices[:, :2] / mesh.vertices[:, 2:] * k.fx + k.cx  # pixel coordinates of the vertices
    inside = np.all((centres > 10) & (centres < 20), axis=1)
    mesh.faces = mesh.faces[~inside[mesh.faces].any(axis=1)]
    holed = render(gl, mesh, k, ssaa=ssaa, msaa=msaa, background=(255, 0, 255))
    assert (holed[14:17, 14:17] == (255, 0, 255)).all()  # the hole is really there
    filled = render(gl, mesh, k, ssaa=ssaa, msaa=msaa, background=(255, 0, 255), fill_holes=True)
    # Mipmaps hold 8-bit premultiplied colour, so the fill is exact to a few levels only.
    assert (np.abs(filled[:-1, :-1].astype(int) - (0, 200, 0)) <= 8).all()


# --- Textured meshes --------------------------------------------------------------------------------------------------


def textured_rect(k: Intrinsics, z: float, c0: float, c1: float, r0: float, r1: float, layer: int = 0) -> Mesh:
    """Two triangles whose corners sit at source pixel positions (column, row) c0..c1, r0..r1 (integers = pixel
    centres, so -0.5 is the left edge of column 0) and sample layer ``layer`` of the texture at those positions."""
    cr = [(c0, r0), (c1, r0), (c0, r1), (c1, r1)]
    vertices = [((c + 0.5 - k.cx) / k.fx * z, (r + 0.5 - k.cy) / k.fy * z, z) for c, r in cr]
    return Mesh(
        vertices=np.array(vertices, np.float32),
        colors=np.full((4, 3), (255, 0, 255), np.uint8),  # never shown: the texture wins
        faces=np.array([[0, 3, 1], [0, 2, 3]], np.int32),
        layers=np.full(4, layer, np.int8),
        texcoords=np.array(cr, np.float32),
    )


def join(*meshes: Mesh, textures: np.ndarray | None = None) -> Mesh:
    """One mesh from several; vertex-coloured parts get texcoords (-1, -1)."""
    offsets = np.cumsum([0] + [m.num_vertices for m in meshes[:-1]])
    uv = [m.texcoords if m.texcoords is not None else np.full((m.num_vertices, 2), -1, np.float32) for m in meshes]
    return Mesh(
        vertices=np.concatenate([m.vertices for m in meshes]),
        colors=np.concatenate([m.colors for m in meshes]),
        faces=np.concatenate([m.faces + o for m, o in zip(meshes, offsets, strict=True)]).astype(np.int32),
        layers=np.concatenate([m.layers for m in meshes]),
        texcoords=np.concatenate(uv).astype(np.float32),
        textures=textures,
    )


@pytest.mark.parametrize("msaa", [0, 4])
def test_textured_quad_reproduces_a_checker_exactly_at_one_to_one(gl, msaa):
    """Identity view, ssaa 1: each pixel centre samples its own texel centre, so the texture comes back exactly."""
    h, w, z = 24, 32, 2.0
    k = Intrinsics.from_fov(w, h)
    rng = np.random.default_rng(7)
    checker = ((np.indices((h, w)).sum(axis=0) % 2) * 255).astype(np.uint8)
    image = np.where(checker[..., None] > 0, rng.integers(0, 256, (h, w, 3)), checker[..., None]).astype(np.uint8)
    image[..., 0] = checker  # red: a pure one-pixel black/white checker
    mesh = join(textured_rect(k, z, -0.5, w - 0.5, -0.5, h - 0.5), textures=image[None])
    out = render(gl, mesh, k, msaa=msaa)
    assert np.array_equal(out, image)


@pytest.mark.parametrize("ssaa", [1, 2])
def test_textured_quad_matches_the_vertex_coloured_grid(gl, ssaa):
    """Two textured triangles vs the per-vertex-colour grid of the same image, shifted by (2.37, 1.61) px.

    Both interpolate the encoded colours linearly between pixel centres; they differ only inside each pixel
    quad, where the grid's two triangles are linear and the texture is bilinear: by at most a quarter of the
    quad's mixed second difference |I[r, c] - I[r, c+1] - I[r+1, c] + I[r+1, c+1]| (plus 1 for rounding);
    that is 17 at most for this smooth texture, so a bound of 5.25 levels (measured: max 3, mean 0.55 at ssaa 1).
    A half-texel error in the texture mapping would show the texture's gradient (over 10 levels) instead.
    """
    h, w, z = 48, 64, 2.5
    image = smooth_texture(h, w, seed=4)
    k = Intrinsics.from_fov(w, h)
    grid = plane_mesh(image, z, k)
    quad = join(textured_rect(k, z, 0.0, w - 1.0, 0.0, h - 1.0), textures=image[None])
    pose = Pose.translation(2.37 * z / k.fx, 1.61 * z / k.fy, 0.0)
    a = render(gl, grid, k, pose, ssaa=ssaa).astype(int)
    b = render(gl, quad, k, pose, ssaa=ssaa).astype(int)
    inner = (slice(1, h - 4), slice(1, w - 4))  # away from the mesh's edge (the background shows past it)
    diff = np.abs(a - b)[inner]
    im = image.astype(int)
    mixed = np.abs(im[:-1, :-1] - im[:-1, 1:] - im[1:, :-1] + im[1:, 1:]).max()
    assert diff.max() <= 0.25 * mixed + 1 and diff.mean() < 1.0, (diff.max(), diff.mean(), mixed)


def test_textured_vertices_sample_their_own_layer(gl):
    """Left half from layer 0, right half from layer 1 of a two-layer texture."""
    h, w, z = 16, 24, 2.0
    k = Intrinsics.from_fov(w, h)
    textures = np.stack([smooth_texture(h, w, seed=5), smooth_texture(h, w, seed=6)])
    half = w // 2
    mesh = join(
        textured_rect(k, z, -0.5, half - 0.5, -0.5, h - 0.5, layer=0),
        textured_rect(k, z, half - 0.5, w - 0.5, -0.5, h - 0.5, layer=1),
        textures=textures,
    )
    out = render(gl, mesh, k)
    assert np.array_equal(out[:, :half], textures[0][:, :half])
    assert np.array_equal(out[:, half:], textures[1][:, half:])


def test_textured_and_vertex_coloured_triangles_mix(gl):
    """One mesh: a textured left half and a yellow vertex-coloured right half (texcoords -1, -1)."""
    h, w, z = 16, 24, 2.0
    k = Intrinsics.from_fov(w, h)
    image = smooth_texture(h, w, seed=8)
    half = w // 2
    yellow = rectangle(k, half, w + 1.0, -1.0, h + 1.0, z=z, color=0)
    yellow.colors[:] = (255, 255, 0)
    mesh = join(textured_rect(k, z, -0.5, half - 0.5, -0.5, h - 0.5), yellow, textures=image[None])
    out = render(gl, mesh, k)
    assert np.array_equal(out[:, :half], image[:, :half])
    assert (out[:, half:] == (255, 255, 0)).all()


def test_minified_texture_is_filtered_through_mipmaps(gl):
    """A one-pixel checker seen 4x smaller: trilinear mipmapping averages it to a flat grey instead of aliasing.

    The mipmaps average sRGB-encoded values, so the grey is 128 (linear-light averaging would give 188).
    """
    h, w, z = 16, 16, 2.0
    k = Intrinsics(w, h, 16.0, 16.0, w / 2, h / 2)
    big = 4 * w
    checker = np.repeat(((np.indices((big, big)).sum(axis=0) % 2) * 255).astype(np.uint8)[..., None], 3, axis=2)
    k_src = Intrinsics(big, big, 64.0, 64.0, big / 2, big / 2)
    mesh = join(textured_rect(k_src, z, -0.5, big - 0.5, -0.5, big - 0.5), textures=checker[None])
    out = render(gl, mesh, k).astype(int)
    assert out.max() - out.min() <= 4 and abs(out.mean() - 128) <= 4, (out.min(), out.max(), out.mean())


# --- Temporal flicker -------------------------------------------------------------------------------------------------


def test_supersampling_reduces_temporal_flicker(gl):
    """Fine stripes (1.3 cycles per output pixel, above its Nyquist 0.5) on a dense vertex-coloured plane, seen
    by a camera moving 0.13 px per frame.

    Point sampling (ssaa 1) aliases the stripes into a pattern that crawls and shimmers; ssaa 2 samples them
    below its own Nyquist limit of 1 cycle per pixel, so they still alias, but the box filter damps them; at
    ssaa 4 they are resolved and the area filter averages them out. Measured (llvmpipe): flicker 0.282 at
    ssaa 1, 0.152 at ssaa 2, 0.101 at ssaa 4 (linear intensity); ssaa 1.5 gives 0.248.
    """
    w, h, up, margin, z = 48, 32, 4, 4, 2.0
    src_w, src_h = (w + 2 * margin) * up, (h + 2 * margin) * up
    k_src = Intrinsics(src_w, src_h, 40.0 * up, 40.0 * up, src_w / 2, src_h / 2)
    k = Intrinsics(w, h, 40.0, 40.0, w / 2, h / 2)
    x = (np.arange(src_w) + 0.5) / up  # in output pixels
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * 1.3 * x + 0.3)  # linear light
    row = linear_to_srgb8(stripes)
    image = np.repeat(np.repeat(row[None, :, None], src_h, axis=0), 3, axis=2)
    mesh = plane_mesh(image, z, k_src)
    flicker = {}
    for ssaa in (1, 2, 4):
        r = Renderer(w, h, ssaa, fill_holes=False, context=gl)
        try:
            r.upload(mesh)
            frames = [r.render(Pose.translation(0.13 * t * z / k.fx, 0.0, 0.0), k).copy() for t in range(12)]
        finally:
            r.release()
        flicker[ssaa] = temporal_flicker(np.stack(frames)[:, 2:-2, 2:-2])
    assert flicker[1] > 1.4 * flicker[2], flicker
    assert flicker[2] > 1.25 * flicker[4], flicker


# --- Soft silhouettes (translucent triangles) -------------------------------------------------------------------------


@pytest.mark.parametrize("front_first", [True, False])
def test_translucent_triangles_blend_premultiplied_over_what_lies_behind(gl, front_first):
    """A half-opaque red rectangle in front of an opaque blue one: 0.5 red + 0.5 blue in encoded values, whatever
    the face order; where nothing lies behind it, the background shows through by 1 - alpha."""
    k = Intrinsics.from_fov(16, 16)
    back = rectangle(k, 0, 16, 0, 16, z=4.0, color=(0, 0, 250))
    front = rectangle(k, 0, 8, 0, 16, z=2.0, color=(250, 0, 0))
    parts = [front, back] if front_first else [back, front]
    alphas = [np.full(4, 128 if m is front else 255, np.uint8) for m in parts]
    mesh = Mesh(
        vertices=np.concatenate([m.vertices for m in parts]),
        colors=np.concatenate([m.colors for m in parts]),
        faces=np.concatenate([parts[0].faces, parts[1].faces + 4]).astype(np.int32),
        layers=np.zeros(8, np.int8),
        alphas=np.concatenate(alphas),
    )
    out = render(gl, mesh, k).astype(int)
    a = 128 / 255
    assert (np.abs(out[:, :8] - np.rint([250 * a, 0, 250 * (1 - a)])) <= 1).all()
    assert (out[:, 8:] == (0, 0, 250)).all()
    alone = Mesh(front.vertices, front.colors, front.faces, front.layers, alphas=np.full(4, 128, np.uint8))
    over_grey = render(gl, alone, k, background=(100, 100, 100)).astype(int)
    # The resolve adds (1 - alpha) of the background in linear light to the premultiplied encoded colour.
    assert abs(over_grey[0, 0, 1] - int(linear_to_srgb8(0.5 * srgb_to_linear(np.array(100, np.uint8))))) <= 2
    assert over_grey[0, 0, 0] > over_grey[0, 0, 1] and (over_grey[:, 8:] == 100).all()


def test_a_transparent_vertex_colour_does_not_tint_its_opaque_neighbours(gl):
    """A rectangle opaque white at its left edge and fully transparent black at its right, over a white one.

    Colours are interpolated premultiplied, so the transparent vertex's black weighs nothing and the result is
    white throughout. Interpolated apart from alpha, the black darkened the middle to 187 (a dark line along
    every soft silhouette, whose outer samples carry the foreground's colour at alpha near 0).
    """
    k = Intrinsics.from_fov(16, 16)
    back = rectangle(k, 0, 16, 0, 16, z=4.0, color=250)
    front = rectangle(k, 0, 16, 0, 16, z=2.0, color=250)
    front.colors[[1, 3]] = 0  # the right corners: black, transparent
    mesh = Mesh(
        vertices=np.concatenate([front.vertices, back.vertices]),
        colors=np.concatenate([front.colors, back.colors]),
        faces=np.concatenate([front.faces, back.faces + 4]).astype(np.int32),
        layers=np.zeros(8, np.int8),
        alphas=np.array([255, 0, 255, 0, 255, 255, 255, 255], np.uint8),
    )
    out = render(gl, mesh, k).astype(int)
    assert (np.abs(out - 250) <= 2).all(), out[8, :, 0]
