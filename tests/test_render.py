"""Analytic checks of the renderer: identity reproduction, exact parallax, SSAA coverage, depth test."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photo3d.camera import Intrinsics, Pose
from photo3d.ldi import LDIParams, build_ldi
from photo3d.mesh import Mesh, mesh_from_ldi
from photo3d.render import Renderer
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


def render(gl, mesh, k, pose=Pose.identity(), ssaa=1, background=(0, 0, 0), fill_holes=False):
    r = Renderer(k.width, k.height, ssaa, background=background, fill_holes=fill_holes, context=gl)
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


def test_ssaa_box_filters_partial_coverage(gl):
    """A white rectangle ending half-way across a pixel column covers half of its SSAA samples."""
    h, w, k_ssaa = 8, 8, 2
    k = Intrinsics(w, h, 8.0, 8.0, w / 2, h / 2)
    z = 1.0
    u0, u1, v0, v1 = -1.0, 4.5, -1.0, h + 1.0  # pixel coordinates of the rectangle's corners
    corners = np.array(
        [[(u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z] for u, v in [(u0, v0), (u1, v0), (u0, v1), (u1, v1)]]
    )
    mesh = Mesh(
        vertices=corners.astype(np.float32),
        colors=np.full((4, 3), 255, np.uint8),
        faces=np.array([[0, 3, 1], [0, 2, 3]], np.int32),
        layers=np.zeros(4, np.int8),
    )
    out = render(gl, mesh, k, ssaa=k_ssaa)
    assert np.all(out[:, :4] == 255)
    assert np.all(np.abs(out[:, 4].astype(int) - 128) <= 1)  # half of the 2x2 samples
    assert np.all(out[:, 5:] == 0)
    aliased = render(gl, mesh, k, ssaa=1)
    assert set(np.unique(aliased[:, 4])) <= {0, 255}


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


@pytest.mark.parametrize("ssaa", [1, 2])
def test_fill_holes_takes_the_colours_around_a_hole(gl, ssaa):
    """A plane with a square hole cut out: with fill_holes the hole shows the plane's colour, not the background."""
    h, w = 32, 32
    k = Intrinsics.from_fov(w, h)
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 1] = 200
    mesh = plane_mesh(image, 2.0, k)
    centres = mesh.vertices[:, :2] / mesh.vertices[:, 2:] * k.fx + k.cx  # pixel coordinates of the vertices
    inside = np.all((centres > 10) & (centres < 20), axis=1)
    mesh.faces = mesh.faces[~inside[mesh.faces].any(axis=1)]
    holed = render(gl, mesh, k, ssaa=ssaa, background=(255, 0, 255))
    assert (holed[14:17, 14:17] == (255, 0, 255)).all()  # the hole is really there
    filled = render(gl, mesh, k, ssaa=ssaa, background=(255, 0, 255), fill_holes=True)
    # Mipmaps hold 8-bit premultiplied colour, so the fill is exact to a few levels only.
    assert (np.abs(filled[:-1, :-1].astype(int) - (0, 200, 0)) <= 8).all()
