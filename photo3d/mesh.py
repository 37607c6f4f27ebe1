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
    index = np.flatnonzero(own)  # vertex order: layer by layer, row-major
    vid = np.full((num_layers, h, w), -1, np.int32)
    vid.reshape(-1)[index] = np.arange(len(index), dtype=np.int32)
    for k in range(1, num_layers):
        ay, ax = np.nonzero(ldi.alias[k] >= 0)
        vid[k, ay, ax] = vid[ldi.alias[k, ay, ax], ay, ax]
    layers = (index // (h * w)).astype(np.int8)
    pixel = index % (h * w)
    px, py = xn.reshape(-1)[pixel], yn.reshape(-1)[pixel]
    if grow_silhouettes:
        # Layer 0 comes first in the vertex order: its silhouette vertices move out to their pixel's edge.
        dx, dy = silhouette_offsets(ldi)
        n0 = int(np.count_nonzero(layers == 0))
        k = ldi.intrinsics
        px[:n0] += dx.reshape(-1)[pixel[:n0]] / np.float32(k.fx)
        py[:n0] += dy.reshape(-1)[pixel[:n0]] / np.float32(k.fy)
    z = ldi.depth.reshape(-1)[index]
    vertices = np.empty((len(index), 3), np.float32)
    vertices[:, 0] = px * z
    vertices[:, 1] = py * z
    vertices[:, 2] = z
    colors = ldi.color.reshape(-1, 3)[index]
    faces = []
    for k in range(num_layers):
        ids = vid[k].reshape(-1)
        own_k = own[k].reshape(-1)
        for mask, triangles in _quad_triangles(ldi.link_right[k], ldi.link_down[k]):
            top_left = np.flatnonzero(mask).astype(np.int32)
            top_left += top_left // (w - 1)  # quad index (row-major over (H-1) x (W-1)) -> its top-left pixel
            for corners in triangles:
                tri = np.empty((len(top_left), 3), np.int32)
                for col, c in enumerate(corners):
                    # Corner c of the quad at pixel i: i, i + 1, i + w, i + w + 1.
                    np.add(top_left, (c % 2) + (c // 2) * w, out=tri[:, col])
                if k > 0:
                    # Pixel indices -> vertex ids; a triangle of seam copies only would duplicate the front layer.
                    tri = tri[own_k[tri[:, 0]] | own_k[tri[:, 1]] | own_k[tri[:, 2]]]
                    tri = ids[tri]
                # Layer 0 is full and owns every sample: its vertex ids are its pixel indices.
                faces.append(tri)
    faces_arr = np.concatenate(faces) if faces else np.zeros((0, 3), np.int32)
    return Mesh(vertices=vertices, colors=colors, faces=faces_arr, layers=layers)


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
