"""Reading depth and disparity maps and turning them into planar depth.

Conventions:

* **Depth** is planar: the z coordinate of the point in the camera frame
  (see :mod:`photo3d.camera`), not its distance along the ray. It is positive
  and in the depth map's own units (metres, millimetres or relative units);
  a depth map read with ``kind="depth"`` is never rescaled.
* **Disparity** is larger for nearer points and taken as proportional to
  ``1 / depth`` with no shift: ``depth = c / disparity``. Its scale is
  unknown, so :func:`disparity_to_depth` puts the nearest pixel at depth 1.0
  and clamps the farthest at depth 100.
* **Invalid** values are NaN, +-inf, zero and negative numbers (0 is the usual
  "unknown" marker of depth sensors and ground-truth disparity maps). They are
  replaced by the value of the nearest valid pixel.

``load_depth`` runs the whole pipeline: read raw values, check them, fill
invalid pixels, convert disparity to depth, and resample to the photo's size.

>>> import numpy as np
>>> disparity_to_depth(np.array([[4.0, 2.0], [1.0, 0.01]], dtype=np.float32)).tolist()
[[1.0, 2.0], [4.0, 100.0]]
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from scipy import ndimage

from .errors import Photo3DError
from .image import _decode_file, _one_line, _read_file

__all__ = [
    "MAX_DISPARITY_DEPTH",
    "DepthKind",
    "disparity_to_depth",
    "fill_invalid",
    "load_depth",
    "load_depth_values",
    "resample_depth",
    "resolve_depth_kind",
]

logger = logging.getLogger(__name__)

DepthKind = Literal["auto", "depth", "disparity"]
"""What a depth file holds: planar depth, disparity, or "auto" (decided by the file type)."""

MAX_DISPARITY_DEPTH: float = 100.0
"""Depth of the farthest pixel from :func:`disparity_to_depth`, relative to the nearest (1.0)."""

_ASPECT_TOLERANCE = 0.01
_SMOOTH_RATIO = 1.05  # neighbourhoods whose max/min depth is below this are interpolated, others take nearest


def load_depth_values(path: str | os.PathLike[str]) -> np.ndarray:
    """Read the raw numbers of a depth or disparity map, without interpreting them.

    Images (8- or 16-bit grey PNG, 16-bit TIFF, 32-bit float TIFF, ...) give
    their pixel values unchanged; an RGB(A) image whose three colour channels
    are equal gives channel 0; EXIF orientation, if any, is applied. ``.npy``
    files (``np.save`` of an (h, w) or (h, w, 1) array of any integer or
    floating dtype) give their values as float32.

    Args:
        path: A PNG/TIFF (or other image) file, or a ``.npy`` file.

    Returns:
        (h, w) float32 raw values in the file's units; may contain NaN, inf,
        zero or negative values (invalid pixels are not touched here).

    Raises:
        Photo3DError: If the file is missing, a directory, empty, truncated or
            corrupt, not an image or ``.npy`` array, a colour image with
            differing channels, of the wrong shape or dtype, or has a zero dimension.

    """
    name = os.fspath(path)
    if Path(path).suffix.lower() == ".npy":
        values = _load_npy(path)
    else:
        pixels = _decode_file(path, "depth map")
        if pixels.ndim == 3 and pixels.shape[2] == 2:  # grey + alpha
            pixels = pixels[:, :, 0]
        elif pixels.ndim == 3:
            colour = pixels[:, :, :3]
            if not (
                np.array_equal(colour[:, :, 0], colour[:, :, 1]) and np.array_equal(colour[:, :, 0], colour[:, :, 2])
            ):
                raise Photo3DError(
                    f"depth map {name} looks like a colour image, not a depth map (its R, G and B channels differ); "
                    "give a single-channel depth or disparity image"
                )
            pixels = colour[:, :, 0]
        values = pixels
    return np.ascontiguousarray(values, dtype=np.float32)


def _load_npy(path: str | os.PathLike[str]) -> np.ndarray:
    """Read the (h, w) array of a ``.npy`` depth file (see :func:`load_depth_values`)."""
    name = os.fspath(path)
    data = _read_file(path, "depth map")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # ValueError (not .npy / pickled objects), EOFError, OSError ...
        reason = "it holds Python objects" if "pickle" in str(e) else _one_line(e)
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


def resolve_depth_kind(path: str | os.PathLike[str], kind: str = "auto") -> Literal["depth", "disparity"]:
    """Decide whether a depth file holds depth or disparity.

    Args:
        path: The depth file; only its suffix is used.
        kind: ``"depth"`` or ``"disparity"`` are returned as they are;
            ``"auto"`` means depth for ``.npy`` files and disparity for image
            files (.png, .tif, .tiff, ...), which usually come from monocular
            estimators or stereo and store larger = nearer.

    Returns:
        ``"depth"`` or ``"disparity"``.

    Raises:
        Photo3DError: If ``kind`` is not one of "auto", "depth", "disparity".

    """
    if kind == "depth" or kind == "disparity":
        return kind
    if kind != "auto":
        raise Photo3DError(f"depth kind must be auto, depth or disparity, got {kind!r}")
    return "depth" if Path(path).suffix.lower() == ".npy" else "disparity"


def _valid_mask(values: np.ndarray) -> np.ndarray:
    """(h, w) bool: finite and > 0."""
    return np.isfinite(values) & (values > 0)


def fill_invalid(values: np.ndarray, name: str = "(array)") -> np.ndarray:
    """Replace every invalid value by the value of the nearest valid pixel.

    Invalid means NaN, +-inf, zero or negative. Nearest is in Euclidean pixel
    distance (``scipy.ndimage.distance_transform_edt``); ties are broken arbitrarily.

    Args:
        values: (h, w) real array of depth or disparity, any units.
        name: What to call the map in error messages (usually its path).

    Returns:
        (h, w) float32 copy, every value finite and > 0; valid pixels unchanged.

    Raises:
        Photo3DError: If ``values`` is not 2-D or has no valid pixel.

    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise Photo3DError(f"depth map {name} must be 2-D (h, w), got shape {values.shape}")
    out = values.astype(np.float32)  # a copy
    valid = _valid_mask(out)  # after the float32 cast, so tiny or huge float64 values cannot slip through
    if not valid.any():
        raise Photo3DError(f"depth map {name} has no valid pixel (every value is NaN, infinite, zero or negative)")
    if valid.all():
        return out
    indices = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return out[tuple(indices)]


