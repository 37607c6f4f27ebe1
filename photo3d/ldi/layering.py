"""Layered depth images (LDI): discontinuities, cuts and inpainted back layers.

The construction follows the layered inpainting of Shih et al., "3D
Photography using Context-aware Layered Depth Inpainting" (CVPR 2020), in a
vectorised form:

1. **Depth edges.** Work in normalised disparity ``dn = z_near / z``
   (``z_near`` the 1st percentile of depth, so the nearest surfaces have dn about 1
   whatever the depth units). A map whose edges are soft ramps gets them moved
   onto the colour edges at its effective resolution
   (:func:`photo3d.depth.upsample.recover_depth_edges`); edges wider or farther off
   than that are re-segmented by an alpha matte (:func:`photo3d.depth.upsample.matte_depth_edges`).
   Isolated speckles are removed and an iterated
   colour-weighted median snaps soft depth edges into clean steps on the colour
   edges (:func:`sharpen_depth_edges`).
2. **Discontinuities.** A link between 4-neighbours is a discontinuity
   candidate where its jump ``dn_b - dn_a`` departs by more than ``weak`` from the
   median of the two jumps on either side along the same line (so slanted planes,
   whose disparity is affine, are never cut however steep) and is itself larger
   than ``weak`` (beside a step spread over two links, that median is half the
   step, and a flat link would depart from it too); as in Canny's hysteresis,
   the foreground pixels of candidates form 8-connected segments, and a segment
   is kept (and its links cut) only if it holds a jump above ``strong`` and at
   least ``min_edge_px`` pixels. That drops tiny fragments and links a strong
   edge through its weaker stretches.
3. **Soft silhouettes.** Around every cut, the pixels within ``matte_radius`` form
   the unknown region of a trimap and get an alpha matte from colour
   (:mod:`photo3d.ldi.matte`, after SLIDE, Jampani et al., ICCV 2021). Pixels of
   some foreground opacity join the foreground (at its disparity), with
   their decontaminated foreground colour and their alpha; the others join
   the background. The cut is then found again, so a depth edge a few pixels
   off the colour edge moves onto it, and a pixel that mixes both colours
   becomes a translucent foreground sample whose back-layer sample holds the
   background colour the matte estimated.
4. **Synthesis region.** Foreground pixels within ``band_px`` of a cut, in front
   of the background continued from their *seed* by a quarter of the seed's
   jump at least, and reached from the foreground edge without crossing a cut.
   The seed is the background edge pixel nearest to them, with distances
   divided by the square root of each cut's jump (a wider jump opens first,
   :func:`_first_revealing_seed`). ``band_px`` comes from the largest parallax
   the trajectory opens at any cut (:func:`band_for_cameras`).
5. **Context region.** Background pixels within ``2 band_px`` of a cut that are
   not in front of their seed (mixed pixels are foreground by then) and are
   connected, through such pixels, to the far side of a step steeper than
   ``strong``: a patch behind weak cuts only (a seam that hysteresis linked to a
   silhouette) is most often the foreground's own surface. Only they
   feed the back layer: its disparity is the background plane continued from
   the seed, its colour is inpainted from the context at that surface's depth
   (:mod:`photo3d.ldi.inpaint`).
6. **More layers.** Where two continued surfaces at different depths meet inside a
   back layer (a foreground in front of another's edge), that jump is a cut of the
   back layer, and steps 4-5 repeat behind it, up to ``max_layers`` (without mattes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np

from ..camera.intrinsics import Intrinsics, Pose, pixel_rays
from ..depth.upsample import place_depth_edges
from ..errors import Photo3DError
from .inpaint import ClassicalInpainter, Inpainter, extrapolate_disparity, mask_extent, nearest_seed
from .matte import MIN_SEPARATION, UNKNOWN, estimate_matte, preload_solver

__all__ = [
    "LDI",
    "LDIParams",
    "band_for_cameras",
    "build_ldi",
    "detect_discontinuities",
    "normalized_disparity",
    "quantization_levels",
    "remove_speckles",
    "sharpen_depth_edges",
]

log = logging.getLogger(__name__)

EMPTY_DEPTH = 0.0
"""Depth value that marks an empty LDI sample."""

ALPHA_EPS = 1.0 / 32
"""Matte alphas at most this far from 0 or 1 count as fully background or foreground."""

SOFT_REACH = 2
"""Foreground pixels at most this many pixels (Chebyshev) from the background may be translucent."""


@dataclass
class LDI:
    """A layered depth image, documented like a rasterizer output.

    L layers of H x W samples on the source camera's pixel grid. At each pixel,
    layer 0 is the surface the photo shows; layers 1..L-1 hold what lies behind
    it, front to back (where both are set, ``depth[k + 1] > depth[k]``).

    Attributes:
        color: (L, H, W, 3) uint8 sRGB colour of each sample (0 where empty).
        depth: (L, H, W) float32 planar depth in the depth map's units;
            ``0.0`` (:data:`EMPTY_DEPTH`) marks an empty sample. Layer 0 is full.
        alias: (L, H, W) int8. ``-1``: the sample is its own point. ``j >= 0``: the
            sample is a seam copy of layer j's sample at the same pixel (same
            depth and colour); meshes reuse that vertex, so a back layer and the
            surface it continues share vertices and no crack can open between them.
        link_right: (L, H, W - 1) bool; True where sample (k, y, x) is connected to (k, y, x + 1).
        link_down: (L, H - 1, W) bool; True where sample (k, y, x) is connected to (k, y + 1, x).
        intrinsics: The source camera.
        synthesis: (H, W) bool, the pixels where some back layer has a synthesised sample.
        band_px: Width of the synthesis band in pixels.
        alpha: None (every sample is opaque), or (L, H, W) uint8 opacity of each
            sample, 255 = opaque. Below 255 only on layer 0 at soft silhouettes, where
            ``color`` is the decontaminated foreground colour (not premultiplied) and the
            sample of layer 1 behind it is opaque and holds the background colour, so that
            ``a color[0] + (1 - a) color[1]`` (a = alpha / 255) gives back the photo.

    """

    color: np.ndarray
    depth: np.ndarray
    alias: np.ndarray
    link_right: np.ndarray
    link_down: np.ndarray
    intrinsics: Intrinsics
    synthesis: np.ndarray = field(repr=False)
    band_px: int = 0
    alpha: np.ndarray | None = field(default=None, repr=False)

    @property
    def num_layers(self) -> int:
        """Number of layers L (1 when the depth has no discontinuity)."""
        return int(self.depth.shape[0])

    @property
    def valid(self) -> np.ndarray:
        """(L, H, W) bool; True where a sample exists."""
        return self.depth > EMPTY_DEPTH

    @property
    def cuts(self) -> tuple[np.ndarray, np.ndarray]:
        """Discontinuities of layer 0: ``(cut_right (H, W-1), cut_down (H-1, W))`` bool."""
        return ~self.link_right[0], ~self.link_down[0]


@dataclass(frozen=True)
class LDIParams:
    """Settings of the LDI construction.

    Attributes:
        strong: Normalised-disparity jump (``z_near / z`` units) that starts a discontinuity.
        weak: Smaller jump that continues one (hysteresis); back-layer samples lie at least this far
            behind the surface in front of them. Back layers bridge jumps up to ``strong``.
        min_edge_px: Discontinuity segments with fewer pixels are dropped (0: scale with the image,
            0.5 % of its longer side, at least 4).
        median: Size of the median that replaces isolated disparity speckles (1 disables it;
            see :func:`remove_speckles`).
        band_px: Width of the synthesis band in pixels (0: from the trajectory, see :func:`band_for_cameras`).
        max_band_fraction: Upper bound on the band as a fraction of the longer image side.
        max_layers: Most layers, the visible one included (2: a single back layer).
        edge_radius: Radius of the colour-weighted median that snaps depth edges to colour
            edges (0 disables it; see :func:`sharpen_depth_edges`).
        edge_iterations: Passes of that median.
        color_sigma: Colour difference (0-255 RGB, Euclidean) at which the median's weight falls to 0.61.
        half_res_band: Bands wider than this (pixels) are inpainted at half resolution (0: never).
        recover_edges: Move soft depth edges onto colour edges at the map's effective resolution
            (:func:`photo3d.depth.upsample.recover_depth_edges`); sharp maps are left as they are.
        matte_edges: Move the ramps of soft maps onto the colour edge with an alpha matte
            (:func:`photo3d.depth.upsample.matte_depth_edges`, at steps of at least
            :data:`photo3d.depth.upsample.MATTE_MIN_STEP`); sharp maps
            (:func:`photo3d.depth.upsample.depth_edge_scale` 1) are left as they are.
        edge_reach: Half-width in pixels of that matte's unknown band (0: 1.5 % of the longer image side).
        align_edges: Translate a sharp depth map registered a few pixels off the photo back onto its
            colour edges (:func:`photo3d.depth.upsample.depth_edge_offset`).
        soft_edges: Alpha-matte the pixels around layer-0 cuts (soft layering, see the module notes).
        matte_radius: Half-width in pixels of the matte's unknown band around each cut
            (0: 0.5 % of the longer image side, at least 2).

    """

    strong: float = 0.02
    weak: float = 0.01
    min_edge_px: int = 0
    median: int = 3
    band_px: int = 0
    max_band_fraction: float = 0.25
    max_layers: int = 4
    edge_radius: int = 2
    edge_iterations: int = 2
    color_sigma: float = 12.0
    half_res_band: int = 160
    recover_edges: bool = True
    matte_edges: bool = True
    edge_reach: int = 0
    align_edges: bool = True
    soft_edges: bool = True
    matte_radius: int = 0


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


def band_for_cameras(
    depth: np.ndarray,
    cut_right: np.ndarray,
    cut_down: np.ndarray,
    intrinsics: Intrinsics,
    poses: list[Pose],
    max_links: int = 20000,
) -> float:
    """The widest gap, in source pixels, that the poses open at any cut.

    Each cut joins a foreground and a background point; both are projected into
    every camera (with the source intrinsics) and the gap is how far apart they
    land, less the one pixel they start apart.

    Args:
        depth: (H, W) planar depth.
        cut_right: (H, W-1) bool cuts, as from :func:`detect_discontinuities`.
        cut_down: (H-1, W) bool cuts.
        intrinsics: Source camera.
        poses: Camera poses of the frames (up to 48 evenly spaced ones are used).
        max_links: Cuts sampled at most (evenly, deterministic).

    Returns:
        Largest gap in pixels (0.0 when there is no cut or no motion).

    """
    ry, rx = np.nonzero(cut_right)
    dy, dx = np.nonzero(cut_down)
    a = np.concatenate([np.stack([ry, rx], 1), np.stack([dy, dx], 1)])
    b = np.concatenate([np.stack([ry, rx + 1], 1), np.stack([dy + 1, dx], 1)])
    if len(a) == 0 or not poses:
        return 0.0
    step = max(1, len(a) // max_links)
    a, b = a[::step], b[::step]
    k = intrinsics.matrix()
    # Unprojected at the sampled pixels only.
    xn, yn = pixel_rays(intrinsics, sparse=True)
    xn, yn = xn[0], yn[:, 0]

    def points(pixels: np.ndarray) -> np.ndarray:
        z = depth[pixels[:, 0], pixels[:, 1]].astype(np.float32)
        return np.stack([xn[pixels[:, 1]] * z, yn[pixels[:, 0]] * z, z], axis=1).astype(np.float64)

    pa, pb = points(a), points(b)
    gap = 0.0
    pose_step = max(1, len(poses) // 48)
    for pose in poses[::pose_step] + [poses[-1]]:
        m = pose.world_to_camera()
        qa = pa @ m[:3, :3].T + m[:3, 3]
        qb = pb @ m[:3, :3].T + m[:3, 3]
        ok = (qa[:, 2] > 1e-9) & (qb[:, 2] > 1e-9)
        ua = qa[ok] @ k.T
        ub = qb[ok] @ k.T
        dist = np.linalg.norm(ua[:, :2] / ua[:, 2:] - ub[:, :2] / ub[:, 2:], axis=1)
        if dist.size:
            gap = max(gap, float(dist.max()) - 1.0)
    return max(gap, 0.0)


def build_ldi(
    image: np.ndarray,
    depth: np.ndarray,
    intrinsics: Intrinsics,
    poses: list[Pose] | None = None,
    params: LDIParams = LDIParams(),
    inpainter: Inpainter | None = None,
) -> LDI:
    """Lifts a photo and its depth into a multi-layer LDI.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        depth: (H, W) float32 planar depth, finite and positive.
        intrinsics: Source camera of the H x W photo.
        poses: The trajectory's camera poses; they size the synthesis band
            (ignored if ``params.band_px`` is set; 2 % of the longer side if neither).
        params: Construction settings.
        inpainter: Fills the colour of back layers from context (default: :class:`ClassicalInpainter`).

    Returns:
        The LDI. It has one layer when the depth has no discontinuity, and at most ``params.max_layers``.

    Raises:
        Photo3DError: If shapes disagree or the depth has non-positive or non-finite values.

    """
    h, w = depth.shape
    if image.shape != (h, w, 3) or image.dtype != np.uint8:
        raise Photo3DError(
            f"photo is {image.shape} {image.dtype} but depth is {depth.shape}: expected ({h}, {w}, 3) uint8"
        )
    if (intrinsics.width, intrinsics.height) != (w, h):
        raise Photo3DError(f"intrinsics are for {intrinsics.width}x{intrinsics.height}, the depth map is {w}x{h}")
    if not np.all(np.isfinite(depth)) or depth.min() <= 0:
        raise Photo3DError("depth must be finite and positive everywhere (fill invalid pixels first)")
    inpainter = inpainter if inpainter is not None else ClassicalInpainter()
    if params.soft_edges:
        preload_solver()  # hidden behind the work before the matte
    dn, z_near = normalized_disparity(depth)
    # Sharp maps (exact depth, a renderer's) keep their edges, translated back if registered off the photo;
    # only soft ones are moved onto colour edges.
    dn = place_depth_edges(
        dn,
        image,
        params.weak,
        params.edge_reach,
        recover=params.recover_edges,
        matte=params.matte_edges,
        align=params.align_edges,
    )
    if params.median > 1:
        dn = remove_speckles(dn, params.weak, params.median)
    if params.edge_radius > 0:
        dn = sharpen_depth_edges(
            dn, image, params.edge_radius, params.edge_iterations, params.color_sigma, params.weak, 1.5 * params.strong
        )
    levels = quantization_levels(dn)
    cut_r, cut_d = detect_discontinuities(dn, params, levels)
    color0, soft = image, None
    if params.soft_edges and (cut_r.any() or cut_d.any()):
        radius = params.matte_radius or max(2, round(0.005 * max(h, w)))
        dn, color0, soft = _soft_silhouettes(image, dn, cut_r, cut_d, radius, params)
        cut_r, cut_d = detect_discontinuities(dn, params, levels)
    depth0 = (z_near / dn).astype(np.float32)
    band = _band_px(depth0, cut_r, cut_d, intrinsics, poses, params)
    # The LDI's arrays, filled in place layer by layer (stacking the layers at the end would copy them all).
    # np.zeros and np.empty leave the pages of unused layers untouched.
    n_max = max(1, params.max_layers)
    colors = np.zeros((n_max, h, w, 3), np.uint8)
    aliases = np.empty((n_max, h, w), np.int8)
    links_r, links_d = np.zeros((n_max, h, w - 1), bool), np.zeros((n_max, h - 1, w), bool)

    def slot(k: int, layer_dn: np.ndarray) -> _Layer:
        aliases[k] = -1
        return _Layer(layer_dn, colors[k], aliases[k], links_r[k], links_d[k])

    layers = [slot(0, dn)]
    layers[0].color[:], layers[0].link_r[:], layers[0].link_d[:] = color0, ~cut_r, ~cut_d
    synthesis = np.zeros((h, w), bool)
    while len(layers) < n_max and (cut_r.any() or cut_d.any()):
        front = layers[-1]
        # Work on the bounding box of the front layer's samples: back layers cover a fraction of the photo.
        (y0, y1), (x0, x1) = mask_extent(front.valid)
        box = (slice(y0, y1), slice(x0, x1))
        sub = front.crop(box)
        syn, back_dn, back_color = _back_layer(
            sub.color,
            sub.dn,
            sub.valid,
            cut_r[y0:y1, x0 : x1 - 1],
            cut_d[y0 : y1 - 1, x0:x1],
            band,
            params,
            inpainter,
        )
        if not syn.any():
            break
        synthesis[box] |= syn
        if soft is not None and len(layers) == 1:
            _behind_soft_pixels(
                image[box],
                color0[box],
                back_color,
                syn & (soft.alpha[box] < 255),
                soft.alpha[box],
                soft.background[box],
            )
        back, sub_r, sub_d = _stack_layer(sub, syn, back_dn, back_color, len(layers) - 1, params)
        layers.append(slot(len(layers), np.zeros((h, w), np.float32)).paste(box, back))
        cut_r, cut_d = np.zeros((h, w - 1), bool), np.zeros((h - 1, w), bool)
        cut_r[y0:y1, x0 : x1 - 1], cut_d[y0 : y1 - 1, x0:x1] = sub_r, sub_d
    alpha = None
    if soft is not None:
        alpha = np.full((len(layers), h, w), 255, np.uint8)
        # A translucent sample with nothing behind it would show the hole fill: it stays opaque, as in the photo.
        covered = (layers[1].valid & (layers[1].alias < 0)) if len(layers) > 1 else np.zeros((h, w), bool)
        alpha[0] = np.where(covered, soft.alpha, 255)
        layers[0].color[:] = cv2.copyTo(color0, (alpha[0] < 255).view(np.uint8), image.copy())
    n = len(layers)
    depth = np.full((n, h, w), EMPTY_DEPTH, np.float32)
    for k, layer in enumerate(layers):
        np.divide(z_near, np.maximum(layer.dn, 1e-12), out=depth[k], where=layer.valid)
    # Fewer layers than allowed: copies, so the LDI does not keep the unused layers' buffers.
    used = (lambda a: a) if n == n_max else (lambda a: a[:n].copy())
    return LDI(
        color=used(colors),
        depth=depth,
        alias=used(aliases),
        link_right=used(links_r),
        link_down=used(links_d),
        intrinsics=intrinsics,
        synthesis=synthesis,
        band_px=band,
        alpha=alpha,
    )


class _Soft(NamedTuple):
    """Layer-0 opacity (H, W) uint8 (255 = opaque) and the background colour (H, W, 3) uint8 behind it."""

    alpha: np.ndarray
    background: np.ndarray


def _cut_sides(
    dn: np.ndarray, cut_r: np.ndarray, cut_d: np.ndarray, min_step: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(bg_edge, fg_edge)``: (H, W) bool, the far and near pixel of every cut link jumping more than ``min_step``."""
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


