"""Depth discontinuities: normalised disparity, cleaned depth edges and the links cut between 4-neighbours.

Steps 1 and 2 of the LDI construction (see :mod:`photo3d.ldi.layering`).
"""

from __future__ import annotations

import cv2
import numpy as np

from .structure import LDIParams

__all__ = [
    "cut_sides",
    "cut_contrast",
    "drop_colourless_cuts",
    "detect_discontinuities",
    "normalized_disparity",
    "quantization_levels",
    "remove_speckles",
    "sharpen_depth_edges",
]


def normalized_disparity(depth: np.ndarray) -> tuple[np.ndarray, float]:
    """``dn = z_near / depth`` with ``z_near`` the 1st percentile of depth.

    Args:
        depth: (H, W) planar depth, positive and finite.

    Returns:
        ``(dn, z_near)``: (H, W) float32 normalised disparity (about 1 on the
        nearest surfaces, smaller farther away) and the scale in depth units.

    """
    z_near = float(np.percentile(depth, 1.0))
    return (z_near / depth).astype(np.float32), z_near


def remove_speckles(dn: np.ndarray, tolerance: float, size: int = 3) -> np.ndarray:
    """Replaces isolated outliers by the local median, leaving edges and corners in place.

    A pixel is an outlier when fewer than two of its 8 neighbours lie within
    ``tolerance`` of it: a lone speck of noise. Corners (three agreeing
    neighbours) and one-pixel-wide lines (two) are kept, unlike a plain median
    filter, which rounds corners off and moves depth edges away from colour edges.

    Args:
        dn: (H, W) float32 normalised disparity.
        tolerance: Largest difference that counts as agreement.
        size: Median window (3 or 5).

    Returns:
        (H, W) float32 filtered disparity.

    """
    p = np.pad(dn, 1, mode="edge")
    h, w = dn.shape
    agree = np.zeros((h, w), np.int8)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            agree += np.abs(p[dy : dy + h, dx : dx + w] - dn) <= tolerance
    return np.where(agree < 2, cv2.medianBlur(dn, size), dn).astype(np.float32)


