"""Tests for photo3d.camera.trajectory: presets, TOML validation and per-frame cameras."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import photo3d.camera.trajectory as trajectory_module
import photo3d.camera.trajectory_files as trajectory_files
from photo3d.camera.intrinsics import Intrinsics
from photo3d.camera.trajectory import (
    EASINGS,
    Motion,
    Trajectory,
    cameras_at,
    ease,
    sample_times,
    scene_scale,
    trajectory_cameras,
)
from photo3d.camera.trajectory_files import load_trajectory, parse_trajectory, preset_descriptions, preset_names
from tests.support.helpers import raises_one_line

K = Intrinsics.from_fov(64, 48)


def _write(tmp_path: Path, text: str, name: str = "path.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _positions(traj: Trajectory, n: int, scale: float = 1.0) -> np.ndarray:
    return np.stack([pose.position for pose, _ in trajectory_cameras(traj, n, K, scale)])


THREE_KEYS = """
[trajectory]
interpolation = "{interp}"

[[keyframe]]
t = 0.0
position = [0.0, 0.0, 0.0]

[[keyframe]]
t = 0.25
position = [1.0, -2.0, 0.5]

[[keyframe]]
t = 0.75
position = [3.0, 1.0, -1.0]

[[keyframe]]
t = 1.0
position = [2.0, 2.0, 2.0]
"""


# --- presets -----------------------------------------------------------------------------------------------------


def test_preset_names_lists_the_presets():
    names = preset_names()
    assert {"dolly", "swing", "circle"} <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize("name", ["dolly", "swing", "circle"])
def test_presets_load(name):
    traj = load_trajectory(name)
    assert traj.name == name
    assert traj.description
    assert traj.units == "scene"
    assert len(traj.keyframes) >= 2
    cameras = trajectory_cameras(traj, 12, K, scale=2.0)
    assert len(cameras) == 12
    for pose, k in cameras:
        assert pose.position.shape == (3,) and np.all(np.isfinite(pose.position))
        assert k == K


def test_looping_presets_are_loops():
    assert load_trajectory("swing").loop and load_trajectory("circle").loop
    assert not load_trajectory("dolly").loop


def test_unknown_preset_lists_the_presets():
    message = raises_one_line(load_trajectory, "nosuchpreset", words=("nosuchpreset", "dolly", "swing", "circle"))
    assert "preset" in message


# --- interpolation -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("interp", ["linear", "spline"])
def test_cameras_pass_through_keyframes(tmp_path, interp):
    traj = load_trajectory(_write(tmp_path, THREE_KEYS.format(interp=interp)))
    assert traj.interpolation == interp
    # 5 frames at i / 4 hit t = 0, 0.25, 0.75 and 1 exactly.
    pos = _positions(traj, 5)
    for frame, key in zip([0, 1, 3, 4], traj.keyframes, strict=True):
        np.testing.assert_allclose(pos[frame], key.position, atol=1e-12)


def test_linear_is_piecewise_linear(tmp_path):
    traj = load_trajectory(_write(tmp_path, THREE_KEYS.format(interp="linear")))
    pos = _positions(traj, 9)  # t = 0.5 is frame 4: halfway between keyframes 2 and 3
    np.testing.assert_allclose(pos[4], [2.0, -0.5, -0.25], atol=1e-12)


def test_spline_differs_from_linear_between_keys(tmp_path):
    lin = _positions(load_trajectory(_write(tmp_path, THREE_KEYS.format(interp="linear"), "a.toml")), 9)
    spl = _positions(load_trajectory(_write(tmp_path, THREE_KEYS.format(interp="spline"), "b.toml")), 9)
    assert np.abs(lin[4] - spl[4]).max() > 1e-3


def test_sample_times():
    np.testing.assert_allclose(sample_times(5, loop=False), [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(sample_times(4, loop=True), [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(sample_times(1, loop=True), [0.0])
    raises_one_line(sample_times, 0, False, words=("at least 1",))


@pytest.mark.parametrize("name", ["swing", "circle"])
def test_loop_last_frame_flows_into_first(name, monkeypatch):
    traj = load_trajectory(name)
    n = 24
    t = sample_times(n, loop=True)
    assert t[-1] == pytest.approx(1.0 - 1.0 / n)  # t = 1 is the next loop's frame 0, not shown twice
    looped = _positions(traj, n)
    # N + 1 frames of the same (looping) trajectory at i / N, i = 0..N: the extra frame is t = 1.
    monkeypatch.setattr(trajectory_module, "sample_times", lambda count, loop: np.arange(count) / (count - 1))
    extended = _positions(traj, n + 1)
    np.testing.assert_allclose(extended[:n], looped, atol=1e-12)
    np.testing.assert_allclose(extended[n], looped[0], atol=1e-12)


@pytest.mark.parametrize("name", ["swing", "circle"])
def test_loop_spline_is_periodic(name):
    """The velocity at t = 1 equals the velocity at t = 0: no kink where the loop wraps."""
    traj = load_trajectory(name)
    n = 2000
    pos = _positions(traj, n)  # t = i / n; the last frame is t = 1 - 1/n
    step_in = pos[0] - pos[-1]  # from t = 1 - 1/n to t = 1 (== t = 0)
    step_out = pos[1] - pos[0]  # from t = 0 to t = 1/n
    # A not-a-knot spline through the circle preset misses this by 4% of a step; the periodic one by 0.3%.
    np.testing.assert_allclose(step_in, step_out, atol=1e-2 * np.linalg.norm(step_out))


def test_easing_smooth_keeps_end_points(tmp_path):
    text = """
