"""Triangle meshes built from a layered depth image (LDI).

Vertices sit at LDI sample centres; triangles join only connected samples (see
:func:`mesh_from_ldi`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..camera.intrinsics import Intrinsics, pixel_rays
from ..ldi.layering import LDI

__all__ = ["Mesh", "layer_textures", "mesh_from_ldi", "silhouette_offsets", "simplify_tolerance"]


@dataclass
class Mesh:
    """A coloured triangle mesh in the source camera's frame.

    Attributes:
        vertices: (N, 3) float32 points ``(x, y, z)`` in the OpenCV camera frame
            of the source photo (x right, y down, z forward), in depth units.
        colors: (N, 3) uint8 sRGB vertex colours.
        faces: (M, 3) int32 vertex indices, wound counter-clockwise as seen from
            the source camera (normals point towards it).
        layers: (N,) int8 LDI layer of each vertex (0 = the visible surface,
            1.. = back layers).
        texcoords: None (every vertex is coloured by ``colors``), or (N, 2) float32
            ``(column, row)`` of each vertex's sample in ``textures[layers[i]]``, in
            source pixels with integer values at pixel centres; ``(-1, -1)`` marks a
            vertex coloured by ``colors``. All vertices of a triangle use the same mode.
        textures: None, or (L, H, W, 3) uint8 sRGB: the colour of each LDI layer,
            sampled (bilinearly) by textured vertices.
        alphas: None (opaque), or (N,) uint8 opacity of each vertex (255 = opaque),
            from :attr:`LDI.alpha`; ``colors`` are then not premultiplied. Triangles with a
            vertex below 255 are the soft silhouettes; textured vertices are always opaque.

    """

    vertices: np.ndarray
    colors: np.ndarray
    faces: np.ndarray
    layers: np.ndarray
    texcoords: np.ndarray | None = None
    textures: np.ndarray | None = None
    alphas: np.ndarray | None = None

    @property
    def num_vertices(self) -> int:
        """Number of vertices N."""
        return int(self.vertices.shape[0])

    @property
    def num_faces(self) -> int:
        """Number of triangles M."""
        return int(self.faces.shape[0])


def _quad_triangles(
    link_r: np.ndarray, link_d: np.ndarray
) -> list[tuple[np.ndarray, tuple[tuple[int, int, int], ...]]]:
    """Which triangles each pixel quad gets, from its four links.

    Corners are numbered 0 = top-left, 1 = top-right, 2 = bottom-left,
    3 = bottom-right. A triangle is made only from corners joined by links
    along the quad's sides, so none spans a cut; a quad with three links gets both
    triangles those links allow (they overlap), so it stays covered as far as its
    links reach. Returns ``(mask (H-1, W-1), triangles)`` pairs; each triangle's
    corners are ordered so its normal points at the camera.
    """
    top, bottom = link_r[:-1, :], link_r[1:, :]
    left, right = link_d[:, :-1], link_d[:, 1:]
    a = top & right
    b = left & bottom
    full = a & b
    return [
        (full, ((0, 3, 1), (0, 2, 3))),
        (a & ~b, ((0, 3, 1),)),
        (b & ~a, ((0, 2, 3),)),
        (top & left & ~b, ((0, 2, 1),)),
        (right & bottom & ~a, ((1, 2, 3),)),
    ]


def mesh_from_ldi(ldi: LDI, grow_silhouettes: bool = True, max_error: float | None = None, max_block: int = 64) -> Mesh:
    """Triangulates an LDI.

    Every valid sample that is not a seam alias becomes a vertex at its pixel
    centre, unprojected with the LDI's intrinsics. Within each layer, a pixel
    quad gets triangles only between samples joined by links (see
    :attr:`LDI.link_right`), so no triangle crosses a discontinuity. Seam
    samples of back layers reuse the vertex of the sample they alias, which
    stitches each back layer to the surface it continues; back-layer
    triangles made only of seam samples would duplicate layer 0 and are skipped.

    A sample's vertex sits at its pixel's centre, but the surface it stands for
    covers the whole pixel. Where a cut ends a surface, the foreground would
    therefore lose half a pixel along every silhouette, and the back layer
    would show in that strip as soon as the camera moves. With
    ``grow_silhouettes``, layer-0 vertices on the near side of cuts are moved
    (at their depth) half a pixel towards each cut, onto the pixel's edge
    (see :func:`silhouette_offsets`).

    With ``max_error``, flat and smoothly varying regions are simplified
    (adaptive quadtree tessellation): an aligned block of s x s pixel quads
    (s = 2, 4, ... ``max_block``) whose samples are all connected, none on a
    silhouette or seam, becomes two triangles when their disparity differs
    from the two triangles' by at most ``max_error`` everywhere. Such blocks take
    their colour from the layer images (``Mesh.textures``), so no detail is
    lost; silhouettes and everything else keep one vertex per pixel and vertex
    colours. Where a block meets smaller geometry (a T-junction), the samples
    on the block's edge are moved onto that edge in disparity (by at most
    ``max_error``), so no crack opens. :func:`simplify_tolerance` turns an
    error in output pixels into ``max_error`` for a trajectory.

    Args:
        ldi: The layered depth image.
        grow_silhouettes: Move silhouette vertices out to their pixel's edge.
        max_error: Largest disparity error (1 / depth units) a simplified block
            may make, >= 0, or None for one vertex per sample (no textures).
        max_block: Largest block side in pixels (a power of two >= 2).

    Returns:
        The mesh, in the source camera's OpenCV frame; with ``max_error``, only
        vertices some triangle uses are kept.

    """
    num_layers, h, w = ldi.depth.shape
    own = ldi.valid & (ldi.alias < 0)
    offsets = silhouette_offsets(ldi) if grow_silhouettes or max_error is not None else None
    if max_error is not None and h > 2 and w > 2:
        assert offsets is not None  # computed above whenever max_error is given
        depth, blocks, covered = _simplify_layers(ldi, own, offsets, max_error, max_block)
    else:
        depth = ldi.depth
        blocks = [[] for _ in range(num_layers)]
        covered = np.zeros((num_layers, max(h - 1, 0), max(w - 1, 0)), bool)
    pixels, starts, vid = _vertex_ids(ldi, own)
    vertices, colors = _vertices(ldi, depth, pixels, starts, offsets if grow_silhouettes else None)
    layers = np.repeat(np.arange(num_layers, dtype=np.int8), [len(p) for p in pixels])
    alphas = None
    if ldi.alpha is not None:
        alphas = np.full(len(vertices), 255, np.uint8)
        alphas[: h * w] = ldi.alpha[0].reshape(-1)  # only layer 0 has translucent samples
    faces = _faces(ldi, own, vid, covered if max_error is not None else None)
    if max_error is None:
        return Mesh(vertices=vertices, colors=colors, faces=faces, layers=layers, alphas=alphas)
    return _add_blocks(ldi, vertices, colors, faces, layers, vid, blocks, alphas)


def _simplify_layers(
    ldi: LDI, own: np.ndarray, offsets: tuple[np.ndarray, np.ndarray], max_error: float, max_block: int
) -> tuple[np.ndarray, list[list[tuple[int, np.ndarray, np.ndarray]]], np.ndarray]:
    """Chooses every layer's simplified blocks: (depth with snapped samples, blocks, (L, H-1, W-1) covered quads)."""
    num_layers, h, w = ldi.depth.shape
    depth = ldi.depth.copy()
    blocks: list[list[tuple[int, np.ndarray, np.ndarray]]] = [[] for _ in range(num_layers)]
    covered = np.zeros((num_layers, h - 1, w - 1), bool)
    dx, dy = offsets
    still = (dx == 0) & (dy == 0)
    if ldi.alpha is not None:
        still &= ldi.alpha[0] == 255
    for k in range(num_layers):
        ok = own[k] & still if k == 0 else own[k]
        if not ok.any():
            continue
        disp = np.zeros((h, w), np.float32)
        np.divide(np.float32(1.0), depth[k], out=disp, where=ok)
        blocks[k], covered[k], snapped = _choose_blocks(
            disp, ok, ldi.link_right[k], ldi.link_down[k], float(max_error), max_block
        )
        depth[k][snapped] = (1.0 / disp[snapped]).astype(np.float32)
    return depth, blocks, covered


