"""Upsampling a network's depth map to the photo's size, with depth edges on colour edges.

A monocular depth network (Depth Anything, MiDaS) runs at about 518 px and
returns relative inverse depth there; the photo is 2-6 times larger. Plain
bilinear upsampling blurs every depth edge over one network pixel (2-6 photo
pixels) and keeps the network's own edge errors, typically a network pixel
of blur and misplacement. In a 3D photo that shows as foreground colour
smeared onto the background layer (halos) and background torn away with the
foreground.

:func:`edge_aware_upsample` is bilinear upsampling followed by a colour-guided
two-sided edge snap: a local two-layer version of guided upsampling in the
spirit of Joint Bilateral Upsampling (Kopf, Cohen, Lischinski, Uyttendaele,
"Joint Bilateral Upsampling", SIGGRAPH 2007), where the side each photo pixel
belongs to is decided by linear colour unmixing along the line between the
two sides' mean colours, the colour-line model of matting (Levin,
Lischinski, Weiss, "A Closed-Form Solution to Natural Image Matting",
CVPR 2006). Why not JBU itself: JBU replaces every value by a colour-weighted
average of its neighbours, so (a) it copies texture into smooth depth and
changes smooth regions, and (b) when the network put an edge a pixel off,
the wrongly labelled neighbours have the *right* colour, JBU averages them in
and the edge stays misplaced. Here smooth regions stay exactly bilinear, and
near an edge a photo pixel takes the value of the side whose colour it
matches, which moves the edge onto the colour edge.

The method, with ``r`` = ``radius``; steps 1-4 run at the network's
resolution (cheap), step 5 only at photo pixels in the edge band:

1. Edge band: network pixels whose ``(2r+1) x (2r+1)`` neighbourhood spans
   (max - min) more than ``edge_threshold`` of the whole map's range. Its
   ``mid = (max + min) / 2`` splits the neighbourhood into a high and a low
   side. Nothing outside the band changes.
2. Side samples: band pixels whose value lies within 20 % of their own
   neighbourhood's spread from its max (high side) or min (low side): the
   plateaus next to a step, not the blurred ramp between them. On a smooth
   slope every pixel sits midway in its own neighbourhood, so a slope has
   no side samples and stays bilinear however steep it is.
3. Per band pixel, box filters over the same neighbourhood give each side's
   mean colour ``c_hi``, ``c_lo`` (of the photo area-averaged to the network's
   size), colour variance, and mean value ``v_hi``, ``v_lo``.
4. Confidence that colour tells the sides apart:
   ``clip(|c_hi - c_lo| / sqrt(color_threshold^2 + (var_hi + var_lo) / 4) - 1, 0, 1)``:
   0 (keep bilinear) when the side colours are closer than
   ``color_threshold`` levels or than the texture within each side, 1 from
   twice that.
5. For each band photo pixel with colour ``I`` and bilinear value ``u``:
   ``t = <I - c_lo, c_hi - c_lo> / |c_hi - c_lo|^2`` (0 = low side's colour,
   1 = high side's), ``alpha = clip(4 (t - 0.5) + 0.5, 0, 1)`` (a clean side
   colour is all that side; anti-aliased pixels in between blend).
   ``V_hi = u`` if ``u`` is a *pure* high value (all four network pixels it
   blends are above ``mid`` and ``u`` is within 20 % of the max), else
   ``v_hi``; likewise ``V_lo``. The result is
   ``u + confidence * (alpha V_hi + (1 - alpha) V_lo - u)``.

So a pixel whose bilinear value already belongs to the side its colour
matches keeps it, and only pixels that mix the sides or sit on the wrong side
change. Every output value is a convex combination of input values, so it
stays within the input's range. The cost is one bilinear resize plus work
proportional to the number of band pixels (on two CPU cores 0.1-0.2 s for
518 x 924 -> 1080 x 1920 and 0.25-0.7 s for 518 x 690 -> 3024 x 4032,
depending on how much of the image is near an edge); memory is the
(H, W) float32 output plus, per strip of ``strip_rows`` rows, a few arrays
over that strip's band pixels.

Checked on Middlebury Cones and Tsukuba (ground-truth disparity area-averaged
to half size, optionally blurred or shifted by a pixel, then upsampled with
the photo as guide): the share of pixels near discontinuities that are off by
more than 1 px of disparity drops from 11-31 % (bilinear) to 7-18 %.

Edges blurred over more than about ``r`` network pixels (MiDaS at 384 px
resized up) are only partly sharpened; a larger ``radius`` (3-4) reaches
further but, in busy scenes, mixes in other objects' colours.

A map already at the photo's size can be just as soft: a network run near the
photo's size, a depth map exported by another tool, a phone's filtered depth
resized up. :func:`depth_edge_scale` measures how soft its depth edges are (its
effective resolution) and :func:`recover_depth_edges` brings it down to that
resolution and back up through :func:`edge_aware_upsample`, so its edges land
on colour edges exactly as a low-resolution map's do; sharp maps are returned
unchanged.

Snapping moves only the pixels whose side colour can tell; where it cannot
(white on white, or beyond ``r`` network pixels of a wide ramp) the ramp
stays, and in a 3D photo a ramp is a rubber sheet, or sliver layers once cut.
:func:`collapse_ramps` turns what is left of each ramp into one step: where
the colours beyond its two ends differ, where the ramp's pixels best match
them; elsewhere on the side snapping gave a pixel, or at the ramp's midpoint,
and in doubt on the foreground's side.

Ramps wider still (a network's edge tens of pixels wide and off the
silhouette) are re-segmented by an alpha matte (:func:`matte_depth_edges`).
A sharp map registered a few pixels off its photo (a depth sensor beside
the camera, a renderer's or a tool's map saved with another crop) has every
edge off by the same translation, which is found and undone
(:func:`depth_edge_offset`, :func:`align_depth_edges`).
:func:`place_depth_edges` runs these steps on any map (a sharp map registered
to its photo passes unchanged), and :func:`upsample_disparity` and
:func:`upsample_depth` run it on a small map enlarged bilinearly: that way
a small map's edges are placed exactly as a full-size soft map's, and the
result reads as sharp, so :func:`photo3d.ldi.layering.build_ldi` does not place them
again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np

from ..camera.intrinsics import aspect_ratios_differ
from ..errors import Photo3DError
from ..ldi.inpaint import extrapolate_disparity, mask_extent, nearest_seed
from ..ldi.matte import MIN_SEPARATION, UNKNOWN, estimate_matte, preload_solver

__all__ = [
    "MATTE_MIN_STEP",
    "align_depth_edges",
    "collapse_ramps",
    "depth_edge_offset",
    "depth_edge_scale",
    "edge_aware_upsample",
    "matte_depth_edges",
    "place_depth_edges",
    "recover_depth_edges",
    "upsample_depth",
    "upsample_disparity",
]

log = logging.getLogger(__name__)

_PURITY = 0.2  # a side sample lies within this fraction of the neighbourhood's spread from its max / min
_TEXTURE_WEIGHT = 0.25  # weight of the sides' colour variance in the confidence's noise term
_ALPHA_GAIN = 4.0  # slope of alpha over t: pixels within 3/8 of the way of a side's colour are all that side


def _check_low(low: np.ndarray) -> np.ndarray:
    """(h, w) float32 C-contiguous view or copy of ``low``; Photo3DError unless 2-D, non-empty, real and finite."""
    low = np.asarray(low)
    if low.ndim != 2 or low.shape[0] < 1 or low.shape[1] < 1:
        raise Photo3DError(f"low-resolution map must be a non-empty (h, w) array, got shape {low.shape}")
    if low.dtype.kind not in "fiu":
        raise Photo3DError(f"low-resolution map must hold real numbers, got dtype {low.dtype}")
    low = np.ascontiguousarray(low, dtype=np.float32)
    if not np.isfinite(low).all():
        raise Photo3DError(
            "low-resolution map has NaN or infinite values; fill them first (photo3d.depth.conversions.fill_invalid)"
        )
    return low


def _check_guide(guide: np.ndarray) -> np.ndarray:
    """``guide`` as a C-contiguous (H, W, 3) uint8 array; Photo3DError for another shape, dtype or an empty one."""
    guide = np.ascontiguousarray(guide)  # OpenCV needs positive strides (an RGB view of BGR has negative ones)
    if guide.ndim != 3 or guide.shape[2] != 3 or guide.dtype != np.uint8:
        raise Photo3DError(f"guide must be an (H, W, 3) uint8 RGB photo, got shape {guide.shape} dtype {guide.dtype}")
    if guide.shape[0] < 1 or guide.shape[1] < 1:
        raise Photo3DError(f"guide has a zero dimension ({guide.shape[1]}x{guide.shape[0]})")
    return guide


def _check_aspect(h: int, w: int, height: int, width: int) -> None:
    if aspect_ratios_differ(w, h, width, height):
        raise Photo3DError(
            f"depth map is {w}x{h} but the photo is {width}x{height}: their aspect ratios differ by more than 1 %; "
            "run the depth network on the whole photo (no crop)"
        )


def _plain_resize(low: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear when enlarging, area averaging when shrinking; a copy when the size already matches."""
    h, w = low.shape
    if (h, w) == (height, width):
        return low.copy()
    shrinking = height < h or width < w
    return cv2.resize(low, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _source_index(n_out: int, n_in: int, offset: float) -> np.ndarray:
    """For each output pixel, ``floor`` of its centre in input pixel coordinates minus ``offset``, clipped."""
    centre = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out)
    return np.clip(np.floor(centre - offset), 0, n_in - 1).astype(np.intp)