def _bg_jumps(dn: np.ndarray, cut_r: np.ndarray, cut_d: np.ndarray) -> np.ndarray:
    """(H, W) float32: at the far pixel of every cut link, the largest disparity jump of its links; 0 elsewhere."""
    jumps = np.zeros(dn.shape, np.float32)
    for cut, (oy, ox) in ((cut_r, (0, 1)), (cut_d, (1, 0))):
        y, x = np.nonzero(cut)  # the links are few: a sparse pass, not four full-image ones
        a, b = dn[y, x], dn[y + oy, x + ox]
        near_second = b > a
        np.maximum.at(jumps, (np.where(near_second, y, y + oy), np.where(near_second, x, x + ox)), np.abs(b - a))
    return jumps


def _first_revealing_seed(
    seeds: np.ndarray, jumps: np.ndarray, exponent: float = 0.5, classes: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`nearest_seed`, with each seed's distances divided by its jump to the power ``exponent``.

    A camera move opens a cut by a gap proportional to its disparity jump, so
    of two cuts a pixel lies behind, the one with the smallest distance / jump
    uncovers it first (``exponent`` 1: a multiplicatively weighted Voronoi
    diagram). What shows there is unknown: behind an arm held in front of a body
    the body may end a little beyond the arm's cut over it (the moon's astronaut:
    nearest seeds continue the white suit to the middle of the arm, and it shows
    beside the arm as the camera moves), or a table may continue far behind a
    chair (ICL-NUIM's rooms). The square root (``exponent`` 0.5) is the
    compromise: on ``benchmarks/view_synthesis.py``, against nearest seeds, it
    costs up to 0.54 dB on ICL-NUIM's disoccluded pixels and 0.12 dB elsewhere
    (exponent 1: 0.75 and 0.34 dB), and it keeps the suit off the ground beside
    the arm. The jumps are binned into ``classes`` octaves below the largest,
    each weighted by its median jump: one distance transform per class.

    Args:
        seeds: (H, W) bool; at least one True.
        jumps: (H, W) float32 disparity jump at each seed (see :func:`_bg_jumps`).
        exponent: Power of the jump the distances are divided by (0: nearest seeds).
        classes: Octave bins of the jumps at most.

    Returns:
        As :func:`nearest_seed`; ``dist`` is the Euclidean distance to the chosen seed.

    """
    ys, xs = np.nonzero(seeds)
    j = jumps[ys, xs]
    top = float(j.max())
    octave = np.minimum(np.floor(np.log2(top / np.maximum(j, 1e-6 * top))), classes - 1) if top > 0 else j * 0
    bins = np.unique(octave)
    if len(bins) == 1 or exponent == 0:
        return nearest_seed(seeds)
    best = dist = index = None
    sy, sx = [], []
    for k in bins:
        mine = octave == k
        mask = np.zeros(seeds.shape, bool)
        mask[ys[mine], xs[mine]] = True
        d, label, cy, cx = nearest_seed(mask)
        score = d / np.float32(max(float(np.median(j[mine])), 1e-6 * top) ** exponent)
        label += sum(len(y) for y in sy)
        if best is None:
            best, dist, index = score, d, label
        else:
            closer = score < best
            np.copyto(best, score, where=closer)
            np.copyto(dist, d, where=closer)
            np.copyto(index, label, where=closer)
        sy.append(cy)
        sx.append(cx)
    return dist, index, np.concatenate(sy), np.concatenate(sx)


def _soft_silhouettes(
    image: np.ndarray, dn: np.ndarray, cut_r: np.ndarray, cut_d: np.ndarray, radius: int, params: LDIParams
) -> tuple[np.ndarray, np.ndarray, _Soft | None]:
    """Alpha-matted layer-0 silhouettes: the re-layered disparity, layer-0 colour, opacity and background.

    Returns ``(dn, image, None)`` unchanged when no cut has both a foreground and a background edge pixel.

    Every pixel within ``3 radius`` of a steep cut (a jump above ``strong``)
    is on the foreground side when it is nearer to a foreground edge pixel
    than to a background one (the cut is the border between the two). Pixels
    within ``radius`` of an edge pixel are the trimap's unknown region, except
    the ridge of each side (local maxima of the distance to the other side's
    edge, more than 2 px from it), which stays known: a structure thinner than
    the band, such as a pole or a gap between fingers, keeps a known core and
    so is never matted away, while the one-pixel treads of a staircase a
    filtered depth map leaves at a silhouette are matted with it. Where three
    surfaces meet, the middle one is background to one cut and foreground to
    the other, so a colour is known as both and the matte is ill-posed: a known pixel with a
    known pixel of the other side within ``radius`` at its disparity (within
    ``weak / 2``) marks such a place, and unknown pixels within ``radius + 2``
    of it keep their side, as do pixels whose alpha the local colours do not
    confirm (:func:`_agrees_locally`). After matting, unknown pixels of alpha above
    :data:`ALPHA_EPS` join the foreground and the others the background, each at
    the disparity of its side's surface continued from its nearest edge pixel
    (:func:`photo3d.ldi.inpaint.extrapolate_disparity`, kept within a quarter of the
    step of that edge pixel's disparity), so planes stay planes. A pixel changes
    side only if it is 4-connected to its new side through pixels that do, and
    background pixels cut off from the known background by the new foreground
    join it: an island would be a fragment too small to cut (see
    ``LDIParams.min_edge_px``), linked across the step. Foreground
    pixels of alpha below ``1 - ALPHA_EPS`` within :data:`SOFT_REACH` of the
    background are the translucent ones; their alpha is at most the share of
    foreground their colour holds on the line from the local background mean to
    their foreground colour.
    """
    h, w = dn.shape
    # Sides of steep cuts only: a weak cut that hysteresis linked to a silhouette is most often a spur of
    # it onto the background, a pixel or two of depth noise, whose far side would pass for foreground.
    bg_edge, fg_edge = _cut_sides(dn, cut_r, cut_d, params.strong)
    # A pixel between two close cuts (a step of a staircase) is no side's edge.
    bg_edge, fg_edge = bg_edge & ~fg_edge, fg_edge & ~bg_edge
    if not fg_edge.any() or not bg_edge.any():
        return dn, image, None
    dist_fg, index_fg, fy, fx = nearest_seed(fg_edge)
    dist_bg, index_bg, by, bx = nearest_seed(bg_edge)
    dist = np.minimum(dist_fg, dist_bg)
    near = dist <= 3 * radius
    foreground = near & (dist_fg < dist_bg)
    trimap = foreground.astype(np.float32)
    kernel = np.ones((3, 3), np.uint8)
    core = np.zeros((h, w), bool)
    for side, inside in ((foreground, dist_bg), (near & ~foreground, dist_fg)):
        core |= side & (inside >= cv2.dilate(inside, kernel)) & (inside > 2.0)
    unknown = near & (dist <= radius) & ~core
    # Where three surfaces meet, a known pixel has a known pixel of the other side at its disparity nearby.
    window = np.ones((2 * radius + 1,) * 2, np.uint8)
    known_fg, known_bg = foreground & ~unknown, near & ~foreground & ~unknown
    bg_max = cv2.dilate(np.where(known_bg, dn, -1.0).astype(np.float32), window)
    fg_min = cv2.erode(np.where(known_fg, dn, np.inf).astype(np.float32), window)
    tolerance = 0.5 * params.weak
    conflict = (known_fg & (dn <= bg_max + tolerance)) | (known_bg & (dn >= fg_min - tolerance))
    if conflict.any():
        unknown &= ~cv2.dilate(conflict.astype(np.uint8), np.ones((2 * radius + 5,) * 2, np.uint8)).astype(bool)
    trimap[unknown] = UNKNOWN
    matte = estimate_matte(image, trimap)
    solved = matte.unknown & np.isfinite(matte.alpha)
    trusted, bg_mean = _agrees_locally(image, trimap, matte.alpha, radius, solved)
    matted, solved = solved, solved & trusted
    joins = solved & (matte.alpha > ALPHA_EPS)
    to_fg, to_bg = joins & ~foreground, solved & ~joins & foreground
    # No islands: a speck of foreground colour on the background stays background.
    to_fg, to_bg = (
        _connected_to(to_fg, foreground & ~to_bg),
        _connected_to(to_bg, near & ~foreground & ~to_fg),
    )
    front = (foreground & ~to_bg) | to_fg  # after the moves below
    # Likewise a background pixel the new foreground encloses (one the matte left unsolved) joins it.
    back = near & ~front
    enclosed = back & ~_connected_to(back, ~near | known_bg)
    to_fg |= enclosed & ~foreground
    to_bg &= ~enclosed
    front |= enclosed
    moved = dn.copy()
    for side, seeds, to_side in (
        (foreground, (index_fg, fy, fx), to_fg),
        (near & ~foreground, (index_bg, by, bx), to_bg),
    ):
        if to_side.any():
            plane = extrapolate_disparity(dn, side, *seeds, max_residual=0.1 * params.weak, where=to_side)
            ys, xs = np.nonzero(to_side)
            fg_dn, bg_dn = dn[fy, fx][index_fg[ys, xs]], dn[by, bx][index_bg[ys, xs]]
            # Within a quarter of the step of its side's edge: a plane fitted on a soft ramp would overshoot.
            reach = 0.25 * np.abs(fg_dn - bg_dn)
            seed_dn = fg_dn if side is foreground else bg_dn
            moved[ys, xs] = np.clip(plane[ys, xs], seed_dn - reach, seed_dn + reach)
    dn = moved
    # Translucent only next to the background (within SOFT_REACH px): deeper in, a low alpha is the matte's
    # error on a thin or low-contrast foreground, and the foreground stays opaque.
    beside = cv2.dilate((near & ~front).astype(np.uint8), np.ones((2 * SOFT_REACH + 1,) * 2, np.uint8)).astype(bool)
    soft = joins & front & (matte.alpha < 1.0 - ALPHA_EPS) & beside
    ys, xs = np.nonzero(soft)
    photo = image[ys, xs].astype(np.float32)
    fg = matte.foreground[ys, xs].astype(np.float32)
    bg = matte.background[ys, xs].astype(np.float32)
    # No more foreground than the pixel's colour holds between the local background and its foreground
    # colour: where the matte's alpha is too high (a fringe of wall beside dark fur), the background solved
    # from the compositing equation would be too bright, a pale line once the foreground moves away.
    around = bg_mean[np.searchsorted(np.flatnonzero(matted), ys * w + xs)]  # soft pixels are among the matted
    axis = fg - around
    held = ((photo - around) * axis).sum(-1) / np.maximum((axis * axis).sum(-1), 1.0)
    alpha = np.full((h, w), 255, np.uint8)
    alpha[ys, xs] = np.rint(255.0 * np.minimum(matte.alpha[ys, xs], np.clip(held, 0.0, 1.0)))
    # The estimated colours composite to the photo only approximately: the better-conditioned
    # one is kept and the other solved from the compositing equation, so the source view is the photo.
    a = alpha[ys, xs, None].astype(np.float32) / 255.0
    mostly_fg = a >= 0.5
    fg = np.where(mostly_fg, (photo - (1.0 - a) * bg) / np.maximum(a, 1e-3), fg)
    bg = np.where(mostly_fg, bg, (photo - a * fg) / np.maximum(1.0 - a, 1e-3))
    color, background = image.copy(), image.copy()
    color[ys, xs] = np.clip(np.rint(fg), 0, 255)
    background[ys, xs] = np.clip(np.rint(bg), 0, 255)
    return dn, color, _Soft(alpha, background)


def _connected_to(mask: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` 4-connected to some pixel of ``anchor`` through ``mask`` (both (H, W) bool)."""
    count, labels = cv2.connectedComponents((mask | anchor).view(np.uint8), connectivity=4)
    touching = np.zeros(count, bool)
    touching[labels[anchor]] = True
    return mask & touching[labels]


def _behind_soft_pixels(
    photo: np.ndarray, front: np.ndarray, back: np.ndarray, under: np.ndarray, alpha: np.ndarray, matted: np.ndarray
) -> None:
    """Background colours behind translucent samples, and their foreground colours to match; in place.

    Where the sample is mostly background (alpha below one half), the matte's
    background colour is well determined and is kept. Where it is mostly
    foreground, the matte's background is a guess and the inpainted one
    (from clean context) is kept instead, and the foreground colour is solved
    again from the compositing equation against it, so the layers still give
    back the photo.
    """
    mostly_bg = under & (alpha < 128)
    back[mostly_bg] = matted[mostly_bg]
    refit = under & ~mostly_bg
    a = alpha[refit].astype(np.float32)[:, None] / 255.0
    solved = (photo[refit].astype(np.float32) - (1.0 - a) * back[refit]) / np.maximum(a, 1e-3)
    front[refit] = np.clip(np.rint(solved), 0, 255).astype(np.uint8)


def _local_mean(photo: np.ndarray, mask: np.ndarray, size: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
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


def _agrees_locally(
    image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray, radius: int, where: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where a matte's alpha is trusted: the local colours tell the sides apart and agree with it.

    The local foreground and background colours are the means of the trimap's
    known pixels of each side in a ``(4 radius + 1)`` square box. A pixel's
    alpha is trusted where the two means are at least :data:`MIN_SEPARATION`
    apart and its colour, projected onto the line between them, gives an
    alpha within 0.5 of the matte's: a second, cruder model of the same
    mixing. Where foreground and background look alike (a brown post over
    brown ground), neither can move a depth edge; the depth decides.
    Evaluated on ``where`` only.

    Returns:
        ``(trusted, bg_mean)``: (H, W) bool, False outside ``where``; and (N, 3) float32, the local
        background mean of the N pixels of ``where`` in raster order.

    """
    photo = image.astype(np.float32)
    size = 4 * radius + 1
    ys, xs = np.nonzero(where)
    fg_mean = _local_mean(photo, trimap == 1.0, size, ys, xs)
    bg_mean = _local_mean(photo, trimap == 0.0, size, ys, xs)
    axis = fg_mean - bg_mean
    length2 = np.maximum((axis * axis).sum(-1), 1e-6)
    projected = ((photo[where] - bg_mean) * axis).sum(-1) / length2
    trusted = np.zeros(where.shape, bool)
    trusted[where] = (length2 >= MIN_SEPARATION**2) & (np.abs(projected - np.nan_to_num(alpha[where])) <= 0.5)
    return trusted, bg_mean


@dataclass
class _Layer:
    """One LDI layer under construction: normalised disparity (0 = empty), colour, alias and links."""

    dn: np.ndarray
    color: np.ndarray
    alias: np.ndarray
    link_r: np.ndarray
    link_d: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return self.dn > 0

    def crop(self, box: tuple[slice, slice]) -> _Layer:
        """Views of the samples in ``box`` and of the links between them."""
        ys, xs = box
        return _Layer(
            self.dn[box],
            self.color[box],
            self.alias[box],
            self.link_r[ys, xs.start : xs.stop - 1],
            self.link_d[ys.start : ys.stop - 1, xs],
        )

    def paste(self, box: tuple[slice, slice], part: _Layer) -> _Layer:
        """Writes a cropped layer back at ``box``; returns self."""
        ys, xs = box
        self.dn[box], self.color[box], self.alias[box] = part.dn, part.color, part.alias
        self.link_r[ys, xs.start : xs.stop - 1] = part.link_r
        self.link_d[ys.start : ys.stop - 1, xs] = part.link_d
        return self


def _band_px(depth, cut_r, cut_d, intrinsics, poses, params) -> int:
    """Width of the synthesis band: the trajectory's widest gap with a margin, bounded."""
    h, w = depth.shape
    max_band = max(4, int(params.max_band_fraction * max(h, w)))
    if params.band_px:
        band = int(params.band_px)
    elif poses:
        gap = band_for_cameras(depth, cut_r, cut_d, intrinsics, poses)
        band = int(np.ceil(gap * 1.25)) + 3
    else:
        band = max(4, round(0.02 * max(h, w)))
    if band > max_band:
        log.warning("the trajectory opens gaps of %d px; back layers are limited to %d px", band, max_band)
        band = max_band
    return band


def _stack_layer(
    front: _Layer, synthesis: np.ndarray, back_dn: np.ndarray, back_color: np.ndarray, index: int, params: LDIParams
) -> tuple[_Layer, np.ndarray, np.ndarray]:
    """The layer behind ``front`` (layer ``index``), and the cuts inside it that the next layer fills.

    The synthesised samples are ringed by seam samples: copies of the front
    layer's samples next to them, which alias those samples so the back layer is
    stitched to the surface it continues. Links join samples up to ``strong``
    apart (a gap in a back layer would show as a hole); two seam samples keep the
    front layer's link. Where two synthesised regions continued from surfaces at
    different depths meet, the jump is a cut of the new layer, behind which the
    next layer continues the farther surface (nested occlusions).
    """
    seam = cv2.dilate(synthesis.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~synthesis & front.valid
    dn = np.where(synthesis, back_dn, np.where(seam, front.dn, 0.0)).astype(np.float32)
    valid = dn > 0
    alias = np.where(seam, np.where(front.alias >= 0, front.alias, index), -1).astype(np.int8)
    color = np.zeros(front.color.shape, np.uint8)
    flat = color.reshape(-1, 3)  # pixel indices: a broadcast mask over (H, W, 3) is slower on sparse masks
    for source, mask in ((front.color, seam), (back_color, synthesis)):
        idx = np.flatnonzero(mask)
        flat[idx] = source.reshape(-1, 3)[idx]
    links, cuts = [], []
    for axis, front_link in ((1, front.link_r), (0, front.link_d)):
        a, b = (np.s_[:, :-1], np.s_[:, 1:]) if axis == 1 else (np.s_[:-1, :], np.s_[1:, :])
        both_valid = valid[a] & valid[b]
        both_seam = seam[a] & seam[b]
        close = np.abs(dn[b] - dn[a]) <= params.strong
        links.append(both_valid & np.where(both_seam, front_link, close))
        # A seam sample nearer than its synthesised neighbour is the foreground the layer lies behind, not a cut.
        seam_nearer = (seam[a] & (dn[a] > dn[b])) | (seam[b] & (dn[b] > dn[a]))
        cuts.append(both_valid & ~both_seam & ~close & ~seam_nearer)
    return _Layer(dn, color, alias, links[0], links[1]), cuts[0], cuts[1]


def _back_layer(
    image: np.ndarray,
    dn: np.ndarray,
    valid: np.ndarray,
    cut_r: np.ndarray,
    cut_d: np.ndarray,
    band: int,
    params: LDIParams,
    inpainter: Inpainter,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthesis mask, back-layer disparity and colour behind every cut of one layer."""
    h, w = dn.shape
    bg_seed, fg_edge = _cut_sides(dn, cut_r, cut_d)
    # A pixel that is background to one cut and foreground to another (a thin
    # surface between two depths) is no seed: what lies behind both continues
    # the farther surface.
    bg_seed &= ~fg_edge
    if not bg_seed.any():
        return np.zeros((h, w), bool), dn, image
    jumps = _bg_jumps(dn, cut_r, cut_d)
    dist, index, sy, sx = _first_revealing_seed(bg_seed, jumps)
    seed_dn = dn[sy, sx][index]
    # The background plane is fitted next to each seed (where a first guess of
    # the background is safe), then "in front" is judged against that plane,
    # so a slanted background is never mistaken for foreground.
    near_bg = valid & (dn <= seed_dn + params.weak) & (dist <= 2 * band)
    back_dn = extrapolate_disparity(dn, near_bg, index, sy, sx, max_residual=0.1 * params.weak, where=dist <= 2 * band)
    # In front of the plane by a quarter of the seed's own step at least: the plane of a seed on a soft
    # ramp, extended away from the cut, drifts below the background a little (0.01-0.03 on the moon's
    # MiDaS map) and would turn that background into rays of foreground.
    margin = np.maximum(params.weak, 0.25 * jumps[sy, sx])
    in_front = valid & (dn > back_dn + margin[index])
    # Only what is reached from a foreground edge without crossing a cut occludes.
    in_front = _connected_to(in_front & ~bg_seed, in_front & fg_edge)
    synthesis = in_front & (dist <= band)
    context = valid & ~in_front & (dist <= 2 * band) & ~bg_seed
    context &= ~cv2.dilate(synthesis.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # Context is background reached from a step: a patch of it that no cut steeper than ``strong`` borders
    # lies behind weak cuts only (a seam of 0.01 that hysteresis linked to a silhouette), most often the
    # foreground's own surface, and would copy the foreground into the fill.
    steep_bg = jumps > params.strong
    if steep_bg.any():
        beside = cv2.dilate(steep_bg.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        context = _connected_to(context, context & beside)
    # Behind the visible surface by at least the bridging tolerance, in front of infinity.
    back_dn = np.clip(back_dn, 0.25 * seed_dn, dn - params.weak)
    at = np.flatnonzero(synthesis)
    if len(at) == 0:
        return synthesis, back_dn, image
    groups = _surface_groups(seed_dn.reshape(-1)[at], params)
    color = _fill_by_surface(image, dn, seed_dn, context, synthesis, params, inpainter, band, groups)
    back_color = image.copy()  # only the synthesis pixels are read
    fill = color.reshape(-1, 3)[at]
    # The fill meets the background's edge pixels, which stay in view as the back layer's seam. Its
    # context starts farther out, so where the photo's background darkens or lightens towards the
    # silhouette (a blur halo, a shadow) the two would meet in a line: the fill fades from the edge
    # pixels' colour into its own over ``feather`` px.
    feather = float(np.clip(band // 16, 2, 16))
    weight = np.clip((feather + 1.0 - dist.reshape(-1)[at]) / feather, 0.0, 1.0)[:, None]
    fill += weight * (_edge_colors(image, dn, sy, sx, index.reshape(-1)[at], int(feather) | 1, groups, params) - fill)
    back_color.reshape(-1, 3)[at] = np.clip(np.rint(fill), 0, 255)
    return synthesis, back_dn, back_color


def _edge_colors(
    image: np.ndarray,
    dn: np.ndarray,
    sy: np.ndarray,
    sx: np.ndarray,
    seeds: np.ndarray,
    size: int,
    groups: list[tuple[float, float]],
    params: LDIParams,
) -> np.ndarray:
    """(N, 3) float32 colour of the seed pixels ``seeds`` (indices into ``sy``, ``sx``), averaged along the edge.

    Each seed's colour is the mean of the seed pixels on the same surface (one of ``groups``, the
    :func:`_surface_groups` of the seeds' disparities) in a ``size`` x ``size`` box around it (see
    :func:`_local_mean`), so a stray pixel makes no blob and two surfaces meeting at a junction keep
    their own colours.
    """
    h, w = dn.shape
    level = dn[sy, sx]
    color = np.zeros((len(sy), 3), np.float32)
    half = 0.5 * params.weak
    for lo, hi in groups:
        group = np.flatnonzero((level >= lo - half) & (level <= hi + half))
        gy, gx = sy[group], sx[group]
        y0, x0 = max(int(gy.min()) - size, 0), max(int(gx.min()) - size, 0)
        y1, x1 = min(int(gy.max()) + size + 1, h), min(int(gx.max()) + size + 1, w)
        mask = np.zeros((y1 - y0, x1 - x0), bool)
        mask[gy - y0, gx - x0] = True
        color[group] = _local_mean(image[y0:y1, x0:x1].astype(np.float32), mask, size, gy - y0, gx - x0)
    return color[seeds]


def _fill_by_surface(
    image: np.ndarray,
    dn: np.ndarray,
    seed_dn: np.ndarray,
    context: np.ndarray,
    synthesis: np.ndarray,
    params: LDIParams,
    inpainter: Inpainter,
    band: int,
    groups: list[tuple[float, float]],
) -> np.ndarray:
    """Inpaints the synthesis region surface by surface.

    Synthesis pixels are grouped by the disparity of the background they
    continue (their seed's), into ``groups`` (:func:`_surface_groups` of those
    disparities: split where they leave a gap above ``strong``). Each
    group is filled only from context at its own depth, so the hidden part of
    a middle surface never takes the colour of the wall behind it. Bands wider
    than ``params.half_res_band`` pixels (large photos moved far) are filled at
    half resolution: four times fewer pixels for holes that wide.
    """
    scale = 2 if params.half_res_band and band > params.half_res_band else 1
    out = image.astype(np.float32)
    half = 0.5 * params.weak
    for lo, hi in groups:
        hole = synthesis & (seed_dn >= lo - half) & (seed_dn <= hi + half)
        near = context & (dn >= lo - params.strong) & (dn <= hi + params.strong)
        known = near if near.any() else context
        if not hole.any():
            continue
        (y0, y1), (x0, x1) = mask_extent(hole | known)
        # The fill reads context near the hole only: within twice the band of
        # it lie the nearest context pixels and their mirror images.
        (hy0, hy1), (hx0, hx1) = mask_extent(hole)
        near_box = np.s_[
            max(y0, hy0 - 2 * band) : min(y1, hy1 + 2 * band), max(x0, hx0 - 2 * band) : min(x1, hx1 + 2 * band)
        ]
        box = near_box if known[near_box].any() else np.s_[y0:y1, x0:x1]
        filled = _fill_scaled(inpainter, out[box], known[box], hole[box], scale)
        np.copyto(out[box], filled, where=hole[box][..., None])
    return out


def _surface_groups(values: np.ndarray, params: LDIParams, max_groups: int = 4) -> list[tuple[float, float]]:
    """Disparity ranges ``(lo, hi)`` of the surfaces that seed disparities ``values`` belong to.

    The values are split where they leave a gap above ``strong`` (at the widest
    gaps, ``max_groups`` ranges at most); a value belongs to a range when it lies
    within ``weak / 2`` of it.
    """
    levels = np.unique(np.round(values / params.weak)) * params.weak
    gaps = np.diff(levels)
    cut_at = np.sort(np.argsort(gaps)[::-1][: max_groups - 1])
    cut_at = cut_at[gaps[cut_at] > params.strong]
    starts = np.concatenate([[levels[0]], levels[cut_at + 1]])
    ends = np.concatenate([levels[cut_at], [levels[-1]]])
    return [(float(lo), float(hi)) for lo, hi in zip(starts, ends, strict=True)]


def _fill_scaled(
    inpainter: Inpainter, color: np.ndarray, known: np.ndarray, hole: np.ndarray, scale: int
) -> np.ndarray:
    """``inpainter.fill`` run at 1/``scale`` of the resolution and scaled back up (``scale`` 1: as is).

    A downscaled pixel is context only if all the pixels it covers are (so its
    colour mixes context only), and hole if any is: the fill still reads nothing
    but context.
    """
    if scale == 1:
        return inpainter.fill(color, known, hole)
    h, w = known.shape
    size = (max(1, -(-w // scale)), max(1, -(-h // scale)))
    small_known = cv2.resize(known.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA) == 255
    small_hole = (
        cv2.resize(hole.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA) > 0
    ) & ~small_known
    small = cv2.resize(color, size, interpolation=cv2.INTER_AREA)  # only context pixels are read
    if isinstance(inpainter, ClassicalInpainter):
        inpainter = inpainter.downscaled(scale)  # texture starts as far from the context as at full size
    filled = inpainter.fill(small, small_known, small_hole)
    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
