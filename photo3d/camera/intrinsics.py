"""Pinhole cameras in photo3d's one convention (see docs/conventions.md).

Camera frame: OpenCV axes, x right, y down, z forward, origin at the camera
centre. Pixel ``(u, v)`` (column, row) covers ``[u, u + 1) x [v, v + 1)``, so its
centre is at ``(u + 0.5, v + 0.5)``. Depth is planar: the z coordinate of a
point in the camera frame, not its distance along the ray.

A point ``X = (x, y, z)`` projects to ``u = fx * x / z + cx``, ``v = fy * y / z + cy``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import Photo3DError

__all__ = [
    "DEFAULT_FOV_DEG",
    "Intrinsics",
    "Pose",
    "aspect_ratios_differ",
    "look_at_rotation",
    "opencv_to_blender",
    "pixel_rays",
    "unproject_depth",
]

DEFAULT_FOV_DEG: float = math.degrees(2.0 * math.atan(0.5))
"""53.13 degrees on the longer side: the focal length equals the longer side in pixels."""


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of an image of ``width`` x ``height`` pixels.

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        fx: Horizontal focal length in pixels.
        fy: Vertical focal length in pixels.
        cx: Principal point x in pixels (``width / 2`` is the image centre).
        cy: Principal point y in pixels.

    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise Photo3DError(f"image size must be positive, got {self.width}x{self.height}")
        if not (self.fx > 0 and self.fy > 0 and math.isfinite(self.fx) and math.isfinite(self.fy)):
            raise Photo3DError(f"focal length must be a positive number of pixels, got fx={self.fx}, fy={self.fy}")

    @classmethod
    def from_fov(cls, width: int, height: int, fov_deg: float = DEFAULT_FOV_DEG) -> Intrinsics:
        """Square pixels, principal point at the centre, ``fov_deg`` across the longer side.

        Args:
            width: Image width in pixels.
            height: Image height in pixels.
            fov_deg: Field of view in degrees across the longer side, in (0, 180).

        Raises:
            Photo3DError: If the field of view is outside (0, 180) degrees.

        """
        if not 0.0 < fov_deg < 180.0:
            raise Photo3DError(f"field of view (--fov) must be between 0 and 180 degrees, got {fov_deg}")
        f = 0.5 * max(width, height) / math.tan(math.radians(fov_deg) / 2.0)
        return cls(width, height, f, f, width / 2.0, height / 2.0)

    @classmethod
    def from_focal(cls, width: int, height: int, focal_px: float) -> Intrinsics:
        """Square pixels with focal length ``focal_px`` (pixels), principal point at the centre."""
        return cls(width, height, float(focal_px), float(focal_px), width / 2.0, height / 2.0)

    @property
    def fov_deg(self) -> tuple[float, float]:
        """Horizontal and vertical field of view in degrees (for a centred principal point)."""
        return (
            math.degrees(2.0 * math.atan(self.width / (2.0 * self.fx))),
            math.degrees(2.0 * math.atan(self.height / (2.0 * self.fy))),
        )

    def matrix(self) -> np.ndarray:
        """The 3x3 calibration matrix ``K`` as float64."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, width: int, height: int) -> Intrinsics:
        """These intrinsics for the same view resampled to ``width`` x ``height`` pixels."""
        sx, sy = width / self.width, height / self.height
        return replace(
            self, width=width, height=height, fx=self.fx * sx, fy=self.fy * sy, cx=self.cx * sx, cy=self.cy * sy
        )

    def with_fov(self, fov_deg: float) -> Intrinsics:
        """Same image size and principal point, focal length set for ``fov_deg`` on the longer side."""
        f = 0.5 * max(self.width, self.height) / math.tan(math.radians(fov_deg) / 2.0)
        return replace(self, fx=f, fy=f * self.fy / self.fx)

    def zoomed(self, factor: float) -> Intrinsics:
        """Focal length multiplied by ``factor`` about the principal point (``factor > 1`` zooms in)."""
        return replace(self, fx=self.fx * factor, fy=self.fy * factor)

    def clip_matrix(self, near: float, far: float) -> np.ndarray:
        """4x4 float32 matrix from the OpenCV camera frame to OpenGL clip space.

        ``x_ndc = 2 u / width - 1`` and ``y_ndc = 2 v / height - 1``: NDC y grows
        with the image row, so a framebuffer read back with ``glReadPixels``
        has image row 0 first and needs no flip. ``z_ndc`` maps planar depth
        ``near -> -1`` and ``far -> +1``.
        """
        w, h = self.width, self.height
        a = (far + near) / (far - near)
        b = -2.0 * far * near / (far - near)
        return np.array(
            [
                [2.0 * self.fx / w, 0.0, 2.0 * self.cx / w - 1.0, 0.0],
                [0.0, 2.0 * self.fy / h, 2.0 * self.cy / h - 1.0, 0.0],
                [0.0, 0.0, a, b],
                [0.0, 0.0, 1.0, 0.0],
            ],
            dtype=np.float32,
        )


