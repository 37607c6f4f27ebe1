"""What the commands share: the depth options, parsers of option values, setting names to options, state."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from ..errors import Photo3DError
from ..settings import DepthSettings

__all__ = ["make_depth_settings", "option_name", "parse_presets", "parse_size", "playback_of", "state"]

log = logging.getLogger("photo3d")
state = {"debug": False, "quiet": False}
"""The global options of the command (``--debug``, ``--quiet``)."""


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``WIDTHxHEIGHT`` as ``(width, height)``, even and at least 2 each (yuv420p video); None stays None.

    Raises:
        Photo3DError: If the text is not two integers joined by ``x``, or they are odd or below 2.

    """
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise Photo3DError(f"--size must look like WIDTHxHEIGHT (e.g. 1080x1920), got {text!r}") from None
    if w < 2 or h < 2 or w % 2 or h % 2:
        raise Photo3DError(f"--size needs even width and height of at least 2 (yuv420p video), got {w}x{h}")
    return w, h


# Depth options shared by ``render`` and ``depth``.
DepthPathOpt = Annotated[
    Path | None,
    typer.Option(
        "--depth",
        help=DepthSettings.help("path"),
        show_default=False,
    ),
]


DepthKindOpt = Annotated[
    str,
    typer.Option(
        help="What --depth holds: auto (disparity for 8/16-bit images, depth for .npy/.pfm/.exr/float TIFF), "
        "disparity (larger = nearer), depth (planar) or distance (along each ray, e.g. Blender's Z pass)."
    ),
]


InvertOpt = Annotated[
    bool, typer.Option("--invert", help="Reverse --depth's values (for maps stored the other way round).")
]


DepthScaleOpt = Annotated[
    float | None,
    typer.Option(help="Multiply --depth's values, e.g. 0.0002 for TUM (value/5000 = metres), 0.001 for millimetres."),
]


DepthClipOpt = Annotated[
    str | None,
    typer.Option(help="NEAR,FAR: clamp planar depth to this range (in the depth's units) and renormalise."),
]


DepthModelOpt = Annotated[
    str | None,
    typer.Option(help=DepthSettings.help("model"), show_default=False),
]


DepthResolutionOpt = Annotated[
    int | None,
    typer.Option(help=DepthSettings.help("resolution")),
]


DepthRangeOpt = Annotated[
    str,
    typer.Option(
        help="NEAR,FAR: depth given to the nearest and farthest pixel of a relative (inverse-depth) estimate."
    ),
]


DeviceOpt = Annotated[str | None, typer.Option(help=DepthSettings.help("device"))]


CacheOpt = Annotated[bool, typer.Option("--depth-cache/--no-depth-cache", help=DepthSettings.help("cache"))]


FovOpt = Annotated[float | None, typer.Option(help="Field of view in degrees across the longer side. [default: 53.13]")]


FocalOpt = Annotated[float | None, typer.Option(help="Focal length in pixels (overrides --fov).")]


def make_depth_settings(
    depth: Path | None,
    depth_kind: str,
    invert: bool,
    depth_scale: float | None,
    depth_clip: str | None,
    depth_model: str | None,
    depth_resolution: int | None,
    depth_range: str,
    device: str | None,
    depth_cache: bool,
) -> DepthSettings:
    """The depth settings of the depth options, checked together (a file's options need the file).

    Raises:
        Photo3DError: If file options come without ``--depth``, ``--depth`` comes with ``--depth-model``,
            or a value is refused (SettingsError, reported under its option).

    """
    from ..depth.conversions import DepthOptions, parse_depth_clip, resolve_depth_kind

    if depth is None and (invert or depth_scale is not None or depth_kind != "auto"):
        raise Photo3DError("--depth-kind, --invert and --depth-scale describe a --depth file; pass --depth PATH too")
    if depth is not None and depth_model is not None:
        raise Photo3DError("give either --depth (a depth map you have) or --depth-model (estimate it), not both")
    if depth is not None:
        resolve_depth_kind(depth, depth_kind)  # checks the name early
    near, far = parse_pair(depth_range, "--depth-range")
    return DepthSettings(
        path=depth,
        options=DepthOptions(
            kind=depth_kind,
            invert=invert,
            scale=depth_scale,
            clip=parse_depth_clip(depth_clip) if depth_clip is not None else None,
        ),
        model=depth_model,
        resolution=depth_resolution,
        device=device,
        near=near,
        far=far,
        cache=depth_cache,
    )


def parse_pair(text: str, option: str) -> tuple[float, float]:
    """``NEAR,FAR`` as two floats with ``0 < NEAR < FAR < inf``; Photo3DError naming ``option`` otherwise."""
    try:
        near, far = (float(v) for v in text.split(","))
    except ValueError:
        raise Photo3DError(f"{option} must look like NEAR,FAR (e.g. 1,60), got {text!r}") from None
    if not 0 < near < far < float("inf"):
        raise Photo3DError(f"{option} needs 0 < NEAR < FAR, got {text!r}")
    return near, far


def parse_presets(values: list[str] | None) -> tuple[tuple[int, int, float] | None, str | None]:
    """Splits ``--preset`` values into an output format (tiktok, 4k, ...) and an encoder speed preset.

    Returns:
        ``((width, height, fps) or None, speed preset name or None)``.

    Raises:
        Photo3DError: For an unknown name, or two formats or two speeds.

    """
    from ..camera.framing import FORMAT_PRESETS
    from ..io.video import ENCODER_PRESETS

    fmt = speed = None
    for value in values or []:
        name = value.lower()
        if name in FORMAT_PRESETS:
            if fmt is not None:
                raise Photo3DError(f"--preset gives two output formats; choose one of {', '.join(FORMAT_PRESETS)}")
            fmt = FORMAT_PRESETS[name]
        elif name in ENCODER_PRESETS:
            if speed is not None:
                raise Photo3DError("--preset gives two encoder speeds; choose one")
            speed = name
        else:
            raise Photo3DError(
                f"--preset {value!r} is neither an output format ({', '.join(FORMAT_PRESETS)}) "
                f"nor an encoder speed ({', '.join(ENCODER_PRESETS)})"
            )
    return fmt, speed


def playback_of(loop: bool, once: bool, pingpong: bool) -> str | None:
    """The playback ``--loop``, ``--once`` or ``--pingpong`` asks for, or None.

    Raises:
        Photo3DError: If more than one is given.

    """
    chosen = [name for name, on in (("loop", loop), ("once", once), ("pingpong", pingpong)) if on]
    if len(chosen) > 1:
        raise Photo3DError(f"give at most one of --loop, --once and --pingpong, got {', '.join(chosen)}")
    return chosen[0] if chosen else None


_OPTIONS = {
    "size": "--size",
    "playback": "--loop/--once/--pingpong",
    "encoder_preset": "--preset",
    "ldi.max_layers": "--layers",
    "path": "--depth",
    "model": "--depth-model",
    "resolution": "--depth-resolution",
    "near": "--depth-range",
    "far": "--depth-range",
    "cache": "--depth-cache",
    "kind": "--depth-kind",
    "scale": "--depth-scale",
    "clip": "--depth-clip",
}


def option_name(setting: str) -> str:
    """The command-line option of a setting of :class:`RenderSettings` or :class:`DepthSettings`."""
    last = setting.rsplit(".", 1)[-1]
    return _OPTIONS.get(setting) or _OPTIONS.get(last) or "--" + last.replace("_", "-")
