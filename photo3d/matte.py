"""Alpha mattes at depth discontinuities: soft silhouettes for the LDI.

A depth map never resolves a silhouette as finely as the photo: its edges are
a few pixels off the colour edge (networks, phones) and a pixel on the edge
mixes foreground and background colour (a lens integrates both; hair and fur
are thinner than a pixel). Cutting the surface at the depth edge therefore
leaves foreground-coloured pixels on the background (a halo that stays behind
when the foreground moves) or background-coloured ones on the foreground.

Following the soft layering of Jampani et al., "SLIDE: Single Image 3D
Photography with Soft Layering and Depth-aware Inpainting" (ICCV 2021), the
pixels within ``radius`` of every cut form the unknown region of a trimap, the
pixels beyond it on either side are known foreground and background, and an
alpha matte with decontaminated foreground and background colours is solved
there (the trimap comes from :func:`photo3d.ldi.build_ldi`). The solver is
pymatting's closed-form matting (Levin et al., "A Closed Form Solution to
Natural Image Matting", CVPR 2006) and its multi-level
foreground estimation (Germer et al., "Fast Multi-Level Foreground Estimation",
ICPR 2020), run on tiles that hold unknown pixels only.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

__all__ = ["UNKNOWN", "SilhouetteMatte", "estimate_matte"]

UNKNOWN = 0.5
"""Trimap value of the pixels whose alpha is solved; known pixels are 0 (background) or 1 (foreground)."""


@dataclass
class SilhouetteMatte:
    """An alpha matte around depth discontinuities.

    Attributes:
        alpha: (H, W) float32 foreground opacity in [0, 1]: solved on ``unknown``
            (NaN where it could not be), the trimap's 0 or 1 elsewhere.
        foreground: (H, W, 3) float32 sRGB 0-255, the foreground colour without
            background mixed in (decontaminated) on ``unknown``; the photo elsewhere.
        background: (H, W, 3) float32 sRGB 0-255, the background colour behind
            ``unknown`` pixels; the photo elsewhere. On ``unknown``,
            ``alpha * foreground + (1 - alpha) * background`` is about the photo.
        unknown: (H, W) bool, the trimap's unknown region.

    """

    alpha: np.ndarray
    foreground: np.ndarray
    background: np.ndarray
    unknown: np.ndarray


def estimate_matte(
    image: np.ndarray,
    trimap: np.ndarray,
    tile: int = 128,
    max_iterations: int = 1000,
    colors: bool = True,
    workers: int | None = None,
) -> SilhouetteMatte:
    """Closed-form alpha matte and foreground/background colours on a trimap's unknown pixels.

    The image is cut into ``tile`` x ``tile`` tiles; only those holding unknown
    pixels are solved, each on a crop grown by a margin until it holds both
    known foreground and known background (up to ``tile`` pixels). A tile that
    never does, whose crop is more than half unknown (too few constraints), or
    whose solver does not converge within ``max_iterations`` (flat colour
    makes the system singular), is left unsolved: alpha NaN and the photo's
    colours on its unknown pixels. Closed-form matting (pymatting's
    ``estimate_alpha_cf``, Levin et al., CVPR 2006) gives alpha and
    ``estimate_foreground_ml`` (Germer et al., ICPR 2020) the colours.

    Args:
        image: (H, W, 3) uint8 sRGB photo.
        trimap: (H, W) float32, 0 (background), 1 (foreground) or 0.5 (:data:`UNKNOWN`).
        tile: Tile side in pixels, >= 16.
        max_iterations: Conjugate-gradient iterations per tile at most.
        colors: Estimate the foreground and background colours (False: alpha only; both are the photo).
        workers: Tiles solved at once, on threads (None: one per core); the result does not depend on it.

    Returns:
        The matte; pixels outside the unknown region keep the trimap's alpha and the photo's colour.

    Raises:
        ValueError: If the shapes disagree or ``tile`` < 16.

    """
    h, w = trimap.shape
    if image.shape != (h, w, 3):
        raise ValueError(f"image is {image.shape} but the trimap is {trimap.shape}: expected ({h}, {w}, 3)")
    if tile < 16:
        raise ValueError(f"tile must be at least 16 pixels, got {tile}")
    unknown = trimap == UNKNOWN
    alpha = trimap.astype(np.float32)
    foreground = image.astype(np.float32)
    background = foreground.copy()
    rows, cols = -(-h // tile), -(-w // tile)
    padded = np.zeros((rows * tile, cols * tile), bool)
    padded[:h, :w] = unknown
    corners = [
        (int(ty) * tile, int(tx) * tile)
        for ty, tx in np.argwhere(padded.reshape(rows, tile, cols, tile).any(axis=(1, 3)))
    ]
    solve = functools.partial(_solve_tile, image, trimap, tile, max_iterations, colors)
    # pymatting prints a "PERFORMANCE WARNING" to stdout whenever its incomplete Cholesky
    # preconditioner needs a larger diagonal shift (flat colour); stdout belongs to the user.
    with contextlib.redirect_stdout(io.StringIO()):
        results = _map_tiles(solve, corners, workers, parallel_kernels=colors)
    for (y0, x0), (a, f, b) in zip(corners, results, strict=True):
        y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
        solved = unknown[y0:y1, x0:x1]
        alpha[y0:y1, x0:x1][solved] = a
        if f is not None:
            foreground[y0:y1, x0:x1][solved] = f
            background[y0:y1, x0:x1][solved] = b
    return SilhouetteMatte(alpha=alpha, foreground=foreground, background=background, unknown=unknown)


def _solve_tile(
    image: np.ndarray, trimap: np.ndarray, tile: int, max_iterations: int, colors: bool, corner: tuple[int, int]
) -> tuple[np.ndarray | float, np.ndarray | None, np.ndarray | None]:
    """Alpha, and foreground and background colours (or None), of one tile's unknown pixels; alpha NaN if unsolved."""
    from pymatting import estimate_alpha_cf, estimate_foreground_ml

    h, w = trimap.shape
    y0, x0 = corner
    y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
    margin = 8
    while True:
        box = np.s_[max(y0 - margin, 0) : min(y1 + margin, h), max(x0 - margin, 0) : min(x1 + margin, w)]
        crop = trimap[box].astype(np.float64)
        if (crop == 1.0).any() and (crop == 0.0).any():
            break
        if margin >= tile:
            return np.nan, None, None
        margin *= 2
    if np.count_nonzero(crop == UNKNOWN) > 0.5 * crop.size:
        return np.nan, None, None  # too few constraints: the solution is poorly determined and slow to converge
    inner = np.s_[y0 - box[0].start : y1 - box[0].start, x0 - box[1].start : x1 - box[1].start]
    solved = crop[inner] == UNKNOWN
    rgb = image[box].astype(np.float64) / 255.0
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = estimate_alpha_cf(rgb, crop, cg_kwargs={"maxiter": max_iterations})
    except ValueError:  # pymatting's conjugate gradient did not converge
        return np.nan, None, None
    if not np.isfinite(a).all():
        return np.nan, None, None
    alpha = np.clip(a[inner][solved], 0.0, 1.0)
    if not colors:
        return alpha, None, None
    f, b = estimate_foreground_ml(rgb, a, return_background=True)
    return alpha, np.clip(255.0 * f[inner][solved], 0.0, 255.0), np.clip(255.0 * b[inner][solved], 0.0, 255.0)


def _map_tiles(solve, corners: list, workers: int | None, parallel_kernels: bool) -> list:
    """``solve`` over ``corners`` in order, on up to ``workers`` threads (None: one per core).

    pymatting's kernels release the GIL, so tiles solve concurrently. Its
    foreground estimation launches numba parallel kernels, which are safe
    from several threads only on numba's TBB or OpenMP threading layer (the
    "workqueue" fallback aborts the process): the first tile runs alone, and
    the rest run concurrently only if numba then reports a thread-safe layer.
    """
    workers = workers or len(os.sched_getaffinity(0))
    if workers < 2 or len(corners) < 2:
        return [solve(c) for c in corners]
    results = [solve(corners[0])]
    if parallel_kernels:
        import numba

        try:
            layer = numba.threading_layer()
        except ValueError:  # no parallel kernel launched yet
            layer = None
        if layer not in ("tbb", "omp"):
            return results + [solve(c) for c in corners[1:]]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return results + list(pool.map(solve, corners[1:]))
