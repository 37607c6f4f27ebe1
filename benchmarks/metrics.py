"""Depth accuracy metrics (scale-and-shift alignment, AbsRel, δ<1.25) and a rendering flicker metric.

For rendered videos, :func:`temporal_flicker` measures shimmer as the mean absolute
second temporal difference in linear light (see its docstring).

Monocular depth models predict depth only up to an unknown transform: a
*relative* model (MiDaS, Depth Anything) gives disparity up to scale and shift,
and even a *metric* model is off by a global scale on an unfamiliar camera. So,
as in the MiDaS protocol (Ranftl et al., "Towards Robust Monocular Depth
Estimation: Mixing Datasets for Zero-shot Cross-dataset Transfer", TPAMI 2020),
every prediction is first aligned to the ground truth **in disparity space**
by least squares, and only then compared in depth space:

1. ``valid`` = the caller's mask ∩ pixels with ground truth (``gt_depth > 0``
   and finite) ∩ the optional ``[min_depth, max_depth]`` range.
2. The prediction becomes a disparity: itself for ``pred_kind="disparity"``,
   ``1 / pred`` for ``pred_kind="depth"`` (non-positive depth counts as
   infinitely far: disparity 0).
3. ``s, t = argmin Σ_valid (s·pred_disp + t − 1/gt_depth)²``
   (:func:`align_scale_shift`).
4. The aligned disparity ``s·pred_disp + t`` is clamped to at least
   ``1 / max_depth`` (``max_depth`` defaults to the largest valid ground-truth
   depth), and to at most ``1 / min_depth`` when ``min_depth`` is given, so it
   stays positive; the predicted depth is its inverse.
5. Metrics over the valid pixels, with ``d`` the predicted and ``d*`` the
   ground-truth depth: AbsRel = mean(|d − d*| / d*), δ<1.25 = fraction of
   pixels with max(d / d*, d* / d) < 1.25, RMSE = sqrt(mean((d − d*)²)).

Because of step 3 the metrics are invariant to any affine transform of a
disparity prediction and to any scale of a depth prediction, and ground truth
known only up to scale (Middlebury's ``Z = f·B / d`` with unknown ``f·B``) can
be used as it is. RMSE is in the ground truth's units and so is meaningful
only for metric ground truth.

>>> import numpy as np
>>> gt = np.array([[1.0, 2.0], [4.0, 8.0]], dtype=np.float32)  # metres
>>> m = depth_metrics(3.0 / gt + 0.5, "disparity", gt, None)  # affine in disparity: perfect
>>> round(m.abs_rel, 6), m.delta1, m.pixels
(0.0, 1.0, 4)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

__all__ = ["DepthMetrics", "PredictionKind", "align_scale_shift", "depth_metrics", "srgb_to_linear", "temporal_flicker"]

PredictionKind = Literal["disparity", "depth"]
"""What a prediction holds: relative inverse depth (any scale and shift) or depth (any scale)."""

_DELTA = 1.25
_CONSTANT_RTOL = 1e-9  # a prediction whose spread is below this fraction of its magnitude is constant


@dataclass(frozen=True)
class DepthMetrics:
    """Accuracy of one depth prediction against ground truth, after alignment.

    Attributes:
        abs_rel: Mean absolute relative error mean(|d − d*| / d*), >= 0 (0 is perfect).
        delta1: Fraction of pixels with max(d / d*, d* / d) < 1.25, in [0, 1] (1 is perfect).
        rmse: Root mean squared depth error sqrt(mean((d − d*)²)), in the ground truth's units.
        pixels: Number of pixels evaluated (the valid pixels, see :func:`depth_metrics`).
        scale: Scale ``s`` of the disparity alignment ``s·pred_disp + t ≈ 1 / gt_depth``.
        shift: Shift ``t`` of that alignment, in 1 / (ground-truth units).

    """

    abs_rel: float
    delta1: float
    rmse: float
    pixels: int
    scale: float
    shift: float

    def as_dict(self) -> dict[str, float | int]:
        """The fields as a plain dict (for JSON)."""
        return asdict(self)


def _check_map(name: str, array: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name} must be an (H, W) array, got shape {array.shape}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have the prediction's shape {shape}, got {array.shape}")
    return array


def _check_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if mask is None:
        return np.ones(shape, dtype=bool)
    mask = _check_map("mask", mask, shape)
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be a bool array, got dtype {mask.dtype}")
    return mask


def align_scale_shift(pred_disparity: np.ndarray, gt_disparity: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Least-squares scale and shift that map a predicted disparity onto the ground truth.

    Solves ``min_{s, t} Σ_mask (s·pred_disparity + t − gt_disparity)²`` in closed
    form (float64, centred sums), the alignment of the MiDaS protocol. ``s`` may
    be negative (a prediction with near and far swapped).

    Args:
        pred_disparity: (H, W) float predicted disparity (any scale and shift, any units).
        gt_disparity: (H, W) float ground-truth disparity, e.g. ``1 / depth``.
        mask: (H, W) bool; True = pixel used. Both maps must be finite there.

    Returns:
        ``(scale, shift)`` as Python floats: ``scale·pred_disparity + shift`` is the
        best fit to ``gt_disparity`` (``shift`` in the ground truth's units).

    Raises:
        ValueError: If the shapes differ, ``mask`` is not bool, fewer than 2
            pixels are masked in, a masked value is not finite, or the prediction
            is constant over the mask (then the scale is undetermined).

    Examples:
        >>> import numpy as np
        >>> p = np.array([[0.0, 1.0], [2.0, 3.0]])
        >>> align_scale_shift(p, 2.0 * p + 1.0, np.ones((2, 2), dtype=bool))
        (2.0, 1.0)

    """
    pred_disparity = _check_map("pred_disparity", pred_disparity)
    gt_disparity = _check_map("gt_disparity", gt_disparity, pred_disparity.shape)
    mask = _check_mask(mask, pred_disparity.shape)
    count = int(np.count_nonzero(mask))
    if count < 2:
        raise ValueError(f"need at least 2 pixels in mask to fit a scale and a shift, got {count}")
    p = pred_disparity[mask].astype(np.float64)
    g = gt_disparity[mask].astype(np.float64)
    for name, values in (("pred_disparity", p), ("gt_disparity", g)):
        bad = int(np.count_nonzero(~np.isfinite(values)))
        if bad:
            raise ValueError(f"{name} has {bad} non-finite value(s) inside mask")
    pc = p - p.mean()
    spp = float(np.dot(pc, pc))
    if np.sqrt(spp / count) <= _CONSTANT_RTOL * float(np.max(np.abs(p))) or spp == 0.0:
        raise ValueError(
            f"pred_disparity is constant ({p[0]:.6g}) over the {count} masked pixels; scale and shift are undetermined"
        )
    scale = float(np.dot(pc, g - g.mean()) / spp)
    shift = float(g.mean() - scale * p.mean())
    return scale, shift


