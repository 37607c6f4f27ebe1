"""Soft silhouettes: alpha mattes around the cuts of layer 0 and the colours on both sides of them.

Step 3 of the LDI construction (see :mod:`photo3d.ldi.layering`), after SLIDE (Jampani et al., ICCV 2021).
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from .discontinuities import cut_sides
from .inpaint import connected_to, extrapolate_disparity, local_mean, nearest_seed
from .matte import MIN_SEPARATION, UNKNOWN, estimate_matte
from .structure import LDIParams

__all__ = ["ALPHA_EPS", "SOFT_REACH", "SoftSilhouettes", "fill_behind_soft_pixels", "soft_silhouettes"]

ALPHA_EPS = 1.0 / 32
"""Matte alphas at most this far from 0 or 1 count as fully background or foreground."""


SOFT_REACH = 2
"""Foreground pixels at most this many pixels (Chebyshev) from the background may be translucent."""


class SoftSilhouettes(NamedTuple):
    """Layer-0 opacity (H, W) uint8 (255 = opaque) and the background colour (H, W, 3) uint8 behind it."""

    alpha: np.ndarray
    background: np.ndarray


def soft_silhouettes(
    image: np.ndarray, dn: np.ndarray, cut_r: np.ndarray, cut_d: np.ndarray, radius: int, params: LDIParams
) -> tuple[np.ndarray, np.ndarray, SoftSilhouettes | None]:
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

    Args:
        image: (H, W, 3) uint8 RGB photo.
        dn: (H, W) float32 normalised disparity.
        cut_r: (H, W-1) bool cuts between horizontal neighbours.
        cut_d: (H-1, W) bool cuts between vertical neighbours.
        radius: Half-width of the trimap's unknown band in pixels, >= 1.
        params: The LDI settings (``strong``, ``weak``).

    Returns:
        ``(dn, color, soft)``: (H, W) float32 disparity with matted pixels moved to their side, (H, W, 3)
        uint8 layer-0 colour (decontaminated foreground where translucent), and the opacity and
        background colour (None when nothing was matted).

    """
    h, w = dn.shape
    # Sides of steep cuts only: a weak cut that hysteresis linked to a silhouette is most often a spur of
    # it onto the background, a pixel or two of depth noise, whose far side would pass for foreground.
    bg_edge, fg_edge = cut_sides(dn, cut_r, cut_d, params.strong)
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
        connected_to(to_fg, foreground & ~to_bg),
        connected_to(to_bg, near & ~foreground & ~to_fg),
    )
    front = (foreground & ~to_bg) | to_fg  # after the moves below
    # Likewise a background pixel the new foreground encloses (one the matte left unsolved) joins it.
    back = near & ~front
    enclosed = back & ~connected_to(back, ~near | known_bg)
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
    return dn, color, SoftSilhouettes(alpha, background)


def fill_behind_soft_pixels(
    photo: np.ndarray, front: np.ndarray, back: np.ndarray, under: np.ndarray, alpha: np.ndarray, matted: np.ndarray
) -> None:
    """Background colours behind translucent samples, and their foreground colours to match; in place.

    Where the sample is mostly background (alpha below one half), the matte's
    background colour is well determined and is kept. Where it is mostly
    foreground, the matte's background is a guess and the inpainted one
    (from clean context) is kept instead, and the foreground colour is solved
    again from the compositing equation against it, so the layers still give
    back the photo.

    Args:
        photo: (H, W, 3) uint8 RGB photo.
        front: (H, W, 3) uint8 layer-0 colour, refitted in place.
        back: (H, W, 3) uint8 back-layer colour, set in place where the matte's background is kept.
        under: (H, W) bool, the translucent samples with a back-layer sample behind them.
        alpha: (H, W) uint8 layer-0 opacity, 255 = opaque.
        matted: (H, W, 3) uint8 background colour the matte estimated.

    """
    mostly_bg = under & (alpha < 128)
    back[mostly_bg] = matted[mostly_bg]
    refit = under & ~mostly_bg
    a = alpha[refit].astype(np.float32)[:, None] / 255.0
    solved = (photo[refit].astype(np.float32) - (1.0 - a) * back[refit]) / np.maximum(a, 1e-3)
    front[refit] = np.clip(np.rint(solved), 0, 255).astype(np.uint8)


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
    fg_mean = local_mean(photo, trimap == 1.0, size, ys, xs)
    bg_mean = local_mean(photo, trimap == 0.0, size, ys, xs)
    axis = fg_mean - bg_mean
    length2 = np.maximum((axis * axis).sum(-1), 1e-6)
    projected = ((photo[where] - bg_mean) * axis).sum(-1) / length2
    trusted = np.zeros(where.shape, bool)
    trusted[where] = (length2 >= MIN_SEPARATION**2) & (np.abs(projected - np.nan_to_num(alpha[where])) <= 0.5)
    return trusted, bg_mean
