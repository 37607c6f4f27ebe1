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
there (the trimap comes from :func:`photo3d.ldi.layering.build_ldi`). The solver is
pymatting's closed-form matting (Levin et al., "A Closed Form Solution to
Natural Image Matting", CVPR 2006) and its multi-level
foreground estimation (Germer et al., "Fast Multi-Level Foreground Estimation",
ICPR 2020), run on tiles that hold unknown pixels only.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import threading
from dataclasses import dataclass

import numpy as np

from ..runtime import map_threads

__all__ = ["MIN_SEPARATION", "UNKNOWN", "SilhouetteMatte", "estimate_matte", "preload_solver"]

UNKNOWN = 0.5
"""Trimap value of the pixels whose alpha is solved; known pixels are 0 (background) or 1 (foreground)."""

MIN_SEPARATION = 40.0
"""Least distance (RGB, 0-255, Euclidean) between the local foreground and background colours at which a matte's
alpha is trusted; where they are closer, the compositing equation cannot tell them apart."""


_preloading: threading.Thread | None = None

_PARALLEL_KERNEL = threading.Lock()
"""Held around pymatting calls that run numba ``parallel=True`` kernels: numba's fallback threading layer
(workqueue, used where neither TBB nor OpenMP is found) aborts the process when two threads launch one at once.
The closed-form alpha solve runs only ``nogil`` kernels and scipy, so tiles solve it concurrently."""


def preload_solver() -> None:
    """Starts importing pymatting on a background thread, so that work done meanwhile hides its cost.

    The import takes 0.5-0.7 s (numba loads about 30 compiled kernels of pymatting's solvers),
    as much as the whole matte of a 1 MP photo. :func:`estimate_matte` imports pymatting as
    usual; if the background import is still running, Python's import lock makes it wait for
    it. Does nothing once pymatting is imported or its import has started. An import error
    is left for :func:`estimate_matte` to raise. A process forked while the import runs could
    inherit a held import lock: process pools should use the ``spawn`` or ``forkserver`` start
    method (``fork`` is unsafe with threads anyway).
    """
    global _preloading
    if _preloading is None and "pymatting" not in sys.modules:
        _preloading = threading.Thread(target=_import_quietly, args=("pymatting",), name="photo3d-preload")
        _preloading.start()


def _import_quietly(name: str) -> None:
    with contextlib.suppress(ImportError):
        importlib.import_module(name)


@dataclass
class SilhouetteMatte:
    """An alpha matte around depth discontinuities.

    Attributes:
        alpha: (H, W) float32 foreground opacity in [0, 1]: solved on ``unknown``
            (NaN where it could not be), the trimap's 0 or 1 elsewhere.
        foreground: (H, W, 3) uint8 sRGB, the foreground colour without
            background mixed in (decontaminated) on ``unknown``; the photo elsewhere.
        background: (H, W, 3) uint8 sRGB, the background colour behind
            ``unknown`` pixels; the photo elsewhere. On ``unknown``,
            ``alpha * foreground + (1 - alpha) * background`` is about the photo
            (the colours are rounded to integers).
        unknown: (H, W) bool, the trimap's unknown region.

    """

    alpha: np.ndarray
    foreground: np.ndarray
    background: np.ndarray
    unknown: np.ndarray


