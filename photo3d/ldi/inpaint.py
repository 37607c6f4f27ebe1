"""Inpainting of back layers from background context only.

Every fill here reads nothing but the pixels a context mask allows:

* :func:`push_pull_fill` fills values with the push-pull (pull-push) pyramid of
  Gortler et al., "The Lumigraph" (SIGGRAPH 1996): weighted averages at
  coarser and coarser scales, then blended back down, so each hole pixel takes
  the nearest context it can reach at the finest scale that has some.
* :class:`ClassicalInpainter` (the default) adds texture to that smooth fill:
  copies of the context by repeated mirror images across the hole's boundary
  (:func:`mirror_sources`), so a wide hole in grass or brick shows grain
  instead of a smear.
* :func:`extrapolate_disparity` continues the background surface under the
  foreground: a plane fitted to the context disparity around each edge seed and
  extended from it, so planes stay planes (disparity is affine in the image on a
  plane).
* :func:`make_inpainter` turns a user's choice (``"classical"``, ``"smooth"`` or
  the path of a TorchScript network, see :mod:`photo3d.ldi.learned`) into an
  :class:`Inpainter`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from ..errors import SettingsError

__all__ = [
    "INPAINTERS",
    "ClassicalInpainter",
    "Inpainter",
    "connected_to",
    "extrapolate_disparity",
    "local_mean",
    "make_inpainter",
    "mask_extent",
    "mirror_sources",
    "nearest_seed",
    "push_pull_fill",
]

INPAINTERS = ("classical", "smooth")
"""Built-in inpainter names; anything else given to :func:`make_inpainter` is a TorchScript file."""


@runtime_checkable
class Inpainter(Protocol):
    """What every colour inpainter of photo3d provides.

    Attributes:
        name: Short label for logs and reports.

    """

    name: str

    def fill(self, color: np.ndarray, known: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """Synthesises the hole from the known pixels only.

        Args:
            color: (H, W, 3) float32 sRGB, 0-255.
            known: (H, W) bool; the context pixels that may be read.
            hole: (H, W) bool; the pixels to synthesise, disjoint from ``known``.

        Returns:
            (H, W, 3) float32, 0-255: ``color`` on ``known``, synthesised on ``hole``;
            other pixels are unspecified. Pixels outside ``known`` never influence it.

        """
        ...


def mask_extent(mask: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((y0, y1), (x0, x1))``: the half-open bounding box of the True pixels of a non-empty (H, W) bool mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)


def nearest_seed(seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distance to, and identity of, the nearest seed pixel of every pixel.

    OpenCV's labelled distance transform (5x5 mask: distances within about 2 %
    of Euclidean); much faster and lighter than an exact transform with indices.

    Args:
        seeds: (H, W) bool; at least one True.

    Returns:
        ``(dist, index, ys, xs)``: (H, W) float32 distance in pixels; (H, W) int32
        index of the nearest seed into ``ys``, ``xs``, the (N,) int32 rows and
        columns of the N seeds in raster order (a seed is its own nearest seed).
        The nearest seed of pixel p is ``(ys[index[p]], xs[index[p]])``.

    Raises:
        ValueError: If there is no seed.

    """
    ys, xs = np.nonzero(seeds)
    if len(ys) == 0:
        raise ValueError("nearest_seed needs at least one seed pixel")
    dist, labels = cv2.distanceTransformWithLabels(
        (~seeds).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    labels -= 1  # labels number the seed pixels from 1 in raster order, as np.nonzero lists them
    return dist, labels, ys.astype(np.int32), xs.astype(np.int32)


class ClassicalInpainter:
    """The default colour inpainter: a smooth fill, then the context's own texture in wide holes.

    The hole first gets the push-pull fill (:func:`push_pull_fill`). With
    ``texture`` on, each hole pixel p then takes the colour of a context pixel
    by mirror images (:func:`mirror_sources`): q = 2 s - p, its mirror image
    across s, the nearest context pixel, and where q lies outside the context
    (a hole wider than the context beside it), mirrored again across the pixels
    the previous pass filled, so a wide hole is textured to its middle by copies
    of its surroundings, never a blend of them. Mirroring is the classical
    boundary extension of image processing; it keeps structures that cross the
    boundary (stripes, horizons) continuous.

    The copies fade in from ``ramp_start_px`` over ``ramp_px`` pixels from the
    context. Near the context the smooth fill is close to the truth and a
    textured guess costs PSNR: on the disoccluded pixels of
    ``benchmarks/view_synthesis.py``, copies from 1 px cost 0.3-0.6 dB, from
    3 px (over 12) 0.2-0.5 dB, from 6 px over 24 px nothing measurable; most of
    it on checkerboards, whose mirror image has the wrong phase. So narrow gaps stay smooth,
    and wide holes (a large photo moved far) show the grain and structure of
    the background instead of a pale haze.

    Attributes:
        name: ``"classical"``, or ``"smooth"`` without texture.
        texture: Whether to copy the context's texture into the hole.
        ramp_start_px: Distance from the context, in pixels, where the copies start (a fill at half
            resolution uses :meth:`downscaled`, so this stays in the photo's pixels).
        ramp_px: Distance over which they fade in, in pixels.
        passes: Mirror passes at most (each reaches about as far again as the context is deep).

    """

    def __init__(
        self, texture: bool = True, ramp_start_px: float = 6.0, ramp_px: float = 24.0, passes: int = 4
    ) -> None:
        self.texture = texture
        self.ramp_start_px = float(ramp_start_px)
        self.ramp_px = float(ramp_px)
        self.passes = int(passes)
        self.name = "classical" if texture else "smooth"

    def downscaled(self, factor: int) -> ClassicalInpainter:
        """The same inpainter for an image ``factor`` times smaller: its distances kept in the full size's pixels."""
        return ClassicalInpainter(self.texture, self.ramp_start_px / factor, self.ramp_px / factor, self.passes)

    def fill(self, color: np.ndarray, known: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """Fills ``hole`` from ``known`` (see :meth:`Inpainter.fill`).

        Returns:
            (H, W, 3) float32, 0-255. All zeros on the hole if nothing is known.

        """
        out = push_pull_fill(color, known)
        if not self.texture or not known.any() or not hole.any():
            return out
        dist, source = mirror_sources(known, hole, self.passes)
        at = np.flatnonzero(hole & (source >= 0))
        ramp = np.clip((dist.reshape(-1)[at] - self.ramp_start_px) / self.ramp_px, 0.0, 1.0)[:, None]
        flat = out.reshape(-1, out.shape[-1])
        smooth = flat[at]
        # Both are context colours or averages of them: the result never leaves the context's colours.
        flat[at] = smooth + ramp * (color.reshape(-1, color.shape[-1])[source.reshape(-1)[at]] - smooth)
        return out


def mirror_sources(known: np.ndarray, hole: np.ndarray, passes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The context pixel each hole pixel copies, by repeated mirror images.

    In each pass, every hole pixel p not yet filled is mirrored across s, its
    nearest filled pixel (context, or a hole pixel an earlier pass filled): if
    q = 2 s - p is filled, p takes q's source. The first pass is the mirror
    image across the nearest context pixel; each later one reaches about as far
    again into the hole.

    Args:
        known: (H, W) bool context; at least one True.
        hole: (H, W) bool pixels to fill.
        passes: Passes at most (fewer when the hole is filled or a pass fills nothing).

    Returns:
        ``(dist, source)``: (H, W) float32 distance in pixels to the nearest
        ``known`` pixel, and (H, W) int64 flat index (into an (H, W) array) of
        the known pixel each pixel copies: itself on ``known``, -1 where none.

    Raises:
        ValueError: If nothing is known.

    """
    h, w = known.shape
    source = np.where(known.reshape(-1), np.arange(h * w), -1)
    filled = known.copy()
    remaining = hole & ~known
    dist: np.ndarray | None = None
    for _ in range(max(1, passes)):
        d, nearest, sy, sx = nearest_seed(filled)
        dist = d if dist is None else dist
        py, px = np.nonzero(remaining)
        k = nearest[py, px]
        qy, qx = 2 * sy[k] - py, 2 * sx[k] - px
        ok = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
        ok &= filled[np.clip(qy, 0, h - 1), np.clip(qx, 0, w - 1)]
        if not ok.any():
            break
        p = py[ok] * w + px[ok]
        source[p] = source[qy[ok] * w + qx[ok]]
        filled.reshape(-1)[p] = True
        remaining.reshape(-1)[p] = False
        if not remaining.any():
            break
    assert dist is not None  # the loop runs at least once
    return dist, source.reshape(h, w)


def make_inpainter(spec: str | Inpainter | None = None, device: str | None = None) -> Inpainter:
    """The inpainter a user asked for.

    Args:
        spec: ``"classical"`` (default; smooth fill plus texture), ``"smooth"``
            (push-pull only), the path of a TorchScript inpainting network such
            as LaMa's ``big-lama.pt`` (see :class:`photo3d.ldi.learned.TorchScriptInpainter`),
            or an object that already implements :class:`Inpainter`.
        device: Torch device for a network (None: CUDA, then MPS, then CPU).

    Returns:
        The inpainter.

    Raises:
        Photo3DError: If ``spec`` is neither a built-in name nor an existing file,
            or the file is not a usable network.

    """
    if spec is None or spec == "classical":
        return ClassicalInpainter()
    if isinstance(spec, Inpainter):
        return spec
    if spec == "smooth":
        return ClassicalInpainter(texture=False)
    path = Path(spec)
    if not path.is_file():
        raise SettingsError(
            "inpainter", f"must be {' or '.join(INPAINTERS)} or a TorchScript network file; {spec!r} is neither"
        )
    from .learned import TorchScriptInpainter

    return TorchScriptInpainter(path, device=device)


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
    v = np.asarray(values[..., None] if squeeze else values, np.float32)
    c = v.shape[2]
    # Weighted values and their weight travel together as one (C + 1)-channel image.
    mask = np.asarray(context, bool).view(np.uint8)
    # A copy, not a product: NaN outside the context stays out.
    level = cv2.merge([cv2.copyTo(v, mask), context.astype(np.float32)]).reshape(v.shape[:2] + (c + 1,))
    levels: list[np.ndarray] = [level]
    while max(levels[-1].shape[:2]) > 1:  # down to one pixel, which every context pixel reaches
        h, wd = levels[-1].shape[:2]
        size = (max(1, (wd + 1) // 2), max(1, (h + 1) // 2))
        levels.append(cv2.resize(levels[-1], size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], c + 1))
    top = levels[-1]
    fill = top[..., :c] / np.maximum(top[..., c:], 1e-12)
    for lev in reversed(levels[:-1]):
        h, wd = lev.shape[:2]
        up = cv2.resize(fill, (wd, h), interpolation=cv2.INTER_LINEAR).reshape(h, wd, c)
        if lev is level:
            break  # full resolution: a pixel is either context (kept) or takes the coarser fill
        lw = lev[..., c:]
        # Confidence: a pixel fully covered by context keeps its own mean.
        a = np.clip(lw * 4.0, 0.0, 1.0)
        fill = a * (lev[..., :c] / np.maximum(lw, 1e-12)) + (1.0 - a) * up
    else:
        up = fill
    out = up if up.dtype == np.float32 else up.astype(np.float32)
    out = cv2.copyTo(v, mask, out).reshape(v.shape)
    return out[..., 0] if squeeze else out


def extrapolate_disparity(
    disparity: np.ndarray,
    context: np.ndarray,
    seed_index: np.ndarray,
    seed_ys: np.ndarray,
    seed_xs: np.ndarray,
    radius: int = 4,
    max_residual: float = np.inf,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """Continues the background surface from edge seeds by local plane fits.

    For every pixel p, a plane ``d = a + gx * x + gy * y`` is fitted by least
    squares to the context disparity in a ``(2 radius + 1)^2`` window around
    its seed s (its nearest background edge pixel) and evaluated at p:
    ``d(p) = d(s) + gx (px - sx) + gy (py - sy)``. Where the window has too
    little context to fix a plane, or the context is not planar (RMS residual of
    the fit above ``max_residual``, as on noisy sensor depth), the gradient is
    zero: the background is continued at the seed's disparity. The fits are
    solved once per seed.

    Args:
        disparity: (H, W) float32 disparity (any positive scale).
        context: (H, W) bool mask of background pixels the fit may read.
        seed_index: (H, W) int index of each pixel's seed into ``seed_ys``, ``seed_xs``
            (as from :func:`nearest_seed`).
        seed_ys: (N,) int rows of the seeds.
        seed_xs: (N,) int columns of the seeds.
        radius: Half-size of the fitting window in pixels.
        max_residual: Largest RMS residual (disparity units) at which a fitted plane is trusted.
        where: (H, W) bool, the pixels that need the plane; elsewhere the seed's
            disparity is returned (None: everywhere).

    Returns:
        (H, W) float32 extrapolated disparity.

    """
    h, w = disparity.shape
    sy, sx = np.asarray(seed_ys), np.asarray(seed_xs)
    offsets = np.arange(-radius, radius + 1)
    oy, ox = (o.ravel() for o in np.meshgrid(offsets, offsets, indexing="ij"))
    py = sy[:, None] + oy[None, :]
    px = sx[:, None] + ox[None, :]
    inside = (py >= 0) & (py < h) & (px >= 0) & (px < w)
    py, px = np.clip(py, 0, h - 1), np.clip(px, 0, w - 1)
    m = (inside & context[py, px]).astype(np.float64)
    d = disparity[py, px].astype(np.float64)
    n = np.maximum(m.sum(1), 1e-6)
    mx, my, md = (m * ox).sum(1) / n, (m * oy).sum(1) / n, (m * d).sum(1) / n
    dx, dy, dd = ox[None, :] - mx[:, None], oy[None, :] - my[:, None], d - md[:, None]
    # Centred second moments (covariances) of the window's context pixels.
    cxx, cyy, cxy = (m * dx * dx).sum(1), (m * dy * dy).sum(1), (m * dx * dy).sum(1)
    cxd, cyd, cdd = (m * dx * dd).sum(1), (m * dy * dd).sum(1), (m * dd * dd).sum(1)
    det = cxx * cyy - cxy * cxy
    ok = (m.sum(1) >= 6) & (det > 1e-3 * np.maximum(cxx * cyy, 1e-6)) & (cxx > 0.5) & (cyy > 0.5)
    safe = np.where(ok, det, 1.0)
    fx = np.where(ok, (cyy * cxd - cxy * cyd) / safe, 0.0)
    fy = np.where(ok, (cxx * cyd - cxy * cxd) / safe, 0.0)
    # Least-squares residual: what the plane leaves of the disparity's variance.
    residual = np.maximum(cdd - fx * cxd - fy * cyd, 0.0) / n
    planar = residual <= max_residual**2
    gx = np.where(planar, fx, 0.0).astype(np.float32)
    gy = np.where(planar, fy, 0.0).astype(np.float32)
    seed_d = disparity[sy, sx].astype(np.float32)
    out = seed_d[seed_index]
    if where is not None and np.count_nonzero(where) < where.size // 2:
        ys, xs = np.nonzero(where)
        k = seed_index[ys, xs]
        step = gx[k] * (xs - sx[k]).astype(np.float32)
        step += gy[k] * (ys - sy[k]).astype(np.float32)
        out[ys, xs] += step
        return out
    # Most pixels need the plane: evaluating it everywhere (gathers from the small per-seed arrays) is faster.
    step = gx[seed_index] * (np.arange(w, dtype=np.float32)[None, :] - sx.astype(np.float32)[seed_index])
    step += gy[seed_index] * (np.arange(h, dtype=np.float32)[:, None] - sy.astype(np.float32)[seed_index])
    np.add(out, step, out=out, where=where if where is not None else True)
    return out


def connected_to(mask: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` 4-connected to some pixel of ``anchor`` through ``mask`` (both (H, W) bool)."""
    count, labels = cv2.connectedComponents((mask | anchor).view(np.uint8), connectivity=4)
    touching = np.zeros(count, bool)
    touching[labels[anchor]] = True
    return mask & touching[labels]


def local_mean(photo: np.ndarray, mask: np.ndarray, size: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(N, 3) float32 mean colour of the ``mask`` pixels in a ``size`` x ``size`` box around pixels ``(ys, xs)``.

    Computed at ``1 / max(1, size // 16)`` of the resolution (the means are smooth on that scale) and
    interpolated bilinearly at the pixels (as ``cv2.resize`` would enlarge it); where no mask pixel is
    near, the mean is 0.
    """
    h, w = mask.shape
    f = max(1, size // 16)
    small = (max(1, w // f), max(1, h // f))
    weight = cv2.resize(mask.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    total = cv2.resize(cv2.copyTo(photo, mask.view(np.uint8)), small, interpolation=cv2.INTER_AREA)
    box = (max(1, size // f) | 1,) * 2
    weight = cv2.boxFilter(weight, -1, box)
    total = cv2.boxFilter(total, -1, box)
    mean = total / np.maximum(weight, 1e-6)[..., None]
    # Bilinear, with cv2.resize's pixel-centre alignment and clamped borders.
    out = np.zeros((len(ys), 3), np.float32)
    corners = []
    for pos, n_small, n in ((ys, small[1], h), (xs, small[0], w)):
        src = np.maximum((pos + 0.5) * (n_small / n) - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.intp), n_small - 1)
        i1 = np.minimum(i0 + 1, n_small - 1)
        t = np.where(i0 == n_small - 1, 0.0, src - i0).astype(np.float32)
        corners.append((i0, i1, t[:, None]))
    (y0, y1, ty), (x0, x1, tx) = corners
    out += (1 - ty) * ((1 - tx) * mean[y0, x0] + tx * mean[y0, x1])
    out += ty * ((1 - tx) * mean[y1, x0] + tx * mean[y1, x1])
    return out
