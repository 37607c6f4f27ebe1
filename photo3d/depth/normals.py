"""Surface normals of a depth map, for the ``photo3d depth`` normal-map output.

:func:`normal_map` takes the depth map's Sobel gradients through the camera's intrinsics;
:func:`encode_normals` stores them in the OpenGL/Blender convention: x right, y up, z toward the
viewer, so a surface facing the camera is (128, 128, 255).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..camera.intrinsics import Intrinsics
from ..errors import Photo3DError
from .conversions import check_depth

__all__ = ["encode_normals", "normal_map"]

_NORMAL_STRIP_ROWS = 256  # rows per strip in normal_map


def normal_map(depth: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Unit surface normals of a depth map, in the normal-map convention: x right, y up, z toward the viewer.

    The derivatives ``z_u = dz/du`` and ``z_v = dz/dv`` (per pixel) are Sobel
    filters (``cv2.Sobel``, ksize 3, divided by 8), extrapolated linearly
    from the inside on the border rows and columns. Each pixel is the point
    ``P = z (xn, yn, 1)`` with ``xn = (u + 0.5 - cx) / fx`` (OpenCV camera
    frame, y down), and the normal is the cross product of the surface's
    tangents ``dP/dv x dP/du``, which works out to::

        n_opencv ~ (fx z_u, fy z_v, -(z + du z_u + dv z_v)),   du = u + 0.5 - cx, dv = v + 0.5 - cy

    pointing toward the camera, and then ``(x, y, z) -> (x, -y, -z)`` to the
    normal-map axes. At the principal point this is the familiar height-field
    formula ``n ~ (-dh/dx, -dh/dY, 1)`` for the height toward the viewer
    ``h = -z``, i.e. ``(dz/dx, -dz/dy, 1)`` (``Y = -y``: y points down in the
    camera but up in the normal map), with metric derivatives
    ``dz/dx = (fx / z) z_u``, ``dz/dy = (fy / z) z_v``; away from it, the ``du z_u`` term
    accounts for perspective (x itself grows with z along a pixel ray), without
    which a tilted plane's normal would drift across the image. A plane
    ``z = z0 + a x + b y`` (camera frame) gets ``normalize((a, -b, 1))``
    everywhere, exactly up to the Sobel discretisation.

    Signs: a surface whose right side is farther away (``a > 0``, like the
    *left* wall of a corridor) has a normal tilted toward **+x** (right): it
    faces the camera's right. The right wall of a corridor gets nearer
    toward the image's right (``a < 0``) and its normal points left (-x). A
    surface that gets farther toward the image's bottom (``b > 0``, like a
    ceiling) faces down (-y); a floor faces up (+y). A surface facing the
    camera is ``(0, 0, 1)``. Across a depth discontinuity the normal is that
    of the steep surface bridging it. ``z`` is negative only for surfaces
    seen off-axis beyond parallel to the optical axis.

    Args:
        depth: (H, W) planar depth, every value finite and > 0; normals do
            not depend on its units (scaling depth keeps them).
        intrinsics: The camera of the H x W depth map.

    Returns:
        (H, W, 3) float32 unit normals (x right, y up, z toward the viewer).

    Raises:
        Photo3DError: If ``depth`` is not a non-empty 2-D real array with
            every value finite and positive, or its size differs from the
            intrinsics'.

    """
    z = check_depth(depth)
    h, w = z.shape
    if (w, h) != (intrinsics.width, intrinsics.height):
        raise Photo3DError(
            f"depth is {w}x{h} but the intrinsics are for {intrinsics.width}x{intrinsics.height}; "
            "scale them with Intrinsics.scaled"
        )
    k = intrinsics
    du = np.arange(w, dtype=np.float64) + 0.5 - k.cx
    normals = np.empty((h, w, 3), np.float32)
    halo = 3  # Sobel needs 1 row; the extrapolated border rows need the derivatives of the 2 rows next to them
    for y0 in range(0, h, _NORMAL_STRIP_ROWS):  # strips of rows keep the float64 temporaries small
        y1 = min(h, y0 + _NORMAL_STRIP_ROWS)
        a0, a1 = max(0, y0 - halo), min(h, y1 + halo)
        zs = z[a0:a1].astype(np.float64)
        z_u = _sobel(zs, axis=1, size=w, first=True, last=True)
        z_v = _sobel(zs, axis=0, size=h, first=a0 == 0, last=a1 == h)
        inside = slice(y0 - a0, y1 - a0)
        zs, z_u, z_v = zs[inside], z_u[inside], z_v[inside]
        dv = (np.arange(y0, y1, dtype=np.float64) + 0.5 - k.cy)[:, None]
        # The OpenCV-frame normal toward the camera, (fx z_u, fy z_v, -(z + du z_u + dv z_v)), as (x, -y, -z).
        nx, ny, nz = k.fx * z_u, -k.fy * z_v, zs + du * z_u + dv * z_v
        inverse_length = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz)
        normals[y0:y1, :, 0] = nx * inverse_length
        normals[y0:y1, :, 1] = ny * inverse_length
        normals[y0:y1, :, 2] = nz * inverse_length
    return normals


