"""Trajectory files: TOML files of keyframes or segments, validated into one :class:`Trajectory`.

A trajectory file looks like this (every preset in ``trajectories/`` is one)::

    [trajectory]
    description = "Push the camera in towards the scene"
    units = "scene"           # "depth" (default): positions in the depth map's units
                              # "scene": multiples of the scene's reference depth
                              # "focus": multiples of the focus depth
    interpolation = "spline"  # "spline" (default, C2 cubic) or "linear"
    easing = "smooth"         # "linear" (default), "smooth", "smoother", "ease-in", "ease-out", "sine"
    loop = false              # true: played as a seamless loop by default
    aim = "none"              # "none" (default) or "focus": the camera turns to keep looking at the focus point
    keep_focus_size = false   # true: dolly zoom, the focal length follows the focus point's depth

    [[keyframe]]
    t = 0.0                   # 0 to 1 over the clip
    position = [0.0, 0.0, 0.0]
    # look_at = [0.0, 0.0, 1.0]   optional: aim the camera at this point
    # fov = 53.13                 optional: field of view in degrees on the longer side
    # zoom = 1.2                  optional: focal length times this (not with fov)

**Segments.** Instead of ``[[keyframe]]`` tables a file may list
``[[segment]]`` tables, played one after another; each is a preset or has its
own inline keyframes, and starts where the previous one ended (its motion is
added as an offset to the previous end position, its rotation and zoom are
composed with the previous end's), so the path is continuous::

    [trajectory]
    description = "Push in, then circle"
    units = "scene"           # units, interpolation, aim and keep_focus_size of inline segments
    easing = "linear"         # easing of the whole clip's time (each segment has its own too)

    [[segment]]
    preset = "dolly"
    intensity = 0.5           # optional: scales this segment's motion (>= 0)
    share = 1.0               # optional: relative length in the clip (> 0), default 1

    [[segment]]
    preset = "circle"
    reverse = true            # optional: play this segment backwards
    share = 2.0

    [[segment]]
    easing = "smooth"         # optional: this segment's easing; default the preset's own, or linear
    keyframe = [
        { t = 0.0, position = [0.0, 0.0, 0.0] },
        { t = 1.0, position = [0.05, 0.0, 0.0] },
    ]

Malformed files raise :class:`~photo3d.errors.Photo3DError` with one line naming
the file and the key, e.g. ``my.toml: keyframe 3: position must be a list of
three numbers [x, y, z], got [0, 1]`` (TOML syntax errors also give the line).

What the fields mean is described in :mod:`photo3d.camera.trajectory`.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import Photo3DError
from ..resources import resource_dir
from .trajectory import AIMS, EASINGS, INTERPOLATIONS, UNITS, Keyframe, Segment, Trajectory, is_number

__all__ = ["load_trajectory", "parse_trajectory", "preset_descriptions", "preset_names"]

_HEAD_KEYS = ("description", "units", "interpolation", "easing", "loop", "aim", "keep_focus_size")


_KEYFRAME_KEYS = ("t", "position", "look_at", "fov", "zoom")


_SEGMENT_KEYS = ("preset", "keyframe", "share", "intensity", "reverse", "easing", "interpolation")


class _Where:
    """Builds one-line errors that name the file; the message names the key path ("keyframe 3: position").

    ``tomllib`` gives no positions of keys (only of syntax errors), so there are no line numbers.
    """

    def __init__(self, where: str, prefix: tuple[str | int, ...] = ()) -> None:
        self.where, self.prefix = where, prefix

    def sub(self, *path: str | int) -> _Where:
        return _Where(self.where, self.prefix + path)

    def error(self, path: tuple[str | int, ...], message: str) -> Photo3DError:
        return Photo3DError(f"{self.where}: {message}")


def _vec3(value, where: _Where, path: tuple, label: str) -> np.ndarray:
    ok = isinstance(value, (list, tuple)) and len(value) == 3 and all(is_number(v) for v in value)
    if not ok:
        raise where.error(path, f"{label} must be a list of three numbers [x, y, z], got {value!r}")
    return np.asarray(value, dtype=np.float64)


def _choice(table: dict, key: str, default: str, allowed: tuple[str, ...], where: _Where, path, label: str) -> str:
    value = table.get(key, default)
    if value not in allowed:
        raise where.error(path + (key,), f"{label}{key} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _flag(table: dict, key: str, where: _Where, path, label: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise where.error(path + (key,), f"{label}{key} must be true or false, got {value!r}")
    return value


def _keyframes(rows, where: _Where, label: str) -> tuple[Keyframe, ...]:
    """Validates keyframe tables; ``where`` is prefixed with the path of the keyframe array."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise where.error((), f"{label}no keyframes; give at least one table with t and position")
    keyframes = []
    for i, row in enumerate(rows):
        at = f"{label}keyframe {i + 1}"
        unknown = set(row) - set(_KEYFRAME_KEYS)
        if unknown:
            key = sorted(unknown)[0]
            raise where.error((i, key), f"{at}: unknown key(s) {', '.join(sorted(unknown))}")
        if "t" not in row or "position" not in row:
            raise where.error((i,), f"{at}: needs both t and position")
        t = row["t"]
        if not is_number(t) or not 0.0 <= t <= 1.0:
            raise where.error((i, "t"), f"{at}: t must be a number from 0 to 1, got {t!r}")
        fov = row.get("fov")
        if fov is not None and (not is_number(fov) or not 0.0 < fov < 180.0):
            raise where.error((i, "fov"), f"{at}: fov must be in degrees between 0 and 180, got {fov!r}")
        zoom = row.get("zoom")
        if zoom is not None and (not is_number(zoom) or zoom <= 0.0):
            raise where.error((i, "zoom"), f"{at}: zoom must be a positive number (focal length factor), got {zoom!r}")
        look = _vec3(row["look_at"], where, (i, "look_at"), f"{at}: look_at") if "look_at" in row else None
        position = _vec3(row["position"], where, (i, "position"), f"{at}: position")
        keyframes.append(Keyframe(float(t), position, look, None if fov is None else float(fov), zoom))
    times = [k.t for k in keyframes]
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            raise where.error((i, "t"), f"{label}keyframe times must increase strictly, got {times}")
    has_look = [k.look_at is not None for k in keyframes]
    if len(set(has_look)) > 1:
        odd = has_look.index(not has_look[0])
        raise where.error((odd,), f"{label}give look_at on every keyframe or on none")
    if any(k.fov is not None for k in keyframes) and any(k.zoom is not None for k in keyframes):
        odd = next(i for i, k in enumerate(keyframes) if k.zoom is not None)
        raise where.error((odd, "zoom"), f"{label}give fov or zoom on the keyframes, not both")
    return tuple(keyframes)


