"""Reading the raw values of depth, disparity and ray-distance files: images, PFM, OpenEXR and ``.npy``.

What the values mean (depth, disparity or distance, their units and invalid markers) is decided by
:func:`photo3d.depth.conversions.load_depth`, which reads files through :func:`load_depth_values`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import Photo3DError, one_line
from .image import decode_file, read_file

__all__ = ["load_depth_values", "read_depth_file"]

logger = logging.getLogger(__name__)

_EXR_MAGIC = b"\x76\x2f\x31\x01"

_MAX_EXR_PIXELS = 1 << 28  # display windows larger than this (16384 x 16384) are refused

_PFM_HEADER = re.compile(
    rb"(PF|Pf)[ \t\r\n]+(\d{1,9})[ \t\r\n]+(\d{1,9})[ \t\r\n]+"
    rb"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(\r\n|[ \t\r\n])"
)


def load_depth_values(path: str | os.PathLike[str]) -> np.ndarray:
    """Read the raw numbers of a depth, disparity or distance map, without interpreting them.

    Formats, recognised by their first bytes (``.npy`` by its suffix):

    * Images (8- or 16-bit grey PNG, 16-bit or 32-bit float TIFF, ...) give
      their pixel values unchanged; an RGB(A) image whose three colour
      channels are equal gives channel 0; EXIF orientation, if any, is applied.
    * ``.pfm`` (Portable Float Map): grey ``Pf`` or colour ``PF`` with R = G = B,
      either byte order (a negative scale means little-endian; the scale's
      magnitude is ignored, as most readers do). Rows are stored bottom to
      top and returned top to bottom. The header must be exactly
      ``Pf|PF``, width, height and scale, and the file exactly as long as they say.
    * ``.exr`` (OpenEXR, read with the ``OpenEXR`` package, half, float or
      uint channels): the first channel found of, in order of preference,
      ``Z`` / ``Depth`` / ``*.Depth.Z`` / ``*.Depth`` (Blender's single and
      multilayer Z pass), another ``*.Z`` whose layer has no ``.X`` or ``.Y``
      (so not a Normal, Vector or Position pass), ``Y``, ``R`` (with ``G``
      and ``B`` equal to it, if present), or the only channel. The channel is
      logged. Pixels inside the display window but outside the data window are NaN.
    * ``.npy`` files (``np.save`` of an (h, w) or (h, w, 1) array of any
      integer or floating dtype) give their values as float32.

    Args:
        path: An image, ``.pfm``, ``.exr`` or ``.npy`` file.

    Returns:
        (h, w) float32 raw values in the file's units; may contain NaN, inf,
        zero, negative or huge (Blender's 1e10 background) values: invalid
        pixels are not touched here.

    Raises:
        Photo3DError: If the file is missing, a directory, empty, truncated or
            corrupt, not a format listed above, a colour image with differing
            channels, an EXR without a usable channel, of the wrong shape or
            dtype, or has a zero dimension.

    """
    return read_depth_file(path)[0]


def read_depth_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, str]:
    """Raw values and the format they came from.

    Args:
        path: An image, ``.pfm``, ``.exr`` or ``.npy`` file.

    Returns:
        ``(values, format)``: (h, w) float32 raw values as :func:`load_depth_values` returns them, and
        ``"npy"``, ``"exr"``, ``"pfm"``, ``"float image"`` (floating-point TIFF) or ``"image"``.

    Raises:
        Photo3DError: As :func:`load_depth_values`.

    """
    name = os.fspath(path)
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        return np.ascontiguousarray(_load_npy(path), dtype=np.float32), "npy"
    data = read_file(path, "depth map")
    if data.startswith(_EXR_MAGIC):
        return _load_exr(data, name), "exr"
    if data[:2] in (b"PF", b"Pf") and (suffix == ".pfm" or data[2:3].isspace()):
        return _load_pfm(data, name), "pfm"
    if suffix == ".exr":
        raise Photo3DError(
            f"depth map {name} is not an OpenEXR file (it does not start with the EXR magic number); "
            "save it as OpenEXR or give it its real suffix"
        )
    if suffix == ".pfm":
        raise Photo3DError(
            f"depth map {name} is not a PFM file (it does not start with 'Pf' or 'PF'); "
            "save it as a Portable Float Map or give it its real suffix"
        )
    pixels = decode_file(path, "depth map")
    floating = np.issubdtype(pixels.dtype, np.floating)
    if pixels.ndim == 3 and pixels.shape[2] == 2:  # grey + alpha
        pixels = pixels[:, :, 0]
    elif pixels.ndim == 3:
        pixels = _grey_channel(pixels[:, :, :3], name)
    return np.ascontiguousarray(pixels, dtype=np.float32), "float image" if floating else "image"


def _grey_channel(colour: np.ndarray, name: str) -> np.ndarray:
    """Channel 0 of (h, w, 3) ``colour`` whose channels must be equal (NaN equal to NaN)."""
    if not (
        np.array_equal(colour[:, :, 0], colour[:, :, 1], equal_nan=True)
        and np.array_equal(colour[:, :, 0], colour[:, :, 2], equal_nan=True)
    ):
        raise Photo3DError(
            f"depth map {name} looks like a colour image, not a depth map (its R, G and B channels differ); "
            "give a single-channel depth or disparity image"
        )
    return colour[:, :, 0]


def _load_npy(path: str | os.PathLike[str]) -> np.ndarray:
    """Read the (h, w) array of a ``.npy`` depth file (see :func:`load_depth_values`)."""
    name = os.fspath(path)
    data = read_file(path, "depth map")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # ValueError (not .npy / pickled objects), EOFError, OSError ...
        reason = "it holds Python objects" if "pickle" in str(e) else one_line(e)
        raise Photo3DError(
            f"depth map {name} is not a readable .npy array ({reason}); save it with numpy.save"
        ) from None
    if not isinstance(array, np.ndarray):  # an .npz archive renamed .npy
        raise Photo3DError(f"depth map {name} is an .npz archive, not a .npy array; save one array with numpy.save")
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise Photo3DError(f"depth map {name} has dtype {array.dtype}; expected integer or floating-point numbers")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2:
        raise Photo3DError(f"depth map {name} has shape {array.shape}; expected (h, w) or (h, w, 1)")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise Photo3DError(f"depth map {name} has a zero dimension ({array.shape[1]}x{array.shape[0]})")
    return array


def _load_pfm(data: bytes, name: str) -> np.ndarray:
    """(h, w) float32 values of a Portable Float Map (see :func:`load_depth_values`), row 0 at the top."""
    match = _PFM_HEADER.match(data)
    if match is None:
        raise Photo3DError(
            f"depth map {name} has a broken PFM header (expected 'Pf' or 'PF', width, height and scale, "
            "separated by whitespace); re-export it"
        )
    colour = match.group(1) == b"PF"
    width, height = int(match.group(2)), int(match.group(3))
    scale = float(match.group(4))
    if width < 1 or height < 1:
        raise Photo3DError(f"depth map {name} has a zero dimension ({width}x{height})")
    if scale == 0 or not math.isfinite(scale):
        raise Photo3DError(
            f"depth map {name} has PFM scale {match.group(4).decode()}, which gives no byte order "
            "(negative = little-endian, positive = big-endian); re-export it"
        )
    channels = 3 if colour else 1
    expected = width * height * channels * 4
    start = match.end()
    if match.group(5) == b"\r\n" and len(data) - start != expected and len(data) - start + 1 == expected:
        start -= 1  # a lone "\r" ended the header and the first pixel byte happens to be "\n"
    size = len(data) - start
    if size != expected:
        problem = "is truncated" if size < expected else "has extra bytes after its pixels"
        raise Photo3DError(
            f"depth map {name} {problem}: {size} bytes of pixel data where a {width}x{height} "
            f"{'colour' if colour else 'grey'} PFM needs {expected}; re-export it"
        )
    dtype = np.dtype("<f4" if scale < 0 else ">f4")
    pixels = np.frombuffer(data, dtype=dtype, count=width * height * channels, offset=start)
    pixels = pixels.reshape(height, width, channels)[::-1]  # stored bottom row first
    if colour:
        return _grey_channel(pixels, name).astype(np.float32)
    return pixels[:, :, 0].astype(np.float32)


def _load_exr(data: bytes, name: str) -> np.ndarray:
    """(h, w) float32 values of one channel of an OpenEXR file (see :func:`load_depth_values`)."""
    try:
        import OpenEXR
    except ImportError:
        raise Photo3DError(
            f"depth map {name} is OpenEXR, which needs the OpenEXR package: pip install OpenEXR "
            "(or save the depth as .pfm, float TIFF or .npy)"
        ) from None
    corrupt = f"depth map {name} is a truncated or corrupt OpenEXR file"
    printed = io.StringIO()  # OpenEXR prints (not raises) "Warning: ..." when pixel data cannot be read
    try:
        with _stderr_to_debug_log(), contextlib.redirect_stdout(printed):
            exr = OpenEXR.File(io.BytesIO(data), separate_channels=True)
            parts = list(exr.parts)
    except Exception as e:  # RuntimeError for broken headers, ValueError ...
        raise Photo3DError(f"{corrupt} ({one_line(e)}); re-export it") from None
    if not parts:
        reason = one_line(RuntimeError(printed.getvalue().removeprefix("Warning: ")))
        raise Photo3DError(f"{corrupt} ({reason}); re-export it")

    found: list[tuple[int, str, Any]] = []  # (part index, channel name, OpenEXR.Part, which has no type information)
    for index, part in enumerate(parts):
        if part.type() not in (OpenEXR.scanlineimage, OpenEXR.tiledimage):
            raise Photo3DError(f"depth map {name} is a deep OpenEXR image; save a flat (scanline or tiled) EXR")
        found.extend((index, channel, part) for channel in part.channels)
    names = [channel for _, channel, _ in found]
    chosen, why = _pick_exr_channel(names)
    if chosen is None:
        listed = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise Photo3DError(
            f"depth map {name} has no depth channel among its OpenEXR channels ({listed or 'none'}); "
            "save the depth as a channel named Z (Blender: enable the Z pass)"
        )
    index, channel, part = found[names.index(chosen)]
    if chosen == "R":  # a grey image stored as R, G, B: the channels must agree
        present = [_exr_pixels(part, c, name) for c in ("R", "G", "B") if c in part.channels]
        if any(not np.array_equal(present[0], p, equal_nan=True) for p in present[1:]):
            raise Photo3DError(
                f"depth map {name} looks like a colour image, not a depth map (its R, G and B channels differ); "
                "give a single-channel depth EXR (a Z or Y channel)"
            )
    where = f" of part {index} ({part.name() or 'unnamed'})" if len(parts) > 1 else ""
    logger.info("depth map %s: using OpenEXR channel %r%s (%s)", name, chosen, where, why)
    return _exr_in_display_window(part, _exr_pixels(part, channel, name), name)


@contextlib.contextmanager
def _stderr_to_debug_log() -> Iterator[None]:
    """Send what C code writes to file descriptor 2 meanwhile to the debug log (OpenEXR's error lines).

    Keeps the CLI's one-line errors one line: the OpenEXR library writes its own
    messages about corrupt files straight to stderr before Python sees an error.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr descriptor (embedded interpreters, pythonw)
        yield
        return
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                sink.seek(0)
                text = sink.read().decode("utf-8", "replace").strip()
                if text:
                    logger.debug("OpenEXR said: %s", " | ".join(text.splitlines()))
    finally:
        os.close(saved)


def _pick_exr_channel(names: list[str]) -> tuple[str | None, str]:
    """The depth channel among OpenEXR channel ``names`` and why, or ``(None, "")``."""

    def layer(channel: str) -> str:
        return channel.rsplit(".", 1)[0] if "." in channel else ""

    def has_xy(channel: str) -> bool:
        prefix = layer(channel)
        prefix = prefix + "." if prefix else ""
        return any(f"{prefix}{axis}" in names for axis in ("X", "Y", "x", "y"))

    tiers = [
        (
            lambda c: c.lower() in ("z", "depth", "depth.z") or c.lower().endswith((".depth.z", ".depth")),
            "a Z / Depth channel",
        ),
        (lambda c: c.lower().endswith(".z") and not has_xy(c), "a .Z channel"),
        (lambda c: c == "Y", "luminance"),
        (lambda c: c == "R", "red, with G and B equal to it"),
        (lambda c: len(names) == 1, "the only channel"),
    ]
    for test, why in tiers:
        matches = [c for c in names if test(c)]
        if matches:
            if len(matches) > 1:
                logger.warning("OpenEXR channels %s could all be depth; using %r", ", ".join(matches), matches[0])
            return matches[0], why
    return None, ""


def _exr_pixels(part: Any, channel: str, name: str) -> np.ndarray:
    """(h, w) float32 pixels of one channel of an OpenEXR part, checked against its data window."""
    pixels = part.channels[channel].pixels
    (x0, y0), (x1, y1) = part.header["dataWindow"]
    shape = (int(y1) - int(y0) + 1, int(x1) - int(x0) + 1)
    if not isinstance(pixels, np.ndarray) or pixels.shape != shape:
        got = getattr(pixels, "shape", type(pixels).__name__)
        raise Photo3DError(
            f"depth map {name}: OpenEXR channel {channel!r} has shape {got}, not its data window's {shape} "
            "(subsampled or corrupt); save it with full-resolution channels"
        )
    if not (np.issubdtype(pixels.dtype, np.floating) or np.issubdtype(pixels.dtype, np.integer)):
        raise Photo3DError(f"depth map {name}: OpenEXR channel {channel!r} has dtype {pixels.dtype}; expected numbers")
    return pixels.astype(np.float32)


def _exr_in_display_window(part: Any, pixels: np.ndarray, name: str) -> np.ndarray:
    """Place data-window ``pixels`` in the part's display window; pixels without data are NaN."""
    header = part.header
    (dx0, dy0), (dx1, dy1) = (tuple(int(v) for v in corner) for corner in header["dataWindow"])
    (sx0, sy0), (sx1, sy1) = (tuple(int(v) for v in corner) for corner in header["displayWindow"])
    if (dx0, dy0, dx1, dy1) == (sx0, sy0, sx1, sy1):
        return pixels
    width, height = sx1 - sx0 + 1, sy1 - sy0 + 1
    if width < 1 or height < 1:
        raise Photo3DError(f"depth map {name} has a zero dimension ({width}x{height})")
    if width * height > _MAX_EXR_PIXELS:
        raise Photo3DError(f"depth map {name} is {width}x{height} pixels, too large to read; save a smaller EXR")
    out = np.full((height, width), np.nan, np.float32)
    x0, y0, x1, y1 = max(dx0, sx0), max(dy0, sy0), min(dx1, sx1), min(dy1, sy1)
    if x0 > x1 or y0 > y1:
        raise Photo3DError(f"depth map {name} has no pixels inside its OpenEXR display window; re-export it")
    out[y0 - sy0 : y1 - sy0 + 1, x0 - sx0 : x1 - sx0 + 1] = pixels[y0 - dy0 : y1 - dy0 + 1, x0 - dx0 : x1 - dx0 + 1]
    logger.info(
        "depth map %s: its OpenEXR data window is not the display window; pixels without data are invalid", name
    )
    return out
