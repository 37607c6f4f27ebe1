"""The layered depth image (LDI) as a data structure, and the settings of its construction."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..camera.intrinsics import Intrinsics

__all__ = ["EMPTY_DEPTH", "LDI", "LDIParams"]

EMPTY_DEPTH = 0.0
"""Depth value that marks an empty LDI sample."""


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
            see :func:`~photo3d.ldi.discontinuities.remove_speckles`).
        band_px: Width of the synthesis band in pixels (0: from the trajectory, see
            :func:`~photo3d.ldi.layering.band_for_cameras`).
        max_band_fraction: Upper bound on the band as a fraction of the longer image side.
        max_layers: Most layers, the visible one included (2: a single back layer).
        edge_radius: Radius of the colour-weighted median that snaps depth edges to colour
            edges (0 disables it; see :func:`~photo3d.ldi.discontinuities.sharpen_depth_edges`).
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
        min_cut_contrast: Cuts with less colour contrast across them (L1 RGB, 0-765) are linked again:
            a depth edge with no colour edge near it is the map's error
            (:func:`~photo3d.ldi.discontinuities.drop_colourless_cuts`; 0 keeps every cut).
        contrast_reach: How far in pixels that colour edge may lie from the cut (0: 0.3 % of the
            longer image side, at least 2).

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
    min_cut_contrast: float = 30.0
    contrast_reach: int = 0