def _segments(rows, name: str, where: _Where, base: Trajectory) -> tuple[Segment, ...]:
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise where.error(("segment",), "[[segment]] must be tables, each with a preset or keyframes")
    segments = []
    for j, row in enumerate(rows):
        at = f"segment {j + 1}: "
        path = ("segment", j)
        unknown = set(row) - set(_SEGMENT_KEYS)
        if unknown:
            key = sorted(unknown)[0]
            raise where.error(
                path + (key,),
                f"{at}unknown key(s) {', '.join(sorted(unknown))}; expected some of {', '.join(_SEGMENT_KEYS)}",
            )
        if ("preset" in row) == ("keyframe" in row):
            raise where.error(path, f"{at}give either preset or keyframe, exactly one of them")
        for key, low, strict in (("share", 0.0, True), ("intensity", 0.0, False)):
            value = row.get(key, 1.0)
            if not is_number(value) or value < low or (strict and value == low):
                raise where.error(
                    path + (key,), f"{at}{key} must be a number {'>' if strict else '>='} 0, got {value!r}"
                )
        reverse = _flag(row, "reverse", where, path, at)
        easing = row.get("easing")
        if easing is not None and easing not in EASINGS:
            raise where.error(path + ("easing",), f"{at}easing must be one of {', '.join(EASINGS)}; got {easing!r}")
        if "preset" in row:
            preset = row["preset"]
            if preset not in preset_names():
                raise where.error(
                    path + ("preset",), f"{at}preset must be one of {', '.join(preset_names())}; got {preset!r}"
                )
            traj = load_trajectory(preset)
            if "interpolation" in row:
                raise where.error(path + ("interpolation",), f"{at}interpolation applies to inline keyframes only")
        else:
            interpolation = _choice(row, "interpolation", base.interpolation, INTERPOLATIONS, where, path, at)
            keyframes = _keyframes(row["keyframe"], where.sub(*path, "keyframe"), at)
            traj = replace(
                base, name=f"{name} segment {j + 1}", interpolation=interpolation, easing="linear", loop=False
            )
            traj = replace(traj, keyframes=keyframes)
            _check_aim(traj, where, path + ("keyframe",), at)
        segments.append(Segment(traj, float(row.get("share", 1.0)), float(row.get("intensity", 1.0)), reverse, easing))
    return tuple(segments)


