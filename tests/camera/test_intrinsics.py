"""The camera conventions of docs/conventions.md as runnable assertions (camera.intrinsics, camera.framing)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from photo3d.camera.framing import base_output_intrinsics, edge_zoom
from photo3d.camera.intrinsics import (
    DEFAULT_FOV_DEG,
    Intrinsics,
    Pose,
    look_at_rotation,
    opencv_to_blender,
    pixel_rays,
    unproject_depth,
)
from tests.support.helpers import raises_one_line


def _rotation(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay), math.cos(az), math.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


# --- intrinsics --------------------------------------------------------------------------------------------------


def test_default_fov_focal_equals_longer_side():
    assert DEFAULT_FOV_DEG == pytest.approx(53.1301, abs=1e-4)
    for w, h in [(640, 480), (480, 640), (100, 100)]:
        k = Intrinsics.from_fov(w, h)
        assert k.fx == pytest.approx(max(w, h)) and k.fy == pytest.approx(max(w, h))
        assert (k.cx, k.cy) == (w / 2.0, h / 2.0)


@pytest.mark.parametrize("fov", [10.0, 53.13, 90.0, 150.0])
def test_fov_round_trip(fov):
    landscape = Intrinsics.from_fov(640, 480, fov)
    assert landscape.fov_deg[0] == pytest.approx(fov)  # the longer side is horizontal
    assert landscape.fov_deg[1] < fov
    portrait = Intrinsics.from_fov(480, 640, fov)
    assert portrait.fov_deg[1] == pytest.approx(fov)
    assert Intrinsics.from_fov(640, 480).with_fov(fov).fov_deg[0] == pytest.approx(fov)


def test_projection_formula():
    k = Intrinsics(640, 480, 500.0, 510.0, 330.0, 235.0)
    x, y, z = 0.3, -0.2, 2.5
    u, v, w = k.matrix() @ np.array([x, y, z])
    assert u / w == pytest.approx(k.fx * x / z + k.cx)
    assert v / w == pytest.approx(k.fy * y / z + k.cy)


def test_pixel_rays_use_pixel_centres():
    k = Intrinsics(8, 6, 10.0, 12.0, 4.0, 3.0)
    xn, yn = pixel_rays(k)
    assert xn.shape == yn.shape == (6, 8) and xn.dtype == np.float32
    for v, u in [(0, 0), (2, 5), (5, 7)]:
        assert xn[v, u] == pytest.approx((u + 0.5 - k.cx) / k.fx)
        assert yn[v, u] == pytest.approx((v + 0.5 - k.cy) / k.fy)


def test_unproject_constant_depth():
    k = Intrinsics.from_fov(16, 12)
    points = unproject_depth(np.full((12, 16), 2.0), k)
    assert points.shape == (12, 16, 3) and points.dtype == np.float32
    np.testing.assert_array_equal(points[..., 2], 2.0)  # depth is planar z, not ray distance
    np.testing.assert_allclose(points[:, 0, 0], (0.5 - k.cx) / k.fx * 2.0, rtol=1e-6)
    np.testing.assert_allclose(points[0, :, 1], (0.5 - k.cy) / k.fy * 2.0, rtol=1e-6)
    # Reprojecting a pixel centre's point lands on that pixel centre.
    u = k.fx * points[..., 0] / points[..., 2] + k.cx
    np.testing.assert_allclose(u[3], np.arange(16) + 0.5, atol=1e-5)


def test_ray_distance_formula():
    """Ray distance d (not accepted as input) relates to planar depth z by d = z sqrt(1 + r^2 / f^2)."""
    k = Intrinsics.from_fov(16, 12)
    z = np.linspace(1.0, 3.0, 16 * 12).reshape(12, 16)
    points = unproject_depth(z, k).astype(np.float64)
    u, v = np.meshgrid(np.arange(16) + 0.5, np.arange(12) + 0.5)
    d = z * np.sqrt(1.0 + ((u - k.cx) ** 2 + (v - k.cy) ** 2) / k.fx**2)
    np.testing.assert_allclose(np.linalg.norm(points, axis=-1), d, rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((0, 10, 5.0, 5.0, 0.0, 5.0), ("image size must be positive", "0x10")),
        ((10, -1, 5.0, 5.0, 5.0, 0.0), ("image size must be positive",)),
        ((10, 10, 0.0, 5.0, 5.0, 5.0), ("focal length must be a positive", "fx=0.0")),
        ((10, 10, 5.0, -2.0, 5.0, 5.0), ("focal length", "fy=-2.0")),
        ((10, 10, math.inf, 5.0, 5.0, 5.0), ("focal length",)),
        ((10, 10, math.nan, 5.0, 5.0, 5.0), ("focal length",)),
    ],
)
def test_intrinsics_validation(args, words):
    raises_one_line(Intrinsics, *args, words=words)


@pytest.mark.parametrize("fov", [0.0, -5.0, 180.0, 200.0])
def test_from_fov_validation(fov):
    raises_one_line(Intrinsics.from_fov, 640, 480, fov, words=("between 0 and 180", str(fov)))


# --- clip space --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [0.1, 0.37, 2.0, 50.0, 100.0])
def test_clip_matrix_maps_pixels_to_ndc(depth):
    k = Intrinsics(64, 48, 55.0, 57.0, 30.5, 25.0)
    near, far = 0.1, 100.0
    clip = k.clip_matrix(near, far).astype(np.float64)
    assert k.clip_matrix(near, far).dtype == np.float32
    for u, v in [(0.0, 0.0), (64.0, 48.0), (10.5, 40.25), (k.cx, k.cy)]:
        x = (u - k.cx) / k.fx * depth
        y = (v - k.cy) / k.fy * depth
        c = clip @ np.array([x, y, depth, 1.0])
        ndc = c[:3] / c[3]
        assert c[3] == pytest.approx(depth)
        assert ndc[0] == pytest.approx(2.0 * u / k.width - 1.0, abs=1e-6)  # float32 matrix
        assert ndc[1] == pytest.approx(2.0 * v / k.height - 1.0, abs=1e-6)  # NDC y grows with the image row


def test_clip_matrix_depth_range():
    clip = Intrinsics.from_fov(32, 32).clip_matrix(0.5, 20.0).astype(np.float64)

    def ndc_z(z):
        c = clip @ np.array([0.0, 0.0, z, 1.0])
        return c[2] / c[3]

    assert ndc_z(0.5) == pytest.approx(-1.0, abs=1e-6)
    assert ndc_z(20.0) == pytest.approx(1.0, abs=1e-6)
    assert -1.0 < ndc_z(1.0) < ndc_z(5.0) < 1.0  # monotonic: nearer is smaller


# --- poses -------------------------------------------------------------------------------------------------------


def test_world_to_camera_inverts_pose():
    pose = Pose(_rotation(0.3, -0.5, 1.1), np.array([0.4, -1.0, 2.0]))
    m = pose.world_to_camera()
    camera_to_source = np.eye(4)
    camera_to_source[:3, :3], camera_to_source[:3, 3] = pose.rotation, pose.position
    np.testing.assert_allclose(m @ camera_to_source, np.eye(4), atol=1e-12)
    # The camera centre maps to the origin; a point one unit along the camera's z axis maps to (0, 0, 1).
    np.testing.assert_allclose(m @ np.append(pose.position, 1.0), [0, 0, 0, 1], atol=1e-12)
    ahead = pose.position + pose.rotation[:, 2]
    np.testing.assert_allclose(m @ np.append(ahead, 1.0), [0, 0, 1, 1], atol=1e-12)


def test_identity_and_translation_poses():
    np.testing.assert_array_equal(Pose.identity().world_to_camera(), np.eye(4))
    m = Pose.translation(1.0, 2.0, 3.0).world_to_camera()
    np.testing.assert_allclose(m @ [1.0, 2.0, 3.0, 1.0], [0, 0, 0, 1])


@pytest.mark.parametrize(
    ("position", "target"),
    [
        ([0, 0, 0], [0, 0, 1]),
        ([0.2, -0.1, 0.0], [-1.0, 0.5, 3.0]),
        ([1, 1, 1], [0, 0, -4]),  # looking backwards
    ],
)
def test_look_at_rotation_is_proper(position, target):
    r = look_at_rotation(np.array(position, float), np.array(target, float))
    np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    direction = np.subtract(target, position)
    np.testing.assert_allclose(r[:, 2], direction / np.linalg.norm(direction), atol=1e-12)
    assert abs(r[1, 0]) < 1e-12  # x axis horizontal
    assert r[1, 1] > 0  # y axis points down


def test_look_at_rotation_straight_ahead_is_identity():
    np.testing.assert_allclose(look_at_rotation(np.zeros(3), np.array([0.0, 0.0, 5.0])), np.eye(3), atol=1e-12)


def test_look_at_rotation_errors():
    raises_one_line(look_at_rotation, np.ones(3), np.ones(3), words=("look_at equals the camera position",))
    raises_one_line(look_at_rotation, np.zeros(3), np.array([0.0, -2.0, 0.0]), words=("straight above or below",))


# --- Blender axes ------------------------------------------------------------------------------------------------


def test_opencv_to_blender_is_a_proper_rotation():
    m = opencv_to_blender(np.eye(3)).T  # columns: images of the OpenCV x, y, z axes
    np.testing.assert_array_equal(m @ m.T, np.eye(3))
    assert np.linalg.det(m) == pytest.approx(1.0)
    np.testing.assert_array_equal(opencv_to_blender(np.array([0.0, 0.0, 1.0])), [0.0, 1.0, 0.0])  # forward -> +Y
    np.testing.assert_array_equal(opencv_to_blender(np.array([0.0, -1.0, 0.0])), [0.0, 0.0, 1.0])  # image up -> +Z
    np.testing.assert_array_equal(opencv_to_blender(np.array([1.0, 0.0, 0.0])), [1.0, 0.0, 0.0])  # right -> +X


def test_opencv_to_blender_keeps_dtype_and_shape():
    points = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    out = opencv_to_blender(points)
    assert out.dtype == np.float32 and out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out[1, 2], [points[1, 2, 0], points[1, 2, 2], -points[1, 2, 1]])


# --- framing -----------------------------------------------------------------------------------------------------


def test_framing_none_same_size_is_identity():
    k = Intrinsics(640, 480, 500.0, 500.0, 321.0, 239.0)
    assert base_output_intrinsics(k, 640, 480, "none") == k


def test_framing_none_other_size_keeps_focal():
    k = Intrinsics.from_fov(640, 480)
    out = base_output_intrinsics(k, 800, 400, "none")
    assert (out.fx, out.fy, out.cx, out.cy) == (k.fx, k.fy, 400.0, 200.0)


def test_framing_cover_portrait_from_landscape():
    k = Intrinsics.from_fov(640, 480)
    out = base_output_intrinsics(k, 1080, 1920, "cover")
    s = max(1080 / 640, 1920 / 480)
    assert s == 4.0
    assert (out.width, out.height) == (1080, 1920)
    assert out.fx == pytest.approx(k.fx * s) and out.fy == pytest.approx(k.fy * s)
    assert (out.cx, out.cy) == (540.0, 960.0)
    # The photo's corners project outside (or onto) the output frame: it covers the whole output.
    assert k.width * s >= 1080 and k.height * s >= 1920


def test_framing_unknown():
    raises_one_line(
        base_output_intrinsics, Intrinsics.from_fov(64, 48), 64, 48, "fit", words=("framing", "cover", "fit")
    )


def test_edge_zoom_identity_is_about_one():
    k = Intrinsics.from_fov(256, 192)
    depth = np.full((192, 256), 2.0)
    zoom = edge_zoom(depth, k, [(Pose.identity(), k)] * 3)
    assert 1.0 <= zoom < 1.01


def _border_points(depth: np.ndarray, k: Intrinsics) -> np.ndarray:
    p = unproject_depth(depth, k).astype(np.float64)
    return np.concatenate([p[:, 0], p[:, -1], p[0, :], p[-1, :]])


def test_edge_zoom_hides_the_border_after_a_lateral_move():
    k = Intrinsics.from_fov(256, 192)
    depth = np.full((192, 256), 2.0)
    poses = [Pose.translation(x, y, 0.0) for x, y in [(0.0, 0.0), (0.1, 0.0), (-0.05, 0.04)]]
    cameras = [(pose, k) for pose in poses]
    zoom = edge_zoom(depth, k, cameras, max_zoom=2.0)
    assert 1.01 < zoom < 2.0
    border = _border_points(depth, k)
    for pose, cam in cameras:
        zk = cam.zoomed(zoom)
        q = border @ pose.world_to_camera()[:3, :3].T + pose.world_to_camera()[:3, 3]
        u = zk.fx * q[:, 0] / q[:, 2] + zk.cx
        v = zk.fy * q[:, 1] / q[:, 2] + zk.cy
        n = len(border)
        left, right, top, bottom = np.split(np.arange(n), [192, 384, 384 + 256])
        eps = 1e-6
        assert u[left].max() <= eps and u[right].min() >= zk.width - eps
        assert v[top].max() <= eps and v[bottom].min() >= zk.height - eps
    # Without the zoom the border of the 0.1 move shows: the right edge comes into view.
    q = border - np.array([0.1, 0.0, 0.0])
    assert (k.fx * q[192:384, 0] / q[192:384, 2] + k.cx).min() < k.width


def test_edge_zoom_is_clamped():
    k = Intrinsics.from_fov(64, 48)
    depth = np.full((48, 64), 1.0)
    assert edge_zoom(depth, k, [(Pose.translation(0.5, 0.0, 0.0), k)], max_zoom=1.3) == 1.3