def depth_metrics(
    pred: np.ndarray,
    pred_kind: PredictionKind,
    gt_depth: np.ndarray,
    mask: np.ndarray | None,
    *,
    min_depth: float | None = None,
    max_depth: float | None = None,
) -> DepthMetrics:
    """AbsRel, δ<1.25 and RMSE of a prediction after scale-and-shift alignment in disparity space.

    The protocol is spelled out in the module docstring. Pixels where the
    prediction is not evaluated (outside ``mask``, without ground truth, or
    outside ``[min_depth, max_depth]``) may hold anything, NaN included.

    Args:
        pred: (H, W) float prediction at the ground truth's resolution.
        pred_kind: ``"disparity"``: relative inverse depth, larger = nearer, known
            up to scale and shift (Depth Anything, MiDaS). ``"depth"``: planar
            depth, larger = farther, metric or known up to scale; it is inverted
            (non-positive values give disparity 0) and aligned in disparity space too.
        gt_depth: (H, W) float ground-truth planar depth, > 0 where known; 0, a
            negative value or NaN = no ground truth. Any units (metres, or relative).
        mask: (H, W) bool, True = evaluate this pixel (it must also have ground
            truth), or None = every pixel with ground truth.
        min_depth: If given, only ground truth >= min_depth is evaluated, and
            predictions are clamped to >= min_depth. In ``gt_depth``'s units.
        max_depth: If given, only ground truth <= max_depth is evaluated.
            Predictions are clamped to <= max_depth, which defaults to the
            largest evaluated ground-truth depth. In ``gt_depth``'s units.

    Returns:
        A :class:`DepthMetrics` with the metrics, the pixel count and the alignment.

    Raises:
        ValueError: If ``pred_kind`` is unknown, the shapes differ, ``mask`` is
            not bool, ``min_depth``/``max_depth`` are not positive or not ordered,
            fewer than 2 pixels are valid, the prediction is not finite on a
            valid pixel, or it is constant over the valid pixels.

    """
    if pred_kind not in ("disparity", "depth"):
        raise ValueError(f"pred_kind must be 'disparity' or 'depth', got {pred_kind!r}")
    pred = _check_map("pred", pred)
    gt_depth = _check_map("gt_depth", gt_depth, pred.shape)
    mask = _check_mask(mask, pred.shape)
    for name, value in (("min_depth", min_depth), ("max_depth", max_depth)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number or None, got {value}")
    if min_depth is not None and max_depth is not None and min_depth >= max_depth:
        raise ValueError(f"min_depth ({min_depth}) must be below max_depth ({max_depth})")

    gt = gt_depth.astype(np.float64)
    with np.errstate(invalid="ignore"):
        valid = mask & np.isfinite(gt) & (gt > 0)
        if min_depth is not None:
            valid &= gt >= min_depth
        if max_depth is not None:
            valid &= gt <= max_depth
    count = int(np.count_nonzero(valid))
    if count < 2:
        raise ValueError(f"need at least 2 valid pixels (mask ∩ ground truth > 0 ∩ depth range), got {count}")

    p = pred[valid].astype(np.float64)
    bad = int(np.count_nonzero(~np.isfinite(p)))
    if bad:
        raise ValueError(f"pred has {bad} non-finite value(s) on the {count} valid pixels")
    if pred_kind == "depth":
        with np.errstate(divide="ignore"):
            p = np.where(p > 0, 1.0 / np.where(p > 0, p, 1.0), 0.0)
    d_gt = gt[valid]
    g = 1.0 / d_gt
    ones = np.ones(count, dtype=bool)
    scale, shift = align_scale_shift(p[None, :], g[None, :], ones[None, :])

    cap = float(d_gt.max()) if max_depth is None else float(max_depth)
    aligned = np.maximum(scale * p + shift, 1.0 / cap)
    if min_depth is not None:
        aligned = np.minimum(aligned, 1.0 / min_depth)
    d = 1.0 / aligned

    ratio = np.maximum(d / d_gt, d_gt / d)
    return DepthMetrics(
        abs_rel=float(np.mean(np.abs(d - d_gt) / d_gt)),
        delta1=float(np.mean(ratio < _DELTA)),
        rmse=float(np.sqrt(np.mean((d - d_gt) ** 2))),
        pixels=count,
        scale=scale,
        shift=shift,
    )


# --- Rendering quality ------------------------------------------------------------------------------------------------


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """Decodes 8-bit sRGB values to linear light (the exact IEC 61966-2-1 transfer function).

    Args:
        values: uint8 array of any shape, sRGB-encoded 0-255.

    Returns:
        float64 array of the same shape, linear light in [0, 1].

    """
    c = np.asarray(values, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def temporal_flicker(frames: np.ndarray) -> float:
    """Mean absolute second temporal difference of a video, in linear light: a measure of shimmer.

    For a static scene seen by a camera moving at a constant sub-pixel speed, a
    well-filtered (band-limited) rendering changes each pixel's intensity almost
    linearly from frame to frame, so the second difference
    ``I[t+1] - 2 I[t] + I[t-1]`` is near zero (of the order of (speed x
    spatial frequency)^2 times the filtered detail's contrast, plus 8-bit
    rounding). Aliasing (point-sampled detail near or above the output's Nyquist
    frequency, crawling edges) makes pixels jump back and forth and the second
    difference large. The metric is the mean of ``|I[t+1] - 2 I[t] + I[t-1]|``
    over all inner frames t, pixels and channels, with ``I`` in linear light
    (sRGB decoded), so its unit is linear intensity: 0 = perfectly smooth, up to
    4 for frames alternating between black and white. Multiply by 255 for
    "8-bit linear" units.

    Args:
        frames: (T, H, W, 3) uint8 sRGB frames, T >= 3, in temporal order.

    Returns:
        The mean absolute second difference, a float >= 0 in linear-intensity units.

    Raises:
        ValueError: If ``frames`` is not a (T, H, W, 3) uint8 array with T >= 3.

    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be a (T, H, W, 3) uint8 array, got shape {frames.shape} dtype {frames.dtype}")
    if frames.shape[0] < 3:
        raise ValueError(f"need at least 3 frames for a second temporal difference, got {frames.shape[0]}")
    lin = srgb_to_linear(frames)
    return float(np.mean(np.abs(lin[2:] - 2.0 * lin[1:-1] + lin[:-2])))
