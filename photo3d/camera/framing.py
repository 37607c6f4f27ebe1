"""Framing: the output camera's intrinsics for a given output size, format presets, and the main subject.

* ``none``: the source focal length in pixels, principal point moved with the
  centre of the output. With the photo's own size this is exactly the source
  camera's pixel grid: no zoom, crop or border.
* ``cover`` (default): scaled so the photo covers the whole output (cropping
  the overhang, as video players do for "fill"), then zoomed in by the least
  factor that keeps the frame edge of the photo out of view along the whole
  trajectory (:func:`edge_zoom`). No content is invented beyond the border.
  When the output's aspect differs from the photo's (a landscape photo in a
  1080x1920 frame), the crop window can be slid towards the main subject
  (:func:`find_subject`), staying inside the photo.
* ``contain``: the whole photo fits inside the output (scale = min of the two
  ratios), centred, with bars. The picture is rendered at
  :func:`contain_size` (``base_output_intrinsics`` returns intrinsics of that
  size, as ``cover`` into it) and each rendered frame is centred in the output
  with :func:`letterbox`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..errors import Photo3DError, SettingsError
from .intrinsics import Intrinsics, Pose, unproject_depth

__all__ = [
    "FORMAT_PRESETS",
    "FRAMINGS",
    "Subject",
    "base_output_intrinsics",
    "contain_size",
    "edge_zoom",
    "find_subject",
    "format_preset",
    "letterbox",
    "zoom_about",
]

FRAMINGS = ("cover", "contain", "none")

FORMAT_PRESETS: dict[str, tuple[int, int, float]] = {
    "tiktok": (1080, 1920, 30.0),
    "reels": (1080, 1920, 30.0),
    "shorts": (1080, 1920, 30.0),
    "square": (1080, 1080, 30.0),
    "1080p": (1920, 1080, 30.0),
    "4k": (3840, 2160, 30.0),
}
"""Output ``(width, height, fps)`` of each named format: 9:16 vertical video for TikTok, Instagram Reels and
YouTube Shorts, a square post, and 16:9 Full HD and UHD."""


def format_preset(name: str) -> tuple[int, int, float]:
    """``(width, height, fps)`` of a named output format (case-insensitive).

    Args:
        name: One of the keys of :data:`FORMAT_PRESETS` (``tiktok``, ``reels``, ``shorts``, ``square``, ``1080p``,
            ``4k``).

    Returns:
        Width and height in pixels (even numbers) and frames per second.

    Raises:
        Photo3DError: For an unknown name; the message lists the known ones.

    """
    key = str(name).strip().lower()
    if key not in FORMAT_PRESETS:
        raise Photo3DError(f"unknown format {name!r}: choose one of {', '.join(FORMAT_PRESETS)}")
    return FORMAT_PRESETS[key]


# --- the main subject ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The main subject of a photo, found from its depth.

    Attributes:
        depth: Planar depth of the subject in the depth map's units (> 0): a robust (weighted median) estimate
            over the subject, not the centre pixel.
        x: Column of the subject's centre in source pixel coordinates, continuous as for ``cx``: the centre of
            pixel column ``u`` is ``u + 0.5``, so the range is ``[0, W]``.
        y: Row of the subject's centre, likewise in ``[0, H]``.
        mask: (h, w) bool mask of the subject at the analysis resolution (the depth map downsampled to at most
            :data:`ANALYSIS_SIZE` pixels on its longer side; resize it with nearest-neighbour to use it at full
            size), or None when no separate subject was found.
        found: True when a near subject was separated from the background; False for the fallback (the
            centre-weighted median depth of the whole photo, positioned at the image centre), e.g. for a single
            plane.

    """

    depth: float
    x: float
    y: float
    mask: np.ndarray | None = None
    found: bool = False

    @property
    def position(self) -> tuple[float, float]:
        """``(x, y)``, as :func:`base_output_intrinsics` takes it."""
        return (self.x, self.y)


ANALYSIS_SIZE = 256
"""Longer side, in pixels, of the downsampled depth map that :func:`find_subject` analyses."""

