"""Tests for photo3d.trajectory: presets, TOML validation and per-frame cameras."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from helpers import raises_one_line

import photo3d.trajectory as trajectory_module
from photo3d.camera import Intrinsics
from photo3d.trajectory import (
    Trajectory,
    load_trajectory,
    parse_trajectory,
    preset_names,
    sample_times,
    scene_scale,
    trajectory_cameras,
)

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