def edge_aware_upsample(
    low: np.ndarray,
    guide: np.ndarray | None,
    *,
    shape: tuple[int, int] | None = None,
    radius: int = 2,
    edge_threshold: float = 0.03,
    color_threshold: float = 8.0,
    strip_rows: int = 512,
) -> np.ndarray:
    """Upsample a network's depth or disparity map so that its edges follow the photo's colour edges.

    See the module docstring for the method. Smooth regions (no depth edge
    within ``radius`` network pixels) come out exactly as bilinear
    upsampling (``cv2.resize``, ``INTER_LINEAR``, pixel centres at +0.5);
    near depth edges each photo pixel takes the value of the side whose
    colour it matches, which moves an edge that the network blurred or
    misplaced by about a network pixel onto the colour edge.

    Args:
        low: (h, w) real array at the network's resolution, e.g. 518 x 924,
            typically relative inverse depth (any map whose edges are steps
            works: disparity or depth, any units and offset); every value
            finite. Its aspect ratio must match the photo's within 1 %.
        guide: (H, W, 3) uint8 RGB photo, or None for plain resizing to
            ``shape``.
        shape: Output (H, W). With a guide it must be None or equal the
            guide's (H, W); without one, None means ``low``'s own size.
        radius: Half-width in network pixels of the neighbourhood that
            detects edges and gathers side colours: how far from a network
            edge values may change; >= 1.
        edge_threshold: A depth edge is a neighbourhood whose max - min
            exceeds this fraction of the whole map's max - min; in (0, 1].
        color_threshold: Side colours closer than this (Euclidean RGB
            distance, 0-255 levels) are indistinguishable and keep the
            bilinear value; full snapping from twice this; > 0.
        strip_rows: Photo rows processed at a time (bounds the memory of the
            per-pixel work); >= 1.

    Returns:
        (H, W) float32 in the units of ``low``, every value within
        ``[low.min(), low.max()]``; a new array, never ``low`` itself. Equal
        sizes give a float32 copy of ``low``; without a guide, or when the
        photo is not larger than the map in both directions, plain resizing
        (bilinear to enlarge, area averaging to shrink).

    Raises:
        Photo3DError: If ``low`` is not a non-empty 2-D real array or has
            NaN or infinite values, ``guide`` is not (H, W, 3) uint8,
            ``shape`` disagrees with the guide, the aspect ratios differ by
            more than 1 %, or a parameter is out of range.

    Example:
        >>> low = np.zeros((4, 8), np.float32)
        >>> low[:, :4] = 1.0  # the network puts the edge at photo column 8 ...
        >>> guide = np.zeros((8, 16, 3), np.uint8)
        >>> guide[:, :10] = 255  # ... the photo's colour edge is at column 10
        >>> edge_aware_upsample(low, guide)[0].round(1).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        >>> edge_aware_upsample(low, None, shape=(8, 16))[0].round(2).tolist()  # bilinear
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]

    """
    low = _check_low(low)
    if not (isinstance(radius, (int, np.integer)) and radius >= 1):
        raise Photo3DError(f"radius must be a whole number of network pixels >= 1, got {radius!r}")
    if not 0.0 < edge_threshold <= 1.0:
        raise Photo3DError(f"edge_threshold must be in (0, 1], got {edge_threshold}")
    if not color_threshold > 0.0:
        raise Photo3DError(f"color_threshold must be positive, got {color_threshold}")
    if strip_rows < 1:
        raise Photo3DError(f"strip_rows must be positive, got {strip_rows}")
    h, w = low.shape
    if guide is None:
        height, width = (h, w) if shape is None else (int(shape[0]), int(shape[1]))
        if shape is not None and (height < 1 or width < 1):  # the map itself is never empty
            raise Photo3DError(f"output shape must be positive, got {tuple(shape)}")
        _check_aspect(h, w, height, width)
        return _plain_resize(low, height, width)

    guide = _check_guide(guide)
    height, width = guide.shape[:2]
    if shape is not None and (int(shape[0]), int(shape[1])) != (height, width):
        raise Photo3DError(f"shape {tuple(shape)} disagrees with the guide's (H, W) = {(height, width)}")
    _check_aspect(h, w, height, width)
    if height <= h or width <= w:  # not enlarging: there is no finer colour edge to snap to
        return _plain_resize(low, height, width)

    up = cv2.resize(low, (width, height), interpolation=cv2.INTER_LINEAR)
    lo_value, hi_value = float(low.min()), float(low.max())
    sides = _Sides.measure(low, guide, radius, edge_threshold, color_threshold)
    if sides is None:
        return up

    # Photo pixel -> network pixel holding its centre, and the top-left network pixel of its bilinear footprint.
    near_y, near_x = _source_index(height, h, 0.0), _source_index(width, w, 0.0)
    foot_y, foot_x = _source_index(height, h, 0.5), _source_index(width, w, 0.5)
    pad = np.pad(low, ((0, 1), (0, 1)), mode="edge")
    quad = np.stack([pad[:-1, :-1], pad[:-1, 1:], pad[1:, :-1], pad[1:, 1:]])
    foot_min, foot_max = quad.min(axis=0).ravel(), quad.max(axis=0).ravel()
    # numpy's stubs type any(axis=...) as np.bool | ndarray; on the 2-D mask it is always a 1-D array
    active_rows = cast(np.ndarray, sides.active.any(axis=1))

    out = up  # strips read and write disjoint pixels, so the bilinear values can be replaced in place
    for y0 in range(0, height, strip_rows):
        y1 = min(height, y0 + strip_rows)
        if not active_rows[near_y[y0:y1]].any():
            continue
        ys, xs = np.nonzero(sides.active[np.ix_(near_y[y0:y1], near_x)])
        ys += y0
        q = near_y[ys] * w + near_x[xs]  # flat index of the network pixel
        f = foot_y[ys] * w + foot_x[xs]  # flat index of its footprint's top-left network pixel
        u = up[ys, xs]
        pure_hi = (foot_min[f] > sides.mid[q]) & (u >= sides.hi_min[q])
        pure_lo = (foot_max[f] <= sides.mid[q]) & (u <= sides.lo_max[q])
        t = np.einsum("ij,ij->i", guide[ys, xs].astype(np.float32), sides.unmix[q]) - sides.offset[q]
        alpha = np.clip(_ALPHA_GAIN * (t - 0.5) + 0.5, 0.0, 1.0)
        snapped = alpha * np.where(pure_hi, u, sides.v_hi[q]) + (1.0 - alpha) * np.where(pure_lo, u, sides.v_lo[q])
        out[ys, xs] = np.clip(u + sides.confidence[q] * (snapped - u), lo_value, hi_value)
    return out


