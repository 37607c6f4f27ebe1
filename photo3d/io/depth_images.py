"""The ``photo3d depth`` outputs, all PNG and written atomically.

The files:

- :func:`write_depth_png`: 16-bit grey *disparity*, near = white, from
  :func:`depth_to_png16` (``v = round(65535 * z_min / z)``): inverse depth
  without a shift, which is what photo3d's own importer and Blender's
  displacement workflow expect.
- :func:`write_depth_preview`: a turbo colour map of disparity for people,
  near = warm (red), far = cool (blue), from :func:`depth_preview`.
- :func:`write_normal_map`: surface normals from the depth map's Sobel
  gradients through the camera's intrinsics (:func:`~photo3d.depth.normals.normal_map`), encoded
  with :func:`~photo3d.depth.normals.encode_normals` in the OpenGL/Blender convention: x right,
  y up, z toward the viewer; a surface facing the camera is (128, 128, 255).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..camera.intrinsics import Intrinsics
from ..depth.conversions import check_depth
from ..depth.normals import encode_normals, normal_map
from ..errors import Photo3DError
from .outputs import atomic_output

__all__ = ["depth_preview", "depth_to_png16", "write_depth_png", "write_depth_preview", "write_normal_map"]


def depth_to_png16(depth: np.ndarray) -> np.ndarray:
    """Encode planar depth as 16-bit disparity, near = white: ``v = round(65535 * z_min / z)``.

    The values are inverse depth with **no shift**, scaled so that the
    nearest pixel is 65535. Any reader that takes the PNG as disparity
    proportional to 1 / depth, such as :func:`photo3d.depth.conversions.load_depth` with
    ``kind="disparity"`` (``depth = d_max / d``), gets back ``z / z_min``:
    the same relative depth, in units of the nearest pixel's depth. A
    min-max stretch ``(1/z - 1/z_max) / (1/z_min - 1/z_max)`` would spread
    the values over the full 16 bits, but it adds a shift: the farthest pixel
    becomes 0, the "unknown" marker of disparity maps, and ``1 / v`` is no
    longer proportional to depth, so a re-import would stretch the far part
    of the scene towards infinity. Without the shift a scene spanning
    ``z_max / z_min = R`` uses values ``65535 / R .. 65535``; the rounding
    error in depth is at most ``0.5 / (65535 / R - 0.5)`` relative, 7.6e-4
    for R = 100 (the deepest scene photo3d's importer keeps) and 1.5e-5 for
    R = 2. Pixels farther than ``2 * 65535 * z_min`` would round to 0 and are
    clamped to 1, since 0 means unknown.

    Args:
        depth: (H, W) planar depth, any positive units, every value finite and > 0.

    Returns:
        (H, W) uint16 in [1, 65535], 65535 at the nearest pixel(s).

    Raises:
        Photo3DError: If ``depth`` is not a non-empty 2-D real array with
            every value finite and positive.

    Example:
        >>> depth_to_png16(np.array([[1.0, 2.0], [4.0, 1e6]])).tolist()
        [[65535, 32768], [16384, 1]]

    """
    z = check_depth(depth)
    return np.clip(np.rint((65535.0 * float(z.min())) / z.astype(np.float64)), 1, 65535).astype(np.uint16)


def depth_preview(depth: np.ndarray) -> np.ndarray:
    """Colour-map a depth map for viewing: turbo of disparity, near = warm (red), far = cool (dark blue).

    Disparity ``1 / z`` is stretched linearly from the map's minimum (farthest,
    colour-map index 0, dark blue) to its maximum (nearest, index 255, dark
    red) and coloured with OpenCV's ``COLORMAP_TURBO`` (Mikhailov, Google AI
    blog, 2019). Disparity rather than depth, so near objects get most of the
    colours as they do in the eye. A constant map gets the middle colour.

    Args:
        depth: (H, W) planar depth, every value finite and > 0.

    Returns:
        (H, W, 3) uint8 RGB.

    Raises:
        Photo3DError: If ``depth`` is not a non-empty 2-D real array with
            every value finite and positive.

    """
    disparity = 1.0 / check_depth(depth).astype(np.float32)
    lo, hi = float(disparity.min()), float(disparity.max())
    if hi > lo:
        index = np.rint((disparity - lo) * (255.0 / (hi - lo)))
    else:
        index = np.full(disparity.shape, 128.0)
    bgr = cv2.applyColorMap(index.astype(np.uint8), cv2.COLORMAP_TURBO)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _write_png(path: str | os.PathLike[str], pixels: np.ndarray) -> None:
    """Write (H, W) grey (uint8 or uint16) or (H, W, 3) uint8 RGB as a PNG, atomically."""
    if Path(path).suffix.lower() != ".png" and not Path(path).is_dir():  # atomic_output reports a directory
        raise Photo3DError(f"cannot write {path}: depth outputs are PNG files; give a name ending in .png")
    if pixels.ndim == 3:
        pixels = pixels[:, :, ::-1]  # OpenCV writes BGR
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(pixels))
    if not ok:  # pragma: no cover - OpenCV encodes every uint8/uint16 image it is given
        raise Photo3DError(f"cannot write {path}: OpenCV could not encode a {pixels.shape} {pixels.dtype} PNG")
    with atomic_output(path) as tmp:
        try:
            with open(tmp, "wb") as f:
                f.write(encoded.tobytes())
        except OSError as err:
            raise Photo3DError(f"cannot write {path}: {err.strerror or err}") from None


def write_depth_png(path: str | os.PathLike[str], depth: np.ndarray) -> None:
    """Write depth as a 16-bit grey disparity PNG, near = white (see :func:`depth_to_png16`).

    Pillow opens it in mode ``I;16``; :func:`photo3d.depth.conversions.load_depth` reads it
    back (as disparity, the default for PNG) as ``z / z_min``. For Blender's
    Displace modifier the values are already "near = high".

    Args:
        path: Output file ending in ``.png``.
        depth: (H, W) planar depth, every value finite and > 0.

    Raises:
        Photo3DError: If ``depth`` is invalid (see :func:`depth_to_png16`), or
            ``path`` does not end in .png or cannot be written (nothing is
            left behind).

    """
    _write_png(path, depth_to_png16(depth))


def write_depth_preview(path: str | os.PathLike[str], depth: np.ndarray) -> None:
    """Write the turbo colour preview of :func:`depth_preview` as an 8-bit RGB PNG.

    Args:
        path: Output file ending in ``.png``.
        depth: (H, W) planar depth, every value finite and > 0.

    Raises:
        Photo3DError: If ``depth`` is invalid, or ``path`` does not end in
            .png or cannot be written (nothing is left behind).

    """
    _write_png(path, depth_preview(depth))


def write_normal_map(path: str | os.PathLike[str], depth: np.ndarray, intrinsics: Intrinsics) -> None:
    """Write the normal map of :func:`normal_map` as an 8-bit RGB PNG (see :func:`encode_normals`).

    Args:
        path: Output file ending in ``.png``.
        depth: (H, W) planar depth, every value finite and > 0.
        intrinsics: The camera of the H x W depth map.

    Raises:
        Photo3DError: If ``depth`` is invalid or does not match the
            intrinsics' size, or ``path`` does not end in .png or cannot be
            written (nothing is left behind).

    """
    _write_png(path, encode_normals(normal_map(depth, intrinsics)))
