"""A sample scene that photo3d generates itself: exact depth by analytic ray casting.

A room corner seen by a pinhole camera: a textured back wall, a floor, a box, a
sphere and a thin pole in front. Every pixel's ray (through its centre, see
docs/conventions.md) is intersected with every object in numpy and the nearest
hit wins, so the photo and its planar depth agree exactly, with hard depth
edges. Used by the quickstart (no third-party image is shipped) and by tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera.intrinsics import Intrinsics, pixel_rays

__all__ = ["SampleScene", "make_sample_scene"]


@dataclass
class SampleScene:
    """A generated photo with its exact depth.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        depth: (H, W) float32 planar depth in metres, 1.9 to 6.
        intrinsics: The camera that took it (53.13 degrees on the longer side).

    """

    image: np.ndarray
    depth: np.ndarray
    intrinsics: Intrinsics


def _checker(a: np.ndarray, b: np.ndarray, period: float) -> np.ndarray:
    return ((np.floor(a / period) + np.floor(b / period)) % 2).astype(np.float32)


def make_sample_scene(width: int = 960, height: int = 640) -> SampleScene:
    """Ray-casts the sample scene at ``width`` x ``height`` pixels.

    Returns:
        The :class:`SampleScene`; deterministic for a given size.

    """
    with np.errstate(all="ignore"):  # rays that miss an object carry inf and NaN until the nearest hit is chosen
        return _render(width, height)


def _render(width: int, height: int) -> SampleScene:
    k = Intrinsics.from_fov(width, height)
    xn, yn = pixel_rays(k)
    dirs = np.stack([xn, yn, np.ones_like(xn)], axis=-1).astype(np.float64)  # ray(t) = t * dirs, t = planar depth
    inf = np.full(xn.shape, np.inf)
    hits = []  # (depth, rgb)

    # Back wall z = 6: warm plaster with a painted grid and soft shading.
    t = np.full(xn.shape, 6.0)
    x, y = xn * t, yn * t
    grid = _checker(x, y, 0.5)
    wall = np.stack([0.78 - 0.1 * grid, 0.70 - 0.08 * grid, 0.58 - 0.05 * grid], -1) * (1.0 - 0.06 * y[..., None])
    hits.append((t, wall))

    # Floor y = 1.1 (below the camera): wooden boards along z.
    t = np.where(yn > 1e-6, 1.1 / yn, inf)
    t = np.where(t < 6.0, t, inf)
    x, z = xn * t, t
    boards = (np.floor(x / 0.3) % 2).astype(np.float32)
    grain = 0.5 + 0.5 * np.sin(z * 9.0 + 3.0 * np.sin(x * 5.0))
    floor = np.stack([0.45 + 0.1 * boards + 0.05 * grain, 0.30 + 0.06 * boards + 0.03 * grain, 0.18 + 0.03 * grain], -1)
    hits.append((t, floor))

    # Box: an axis-aligned cube, x in [-1.3, -0.5], y in [0.3, 1.1], z in [3.2, 4.0] (slab method).
    lo, hi = np.array([-1.3, 0.3, 3.2]), np.array([-0.5, 1.1, 4.0])
    t0, t1 = lo / dirs, hi / dirs
    tmin = np.nanmax(np.minimum(t0, t1), axis=-1)
    tmax = np.nanmin(np.maximum(t0, t1), axis=-1)
    t = np.where((tmax >= tmin) & (tmin > 0), tmin, inf)
    p = dirs * t[..., None]
    face = np.argmin(np.abs(np.stack([p[..., 0] - hi[0], p[..., 1] - lo[1], p[..., 2] - lo[2]], -1)), axis=-1)
    stripes = _checker(p[..., 0] + p[..., 2], p[..., 1], 0.25)
    shade = np.choose(face, [0.75, 1.0, 0.9])
    box = np.stack([0.15 + 0.6 * stripes, 0.35 + 0.2 * stripes, 0.75 - 0.3 * stripes], -1) * shade[..., None]
    hits.append((t, box))

    # Sphere: centre (0.7, 0.7, 3.0), radius 0.4 (resting on the floor); shaded with a fixed light.
    c, r = np.array([0.7, 0.7, 3.0]), 0.4
    b = dirs @ c
    a = np.sum(dirs * dirs, axis=-1)
    disc = b * b - a * (c @ c - r * r)
    t = np.where(disc >= 0, (b - np.sqrt(np.maximum(disc, 0))) / a, inf)
    n = (dirs * t[..., None] - c) / r
    light = np.clip(n @ np.array([-0.5, -0.7, -0.5]) / np.linalg.norm([-0.5, -0.7, -0.5]), 0, 1)
    bands = 0.5 + 0.5 * np.sin(12.0 * np.arctan2(n[..., 0], n[..., 2]))
    sphere = np.stack([0.8 * light + 0.15, 0.25 + 0.35 * bands * light, 0.2 * light + 0.05], -1)
    hits.append((t, sphere))

    # Thin pole: vertical cylinder at x = -0.15, z = 2.0, radius 0.03, from the floor up.
    px, pz, pr = -0.15, 2.0, 0.03
    qa = xn * xn + 1.0
    qb = -2.0 * (xn * px + pz)
    qc = px * px + pz * pz - pr * pr
    disc = qb * qb - 4 * qa * qc
    t = np.where(disc >= 0, (-qb - np.sqrt(np.maximum(disc, 0))) / (2 * qa), inf)
    t = np.where(yn * t > -0.9, t, inf)
    pole = np.broadcast_to(np.array([0.2, 0.2, 0.22]), xn.shape + (3,)) * (1.0 + 0.8 * (xn * t - px) / pr)[..., None]
    hits.append((t, pole))

    depths = np.stack([h[0] for h in hits])
    nearest = np.argmin(depths, axis=0)
    depth = np.take_along_axis(depths, nearest[None], 0)[0]
    colors = np.stack([np.broadcast_to(h[1], xn.shape + (3,)) for h in hits])
    rgb = np.take_along_axis(colors, nearest[None, ..., None], 0)[0]
    image = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    return SampleScene(image=image, depth=depth.astype(np.float32), intrinsics=k)