def _sobel(z: np.ndarray, axis: int, size: int, first: bool, last: bool) -> np.ndarray:
    """Per-pixel derivative of ``z`` along ``axis`` (1: d/du along rows, 0: d/dv down columns): Sobel / 8.

    ``size`` is the image's length along ``axis`` (``z`` may be a strip of
    it); ``first`` / ``last`` say whether ``z``'s first / last line along
    ``axis`` is the image's border. There the replicated border halves the
    Sobel response, so the derivative is extrapolated linearly from the two
    lines next to it (copied from the middle one for a length of 3); a
    length of 2 uses the plain difference and a length of 1 gets 0.
    """
    dx, dy = (1, 0) if axis == 1 else (0, 1)
    d: np.ndarray = cv2.Sobel(z, cv2.CV_64F, dx, dy, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8.0
    lines = np.moveaxis(d, axis, 0)  # a view: writing to it writes to d
    if size == 2:
        lines *= 2.0
    elif size == 3:
        lines[0], lines[-1] = lines[1], lines[1]
    elif size >= 4:
        if first:
            lines[0] = 2.0 * lines[1] - lines[2]
        if last:
            lines[-1] = 2.0 * lines[-2] - lines[-3]
    return d


def encode_normals(normals: np.ndarray) -> np.ndarray:
    """Encode unit normals as an 8-bit RGB normal map: ``RGB = round((n + 1) / 2 * 255)``.

    Components are clipped to [-1, 1] and rounded half up, so ``(0, 0, 1)``
    becomes (128, 128, 255) and ``(-1, -1, -1)`` becomes (0, 0, 0). The axes
    are whatever ``normals`` uses; with :func:`normal_map` that is the
    OpenGL/Blender tangent-space convention (x right, y up, z toward the
    viewer), so Blender's Normal Map node reads the image as it is (set the
    image's colour space to Non-Color).

    Args:
        normals: (H, W, 3) real array of (roughly) unit vectors, every value finite.

    Returns:
        (H, W, 3) uint8 RGB.

    Raises:
        Photo3DError: If ``normals`` is not (H, W, 3) or has NaN or infinite values.

    Example:
        >>> encode_normals(np.array([[[0.0, 0.0, 1.0], [1.0, -1.0, 0.0]]])).tolist()
        [[[128, 128, 255], [255, 0, 128]]]

    """
    n = np.asarray(normals)
    if n.ndim != 3 or n.shape[2] != 3 or n.dtype.kind not in "fiu":
        raise Photo3DError(f"normals must be an (H, W, 3) real array, got shape {n.shape} dtype {n.dtype}")
    if not np.isfinite(n).all():
        raise Photo3DError("normals have NaN or infinite values")
    levels = np.clip(n, -1.0, 1.0)  # a new array, worked on in place
    if levels.dtype != np.float32:
        levels = levels.astype(np.float32)
    levels += 1.0
    levels *= 127.5
    levels += 0.5
    return np.floor(levels, out=levels).astype(np.uint8)