def _vertex_ids(ldi: LDI, own: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Numbers the vertices: (each layer's pixels with a vertex, each layer's first id, (L, H, W) id of each sample).

    Vertex order: layer by layer, row-major. Layer 0 is full and owns every sample, so its
    vertex ids are its pixel indices. Seam samples of back layers take the id of the sample they alias.
    """
    num_layers, h, w = ldi.depth.shape
    pixels = [np.arange(h * w, dtype=np.int32)] + [
        np.flatnonzero(own[k]).astype(np.int32) for k in range(1, num_layers)
    ]
    counts = [len(p) for p in pixels]
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    vid = np.full((num_layers, h, w), -1, np.int32)
    for k in range(num_layers):
        vid[k].reshape(-1)[pixels[k]] = np.arange(starts[k], starts[k + 1], dtype=np.int32)
    for k in range(1, num_layers):
        ay, ax = np.nonzero(ldi.alias[k] >= 0)
        vid[k, ay, ax] = vid[ldi.alias[k, ay, ax], ay, ax]
    return pixels, starts, vid


def _vertices(
    ldi: LDI,
    depth: np.ndarray,
    pixels: list[np.ndarray],
    starts: np.ndarray,
    offsets: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The (N, 3) positions and colours of the vertices; layer-0 vertices move by ``offsets`` (dx, dy) if given."""
    num_layers = ldi.depth.shape[0]
    xn, yn = pixel_rays(ldi.intrinsics)
    n = int(starts[-1])
    vertices = np.empty((n, 3), np.float32)
    colors = np.empty((n, 3), np.uint8)
    if offsets is not None:
        # Silhouette vertices of layer 0 move out to their pixel's edge.
        dx, dy = offsets
        k0 = ldi.intrinsics
        x0, y0 = xn + dx / np.float32(k0.fx), yn + dy / np.float32(k0.fy)
    else:
        x0, y0 = xn, yn
    for k in range(num_layers):
        rows = slice(int(starts[k]), int(starts[k + 1]))
        if k == 0:
            z, x, y = depth[0].reshape(-1), x0.reshape(-1), y0.reshape(-1)
            colors[rows] = ldi.color[0].reshape(-1, 3)
        else:
            p = pixels[k]
            z, x, y = depth[k].reshape(-1)[p], xn.reshape(-1)[p], yn.reshape(-1)[p]
            colors[rows] = ldi.color[k].reshape(-1, 3)[p]
        np.multiply(x, z, out=vertices[rows, 0])
        np.multiply(y, z, out=vertices[rows, 1])
        vertices[rows, 2] = z
    return vertices, colors


class _FrontTriangles(NamedTuple):
    """Layer-0 triangles: corner c of each is vertex ``top_left + offsets[c]`` (there vertex ids are pixel indices)."""

    top_left: np.ndarray
    offsets: list[int]


class _BackTriangles(NamedTuple):
    """Back-layer triangles: corner c of each is vertex ``ids[pixels[c]]``."""

    pixels: list[np.ndarray]
    ids: np.ndarray


def _faces(ldi: LDI, own: np.ndarray, vid: np.ndarray, covered: np.ndarray | None) -> np.ndarray:
    """The (M, 3) int32 triangles of the quads of every layer, outside the ``covered`` quads if given."""
    num_layers, _, w = ldi.depth.shape
    # Planned first, then written into one preallocated array.
    plans: list[_FrontTriangles | _BackTriangles] = []
    for k in range(num_layers):
        ids = vid[k].reshape(-1)
        own_k = own[k].reshape(-1)
        for mask, triangles in _quad_triangles(ldi.link_right[k], ldi.link_down[k]):
            if covered is not None:
                mask = mask & ~covered[k]
            top_left = np.flatnonzero(mask).astype(np.int32)
            top_left += top_left // (w - 1)  # quad index (row-major over (H-1) x (W-1)) -> its top-left pixel
            for corners in triangles:
                # Corner c of the quad at pixel i: i, i + 1, i + w, i + w + 1.
                offsets = [(c % 2) + (c // 2) * w for c in corners]
                if k == 0:
                    plans.append(_FrontTriangles(top_left, offsets))
                    continue
                at = [top_left + o for o in offsets]
                # A triangle of seam copies only would duplicate the front layer.
                keep = own_k[at[0]] | own_k[at[1]] | own_k[at[2]]
                plans.append(_BackTriangles([a[keep] for a in at], ids))
    total = sum(len(plan.top_left) if isinstance(plan, _FrontTriangles) else len(plan.pixels[0]) for plan in plans)
    faces = np.empty((total, 3), np.int32)
    row = 0
    for plan in plans:
        if isinstance(plan, _FrontTriangles):
            m = len(plan.top_left)
            for col in range(3):  # column by column: numpy's broadcast over a last axis of 3 is slower
                np.add(plan.top_left, np.int32(plan.offsets[col]), out=faces[row : row + m, col])
        else:
            m = len(plan.pixels[0])
            for col in range(3):
                faces[row : row + m, col] = plan.ids[plan.pixels[col]]
        row += m
    return faces


def _add_blocks(ldi: LDI, vertices, colors, faces, layers, vid, blocks, alphas) -> Mesh:
    """Appends the textured two-triangle blocks and drops vertices no triangle uses."""
    h, w = ldi.depth.shape[1:]
    new_vertices, new_layers, new_uv, new_faces = [], [], [], []
    base = len(vertices)
    for k, level_blocks in enumerate(blocks):
        if not level_blocks:
            continue
        corner_pixels = []
        for s, bi, bj in level_blocks:
            r0, c0 = bi * s, bj * s
            tl = r0 * w + c0
            corner_pixels.append(np.stack([tl, tl + s, tl + s * w, tl + s * w + s], axis=1))
        corners = np.concatenate(corner_pixels)  # (B, 4): top-left, top-right, bottom-left, bottom-right
        unique, inverse = np.unique(corners, return_inverse=True)
        inverse = inverse.reshape(corners.shape).astype(np.int64) + base
        src = vid[k].reshape(-1)[unique]
        new_vertices.append(src)
        new_layers.append(np.full(len(unique), k, np.int8))
        new_uv.append(np.stack([unique % w, unique // w], axis=1).astype(np.float32))
        new_faces.append(inverse[:, [0, 3, 1]])
        new_faces.append(inverse[:, [0, 2, 3]])
        base += len(unique)
    if not new_vertices:
        src = np.zeros(0, np.int64)
        uv_new = np.zeros((0, 2), np.float32)
        layers_new = np.zeros(0, np.int8)
        faces_new = np.zeros((0, 3), np.int64)
    else:
        src = np.concatenate(new_vertices)
        uv_new = np.concatenate(new_uv)
        layers_new = np.concatenate(new_layers)
        faces_new = np.concatenate(new_faces)
    all_vertices = np.concatenate([vertices, vertices[src]])
    all_colors = np.concatenate([colors, colors[src]])
    all_layers = np.concatenate([layers, layers_new])
    uv = np.concatenate([np.full((len(vertices), 2), -1.0, np.float32), uv_new])
    all_faces = np.concatenate([faces.astype(np.int64), faces_new])
    used = np.zeros(len(all_vertices), bool)
    used[all_faces.reshape(-1)] = True
    remap = np.cumsum(used, dtype=np.int64) - 1
    return Mesh(
        vertices=all_vertices[used],
        colors=all_colors[used],
        faces=remap[all_faces].astype(np.int32),
        layers=all_layers[used],
        texcoords=uv[used],
        textures=layer_textures(ldi),
        alphas=None if alphas is None else np.concatenate([alphas, np.full(len(src), 255, np.uint8)])[used],
    )


def layer_textures(ldi: LDI) -> np.ndarray:
    """The LDI's colour layers as textures, empty samples filled from the nearest valid one.

    Filling keeps bilinear and mipmapped sampling near the edge of a back layer
    from blending in the black of empty samples.

    Args:
        ldi: The layered depth image.

    Returns:
        (L, H, W, 3) uint8 sRGB; layer 0 is ``ldi.color[0]`` itself.

    """
    from ..ldi.inpaint import nearest_seed

    textures = ldi.color.copy()
    valid = ldi.valid
    h, w = valid.shape[1:]
    margin = 16  # texels filled around a layer's samples; farther ones are only reached by coarse mipmaps
    for k in range(1, ldi.num_layers):
        ys, xs = np.nonzero(valid[k])
        if len(ys) == 0 or len(ys) == h * w:
            continue
        y0, y1 = max(ys.min() - margin, 0), min(ys.max() + margin + 1, h)
        x0, x1 = max(xs.min() - margin, 0), min(xs.max() + margin + 1, w)
        _, index, sy, sx = nearest_seed(valid[k, y0:y1, x0:x1])
        crop = textures[k, y0:y1, x0:x1]
        crop[...] = crop.reshape(-1, 3)[(sy * (x1 - x0) + sx)[index]]
    return textures


def _choose_blocks(
    disp: np.ndarray, ok: np.ndarray, link_r: np.ndarray, link_d: np.ndarray, tol: float, max_block: int
) -> tuple[list[tuple[int, np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """The quadtree blocks of one layer, snapping T-junction samples in ``disp`` in place.

    Args:
        disp: (H, W) float32 disparity (1 / depth); modified on the edges of chosen blocks.
        ok: (H, W) bool, samples a block may contain.
        link_r: (H, W - 1) bool links to the right neighbour.
        link_d: (H - 1, W) bool links to the neighbour below.
        tol: Largest disparity error of a block.
        max_block: Largest block side in pixels.

    Returns:
        ``(blocks, covered, snapped)``: ``(s, block_rows, block_cols)`` per level, coarsest
        first (block (i, j) of level s spans pixels ``[i*s, i*s + s] x [j*s, j*s + s]``);
        (H-1, W-1) bool quads inside a block; (H, W) bool samples whose disparity moved.

    """
    h, w = disp.shape
    full = link_r[:-1, :] & link_r[1:, :] & link_d[:, :-1] & link_d[:, 1:]
    full &= ok[:-1, :-1] & ok[:-1, 1:] & ok[1:, :-1] & ok[1:, 1:]
    eligible: dict[int, np.ndarray] = {}
    prev, s = full, 1
    while 2 * s <= max_block:
        s *= 2
        nbi, nbj = (h - 1) // s, (w - 1) // s
        if nbi == 0 or nbj == 0:
            break
        p = prev[: 2 * nbi, : 2 * nbj]
        # A block is tried only where its four children fit (or, at s = 2, are full quads): a block
        # whose child does not fit its own corners rarely fits as a whole, and the test stays cheap.
        candidates = p[0::2, 0::2] & p[1::2, 0::2] & p[0::2, 1::2] & p[1::2, 1::2]
        elig = np.zeros_like(candidates)
        bi, bj = np.nonzero(candidates)
        if len(bi):
            elig[bi, bj] = _block_error(disp, s, bi, bj) <= tol
        if not elig.any():
            break
        eligible[s] = elig
        prev = elig
    blocks: list[tuple[int, np.ndarray, np.ndarray]] = []
    covered_quads = np.zeros((h - 1, w - 1), bool)
    snapped = np.zeros((h, w), bool)
    taken = None  # blocks of the current level covered by coarser chosen blocks
    for s in sorted(eligible, reverse=True):
        elig = eligible[s]
        cover = np.zeros_like(elig)
        if taken is not None:
            up = taken.repeat(2, 0).repeat(2, 1)
            cover[: up.shape[0], : up.shape[1]] = up
        chosen = elig & ~cover
        bi, bj = np.nonzero(chosen)
        if len(bi):
            blocks.append((s, bi, bj))
            _snap_edges(disp, snapped, s, bi, bj)
        taken = cover | chosen
    if taken is not None:
        s = min(eligible)
        up = taken.repeat(s, 0).repeat(s, 1)
        covered_quads[: up.shape[0], : up.shape[1]] = up
    return blocks, covered_quads, snapped


def _block_error(disp: np.ndarray, s: int, bi: np.ndarray, bj: np.ndarray) -> np.ndarray:
    """Largest |disparity - its two-triangle interpolation| over each block's (s+1) x (s+1) samples.

    The two triangles are (top-left, bottom-right, top-right) and (top-left, bottom-left,
    bottom-right), as :func:`mesh_from_ldi` makes them.
    """
    nbi, nbj = (disp.shape[0] - 1) // s, (disp.shape[1] - 1) // s
    if s <= 8:
        # Small blocks: one strided slice per sample offset over the whole block grid (no copies).
        def at(a: int, b: int) -> np.ndarray:
            return disp[a : a + nbi * s : s, b : b + nbj * s : s]

        tl, tr, bl, br = at(0, 0), at(0, s), at(s, 0), at(s, s)
        err = np.zeros((nbi, nbj), disp.dtype)
        for a in range(s + 1):
            for b in range(s + 1):
                if a in (0, s) and b in (0, s):
                    continue
                fa, fb = a / s, b / s
                if b >= a:
                    fit = tl + fb * (tr - tl) + fa * (br - tr)
                else:
                    fit = tl + fa * (bl - tl) + fb * (br - bl)
                np.maximum(err, np.abs(at(a, b) - fit), out=err)
        return err[bi, bj]
    rs, cs = disp.strides
    view = np.lib.stride_tricks.as_strided(disp, shape=(nbi, nbj, s + 1, s + 1), strides=(s * rs, s * cs, rs, cs))
    err = np.empty(len(bi), disp.dtype)
    step = max(1, (1 << 22) // ((s + 1) ** 2))  # about 16 MB of samples at a time
    row_frac = (np.arange(s + 1, dtype=disp.dtype) / s)[:, None]
    col_frac = (np.arange(s + 1, dtype=disp.dtype) / s)[None, :]
    upper = col_frac >= row_frac
    for i in range(0, len(bi), step):
        v = view[bi[i : i + step], bj[i : i + step]]
        tl, tr = v[:, :1, :1], v[:, :1, s:]
        bl, br = v[:, s:, :1], v[:, s:, s:]
        fit = np.where(
            upper,
            tl + col_frac * (tr - tl) + row_frac * (br - tr),
            tl + row_frac * (bl - tl) + col_frac * (br - bl),
        )
        err[i : i + step] = np.abs(v - fit).max(axis=(1, 2))
    return err


def _snap_edges(disp: np.ndarray, snapped: np.ndarray, s: int, bi: np.ndarray, bj: np.ndarray) -> None:
    """Moves the samples inside each block edge onto the straight edge (linear in disparity)."""
    if s < 2:
        return
    t = np.arange(1, s) / s
    r0, c0 = (bi * s)[:, None], (bj * s)[:, None]
    o = np.arange(1, s)[None, :]
    for (ra, ca), (rb, cb), rows, cols in (
        ((r0, c0), (r0, c0 + s), r0 + 0 * o, c0 + o),  # top
        ((r0 + s, c0), (r0 + s, c0 + s), r0 + s + 0 * o, c0 + o),  # bottom
        ((r0, c0), (r0 + s, c0), r0 + o, c0 + 0 * o),  # left
        ((r0, c0 + s), (r0 + s, c0 + s), r0 + o, c0 + s + 0 * o),  # right
    ):
        start, end = disp[ra, ca], disp[rb, cb]
        disp[rows, cols] = start + t[None, :] * (end - start)
        snapped[rows, cols] = True


def simplify_tolerance(cameras, error_px: float = 0.5, source: Intrinsics | None = None) -> float:
    """The disparity error that moves no point by more than ``error_px`` pixels.

    A disparity error e displaces a point by about ``f * |t| * e`` pixels in a camera
    translated by t (exactly so for translations parallel to the image plane; less for
    a dolly), so the tolerance is ``error_px / max(f * |t|)`` over the frames. With the
    ``source`` camera, f is the smaller of the output's and the source's focal length:
    pixels of whichever grid is coarser. An output that magnifies the photo (a 640 x 480
    photo in a 1080 x 1920 frame) thus gets the photo's own precision: the depth map
    holds no finer geometry, and a fraction of a source pixel is what its interpolation
    between samples already leaves open.

    Args:
        cameras: ``(pose, intrinsics)`` of every frame, poses in the source frame.
        error_px: Largest displacement in pixels, > 0.
        source: The source camera, or None to count output pixels only.

    Returns:
        Disparity tolerance (1 / depth units) for :func:`mesh_from_ldi`; ``inf`` for a still camera.

    """
    cap = max(source.fx, source.fy) if source is not None else float("inf")
    reach = max(float(np.linalg.norm(pose.position)) * min(max(k.fx, k.fy), cap) for pose, k in cameras)
    return float("inf") if reach == 0 else error_px / reach


def silhouette_offsets(ldi: LDI) -> tuple[np.ndarray, np.ndarray]:
    """Image-plane offsets that move layer-0 silhouette samples onto their pixel's edge.

    For every cut of layer 0, the nearer of its two samples gets half a pixel
    towards the farther one. A sample cut on two opposite sides (a surface one
    pixel thin) gets both halves, which cancel: it keeps its centre.

    Args:
        ldi: The layered depth image.

    Returns:
        ``(dx, dy)``: (H, W) float32 offsets in pixels, each in {-0.5, 0, 0.5}.

    """
    d = ldi.depth[0]
    cut_r, cut_d = ldi.cuts
    dx = np.zeros(d.shape, np.float32)
    dy = np.zeros(d.shape, np.float32)
    y, x = np.nonzero(cut_r)
    left_nearer = d[y, x] < d[y, x + 1]
    dx[y[left_nearer], x[left_nearer]] += 0.5
    dx[y[~left_nearer], x[~left_nearer] + 1] -= 0.5
    y, x = np.nonzero(cut_d)
    upper_nearer = d[y, x] < d[y + 1, x]
    dy[y[upper_nearer], x[upper_nearer]] += 0.5
    dy[y[~upper_nearer] + 1, x[~upper_nearer]] -= 0.5
    return dx, dy
