"""Stereo: off-axis eye cameras, frame sizes and composition (sbs, tb, Dubois red-cyan anaglyph)."""

from __future__ import annotations

import numpy as np
import pytest

from photo3d.camera.framing import edge_zoom, zoom_about
from photo3d.camera.intrinsics import Intrinsics, Pose, look_at_rotation
from photo3d.camera.stereo import (
    DUBOIS_LEFT,
    DUBOIS_RIGHT,
    STEREO_MODES,
    compose_stereo,
    eye_cameras,
    stereo_cameras,
    stereo_frame_size,
)
from tests.support.helpers import raises_one_line

K = Intrinsics(640, 480, 550.0, 560.0, 321.5, 237.0)
POSE = Pose(look_at_rotation(np.array([0.3, -0.2, 0.1]), np.array([0.0, 0.1, 5.0])), np.array([0.3, -0.2, 0.1]))


def _project(pose: Pose, k: Intrinsics, point: np.ndarray) -> tuple[float, float]:
    m = pose.world_to_camera()
    q = m[:3, :3] @ point + m[:3, 3]
    return k.fx * q[0] / q[2] + k.cx, k.fy * q[1] / q[2] + k.cy


def _world_point(pose: Pose, x: float, y: float, z: float) -> np.ndarray:
    """The point at (x, y, z) in the centre camera's frame, in the source frame."""
    return pose.rotation @ np.array([x, y, z]) + pose.position


def test_modes():
    assert STEREO_MODES == ("sbs", "tb", "anaglyph")


def test_eyes_sit_on_the_camera_x_axis_with_parallel_axes():
    (pl, kl), (pr, kr) = eye_cameras(POSE, K, 0.08, 3.0)
    np.testing.assert_allclose(pr.position - pl.position, 0.08 * POSE.rotation[:, 0], atol=1e-12)
    np.testing.assert_allclose(0.5 * (pl.position + pr.position), POSE.position, atol=1e-12)
    np.testing.assert_array_equal(pl.rotation, POSE.rotation)
    np.testing.assert_array_equal(pr.rotation, POSE.rotation)
    assert (kl.fx, kl.fy, kl.cy, kl.width, kl.height) == (K.fx, K.fy, K.cy, K.width, K.height)
    assert kr.cx - kl.cx == pytest.approx(K.fx * 0.08 / 3.0)  # the lens shift: f b / c in total


@pytest.mark.parametrize("convergence", [0.7, 3.0, 25.0])
def test_point_at_convergence_has_zero_disparity(convergence):
    (pl, kl), (pr, kr) = eye_cameras(POSE, K, 0.1, convergence)
    for x, y in [(0.0, 0.0), (-0.4, 0.3), (0.9, -0.2)]:
        p = _world_point(POSE, x * convergence, y * convergence, convergence)
        ul, vl = _project(pl, kl, p)
        ur, vr = _project(pr, kr, p)
        assert abs(ul - ur) < 1e-6 and abs(vl - vr) < 1e-6
        # ... and it is where the centre camera sees it.
        uc, vc = _project(POSE, K, p)
        assert abs(ul - uc) < 1e-6 and abs(vl - vc) < 1e-6


@pytest.mark.parametrize("z", [0.5, 1.0, 2.0, 6.0, 40.0])
def test_disparity_formula(z):
    """d = u_left - u_right = fx b (1/Z - 1/c): positive (crossed, in front of the screen) for Z < c."""
    b, c = 0.065, 2.5
    (pl, kl), (pr, kr) = eye_cameras(POSE, K, b, c)
    for x, y in [(0.0, 0.0), (0.2 * z, -0.1 * z)]:
        p = _world_point(POSE, x, y, z)
        ul, vl = _project(pl, kl, p)
        ur, vr = _project(pr, kr, p)
        assert ul - ur == pytest.approx(K.fx * b * (1.0 / z - 1.0 / c), abs=1e-6)
        assert abs(vl - vr) < 1e-6  # no vertical parallax


def test_zero_baseline_gives_the_centre_camera_twice():
    (pl, kl), (pr, kr) = eye_cameras(POSE, K, 0.0, 2.0)
    assert kl == K and kr == K
    np.testing.assert_array_equal(pl.position, POSE.position)
    np.testing.assert_array_equal(pr.position, POSE.position)


def test_eye_camera_validation():
    raises_one_line(eye_cameras, POSE, K, -0.1, 2.0, words=("baseline", "-0.1"))
    raises_one_line(eye_cameras, POSE, K, float("nan"), 2.0, words=("baseline",))
    for c in (0.0, -1.0, float("inf")):
        raises_one_line(eye_cameras, POSE, K, 0.1, c, words=("convergence",))