def disparity_to_depth(disparity: np.ndarray) -> np.ndarray:
    """Planar depth from disparity, up to scale: ``depth = d_max / max(d, d_max / 100)``.

    ``d_max`` is the largest disparity, so the nearest pixel gets depth 1.0;
    disparities below ``d_max / 100`` (including zero and negative ones) are
    clamped there, so no depth exceeds :data:`MAX_DISPARITY_DEPTH` (100).
    Depth is in units of the nearest pixel's depth.

    Args:
        disparity: (h, w) real array, larger = nearer, proportional to
            1 / depth with no shift; every value finite (fill invalid pixels
            first with :func:`fill_invalid`).

    Returns:
        (h, w) float32 planar depth in [1, 100].

    Raises:
        Photo3DError: If a value is not finite or no value is positive.

    """
    d = np.asarray(disparity, dtype=np.float64)
    if not np.isfinite(d).all():
        raise Photo3DError("disparity has NaN or infinite values; fill them first (photo3d.depth.fill_invalid)")
    d_max = float(d.max()) if d.size else 0.0
    if not d_max > 0:
        raise Photo3DError("disparity has no positive value: it carries no depth")
    return (d_max / np.maximum(d, d_max / MAX_DISPARITY_DEPTH)).astype(np.float32)


def resample_depth(depth: np.ndarray, width: int, height: int, name: str = "(array)") -> np.ndarray:
    """Resize a depth map to the photo's size without blending across depth edges.

    Within smooth regions (every source pixel in the 3 x 3 neighbourhood within
    5 % of each other) values are interpolated bilinearly; elsewhere the nearest
    source pixel is taken, so foreground and background never mix into
    "flying" in-between depths. The aspect ratios must agree within 1 %.

    Args:
        depth: (h, w) planar depth (or disparity), finite and > 0.
        width: The photo's width W in pixels.
        height: The photo's height H in pixels.
        name: What to call the map in messages (usually its path).

    Returns:
        (H, W) float32; ``depth`` itself (not a copy) if it already is H x W
        float32. Every output value is one of the input values or lies
        between neighbouring input values that differ by less than 5 %.

    Raises:
        Photo3DError: If the aspect ratios differ by more than 1 %, or the
            sizes are not positive.

    """
    depth = np.asarray(depth)
    if depth.ndim != 2 or depth.shape[0] < 1 or depth.shape[1] < 1:
        raise Photo3DError(f"depth map {name} must be a non-empty 2-D (h, w) array, got shape {depth.shape}")
    if width < 1 or height < 1:
        raise Photo3DError(f"photo size must be positive, got {width}x{height}")
    h, w = depth.shape
    if (w, h) == (width, height):
        return depth if depth.dtype == np.float32 else depth.astype(np.float32)
    photo_aspect = width / height
    if abs(w / h - photo_aspect) / photo_aspect > _ASPECT_TOLERANCE:
        raise Photo3DError(
            f"depth map {name} is {w}x{h} but the photo is {width}x{height}: their aspect ratios differ; "
            "give a depth map of the photo's size"
        )
    logger.warning("depth map %s is %dx%d, resampled to the photo's %dx%d", name, w, h, width, height)
    src = depth.astype(np.float32)
    size = (int(width), int(height))
    nearest = cv2.resize(src, size, interpolation=cv2.INTER_NEAREST_EXACT)
    linear = cv2.resize(src, size, interpolation=cv2.INTER_LINEAR)
    # INTER_NEAREST_EXACT samples source pixel floor((x + 0.5) * scale), the one whose 3 x 3 neighbourhood
    # holds both pixels INTER_LINEAR blends at x, so ``smooth`` tells whether that blend crosses an edge.
    kernel = np.ones((3, 3), np.uint8)
    high = cv2.resize(
        cv2.dilate(src, kernel, borderType=cv2.BORDER_REPLICATE), size, interpolation=cv2.INTER_NEAREST_EXACT
    )
    low = cv2.resize(
        cv2.erode(src, kernel, borderType=cv2.BORDER_REPLICATE), size, interpolation=cv2.INTER_NEAREST_EXACT
    )
    smooth = high < low * _SMOOTH_RATIO
    return np.where(smooth, linear, nearest).astype(np.float32)