[trajectory]
easing = "smooth"
interpolation = "linear"

[[keyframe]]
t = 0.0
position = [0.0, 0.0, 0.0]

[[keyframe]]
t = 1.0
position = [1.0, 0.0, 0.0]
"""
    traj = load_trajectory(_write(tmp_path, text))
    pos = _positions(traj, 11)
    np.testing.assert_allclose(pos[0], [0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(pos[-1], [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(pos[5], [0.5, 0.0, 0.0], atol=1e-12)  # smoothstep(0.5) = 0.5
    assert pos[1, 0] < 0.1  # slower than linear at the start
    assert pos[9, 0] > 0.9  # and at the end


UNITS = """
[trajectory]
units = "{units}"

[[keyframe]]
t = 0.0
position = [0.0, 0.0, 0.0]
look_at = [0.0, 0.0, 1.0]

[[keyframe]]
t = 1.0
position = [0.1, 0.2, 0.3]
look_at = [0.0, 0.0, 1.0]
"""


def test_units_scene_multiplies_by_scale(tmp_path):
    traj = load_trajectory(_write(tmp_path, UNITS.format(units="scene")))
    cams = trajectory_cameras(traj, 2, K, scale=5.0)
    np.testing.assert_allclose(cams[-1][0].position, [0.5, 1.0, 1.5], atol=1e-12)
    # look_at is scaled too: the target (0, 0, 5) is straight ahead of the first camera.
    np.testing.assert_allclose(cams[0][0].rotation, np.eye(3), atol=1e-12)


def test_units_depth_ignores_scale(tmp_path):
    traj = load_trajectory(_write(tmp_path, UNITS.format(units="depth")))
    cams = trajectory_cameras(traj, 2, K, scale=5.0)
    np.testing.assert_allclose(cams[-1][0].position, [0.1, 0.2, 0.3], atol=1e-12)


def test_units_default_is_depth(tmp_path):
    traj = parse_trajectory({"keyframe": [{"t": 0.0, "position": [0, 0, 0]}]})
    assert traj.units == "depth"


def test_look_at_aims_z_axis_and_keeps_x_horizontal(tmp_path):
    text = """
[[keyframe]]
t = 0.0
position = [-1.0, -0.5, 0.0]
look_at = [0.5, 0.3, 4.0]

[[keyframe]]
t = 1.0
position = [1.0, 0.5, 0.5]
look_at = [0.5, 0.3, 4.0]
"""
    traj = load_trajectory(_write(tmp_path, text))
    for pose, _ in trajectory_cameras(traj, 5, K):
        r = pose.rotation
        direction = np.array([0.5, 0.3, 4.0]) - pose.position
        np.testing.assert_allclose(r[:, 2], direction / np.linalg.norm(direction), atol=1e-12)
        assert abs(r[1, 0]) < 1e-12  # camera x axis has no y (down) component: the horizon stays level
        assert r[0, 0] > 0  # and still points right-ish
        assert r[1, 1] > 0  # camera y still points down-ish
        np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)


def test_without_look_at_keeps_source_orientation():
    traj = load_trajectory("dolly")
    for pose, _ in trajectory_cameras(traj, 4, K):
        np.testing.assert_array_equal(pose.rotation, np.eye(3))


def test_fov_keyframes_set_focal_length(tmp_path):
    text = """
[trajectory]
interpolation = "linear"

[[keyframe]]
t = 0.0
position = [0.0, 0.0, 0.0]
fov = 40.0

