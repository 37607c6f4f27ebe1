"""Camera trajectories: TOML files of keyframes, validated into one typed structure.

A trajectory file looks like this (every preset in ``trajectories/`` is one)::

    [trajectory]
    description = "Push the camera in towards the scene"
    units = "scene"           # "depth" (default): positions in the depth map's units
                              # "scene": multiples of the scene's reference depth
    interpolation = "spline"  # "spline" (default, C2 cubic) or "linear"
    easing = "smooth"         # "linear" (default) or "smooth" (ease in and out)
    loop = false              # true: the last frame flows into the first

    [[keyframe]]
    t = 0.0                   # 0 to 1 over the clip
    position = [0.0, 0.0, 0.0]
    # look_at = [0.0, 0.0, 1.0]   optional: aim the camera at this point
    # fov = 53.13                 optional: field of view in degrees on the longer side

Positions and ``look_at`` are in the source photo's camera frame (OpenCV axes: x
right, y down, z forward; see docs/conventions.md). Without ``look_at`` the
camera keeps the source orientation; without ``fov`` it keeps the output
intrinsics. With ``units = "scene"`` coordinates are multiplied by the scene's
reference depth (:func:`scene_scale`), so that every photo moves about the
same amount whatever its depth units.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .camera import Intrinsics, Pose, look_at_rotation
from .errors import Photo3DError
from .resources import resource_dir

__all__ = [
    "Keyframe",
    "Trajectory",
    "load_trajectory",
    "parse_trajectory",
    "preset_names",
    "sample_times",
    "scene_scale",
    "trajectory_cameras",
]


@dataclass(frozen=True)
class Keyframe:
    """One keyframe.

    Attributes:
        t: Time in [0, 1] over the clip.
        position: (3,) float64 camera centre in the source camera frame.
        look_at: (3,) float64 point the camera aims at, or None to keep the source orientation.
        fov: Field of view in degrees on the longer side, or None to keep the output intrinsics.

    """

    t: float
    position: np.ndarray
    look_at: np.ndarray | None = None
    fov: float | None = None


@dataclass(frozen=True)
class Trajectory:
    """A validated camera path.

    Attributes:
        name: Preset name or file stem.
        description: One line for ``--help`` and listings.
        units: ``"depth"`` (absolute, depth-map units) or ``"scene"`` (times the scene's reference depth).
        interpolation: ``"spline"`` or ``"linear"``.
        easing: ``"linear"`` or ``"smooth"`` (smoothstep time remap; ignored for loops).
        loop: Whether the clip loops seamlessly (frame times ``i / N``, not ``i / (N - 1)``).
        keyframes: At least one keyframe, sorted by ``t``.

    """

    name: str
    description: str
    units: str
    interpolation: str
    easing: str
    loop: bool
    keyframes: tuple[Keyframe, ...]


def _vec3(value, where: str) -> np.ndarray:
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        v = np.zeros(0)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise Photo3DError(f"{where} must be a list of three numbers [x, y, z], got {value!r}")
    return v


def _choice(table: dict, key: str, default: str, allowed: tuple[str, ...], where: str) -> str:
    value = table.get(key, default)
    if value not in allowed:
        raise Photo3DError(f"{where}: {key} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def parse_trajectory(data: dict, name: str = "custom", where: str = "trajectory") -> Trajectory:
    """Validates a parsed TOML document into a :class:`Trajectory`.

    Args:
        data: The document as returned by ``tomllib``.
        name: Name to give the trajectory.
        where: How to name the source in error messages (a file path).

    Raises:
        Photo3DError: On unknown keys, missing or malformed keyframes, times
            outside [0, 1] or not increasing, or a ``look_at`` on some keyframes only.

    """
    unknown = set(data) - {"trajectory", "keyframe"}
    if unknown:
        raise Photo3DError(
            f"{where}: unknown table(s) {', '.join(sorted(unknown))}; expected [trajectory] and [[keyframe]]"
        )
    head = data.get("trajectory", {})
    unknown = set(head) - {"description", "units", "interpolation", "easing", "loop"}
    if unknown:
        raise Photo3DError(f"{where}: unknown key(s) in [trajectory]: {', '.join(sorted(unknown))}")
    rows = data.get("keyframe")
    if not isinstance(rows, list) or not rows:
        raise Photo3DError(f"{where}: no [[keyframe]] tables; give at least one with t and position")
    keyframes = []
    for i, row in enumerate(rows):
        at = f"{where}: keyframe {i + 1}"
        unknown = set(row) - {"t", "position", "look_at", "fov"}
        if unknown:
            raise Photo3DError(f"{at}: unknown key(s) {', '.join(sorted(unknown))}")
        if "t" not in row or "position" not in row:
            raise Photo3DError(f"{at}: needs both t and position")
        t = row["t"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 <= t <= 1.0:
            raise Photo3DError(f"{at}: t must be a number from 0 to 1, got {t!r}")
        fov = row.get("fov")
        if fov is not None and (isinstance(fov, bool) or not isinstance(fov, (int, float)) or not 0.0 < fov < 180.0):
            raise Photo3DError(f"{at}: fov must be in degrees between 0 and 180, got {fov!r}")
        look = _vec3(row["look_at"], f"{at}: look_at") if "look_at" in row else None
        keyframes.append(Keyframe(float(t), _vec3(row["position"], f"{at}: position"), look, fov))
    times = [k.t for k in keyframes]
    if any(b <= a for a, b in zip(times, times[1:], strict=False)):
        raise Photo3DError(f"{where}: keyframe times must increase strictly, got {times}")
    if len({k.look_at is None for k in keyframes}) > 1:
        raise Photo3DError(f"{where}: give look_at on every keyframe or on none")
    loop = head.get("loop", False)
    if not isinstance(loop, bool):
        raise Photo3DError(f"{where}: loop must be true or false")
    return Trajectory(
        name=name,
        description=str(head.get("description", "")),
        units=_choice(head, "units", "depth", ("depth", "scene"), where),
        interpolation=_choice(head, "interpolation", "spline", ("spline", "linear"), where),
        easing=_choice(head, "easing", "linear", ("linear", "smooth"), where),
        loop=loop,
        keyframes=tuple(keyframes),
    )


def preset_names() -> list[str]:
    """Names of the presets in ``trajectories/`` (file stems), sorted."""
    return sorted(p.stem for p in resource_dir("trajectories").glob("*.toml"))


def load_trajectory(name_or_path: str | Path) -> Trajectory:
    """Loads a preset by name (``"dolly"``) or a TOML file by path.

    Raises:
        Photo3DError: If it is neither a preset nor a readable, valid TOML file.

    """
    text = str(name_or_path)
    preset = resource_dir("trajectories") / f"{text}.toml"
    path = preset if ("/" not in text and "\\" not in text and preset.is_file()) else Path(text)
    if not path.is_file():
        raise Photo3DError(
            f"trajectory {text!r} is neither a preset ({', '.join(preset_names())}) nor an existing .toml file"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise Photo3DError(f"trajectory file {path} is not valid TOML: {exc}") from None
    return parse_trajectory(data, name=path.stem, where=str(path))


def scene_scale(depth: np.ndarray) -> float:
    """The scene's reference depth: the 10th percentile of planar depth.

    Trajectories with ``units = "scene"`` are multiplied by it, so that the
    near part of every photo moves by about the same number of pixels.

    Args:
        depth: (H, W) planar depth, positive.

    """
    return float(np.percentile(depth, 10.0))


def sample_times(num_frames: int, loop: bool) -> np.ndarray:
    """Frame times in [0, 1]: ``i / (N - 1)`` (first and last keyframe both shown) or ``i / N`` for loops."""
    if num_frames < 1:
        raise Photo3DError(f"the number of frames must be at least 1, got {num_frames}")
    if num_frames == 1:
        return np.zeros(1)
    return np.arange(num_frames) / (num_frames if loop else num_frames - 1)


def _interpolate(traj: Trajectory, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Interpolates per-keyframe values (K, D) at times t (N,) -> (N, D)."""
    times = np.array([k.t for k in traj.keyframes])
    if len(times) == 1:
        return np.repeat(values[:1], len(t), axis=0)
    tt = np.clip(t, times[0], times[-1])
    if traj.interpolation == "linear" or len(times) == 2:
        return np.stack([np.interp(tt, times, values[:, d]) for d in range(values.shape[1])], axis=1)
    from scipy.interpolate import CubicSpline

    periodic = traj.loop and np.allclose(values[0], values[-1]) and times[0] == 0.0 and times[-1] == 1.0
    return CubicSpline(times, values, axis=0, bc_type="periodic" if periodic else "not-a-knot")(tt)


def trajectory_cameras(
    traj: Trajectory, num_frames: int, intrinsics: Intrinsics, scale: float = 1.0
) -> list[tuple[Pose, Intrinsics]]:
    """The camera of every frame.

    Args:
        traj: The trajectory.
        num_frames: Number of frames N >= 1.
        intrinsics: Output intrinsics used where a keyframe gives no ``fov``.
        scale: Reference depth for ``units = "scene"`` (see :func:`scene_scale`); ignored for ``"depth"``.

    Returns:
        N ``(pose, intrinsics)`` pairs, poses in the source camera frame.

    """
    t = sample_times(num_frames, traj.loop)
    if traj.easing == "smooth" and not traj.loop:
        t = t * t * (3.0 - 2.0 * t)
    unit = scale if traj.units == "scene" else 1.0
    kf = traj.keyframes
    positions = _interpolate(traj, np.stack([k.position for k in kf]) * unit, t)
    targets = _interpolate(traj, np.stack([k.look_at for k in kf]) * unit, t) if kf[0].look_at is not None else None
    base_fov = 2.0 * math.degrees(math.atan(0.5 * max(intrinsics.width, intrinsics.height) / intrinsics.fx))
    fovs = None
    if any(k.fov is not None for k in kf):
        fovs = _interpolate(traj, np.array([[k.fov if k.fov is not None else base_fov] for k in kf]), t)[:, 0]
    cameras = []
    for i in range(num_frames):
        rotation = np.eye(3) if targets is None else look_at_rotation(positions[i], targets[i])
        k = intrinsics if fovs is None else intrinsics.with_fov(float(fovs[i]))
        cameras.append((Pose(rotation, positions[i].copy()), k))
    return cameras