def sharpen_depth_edges(
    dn: np.ndarray,
    image: np.ndarray,
    radius: int = 2,
    iterations: int = 2,
    sigma: float = 12.0,
    tolerance: float = 0.01,
    accept: float = 0.03,
    chunk: int = 1 << 18,
) -> np.ndarray:
    """Snaps soft depth edges into clean steps that follow the colour edges.

    An iterated colour-weighted median, the depth-edge filter of Shih et al.
    (CVPR 2020, after Ma et al., "Constant Time Weighted Median Filtering for
    Stereo Matching and Beyond", ICCV 2013): each pixel takes the weighted
    median of the disparities in its ``(2 radius + 1)^2`` window, weighted by
    ``exp(-|c_p - c_q|^2 / (2 sigma^2))`` with c the RGB colour. A median never
    invents intermediate values, so a ramp across an edge becomes a step, and
    the colour weights put that step where the colour changes; mixed pixels go
    to the side whose colour they resemble. Only pixels within ``radius`` of a
    link whose jump departs from the local trend by more than ``tolerance``
    are filtered, and a pixel takes the median only when it differs from its
    own value by more than ``accept`` (a move across an edge): planes,
    however slanted, are left exactly as they are.

    Args:
        dn: (H, W) float32 normalised disparity (see :func:`normalized_disparity`).
        image: (H, W, 3) uint8 RGB photo.
        radius: Window radius in pixels (>= 1).
        iterations: Number of passes.
        sigma: Colour distance (0-255 units) at which a neighbour's weight falls to 0.61.
        tolerance: Departure from the trend (dn units) that marks a pixel as near an edge.
        accept: Least change (dn units) that is taken; smaller ones are left, so sharp
            edges, creases and thin slanted faces keep their depth.
        chunk: Pixels filtered per vectorised batch (bounds memory).

    Returns:
        (H, W) float32 filtered disparity.

    """
    h, w = dn.shape
    size = 2 * radius + 1
    offsets = [(dy, dx) for dy in range(size) for dx in range(size)]
    color = np.pad(image.astype(np.float32), ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    inv = -0.5 / float(sigma) ** 2
    window = np.ones((size, size), np.uint8)
    moved = None
    for _ in range(iterations):
        if moved is None:
            near_edge = np.zeros((h, w), bool)
            er = _excess_jump(dn[:, 1:] - dn[:, :-1], axis=1) > tolerance
            ed = _excess_jump(dn[1:, :] - dn[:-1, :], axis=0) > tolerance
            near_edge[:, 1:] |= er
            near_edge[:, :-1] |= er
            near_edge[1:, :] |= ed
            near_edge[:-1, :] |= ed
            active = cv2.dilate(near_edge.astype(np.uint8), window)
        else:  # later passes: a median changes only where the last pass moved a value in its window
            active = cv2.dilate(moved.astype(np.uint8), window)
        ys, xs = np.nonzero(active)
        if len(ys) == 0:
            break
        padded = np.pad(dn, radius, mode="edge")
        out = dn.copy()
        for start in range(0, len(ys), chunk):
            y, x = ys[start : start + chunk], xs[start : start + chunk]
            centre = color[y + radius, x + radius]
            values = np.empty((len(y), len(offsets)), np.float32)
            weights = np.empty_like(values)
            for i, (dy, dx) in enumerate(offsets):
                values[:, i] = padded[y + dy, x + dx]
                diff = color[y + dy, x + dx] - centre
                weights[:, i] = np.einsum("ij,ij->i", diff, diff)
            np.exp(weights * inv, out=weights)
            order = np.argsort(values, axis=1)
            values = np.take_along_axis(values, order, axis=1)
            cum = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
            pick = (cum < 0.5 * cum[:, -1:]).sum(axis=1)
            median = values[np.arange(len(y)), pick]
            # Only a move across an edge is taken: within a surface the pixel keeps its own value.
            out[y, x] = np.where(np.abs(median - dn[y, x]) > accept, median, dn[y, x])
        moved = out != dn
        dn = out
    return dn


def quantization_levels(dn: np.ndarray, min_levels: int = 16, max_levels: int = 1024) -> np.ndarray | None:
    """The sorted distinct values of a quantised map (an 8-bit depth PNG), or None for a continuous one.

    A map with fewer than ``min_levels`` values is a few flat layers (or a test
    pattern), whose one-level steps are real edges: it is not treated as quantised.

    Args:
        dn: (H, W) float32 map.
        min_levels: Fewest distinct values a quantised map has.
        max_levels: Most distinct values a map may have to count as quantised.

    Returns:
        (N,) float32 sorted levels, or None if the map has fewer than ``min_levels`` or
        more than ``max_levels`` values, or fewer than 64 pixels per value.

    """
    sample = np.unique(dn[:: max(1, dn.shape[0] // 256), :: max(1, dn.shape[1] // 256)])
    if len(sample) > max_levels:
        return None
    levels = np.unique(dn)
    if not min_levels <= len(levels) <= max_levels or dn.size < 64 * len(levels):
        return None
    return levels


def detect_discontinuities(
    dn: np.ndarray, params: LDIParams = LDIParams(), levels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cleaned depth discontinuities between 4-neighbours.

    Args:
        dn: (H, W) float32 normalised disparity (see :func:`normalized_disparity`).
        params: Thresholds.
        levels: The map's quantisation levels, if it is quantised (see
            :func:`quantization_levels`): a step between two adjacent levels is the
            staircase of a smooth surface stored in few values, never a discontinuity.

    Returns:
        ``(cut_right, cut_down)``: (H, W-1) and (H-1, W) bool, True where the
        link between a pixel and its right / lower neighbour is cut.

    """
    h, w = dn.shape
    jr = dn[:, 1:] - dn[:, :-1]  # > 0: the right pixel is nearer
    jd = dn[1:, :] - dn[:-1, :]
    er, ed = _excess_jump(jr, axis=1), _excess_jump(jd, axis=0)
    # A link is a candidate when its jump stands out from the trend around it and is itself above weak: beside
    # a step spread over two links the trend is half the step, and a flat link there would stand out too.
    weak_r = (er > params.weak) & (np.abs(jr) > params.weak)
    weak_d = (ed > params.weak) & (np.abs(jd) > params.weak)
    if levels is not None:
        index = np.searchsorted(levels, dn).astype(np.int32)
        weak_r &= np.abs(index[:, 1:] - index[:, :-1]) >= 2
        weak_d &= np.abs(index[1:, :] - index[:-1, :]) >= 2
    # Mark each candidate link on its foreground pixel, with the jump it carries.
    fg_jump = np.zeros((h, w), np.float32)
    for jump, excess, weak, fg_a, fg_b in (
        (jr, er, weak_r, (slice(None), slice(1, None)), (slice(None), slice(None, -1))),
        (jd, ed, weak_d, (slice(1, None), slice(None)), (slice(None, -1), slice(None))),
    ):
        a = np.where(weak & (jump > 0), excess, 0.0)
        b = np.where(weak & (jump < 0), excess, 0.0)
        np.maximum(fg_jump[fg_a], a, out=fg_jump[fg_a])
        np.maximum(fg_jump[fg_b], b, out=fg_jump[fg_b])
    candidates = (fg_jump > 0).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    min_px = params.min_edge_px or max(4, round(0.005 * max(h, w)))
    has_strong = np.zeros(count, bool)
    has_strong[labels[fg_jump > params.strong]] = True
    keep = has_strong & (stats[:, cv2.CC_STAT_AREA] >= min_px)
    keep[0] = False
    kept = keep[labels]
    fg_r = np.where(jr > 0, kept[:, 1:], kept[:, :-1])
    fg_d = np.where(jd > 0, kept[1:, :], kept[:-1, :])
    return weak_r & fg_r, weak_d & fg_d


def _excess_jump(jump: np.ndarray, axis: int) -> np.ndarray:
    """How far each jump departs from the trend of the jumps around it along ``axis``.

    The trend is the median of the two jumps on either side. On a plane
    disparity is affine, so its jumps are all equal and the excess is 0 however
    slanted the plane; a step stands out by its full height, and a step spread
    over two links (a soft edge) by half of it each.
    """
    n = jump.shape[axis]
    pad = [(0, 0), (0, 0)]
    pad[axis] = (2, 2)
    p = np.pad(jump, pad, mode="edge")
    take = (lambda i: p[:, i : i + n]) if axis == 1 else (lambda i: p[i : i + n, :])
    a, b, c, d = take(0), take(1), take(3), take(4)
    # The median of four values: the mean of the two middle ones, i.e. (sum - min - max) / 2 (in place: big maps).
    lo = np.minimum(a, b)
    tmp = np.minimum(c, d)
    np.minimum(lo, tmp, out=lo)
    hi = np.maximum(a, b)
    np.maximum(c, d, out=tmp)
    np.maximum(hi, tmp, out=hi)
    np.add(a, b, out=tmp)
    tmp += c
    tmp += d
    tmp -= lo
    tmp -= hi
    tmp *= 0.5
    np.subtract(jump, tmp, out=tmp)
    return np.abs(tmp, out=tmp).astype(np.float32, copy=False)


def cut_sides(
    dn: np.ndarray, cut_r: np.ndarray, cut_d: np.ndarray, min_step: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The two sides of the cuts: the far and the near pixel of every cut link.

    Args:
        dn: (H, W) float32 normalised disparity (larger = nearer).
        cut_r: (H, W-1) bool cuts between horizontal neighbours (see :func:`detect_discontinuities`).
        cut_d: (H-1, W) bool cuts between vertical neighbours.
        min_step: Only links whose disparity jump exceeds this count (dn units, >= 0).

    Returns:
        ``(bg_edge, fg_edge)``: (H, W) bool each; a pixel can be on both (a thin surface between two depths).

    """
    h, w = dn.shape
    if min_step > 0.0:
        cut_r = cut_r & (np.abs(np.diff(dn, axis=1)) > min_step)
        cut_d = cut_d & (np.abs(np.diff(dn, axis=0)) > min_step)
    bg_edge = np.zeros((h, w), bool)
    fg_edge = np.zeros((h, w), bool)
    right_nearer = dn[:, 1:] > dn[:, :-1]
    lower_nearer = dn[1:, :] > dn[:-1, :]
    for edge, nearer in ((bg_edge, False), (fg_edge, True)):
        edge[:, :-1] |= cut_r & (right_nearer != nearer)
        edge[:, 1:] |= cut_r & (right_nearer == nearer)
        edge[:-1, :] |= cut_d & (lower_nearer != nearer)
        edge[1:, :] |= cut_d & (lower_nearer == nearer)
    return bg_edge, fg_edge


def cut_contrast(image: np.ndarray, cut: np.ndarray, axis: int, reach: int) -> np.ndarray:
    """The colour contrast across each cut link: how strongly the photo changes near the depth edge.

    The photo is first averaged along the edge (over ``2 reach + 1`` pixels
    across ``axis``), so pixel noise and fine texture weigh less than an edge.
    For the link between pixels ``x`` and ``x + 1`` along ``axis``, the
    contrast is then the L1 RGB distance between the pixels
    ``x + 1 - reach + o`` and ``x + reach + o`` (a span of ``2 reach - 1``
    pixels across the link, so a colour edge blurred over a few pixels still
    counts in full), maximised over the offsets ``o`` in ``[-reach, reach]``,
    so a colour edge up to ``reach`` pixels off the depth edge counts too.
    Samples past the border are clamped.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        cut: (H, W-1) bool for ``axis`` 1 (links to the right neighbour) or (H-1, W) for ``axis`` 0 (down).
        axis: 1 for horizontal links, 0 for vertical ones.
        reach: Half-width in pixels, >= 1.

    Returns:
        (N,) int32 contrast of the N True links of ``cut`` in row-major order, 0 to 765.

    """
    ys, xs = np.nonzero(cut)
    at = xs if axis == 1 else ys
    along = (1, 2 * reach + 1) if axis == 1 else (2 * reach + 1, 1)  # cv2 sizes are (width, height)
    image = cv2.blur(image, along, borderType=cv2.BORDER_REPLICATE)
    n = image.shape[axis]
    best = np.zeros(at.shape, np.int32)
    for o in range(-reach, reach + 1):
        before = np.clip(at + 1 - reach + o, 0, n - 1)
        after = np.clip(at + reach + o, 0, n - 1)
        if axis == 1:
            a, b = image[ys, before], image[ys, after]
        else:
            a, b = image[before, xs], image[after, xs]
        np.maximum(best, np.abs(a.astype(np.int32) - b).sum(axis=-1), out=best)
    return best


def drop_colourless_cuts(
    image: np.ndarray, cut_r: np.ndarray, cut_d: np.ndarray, min_contrast: float, reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """Links again the cuts that no colour edge accompanies.

    A depth edge with no colour edge within ``reach`` pixels is most often the
    map's own error: an estimated or phone map whose edge wanders off the
    silhouette into a background of the same dark colour, or a false step
    across one smoothly coloured object (the Lens Blur photo's lamp shade, in
    ``benchmarks/contact_sheet.py``). Cut there, the surface tears and the tear is
    filled from the wrong side; linked, it stretches, and a stretch of one
    colour is invisible. Where fore- and background really have one colour,
    the stretch shows the same colour the fill would have given. Measured on
    the cuts of exact synthetic maps, 0.7-3.5 % of links lack a colour edge,
    against 23 % on the Lens Blur map.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        cut_r: (H, W-1) bool cuts between horizontal neighbours.
        cut_d: (H-1, W) bool cuts between vertical neighbours.
        min_contrast: Least :func:`cut_contrast` (L1 RGB, 0-765) that keeps a cut; 0 keeps all.
        reach: Half-width in pixels of :func:`cut_contrast`.

    Returns:
        ``(cut_right, cut_down)``, new arrays: the cuts kept.

    """
    kept = []
    for cut, axis in ((cut_r, 1), (cut_d, 0)):
        out = cut.copy()
        if min_contrast > 0 and out.any():
            out[out] = cut_contrast(image, cut, axis, reach) >= min_contrast
        kept.append(out)
    return kept[0], kept[1]
