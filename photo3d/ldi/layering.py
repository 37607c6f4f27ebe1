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
   edges (:func:`~photo3d.ldi.discontinuities.sharpen_depth_edges`).
2. **Discontinuities.** A link between 4-neighbours is a discontinuity
   candidate where its jump ``dn_b - dn_a`` departs by more than ``weak`` from the
   median of the two jumps on either side along the same line (so slanted planes,
   whose disparity is affine, are never cut however steep) and is itself larger
   than ``weak`` (beside a step spread over two links, that median is half the
   step, and a flat link would depart from it too); as in Canny's hysteresis,
   the foreground pixels of candidates form 8-connected segments, and a segment
   is kept (and its links cut) only if it holds a jump above ``strong`` and at
   least ``min_edge_px`` pixels. That drops tiny fragments and links a strong
   edge through its weaker stretches. Cut links with no colour edge within a
   few pixels are linked again
   (:func:`~photo3d.ldi.discontinuities.drop_colourless_cuts`): there the map,
   not the scene, has the edge.
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
from dataclasses import dataclass

import cv2
import numpy as np

from ..camera.intrinsics import Intrinsics, Pose, pixel_rays
from ..depth.upsample import place_depth_edges
from ..errors import Photo3DError
from .discontinuities import (
    cut_sides,
    detect_discontinuities,
    drop_colourless_cuts,
    normalized_disparity,
    quantization_levels,
    remove_speckles,
    sharpen_depth_edges,
)
from .inpaint import (
    ClassicalInpainter,
    Inpainter,
    connected_to,
    extrapolate_disparity,
    local_mean,
    mask_extent,
    nearest_seed,
)
from .matte import preload_solver
from .silhouettes import fill_behind_soft_pixels, soft_silhouettes
from .structure import EMPTY_DEPTH, LDI, LDIParams

__all__ = ["LDI", "LDIParams", "band_for_cameras", "build_ldi"]

log = logging.getLogger(__name__)


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
    contrast_reach = params.contrast_reach or max(2, round(0.003 * max(h, w)))

    def cuts(dn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cut_r, cut_d = detect_discontinuities(dn, params, levels)
        return drop_colourless_cuts(image, cut_r, cut_d, params.min_cut_contrast, contrast_reach)

    cut_r, cut_d = cuts(dn)
    color0, soft = image, None
    if params.soft_edges and (cut_r.any() or cut_d.any()):
        radius = params.matte_radius or max(2, round(0.005 * max(h, w)))
        dn, color0, soft = soft_silhouettes(image, dn, cut_r, cut_d, radius, params)
        cut_r, cut_d = cuts(dn)
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
            fill_behind_soft_pixels(
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
    chosen: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (score, dist, index) of the best seeds so far
    sy: list[np.ndarray] = []
    sx: list[np.ndarray] = []
    for k in bins:
        mine = octave == k
        mask = np.zeros(seeds.shape, bool)
        mask[ys[mine], xs[mine]] = True
        d, label, cy, cx = nearest_seed(mask)
        score = d / np.float32(max(float(np.median(j[mine])), 1e-6 * top) ** exponent)
        label += sum(len(y) for y in sy)
        if chosen is None:
            chosen = score, d, label
        else:
            best, dist, index = chosen
            closer = score < best
            np.copyto(best, score, where=closer)
            np.copyto(dist, d, where=closer)
            np.copyto(index, label, where=closer)
        sy.append(cy)
        sx.append(cx)
    assert chosen is not None  # there are at least two bins
    _, dist, index = chosen
    return dist, index, np.concatenate(sy), np.concatenate(sx)


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
    bg_seed, fg_edge = cut_sides(dn, cut_r, cut_d)
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
    in_front = connected_to(in_front & ~bg_seed, in_front & fg_edge)
    synthesis = in_front & (dist <= band)
    context = valid & ~in_front & (dist <= 2 * band) & ~bg_seed
    context &= ~cv2.dilate(synthesis.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # Context is background reached from a step: a patch of it that no cut steeper than ``strong`` borders
    # lies behind weak cuts only (a seam of 0.01 that hysteresis linked to a silhouette), most often the
    # foreground's own surface, and would copy the foreground into the fill.
    steep_bg = jumps > params.strong
    if steep_bg.any():
        beside = cv2.dilate(steep_bg.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        context = connected_to(context, context & beside)
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
    :func:`local_mean`), so a stray pixel makes no blob and two surfaces meeting at a junction keep
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
        color[group] = local_mean(image[y0:y1, x0:x1].astype(np.float32), mask, size, gy - y0, gx - x0)
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