_MIN_SUBJECT_WEIGHT = 0.005  # a subject holds at least this share of the centre-weighted valid area
_MIN_NEAR_WEIGHT = 0.005  # below this share the near class is noise: fall back
_FLAT_SPREAD = 0.01  # disparity spread (1st to 99th percentile) below this relative to the median: one plane
_CENTRE_SIGMA = 0.3  # the centre weight's sigma as a fraction of each side


def find_subject(depth: np.ndarray, image: np.ndarray | None = None) -> Subject:
    """The main subject's depth and position, from the depth map alone.

    Method (after the usual "near, central object" heuristic of depth-based autofocus; the threshold is
    N. Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. SMC 9(1), 1979):

    1. Downsample to at most :data:`ANALYSIS_SIZE` pixels on the longer side (a stride to about twice that,
       then area averaging of the disparity), so a 12 MP map costs a few milliseconds. Invalid pixels
       (non-finite or <= 0) carry no weight.
    2. Work in disparity ``1/Z``, where near and far objects separate more evenly than in depth.
    3. Weight every pixel with a centred Gaussian, sigma 0.3 of the image side along each axis, so objects
       near the middle count more.
    4. Split near from far with Otsu's threshold on the weighted histogram of disparity (128 bins between its
       1st and 99th percentiles, so a few outliers cannot stretch the range).
    5. The subject is the connected component (8-neighbour) of the near class with the largest weight. It
       must hold at least 0.5 % of the total weight, so a near speck of a few pixels is never chosen.
    6. Subject depth = ``1 / weighted median`` of its disparity (the weighted median of its depth);
       position = the unweighted centroid of the component (the weights choose the object; they would pull its
       centre towards the middle of the photo).

    Fallback (``found = False``): when the disparity spread is under 1 % of its median (a single plane), or
    the near class or the best component is too small, the subject is the centre-weighted median depth of the
    whole photo at the image centre.

    Args:
        depth: (H, W) planar depth, float, any positive units; non-finite or non-positive values are invalid.
        image: Optional (H, W, 3) photo. The method uses depth only; the argument is accepted so that an
            appearance cue can be added without changing callers.

    Returns:
        The :class:`Subject`, with ``x`` in ``[0, W]`` and ``y`` in ``[0, H]``.

    Raises:
        Photo3DError: If ``depth`` is not a 2-D array or has no valid (finite, positive) value.

    """
    depth = np.asarray(depth)
    if depth.ndim != 2 or depth.size == 0:
        raise Photo3DError(f"depth map must be a 2-D array, got shape {depth.shape}")
    height, width = depth.shape
    disp, stride, (sh, sw) = _analysis_disparity(depth)
    valid = disp > 0
    if not valid.any():
        raise Photo3DError("depth map has no valid (finite, positive) values")
    h, w = disp.shape

    # Centre weight on pixel centres of the analysis grid.
    gy = np.exp(-0.5 * (((np.arange(h) + 0.5) / h - 0.5) / _CENTRE_SIGMA) ** 2)
    gx = np.exp(-0.5 * (((np.arange(w) + 0.5) / w - 0.5) / _CENTRE_SIGMA) ** 2)
    weight = np.outer(gy, gx) * valid
    total = weight.sum()

    def to_source(xa: float, ya: float) -> tuple[float, float]:
        # analysis -> strided (area resize maps continuous coordinates linearly) -> source (stride sample j is
        # source pixel j * stride, whose centre is at j * stride + 0.5).
        xs, ys = xa * sw / w, ya * sh / h
        return stride * (xs - 0.5) + 0.5, stride * (ys - 0.5) + 0.5

    values = disp[valid]
    fallback = Subject(
        depth=float(1.0 / _weighted_median(values, weight[valid])),
        x=width / 2.0,
        y=height / 2.0,
        mask=None,
        found=False,
    )
    lo, hi = np.percentile(values, [1.0, 99.0])
    if not hi - lo > _FLAT_SPREAD * np.median(values):
        return fallback

    threshold = _otsu_threshold(np.clip(values, lo, hi), weight[valid], lo, hi)
    near = valid & (disp > threshold)
    if weight[near].sum() < _MIN_NEAR_WEIGHT * total:
        return fallback
    count, labels = cv2.connectedComponents(near.astype(np.uint8), connectivity=8)
    if count < 2:
        return fallback
    component_weight = np.bincount(labels.ravel(), weights=weight.ravel(), minlength=count)
    component_weight[0] = 0.0  # the far class
    best = int(np.argmax(component_weight))
    if component_weight[best] < _MIN_SUBJECT_WEIGHT * total:
        return fallback
    mask = labels == best
    rows, cols = np.nonzero(mask)
    x, y = to_source(float(cols.mean()) + 0.5, float(rows.mean()) + 0.5)
    subject_depth = 1.0 / _weighted_median(disp[mask], weight[mask])
    return Subject(
        depth=float(subject_depth),
        x=float(np.clip(x, 0.0, width)),
        y=float(np.clip(y, 0.0, height)),
        mask=mask,
        found=True,
    )