def load_depth(path: str | os.PathLike[str], width: int, height: int, kind: DepthKind = "auto") -> np.ndarray:
    """Read a depth or disparity map as planar depth at the photo's size.

    Pipeline: :func:`load_depth_values` -> check there are valid pixels and
    that they are not all equal -> :func:`fill_invalid` ->
    :func:`disparity_to_depth` (if the map holds disparity) ->
    :func:`resample_depth`.

    Args:
        path: Depth file (see :func:`load_depth_values`).
        width: The photo's width W in pixels.
        height: The photo's height H in pixels.
        kind: What the file holds; see :func:`resolve_depth_kind`.

    Returns:
        (H, W) float32 planar depth, all finite and > 0. For ``kind="depth"``
        in the file's units (valid values unchanged); for disparity relative,
        in [1, 100] with the nearest pixel at 1.

    Raises:
        Photo3DError: If the file cannot be read (see :func:`load_depth_values`),
            ``kind`` is unknown, no pixel is valid, all valid pixels are equal,
            or the aspect ratio differs from the photo's.

    """
    name = os.fspath(path)
    resolved = resolve_depth_kind(path, kind)
    values = load_depth_values(path)
    valid = _valid_mask(values)
    if not valid.any():
        raise Photo3DError(f"depth map {name} has no valid pixel (every value is NaN, infinite, zero or negative)")
    valid_values = values[valid]
    low, high = float(valid_values.min()), float(valid_values.max())
    if low == high:
        raise Photo3DError(f"depth map {name} is constant (every valid pixel is {low:g}): it carries no depth")
    how = "by file type" if kind == "auto" else "as asked"
    logger.info(
        "depth map %s read as %s (%s); %.1f %% of pixels invalid and filled",
        name,
        resolved,
        how,
        100.0 * (1.0 - valid.mean()),
    )
    filled = fill_invalid(values, name)
    depth = disparity_to_depth(filled) if resolved == "disparity" else filled
    return resample_depth(depth, width, height, name)
