"""Normal maps: analytic normals of planes and spheres, encoding, strips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photo3d.camera.intrinsics import Intrinsics, pixel_rays
from photo3d.depth.normals import encode_normals, normal_map
from tests.support.helpers import raises_one_line


def plane_depth(k: Intrinsics, z0: float, a: float, b: float) -> np.ndarray:
    """Planar depth of the plane z = z0 + a x + b y (camera frame) seen through k: z = z0 / (1 - a xn - b yn)."""
    xn, yn = pixel_rays(k)
    return (z0 / (1.0 - a * xn.astype(np.float64) - b * yn.astype(np.float64))).astype(np.float32)


def test_encode_normals() -> None:
    n = np.array([[[0.0, 0.0, 1.0], [1.0, -1.0, 0.0], [-1.0, 0.0, -1.0], [2.0, -3.0, 0.6]]])
    assert encode_normals(n).tolist() == [[[128, 128, 255], [255, 0, 128], [0, 128, 0], [255, 0, 204]]]
    assert encode_normals(n).dtype == np.uint8
    assert encode_normals(np.array([[[-0.0, -0.0, 1.0]]], np.float32)).tolist() == [[[128, 128, 255]]]
    raises_one_line(encode_normals, np.zeros((2, 2)), words=("(H, W, 3)",))
    raises_one_line(encode_normals, np.full((1, 1, 3), np.nan), words=("NaN",))


def test_fronto_parallel_plane_is_128_128_255() -> None:
    k = Intrinsics(64, 48, 50.0, 55.0, 20.0, 30.0)  # off-centre principal point, non-square pixels
    normals = normal_map(np.full((48, 64), 3.0, np.float32), k)
    assert normals.shape == (48, 64, 3) and normals.dtype == np.float32
    np.testing.assert_array_equal(normals, np.broadcast_to([0.0, 0.0, 1.0], (48, 64, 3)))
    assert np.all(encode_normals(normals) == [128, 128, 255])


@pytest.mark.parametrize(
    "a,b",
    [
        (0.5, 0.0),  # farther toward the right (the left wall of a corridor): normal tilts right, +x
        (-0.5, 0.0),  # nearer toward the right (the right wall of a corridor): normal points left, -x
        (0.0, 0.4),  # farther toward the bottom of the image (a ceiling): faces down, -y in the normal map
        (0.0, -0.4),  # nearer toward the bottom (a floor): faces up, +y
        (0.3, -0.2),
    ],
)
def test_tilted_planes_get_their_analytic_normal(a: float, b: float) -> None:
    k = Intrinsics(96, 64, 80.0, 80.0, 40.0, 36.0)  # wide enough that ignoring perspective would fail
    normals = normal_map(plane_depth(k, 5.0, a, b), k)
    expected = np.array([a, -b, 1.0]) / np.linalg.norm([a, -b, 1.0])  # (x right, y up, z toward the viewer)
    np.testing.assert_allclose(normals[1:-1, 1:-1], np.broadcast_to(expected, (62, 94, 3)), atol=1e-4)
    np.testing.assert_allclose(normals, np.broadcast_to(expected, (64, 96, 3)), atol=1e-3)  # borders too
    rgb = encode_normals(normals)
    assert np.sign(int(rgb[32, 48, 0]) - 128) == np.sign(a)
    assert np.sign(int(rgb[32, 48, 1]) - 128) == -np.sign(b)


def test_normals_of_a_sphere_match_its_geometry() -> None:
    # An independent check of the perspective handling: a sphere seen off-centre, normals = (P - C) / R.
    k = Intrinsics.from_fov(160, 120, 70.0)
    centre, radius = np.array([0.6, -0.3, 6.0]), 2.5
    xn, yn = (r.astype(np.float64) for r in pixel_rays(k))
    rays = np.stack([xn, yn, np.ones_like(xn)], axis=-1)
    # |z ray - C|^2 = R^2 -> nearest root z.
    qa = (rays * rays).sum(-1)
    qb = -2.0 * (rays @ centre)
    qc = centre @ centre - radius**2
    disc = qb * qb - 4 * qa * qc
    hit = disc > 0
    z = np.where(hit, (-qb - np.sqrt(np.maximum(disc, 0))) / (2 * qa), 100.0)
    normals = normal_map(z.astype(np.float32), k).astype(np.float64)
    outward = (rays * z[..., None] - centre) / radius  # OpenCV frame; on the visible side it points at the camera
    truth = outward * [1.0, -1.0, -1.0]  # normal-map axes: x right, y up, z toward the viewer
    # Pixels whose 3 x 3 Sobel window lies on the sphere and that face the camera within 60 degrees
    # (at the grazing rim depth changes too fast for a 3 x 3 derivative).
    inner = cv2.erode(hit.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT) > 0
    inner &= -(outward * rays).sum(-1) / np.linalg.norm(rays, axis=-1) > 0.5
    assert inner.sum() > 5000
    assert truth[inner][:, 0].min() < -0.6 and truth[inner][:, 0].max() > 0.5  # strongly tilted normals included
    angle = np.degrees(np.arccos(np.clip((normals * truth).sum(-1), -1, 1)))
    assert angle[inner].max() < 0.2  # ignoring perspective ((fx / z) dz/du alone) is off by up to 11 degrees here


def test_normal_map_is_independent_of_depth_units_and_checks_its_input() -> None:
    k = Intrinsics.from_fov(32, 24)
    depth = plane_depth(k, 2.0, 0.2, 0.1) + np.random.default_rng(0).uniform(0, 0.01, (24, 32)).astype(np.float32)
    np.testing.assert_allclose(normal_map(depth * 1000.0, k), normal_map(depth, k), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(normal_map(depth, k), axis=-1), 1.0, atol=1e-6)
    raises_one_line(normal_map, np.ones((24, 31)), k, words=("31x24", "32x24"))
    bad = depth.copy()
    bad[3, 4] = 0.0
    raises_one_line(normal_map, bad, k, words=("1 pixels", "fill_invalid"))
    # Tiny images still work: one- or two-pixel rows and columns.
    for shape in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1)]:
        small = Intrinsics.from_fov(shape[1], shape[0])
        assert np.isfinite(normal_map(np.ones(shape), small)).all()


@pytest.mark.parametrize("rows", [1, 2, 5, 7])
def test_normal_map_strips_do_not_change_the_result(rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    k = Intrinsics.from_fov(20, 23)
    depth = np.random.default_rng(3).uniform(1.0, 2.0, (23, 20))
    whole = normal_map(depth, k)
    monkeypatch.setattr("photo3d.depth.normals._NORMAL_STRIP_ROWS", rows)
    np.testing.assert_array_equal(normal_map(depth, k), whole)