@dataclass(frozen=True)
class _Sides:
    """Per network pixel of the edge band: the split and both sides' statistics (flattened to (h * w,)).

    Attributes:
        active: (h, w) bool, band pixels where both sides were seen and colour separates them.
        mid: Split level between the sides, in the units of the map.
        hi_min: A pure high value is at least this.
        lo_max: A pure low value is at most this.
        unmix: (h * w, 3) float32, ``(c_hi - c_lo) / |c_hi - c_lo|^2`` (per 0-255 level).
        offset: ``<c_lo, unmix>``, so that ``t = <I, unmix> - offset``.
        v_hi: Mean value of the high side's samples.
        v_lo: Mean value of the low side's samples.
        confidence: In [0, 1]; 0 outside ``active``.

    """

    active: np.ndarray
    mid: np.ndarray
    hi_min: np.ndarray
    lo_max: np.ndarray
    unmix: np.ndarray
    offset: np.ndarray
    v_hi: np.ndarray
    v_lo: np.ndarray
    confidence: np.ndarray

    @classmethod
    def measure(
        cls, low: np.ndarray, guide: np.ndarray, radius: int, edge_threshold: float, color_threshold: float
    ) -> _Sides | None:
        """Steps 1-4 of the module docstring; None if the map has no edge where colour separates the sides."""
        h, w = low.shape
        k = 2 * radius + 1
        window = np.ones((k, k), np.uint8)
        top = cv2.dilate(low, window, borderType=cv2.BORDER_REPLICATE)
        bottom = cv2.erode(low, window, borderType=cv2.BORDER_REPLICATE)
        spread = top - bottom
        band = spread > edge_threshold * (float(low.max()) - float(low.min()))
        if not band.any():
            return None
        mid = 0.5 * (top + bottom)
        hi_min = top - _PURITY * spread
        lo_max = bottom + _PURITY * spread
        side_hi = (band & (low >= hi_min)).astype(np.float32)
        side_lo = (band & (low <= lo_max)).astype(np.float32)
        colour = cv2.resize(guide, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
        energy = np.einsum("ijk,ijk->ij", colour, colour)

        def box(x: np.ndarray) -> np.ndarray:
            return cv2.boxFilter(x, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)

        n_hi, n_lo = box(side_hi), box(side_lo)
        seen = band & (n_hi > 0.5) & (n_lo > 0.5)
        if not seen.any():
            return None
        n_hi, n_lo = np.maximum(n_hi, 1.0), np.maximum(n_lo, 1.0)
        c_hi = box(colour * side_hi[:, :, None]) / n_hi[:, :, None]
        c_lo = box(colour * side_lo[:, :, None]) / n_lo[:, :, None]
        var_hi = np.maximum(box(energy * side_hi) / n_hi - np.einsum("ijk,ijk->ij", c_hi, c_hi), 0.0)
        var_lo = np.maximum(box(energy * side_lo) / n_lo - np.einsum("ijk,ijk->ij", c_lo, c_lo), 0.0)
        diff = c_hi - c_lo
        sep2 = np.einsum("ijk,ijk->ij", diff, diff)
        unmix = diff / np.maximum(sep2, 1e-6)[:, :, None]
        noise2 = color_threshold**2 + _TEXTURE_WEIGHT * (var_hi + var_lo)
        confidence = np.where(seen, np.clip(np.sqrt(sep2 / noise2) - 1.0, 0.0, 1.0), 0.0).astype(np.float32)
        return cls(
            active=confidence > 0.0,
            mid=mid.ravel(),
            hi_min=hi_min.ravel(),
            lo_max=lo_max.ravel(),
            unmix=unmix.reshape(-1, 3),
            offset=np.einsum("ijk,ijk->ij", c_lo, unmix).ravel(),
            v_hi=(box(low * side_hi) / n_hi).ravel(),
            v_lo=(box(low * side_lo) / n_lo).ravel(),
            confidence=confidence.ravel(),
        )


def upsample_disparity(low: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """Disparity upsampled to the photo's size, its depth edges on the photo's colour edges.

    The map is enlarged bilinearly and its edges, soft ramps now, are placed
    by :func:`place_depth_edges`, the edge recovery :func:`photo3d.ldi.layering.build_ldi`
    gives every soft map (in disparity normalised by its 99th percentile, as
    :func:`photo3d.ldi.discontinuities.normalized_disparity` does), at the effective resolution
    :func:`depth_edge_scale` measures (at least 2). An edge lands on the colour
    edge within the ramp the enlargement leaves, about a pixel of the map wide
    (times the map's own :func:`depth_edge_scale`, for a map that is soft at
    its own size); an edge the map put farther off stays where the map has it.
    Snapping at the map's own resolution alone (:func:`edge_aware_upsample`) gives a map that reads as
    sharp, so the matte never runs on it; measured in
    ``benchmarks/view_synthesis.py`` (depth mode ``lowres``, photo3d against
    warp + Telea fed the same map), this order gains 0.1-0.4 dB on disoccluded
    pixels of the real pairs, 0.35-0.6 dB on their silhouette band and 0.4-0.6 dB
    over the whole frame.

    Args:
        low: (h, w) real disparity (or any map whose edges are steps and whose
            larger values are nearer), finite; the aspect ratio of the photo's
            within 1 %.
        guide: (H, W, 3) uint8 RGB photo.

    Returns:
        (H, W) float32 in the units of ``low``, within its range; a map not
        smaller than the photo is resized plainly (area averaging to shrink).

    Raises:
        Photo3DError: As :func:`edge_aware_upsample` (bad shapes or values, aspect ratios that differ).

    """
    low = _check_low(low)
    guide = _check_guide(guide)
    (h, w), (height, width) = low.shape, guide.shape[:2]
    _check_aspect(h, w, height, width)
    bilinear = _plain_resize(low, height, width)
    if height <= h or width <= w:
        return bilinear
    unit = float(np.percentile(low, 99.0))
    if not unit > 0.0:
        unit = max(float(np.abs(low).max()), 1e-30)
    # Snapped at the effective resolution it measures (a 4x enlargement of a busy scene measures 3x, and snaps
    # better there than at the factor: benchmarks/view_synthesis.py, lowres). The ramps it leaves are up to a
    # pixel of the map wide, or as many as the map's own softness spans (a network's map is blurred at its own
    # size: the moon's MiDaS map measures 3, its ramps 40 px wide at 3.3x), and are collapsed as such.
    dn = bilinear / unit
    ramp_scale = max(height / h, width / w) * depth_edge_scale(low)
    return unit * place_depth_edges(dn, guide, scale=max(2.0, depth_edge_scale(dn)), ramp_scale=ramp_scale)


def upsample_depth(depth: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """Planar depth upsampled to the photo's size along its colour edges.

    :func:`upsample_disparity` on ``1 / depth``, where depth edges are steps.

    Args:
        depth: (h, w) planar depth, finite and > 0, any units; the aspect ratio
            of the photo's within 1 %.
        guide: (H, W, 3) uint8 RGB photo.

    Returns:
        (H, W) float32 planar depth in the units of ``depth``, > 0.

    Raises:
        Photo3DError: As :func:`edge_aware_upsample` (bad shapes or values, aspect ratios that differ).

    """
    disparity = upsample_disparity((1.0 / np.asarray(depth, np.float32)).astype(np.float32), guide)
    return (1.0 / np.maximum(disparity, 1e-12)).astype(np.float32)


def place_depth_edges(
    dn: np.ndarray,
    image: np.ndarray,
    weak: float = 0.01,
    reach: int = 0,
    recover: bool = True,
    matte: bool = True,
    scale: float | None = None,
    ramp_scale: float | None = None,
    align: bool = True,
) -> np.ndarray:
    """Puts the depth edges of a map on the photo's colour edges; a sharp, registered map is left as it is.

    The map's effective resolution (:func:`depth_edge_scale`) tells a soft map
    from a sharp one. A sharp map registered off its photo by a translation of
    whole pixels (:func:`depth_edge_offset`) is translated back; other sharp
    maps are returned as they are. A soft map's edges are snapped onto colour
    edges at that resolution (:func:`recover_depth_edges`), the ramps of steps
    of at least :data:`MATTE_MIN_STEP` are then re-segmented by an alpha matte
    (:func:`matte_depth_edges`), and what is left of each ramp becomes one step
    (:func:`collapse_ramps`, against the map as given). A soft map is not
    translated: those steps place its edges locally, further out than a
    translation would be looked for, and on the soft maps of the photos in
    ``benchmarks/contact_sheet.py`` the offsets found (+5, -7 px on the moon's
    enlarged MiDaS map, +1, +4 px on the pug's) did not make the rendered
    silhouettes cleaner.

    Args:
        dn: (H, W) float32 normalised disparity, about 1 on the nearest surfaces
            (see :func:`photo3d.ldi.discontinuities.normalized_disparity`), finite.
        image: (H, W, 3) uint8 RGB photo.
        weak: Smallest disparity jump (dn units) that counts as an edge
            (:class:`photo3d.ldi.layering.LDIParams` ``weak``): ramps are followed down to half of it,
            and the plateau planes that moved pixels continue fit within a tenth of it.
        reach: Half-width in pixels of the matte's unknown band (0: 1.5 % of the longer side, at least 2).
        recover: Snap the edges at the effective resolution.
        matte: Re-segment the ramps by matting.
        scale: The map's effective downsampling factor, None to measure it (:func:`depth_edge_scale`);
            1 leaves the map as it is.
        ramp_scale: The width, in pixels, of the widest ramp :func:`collapse_ramps` follows is
            ``6 ramp_scale + 2`` (None: ``scale``).
        align: Find and undo a translation between a sharp map and the photo.

    Returns:
        (H, W) float32, a new array; the input's values (translated, for a sharp map registered off the
        photo) where nothing moved, every value within its range.

    Raises:
        Photo3DError: For a sharp map with ``align`` or a soft one with ``recover``, as
            :func:`depth_edge_offset` and :func:`recover_depth_edges` (a photo of another size or dtype,
            values that are not finite).

    """
    h, w = dn.shape
    if not (recover or matte):
        scale = 1.0
    elif scale is None:
        scale = depth_edge_scale(dn)
    if scale <= 1.0:
        if align:
            dy, dx = depth_edge_offset(dn, image, weak)
            if dy or dx:
                log.info("the depth map is %+d, %+d px (x, y) off the photo's colour edges: translated back", dx, dy)
                return align_depth_edges(dn, dy, dx)
        return dn.copy()
    if matte:
        preload_solver()  # hidden behind the recovery
    placed = recover_depth_edges(dn, image, scale=scale) if recover else dn
    if matte:
        reach = reach or max(2, round(0.015 * max(h, w)))
        placed = matte_depth_edges(placed, image, reach, MATTE_MIN_STEP, max_residual=0.1 * weak)
    # What the recovery left of each soft ramp (rubber, or slivers once cut) becomes one step.
    max_run = int(np.ceil(6 * (ramp_scale or scale))) + 2
    return collapse_ramps(dn, image, RAMP_MIN_STEP, max_run, 0.5 * weak, placed)


def depth_edge_offset(
    dn: np.ndarray,
    image: np.ndarray,
    weak: float = 0.01,
    max_shift: int | None = None,
    min_gain: float = 1.25,
    min_fit: float = 0.7,
    tile_pixels: int = 1 << 20,
    max_links: int = 1 << 15,
) -> tuple[int, int]:
    """The translation, in whole pixels, between a depth map's edges and its photo's colour edges.

    A depth map registered a few pixels off its photo has all its edges off the
    colour edges by the same offset, further than local snapping reaches. The
    links (pairs of 4-neighbours) where the map jumps by more than ``2 weak``
    are weighted by their jump, and each translation ``(dy, dx)`` within
    ``max_shift`` is scored by the photo's colour edge strength (the larger
    Sobel response of the link's two pixels, largest channel) across those
    links moved by ``(-dy, -dx)``. The best translation is returned when it
    scores at least ``min_gain`` times no translation (the colour edges the
    map's edges are meant to lie on are then clearly elsewhere) and it suits
    every group of links: horizontal and vertical links, each split by
    polarity (nearer pixel right or lower: the left and top edges of near
    objects; or the other way), must each score at least ``min_fit`` of their
    own best translation's score there. A translated map's groups all agree;
    a map whose near objects are too wide (a dilated foreground, common in
    depth from networks and phones) or too narrow needs opposite moves for
    opposite edges, and is left as it is.

    Measured on ``benchmarks/view_synthesis.py``'s scenes: maps translated by
    2-3 px (its ``shift`` mode) score 1.3-23 times no translation, found to
    within a pixel in each axis, every group fitting at 0.84 or more; exact,
    blurred and network-like maps score 1.00-1.06; a disc 3 px too wide or too
    narrow fits its worst group at 0.24 and 0.0.

    Args:
        dn: (H, W) float32 normalised disparity, about 1 on the nearest surfaces
            (see :func:`photo3d.ldi.discontinuities.normalized_disparity`), finite.
        image: (H, W, 3) uint8 RGB photo.
        weak: Smallest disparity jump (dn units) that counts as an edge.
        max_shift: Largest translation tried per axis, pixels (None: 0.8 % of the
            longer side, 3 to 8).
        min_gain: Least score, relative to no translation, at which a translation is returned.
        min_fit: Least score of each group of links at the translation, relative to the group's best.
        tile_pixels: A larger map is measured on evenly spread 256 x 256 tiles holding about this many pixels.
        max_links: At most about this many links are scored (evenly spread over the measured edge links).

    Returns:
        ``(dy, dx)``, ints within +-max_shift (``(0, 0)`` when no translation is clear, or the map has no
        edge): the map shows at ``(y + dy, x + dx)`` what the photo shows at ``(y, x)``.

    Raises:
        Photo3DError: If the photo is not (H, W, 3) uint8 of the map's size.

    """
    image = _check_guide(image)
    h, w = dn.shape
    if image.shape[:2] != (h, w):
        raise Photo3DError(f"the photo is {image.shape[1]}x{image.shape[0]} but the depth map is {w}x{h}")
    m = max_shift if max_shift is not None else min(8, max(3, round(0.008 * max(h, w))))
    boxes = _tile_boxes(h, w, tile_pixels)
    links = []  # (rows, columns, signed jumps, box, axis), per tile and direction
    for box in boxes:
        for axis in (1, 0):
            jump = np.diff(dn[box], axis=axis)
            ys, xs = np.nonzero(np.abs(jump) > 2 * weak)
            # Links whose moved copies stay within the tile.
            inside = (ys >= m) & (ys < jump.shape[0] - m) & (xs >= m) & (xs < jump.shape[1] - m)
            if inside.any():
                links.append((ys[inside], xs[inside], jump, box, axis))
    n_links = sum(len(ys) for ys, *_ in links)
    if n_links == 0:
        return 0, 0
    step = max(1, -(-n_links // max_links))
    # Scored per direction and polarity (the links whose nearer pixel is the right / lower one, the left and top
    # edges of near objects, and the others): a translation moves both polarities the same way, a map whose
    # near objects are too wide or too narrow (dilated, eroded) in opposite directions.
    scores = np.zeros((2, 2, (2 * m + 1) ** 2))  # axis (0: vertical links, 1: horizontal), polarity, (dy, dx)
    weights = np.zeros((2, 2))
    shift_y, shift_x = np.mgrid[-m : m + 1, -m : m + 1].reshape(2, -1)
    for ys, xs, jump, box, axis in links:
        ys, xs = ys[::step], xs[::step]
        if not len(ys):
            continue
        sobel = np.abs(cv2.Sobel(image[box], cv2.CV_16S, axis, 1 - axis, ksize=3)).max(-1)
        strength = np.maximum(sobel[:, :-1], sobel[:, 1:]) if axis == 1 else np.maximum(sobel[:-1], sobel[1:])
        moved = strength[ys[:, None] - shift_y, xs[:, None] - shift_x].astype(np.float32)  # (links, shifts)
        signed = jump[ys, xs]
        polarity_weights = np.stack([np.maximum(signed, 0.0), np.maximum(-signed, 0.0)])
        weights[axis] += polarity_weights.sum(axis=1)
        scores[axis] += polarity_weights @ moved
    shift_scores = scores.reshape(2, 2, 2 * m + 1, 2 * m + 1)  # axis, polarity, dy, dx
    total = shift_scores.sum((0, 1))
    dy, dx = np.unravel_index(int(total.argmax()), total.shape)
    if total[dy, dx] < min_gain * max(total[m, m], 1e-6) or total[dy, dx] == 0:
        return 0, 0
    # The translation must suit each polarity of each direction with links: score near that group's best.
    fits = shift_scores[:, :, dy, dx] / np.maximum(shift_scores.max(axis=(2, 3)), 1e-6)
    present = weights >= 0.1 * weights.max()
    if (fits[present] < min_fit).any():
        return 0, 0
    return int(dy) - m, int(dx) - m


def align_depth_edges(values: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """A map translated by ``(-dy, -dx)``, undoing an offset found by :func:`depth_edge_offset`.

    Args:
        values: (H, W) depth or disparity map.
        dy: Rows, as :func:`depth_edge_offset` returns them.
        dx: Columns, likewise.

    Returns:
        (H, W), a new array of the same dtype: ``out[y, x] = values[y + dy, x + dx]``, the border
        rows and columns repeated where that falls outside the map.

    """
    h, w = values.shape
    rows = np.clip(np.arange(h) + dy, 0, h - 1)
    cols = np.clip(np.arange(w) + dx, 0, w - 1)
    return values[rows[:, None], cols[None, :]]


RAMP_MIN_STEP = 0.1
"""Least step of normalised disparity (about 1 on the nearest surfaces) whose ramp :func:`place_depth_edges` turns
into a step: a surface at least 10 % of the nearest one's disparity behind."""

RAMP_TAIL = 0.125
"""Smallest jump, as a fraction of a ramp's steepest one, that :func:`collapse_ramps` counts as part of the ramp
(a Gaussian blur's jumps fall to an eighth about two sigmas out)."""

RAMP_SMOOTH = 3
"""Radius in pixels over which :func:`collapse_ramps` evens out the plateau values it gives (a 7 x 7 window)."""

RAMP_COLOR_SEPARATION = 40.0
"""Least distance (RGB, 0-255, Euclidean) between the colours beyond a ramp's two ends at which
:func:`collapse_ramps` lets colour place the step."""


def collapse_ramps(
    dn: np.ndarray,
    image: np.ndarray,
    min_step: float,
    max_run: int,
    tail_jump: float,
    sides: np.ndarray | None = None,
) -> np.ndarray:
    """Turns every soft ramp of a disparity map into one step, on the colour edge where there is one.

    Colour-guided snapping (:func:`edge_aware_upsample`, :func:`recover_depth_edges`) moves only the pixels
    beside a soft edge whose side it can tell; the rest of the ramp stays: uncut it is a rubber sheet that
    smears the foreground into the background, cut at one or several of its links it leaves rubber or falls
    apart into sliver layers. Along each row and column, a ramp is found from its steepest link (a local maximum
    of the jump, steep enough to rise ``min_step`` within ``max_run`` links) by walking both ways while the jumps
    keep its sign and exceed both ``tail_jump`` and :data:`RAMP_TAIL` of its own jump. It counts only if both
    walks end that way within ``max_run`` links (a plane's jumps never fall off, so a plane is no ramp, however
    steep) and it rises at least ``min_step``. Every pixel inside then takes the value of one end:

    * where the mean colours of the 3 pixels beyond the two ends differ by :data:`RAMP_COLOR_SEPARATION` or more,
      the ramp is split where its pixels are nearest (least squares) to their end's colour;
    * elsewhere (white on white), each pixel goes to the end its value in ``sides`` is nearer to: ``sides``
      is the map after recovery, so a pixel recovery moved keeps its side, and the others split at the
      ramp's midpoint (the edge of a symmetric blur);
    * in doubt, foreground: a pixel that ``sides`` puts on the near side stays there, since a foreground
      pixel on the background side would be copied into the fill behind the silhouette.

    A pixel on a row's and a column's ramp (a corner) follows the taller one. The ends of neighbouring rows'
    ramps differ a little (their walks stop a pixel apart): each moved pixel then takes the mean of the
    pixels within :data:`RAMP_SMOOTH` px whose values are within a quarter of its ramp's rise of its own, so
    each side is one smooth surface, not a patchwork of small steps. Sharp steps and one-pixel wires (jumps
    of opposite sign) have no inside and stay as they are.

    Args:
        dn: (H, W) float32 disparity (larger is nearer), the soft map whose ramps are found.
        image: (H, W, 3) uint8 RGB photo.
        min_step: Least rise of a ramp, in units of ``dn``.
        max_run: Longest ramp, in links (>= 2).
        tail_jump: Smallest jump that still belongs to a ramp, in units of ``dn``.
        sides: (H, W) float32, the map after colour-guided snapping (default ``dn``).

    Returns:
        (H, W) float32, a new array: ``sides`` (or ``dn``) outside the ramps, its side's plateau inside.

    Raises:
        Photo3DError: If the shapes disagree or ``max_run`` is below 2.

    """
    guide = dn if sides is None else sides
    if dn.ndim != 2 or np.shape(image) != (*dn.shape, 3) or guide.shape != dn.shape:
        raise Photo3DError(
            f"ramps need a 2-D map, a photo and sides of its size: got {dn.shape}, {np.shape(image)}, {guide.shape}"
        )
    if max_run < 2:
        raise Photo3DError(f"max_run must be at least 2 links, got {max_run}")
    proposals = []
    for view, axis in ((dn, 0), (dn.T, 1)):
        size = view[1:] - view[:-1]
        np.abs(size, out=size)  # in place: at 12 MP every full-size array costs tens of ms
        peak = size >= max(2.0 * tail_jump, min_step / max_run)
        peak[1:] &= size[1:] >= size[:-1]
        peak[:-1] &= size[:-1] > size[1:]
        del size
        ys, xs = np.nonzero(peak)
        if len(ys) == 0:
            continue
        n = view.shape[0] - 1  # links
        seed = view[ys + 1, xs] - view[ys, xs]
        limit = np.maximum(tail_jump, RAMP_TAIL * np.abs(seed))
        ends, found = [], np.ones(len(ys), bool)
        for step in (-1, 1):  # walk up (left), then down (right) from every peak while the ramp goes on
            end, active = ys.copy(), np.ones(len(ys), bool)
            for _ in range(max_run):
                nxt = end + step
                ok = active & (nxt >= 0) & (nxt < n)
                inside = np.clip(nxt, 0, n - 1)
                j = view[inside + 1, xs] - view[inside, xs]
                ok &= (j * seed > 0) & (np.abs(j) > limit)
                end = np.where(ok, nxt, end)
                # A walk ends where the ramp flattens out; one that reaches the border or max_run is no ramp's.
                found &= ~(active & ((nxt < 0) | (nxt >= n)))
                active = ok
                if not ok.any():
                    break
            found &= ~active
            ends.append(end)
        a, b = ends[0], ends[1] + 1  # the pixels before and after the ramp
        keep = found & (b - a >= 2) & (b - a <= max_run)
        keep[keep] &= np.abs(view[b[keep], xs[keep]] - view[a[keep], xs[keep]]) >= min_step
        a, b, xs = a[keep], b[keep], xs[keep]
        if len(a) == 0:
            continue
        inner = b - a - 1
        along = np.repeat(a, inner) + np.arange(inner.sum()) - np.repeat(np.cumsum(inner) - inner, inner) + 1
        across = np.repeat(xs, inner)
        va, vb = np.repeat(view[a, xs], inner), np.repeat(view[b, xs], inner)
        py, px = (along, across) if axis == 0 else (across, along)
        v = guide[py, px]
        guide_a = np.abs(v - va) <= np.abs(v - vb)
        # Where the colours beyond the two ends differ, colour places the step.
        photo = image if axis == 0 else image.transpose(1, 0, 2)
        distinct, by_color = _split_by_color(photo, a, b, xs, inner, along, across)
        by_color_or_guide = np.where(distinct, by_color, guide_a)
        # In doubt, foreground: a pixel leaves the near side only if colour and the guide both put it on the far side.
        a_near = va > vb
        to_a = np.where(a_near, guide_a | by_color_or_guide, guide_a & by_color_or_guide)
        proposals.append((py, px, np.where(to_a, va, vb), np.abs(vb - va)))
    out = guide.copy()
    if proposals:
        # A pixel on two ramps (a corner, a row's and a column's) follows the taller one: the edge's own direction.
        py, px, value, span = (np.concatenate(p) for p in zip(*proposals, strict=True))
        order = np.argsort(span, kind="stable")
        py, px, value, span = py[order], px[order], value[order], span[order]
        out[py, px] = value
        # Neighbouring rows' walks stop a pixel apart, so their ends differ a little: small steps along the
        # edge that would be cut into specks. Each moved pixel is evened out towards its side's plateau.
        tolerance = np.zeros(out.shape, np.float32)
        tolerance[py, px] = 0.25 * span
        _even_out(out, tolerance)
    return out


def _split_by_color(
    photo: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    xs: np.ndarray,
    inner: np.ndarray,
    along: np.ndarray,
    across: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which inside pixels of each ramp go to its ``a`` end by colour, and whether colour can tell at all.

    Ramp ``i`` runs along axis 0 of ``photo`` (H, W, 3) uint8 in column ``xs[i]`` from pixel ``a[i]`` to
    ``b[i]``; its ``inner[i]`` inside pixels are listed ramp after ramp in ``(along, across)``. The ends'
    colours are the means of the 3 pixels beyond each end; the split is the one that puts the first k inside
    pixels on the ``a`` side and minimises the summed squared colour distance of every pixel to its side's
    colour (a running sum per ramp).

    Returns:
        ``(distinct, to_a)``: two bool arrays over the inside pixels; ``distinct`` where the ramp's end
        colours are at least :data:`RAMP_COLOR_SEPARATION` apart.

    """
    last = photo.shape[0] - 1
    color_a = sum(photo[np.maximum(a - t, 0), xs].astype(np.float32) for t in range(3)) / 3.0
    color_b = sum(photo[np.minimum(b + t, last), xs].astype(np.float32) for t in range(3)) / 3.0
    distinct = np.repeat(np.sum((color_a - color_b) ** 2, axis=1) >= RAMP_COLOR_SEPARATION**2, inner)
    pixel = photo[along, across].astype(np.float32)
    gain = np.sum((pixel - np.repeat(color_a, inner, axis=0)) ** 2, axis=1) - np.sum(
        (pixel - np.repeat(color_b, inner, axis=0)) ** 2, axis=1
    )
    # Cost of putting the first k inside pixels on the a side, relative to none.
    start = np.cumsum(inner) - inner
    running = np.cumsum(gain, dtype=np.float64)
    running -= np.repeat(running[start] - gain[start], inner)
    best = np.minimum(np.minimum.reduceat(running, start), 0.0)
    index = np.arange(len(running))
    first = np.minimum.reduceat(np.where(running == np.repeat(best, inner), index, len(running)), start)
    split = np.where(best < 0.0, first - start + 1, 0)  # inside pixels on the a side
    return distinct, (index - np.repeat(start, inner)) < np.repeat(split, inner)


def _even_out(values: np.ndarray, tolerance: np.ndarray) -> None:
    """Evens out, in place, the pixels of ``values`` with a positive ``tolerance`` (both (H, W) float32).

    Twice, each such pixel takes the mean of the pixels within :data:`RAMP_SMOOTH` px whose values lie
    within its tolerance of its own (itself included): the plateau of its side, not the other side's.
    """
    h, w = values.shape
    cy, cx = np.nonzero(tolerance > 0)
    tol = tolerance[cy, cx]
    offsets = range(-RAMP_SMOOTH, RAMP_SMOOTH + 1)
    for _ in range(2):
        own = values[cy, cx]
        total, count = np.zeros(len(cy), np.float64), np.zeros(len(cy), np.int32)
        for dy in offsets:
            ny = np.clip(cy + dy, 0, h - 1)
            for dx in offsets:
                other = values[ny, np.clip(cx + dx, 0, w - 1)]
                alike = np.abs(other - own) <= tol
                total += np.where(alike, other, 0.0)
                count += alike
        values[cy, cx] = total / count


SCALE_FACTORS = (1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
"""Downsampling factors :func:`depth_edge_scale` tries."""


def _down_up_error(values: np.ndarray, edges: np.ndarray, spread: np.ndarray, factor: float) -> np.ndarray:
    """Per edge pixel, |values - bilinear(area(values, 1 / factor))| as a fraction of the local spread."""
    h, w = values.shape
    back = _plain_resize(_plain_resize(values, max(2, round(h / factor)), max(2, round(w / factor))), h, w)
    return np.abs(back[edges] - values[edges]) / spread[edges]


def _non_affine(values: np.ndarray, radius: int = 2) -> np.ndarray:
    """RMS residual of the least-squares plane through each ``(2 radius + 1)^2`` neighbourhood (0 on any plane)."""
    k = 2 * radius + 1
    o = np.arange(-radius, radius + 1, dtype=np.float64)
    v = values.astype(np.float64)
    v -= float(np.median(v))  # centred, so the variance below does not cancel catastrophically
    n = float(k * k)
    sxx = float((o**2).sum()) * k / n  # mean of x^2 over the window (= of y^2)

    def mean(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        return cv2.filter2D(x, -1, kernel / n, borderType=cv2.BORDER_REPLICATE)

    ones = np.ones((k, k))
    m = mean(v, ones)
    gx = mean(v, np.tile(o, (k, 1))) / sxx
    gy = mean(v, np.tile(o[:, None], (1, k))) / sxx
    return np.sqrt(np.maximum(mean(v * v, ones) - m * m - (gx * gx + gy * gy) * sxx, 0.0)).astype(np.float32)


def depth_edge_scale(
    values: np.ndarray,
    *,
    edge_threshold: float = 0.03,
    sharp_p90: float = 0.15,
    soft_mean: float = 0.12,
    tile_pixels: int = 1 << 20,
) -> float:
    """The effective resolution of a depth map at its depth edges, as a downsampling factor.

    A map whose edges are soft ramps (blurred, or upsampled from a smaller map)
    loses nothing there when it is area-averaged to a smaller size and enlarged
    again bilinearly; a map with sharp steps does: every step becomes a ramp
    worth a quarter to a half of its height on the pixels beside it. So, on the
    pixels near a depth edge (whose 5 x 5 neighbourhood spans more than
    ``edge_threshold`` of the map's range and is not a plane: the RMS residual
    of its least-squares plane exceeds 2 % of its span), the down-and-up error as a fraction
    of the local spread tells the two apart: the map is sharp when the 90th
    percentile of that error at factor 1.5 exceeds ``sharp_p90``; otherwise its
    scale is the largest of :data:`SCALE_FACTORS` (at least 2) whose mean
    error stays within ``soft_mean``. Slanted planes are not edges, however
    steep, so a map of planes reads as sharp (and would survive the round trip
    unchanged anyway).

    Measured on the synthetic scenes, Middlebury and ICL-NUIM (``benchmarks/view_synthesis.py``
    depth modes): exact maps give a 90th percentile of 0.24-0.33 at 1.5, maps
    blurred by 2-3 px or bilinearly enlarged 4x give 0.04-0.12.

    Args:
        values: (H, W) float32 disparity or depth (edges are steps in either), finite.
        edge_threshold: Fraction of the map's max - min that a neighbourhood must span to count as an edge.
        sharp_p90: The map is sharp when the 90th percentile of the error at factor 1.5 is above this.
        soft_mean: Largest mean error at which a factor still describes the map.
        tile_pixels: A larger map is measured on evenly spread 256 x 256 tiles holding about this many pixels.

    Returns:
        1.0 for a sharp map (or one with no depth edge, or smaller than 16 x 16),
        else the factor, from 2.0 to 8.0.

    """
    values = np.ascontiguousarray(values, dtype=np.float32)
    if min(values.shape) < 16:
        return 1.0
    threshold = edge_threshold * (float(values.max()) - float(values.min()))
    samples = []  # per tile: (values, edge mask, spread)
    window = np.ones((5, 5), np.uint8)
    for tile in _tiles(values, tile_pixels):
        spread = cv2.dilate(tile, window) - cv2.erode(tile, window)
        edges = (spread > threshold) & (_non_affine(tile) > 0.02 * spread)
        if edges.any():
            samples.append((tile, edges, spread))
    if sum(np.count_nonzero(e) for _, e, _ in samples) < 16:
        return 1.0

    def errors(factor: float) -> np.ndarray:
        return np.concatenate([_down_up_error(t, e, s, factor) for t, e, s in samples])

    if np.percentile(errors(SCALE_FACTORS[0]), 90) > sharp_p90:
        return 1.0
    scale = 2.0
    for factor in SCALE_FACTORS[1:]:
        if factor > 2.0 and float(errors(factor).mean()) > soft_mean:
            break
        scale = factor
    return scale


def _tiles(values: np.ndarray, max_pixels: int, size: int = 256) -> list[np.ndarray]:
    """The whole map if it has at most ``max_pixels``, else evenly spread ``size`` x ``size`` tiles that many."""
    h, w = values.shape
    return [np.ascontiguousarray(values[box]) for box in _tile_boxes(h, w, max_pixels, size)]


def _tile_boxes(h: int, w: int, max_pixels: int, size: int = 256) -> list[tuple[slice, slice]]:
    """The boxes of :func:`_tiles` in an (h, w) map."""
    if h * w <= max_pixels:
        return [np.s_[0:h, 0:w]]
    rows, cols = range(0, max(h - size, 0) + 1, size), range(0, max(w - size, 0) + 1, size)
    grid = [(y, x) for y in rows for x in cols]
    step = max(1, round(len(grid) * size * size / max_pixels))
    return [np.s_[y : y + size, x : x + size] for y, x in grid[::step]]


def recover_depth_edges(
    values: np.ndarray, guide: np.ndarray, scale: float | None = None, radius: int = 2
) -> np.ndarray:
    """Moves the soft depth edges of a full-size map onto the photo's colour edges.

    The map is area-averaged to its effective resolution (``scale``, from
    :func:`depth_edge_scale` when None) and brought back to the photo's size
    with :func:`edge_aware_upsample`; where that changes nothing (away from
    depth edges, and where colour cannot tell the sides apart) the original
    values are kept exactly, so only the ramps of soft edges become steps on
    the colour edge. A sharp map (scale 1) comes back unchanged. Ramps up to
    about 9 px wide (a Gaussian blur of 3.5 px) become steps; wider ones are
    narrowed (to about a third at 4 px, ``tests/depth/test_upsample.py``).

    Args:
        values: (H, W) float32 disparity (or depth), finite.
        guide: (H, W, 3) uint8 RGB photo.
        scale: The map's effective downsampling factor (>= 1), or None to measure it.
        radius: Neighbourhood of the edge snap, in pixels of the reduced map (see :func:`edge_aware_upsample`).

    Returns:
        (H, W) float32, a new array; every value within the input's range.

    Raises:
        Photo3DError: If the shapes disagree or ``values`` is not finite (as :func:`edge_aware_upsample`).

    """
    values = _check_low(values)
    h, w = values.shape
    if np.shape(guide)[:2] != (h, w):
        raise Photo3DError(f"depth map is {w}x{h} but the photo is {np.shape(guide)[1]}x{np.shape(guide)[0]}")
    if scale is None:
        scale = depth_edge_scale(values)
    if scale <= 1.0:
        return values.copy()
    low = _plain_resize(values, max(2, round(h / scale)), max(2, round(w / scale)))
    snapped = edge_aware_upsample(low, guide, radius=radius)
    bilinear = _plain_resize(low, h, w)
    changed = np.abs(snapped - bilinear) > 1e-6 * max(float(values.max()) - float(values.min()), 1e-30)
    return np.where(changed, snapped, values).astype(np.float32)


MATTE_MIN_STEP = 0.3
"""Least disparity step (normalised, ``z_near / z`` units) whose ramp :func:`place_depth_edges` re-segments by matting:
a silhouette against a background at least 1.4 times farther. Smaller steps in cluttered scenes are where colour
misleads the matte most (measured on Middlebury and ICL-NUIM, ``benchmarks/view_synthesis.py``)."""


def matte_depth_edges(
    dn: np.ndarray, image: np.ndarray, reach: int, min_step: float, work_side: int = 512, max_residual: float = 0.001
) -> np.ndarray:
    """Moves the ramps of soft depth edges onto the colour edge with an alpha matte.

    A monocular network's depth edge is often a ramp tens of pixels wide and
    off the silhouette; cut where the disparity jumps, it leaves a rim of
    foreground colour on the background, which the back layer's fill then
    spreads. Here, at a resolution whose longer side is
    about ``work_side`` (the map's edges are no finer), every place where the
    disparity spans more than ``min_step`` within ``reach`` pixels is split by
    value: pixels within 20 % of the local maximum are the near side's
    plateau, within 20 % of the minimum the far side's, and the pixels within
    ``reach`` of where the disparity ramps (a quarter of the local span within
    two pixels, but no single link there carrying half of it: sharp steps are
    left as they are) form the unknown band between them, a trimap whose
    unknown region spans the whole uncertain edge, as in the soft layering
    of Jampani et al. (SLIDE, ICCV 2021). Where both plateaus are within reach,
    closed-form matting (:func:`photo3d.ldi.matte.estimate_matte`) decides each
    band pixel's side from colour alone; where the two sides' mean colours
    (over a box three times ``reach`` around the pixel) are at least
    :data:`MIN_SEPARATION` apart, the pixel takes its side's disparity: the
    plane fitted to that side's plateau around its nearest plateau pixel
    (:func:`photo3d.ldi.inpaint.extrapolate_disparity`; that pixel's level where the
    plateau is not planar), so the moved pixels continue the surface beside
    them; enlarged, that level is offset by the difference between the
    full-size map and the level at the nearest unmoved plateau pixel, so the
    moved pixels meet the full-size surface without a seam (the reduction
    averages the ramp into the plateau pixels beside it; a seam above the
    LDI's ``weak`` threshold would be cut). The matte's alpha, enlarged bilinearly, decides the side
    of each full-size pixel, so the depth edge lands where it crosses one
    half. Elsewhere (colours alike, no plateau on one side, an unsolvable
    matte, a slanted plane, which has no plateau pixels at all, and the last
    ``H mod f`` rows and ``W mod f`` columns, f the reduction factor) the map
    is left exactly as it is.

    Args:
        dn: (H, W) float32 normalised disparity (see :func:`photo3d.ldi.discontinuities.normalized_disparity`).
        image: (H, W, 3) uint8 RGB photo.
        reach: Half-width in pixels (of the full-size map) of the neighbourhood that finds edges
            and of the unknown band around them, >= 1.
        min_step: Least disparity span (dn units) of an edge that is moved.
        work_side: Longer side, in pixels, of the resolution at which the matte is solved.
        max_residual: Largest RMS residual (dn units) of a plateau's plane fit that is continued.

    Returns:
        (H, W) float32 disparity, a new array; moved pixels hold their side's plateau surface continued,
        clamped to the input's range.

    """
    h, w = dn.shape
    f = max(1, round(max(h, w) / work_side))
    hs, ws = h // f, w // f
    r = max(2, round(reach / f))
    small = cv2.resize(dn[: hs * f, : ws * f], (ws, hs), interpolation=cv2.INTER_AREA)
    photo = cv2.resize(image[: hs * f, : ws * f], (ws, hs), interpolation=cv2.INTER_AREA)
    window = np.ones((2 * r + 1,) * 2, np.uint8)
    top, bottom = cv2.dilate(small, window), cv2.erode(small, window)
    span = top - bottom
    edge = span > min_step
    near = edge & (small >= top - 0.2 * span)
    far = edge & (small <= bottom + 0.2 * span)
    both = edge & (_box_sum(near, 2 * r + 1) > 0.5) & (_box_sum(far, 2 * r + 1) > 0.5)
    fives = np.ones((5, 5), np.uint8)
    changing = both & (cv2.dilate(small, fives) - cv2.erode(small, fives) >= 0.25 * span)
    # A ramp, not a step: no single link within 2 px carries half the span.
    jump = np.zeros_like(small)
    across, down = np.abs(np.diff(small, axis=1)), np.abs(np.diff(small, axis=0))
    for ends, links in ((jump[:, 1:], across), (jump[:, :-1], across), (jump[1:], down), (jump[:-1], down)):
        np.maximum(ends, links, out=ends)
    changing &= cv2.dilate(jump, fives) < 0.5 * span
    if not changing.any():
        return dn.copy()
    unknown = both & cv2.dilate(changing.astype(np.uint8), window).astype(bool)
    near, far = near & ~unknown, far & ~unknown
    # Every other pixel is known by its side of the nearest edge's mid-level (it only matters next to the band).
    _, index, ys, xs = nearest_seed(changing)
    mid = (0.5 * (top + bottom))[ys, xs][index]
    trimap = (small >= mid).astype(np.float32)
    trimap[near], trimap[far], trimap[unknown] = 1.0, 0.0, UNKNOWN
    alpha = estimate_matte(photo, trimap, max_iterations=100, colors=False).alpha
    size = 2 * (3 * r) + 1  # the sides' means reach past the band
    n_near, n_far = _box_sum(near, size), _box_sum(far, size)
    colour = photo.astype(np.float32)
    separation = np.linalg.norm(_box_mean(colour, near, n_near, size) - _box_mean(colour, far, n_far, size), axis=-1)
    decided = unknown & np.isfinite(alpha) & (separation >= MIN_SEPARATION) & (n_near > 0.5) & (n_far > 0.5)
    if not decided.any():
        return dn.copy()
    # Back to full size: the side from the bilinear alpha, the value from that side's plateau.
    full = (ws * f, hs * f)
    alpha = cv2.resize(np.where(decided, alpha, 0.5).astype(np.float32), full, interpolation=cv2.INTER_LINEAR)
    decided = cv2.resize(decided.astype(np.uint8), full, interpolation=cv2.INTER_NEAREST).astype(bool)
    out = dn.copy()
    view = out[: hs * f, : ws * f]
    lo, hi = float(dn.min()), float(dn.max())
    for plateau, to_side in ((near, decided & (alpha >= 0.5)), (far, decided & (alpha < 0.5))):
        # The plateau's surface continued from its nearest pixel: a mean over the plateau would reach up
        # a slanted floor and leave a trough (a false cut) beside the edge.
        _, index, py, px = nearest_seed(plateau)
        level = extrapolate_disparity(small, plateau, index, py, px, max_residual=max_residual)
        level = cv2.resize(np.clip(level, lo, hi), full, interpolation=cv2.INTER_LINEAR)
        if f > 1 and to_side.any():
            _join_full_size_surface(view, level, to_side, plateau, f, 0.25 * min_step)
        view[to_side] = level[to_side]
    return out


def _join_full_size_surface(
    dn: np.ndarray, level: np.ndarray, moved: np.ndarray, plateau: np.ndarray, f: int, max_offset: float
) -> None:
    """Offsets ``level`` on the ``moved`` pixels so that they meet the unmoved full-size surface without a step.

    ``level`` (H, W) is a side's surface continued at the work resolution (``f`` times coarser) and enlarged;
    where the moved pixels meet that side's unmoved plateau pixels (``plateau`` at the work resolution), it
    misses the full-size values ``dn`` by the detail the reduction averaged away, often more than a cut's
    weak threshold: a false seam inside the surface. Each moved pixel takes the offset ``dn - level`` of its
    nearest unmoved plateau pixel (at most ``max_offset``). In place on ``level``.
    """
    (y0, y1), (x0, x1) = mask_extent(moved)
    margin = 4 * f
    box = np.s_[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin]
    full = (dn.shape[1], dn.shape[0])
    seeds = cv2.resize(plateau.view(np.uint8), full, interpolation=cv2.INTER_NEAREST)[box].astype(bool)
    seeds &= ~moved[box]
    if not seeds.any():
        return
    _, index, sy, sx = nearest_seed(seeds)
    offset = np.clip(dn[box][sy, sx] - level[box][sy, sx], -max_offset, max_offset)
    where = moved[box]
    level[box][where] += offset[index[where]]


def _box_sum(values: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` ((H, W) or (H, W, C); bool counts) over the ``size`` x ``size`` box around every pixel."""
    values = values.astype(np.float32)
    return cv2.boxFilter(values, -1, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT)


def _box_mean(values: np.ndarray, mask: np.ndarray, count: np.ndarray, size: int) -> np.ndarray:
    """Mean of ``values`` ((H, W) or (H, W, C)) over the ``mask`` pixels in the ``size`` x ``size`` box.

    ``count`` is ``_box_sum(mask, size)``; where the box holds no mask pixel, the mean is 0.
    """
    per_channel = (...,) + (None,) * (values.ndim - 2)
    return _box_sum(values * mask[per_channel], size) / np.maximum(count, 1.0)[per_channel]
