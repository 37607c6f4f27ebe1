"""Settings that validate themselves.

What to render (:class:`RenderSettings`) and where depth comes from (:class:`DepthSettings`).
Every setting is checked when the settings are made, whoever makes them (the CLI, a Python caller, a
batch manifest row): a bad value raises :class:`SettingsError`, one line that names the setting and
what it allows, e.g. ``ssaa must be from 1 to 4, got 9``. The ``photo3d`` command reports the same
problem under its option's name (``--ssaa must be from 1 to 4, got 9``). Each setting's description
is its documentation and the CLI's help for it.

Settings are immutable; :meth:`Settings.replace` gives a checked copy. They round-trip through JSON
and TOML (:meth:`Settings.to_json`, :meth:`Settings.from_json`, :meth:`Settings.to_toml`,
:meth:`Settings.from_toml`), except for Python objects given in place of names (a
:class:`~photo3d.camera.trajectory.Trajectory` or an :class:`~photo3d.ldi.inpaint.Inpainter`).

The checks use pydantic (v2) models.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .camera.framing import FRAMINGS
from .camera.stereo import STEREO_MODES
from .camera.trajectory import EASINGS, PLAYBACKS, Motion, Trajectory
from .depth.conversions import DepthOptions
from .depth.estimate import DEFAULT_FAR, DEFAULT_NEAR
from .errors import SettingsError
from .ldi.inpaint import INPAINTERS, Inpainter
from .ldi.structure import LDIParams
from .render.renderer import MSAA_CHOICES, SSAA_RANGE

__all__ = ["FPS_RANGE", "DepthSettings", "RenderSettings", "Settings"]

FPS_RANGE = (0.01, 1000.0)
"""Frame rates a clip may have: from one frame per 100 s to 1000 frames per second."""


def _one_of(values) -> str:
    return ", ".join(str(v) for v in values)


def _problem(error: Mapping[str, Any], nested: bool) -> str:
    """One pydantic error as ``"must be ..., got VALUE"`` (``nested``: it is about a part of the value)."""
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message.replace("Input should be", "must be").replace("Input is", "is").split(", got ")[0]
    if error["type"] == "missing":
        return f"lacks a value, got {error['input']!r}" if nested else "is required"
    return f"{message}, got {error['input']!r}"


def _setting_name(model: type[BaseModel], loc: tuple) -> str:
    """The dotted setting name in a pydantic error location: fields only, not union members or indices."""
    names: list[str] = []
    fields: Mapping[str, Any] | None = model.model_fields
    for part in loc:
        if not fields or part not in fields:
            break
        names.append(str(part))
        annotation = getattr(fields[part], "annotation", None)
        nested = getattr(annotation, "__dataclass_fields__", None) or getattr(annotation, "model_fields", None)
        fields = nested if isinstance(nested, Mapping) else None
    return ".".join(names) or "settings"


class Settings(BaseModel):
    """Immutable settings, checked when made (see the module notes)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, ser_json_inf_nan="constants", validate_default=False
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:
            error = e.errors()[0]
            if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):  # a name that is no setting
                raise SettingsError(".".join(map(str, error["loc"])), "is not a setting") from None
            name = _setting_name(type(self), tuple(error["loc"]))
            raise SettingsError(name, _problem(error, nested=len(error["loc"]) > name.count(".") + 1)) from None

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, checked like a new one.

        Raises:
            SettingsError: If a changed value is not allowed.

        """
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(**{**values, **changes})

    @classmethod
    def help(cls, name: str) -> str:
        """The documentation of setting ``name`` (the CLI's help for its option).

        Raises:
            KeyError: If there is no such setting.

        """
        description = cls.model_fields[name].description
        if description is None:
            raise KeyError(name)
        return description

    def to_json(self) -> str:
        """The settings as a JSON object (infinity as ``Infinity``).

        Raises:
            SettingsError: If a setting holds a Python object instead of a name.

        """
        try:
            return self.model_dump_json()
        except Exception as e:  # pydantic's PydanticSerializationError
            raise SettingsError("settings", f"cannot be written as JSON ({str(e).splitlines()[0]})") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Settings from :meth:`to_json`'s output (missing settings take their defaults).

        Raises:
            SettingsError: If the text is not a JSON object of valid settings.

        """
        import json

        try:
            values = json.loads(text)
        except ValueError as e:
            raise SettingsError("settings", f"are not valid JSON ({e})") from None
        if not isinstance(values, dict):
            raise SettingsError("settings", f"must be a JSON object, got {type(values).__name__}")
        return cls(**values)

    def to_toml(self) -> str:
        """The settings as a TOML document (unset optional settings are left out).

        Raises:
            SettingsError: If a setting holds a Python object instead of a name.

        """
        import tomli_w

        try:
            values = self.model_dump(mode="python", exclude_none=True)
        except Exception as e:
            raise SettingsError("settings", f"cannot be written as TOML ({str(e).splitlines()[0]})") from None
        return tomli_w.dumps(_plain(values))

    @classmethod
    def from_toml(cls, text: str) -> Self:
        """Settings from a TOML document such as :meth:`to_toml` writes.

        Raises:
            SettingsError: If the text is not TOML or holds invalid settings.

        """
        try:
            values = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SettingsError("settings", f"are not valid TOML ({e})") from None
        return cls(**values)


def _plain(value: Any) -> Any:
    """A dumped settings value with TOML's types: tuples become lists, paths strings, objects refused."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise SettingsError("settings", f"cannot be written as TOML: {type(value).__name__} is not a name or a number")


def _check_device(value: str | None) -> str | None:
    """A torch device name as written: cpu, cuda, cuda:N or mps (whether it exists is checked when used)."""
    if value is None or value in ("cpu", "mps", "cuda"):
        return value
    if value.startswith("cuda:") and value[5:].isdigit():
        return value
    raise ValueError("must be cpu, cuda, cuda:N or mps")


class RenderSettings(Settings):
    """How to render a 3D photo: the camera move, timing, frame, quality, stereo, LDI and encoding.

    Each field's description says what it does; :meth:`Settings.help` reads it.
    """

    trajectory: str | Trajectory = Field(
        "dolly",
        description="Camera move: dolly, dolly-zoom, zoom-in, swing, circle, horizontal, vertical, orbit "
        "(see 'photo3d trajectories'), or a TOML file.",
    )
    fps: float = Field(30.0, description="Frames per second.")
    duration: float = Field(4.0, description="Length in seconds.")
    frames: int | None = Field(None, description="Exact number of frames (overrides the duration).")
    size: tuple[int, int] | None = Field(
        None, description="Output (width, height) in pixels. [default: the photo's size, made even]"
    )
    ssaa: float = Field(2.0, description="Supersampling anti-aliasing, 1 (off) to 4; fractions such as 1.5 allowed.")
    msaa: int = Field(0, description="Multisample anti-aliasing samples: 0 (off), 2, 4 or 8.")
    framing: str = Field(
        "cover",
        description="cover: fill the frame, cropped around the subject, zoomed just enough to hide the photo's "
        "edge; contain: the whole photo with black bars; none: the source camera as is.",
    )
    crf: int | None = Field(
        None, description="Video quality, lower is better. [default: 18 for H.264, the encoder's own else]"
    )
    codec: str | None = Field(None, description="h264 or h265 for .mp4, vp9 for .webm. [default: h264 / vp9]")
    encoder_preset: str | None = Field(None, description="x264/x265 speed preset: ultrafast ... veryslow.")
    intensity: float = Field(
        1.0, description="Amount of camera motion: 1 = the preset's, 0.5 = half, 0 = still camera."
    )
    focus: float | None = Field(
        None,
        description="Depth that stays put on screen, in the depth map's units; inf: none (the camera keeps its "
        "axis). [default: the subject's depth]",
    )
    playback: str | None = Field(None, description="once, loop (seamless) or pingpong. [default: the trajectory's own]")
    reverse: bool = Field(False, description="Play the move backwards.")
    easing: str | None = Field(
        None,
        description="Time easing: linear, smooth, smoother, ease-in, ease-out or sine. [default: the trajectory's own]",
    )
    stereo: str | None = Field(
        None, description="Stereo 3D: sbs (side by side), tb (top and bottom) or anaglyph (red-cyan glasses)."
    )
    baseline: float = Field(0.03, description="Distance between the stereo eyes as a fraction of the focus depth.")
    simplify: float = Field(
        0.5,
        description="Mesh simplification: largest geometric error in pixels (of the output, or of the photo if "
        "coarser); 0 = one vertex per pixel.",
    )
    ldi: LDIParams = Field(default_factory=LDIParams, description="LDI construction settings.")
    inpainter: str | Inpainter = Field(
        "classical",
        description="What fills the hidden background: classical (smooth fill plus texture), smooth, or a "
        "TorchScript inpainting network file such as LaMa's big-lama.pt (runs on the device).",
    )
    device: str | None = Field(None, description="cpu, cuda, cuda:N or mps. [default: CUDA, else MPS, else CPU]")

    CHOICES: ClassVar[dict[str, tuple]] = {
        "framing": FRAMINGS,
        "playback": PLAYBACKS,
        "easing": EASINGS,
        "stereo": STEREO_MODES,
    }

    @field_validator("trajectory")
    @classmethod
    def _trajectory(cls, value):
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name a preset or a TOML file")
        return value

    @field_validator("fps")
    @classmethod
    def _fps(cls, value: float) -> float:
        # Videos store the rate as a fraction with a denominator of at most 1001 (29.97 = 30000/1001).
        if not FPS_RANGE[0] <= value <= FPS_RANGE[1]:
            raise ValueError(f"must be from {FPS_RANGE[0]:g} to {FPS_RANGE[1]:g} frames per second")
        return value

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError("must be a positive number")
        return value

    @field_validator("frames")
    @classmethod
    def _frames(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("size")
    @classmethod
    def _size(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and min(value) < 2:
            raise ValueError("must be at least 2x2")
        return value

    @field_validator("ssaa")
    @classmethod
    def _ssaa(cls, value: float) -> float:
        if not SSAA_RANGE[0] <= value <= SSAA_RANGE[1]:
            raise ValueError("must be from 1 to 4")
        return value

    @field_validator("msaa")
    @classmethod
    def _msaa(cls, value: int) -> int:
        if value not in MSAA_CHOICES:
            raise ValueError(f"must be one of {_one_of(MSAA_CHOICES)}")
        return value

    @field_validator("framing", "playback", "easing", "stereo")
    @classmethod
    def _choice(cls, value: str | None, info) -> str | None:
        allowed = cls.CHOICES[info.field_name]
        if value is not None and value not in allowed:
            raise ValueError(f"must be one of {_one_of(allowed)}")
        return value

    @field_validator("intensity", "baseline", "simplify")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError("must be a number of at least 0")
        return value

    @field_validator("focus")
    @classmethod
    def _focus(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError("must be a positive depth (or inf for no lens shift)")
        return value

    @field_validator("stereo")
    @classmethod
    def _stereo_size(cls, value: str | None, info) -> str | None:
        size = info.data.get("size")
        if size is not None and value in ("sbs", "tb"):
            w, h = size
            if (value == "sbs" and w % 2) or (value == "tb" and h % 2):
                side = "width" if value == "sbs" else "height"
                raise ValueError(f"needs a frame of even {side} (size is {w}x{h})")
        return value

    @field_validator("inpainter")
    @classmethod
    def _inpainter(cls, value):
        if isinstance(value, str) and not value.strip():
            raise ValueError(f"must be {' or '.join(INPAINTERS)} or a TorchScript network file")
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str | None) -> str | None:
        return _check_device(value)

    def num_frames(self) -> int:
        """Number of frames to render: ``frames``, else ``round(duration * fps)``, at least 1."""
        if self.frames is not None:
            return self.frames
        return max(1, round(self.duration * self.fps))

    def motion(self, focus: float | None) -> Motion:
        """The trajectory options, with the focus depth to keep still."""
        return Motion(
            intensity=self.intensity,
            focus=focus,
            playback=self.playback,
            reverse=self.reverse,
            easing=self.easing,
        )


class DepthSettings(Settings):
    """Where a photo's depth comes from and how it becomes planar depth.

    Sources, in order: a depth map file (``path``); else, unless ``model`` is given, depth embedded in
    the photo (Google Camera Lens Blur GDepth, Apple portrait HEIC); else a depth network (``model``,
    default :data:`photo3d.depth.models.DEFAULT_MODEL`).
    """

    path: Path | None = Field(
        None,
        description="Depth map of the photo: 8/16-bit PNG, TIFF (float too), .npy, .pfm or OpenEXR. Without it: "
        "the photo's embedded depth (Google Lens Blur, Apple portrait HEIC), else the depth model.",
    )
    options: DepthOptions = Field(
        default_factory=DepthOptions,
        description="How to read the depth map file: kind, invert, scale; its clip applies to every source.",
    )
    model: str | None = Field(
        None,
        description="Hugging Face depth model id or local folder; runs even if the photo embeds depth. "
        "[default: depth-anything/Depth-Anything-V2-Small-hf]",
    )
    resolution: int | None = Field(
        None, description="The depth model's input size in pixels. [default: the model's own, 518 for Depth Anything]"
    )
    device: str | None = Field(None, description="cpu, cuda, cuda:N or mps. [default: CUDA, else MPS, else CPU]")
    near: float = Field(DEFAULT_NEAR, description="Depth given to the nearest pixel of a relative estimate.")
    far: float = Field(DEFAULT_FAR, description="Depth given to the farthest pixel of a relative estimate.")
    cache: bool = Field(True, description="Reuse depth estimated earlier for the same photo.")
    cache_dir: Path | None = Field(
        None, description="Folder of the depth cache. [default: $PHOTO3D_CACHE, else ~/.cache/photo3d]"
    )

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: int | None) -> int | None:
        if value is not None and value < 14:
            raise ValueError("must be at least 14 pixels")
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str | None) -> str | None:
        return _check_device(value)

    @field_validator("near", "far")
    @classmethod
    def _depth(cls, value: float, info) -> float:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError("must be a positive number")
        near = info.data.get("near")
        if info.field_name == "far" and near is not None and not value > near:
            raise ValueError(f"must be above near ({near:g})")
        return value