def _check_aim(traj: Trajectory, where: _Where, path, label: str) -> None:
    if traj.aim == "focus" and traj.keyframes and traj.keyframes[0].look_at is not None:
        raise where.error(path, f'{label}aim = "focus" and look_at exclude each other; give one of them')


def parse_trajectory(data: dict, name: str = "custom", where: str = "trajectory") -> Trajectory:
    """Validates a parsed TOML document into a :class:`Trajectory`.

    Args:
        data: The document as returned by ``tomllib``.
        name: Name to give the trajectory.
        where: How to name the source in error messages (a file path).

    Raises:
        Photo3DError: With one line ``"WHERE: ..."`` naming the key (``"keyframe 3: position ..."``), on unknown
            tables or keys, missing or malformed keyframes or segments, times outside [0, 1] or not
            increasing, a ``look_at`` on some keyframes only, ``fov`` mixed with ``zoom``, or an unknown preset.

    """
    w = _Where(where)
    unknown = set(data) - {"trajectory", "keyframe", "segment"}
    if unknown:
        key = sorted(unknown)[0]
        raise w.error(
            (key,),
            f"unknown table(s) {', '.join(sorted(unknown))}; expected [trajectory] and [[keyframe]] or [[segment]]",
        )
    head = data.get("trajectory", {})
    if not isinstance(head, dict):
        raise w.error(("trajectory",), "trajectory must be a table: [trajectory]")
    unknown = set(head) - set(_HEAD_KEYS)
    if unknown:
        key = sorted(unknown)[0]
        raise w.error(("trajectory", key), f"unknown key(s) in [trajectory]: {', '.join(sorted(unknown))}")
    hp = ("trajectory",)
    description = head.get("description", "")
    if not isinstance(description, str) or "\n" in description:
        raise w.error(hp + ("description",), "description must be one line of text")
    base = Trajectory(
        name=name,
        description=description,
        units=_choice(head, "units", "depth", UNITS, w, hp, ""),
        interpolation=_choice(head, "interpolation", "spline", INTERPOLATIONS, w, hp, ""),
        easing=_choice(head, "easing", "linear", EASINGS, w, hp, ""),
        loop=_flag(head, "loop", w, hp, ""),
        keyframes=(),
        aim=_choice(head, "aim", "none", AIMS, w, hp, ""),
        keep_focus_size=_flag(head, "keep_focus_size", w, hp, ""),
    )
    if "segment" in data:
        if "keyframe" in data:
            raise w.error(("segment",), "give either [[keyframe]] or [[segment]] tables, not both")
        return replace(base, segments=_segments(data["segment"], name, w, base))
    if "keyframe" not in data:
        raise w.error((), "no [[keyframe]] tables; give at least one with t and position (or [[segment]] tables)")
    traj = replace(base, keyframes=_keyframes(data["keyframe"], w.sub("keyframe"), ""))
    _check_aim(traj, w, ("keyframe", 0), "")
    return traj


def preset_names() -> list[str]:
    """Names of the presets in ``trajectories/`` (file stems), sorted."""
    return sorted(p.stem for p in resource_dir("trajectories").glob("*.toml"))


def preset_descriptions() -> list[tuple[str, str]]:
    """``(name, description)`` of every preset, sorted by name, for ``photo3d trajectories``.

    Raises:
        Photo3DError: If a preset file is invalid (a broken installation).

    """
    return [(name, load_trajectory(name).description) for name in preset_names()]


def load_trajectory(name_or_path: str | Path) -> Trajectory:
    """Loads a preset by name (``"dolly"``) or a TOML file by path.

    Raises:
        Photo3DError: If it is neither a preset nor a readable, valid TOML file; TOML syntax errors
            keep tomllib's line and column, validation errors name the key.

    """
    text = str(name_or_path)
    preset = resource_dir("trajectories") / f"{text}.toml"
    path = preset if ("/" not in text and "\\" not in text and preset.is_file()) else Path(text)
    if not path.is_file():
        raise Photo3DError(
            f"trajectory {text!r} is neither a preset ({', '.join(preset_names())}) nor an existing .toml file"
        )
    try:
        source = path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise Photo3DError(f"trajectory file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise Photo3DError(f"cannot read trajectory file {path}: {exc.strerror or exc}") from None
    return parse_trajectory(data, name=path.stem, where=str(path))
