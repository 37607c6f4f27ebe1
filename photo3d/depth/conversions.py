"""Turning depth, disparity and ray-distance maps into planar depth at the photo's size.

Conventions:

* **Depth** is planar: the z coordinate of the point in the camera frame
  (see :mod:`photo3d.camera.intrinsics`), not its distance along the ray. It is positive
  and in the depth map's own units (metres, millimetres or relative units);
  a depth map read with ``kind="depth"`` is never rescaled unless asked
  (:attr:`DepthOptions.scale`).
* **Distance** (``kind="distance"``) is the length of the ray from the camera
  centre to the point, as in Blender's Z pass: ``z = d / sqrt(1 + xn² + yn²)``
  with ``xn = (u + 0.5 - cx) / fx`` and ``yn = (v + 0.5 - cy) / fy`` at the
  pixel centre (:func:`distance_to_depth`). A fronto-parallel wall has
  constant depth but not constant distance.
* **Disparity** is larger for nearer points and taken as proportional to
  ``1 / depth`` with no shift: ``depth = c / disparity``. Its scale is
  unknown, so :func:`disparity_to_depth` puts the nearest pixel at depth 1.0
  and clamps the farthest at depth 100.
* **Invalid** values are NaN, +-inf, zero and negative numbers (0 is the usual
  "unknown" marker of depth sensors and ground-truth disparity maps), and raw
  values of at least :data:`NO_GEOMETRY_VALUE` (1e9; Blender writes 1e10
  where a ray hits nothing). They are replaced by the value of the nearest
  valid pixel.

``load_depth`` runs the whole pipeline: read raw values, check them, mark
invalid pixels, invert and scale (if asked), convert disparity or distance
to planar depth and fill invalid pixels, clip (if asked) and resample to
the photo's size. :class:`DepthOptions` bundles the choices the CLI exposes as
``--depth-kind``, ``--invert``, ``--depth-scale`` and ``--depth-clip``.

>>> import numpy as np
>>> disparity_to_depth(np.array([[4.0, 2.0], [1.0, 0.01]], dtype=np.float32)).tolist()
[[1.0, 2.0], [4.0, 100.0]]
>>> apply_depth_clip(np.array([[1.0, 2.0], [4.0, 100.0]]), (2.0, 10.0), relative=True).tolist()
[[1.0, 1.0], [2.0, 5.0]]
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from ..camera.intrinsics import Intrinsics, aspect_ratios_differ
from ..errors import Photo3DError, SettingsError
from ..io.depth_files import read_depth_file

__all__ = [
    "DEPTH_KINDS",
    "MAX_DISPARITY_DEPTH",
    "NO_GEOMETRY_VALUE",
    "DepthKind",
    "DepthOptions",
    "apply_depth_clip",
    "check_depth",
    "depth_from_values",
    "disparity_to_depth",
    "distance_to_depth",
    "fill_invalid",
    "load_depth",
    "parse_depth_clip",
    "resample_depth",
    "resolve_depth_kind",
]

logger = logging.getLogger(__name__)

DepthKind = Literal["auto", "depth", "disparity", "distance"]
"""What a depth file holds: planar depth, disparity, ray distance, or "auto" (decided by the file type)."""

DEPTH_KINDS: tuple[str, ...] = ("auto", "depth", "disparity", "distance")
"""The values :data:`DepthKind` allows, in the order messages list them."""

MAX_DISPARITY_DEPTH: float = 100.0
"""Depth of the farthest pixel from :func:`disparity_to_depth`, relative to the nearest (1.0)."""

NO_GEOMETRY_VALUE: float = 1e9
"""Raw values at or above this are invalid: Blender writes 1e10 (or more) where a ray hits no geometry."""

_SMOOTH_RATIO = 1.05  # neighbourhoods whose max/min depth is below this are interpolated, others take nearest
_FLOAT_SUFFIXES = (".npy", ".exr", ".pfm")


@dataclass(frozen=True)
class DepthOptions:
    """How to read a depth map file (the CLI's ``--depth-kind``, ``--invert``, ``--depth-scale``, ``--depth-clip``).

    The steps run in this order: invert (raw values), scale (raw values),
    conversion to planar depth, clip (planar depth).

    Raises:
        Photo3DError: If ``kind`` is unknown, ``scale`` is not a positive
            finite number, or ``clip`` is not ``(near, far)`` with
            ``0 < near < far`` both finite.

    """

    kind: str = "auto"
    """auto, depth (planar), disparity (larger = nearer, 1 / depth up to scale) or distance (along the ray, as
    Blender's Z pass). auto means depth for .npy, .exr, .pfm and floating-point TIFF, disparity for 8/16-bit images."""

    invert: bool = False
    """Reverse the raw values within their valid range, ``v' = v_min + v_max - v`` (invalid pixels stay invalid),
    before anything else: for maps encoded the other way round (e.g. disparity stored with near = dark)."""

    scale: float | None = None
    """Multiply the raw values by this positive factor (e.g. 0.0002 for TUM's value / 5000 = metres, 0.001 for
    millimetres). Only for depth and distance maps: disparity gives relative depth, so a scale is refused there."""

    clip: tuple[float, float] | None = None
    """(NEAR, FAR): clamp the planar depth to [NEAR, FAR] after conversion, in its units (metres for a metric map
    with the right scale; for disparity the relative units where the nearest pixel is 1, which is then rescaled so
    the nearest pixel is 1 again)."""

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        if self.scale is not None:
            object.__setattr__(self, "scale", _check_scale(self.scale))
        if self.clip is not None:
            object.__setattr__(self, "clip", _check_clip(self.clip))


def _check_kind(kind: object) -> None:
    if kind not in DEPTH_KINDS:
        raise Photo3DError(f"depth kind must be auto, depth, disparity or distance, got {kind!r}")


def _check_scale(scale: object) -> float:
    # typeshed's numbers.Real declares only < and <=, but every real number also has >, which 0 < scale uses
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not (0 < scale < math.inf):  # type: ignore[operator]
        raise SettingsError("scale", f"must be a positive number (e.g. 0.001 for millimetres), got {scale!r}")
    return float(scale)


def _check_clip(clip: object) -> tuple[float, float]:
    try:
        # clip may be anything: a value that is not iterable raises TypeError, reported below
        near, far = (float(v) for v in clip)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise SettingsError("clip", f"must be two numbers NEAR,FAR, got {clip!r}") from None
    if not (0 < near < far < math.inf):
        raise SettingsError("clip", f"needs 0 < NEAR < FAR, both finite, got {near:g},{far:g}")
    return near, far


def parse_depth_clip(text: str) -> tuple[float, float]:
    """Parse the CLI's ``--depth-clip NEAR,FAR``.

    Args:
        text: Two numbers separated by a comma, e.g. ``"0.5,20"``; spaces are allowed.

    Returns:
        ``(near, far)`` as floats with ``0 < near < far``, both finite.

    Raises:
        Photo3DError: If ``text`` is not two numbers, or they are not ``0 < NEAR < FAR`` and finite.

    """
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        near, far = float(parts[0]), float(parts[1])
    except ValueError:
        raise SettingsError("clip", f"must look like NEAR,FAR (e.g. 0.5,20), got {text!r}") from None
    return _check_clip((near, far))


def resolve_depth_kind(
    path: str | os.PathLike[str], kind: str = "auto", *, floating: bool = False
) -> Literal["depth", "disparity", "distance"]:
    """Decide whether a depth file holds planar depth, disparity or ray distance.

    Args:
        path: The depth file; only its suffix is used.
        kind: ``"depth"``, ``"disparity"`` or ``"distance"`` are returned as
            they are. ``"auto"`` means depth for ``.npy``, ``.exr`` and ``.pfm``
            files and for floating-point images (``floating=True``: 32-bit
            float TIFF), which usually hold metric depth; and disparity for
            8/16-bit images (.png, .tif, ...), which usually come from
            monocular estimators or stereo and store larger = nearer. auto
            never gives distance: Blender's Z pass needs ``kind="distance"``.
        floating: Whether the image's pixels are floating point (see
            :func:`~photo3d.io.depth_files.load_depth_values`'s formats); ignored for the suffixes above.

    Returns:
        ``"depth"``, ``"disparity"`` or ``"distance"``.

    Raises:
        Photo3DError: If ``kind`` is not one of "auto", "depth", "disparity", "distance".

    """
    _check_kind(kind)
    if kind != "auto":
        return kind  # type: ignore[return-value]
    return "depth" if floating or Path(path).suffix.lower() in _FLOAT_SUFFIXES else "disparity"


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
    from scipy import ndimage  # imported here: settings and the CLI import this module, and scipy is slow to load

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
        raise Photo3DError(
            "disparity has NaN or infinite values; fill them first (photo3d.depth.conversions.fill_invalid)"
        )
    d_max = float(d.max()) if d.size else 0.0
    if not d_max > 0:
        raise Photo3DError("disparity has no positive value: it carries no depth")
    return (d_max / np.maximum(d, d_max / MAX_DISPARITY_DEPTH)).astype(np.float32)


def distance_to_depth(distance: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Planar depth from ray distance (Blender's Z pass): ``z = d / sqrt(1 + xn² + yn²)``.

    ``xn = (u + 0.5 - cx) / fx`` and ``yn = (v + 0.5 - cy) / fy`` are the
    normalised coordinates of pixel ``(u, v)``'s centre, so ``(xn, yn, 1) * z``
    is the point and ``d`` its distance from the camera centre. Computed in
    float64: a fronto-parallel plane comes out flat to float32 precision.

    Args:
        distance: (h, w) real array, distance from the camera centre along
            each pixel's ray, any units; NaN, inf and non-positive values
            pass through (as NaN, inf or non-positive depth).
        intrinsics: Intrinsics of the map's own h x w grid; scale the
            photo's with :meth:`Intrinsics.scaled` if the map's size differs.

    Returns:
        (h, w) float32 planar depth in the units of ``distance``, ``z <= d``.

    Raises:
        Photo3DError: If ``distance`` is not 2-D or its size is not the intrinsics' size.

    """
    d = np.asarray(distance, dtype=np.float64)
    if d.ndim != 2:
        raise Photo3DError(f"distance map must be 2-D (h, w), got shape {d.shape}")
    k = intrinsics
    if d.shape != (k.height, k.width):
        raise Photo3DError(
            f"distance map is {d.shape[1]}x{d.shape[0]} but the intrinsics are for {k.width}x{k.height}; "
            "scale them to the map's size with Intrinsics.scaled"
        )
    xn = (np.arange(k.width, dtype=np.float64) + 0.5 - k.cx) / k.fx
    yn = (np.arange(k.height, dtype=np.float64) + 0.5 - k.cy) / k.fy
    norm = np.sqrt(1.0 + xn[None, :] ** 2 + yn[:, None] ** 2)  # |(xn, yn, 1)|
    return (d / norm).astype(np.float32)


def apply_depth_clip(depth: np.ndarray, clip: tuple[float, float], relative: bool, name: str = "(array)") -> np.ndarray:
    """Clamp planar depth to ``[near, far]``; for relative depth, rescale so the nearest pixel is 1.0 again.

    Args:
        depth: (h, w) planar depth, finite and > 0 (fill invalid pixels first).
        clip: ``(near, far)`` in the depth's units, ``0 < near < far``, both
            finite: metres for metric depth, or for relative depth (from
            disparity) multiples of the nearest pixel's depth.
        relative: True for relative depth (disparity input, nearest pixel at
            1.0, as :func:`disparity_to_depth` gives): the clamped depth is
            divided by its minimum, so the nearest pixel is 1.0 again. False
            for metric depth, which keeps its units.
        name: What to call the map in messages (usually its path).

    Returns:
        (h, w) float32; within ``[near, far]`` if ``relative`` is False, else
        within ``[1, far / max(near, depth.min())]``.

    Raises:
        Photo3DError: If ``clip`` is not ``0 < near < far`` (finite),
            ``depth`` is not 2-D with finite positive values, or no pixel
            lies inside ``[near, far]``.

    """
    near, far = _check_clip(clip)
    z = np.asarray(depth, dtype=np.float64)
    if z.ndim != 2 or z.size == 0:
        raise Photo3DError(f"depth map {name} must be a non-empty 2-D (h, w) array, got shape {z.shape}")
    if not (np.isfinite(z).all() and (z > 0).all()):
        raise Photo3DError(f"depth map {name} has NaN, infinite or non-positive depth; fill it before clipping")
    inside = (z >= near) & (z <= far)
    low, high = float(z.min()), float(z.max())
    if not inside.any():
        units = "relative units, nearest = 1" if relative else "the map's units"
        raise SettingsError(
            "clip",
            f"{near:g},{far:g} leaves no pixel of depth map {name} inside it "
            f"(its depth spans {low:.4g} to {high:.4g}, in {units}); choose a range that overlaps it",
        )
    nearer, farther = float((z < near).mean()), float((z > far).mean())
    out = np.clip(z, near, far)
    if relative:
        out /= out.min()
    logger.info(
        "depth map %s clipped to [%g, %g]%s: %.1f %% of pixels were nearer, %.1f %% farther",
        name,
        near,
        far,
        " and rescaled so the nearest pixel is 1" if relative else "",
        100.0 * nearer,
        100.0 * farther,
    )
    return out.astype(np.float32)


def _check_aspect(w: int, h: int, width: int, height: int, name: str) -> None:
    """Refuse a w x h map for a width x height photo if their aspect ratios differ by more than 1 %."""
    if width < 1 or height < 1:
        raise Photo3DError(f"photo size must be positive, got {width}x{height}")
    if aspect_ratios_differ(w, h, width, height):
        raise Photo3DError(
            f"depth map {name} is {w}x{h} but the photo is {width}x{height}: their aspect ratios differ; "
            "give a depth map of the photo's size"
        )


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
    _check_aspect(w, h, width, height, name)
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


def load_depth(
    path: str | os.PathLike[str],
    width: int,
    height: int,
    kind: DepthKind | str = "auto",
    *,
    intrinsics: Intrinsics | None = None,
    options: DepthOptions | None = None,
    guide: np.ndarray | None = None,
) -> np.ndarray:
    """Read a depth, disparity or ray-distance map as planar depth at the photo's size.

    Pipeline: :func:`~photo3d.io.depth_files.load_depth_values` -> mark invalid pixels (NaN, inf,
    <= 0, >= :data:`NO_GEOMETRY_VALUE`) and check the valid ones are not all
    equal -> invert (``options.invert``: ``v' = v_min + v_max - v`` over valid
    pixels) -> scale (``options.scale``, depth and distance only) ->
    :func:`fill_invalid` -> :func:`disparity_to_depth`; or for distance
    :func:`distance_to_depth` (on the map's own grid, with ``intrinsics``
    scaled to the map's size) -> :func:`fill_invalid`, so holes take a
    neighbour's planar depth -> :func:`apply_depth_clip` (``options.clip``)
    -> :func:`resample_depth`, or, for a map smaller than the photo with the photo as
    ``guide``, :func:`~photo3d.depth.upsample.upsample_depth` (edge-aware, in disparity), so the
    depth edges land on the photo's colour edges (as for embedded and estimated depth).

    Args:
        path: Depth file (see :func:`~photo3d.io.depth_files.load_depth_values`).
        width: The photo's width W in pixels.
        height: The photo's height H in pixels.
        kind: What the file holds (see :func:`resolve_depth_kind`); kept for
            callers without ``options``. Leave it "auto" when giving ``options``.
        intrinsics: The photo's intrinsics (any size of the same aspect;
            they are scaled to the map's size). Needed for ``kind="distance"``
            only.
        options: Kind, invert, scale and clip (see :class:`DepthOptions`);
            None means ``DepthOptions(kind=kind)``.
        guide: (H, W, 3) uint8 RGB photo that guides the upsampling of a smaller map, or None.

    Returns:
        (H, W) float32 planar depth, all finite and > 0. For depth and
        distance, in the file's units times ``options.scale`` (valid depth
        values unchanged without scale, invert or clip); for disparity
        relative, in [1, 100] with the nearest pixel at 1 (with a clip, in
        [1, FAR / NEAR] at most).

    Raises:
        Photo3DError: If the file cannot be read (see :func:`~photo3d.io.depth_files.load_depth_values`),
            the kind is unknown, no pixel is valid, all valid pixels are equal,
            a scale is given for disparity or overflows float32, distance
            comes without intrinsics, the clip leaves no pixel inside, or the
            aspect ratio differs from the photo's.
        ValueError: If both ``kind`` (other than "auto") and ``options`` with a different kind are given.

    """
    name = os.fspath(path)
    if options is None:
        options = DepthOptions(kind=kind)
    elif kind != "auto" and kind != options.kind:
        raise ValueError(f"load_depth got kind={kind!r} and options.kind={options.kind!r}; give the kind once")
    _check_kind(options.kind)
    values, fmt = read_depth_file(path)
    resolved = resolve_depth_kind(path, options.kind, floating=fmt == "float image")
    how = "by file type" if options.kind == "auto" else "as asked"
    if options.kind == "auto" and resolved == "depth" and fmt != "npy":
        how = (
            "by file type: floating-point maps are taken as planar depth; a Blender Z pass needs --depth-kind distance"
        )
    return depth_from_values(
        values, resolved, width, height, intrinsics=intrinsics, options=options, guide=guide, name=name, how=how
    )


def depth_from_values(
    values: np.ndarray,
    kind: Literal["depth", "disparity", "distance"],
    width: int,
    height: int,
    *,
    intrinsics: Intrinsics | None = None,
    options: DepthOptions | None = None,
    guide: np.ndarray | None = None,
    name: str = "(array)",
    how: str = "as given",
) -> np.ndarray:
    """Turn raw depth, disparity or ray-distance values into planar depth at the photo's size.

    The steps of :func:`load_depth` after reading the file: mark invalid values, invert, scale,
    convert, fill, clip and bring to the photo's size.

    Args:
        values: (h, w) float32 raw values with the photo's aspect ratio (within 1 %); NaN, inf,
            values <= 0 and >= :data:`NO_GEOMETRY_VALUE` are invalid.
        kind: What the values are: ``"depth"`` (planar), ``"disparity"`` or ``"distance"`` (along the ray).
        width: The photo's width W in pixels.
        height: The photo's height H in pixels.
        intrinsics: The photo's intrinsics (any size of the same aspect); needed for ``"distance"`` only.
        options: Invert, scale and clip (its ``kind`` is not read: ``kind`` says what the values are).
        guide: (H, W, 3) uint8 RGB photo that guides the upsampling of a smaller map, or None.
        name: What the values are called in messages (a file name).
        how: Why they are taken as ``kind``, for the log.

    Returns:
        (H, W) float32 planar depth, all finite and > 0 (see :func:`load_depth`).

    Raises:
        Photo3DError: If no value is valid, a scale is given for disparity or
            overflows float32, distance comes without intrinsics, the clip leaves no pixel inside, or
            the aspect ratio differs from the photo's.

    """
    options = options if options is not None else DepthOptions()
    resolved = kind
    if options.scale is not None and resolved == "disparity":
        raise Photo3DError(
            f"depth map {name} is read as disparity ({how}), where --depth-scale has no meaning (disparity gives "
            "relative depth); pass --depth-kind depth or distance if it holds depth, or drop --depth-scale"
        )
    if resolved == "distance" and intrinsics is None:
        raise Photo3DError(
            f"depth map {name} holds ray distance, which needs the camera's intrinsics to become planar depth; "
            "pass intrinsics (the CLI does this from --fov or --focal-px)"
        )
    h, w = values.shape
    _check_aspect(w, h, width, height, name)

    valid = _valid_mask(values) & (values < NO_GEOMETRY_VALUE)
    if not valid.any():
        raise Photo3DError(
            f"depth map {name} has no valid pixel (every value is NaN, infinite, zero, negative or >= 1e9)"
        )
    raw = values[valid].astype(np.float64)
    low, high = float(raw.min()), float(raw.max())
    if low == high:
        where = "at relative depth 1" if resolved == "disparity" else f"at depth {low * (options.scale or 1.0):g}"
        logger.warning(
            "depth map %s is constant (every valid pixel is %g): the scene is one plane facing the camera, %s",
            name,
            low,
            where,
        )
    if options.invert:
        raw = (low + high) - raw
    if options.scale is not None:
        raw = raw * options.scale
    marked = np.full(values.shape, np.nan, np.float32)
    with np.errstate(over="ignore", under="ignore"):
        marked[valid] = raw
    if not _valid_mask(marked[valid]).all():
        raise SettingsError(
            "scale",
            f"{options.scale:g} takes depth map {name}'s values ({low:g} to {high:g}) "
            "out of float32 range; check the factor",
        )

    logger.info(
        "depth map %s read as %s (%s)%s%s; %.1f %% of pixels invalid and filled",
        name,
        resolved,
        how,
        ", inverted" if options.invert else "",
        f", scaled by {options.scale:g}" if options.scale is not None else "",
        100.0 * (1.0 - valid.mean()),
    )
    if resolved == "distance":  # convert first, so holes take a neighbour's planar depth, not its distance
        assert intrinsics is not None
        grid = intrinsics if (intrinsics.width, intrinsics.height) == (w, h) else intrinsics.scaled(w, h)
        depth = fill_invalid(distance_to_depth(marked, grid), name)
    elif resolved == "disparity":
        depth = disparity_to_depth(fill_invalid(marked, name))
    else:
        depth = fill_invalid(marked, name)
    if options.clip is not None:
        depth = apply_depth_clip(depth, options.clip, relative=resolved == "disparity", name=name)
    if guide is not None and guide.shape[:2] == (height, width) and w < width and h < height:
        from .upsample import upsample_depth

        logger.warning(
            "depth map %s is %dx%d, upsampled to the photo's %dx%d along its colour edges", name, w, h, width, height
        )
        return upsample_depth(depth, guide)
    return resample_depth(depth, width, height, name)


def check_depth(depth: np.ndarray) -> np.ndarray:
    """Checks a planar depth map before it is written or differentiated.

    Args:
        depth: (H, W) array of real numbers: finite and > 0 everywhere, any units.

    Returns:
        ``depth`` as a floating-point array (not copied if it already is one; integers become float64).

    Raises:
        Photo3DError: If it is not a non-empty 2-D array of real numbers, or a pixel is NaN, infinite, zero or
            negative.

    """
    depth = np.asarray(depth)
    if depth.ndim != 2 or depth.shape[0] < 1 or depth.shape[1] < 1:
        raise Photo3DError(f"depth must be a non-empty (H, W) array, got shape {depth.shape}")
    if depth.dtype.kind not in "fiu":
        raise Photo3DError(f"depth must hold real numbers, got dtype {depth.dtype}")
    if depth.dtype.kind != "f":
        depth = depth.astype(np.float64)
    bad = ~(np.isfinite(depth) & (depth > 0))
    if bad.any():
        raise Photo3DError(
            f"depth has {int(bad.sum())} pixels that are NaN, infinite, zero or negative; "
            "fill them first with photo3d.depth.conversions.fill_invalid"
        )
    return depth