def test_stereo_cameras_and_a_shared_zoom_keep_the_zero_disparity_plane():
    """One zoom about the output centre for both eyes: convergence stays at zero disparity, d scales by zoom."""
    depth = np.full((48, 64), 2.0)
    source = Intrinsics.from_fov(64, 48)
    frames = [(Pose.translation(x, 0.0, 0.0), source) for x in (0.0, 0.05)]
    lefts, rights = stereo_cameras(frames, 0.1, 2.0)
    assert len(lefts) == len(rights) == 2
    centre = (32.0, 24.0)
    zoom = edge_zoom(depth, source, lefts + rights, max_zoom=2.0, center=centre)
    assert zoom > 1.0
    (pl, kl), (pr, kr) = lefts[1], rights[1]
    kl, kr = zoom_about(kl, zoom, centre), zoom_about(kr, zoom, centre)
    for z in (2.0, 1.0):
        p = np.array([0.1, 0.05, z])
        d = _project(pl, kl, p)[0] - _project(pr, kr, p)[0]
        assert d == pytest.approx(zoom * source.fx * 0.1 * (1.0 / z - 1.0 / 2.0), abs=1e-9)


def test_frame_sizes():
    assert stereo_frame_size(640, 360, "sbs") == (1280, 360)
    assert stereo_frame_size(640, 360, "tb") == (640, 720)
    assert stereo_frame_size(640, 360, "anaglyph") == (640, 360)
    raises_one_line(stereo_frame_size, 640, 360, "interlaced", words=("stereo", "sbs", "tb", "anaglyph"))


def _views(h: int = 6, w: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (
        rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
    )


def test_side_by_side_and_top_bottom_placement():
    left, right = _views()
    sbs = compose_stereo(left, right, "sbs")
    assert sbs.shape[1::-1] == stereo_frame_size(8, 6, "sbs")
    np.testing.assert_array_equal(sbs[:, :8], left)
    np.testing.assert_array_equal(sbs[:, 8:], right)
    tb = compose_stereo(left, right, "tb")
    assert tb.shape[1::-1] == stereo_frame_size(8, 6, "tb")
    np.testing.assert_array_equal(tb[:6], left)
    np.testing.assert_array_equal(tb[6:], right)


def _srgb_decode(v: float) -> float:
    c = v / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _srgb_encode(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return 255.0 * (12.92 * x if x <= 0.0031308 else 1.055 * x ** (1 / 2.4) - 0.055)


def test_dubois_matrices_are_neutral_for_grey():
    # Each output row of L + R sums to 1 within 2e-4: a grey scene seen by both eyes stays grey.
    np.testing.assert_allclose((DUBOIS_LEFT + DUBOIS_RIGHT).sum(axis=1), 1.0, atol=2e-4)


@pytest.mark.parametrize("level", [255, 128, 30])
def test_anaglyph_of_a_grey_image_stays_neutral(level):
    grey = np.full((4, 5, 3), level, dtype=np.uint8)
    out = compose_stereo(grey, grey, "anaglyph")
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    assert int(out.max()) - int(out.min()) <= 1 and abs(int(out[0, 0, 0]) - level) <= 1


def test_anaglyph_red_from_the_left_eye_cyan_from_the_right():
    white = np.full((2, 2, 3), 255, dtype=np.uint8)
    black = np.zeros_like(white)
    # Left only: R = 1.133 (clipped to 255), G and B negative (clipped to 0).
    np.testing.assert_array_equal(compose_stereo(white, black, "anaglyph")[0, 0], [255, 0, 0])
    # Right only: R = -0.133 -> 0, G = 1.094 and B = 1.041 -> 255.
    np.testing.assert_array_equal(compose_stereo(black, white, "anaglyph")[0, 0], [0, 255, 255])


def test_anaglyph_is_computed_in_linear_light():
    """Left grey 100, right black: R = encode(1.132965 * decode(100)) = 107, where a gamma-space mix gives 113."""
    left = np.full((1, 1, 3), 100, dtype=np.uint8)
    out = compose_stereo(left, np.zeros_like(left), "anaglyph")
    expected = _srgb_encode(DUBOIS_LEFT[0].sum() * _srgb_decode(100))
    assert abs(int(out[0, 0, 0]) - expected) <= 0.5 + 1e-6
    assert abs(expected - 100 * DUBOIS_LEFT[0].sum()) > 5  # the check tells the two apart


def test_anaglyph_of_random_views_matches_the_formula():
    left, right = _views()
    out = compose_stereo(left, right, "anaglyph")
    for i, j in [(0, 0), (3, 5), (5, 7)]:
        lin_l = np.array([_srgb_decode(v) for v in left[i, j]])
        lin_r = np.array([_srgb_decode(v) for v in right[i, j]])
        mixed = DUBOIS_LEFT @ lin_l + DUBOIS_RIGHT @ lin_r
        expected = [_srgb_encode(m) for m in mixed]
        np.testing.assert_allclose(out[i, j], expected, atol=0.51)


def test_compose_errors():
    left, right = _views()
    raises_one_line(compose_stereo, left, right, "half-sbs", words=("stereo",))
    with pytest.raises(ValueError):
        compose_stereo(left, right[:, :4], "sbs")
    with pytest.raises(ValueError):
        compose_stereo(left.astype(np.float32), right.astype(np.float32), "anaglyph")