def estimate_matte(
    image: np.ndarray, trimap: np.ndarray, tile: int = 128, max_iterations: int = 1000, colors: bool = True
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
    ``estimate_foreground_ml`` (Germer et al., ICPR 2020) the colours. Tiles
    are solved on a thread per CPU core (the solve runs in code that releases
    the GIL); the result does not depend on the number of threads.

    Args:
        image: (H, W, 3) uint8 sRGB photo.
        trimap: (H, W) float32, 0 (background), 1 (foreground) or 0.5 (:data:`UNKNOWN`).
        tile: Tile side in pixels, >= 16.
        max_iterations: Conjugate-gradient iterations per tile at most.
        colors: Estimate the foreground and background colours (False: alpha only; both are the photo).

    Returns:
        The matte; pixels outside the unknown region keep the trimap's alpha and the photo's colour.

    Raises:
        ValueError: If the shapes disagree or ``tile`` < 16.

    """
    from pymatting import estimate_alpha_cf, estimate_foreground_ml

    h, w = trimap.shape
    if image.shape != (h, w, 3):
        raise ValueError(f"image is {image.shape} but the trimap is {trimap.shape}: expected ({h}, {w}, 3)")
    if tile < 16:
        raise ValueError(f"tile must be at least 16 pixels, got {tile}")
    unknown = trimap == UNKNOWN
    alpha = trimap.astype(np.float32)
    foreground, background = image.copy(), image.copy()
    rows, cols = -(-h // tile), -(-w // tile)
    padded = np.zeros((rows * tile, cols * tile), bool)
    padded[:h, :w] = unknown
    tiles = np.argwhere(padded.reshape(rows, tile, cols, tile).any(axis=(1, 3)))

    def solve(at: np.ndarray) -> None:
        # Writes only inside its own tile, so tiles can be solved at the same time.
        y0, x0 = int(at[0]) * tile, int(at[1]) * tile
        y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
        solved = unknown[y0:y1, x0:x1]
        box = _context_box(trimap, y0, y1, x0, x1, tile)
        if box is None:
            alpha[y0:y1, x0:x1][solved] = np.nan
            return
        crop = trimap[box].astype(np.float64)
        inner = np.s_[y0 - box[0].start : y1 - box[0].start, x0 - box[1].start : x1 - box[1].start]
        rgb = image[box].astype(np.float64) / 255.0
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                a = estimate_alpha_cf(rgb, crop, preconditioner=_preconditioner, cg_kwargs={"maxiter": max_iterations})
        except ValueError:  # pymatting's conjugate gradient did not converge
            a = None
        if a is None or not np.isfinite(a).all():
            alpha[y0:y1, x0:x1][solved] = np.nan
            return
        alpha[y0:y1, x0:x1][solved] = np.clip(a[inner][solved], 0.0, 1.0)
        if not colors:
            return
        with _PARALLEL_KERNEL:
            f, b = estimate_foreground_ml(rgb, a, return_background=True)
        foreground[y0:y1, x0:x1][solved] = np.clip(np.rint(255.0 * f[inner][solved]), 0, 255)
        background[y0:y1, x0:x1][solved] = np.clip(np.rint(255.0 * b[inner][solved]), 0, 255)

    # pymatting prints a "PERFORMANCE WARNING" to stdout whenever its incomplete Cholesky
    # preconditioner needs a larger diagonal shift (flat colour); stdout belongs to the user.
    # (Redirected once here: redirect_stdout swaps a global, so it must not nest across threads.)
    with contextlib.redirect_stdout(io.StringIO()):
        map_threads(solve, tiles, "photo3d-matte")
    return SilhouetteMatte(alpha=alpha, foreground=foreground, background=background, unknown=unknown)


def _preconditioner(matrix):
    """The incomplete Cholesky preconditioner of pymatting, discarding entries below 0.01 (its default: 1e-4).

    The sparser factor is faster to compute and apply; conjugate gradient takes a few more iterations and
    converges to the same alpha (within 1e-4 on the real photos' trimaps) in 28-35 % less time at 12 MP.
    """
    from pymatting import ichol

    return ichol(matrix, discard_threshold=1e-2)


def _context_box(trimap: np.ndarray, y0: int, y1: int, x0: int, x1: int, tile: int) -> tuple[slice, slice] | None:
    """The box around the tile ``[y0:y1, x0:x1]`` that its matte is solved on, or None.

    The margin grows (8, 16, ... up to ``tile`` px) until the box holds known foreground and
    background. None if it never does, or if more than half of the box is unknown: too few
    constraints, so the solution is poorly determined and slow to converge.
    """
    h, w = trimap.shape
    margin = 8
    while True:
        box = np.s_[max(y0 - margin, 0) : min(y1 + margin, h), max(x0 - margin, 0) : min(x1 + margin, w)]
        crop = trimap[box]
        if (crop == 1.0).any() and (crop == 0.0).any():
            return None if np.count_nonzero(crop == UNKNOWN) > 0.5 * crop.size else box
        if margin >= tile:
            return None
        margin *= 2