[[keyframe]]
t = 1.0
position = [0.0, 0.0, 0.0]
fov = 60.0
"""
    traj = load_trajectory(_write(tmp_path, text))
    k_out = Intrinsics.from_fov(640, 360)
    cams = trajectory_cameras(traj, 3, k_out)
    for (_, k), fov in zip(cams, [40.0, 50.0, 60.0], strict=True):
        f = 0.5 * 640 / math.tan(math.radians(fov) / 2.0)
        assert k.fx == pytest.approx(f) and k.fy == pytest.approx(f)
        assert (k.width, k.height, k.cx, k.cy) == (640, 360, 320.0, 180.0)
        assert k.fov_deg[0] == pytest.approx(fov)


def test_fov_on_some_keyframes_keeps_output_fov_elsewhere():
    data = {
        "trajectory": {"interpolation": "linear"},
        "keyframe": [{"t": 0.0, "position": [0, 0, 0], "fov": 30.0}, {"t": 1.0, "position": [0, 0, 0]}],
    }
    cams = trajectory_cameras(parse_trajectory(data), 2, K)
    assert cams[0][1].fx == pytest.approx(0.5 * 64 / math.tan(math.radians(15.0)))
    assert cams[1][1].fx == pytest.approx(K.fx)


def test_scene_scale_is_10th_percentile():
    depth = np.arange(1, 101, dtype=np.float32).reshape(10, 10)
    assert scene_scale(depth) == pytest.approx(np.percentile(depth, 10.0))
    assert scene_scale(depth) == pytest.approx(10.9)
    assert scene_scale(np.full((4, 4), 3.0)) == pytest.approx(3.0)


# --- validation --------------------------------------------------------------------------------------------------


def _doc(**head):
    return {"trajectory": head, "keyframe": [{"t": 0.0, "position": [0, 0, 0]}, {"t": 1.0, "position": [1, 0, 0]}]}


def _keys(*rows):
    return {"keyframe": list(rows)}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"trajectory": {}, "keyframes": [], "keyframe": []}, ("unknown table", "keyframes")),
        (_doc(speed=2.0), ("unknown key", "speed", "[trajectory]")),
        (_keys({"t": 0.0, "position": [0, 0, 0], "rotation": [0, 0, 0]}), ("keyframe 1", "unknown key", "rotation")),
        ({"trajectory": {}}, ("no [[keyframe]]",)),
        (_keys({"position": [0, 0, 0]}), ("keyframe 1", "needs both t and position")),
        (_keys({"t": 0.0}), ("keyframe 1", "needs both t and position")),
        (_keys({"t": 1.5, "position": [0, 0, 0]}), ("keyframe 1", "t must be a number from 0 to 1", "1.5")),
        (_keys({"t": -0.1, "position": [0, 0, 0]}), ("t must be a number from 0 to 1",)),
        (_keys({"t": "0", "position": [0, 0, 0]}), ("t must be a number from 0 to 1",)),
        (
            _keys(
                {"t": 0.0, "position": [0, 0, 0]}, {"t": 0.5, "position": [0, 0, 0]}, {"t": 0.5, "position": [1, 0, 0]}
            ),
            ("times must increase strictly", "[0.0, 0.5, 0.5]"),
        ),
        (
            _keys({"t": 0.6, "position": [0, 0, 0]}, {"t": 0.2, "position": [0, 0, 0]}),
            ("times must increase strictly",),
        ),
        (_keys({"t": 0.0, "position": [0, 0]}), ("keyframe 1", "position", "three numbers")),
        (_keys({"t": 0.0, "position": [0, 0, 0, 0]}), ("position", "three numbers")),
        (_keys({"t": 0.0, "position": "here"}), ("position", "three numbers")),
        (
            _keys({"t": 0.0, "position": [0, 0, 0], "look_at": [0, 0]}),
            ("look_at", "three numbers"),
        ),
        (
            _keys({"t": 0.0, "position": [0, 0, 0], "look_at": [0, 0, 1]}, {"t": 1.0, "position": [0, 0, 0]}),
            ("look_at on every keyframe or on none",),
        ),
        (_keys({"t": 0.0, "position": [0, 0, 0], "fov": 180.0}), ("fov", "between 0 and 180")),
        (_doc(units="metres"), ("units must be one of depth, scene", "metres")),
        (_doc(interpolation="cubic"), ("interpolation must be one of spline, linear",)),
        (_doc(easing="bounce"), ("easing must be one of linear, smooth",)),
        (_doc(loop="yes"), ("loop must be true or false",)),
    ],
)
def test_parse_errors_name_the_problem(data, words):
    message = raises_one_line(parse_trajectory, data, where="x.toml", words=words)
    assert message.startswith("x.toml")


def test_invalid_toml_file(tmp_path):
    path = _write(tmp_path, "[trajectory\nunits = 'scene'\n", "broken.toml")
    raises_one_line(load_trajectory, path, words=("broken.toml", "not valid TOML"))


def test_errors_in_a_file_name_the_file(tmp_path):
    path = _write(tmp_path, "[[keyframe]]\nt = 2.0\nposition = [0.0, 0.0, 0.0]\n", "bad.toml")
    raises_one_line(load_trajectory, path, words=(str(path), "keyframe 1", "t must be"))


# --- new presets, focus, motion options, segments, error lines --------------------------------------------------

NEW_PRESETS = ["dolly-zoom", "zoom-in", "horizontal", "vertical", "orbit"]
KC = Intrinsics.from_fov(64, 48)  # principal point at the frame centre
KOFF = Intrinsics(64, 48, 60.0, 58.0, 29.0, 26.5)  # off-centre principal point: the focus point is off-axis
SCALE = 2.0


def _focus_point(k: Intrinsics, focus: float) -> np.ndarray:
    return focus * np.array([(k.width / 2 - k.cx) / k.fx, (k.height / 2 - k.cy) / k.fy, 1.0])


def _project(pose, k: Intrinsics, points: np.ndarray) -> np.ndarray:
    """Pixel coordinates (N, 2) of source-frame points (N, 3) in a camera."""
    q = (np.asarray(points, dtype=np.float64) - pose.position) @ pose.rotation
    return np.stack([k.fx * q[:, 0] / q[:, 2] + k.cx, k.fy * q[:, 1] / q[:, 2] + k.cy], axis=1)


def _doc_keys(*positions, **head):
    n = len(positions)
    keys = [{"t": i / (n - 1), "position": list(map(float, p))} for i, p in enumerate(positions)]
    return parse_trajectory({"trajectory": {"interpolation": "linear", **head}, "keyframe": keys})


def _cam_vector(camera) -> np.ndarray:
    pose, k = camera
    return np.concatenate([pose.position, pose.rotation.ravel(), [k.fx, k.fy, k.cx, k.cy]])


def test_new_presets_are_listed_with_one_line_descriptions():
    names = preset_names()
    assert set(NEW_PRESETS + ["dolly", "swing", "circle"]) <= set(names)
    described = preset_descriptions()
    assert [name for name, _ in described] == names
    for _, text in described:
        assert text and "\n" not in text


@pytest.mark.parametrize("name", sorted(set(NEW_PRESETS + ["dolly", "swing", "circle"])))
@pytest.mark.parametrize(
    "motion",
    [Motion(), Motion(focus=3.0), Motion(intensity=2.0, playback="pingpong"), Motion(playback="loop", reverse=True)],
)
def test_every_preset_gives_finite_cameras(name, motion):
    cameras = trajectory_cameras(load_trajectory(name), 16, KOFF, scale=SCALE, motion=motion)
    assert len(cameras) == 16
    for pose, k in cameras:
        assert np.all(np.isfinite(pose.position)) and np.all(np.isfinite(pose.rotation))
        np.testing.assert_allclose(pose.rotation.T @ pose.rotation, np.eye(3), atol=1e-12)
        assert np.all(np.isfinite([k.fx, k.fy, k.cx, k.cy])) and (k.width, k.height) == (64, 48)


def test_new_presets_move():
    """Each new preset does something: the camera moves or the focal length changes by a visible amount."""
    for name in NEW_PRESETS:
        cams = trajectory_cameras(load_trajectory(name), 24, KC, scale=SCALE)
        travel = max(np.linalg.norm(p.position) for p, _ in cams)
        zoom = max(abs(k.fx / KC.fx - 1.0) for _, k in cams)
        assert travel > 0.02 * SCALE or zoom > 0.1, name


# --- focus: lens shift ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k_base", [KC, KOFF])
def test_focus_plane_stays_still_under_lateral_translation(k_base):
    focus = 3.0
    end = np.array([0.3, -0.2, 0.0])
    traj = _doc_keys([0, 0, 0], end)
    n = 5
    cams = trajectory_cameras(traj, n, k_base, motion=Motion(focus=focus))
    rng = np.random.default_rng(0)
    on_plane = np.column_stack([rng.uniform(-2, 2, 6), rng.uniform(-2, 2, 6), np.full(6, focus)])
    reference = _project(cams[0][0], k_base, on_plane)  # the unmoved camera with the base intrinsics
    np.testing.assert_allclose(cams[0][0].position, 0.0, atol=1e-15)
    for pose, k in cams:
        np.testing.assert_allclose(_project(pose, k, on_plane), reference, atol=1e-6)
    # A nearer (and a farther) point moves by f * t * (1/Z - 1/focus), opposite to the camera.
    for z in (1.0, 7.0):
        point = np.array([[0.4, -0.3, z]])
        start = _project(cams[0][0], cams[0][1], point)[0]
        for i, (pose, k) in enumerate(cams):
            t = end * i / (n - 1)
            expected = start - np.array([k_base.fx * t[0], k_base.fy * t[1]]) * (1.0 / z - 1.0 / focus)
            np.testing.assert_allclose(_project(pose, k, point)[0], expected, atol=1e-9)


@pytest.mark.parametrize("name", sorted(set(NEW_PRESETS + ["dolly", "swing", "circle"])))
def test_focus_point_stays_at_the_frame_centre(name):
    focus = 2.5
    p = _focus_point(KOFF, focus)
    for pose, k in trajectory_cameras(load_trajectory(name), 12, KOFF, scale=SCALE, motion=Motion(focus=focus)):
        np.testing.assert_allclose(_project(pose, k, p[None])[0], [32.0, 24.0], atol=1e-9)


def test_without_focus_there_is_no_lens_shift():
    for _, k in trajectory_cameras(load_trajectory("horizontal"), 8, KOFF, scale=SCALE):
        assert (k.cx, k.cy) == (KOFF.cx, KOFF.cy)


def test_dolly_zoom_keeps_the_focus_plane_size():
    traj = load_trajectory("dolly-zoom")
    assert traj.keep_focus_size and traj.units == "focus"
    for motion, focus in [(Motion(), SCALE), (Motion(focus=4.0), 4.0), (Motion(focus=4.0, intensity=1.5), 4.0)]:
        cams = trajectory_cameras(traj, 9, KC, scale=SCALE, motion=motion)
        seg = np.array([[-0.5, 0.2, focus], [0.7, 0.2, focus]])  # a segment on the focus plane
        far = np.array([[-0.5, 0.2, 3 * focus], [0.7, 0.2, 3 * focus]])
        size0 = np.linalg.norm(np.diff(_project(*cams[0], seg), axis=0))
        far_sizes = []
        for pose, k in cams:
            assert pose.position[2] <= 1e-12  # the camera moves back
            np.testing.assert_allclose(np.linalg.norm(np.diff(_project(pose, k, seg), axis=0)), size0, rtol=1e-12)
            np.testing.assert_allclose(k.fx / KC.fx, (focus - pose.position[2]) / focus, rtol=1e-12)
            far_sizes.append(np.linalg.norm(np.diff(_project(pose, k, far), axis=0)))
        assert np.all(np.diff(far_sizes) > 0)  # the background grows
        # The preset pulls back by a fraction of the focus depth (times the intensity): zoom 1 + pull * intensity.
        pull = -traj.keyframes[-1].position[2]
        assert 0.05 <= pull <= 0.5
        np.testing.assert_allclose(cams[-1][1].fx / KC.fx, 1.0 + pull * motion.intensity, rtol=1e-12)


def test_orbit_aims_at_the_focus_point_at_constant_distance():
    traj = load_trajectory("orbit")
    assert traj.aim == "focus" and traj.loop
    for k_base, motion, focus in [(KC, Motion(), SCALE), (KOFF, Motion(focus=5.0), 5.0)]:
        p = _focus_point(k_base, focus)
        cams = trajectory_cameras(traj, 30, k_base, scale=SCALE, motion=motion)
        distances = [np.linalg.norm(p - pose.position) for pose, _ in cams]
        # The preset's keyframes are rounded to 10 decimals.
        np.testing.assert_allclose(distances, np.linalg.norm(p), rtol=1e-8)
        for pose, k in cams:
            np.testing.assert_allclose(_project(pose, k, p[None])[0], [32.0, 24.0], atol=1e-9)
        lateral = max(abs(pose.position[0]) for pose, _ in cams)
        assert 0.04 * focus < lateral < 0.1 * focus  # a few per cent of the focus depth


def test_aim_focus_interpolates_an_arc():
    """Two keyframes on a circle about the focus point: every frame in between stays on it (not the chord)."""
    focus = 2.0
    angles = [0.0, 0.3, -0.2]
    keys = [[focus * math.sin(a), 0.0, focus - focus * math.cos(a)] for a in angles]
    traj = _doc_keys(*keys, units="depth", aim="focus", interpolation="spline")
    cams = trajectory_cameras(traj, 21, KC, motion=Motion(focus=focus))
    p = np.array([0.0, 0.0, focus])
    for pose, k in cams:
        np.testing.assert_allclose(np.linalg.norm(p - pose.position), focus, rtol=1e-12)
        np.testing.assert_allclose(pose.rotation[:, 2], (p - pose.position) / focus, atol=1e-12)
        assert abs(pose.rotation[1, 0]) < 1e-12  # level horizon
        assert (k.cx, k.cy) == pytest.approx((32.0, 24.0), abs=1e-9)


# --- motion options ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(NEW_PRESETS + ["dolly", "swing", "circle"])))
@pytest.mark.parametrize("focus", [None, 3.0])
def test_intensity_zero_is_the_still_source_camera(name, focus):
    for pose, k in trajectory_cameras(load_trajectory(name), 10, KOFF, scale=SCALE, motion=Motion(0.0, focus)):
        np.testing.assert_allclose(pose.position, 0.0, atol=1e-12)
        np.testing.assert_allclose(pose.rotation, np.eye(3), atol=1e-12)
        np.testing.assert_allclose([k.fx, k.fy, k.cx, k.cy], [KOFF.fx, KOFF.fy, KOFF.cx, KOFF.cy], atol=1e-9)


@pytest.mark.parametrize("name", ["dolly", "swing", "circle", "horizontal", "vertical", "zoom-in", "dolly-zoom"])
def test_intensity_two_doubles_translations(name):
    traj = load_trajectory(name)
    one = trajectory_cameras(traj, 13, KC, scale=SCALE)
    two = trajectory_cameras(traj, 13, KC, scale=SCALE, motion=Motion(intensity=2.0))
    for (p1, k1), (p2, k2) in zip(one, two, strict=True):
        np.testing.assert_allclose(p2.position, 2.0 * p1.position, atol=1e-12)
        if name == "zoom-in":  # the log of the zoom doubles too
            np.testing.assert_allclose(k2.fx / KC.fx, (k1.fx / KC.fx) ** 2, rtol=1e-12)


def test_intensity_scales_the_orbit_angle_and_look_at_rotation():
    traj = load_trajectory("orbit")
    one = trajectory_cameras(traj, 9, KC, scale=SCALE)
    two = trajectory_cameras(traj, 9, KC, scale=SCALE, motion=Motion(intensity=2.0))
    for (p1, _), (p2, _) in zip(one, two, strict=True):
        yaw1 = math.atan2(p1.position[0], SCALE - p1.position[2])
        yaw2 = math.atan2(p2.position[0], SCALE - p2.position[2])
        assert yaw2 == pytest.approx(2.0 * yaw1, abs=1e-12)
    data = {"keyframe": [{"t": 0.0, "position": [0, 0, 0], "look_at": [1.0, 0, 2.0]}]}
    angle = math.atan2(1.0, 2.0)
    for intensity in (0.0, 0.5, 1.0):
        pose, _ = trajectory_cameras(parse_trajectory(data), 1, KC, motion=Motion(intensity=intensity))[0]
        assert math.acos(np.clip(pose.rotation[2, 2], -1, 1)) == pytest.approx(intensity * angle, abs=1e-12)


def test_reverse_plays_backwards():
    for name, playback in [("dolly", None), ("zoom-in", "once"), ("circle", "loop"), ("dolly", "pingpong")]:
        traj = load_trajectory(name)
        forward = trajectory_cameras(traj, 11, KC, SCALE, Motion(playback=playback, focus=3.0))
        backward = trajectory_cameras(traj, 11, KC, SCALE, Motion(playback=playback, focus=3.0, reverse=True))
        if (playback or ("loop" if traj.loop else "once")) == "once":
            expected = forward[::-1]
        else:
            expected = [forward[0]] + forward[:0:-1]  # frame 0 stays first, then backwards
        for got, want in zip(backward, expected, strict=True):
            np.testing.assert_allclose(_cam_vector(got), _cam_vector(want), atol=1e-12)


@pytest.mark.parametrize("name", EASINGS)
def test_easings_keep_end_points_and_increase(name):
    t = np.linspace(0.0, 1.0, 101)
    e = ease(name, t)
    assert e[0] == pytest.approx(0.0, abs=1e-15) and e[-1] == pytest.approx(1.0, abs=1e-15)
    assert np.all(np.diff(e) > 0)
    midpoint = {"linear": 0.5, "smooth": 0.5, "smoother": 0.5, "ease-in": 0.25, "ease-out": 0.75, "sine": 0.5}
    assert ease(name, np.array([0.5]))[0] == pytest.approx(midpoint[name], abs=1e-15)
    traj = _doc_keys([0, 0, 0], [1, 0, 0])
    pos = _positions_motion(traj, 5, Motion(easing=name))
    np.testing.assert_allclose(pos[0], 0.0, atol=1e-15)
    np.testing.assert_allclose(pos[-1], [1.0, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(pos[2], [midpoint[name], 0.0, 0.0], atol=1e-15)


def test_easing_option_overrides_the_trajectory_easing():
    traj = load_trajectory("dolly")  # smooth
    assert traj.easing == "smooth"
    smooth = _positions_motion(traj, 5, Motion(), SCALE)
    linear = _positions_motion(traj, 5, Motion(easing="linear"), SCALE)
    np.testing.assert_allclose(linear[1], [0.0, 0.0, 0.15 * SCALE * 0.25], atol=1e-12)
    np.testing.assert_allclose(smooth[1], [0.0, 0.0, 0.15 * SCALE * (0.25**2 * (3 - 0.5))], atol=1e-12)


def _positions_motion(traj, n, motion, scale=1.0):
    return np.stack([pose.position for pose, _ in trajectory_cameras(traj, n, K, scale, motion)])


@pytest.mark.parametrize("name", sorted(set(NEW_PRESETS + ["dolly", "swing", "circle"])))
@pytest.mark.parametrize("playback", ["loop", "pingpong"])
def test_loops_are_seamless(name, playback):
    traj = load_trajectory(name)
    n = 48
    motion = Motion(focus=3.0, playback=playback)
    frames = trajectory_cameras(traj, n, KOFF, SCALE, motion)
    extended = cameras_at(traj, np.arange(n + 1) / n, KOFF, SCALE, motion)  # one step past the last frame
    for got, want in zip(extended[:n], frames, strict=True):
        np.testing.assert_allclose(_cam_vector(got), _cam_vector(want), atol=1e-12)
    np.testing.assert_allclose(_cam_vector(extended[n]), _cam_vector(frames[0]), atol=1e-9)
    # No step, the wrap included, is much larger than the average step: no jump anywhere.
    vectors = np.stack([_cam_vector(c) for c in extended])
    for cols in (slice(0, 3), slice(3, 12), slice(12, 16)):
        steps = np.linalg.norm(np.diff(vectors[:, cols], axis=0), axis=1)
        if steps.mean() > 1e-12:
            assert steps.max() <= 2.0 * steps.mean(), (cols, steps.max(), steps.mean())


def test_once_path_played_as_loop_goes_there_and_back():
    traj = load_trajectory("dolly")
    n = 8
    cams = trajectory_cameras(traj, n, KC, SCALE, Motion(playback="loop"))
    z = np.array([pose.position[2] for pose, _ in cams])
    u = np.arange(n) / n
    np.testing.assert_allclose(z, 0.15 * SCALE * (1 - np.cos(2 * np.pi * u)) / 2, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"intensity": -1.0}, ("intensity", ">= 0", "-1.0")),
        ({"intensity": float("nan")}, ("intensity",)),
        ({"intensity": True}, ("intensity",)),
        ({"focus": 0.0}, ("focus", "positive")),
        ({"focus": float("inf")}, ("focus",)),
        ({"playback": "bounce"}, ("playback", "once, loop, pingpong", "bounce")),
        ({"easing": "elastic"}, ("easing", "linear", "elastic")),
        ({"reverse": "yes"}, ("reverse",)),
    ],
)
def test_motion_validation(kwargs, words):
    raises_one_line(Motion, words=words, **kwargs)


def test_focus_behind_the_camera_is_an_error():
    traj = load_trajectory("dolly")  # pushes in by 0.15 * scale
    raises_one_line(trajectory_cameras, traj, 5, KC, SCALE, Motion(focus=0.2, intensity=1.0), words=("focus", "behind"))


def test_cameras_at_rejects_clock_outside_unit_interval():
    raises_one_line(cameras_at, load_trajectory("dolly"), np.array([0.5, 1.5]), KC, words=("clock", "[0, 1]"))


# --- segments ----------------------------------------------------------------------------------------------------

SEGMENTS = """
[trajectory]
description = "dolly, then circle, then a slide"
units = "scene"

