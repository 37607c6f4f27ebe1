"""Framing: the output camera's intrinsics for a given output size.

* ``none``: the source focal length in pixels, principal point moved with the
  centre of the output. With the photo's own size this is exactly the source
  camera's pixel grid: no zoom, crop or border.
* ``cover`` (default): scaled so the photo covers the whole output (cropping
  the overhang, as video players do for "fill"), then zoomed in by the least
  factor that keeps the frame edge of the photo out of view along the whole
  trajectory (:func:`edge_zoom`). No content is invented beyond the border.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .camera import Intrinsics, Pose, unproject_depth
from .errors import Photo3DError

__all__ = ["FRAMINGS", "base_output_intrinsics", "edge_zoom"]

FRAMINGS = ("cover", "none")


def base_output_intrinsics(source: Intrinsics, width: int, height: int, framing: str) -> Intrinsics:
    """Output intrinsics before any zoom for camera motion.

    Args:
        source: Source camera.
        width: Output width in pixels.
        height: Output height in pixels.
        framing: ``"cover"`` or ``"none"``.

    Raises:
        Photo3DError: For an unknown framing.

    """
    if framing == "none":
        return replace(
            source,
            width=width,
            height=height,
            cx=source.cx + (width - source.width) / 2.0,
            cy=source.cy + (height - source.height) / 2.0,
        )
    if framing == "cover":
        s = max(width / source.width, height / source.height)
        return Intrinsics(
            width,
            height,
            source.fx * s,
            source.fy * s,
            width / 2.0 + (source.cx - source.width / 2.0) * s,
            height / 2.0 + (source.cy - source.height / 2.0) * s,
        )
    raise Photo3DError(f"--framing must be one of {', '.join(FRAMINGS)}, got {framing!r}")


def edge_zoom(
    depth: np.ndarray,
    source: Intrinsics,
    cameras: list[tuple[Pose, Intrinsics]],
    max_zoom: float = 1.5,
) -> float:
    """Least zoom about the principal point that keeps the photo's frame edge out of view.

    The source image's border pixels are unprojected at their depth and
    projected into each camera. For each side, the zoom must push the output
    frame's edge inside the projected border: for the left side
    ``z >= cx / (cx - max(u_left))``, and likewise for the others.

    Args:
        depth: (H, W) planar depth of the source photo.
        source: Source camera.
        cameras: ``(pose, intrinsics)`` of every frame (intrinsics before zoom).
        max_zoom: Upper bound; a larger need is clamped (edges may then show).

    Returns:
        Zoom factor in [1, max_zoom].

    """
    points = unproject_depth(depth, source).astype(np.float64)
    sides = {
        "left": points[:, 0],
        "right": points[:, -1],
        "top": points[0, :],
        "bottom": points[-1, :],
    }
    zoom = 1.0
    for pose, k in cameras:
        m = pose.world_to_camera()
        for side, p in sides.items():
            q = p @ m[:3, :3].T + m[:3, 3]
            q = q[q[:, 2] > 1e-9]
            if len(q) == 0:
                return max_zoom
            u = k.fx * q[:, 0] / q[:, 2] + k.cx
            v = k.fy * q[:, 1] / q[:, 2] + k.cy
            if side == "left":
                need = k.cx / max(k.cx - u.max(), 1e-9) if u.max() > 0 else 1.0
            elif side == "right":
                need = (k.width - k.cx) / max(u.min() - k.cx, 1e-9) if u.min() < k.width else 1.0
            elif side == "top":
                need = k.cy / max(k.cy - v.max(), 1e-9) if v.max() > 0 else 1.0
            else:
                need = (k.height - k.cy) / max(v.min() - k.cy, 1e-9) if v.min() < k.height else 1.0
            zoom = max(zoom, need)
    return float(min(zoom, max_zoom))
