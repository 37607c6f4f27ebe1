"""Camera trajectories: the typed structure of a trajectory file, and the cameras it gives frame by frame.

Trajectories are read from TOML files by :mod:`photo3d.camera.trajectory_files`.

Positions and ``look_at`` are in the source photo's camera frame (OpenCV axes: x
right, y down, z forward; see docs/conventions.md). Without ``look_at`` or
``aim`` the camera keeps the source orientation; without ``fov`` or ``zoom`` it
keeps the output intrinsics. With ``units = "scene"`` coordinates are
multiplied by the scene's reference depth (:func:`scene_scale`), so that every
photo moves about the same amount whatever its depth units; with ``units =
"focus"`` by the focus depth.

**Focus.** The focus point ``P`` is the point at planar depth ``focus`` on the
ray through the output frame's centre under the base intrinsics ``K``:
``P = focus * ((W/2 - cx)/fx, (H/2 - cy)/fy, 1)``. When :class:`Motion` gives a
``focus``, every frame's principal point is shifted (an off-axis projection, a
lens shift) so that ``P`` projects to the frame centre in every frame, as it
does in the unmoved camera; under a translation parallel to the image plane the
whole plane ``Z = focus`` then stays still, nearer points move one way and
farther points the other. Without a ``focus``, ``aim``, ``keep_focus_size`` and
``units = "focus"`` use the scene's reference depth as the focus depth, and no
lens shift is applied. With ``aim = "focus"`` keyframe positions are given in the
unmoved camera's frame turned to face ``P`` (the source frame itself when ``P``
is on the optical axis), where ``units = "focus"`` puts ``P`` at ``(0, 0, 1)``;
they are interpolated in spherical coordinates about ``P`` (log distance, yaw,
pitch), so keyframes at one distance from ``P`` keep that distance in between
(an arc, not a chord); and the camera's rotation is ``look_at(position, P) @
look_at(0, P)^T`` (the source orientation when unmoved). With ``keep_focus_size`` the focal length is scaled
by ``(depth of P in the moved camera) / focus``, so the focus plane keeps its
size on screen.

**Playback** (:class:`Motion`): ``"once"`` samples the path at ``i / (N - 1)``;
``"loop"`` at ``i / N`` so the frame after the last is the first again (a path
that does not end where it starts goes there and back, with a sine ease);
``"pingpong"`` goes forward then backward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import Photo3DError, SettingsError
from .intrinsics import Intrinsics, Pose, look_at_rotation

__all__ = [
    "EASINGS",
    "PLAYBACKS",
    "Keyframe",
    "Motion",
    "Segment",
    "Trajectory",
    "cameras_at",
    "ease",
    "is_number",
    "sample_times",
    "scene_scale",
    "trajectory_cameras",
]

PLAYBACKS: tuple[str, ...] = ("once", "loop", "pingpong")
"""How the clip plays the path: once, as a seamless loop, or forward then backward."""

EASINGS: tuple[str, ...] = ("linear", "smooth", "smoother", "ease-in", "ease-out", "sine")
"""Time remaps ``[0, 1] -> [0, 1]``, see :func:`ease`."""

UNITS: tuple[str, ...] = ("depth", "scene", "focus")
INTERPOLATIONS: tuple[str, ...] = ("spline", "linear")
AIMS: tuple[str, ...] = ("none", "focus")


# --- data ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyframe:
    """One keyframe.

    Attributes:
        t: Time in [0, 1] over the clip (or the segment).
        position: (3,) float64 camera centre in the source camera frame, in the trajectory's units.
        look_at: (3,) float64 point the camera aims at, or None to keep the source orientation.
        fov: Field of view in degrees on the longer side, in (0, 180), or None to keep the output intrinsics.
        zoom: Focal length multiplier (> 0; 2 halves the field of view), or None for 1.

    """

    t: float
    position: np.ndarray
    look_at: np.ndarray | None = None
    fov: float | None = None
    zoom: float | None = None


@dataclass(frozen=True)
class Segment:
    """One part of a segmented trajectory, played after the previous one.

    Attributes:
        trajectory: The segment's path: a preset, or inline keyframes.
        share: Relative length in the clip, > 0.
        intensity: Multiplies this segment's motion (see :class:`Motion`), >= 0.
        reverse: Play this segment backwards.
        easing: One of :data:`EASINGS`, or None for the segment trajectory's own easing.

    """

    trajectory: Trajectory
    share: float = 1.0
    intensity: float = 1.0
    reverse: bool = False
    easing: str | None = None


@dataclass(frozen=True)
class Trajectory:
    """A validated camera path.

    Attributes:
        name: Preset name or file stem.
        description: One line for ``--help`` and listings.
        units: ``"depth"`` (absolute, depth-map units), ``"scene"`` (times the scene's reference depth)
            or ``"focus"`` (times the focus depth).
        interpolation: ``"spline"`` or ``"linear"``.
        easing: One of :data:`EASINGS` (ignored when a closed path plays as a loop).
        loop: Whether the clip plays as a seamless loop by default (frame times ``i / N``, not ``i / (N - 1)``).
        keyframes: Keyframes sorted by ``t``; at least one unless ``segments`` is given (then empty).
        aim: ``"none"`` or ``"focus"`` (turn to keep looking at the focus point).
        keep_focus_size: Dolly zoom: scale the focal length by the focus point's depth over the focus depth.
        segments: Parts played one after another, chained; empty for a keyframe trajectory.

    """

    name: str
    description: str
    units: str
    interpolation: str
    easing: str
    loop: bool
    keyframes: tuple[Keyframe, ...]
    aim: str = "none"
    keep_focus_size: bool = False
    segments: tuple[Segment, ...] = field(default=())


def is_number(value) -> bool:
    """Whether ``value`` is a finite int or float (not a bool), as trajectory files and :class:`Motion` need."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


@dataclass(frozen=True)
class Motion:
    """How to play a trajectory; every field defaults to the trajectory's own behaviour.

    Attributes:
        intensity: Multiplies translations, rotation angles and the log of any zoom or field-of-view
            change; 0 gives a still camera, 2 twice the motion. Must be a finite number >= 0.
        focus: Planar depth (depth-map units, > 0) that stays put: every frame's principal point is
            shifted so the focus point stays at the frame centre. None: no lens shift.
        playback: One of :data:`PLAYBACKS`, or None for the trajectory's own (``"loop"`` if it loops,
            else ``"once"``).
        reverse: Play the clip backwards (frame ``i`` shows what frame ``N - 1 - i`` shows forwards;
            loops keep frame 0 first).
        easing: One of :data:`EASINGS`, or None for the trajectory's own.

    Raises:
        Photo3DError: On construction, for a value out of range, with a one-line message naming the option.

    """

    intensity: float = 1.0
    focus: float | None = None
    playback: str | None = None
    reverse: bool = False
    easing: str | None = None

    def __post_init__(self) -> None:
        if not is_number(self.intensity) or self.intensity < 0:
            raise SettingsError(
                "intensity", f"must be a number >= 0 (1 = the trajectory as written, 0 = still), got {self.intensity!r}"
            )
        if self.focus is not None and (not is_number(self.focus) or self.focus <= 0):
            raise SettingsError("focus", f"must be a positive depth in the depth map's units, got {self.focus!r}")
        if self.playback is not None and self.playback not in PLAYBACKS:
            raise SettingsError("playback", f"must be one of {', '.join(PLAYBACKS)}, got {self.playback!r}")
        if not isinstance(self.reverse, bool):
            raise SettingsError("reverse", f"must be true or false, got {self.reverse!r}")
        if self.easing is not None and self.easing not in EASINGS:
            raise SettingsError("easing", f"must be one of {', '.join(EASINGS)}, got {self.easing!r}")


def ease(name: str, t: np.ndarray) -> np.ndarray:
    """Remaps times in [0, 1]; every easing maps 0 to 0 and 1 to 1 and is increasing.

    ``linear``: t; ``smooth``: smoothstep ``3t^2 - 2t^3``; ``smoother``: ``6t^5 - 15t^4 + 10t^3``;
    ``ease-in``: ``t^2``; ``ease-out``: ``1 - (1 - t)^2``; ``sine``: ``(1 - cos(pi t)) / 2``.

    Args:
        name: One of :data:`EASINGS`.
        t: Times in [0, 1], any shape, float64.

    Returns:
        Remapped times, same shape, float64.

    Raises:
        Photo3DError: For an unknown easing.

    """
    t = np.asarray(t, dtype=np.float64)
    if name == "linear":
        return t.copy()
    if name == "smooth":
        return t * t * (3.0 - 2.0 * t)
    if name == "smoother":
        return t * t * t * (t * (6.0 * t - 15.0) + 10.0)
    if name == "ease-in":
        return t * t
    if name == "ease-out":
        return 1.0 - (1.0 - t) ** 2
    if name == "sine":
        return 0.5 - 0.5 * np.cos(np.pi * t)
    raise Photo3DError(f"easing must be one of {', '.join(EASINGS)}, got {name!r}")


# --- locating keys in TOML text ----------------------------------------------------------------------------------


# --- parsing -----------------------------------------------------------------------------------------------------


# --- sampling ----------------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Context:
    scale: float  # the scene's reference depth
    focus: float  # focus depth (Motion.focus, else scale)
    point: np.ndarray  # (3,) the focus point P
    intrinsics: Intrinsics  # base output intrinsics


def _interpolate(times: np.ndarray, values: np.ndarray, t: np.ndarray, interpolation: str, loop: bool) -> np.ndarray:
    """Interpolates per-keyframe values (K, D) at times t (N,) -> (N, D); holds the ends outside the keys."""
    if len(times) == 1:
        return np.repeat(values[:1], len(t), axis=0)
    tt = np.clip(t, times[0], times[-1])
    if interpolation == "linear" or len(times) == 2:
        return np.stack([np.interp(tt, times, values[:, d]) for d in range(values.shape[1])], axis=1)
    from scipy.interpolate import CubicSpline

    periodic = loop and np.allclose(values[0], values[-1]) and times[0] == 0.0 and times[-1] == 1.0
    if periodic:
        values = values.copy()
        values[-1] = values[0]
    return CubicSpline(times, values, axis=0, bc_type="periodic" if periodic else "not-a-knot")(tt)


def _to_sphere(v: np.ndarray) -> np.ndarray:
    """Offsets (N, 3) from the focus point -> (log distance, yaw, pitch) (N, 3); yaw 0 is in front of it."""
    r = np.linalg.norm(v, axis=1)
    yaw = np.arctan2(v[:, 0], -v[:, 2])
    pitch = np.arctan2(v[:, 1], np.hypot(v[:, 0], v[:, 2]))
    return np.stack([np.log(r), yaw, pitch], axis=1)


def _from_sphere(s: np.ndarray) -> np.ndarray:
    r, yaw, pitch = np.exp(s[:, 0]), s[:, 1], s[:, 2]
    return np.stack([r * np.cos(pitch) * np.sin(yaw), r * np.sin(pitch), -r * np.cos(pitch) * np.cos(yaw)], axis=1)


def _scale_rotations(rotations: np.ndarray, k: float) -> np.ndarray:
    """Multiplies each rotation's angle by k (about the same axis)."""
    if k == 1.0:
        return rotations
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(Rotation.from_matrix(rotations).as_rotvec() * k).as_matrix()


def _focus_depths(positions: np.ndarray, rotations: np.ndarray, ctx: _Context) -> np.ndarray:
    """Planar depth (N,) of the focus point in each camera; raises if it is behind one."""
    depths = np.einsum("nj,nj->n", rotations[:, :, 2], ctx.point[None, :] - positions)
    bad = np.flatnonzero(depths <= 1e-6 * ctx.focus)
    if len(bad):
        raise Photo3DError(
            f"the focus point (depth {ctx.focus:g}) is behind or at the camera in frame {bad[0] + 1}; "
            "lower --intensity or give a farther --focus"
        )
    return depths


def _keyframe_path(traj: Trajectory, s: np.ndarray, ctx: _Context, intensity: float):
    """Positions (N, 3), rotations (N, 3, 3) and focal factors (N,) of a keyframe trajectory at times s."""
    unit = {"depth": 1.0, "scene": ctx.scale, "focus": ctx.focus}[traj.units]
    kf = traj.keyframes
    times = np.array([k.t for k in kf])

    def interp(values: np.ndarray) -> np.ndarray:
        return _interpolate(times, values, s, traj.interpolation, traj.loop)

    keys = np.stack([k.position for k in kf])
    n = len(s)
    if traj.aim == "focus":
        p = ctx.point
        start = look_at_rotation(np.zeros(3), p)
        if traj.units == "focus":
            unit = float(np.linalg.norm(p))
        keys = (keys * unit) @ start.T  # from the frame facing the focus point to the source frame
        origin = _to_sphere(-p[None, :])[0]
        sphere = _to_sphere(keys - p)
        sphere[:, 1] = np.unwrap(np.concatenate([[origin[1]], sphere[:, 1]]))[1:]
        sphere = origin + intensity * (interp(sphere) - origin)
        positions = p + _from_sphere(sphere)
        rotations = np.stack([look_at_rotation(c, p) @ start.T for c in positions])
    else:
        keys = keys * unit
        moved = interp(keys)
        positions = moved * intensity
        if kf[0].look_at is not None:
            looks = [k.look_at for k in kf if k.look_at is not None]
            assert len(looks) == len(kf)  # look_at is on every keyframe or on none (see trajectory_files)
            targets = interp(np.stack(looks) * unit)
            rotations = np.stack([look_at_rotation(moved[i], targets[i]) for i in range(n)])
            rotations = _scale_rotations(rotations, intensity)
        else:
            rotations = np.repeat(np.eye(3)[None], n, axis=0)
    base = ctx.intrinsics
    if any(k.fov is not None for k in kf):
        base_fov = 2.0 * math.degrees(math.atan(0.5 * max(base.width, base.height) / base.fx))
        fovs = interp(np.array([[k.fov if k.fov is not None else base_fov] for k in kf]))[:, 0]
        factors = 0.5 * max(base.width, base.height) / np.tan(np.radians(fovs) / 2.0) / base.fx
    elif any(k.zoom is not None for k in kf):
        factors = np.exp(interp(np.array([[math.log(k.zoom if k.zoom is not None else 1.0)] for k in kf]))[:, 0])
    else:
        factors = np.ones(n)
    factors = factors**intensity
    if traj.keep_focus_size:
        factors = factors * _focus_depths(positions, rotations, ctx) / ctx.focus
    return positions, rotations, factors


def _path(traj: Trajectory, s: np.ndarray, ctx: _Context, intensity: float):
    """Positions (N, 3), rotations (N, 3, 3) and focal factors (N,) at path times s in [0, 1]."""
    if not traj.segments:
        return _keyframe_path(traj, s, ctx, intensity)
    shares = np.array([seg.share for seg in traj.segments])
    bounds = np.concatenate([[0.0], np.cumsum(shares) / shares.sum()])
    bounds[-1] = 1.0
    positions, rotations, factors = np.zeros((len(s), 3)), np.zeros((len(s), 3, 3)), np.ones(len(s))
    end_p, end_r, end_f = np.zeros(3), np.eye(3), 1.0
    last = len(traj.segments) - 1
    for j, seg in enumerate(traj.segments):
        lo, hi = bounds[j], bounds[j + 1]
        mask = (s >= lo) & ((s < hi) if j < last else True)
        x = np.concatenate([[0.0, 1.0], np.clip((s[mask] - lo) / (hi - lo), 0.0, 1.0)])
        if seg.reverse:
            x = 1.0 - x
        x = ease(seg.easing or seg.trajectory.easing, x)
        p, r, f = _path(seg.trajectory, x, ctx, intensity * seg.intensity)
        p = end_p + (p - p[0])
        r = end_r @ r[0].T @ r
        f = end_f * f / f[0]
        positions[mask], rotations[mask], factors[mask] = p[2:], r[2:], f[2:]
        end_p, end_r, end_f = p[1], r[1], f[1]
    return positions, rotations, factors


def _is_closed(traj: Trajectory, ctx: _Context, intensity: float) -> bool:
    """Whether the path ends where it starts (position, rotation, focal factor)."""
    p, r, f = _path(traj, np.array([0.0, 1.0]), ctx, intensity)
    tol = 1e-9 * max(1.0, ctx.scale, ctx.focus)
    return bool(
        np.allclose(p[0], p[1], rtol=0.0, atol=tol)
        and np.allclose(r[0], r[1], rtol=0.0, atol=1e-9)
        and abs(f[0] - f[1]) <= 1e-9 * f[0]
    )


def _path_times(traj: Trajectory, clock: np.ndarray, playback: str, easing: str | None, ctx, intensity) -> np.ndarray:
    """Maps the playback clock (N,) in [0, 1] to path times in [0, 1]."""
    if playback == "once":
        return ease(easing or traj.easing, clock)
    there_and_back = 1.0 - np.abs(2.0 * clock - 1.0)
    if playback == "pingpong":
        return ease(easing or traj.easing, there_and_back)
    if _is_closed(traj, ctx, intensity):
        return ease(easing or "linear", clock)
    return ease(easing or "sine", there_and_back)


def _context(intrinsics: Intrinsics, scale: float, motion: Motion) -> _Context:
    if not (is_number(scale) and scale > 0):
        raise Photo3DError(f"the scene's reference depth must be positive, got {scale!r}")
    k = intrinsics
    focus = float(motion.focus) if motion.focus is not None else float(scale)
    point = focus * np.array([(k.width / 2.0 - k.cx) / k.fx, (k.height / 2.0 - k.cy) / k.fy, 1.0])
    return _Context(float(scale), focus, point, k)


def cameras_at(
    traj: Trajectory,
    clock: np.ndarray,
    intrinsics: Intrinsics,
    scale: float = 1.0,
    motion: Motion = Motion(),
) -> list[tuple[Pose, Intrinsics]]:
    """The camera at arbitrary points of the playback clock.

    :func:`trajectory_cameras` samples the clock at ``i / (N - 1)`` (``"once"``) or ``i / N``
    (``"loop"``, ``"pingpong"``); for loops, clock 1 is the first frame of the next cycle.

    Args:
        traj: The trajectory.
        clock: (N,) float times in [0, 1] over one playback of the clip (``motion.reverse`` plays it as ``1 - clock``).
        intrinsics: Base output intrinsics (used where a keyframe gives no ``fov`` or ``zoom``).
        scale: The scene's reference depth (see :func:`scene_scale`), > 0, depth units: multiplies
            ``units = "scene"`` positions and is the focus depth when ``motion.focus`` is None.
        motion: Intensity, focus, playback, direction and easing.

    Returns:
        N ``(pose, intrinsics)`` pairs, poses in the source camera frame; intrinsics differ from
        ``intrinsics`` only by the focal length (zoom, fov, dolly zoom, about the principal point)
        and, with ``motion.focus``, by the principal point.

    Raises:
        Photo3DError: For clock values outside [0, 1], a non-positive scale, or a focus point that ends
            up behind the camera.

    """
    u = np.asarray(clock, dtype=np.float64).reshape(-1)
    if not np.all((u >= 0.0) & (u <= 1.0)):
        raise Photo3DError("the playback clock must lie in [0, 1]")
    if motion.reverse:
        u = 1.0 - u
    ctx = _context(intrinsics, scale, motion)
    playback = motion.playback or ("loop" if traj.loop else "once")
    s = _path_times(traj, u, playback, motion.easing, ctx, motion.intensity)
    positions, rotations, factors = _path(traj, s, ctx, motion.intensity)
    k0 = intrinsics
    cameras = []
    depths = _focus_depths(positions, rotations, ctx) if motion.focus is not None else None
    for i in range(len(u)):
        k = k0.zoomed(float(factors[i]))
        if depths is not None:
            q = rotations[i].T @ (ctx.point - positions[i])
            k = replace(k, cx=k0.width / 2.0 - k.fx * q[0] / depths[i], cy=k0.height / 2.0 - k.fy * q[1] / depths[i])
        cameras.append((Pose(rotations[i].copy(), positions[i].copy()), k))
    return cameras


def _frame_clock(num_frames: int, playback: str, reverse: bool) -> np.ndarray:
    if not reverse or num_frames <= 1:
        return sample_times(num_frames, playback != "once")
    i = np.arange(num_frames)
    if playback == "once":
        return (num_frames - 1 - i) / (num_frames - 1)
    return ((num_frames - i) % num_frames) / num_frames


def trajectory_cameras(
    traj: Trajectory,
    num_frames: int,
    intrinsics: Intrinsics,
    scale: float = 1.0,
    motion: Motion = Motion(),
) -> list[tuple[Pose, Intrinsics]]:
    """The camera of every frame.

    Args:
        traj: The trajectory.
        num_frames: Number of frames N >= 1.
        intrinsics: Output intrinsics used where a keyframe gives no ``fov`` or ``zoom``.
        scale: Reference depth for ``units = "scene"`` (see :func:`scene_scale`), > 0, depth units;
            also the focus depth when ``motion.focus`` is None.
        motion: Intensity, focus (lens shift), playback, direction and easing; the default plays
            the trajectory as written.

    Returns:
        N ``(pose, intrinsics)`` pairs, poses in the source camera frame. Frame ``i`` is at playback
        clock ``i / (N - 1)`` for ``"once"`` and ``i / N`` for ``"loop"`` and ``"pingpong"`` (see
        :func:`cameras_at`).

    Raises:
        Photo3DError: For N < 1 and the errors of :func:`cameras_at`.

    """
    playback = motion.playback or ("loop" if traj.loop else "once")
    clock = _frame_clock(num_frames, playback, motion.reverse)
    return cameras_at(traj, clock, intrinsics, scale, replace(motion, reverse=False))