[[segment]]
preset = "dolly"
intensity = 0.5

[[segment]]
preset = "circle"
share = 2.0

[[segment]]
easing = "ease-in"
keyframe = [
    { t = 0.0, position = [0.0, 0.0, 0.0] },
    { t = 1.0, position = [0.1, 0.0, 0.0] },
]
"""


def test_segments_chain_offsets(tmp_path):
    traj = load_trajectory(_write(tmp_path, SEGMENTS))
    assert len(traj.segments) == 3 and traj.segments[1].share == 2.0
    s = SCALE
    dolly_end = np.array([0.0, 0.0, 0.5 * 0.15 * s])
    # Segment bounds on the clock: 0, 0.25 (dolly), 0.75 (circle), 1.
    clock = np.array([0.0, 0.25, 0.375, 0.75, 0.875, 1.0])
    pos = np.stack([pose.position for pose, _ in cameras_at(traj, clock, KC, s)])
    np.testing.assert_allclose(pos[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(pos[1], dolly_end, atol=1e-12)
    # A quarter into the circle it is at its keyframe (0, 0.04, 0), having started at (0.04, 0, 0).
    np.testing.assert_allclose(pos[2], dolly_end + np.array([-0.04, 0.04, 0.0]) * s, atol=1e-12)
    np.testing.assert_allclose(pos[3], dolly_end, atol=1e-9)  # the circle closes
    np.testing.assert_allclose(pos[4], dolly_end + np.array([0.1 * 0.25, 0, 0]) * s, atol=1e-9)  # ease-in(0.5)
    np.testing.assert_allclose(pos[5], dolly_end + np.array([0.1, 0, 0]) * s, atol=1e-9)


def test_segments_are_continuous(tmp_path):
    traj = load_trajectory(_write(tmp_path, SEGMENTS.replace('preset = "circle"', 'preset = "circle"\nreverse = true')))
    eps = 1e-7
    for bound in (0.25, 0.75):
        a, b = cameras_at(traj, np.array([bound - eps, bound + eps]), KC, SCALE, Motion(focus=3.0))
        assert np.abs(_cam_vector(a) - _cam_vector(b)).max() < 1e-4


def test_segments_with_a_rotating_preset_stay_continuous(tmp_path):
    text = '[[segment]]\npreset = "zoom-in"\n\n[[segment]]\npreset = "orbit"\n\n[[segment]]\npreset = "dolly-zoom"\n'
    traj = load_trajectory(_write(tmp_path, text))
    eps = 1e-7
    for bound in (1 / 3, 2 / 3):
        a, b = cameras_at(traj, np.array([bound - eps, bound + eps]), KC, SCALE)
        assert np.abs(_cam_vector(a) - _cam_vector(b)).max() < 1e-4
    pose, k = cameras_at(traj, np.array([1.0]), KC, SCALE)[0]
    zoom_in, dolly_zoom = load_trajectory("zoom-in"), load_trajectory("dolly-zoom")
    push, pull = zoom_in.keyframes[-1].position[2], -dolly_zoom.keyframes[-1].position[2]
    # The zoom-in's focal factor carries on through the (closed) orbit and multiplies the dolly zoom's 1 + pull.
    assert k.fx / KC.fx == pytest.approx(zoom_in.keyframes[-1].zoom * (1.0 + pull), rel=1e-9)
    np.testing.assert_allclose(pose.rotation, np.eye(3), atol=1e-9)
    # Positions add up: the zoom-in pushes in by push * scale, the dolly zoom pulls back by pull * focus (= scale).
    np.testing.assert_allclose(pose.position, [0.0, 0.0, (push - pull) * SCALE], atol=1e-9)


# --- errors name the file and the key ------------------------------------------------------------------------------


KEYFRAMES_TEXT = """# a comment with [[keyframe]] in it
[trajectory]
description = "a # in a string, and [[keyframe]]"
units = "scene"