def _analysis_disparity(depth: np.ndarray) -> tuple[np.ndarray, int, tuple[int, int]]:
    """Disparity on the analysis grid (0 where invalid), the stride used, and the strided size ``(h, w)``."""
    longer = max(depth.shape)
    stride = max(1, longer // (2 * ANALYSIS_SIZE))
    strided = depth[::stride, ::stride].astype(np.float32)
    sh, sw = strided.shape
    valid = np.isfinite(strided) & (strided > 0)
    disp = np.zeros_like(strided)
    np.divide(1.0, strided, out=disp, where=valid)
    scale = ANALYSIS_SIZE / max(sh, sw)
    if scale >= 1.0:
        return disp, stride, (sh, sw)
    size = (max(1, round(sw * scale)), max(1, round(sh * scale)))
    total = cv2.resize(disp, size, interpolation=cv2.INTER_AREA)
    share = cv2.resize(valid.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    out = np.zeros_like(total)
    ok = share > 0.5  # mostly valid: the mean of the valid part
    out[ok] = total[ok] / share[ok]
    return out, stride, (sh, sw)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The lower weighted median (the value where the cumulative weight first reaches half)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, 0.5 * cumulative[-1]))
    return float(values[order][min(index, len(values) - 1)])


def _otsu_threshold(values: np.ndarray, weights: np.ndarray, lo: float, hi: float, bins: int = 128) -> float:
    """Otsu's threshold of a weighted histogram: maximises the between-class variance."""
    hist, edges = np.histogram(values, bins=bins, range=(lo, hi), weights=weights)
    p = hist / hist.sum()
    centres = 0.5 * (edges[:-1] + edges[1:])
    omega = np.cumsum(p)
    mu = np.cumsum(p * centres)
    denom = omega * (1.0 - omega)
    between = np.zeros_like(omega)
    ok = denom > 1e-12
    between[ok] = (mu[-1] * omega[ok] - mu[ok]) ** 2 / denom[ok]
    return float(edges[int(np.argmax(between)) + 1])


# --- output intrinsics -----------------------------------------------------------------------------------------


