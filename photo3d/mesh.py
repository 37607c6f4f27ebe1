"""Triangle meshes built from a layered depth image (LDI).

Vertices sit at LDI sample centres; triangles join only connected samples (see
:func:`mesh_from_ldi`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import pixel_rays
from .ldi import LDI

__all__ = ["Mesh", "mesh_from_ldi", "silhouette_offsets"]


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

    """

    vertices: np.ndarray
    colors: np.ndarray
    faces: np.ndarray
    layers: np.ndarray

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


def mesh_from_ldi(ldi: LDI, grow_silhouettes: bool = True) -> Mesh:
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

    Args:
        ldi: The layered depth image.
        grow_silhouettes: Move silhouette vertices out to their pixel's edge.

    Returns:
        The mesh, in the source camera's OpenCV frame.

    """
    num_layers, h, w = ldi.depth.shape
    xn, yn = pixel_rays(ldi.intrinsics)
    own = ldi.valid & (ldi.alias < 0)
    # Vertex order: layer by layer, row-major. Layer 0 is full and owns every sample, so its
    # vertex ids are its pixel indices.
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
    n = int(starts[-1])
    vertices = np.empty((n, 3), np.float32)
    colors = np.empty((n, 3), np.uint8)
    if grow_silhouettes:
        # Silhouette vertices of layer 0 move out to their pixel's edge.
        dx, dy = silhouette_offsets(ldi)
        k0 = ldi.intrinsics
        x0, y0 = xn + dx / np.float32(k0.fx), yn + dy / np.float32(k0.fy)
    else:
        x0, y0 = xn, yn
    for k in range(num_layers):
        rows = slice(int(starts[k]), int(starts[k + 1]))
        if k == 0:
            z, x, y = ldi.depth[0].reshape(-1), x0.reshape(-1), y0.reshape(-1)
            colors[rows] = ldi.color[0].reshape(-1, 3)
        else:
            p = pixels[k]
            z, x, y = ldi.depth[k].reshape(-1)[p], xn.reshape(-1)[p], yn.reshape(-1)[p]
            colors[rows] = ldi.color[k].reshape(-1, 3)[p]
        np.multiply(x, z, out=vertices[rows, 0])
        np.multiply(y, z, out=vertices[rows, 1])
        vertices[rows, 2] = z
    layers = np.repeat(np.arange(num_layers, dtype=np.int8), counts)
    # Faces: the quads of every layer, written straight into one preallocated array.
    plans = []
    for k in range(num_layers):
        ids = vid[k].reshape(-1)
        own_k = own[k].reshape(-1)
        for mask, triangles in _quad_triangles(ldi.link_right[k], ldi.link_down[k]):
            top_left = np.flatnonzero(mask).astype(np.int32)
            top_left += top_left // (w - 1)  # quad index (row-major over (H-1) x (W-1)) -> its top-left pixel
            for corners in triangles:
                # Corner c of the quad at pixel i: i, i + 1, i + w, i + w + 1.
                offsets = [(c % 2) + (c // 2) * w for c in corners]
                if k == 0:
                    plans.append((top_left, offsets, None))
                    continue
                at = [top_left + o for o in offsets]
                # A triangle of seam copies only would duplicate the front layer.
                keep = own_k[at[0]] | own_k[at[1]] | own_k[at[2]]
                plans.append((None, [a[keep] for a in at], ids))
    total = sum(len(base) if base is not None else len(at[0]) for base, at, _ in plans)
    faces = np.empty((total, 3), np.int32)
    row = 0
    for base, at, ids in plans:
        m = len(base) if base is not None else len(at[0])
        for col in range(3):
            if base is not None:
                np.add(base, at[col], out=faces[row : row + m, col])
            else:
                faces[row : row + m, col] = ids[at[col]]
        row += m
    return Mesh(vertices=vertices, colors=colors, faces=faces, layers=layers)


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