[[keyframe]]
t = 0.0
position = [0.0, 0.0, 0.0]

[[keyframe]]
t = 0.5
position = [0.0, 0.0, 0.1]

[[keyframe]]
t = 1.0
position = {bad}
"""


def test_error_names_file_and_key(tmp_path):
    text = KEYFRAMES_TEXT.format(bad="[0, 1]")
    path = _write(tmp_path, text, "my.toml")
    message = raises_one_line(load_trajectory, path)
    assert message == f"{path}: keyframe 3: position must be a list of three numbers [x, y, z], got [0, 1]"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[trajectory]\nunits = 'scene'\nspeed = 2\n[[keyframe]]\nt = 0\nposition = [0, 0, 0]\n", ("speed",)),
        ("[trajectory]\n\nunits = 'metres'\n[[keyframe]]\nt = 0\nposition = [0, 0, 0]\n", ("units",)),
        ("[[keyframe]]\nt = 0\nposition = [0, 0, 0]\n[[keyframe]]\nposition = [1, 0, 0]\nt = 0\n", ("times",)),
        ("[[keyframe]]\nt = 0\nposition = [0, 0, 0]\n\n[[keyframe]]\nposition = [1, 0, 0]\n", ("keyframe 2", "needs")),
        ("[[keyframe]]\nt = 0\nposition = [0, 0, 0]\nfov = 200\n", ("keyframe 1", "fov")),
        ("[[keyframe]]\nt = 0\nposition = [0, 0, 0]\n  zoom = -1 # shrink\n", ("keyframe 1", "zoom")),
        ('[[segment]]\npreset = "dolly"\n\n[[segment]]\n\npreset = "nosuch"\n', ("segment 2", "preset", "nosuch")),
        ('[[segment]]\npreset = "dolly"\nshare = 0\n', ("segment 1", "share")),
        ('[[segment]]\npreset = "dolly"\nspeed = 2\n', ("segment 1", "unknown key", "speed")),
        (
            '[[segment]]\npreset = "dolly"\n[[segment]]\nkeyframe = [\n  { t = 0, position = [0, 0, 0] },\n'
            "  { t = 2, position = [1, 0, 0] },\n]\n",
            ("segment 2: keyframe 2: t must be",),
        ),
        (
            '[[segment]]\npreset = "dolly"\n[[segment]]\n[[segment.keyframe]]\nt = 0\nposition = [0, 0, 0]\n'
            "[[segment.keyframe]]\nt = 1\nposition = [1, 0]\n",
            ("segment 2: keyframe 2: position",),
        ),
        ('[[segment]]\npreset = "dolly"\n[[keyframe]]\nt = 0\nposition = [0, 0, 0]\n', ("not both",)),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, text, words):
    path = _write(tmp_path, text, "e.toml")
    message = raises_one_line(load_trajectory, path, words=words)
    assert message.startswith(f"{path}: "), message


def test_toml_syntax_error_keeps_the_line(tmp_path):
    path = _write(tmp_path, "[trajectory]\nunits = 'scene'\nloop = \n", "broken.toml")
    raises_one_line(load_trajectory, path, words=("broken.toml", "not valid TOML", "line 3"))


def _docstring_examples() -> list[str]:
    """The indented TOML blocks after '::' in the module docstring."""
    blocks, doc = [], trajectory_files.__doc__
    for part in doc.split("::\n")[1:]:
        lines = []
        for line in part.splitlines()[1:]:
            if line and not line.startswith("    "):
                break
            lines.append(line[4:])
        blocks.append("\n".join(lines))
    return blocks


def test_module_docstring_examples_load(tmp_path):
    blocks = _docstring_examples()
    assert len(blocks) == 2
    single = load_trajectory(_write(tmp_path, blocks[0], "single.toml"))
    assert single.units == "scene" and len(single.keyframes) == 1
    chained = load_trajectory(_write(tmp_path, blocks[1], "chained.toml"))
    assert [s.share for s in chained.segments] == [1.0, 2.0, 1.0]
    assert chained.segments[0].trajectory.name == "dolly" and chained.segments[1].reverse
    assert len(trajectory_cameras(chained, 10, KC, SCALE)) == 10