def base_output_intrinsics(
    source: Intrinsics,
    width: int,
    height: int,
    framing: str,
    subject: tuple[float, float] | None = None,
) -> Intrinsics:
    """Output intrinsics before any zoom for camera motion.

    ``cover``: scale ``s = max(width / W, height / H)``; the crop window, ``width / s`` x ``height / s`` source
    pixels, is centred on ``subject`` (source pixel coordinates, e.g. :attr:`Subject.position`) as nearly as
    it can be while staying inside the photo, i.e. its centre is ``clamp(subject, window / 2, W - window / 2)``
    along each axis; without a subject it is centred on the photo. The window centre ``c`` lands on the
    output centre: ``cx_out = width / 2 + (cx - c_x) * s``, likewise ``cy_out``. The principal point thus
    moves off the output centre when the window slides: zoom with :func:`zoom_about` about the output centre
    to keep the subject in the middle.

    ``contain``: the intrinsics of the picture area, :func:`contain_size` pixels (not ``width`` x ``height``):
    the photo scaled by ``min(width / W, height / H)`` (to even sizes, as ``cover`` into that size, so any
    overhang is under a pixel). Render at that size and :func:`letterbox` each frame into the output.

    ``none``: the source focal length, principal point moved with the centre of the output.

    Args:
        source: Source camera (W x H).
        width: Output width in pixels.
        height: Output height in pixels.
        framing: ``"cover"``, ``"contain"`` or ``"none"``.
        subject: Optional ``(x, y)`` in source pixel coordinates (pixel centres at ``u + 0.5``) to keep in
            view; used by ``cover`` only.

    Raises:
        Photo3DError: For an unknown framing.

    """
    if framing == "none":
        return replace(
            source,
            width=width,
            height=height,
            cx=source.cx + (width - source.width) / 2.0,
            cy=source.cy + (height - source.height) / 2.0,
        )
    if framing == "cover":
        s = max(width / source.width, height / source.height)
        centre_x, centre_y = source.width / 2.0, source.height / 2.0
        if subject is not None:
            centre_x = _clamp_window(float(subject[0]), width / s, source.width)
            centre_y = _clamp_window(float(subject[1]), height / s, source.height)
        return Intrinsics(
            width,
            height,
            source.fx * s,
            source.fy * s,
            width / 2.0 + (source.cx - centre_x) * s,
            height / 2.0 + (source.cy - centre_y) * s,
        )
    if framing == "contain":
        picture_w, picture_h = contain_size(source, width, height)
        return base_output_intrinsics(source, picture_w, picture_h, "cover")
    raise SettingsError("framing", f"must be one of {', '.join(FRAMINGS)}, got {framing!r}")


def _clamp_window(target: float, window: float, side: float) -> float:
    """Centre of a window of ``window`` pixels inside ``[0, side]``, as close to ``target`` as it can be."""
    half = window / 2.0
    if side - half <= half:  # the window spans the whole side (up to rounding)
        return side / 2.0
    return float(min(max(target, half), side - half))


def contain_size(source: Intrinsics, width: int, height: int) -> tuple[int, int]:
    """Size of the photo's area in a ``width`` x ``height`` frame when the whole photo fits inside it.

    The photo is scaled by ``s = min(width / W, height / H)``; each side is rounded to the nearest even
    number (video encoders need even sizes), at least 2 and at most the output side (rounded down to even).

    Args:
        source: Source camera (W x H).
        width: Output width in pixels (>= 2).
        height: Output height in pixels (>= 2).

    Returns:
        ``(w, h)`` in pixels, even.

    Raises:
        Photo3DError: If the output is smaller than 2 x 2.

    """
    if width < 2 or height < 2:
        raise Photo3DError(f"output size must be at least 2x2, got {width}x{height}")
    s = min(width / source.width, height / source.height)

    def even(x: float, limit: int) -> int:
        return int(min(max(2, 2 * round(x / 2.0)), limit - limit % 2))

    return even(source.width * s, width), even(source.height * s, height)


def letterbox(frame: np.ndarray, width: int, height: int, color: tuple[int, ...] | int = (0, 0, 0)) -> np.ndarray:
    """Centres a rendered frame in a ``width`` x ``height`` output, with bars of ``color``.

    The frame's top-left corner goes to ``((width - w) // 2, (height - h) // 2)``.

    Args:
        frame: (h, w) or (h, w, C) image of any dtype, no larger than the output.
        width: Output width in pixels.
        height: Output height in pixels.
        color: Bar colour: one value per channel (an RGB triple is extended with an opaque alpha for a
            4-channel frame), or a single value for every channel.

    Returns:
        (height, width[, C]) array of the frame's dtype.

    Raises:
        ValueError: If the frame is larger than the output or ``color`` does not match its channels.

    """
    h, w = frame.shape[:2]
    if w > width or h > height:
        raise ValueError(f"frame {w}x{h} does not fit in {width}x{height}")
    channels = frame.shape[2:] if frame.ndim == 3 else ()
    fill = np.asarray(color, dtype=np.float64).ravel()
    if channels and fill.size == 3 and channels[0] == 4:
        fill = np.append(fill, np.iinfo(frame.dtype).max if frame.dtype.kind in "ui" else 1.0)
    if fill.size != 1 and (not channels or fill.size != channels[0]):
        raise ValueError(f"color has {fill.size} values for a frame of shape {frame.shape}")
    out = np.empty((height, width, *channels), dtype=frame.dtype)
    out[...] = fill if channels else fill[0]
    x0, y0 = (width - w) // 2, (height - h) // 2
    out[y0 : y0 + h, x0 : x0 + w] = frame
    return out


