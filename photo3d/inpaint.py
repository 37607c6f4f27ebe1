"""Inpainting of back layers from background context only.

Two fills, both reading nothing but the pixels a context mask allows:

* :func:`push_pull_fill` fills colour with the push-pull (pull-push) pyramid of
  Gortler et al., "The Lumigraph" (SIGGRAPH 1996): weighted averages at
  coarser and coarser scales, then blended back down, so each hole pixel takes
  the nearest context it can reach at the finest scale that has some.
* :func:`extrapolate_disparity` continues the background surface under the
  foreground: a plane fitted to the context disparity around each edge seed and
  extended from it, so planes stay planes (disparity is affine in the image on a
  plane).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["extrapolate_disparity", "push_pull_fill"]


def push_pull_fill(values: np.ndarray, context: np.ndarray) -> np.ndarray:
    """Fills every pixel from the context pixels only.

    Args:
        values: (H, W, C) or (H, W) float32 values (e.g. colour 0-255).
        context: (H, W) bool; True where ``values`` may be read. Pixels outside
            it never influence the result.

    Returns:
        Array like ``values``: equal to ``values`` on the context, and elsewhere
        a smooth fill from the nearest context. All zeros if the context is empty.

    """
    squeeze = values.ndim == 2
    v = values[..., None] if squeeze else values
    w = context.astype(np.float32)
    levels_v = [v.astype(np.float32) * w[..., None]]
    levels_w = [w]
    while min(levels_w[-1].shape) > 1:
        h, wd = levels_w[-1].shape
        size = (max(1, (wd + 1) // 2), max(1, (h + 1) // 2))
        pv = cv2.resize(levels_v[-1], size, interpolation=cv2.INTER_AREA)
        levels_v.append(pv.reshape(size[1], size[0], -1))
        levels_w.append(cv2.resize(levels_w[-1], size, interpolation=cv2.INTER_AREA))
    fill = levels_v[-1] / np.maximum(levels_w[-1], 1e-12)[..., None]
    for lv, lw in zip(reversed(levels_v[:-1]), reversed(levels_w[:-1]), strict=True):
        h, wd = lw.shape
        up = cv2.resize(fill, (wd, h), interpolation=cv2.INTER_LINEAR).reshape(h, wd, -1)
        mean = lv / np.maximum(lw, 1e-12)[..., None]
        # Confidence: a pixel fully covered by context keeps its own mean.
        a = np.clip(lw * 4.0, 0.0, 1.0)[..., None]
        fill = a * mean + (1.0 - a) * up
    out = np.where(context[..., None], v, fill).astype(np.float32)
    return out[..., 0] if squeeze else out


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), normalize=False, borderType=cv2.BORDER_CONSTANT)


def extrapolate_disparity(
    disparity: np.ndarray,
    context: np.ndarray,
    seed_y: np.ndarray,
    seed_x: np.ndarray,
    radius: int = 4,
    max_residual: float = np.inf,
) -> np.ndarray:
    """Continues the background surface from edge seeds by local plane fits.

    For every pixel p, a plane ``d = a + gx * x + gy * y`` is fitted by least
    squares to the context disparity in a ``(2 radius + 1)^2`` window around
    its seed s (its nearest background edge pixel) and evaluated at p:
    ``d(p) = d(s) + gx (px - sx) + gy (py - sy)``. Where the window has too
    little context to fix a plane, or the context is not planar (RMS residual of
    the fit above ``max_residual``, as on noisy sensor depth), the gradient is
    zero: the background is continued at the seed's disparity.

    Args:
        disparity: (H, W) float32 disparity (any positive scale).
        context: (H, W) bool mask of background pixels the fit may read.
        seed_y: (H, W) int row of each pixel's seed.
        seed_x: (H, W) int column of each pixel's seed.
        radius: Half-size of the fitting window in pixels.
        max_residual: Largest RMS residual (disparity units) at which a fitted plane is trusted.

    Returns:
        (H, W) float32 extrapolated disparity.

    """
    h, w = disparity.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    wt = context.astype(np.float32)
    d = disparity.astype(np.float32) * wt
    # Centred coordinates keep the normal equations well conditioned.
    xc = (xs - w / 2) * wt
    yc = (ys - h / 2) * wt
    s1, sx, sy = _box(wt, radius), _box(xc, radius), _box(yc, radius)
    sxx, syy, sxy = _box(xc * (xs - w / 2), radius), _box(yc * (ys - h / 2), radius), _box(xc * (ys - h / 2), radius)
    sd, sxd, syd = _box(d, radius), _box(xc * disparity, radius), _box(yc * disparity, radius)
    sdd = _box(d * disparity, radius)
    n = np.maximum(s1, 1e-6)
    # Centred second moments (covariances) of the window's context pixels.
    cxx = sxx - sx * sx / n
    cyy = syy - sy * sy / n
    cxy = sxy - sx * sy / n
    cxd = sxd - sx * sd / n
    cyd = syd - sy * sd / n
    det = cxx * cyy - cxy * cxy
    ok = (s1 >= 6) & (det > 1e-3 * np.maximum(cxx * cyy, 1e-6)) & (cxx > 0.5) & (cyy > 0.5)
    safe = np.where(ok, det, 1.0)
    gx = np.where(ok, (cyy * cxd - cxy * cyd) / safe, 0.0)
    gy = np.where(ok, (cxx * cyd - cxy * cxd) / safe, 0.0)
    # Least-squares residual: what the plane leaves of the disparity's variance.
    residual = np.maximum(sdd - sd * sd / n - gx * cxd - gy * cyd, 0.0) / n
    planar = residual <= max_residual**2
    gx, gy = np.where(planar, gx, 0.0), np.where(planar, gy, 0.0)
    sgx = gx[seed_y, seed_x]
    sgy = gy[seed_y, seed_x]
    base = disparity[seed_y, seed_x]
    return (base + sgx * (xs - seed_x) + sgy * (ys - seed_y)).astype(np.float32)