@dataclass(frozen=True)
class Pose:
    """A rigid camera pose in the source camera's frame (camera-to-source).

    Attributes:
        rotation: (3, 3) float64 rotation whose columns are the camera's x, y, z
            axes expressed in the source frame.
        position: (3,) float64 camera centre in the source frame, in depth units.

    """

    rotation: np.ndarray
    position: np.ndarray

    @classmethod
    def identity(cls) -> Pose:
        """The source camera itself."""
        return cls(np.eye(3), np.zeros(3))

    @classmethod
    def translation(cls, x: float, y: float, z: float) -> Pose:
        """The source orientation, moved to ``(x, y, z)``."""
        return cls(np.eye(3), np.array([x, y, z], dtype=np.float64))

    def world_to_camera(self) -> np.ndarray:
        """4x4 float64 matrix mapping source-frame points into this camera's frame."""
        m = np.eye(4)
        m[:3, :3] = self.rotation.T
        m[:3, 3] = -self.rotation.T @ self.position
        return m


def look_at_rotation(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotation of a camera at ``position`` whose z axis points at ``target``.

    The camera's y axis stays in the plane of its z axis and the source y axis
    (down), so the horizon stays level.

    Args:
        position: (3,) camera centre in the source frame.
        target: (3,) point to look at in the source frame.

    Returns:
        (3, 3) float64 camera-to-source rotation.

    Raises:
        Photo3DError: If ``target`` equals ``position`` or lies straight above or below it.

    """
    z = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    norm = np.linalg.norm(z)
    if norm < 1e-12:
        raise Photo3DError("look_at equals the camera position: the view direction is undefined")
    z /= norm
    x = np.cross(np.array([0.0, 1.0, 0.0]), z)  # down x forward = right
    if np.linalg.norm(x) < 1e-9:
        raise Photo3DError("look_at lies straight above or below the camera: the horizon is undefined")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def pixel_rays(intrinsics: Intrinsics, sparse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Normalised image coordinates of every pixel centre.

    Args:
        intrinsics: Camera of the H x W image.
        sparse: Return a (1, W) row and an (H, 1) column (they broadcast to the full grid) instead of
            two full (H, W) grids.

    Returns:
        ``(xn, yn)``, each (H, W) float32 (or (1, W) and (H, 1)): ``xn = (u + 0.5 - cx) / fx`` and
        ``yn = (v + 0.5 - cy) / fy``, so a pixel at planar depth z unprojects to
        ``(xn * z, yn * z, z)``.

    """
    k = intrinsics
    u = (np.arange(k.width, dtype=np.float64) + 0.5 - k.cx) / k.fx
    v = (np.arange(k.height, dtype=np.float64) + 0.5 - k.cy) / k.fy
    xn, yn = np.meshgrid(u.astype(np.float32), v.astype(np.float32), sparse=sparse)
    return xn, yn


def unproject_depth(depth: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Camera-frame points of every pixel centre.

    Args:
        depth: (H, W) planar depth, any positive float.
        intrinsics: Intrinsics of the same H x W image.

    Returns:
        (H, W, 3) float32 points ``(x, y, z)`` in the OpenCV camera frame.

    """
    xn, yn = pixel_rays(intrinsics)
    z = depth.astype(np.float32)
    return np.stack([xn * z, yn * z, z], axis=-1)


def opencv_to_blender(points: np.ndarray) -> np.ndarray:
    """Map OpenCV camera-frame points to Blender's Z-up world.

    ``(x, y, z) -> (x, z, -y)``: a rotation (determinant +1) that puts the
    camera at the origin looking along +Y with +Z up.

    Args:
        points: (..., 3) points in the OpenCV camera frame.

    Returns:
        (..., 3) points of the same dtype in Blender's world frame.

    """
    p = np.asarray(points)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


_ASPECT_TOLERANCE = 0.01  # relative difference of w/h


def aspect_ratios_differ(w: float, h: float, width: float, height: float) -> bool:
    """Whether a ``w`` x ``h`` map and a ``width`` x ``height`` photo differ in aspect ratio by more than 1 %.

    The one tolerance photo3d uses wherever a depth map must cover a photo (files,
    embedded depth, network outputs): ``|w/h - width/height| > 0.01 * width/height``.

    Args:
        w: The map's width, > 0 (pixels, or any unit shared with ``h``).
        h: The map's height, > 0.
        width: The photo's width, > 0.
        height: The photo's height, > 0.

    >>> aspect_ratios_differ(320, 240, 4032, 3024), aspect_ratios_differ(240, 320, 4032, 3024)
    (False, True)

    """
    aspect = width / height
    return abs(w / h - aspect) > _ASPECT_TOLERANCE * aspect