def zoom_about(intrinsics: Intrinsics, factor: float, center: tuple[float, float]) -> Intrinsics:
    """Zoom by ``factor`` about an image point instead of the principal point.

    Every pixel ``p`` moves to ``center + factor * (p - center)``: ``f' = factor * f``,
    ``c' = center + factor * (c - center)``. With ``center = (cx, cy)`` this is :meth:`Intrinsics.zoomed`.
    Applying the same zoom about the same point to both eyes of a stereo pair keeps their zero-disparity
    plane.

    Args:
        intrinsics: Camera to zoom.
        factor: Zoom factor (> 1 zooms in).
        center: ``(x, y)`` output pixel coordinates of the fixed point, e.g. ``(width / 2, height / 2)``.

    """
    ax, ay = center
    return replace(
        intrinsics,
        fx=intrinsics.fx * factor,
        fy=intrinsics.fy * factor,
        cx=ax + factor * (intrinsics.cx - ax),
        cy=ay + factor * (intrinsics.cy - ay),
    )


def edge_zoom(
    depth: np.ndarray,
    source: Intrinsics,
    cameras: list[tuple[Pose, Intrinsics]],
    max_zoom: float = 1.5,
    *,
    center: tuple[float, float] | None = None,
) -> float:
    """Least zoom that keeps the photo's frame edge out of view.

    The source image's border pixels are unprojected at their depth and
    projected into each camera. For each side, the zoom must push the output
    frame's edge inside the projected border: for the left side
    ``z >= a / (a - max(u_left))`` with ``a`` the zoom centre's x, and likewise for the others.

    Args:
        depth: (H, W) planar depth of the source photo.
        source: Source camera.
        cameras: ``(pose, intrinsics)`` of every frame (intrinsics before zoom).
        max_zoom: Upper bound; a larger need is clamped (edges may then show).
        center: Zoom centre ``(x, y)`` in output pixels, as for :func:`zoom_about`; None zooms about each
            camera's principal point (:meth:`Intrinsics.zoomed`).

    Returns:
        Zoom factor in [1, max_zoom].

    """
    points = unproject_depth(depth, source).astype(np.float64)
    sides = {
        "left": points[:, 0],
        "right": points[:, -1],
        "top": points[0, :],
        "bottom": points[-1, :],
    }
    zoom = 1.0
    for pose, k in cameras:
        ax, ay = (k.cx, k.cy) if center is None else center
        m = pose.world_to_camera()
        for side, p in sides.items():
            q = p @ m[:3, :3].T + m[:3, 3]
            q = q[q[:, 2] > 1e-9]
            if len(q) == 0:
                return max_zoom
            u = k.fx * q[:, 0] / q[:, 2] + k.cx
            v = k.fy * q[:, 1] / q[:, 2] + k.cy
            if side == "left":
                need = ax / max(ax - u.max(), 1e-9) if u.max() > 0 else 1.0
            elif side == "right":
                need = (k.width - ax) / max(u.min() - ax, 1e-9) if u.min() < k.width else 1.0
            elif side == "top":
                need = ay / max(ay - v.max(), 1e-9) if v.max() > 0 else 1.0
            else:
                need = (k.height - ay) / max(v.min() - ay, 1e-9) if v.min() < k.height else 1.0
            zoom = max(zoom, need)
    return float(min(zoom, max_zoom))
