"""Analytic synthetic 3D scenes, ray-cast in numpy: ground truth for view synthesis.

A :class:`SyntheticScene` is a tuple of textured primitives (:class:`Rect`,
:class:`Box`, :class:`Sphere`, :class:`Cylinder`) in world coordinates, which
are the source camera's frame (OpenCV axes: x right, y down, z forward; see
docs/conventions.md). :func:`render_view` casts rays from any :class:`Pose`
and returns the photo, the exact planar depth and the id of the object hit at
every pixel centre, so a source view and ground-truth novel views of the same
scene agree to floating-point precision.

The image is supersampled on a regular ``samples x samples`` sub-grid per pixel
and box-filtered (in sRGB values, like photo3d's SSAA downsample), so
silhouette pixels mix foreground and background as in a real photo. The depth
and the object id use the ray through the pixel centre only.

:func:`scene_catalog` lists the benchmark scenes (planes, boxes, spheres, thin
structures, nested occluders, fine and coarse texture). Each is enclosed in a
closed room, so every ray from a camera inside the room hits something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from photo3d.camera.intrinsics import Intrinsics, Pose
from photo3d.errors import Photo3DError

__all__ = [
    "LIGHT_DIRECTION",
    "ROOM_HI",
    "ROOM_LO",
    "SCENE_NAMES",
    "TEXTURE_KINDS",
    "Box",
    "Cylinder",
    "Rect",
    "Sphere",
    "SyntheticScene",
    "SyntheticView",
    "Texture",
    "cast_rays",
    "make_room",
    "render_source",
    "render_view",
    "scene_catalog",
]

TEXTURE_KINDS: tuple[str, ...] = ("checker", "stripes", "noise", "gradient", "solid")
"""The procedural texture kinds that :class:`Texture` knows."""

LIGHT_DIRECTION: tuple[float, float, float] = tuple(
    float(c) for c in np.array([-0.35, -0.8, -0.5]) / np.linalg.norm([-0.35, -0.8, -0.5])
)
"""Unit vector towards the light in world coordinates: above (y is down), left of and behind the source camera."""

_AMBIENT = 0.6  # shade = _AMBIENT + (1 - _AMBIENT) * max(0, n . light)
_T_EPS = 1e-9  # hits nearer than this along the ray are ignored (the ray's own origin)
_EDGE_TOL = 1e-9  # relative tolerance on rectangle bounds, so walls that share an edge leave no crack
_TILE = 64  # pixels per side of a tile: rays are cast tile by tile, objects culled per tile

Color = tuple[int, int, int]


def _vec3(value: Any, name: str) -> tuple[float, float, float]:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape != (3,) or not np.isfinite(arr).all():
        raise Photo3DError(f"{name} must be three finite numbers, got {value!r}")
    return (float(arr[0]), float(arr[1]), float(arr[2]))


# --------------------------------------------------------------------------------------------------------------------
# Textures


@dataclass(frozen=True)
class Texture:
    """A deterministic procedural texture on an object's 2D surface coordinates ``(s, t)`` in world units.

    Attributes:
        kind: One of :data:`TEXTURE_KINDS`:

            - ``"checker"``: squares of side ``period``, cycling through ``colors``;
            - ``"stripes"``: stripes of width ``period`` across ``s``, cycling through ``colors``;
            - ``"noise"``: smooth value noise (smoothstep-interpolated random lattice of spacing
              ``period``, ``octaves`` octaves, each at twice the frequency and half the amplitude),
              mapped onto the colour ramp ``colors[0] -> colors[1] (-> colors[2])``;
            - ``"gradient"``: a smooth cosine ramp along ``s`` that repeats every ``period``, on the same ramp;
            - ``"solid"``: ``colors[0]`` everywhere.
        colors: One to three sRGB colours, each three integers in 0..255.
        period: Feature size in world units (> 0): small for fine texture, large for coarse.
        seed: Seed of the noise lattice (only ``"noise"`` uses it).
        octaves: Octaves of value noise, 1 to 8.
        shading: Multiply by the Lambert-like shade of the surface normal under :data:`LIGHT_DIRECTION`
            (``0.6 + 0.4 * max(0, n . light)``). ``False`` gives the texture's colours exactly.

    """

    kind: str = "solid"
    colors: tuple[Color, ...] = ((200, 200, 200),)
    period: float = 0.25
    seed: int = 0
    octaves: int = 4
    shading: bool = True
    _palette: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in TEXTURE_KINDS:
            raise Photo3DError(f"unknown texture kind {self.kind!r}; use one of {', '.join(TEXTURE_KINDS)}")
        colors = tuple(tuple(int(c) for c in color) for color in self.colors)
        if not 1 <= len(colors) <= 3 or any(len(c) != 3 or min(c) < 0 or max(c) > 255 for c in colors):
            raise Photo3DError(f"texture colors must be one to three RGB triples in 0..255, got {self.colors!r}")
        if not (math.isfinite(self.period) and self.period > 0):
            raise Photo3DError(f"texture period must be a positive number of world units, got {self.period}")
        if not 1 <= self.octaves <= 8:
            raise Photo3DError(f"texture octaves must be 1 to 8, got {self.octaves}")
        object.__setattr__(self, "colors", colors)
        object.__setattr__(self, "_palette", np.array(colors, dtype=np.float32))

    def evaluate(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Unshaded colour at surface coordinates.

        Args:
            s: (N,) surface coordinate in world units, any float dtype.
            t: (N,) surface coordinate in world units, same shape as ``s``.

        Returns:
            (N, 3) float32 sRGB values in [0, 255].

        """
        pal = self._palette
        s = np.asarray(s, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "solid" or len(pal) == 1:
            return np.broadcast_to(pal[0], s.shape + (3,)).copy()
        if self.kind in ("checker", "stripes"):
            cell = np.floor(s / self.period)
            if self.kind == "checker":
                cell = cell + np.floor(t / self.period)
            return pal[np.mod(cell, len(pal)).astype(np.intp)]
        if self.kind == "gradient":
            f = (0.5 - 0.5 * np.cos((2.0 * np.pi / self.period) * s)).astype(np.float32)
        else:
            f = _value_noise(s / self.period, t / self.period, self.seed, self.octaves)
        return _ramp(pal, f)


def _ramp(pal: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Piecewise-linear colour ramp through the palette's colours, ``f`` in [0, 1] -> (N, 3) float32."""
    x = f * np.float32(len(pal) - 1)
    i = np.minimum(x.astype(np.intp), len(pal) - 2)
    w = (x - i)[:, None]
    return pal[i] * (1.0 - w) + pal[i + 1] * w


@lru_cache(maxsize=32)
def _lattice(seed: int, octave: int) -> np.ndarray:
    """The (256 * 256,) float32 random lattice of one noise octave, in [0, 1]."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, octave, 0x5EED])
    return rng.random(256 * 256, dtype=np.float32)


def _value_noise(x: np.ndarray, y: np.ndarray, seed: int, octaves: int) -> np.ndarray:
    """Smooth fractal value noise at lattice coordinates ``(x, y)`` (lattice spacing 1); (N,) float32 in [0, 1]."""
    total = np.zeros(x.shape, dtype=np.float32)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        scale = float(2**octave)
        table = _lattice(seed, octave)
        xs, ys = x * scale, y * scale
        ix, iy = np.floor(xs), np.floor(ys)
        fx, fy = (xs - ix).astype(np.float32), (ys - iy).astype(np.float32)
        fx = fx * fx * (3.0 - 2.0 * fx)
        fy = fy * fy * (3.0 - 2.0 * fy)
        i0 = ix.astype(np.int64) & 255
        j0 = (iy.astype(np.int64) & 255) << 8
        i1 = (i0 + 1) & 255
        j1 = (j0 + 256) & 0xFF00
        top = np.take(table, j0 | i0) * (1.0 - fx) + np.take(table, j0 | i1) * fx
        bottom = np.take(table, j1 | i0) * (1.0 - fx) + np.take(table, j1 | i1) * fx
        total += np.float32(amplitude) * (top * (1.0 - fy) + bottom * fy)
        norm += amplitude
        amplitude *= 0.5
    # The interpolated sum clusters around 0.5: stretch the contrast so that the ramp's end colours show.
    return np.clip(0.5 + 1.8 * (total / np.float32(norm) - 0.5), 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------------------------------
# Rays and primitives


class _Rays:
    """A batch of rays ``origin + t * (dx, dy, dz)`` sharing one origin; float64 (N,) direction components."""

    def __init__(self, origin: np.ndarray, dx: np.ndarray, dy: np.ndarray, dz: np.ndarray) -> None:
        self.o = origin
        self.dx, self.dy, self.dz = dx, dy, dz
        self._inv: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._norm2: np.ndarray | None = None

    def subset(self, idx: np.ndarray) -> _Rays:
        return _Rays(self.o, self.dx[idx], self.dy[idx], self.dz[idx])

    @property
    def inv(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._inv is None:
            self._inv = (1.0 / self.dx, 1.0 / self.dy, 1.0 / self.dz)
        return self._inv

    @property
    def norm2(self) -> np.ndarray:
        if self._norm2 is None:
            self._norm2 = self.dx * self.dx + self.dy * self.dy + self.dz * self.dz
        return self._norm2


@dataclass(frozen=True)
class Rect:
    """A bounded planar parallelogram (a rectangle when ``u`` and ``v`` are perpendicular), two-sided.

    Its points are ``origin + a * u + b * v`` for ``a, b`` in [0, 1]. The texture's surface
    coordinates are ``(a * |u|, b * |v|)`` in world units.

    Attributes:
        origin: (x, y, z) world position of one corner.
        u: First edge vector from ``origin``, world units.
        v: Second edge vector from ``origin``, world units, not parallel to ``u``.
        texture: Its :class:`Texture`.

    """

    origin: tuple[float, float, float]
    u: tuple[float, float, float]
    v: tuple[float, float, float]
    texture: Texture = Texture()
    _geom: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        o, u, v = _vec3(self.origin, "Rect origin"), _vec3(self.u, "Rect u"), _vec3(self.v, "Rect v")
        object.__setattr__(self, "origin", o)
        object.__setattr__(self, "u", u)
        object.__setattr__(self, "v", v)
        ua, va = np.array(u), np.array(v)
        n = np.cross(ua, va)
        if np.linalg.norm(n) < 1e-12 * max(1.0, np.linalg.norm(ua) * np.linalg.norm(va)):
            raise Photo3DError(f"Rect edges u={u} and v={v} are parallel or zero: the rectangle is degenerate")
        dual = np.linalg.pinv(np.stack([ua, va], axis=1))  # rows: ud . u = 1, ud . v = 0 and vice versa
        corners = np.array(o) + np.array([[0, 0], [1, 0], [0, 1], [1, 1]]) @ np.stack([ua, va])
        geom = {
            "o": np.array(o),
            "n": n / np.linalg.norm(n),
            "ud": dual[0],
            "vd": dual[1],
            "lu": float(np.linalg.norm(ua)),
            "lv": float(np.linalg.norm(va)),
            "bounds": (corners.min(axis=0), corners.max(axis=0)),
        }
        object.__setattr__(self, "_geom", geom)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._geom["bounds"]

    def _coords(self, wx: Any, wy: Any, wz: Any) -> tuple[np.ndarray, np.ndarray]:
        ud, vd = self._geom["ud"], self._geom["vd"]
        return wx * ud[0] + wy * ud[1] + wz * ud[2], wx * vd[0] + wy * vd[1] + wz * vd[2]

    def _intersect(self, rays: _Rays) -> np.ndarray:
        g = self._geom
        n, ro = g["n"], g["o"]
        rel = rays.o - ro  # ray origin relative to the corner
        t = -(rel @ n) / (rays.dx * n[0] + rays.dy * n[1] + rays.dz * n[2])
        a, b = self._coords(rel[0] + t * rays.dx, rel[1] + t * rays.dy, rel[2] + t * rays.dz)
        lo, hi = -_EDGE_TOL, 1.0 + _EDGE_TOL
        hit = (t > _T_EPS) & (a >= lo) & (a <= hi) & (b >= lo) & (b <= hi)
        return np.where(hit, t, np.inf)

    def _surface(self, px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, ...]:
        g = self._geom
        a, b = self._coords(px - g["o"][0], py - g["o"][1], pz - g["o"][2])
        n = g["n"]
        return (np.full_like(px, n[0]), np.full_like(px, n[1]), np.full_like(px, n[2]), a * g["lu"], b * g["lv"])


@dataclass(frozen=True)
class Box:
    """A solid axis-aligned box.

    Surface coordinates: ``(z, y)`` on the faces normal to x, ``(x, z)`` on those normal to y,
    ``(x, y)`` on those normal to z (world units).

    Attributes:
        lo: (x, y, z) minimum corner, world units.
        hi: (x, y, z) maximum corner, each coordinate greater than ``lo``'s.
        texture: Its :class:`Texture`.

    """

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    texture: Texture = Texture()

    def __post_init__(self) -> None:
        lo, hi = _vec3(self.lo, "Box lo"), _vec3(self.hi, "Box hi")
        if not all(a < b for a, b in zip(lo, hi, strict=True)):
            raise Photo3DError(f"Box lo {lo} must be below hi {hi} on every axis")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.lo), np.array(self.hi)

    def _intersect(self, rays: _Rays) -> np.ndarray:
        o = rays.o
        tmin = tmax = None
        for axis, (d_inv, lo, hi) in enumerate(zip(rays.inv, self.lo, self.hi, strict=True)):
            t0, t1 = (lo - o[axis]) * d_inv, (hi - o[axis]) * d_inv
            near, far = np.fmin(t0, t1), np.fmax(t0, t1)  # fmin/fmax drop the NaN of 0 * inf
            tmin = near if tmin is None else np.fmax(tmin, near)
            tmax = far if tmax is None else np.fmin(tmax, far)
        return np.where((tmax >= tmin) & (tmin > _T_EPS), tmin, np.inf)

    def _surface(self, px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, ...]:
        p = (px, py, pz)
        dist = np.stack([np.abs(p[k // 2] - (self.lo, self.hi)[k % 2][k // 2]) for k in range(6)])
        face = np.argmin(dist, axis=0)
        axis, sign = face // 2, np.where(face % 2 == 1, 1.0, -1.0)
        nx, ny, nz = (np.where(axis == k, sign, 0.0) for k in range(3))
        s = np.where(axis == 0, pz, px)
        t = np.where(axis == 1, pz, py)
        return nx, ny, nz, s, t


@dataclass(frozen=True)
class Sphere:
    """A solid sphere.

    Surface coordinates: ``(radius * longitude, radius * latitude)`` in world units, longitude 0
    facing the source camera (-z), so the seam is on the far side.

    Attributes:
        centre: (x, y, z) world position of the centre.
        radius: Radius in world units (> 0).
        texture: Its :class:`Texture`.

    """

    centre: tuple[float, float, float]
    radius: float
    texture: Texture = Texture()

    def __post_init__(self) -> None:
        object.__setattr__(self, "centre", _vec3(self.centre, "Sphere centre"))
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise Photo3DError(f"Sphere radius must be positive, got {self.radius}")

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.array(self.centre)
        return c - self.radius, c + self.radius

    def _intersect(self, rays: _Rays) -> np.ndarray:
        oc = rays.o - np.array(self.centre)
        b = rays.dx * oc[0] + rays.dy * oc[1] + rays.dz * oc[2]
        cc = float(oc @ oc) - self.radius**2
        root = np.sqrt(b * b - rays.norm2 * cc)  # NaN where the ray misses
        t = cc / (root - b)  # the nearer root, (-b - root) / a, in its cancellation-free form
        return np.where((root >= 0) & (t > _T_EPS) & (cc > 0), t, np.inf)

    def _surface(self, px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, ...]:
        c, r = self.centre, self.radius
        nx, ny, nz = (px - c[0]) / r, (py - c[1]) / r, (pz - c[2]) / r
        s = r * np.arctan2(nx, -nz)
        t = r * np.arcsin(np.clip(ny, -1.0, 1.0))
        return nx, ny, nz, s, t


@dataclass(frozen=True)
class Cylinder:
    """A solid vertical cylinder (axis along y) with flat caps, for poles and posts.

    Surface coordinates: ``(radius * angle, y)`` on the side (angle 0 facing -z), ``(x, z)`` on the caps.

    Attributes:
        centre_xz: (x, z) world position of the axis.
        y_range: (y0, y1) with ``y0 < y1``: the extent along y (remember y is down).
        radius: Radius in world units (> 0).
        texture: Its :class:`Texture`.

    """

    centre_xz: tuple[float, float]
    y_range: tuple[float, float]
    radius: float
    texture: Texture = Texture()

    def __post_init__(self) -> None:
        cxz = tuple(float(c) for c in self.centre_xz)
        yr = tuple(float(c) for c in self.y_range)
        if len(cxz) != 2 or len(yr) != 2 or not np.isfinite(cxz + yr).all() or not yr[0] < yr[1]:
            raise Photo3DError(f"Cylinder needs centre_xz=(x, z) and y_range=(y0 < y1), got {cxz} and {yr}")
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise Photo3DError(f"Cylinder radius must be positive, got {self.radius}")
        object.__setattr__(self, "centre_xz", cxz)
        object.__setattr__(self, "y_range", yr)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (cx, cz), (y0, y1), r = self.centre_xz, self.y_range, self.radius
        return np.array([cx - r, y0, cz - r]), np.array([cx + r, y1, cz + r])

    def _intersect(self, rays: _Rays) -> np.ndarray:
        (cx, cz), (y0, y1), r = self.centre_xz, self.y_range, self.radius
        ox, oy, oz = rays.o[0] - cx, rays.o[1], rays.o[2] - cz
        dx, dy, dz = rays.dx, rays.dy, rays.dz
        b = ox * dx + oz * dz
        cc = ox * ox + oz * oz - r * r
        root = np.sqrt(b * b - (dx * dx + dz * dz) * cc)
        t = cc / (root - b)
        y = oy + t * dy
        best = np.where((root >= 0) & (t > _T_EPS) & (cc > 0) & (y >= y0) & (y <= y1), t, np.inf)
        for yc in (y0, y1):
            tc = (yc - oy) / dy
            qx, qz = ox + tc * dx, oz + tc * dz
            best = np.where((tc > _T_EPS) & (qx * qx + qz * qz <= r * r) & (tc < best), tc, best)
        return best

    def _surface(self, px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, ...]:
        (cx, cz), (y0, y1), r = self.centre_xz, self.y_range, self.radius
        rx, rz = (px - cx) / r, (pz - cz) / r
        cap = rx * rx + rz * rz < 1.0 - 1e-6  # side points lie on the radius, cap points inside it
        nx, nz = np.where(cap, 0.0, rx), np.where(cap, 0.0, rz)
        ny = np.where(cap, np.where(np.abs(py - y0) < np.abs(py - y1), -1.0, 1.0), 0.0)
        s = np.where(cap, px, r * np.arctan2(rx, -rz))
        t = np.where(cap, pz, py)
        return nx, ny, nz, s, t


Primitive = Rect | Box | Sphere | Cylinder


@dataclass(frozen=True)
class SyntheticScene:
    """A named set of textured primitives in world (= source camera) coordinates.

    Attributes:
        name: Short identifier, e.g. ``"planes"``.
        objects: The primitives; a pixel's ``object_id`` is the index of the hit object in this tuple.
        description: One line saying what the scene tests.

    """

    name: str
    objects: tuple[Primitive, ...]
    description: str = ""

    def __post_init__(self) -> None:
        objects = tuple(self.objects)
        if not objects:
            raise Photo3DError(f"scene {self.name!r} has no objects")
        for obj in objects:
            if not isinstance(obj, Rect | Box | Sphere | Cylinder):
                raise Photo3DError(f"scene {self.name!r}: {type(obj).__name__} is not a Rect, Box, Sphere or Cylinder")
        if len(objects) > np.iinfo(np.int16).max:
            raise Photo3DError(f"scene {self.name!r} has {len(objects)} objects; object ids are int16")
        object.__setattr__(self, "objects", objects)


@dataclass(frozen=True)
class SyntheticView:
    """One ray-cast view of a :class:`SyntheticScene`.

    Attributes:
        image: (H, W, 3) uint8 sRGB, the box-filtered average of ``samples x samples`` rays per pixel.
        depth: (H, W) float32 planar depth (z in the viewing camera's frame, world units) of the hit
            through each pixel centre; ``inf`` where the ray hits nothing (never in catalog scenes).
        object_id: (H, W) int16 index into ``scene.objects`` of the object hit through each pixel
            centre; -1 where the ray hits nothing.
        intrinsics: The camera's intrinsics.
        pose: The camera's pose (camera-to-world, world = source camera frame).

    """

    image: np.ndarray
    depth: np.ndarray
    object_id: np.ndarray
    intrinsics: Intrinsics
    pose: Pose


# --------------------------------------------------------------------------------------------------------------------
# Rendering


def _nearest(scene: SyntheticScene, rays: _Rays, candidates: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit ``t`` (N,) float64 (``inf`` for none) and object index (N,) int (-1 for none)."""
    n = rays.dx.shape[0]
    if not candidates:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
    ts = np.empty((len(candidates), n))
    for row, index in enumerate(candidates):
        ts[row] = scene.objects[index]._intersect(rays)
    best = np.argmin(ts, axis=0)
    t = np.take_along_axis(ts, best[None], 0)[0]
    ids = np.asarray(candidates, dtype=np.intp)[best]
    return t, np.where(np.isfinite(t), ids, -1)


def _shade(scene: SyntheticScene, rays: _Rays, t: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(N, 3) float32 sRGB colour of every ray's hit (black where none)."""
    rgb = np.zeros((t.shape[0], 3), dtype=np.float32)
    light = LIGHT_DIRECTION
    for index in np.flatnonzero(np.bincount(ids + 1, minlength=1)[1:]):  # the objects hit, in order
        obj = scene.objects[index]
        sel = np.flatnonzero(ids == index)
        sub = rays.subset(sel)
        ts = t[sel]
        px, py, pz = rays.o[0] + ts * sub.dx, rays.o[1] + ts * sub.dy, rays.o[2] + ts * sub.dz
        nx, ny, nz, s, tt = obj._surface(px, py, pz)
        color = obj.texture.evaluate(s, tt)
        if obj.texture.shading:
            ndotl = nx * light[0] + ny * light[1] + nz * light[2]
            facing = nx * sub.dx + ny * sub.dy + nz * sub.dz  # > 0: the normal points away from the viewer
            lambert = np.maximum(np.where(facing > 0, -ndotl, ndotl), 0.0)  # two-sided: lit on the seen side
            color *= (_AMBIENT + (1.0 - _AMBIENT) * lambert).astype(np.float32)[:, None]
        rgb[sel] = color
    return rgb


def cast_rays(scene: SyntheticScene, origin: Any, directions: Any) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit of arbitrary rays ``origin + t * direction`` (no culling, no shading).

    Args:
        scene: The scene.
        origin: (3,) ray origin in world coordinates.
        directions: (N, 3) ray directions in world coordinates, not necessarily unit length.

    Returns:
        ``(t, object_id)``: (N,) float64 ray parameter of the nearest hit in units of each
        direction's length (``inf`` for none) and (N,) int16 object index (-1 for none).

    """
    o = np.array(_vec3(origin, "ray origin"))
    d = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    with np.errstate(all="ignore"):  # misses carry inf and NaN until the nearest hit is chosen
        t, ids = _nearest(
            scene, _Rays(o, d[:, 0].copy(), d[:, 1].copy(), d[:, 2].copy()), list(range(len(scene.objects)))
        )
    return t, ids.astype(np.int16)


def _tile_visibility(
    scene: SyntheticScene, k: Intrinsics, pose: Pose, tiles: list[tuple[int, int, int, int]]
) -> np.ndarray:
    """(T, M) bool: may object m be hit by a ray through tile t? (frustum / bounding-box test, conservative)."""
    rot, o = np.asarray(pose.rotation, dtype=np.float64), np.asarray(pose.position, dtype=np.float64)
    corners = np.array([[(u0, v0), (u1, v0), (u1, v1), (u0, v1)] for u0, v0, u1, v1 in tiles], dtype=np.float64)
    pad = 0.01  # pixels: a safety margin around each tile
    centre = corners.mean(axis=1, keepdims=True)
    corners = corners + np.sign(corners - centre) * pad
    cam = np.stack([(corners[..., 0] - k.cx) / k.fx, (corners[..., 1] - k.cy) / k.fy, np.ones(corners.shape[:2])], -1)
    dirs = cam @ rot.T  # (T, 4, 3) world directions of the tile's corner rays
    mid = dirs.mean(axis=1)
    normals = np.cross(dirs, np.roll(dirs, -1, axis=1))  # planes through the camera centre and two corner rays
    normals *= np.sign(np.einsum("tkc,tc->tk", normals, mid))[..., None]  # oriented towards the tile's interior
    bounds = np.array([obj._bounds() for obj in scene.objects])  # (M, 2, 3)
    lo, hi = bounds[:, 0] - o, bounds[:, 1] - o
    # The box corner farthest along each plane normal: if even it is outside, the whole box is.
    far = np.where(normals[:, :, None, :] > 0, hi[None, None], lo[None, None])  # (T, 4, M, 3)
    reach = np.einsum("tkmc,tkc->tkm", far, normals)
    scale = 1e-9 * (1.0 + np.abs(far).sum(-1) * np.abs(normals).sum(-1)[..., None])
    return np.all(reach >= -scale, axis=1)


def render_view(
    scene: SyntheticScene, intrinsics: Intrinsics, pose: Pose | None = None, samples: int = 3
) -> SyntheticView:
    """Ray-casts ``scene`` from a camera.

    Args:
        scene: The scene.
        intrinsics: Pinhole intrinsics of the view (image size in pixels).
        pose: Camera-to-world pose (world = the source camera frame); ``None`` for ``Pose.identity()``.
        samples: Rays per pixel side for the image: ``samples x samples`` rays at offsets
            ``((i + 0.5) / samples, (j + 0.5) / samples)`` inside each pixel, averaged. 1 casts only
            the pixel centres.

    Returns:
        The :class:`SyntheticView`; deterministic. Depth and object id come from the pixel-centre
        ray (for odd ``samples`` it is the middle sub-sample), so they are exact, with hard edges.

    Raises:
        Photo3DError: If ``samples`` is not a positive integer.

    """
    if pose is None:
        pose = Pose.identity()
    if int(samples) != samples or samples < 1:
        raise Photo3DError(f"samples must be a positive integer, got {samples}")
    samples = int(samples)
    k = intrinsics
    height, width = k.height, k.width
    rot = np.asarray(pose.rotation, dtype=np.float64)
    origin = np.asarray(pose.position, dtype=np.float64).reshape(3)
    offsets = (np.arange(samples) + 0.5) / samples
    tiles = [
        (u0, v0, min(u0 + _TILE, width), min(v0 + _TILE, height))
        for v0 in range(0, height, _TILE)
        for u0 in range(0, width, _TILE)
    ]
    image = np.empty((height, width, 3), dtype=np.uint8)
    depth = np.empty((height, width), dtype=np.float32)
    object_id = np.empty((height, width), dtype=np.int16)
    with np.errstate(all="ignore"):  # misses carry inf and NaN until the nearest hit is chosen
        visible = _tile_visibility(scene, k, pose, tiles)
        for (u0, v0, u1, v1), vis in zip(tiles, visible, strict=True):
            candidates = np.flatnonzero(vis).tolist()
            th, tw = v1 - v0, u1 - u0
            us = ((np.arange(u0, u1)[:, None] + offsets[None, :]).reshape(-1) - k.cx) / k.fx
            vs = ((np.arange(v0, v1)[:, None] + offsets[None, :]).reshape(-1) - k.cy) / k.fy
            rays = _make_rays(origin, rot, us, vs)
            t, ids = _nearest(scene, rays, candidates)
            rgb = _shade(scene, rays, t, ids).reshape(th, samples, tw, samples, 3).mean(axis=(1, 3))
            image[v0:v1, u0:u1] = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
            if samples % 2 == 1:
                mid = samples // 2
                t_c = t.reshape(th, samples, tw, samples)[:, mid, :, mid]
                id_c = ids.reshape(th, samples, tw, samples)[:, mid, :, mid]
            else:
                us_c = (np.arange(u0, u1) + 0.5 - k.cx) / k.fx
                vs_c = (np.arange(v0, v1) + 0.5 - k.cy) / k.fy
                t_c, id_c = _nearest(scene, _make_rays(origin, rot, us_c, vs_c), candidates)
                t_c, id_c = t_c.reshape(th, tw), id_c.reshape(th, tw)
            depth[v0:v1, u0:u1] = t_c
            object_id[v0:v1, u0:u1] = id_c
    return SyntheticView(image=image, depth=depth, object_id=object_id, intrinsics=k, pose=pose)


def _make_rays(origin: np.ndarray, rot: np.ndarray, xn: np.ndarray, yn: np.ndarray) -> _Rays:
    """Rays through the grid of normalised image coordinates ``yn`` (rows) x ``xn`` (columns), row-major.

    Each direction is ``rot @ (xn, yn, 1)``: its z in the camera frame is 1, so the ray parameter of
    a hit is its planar depth in that camera.
    """
    xg, yg = np.meshgrid(xn, yn)
    xg, yg = xg.reshape(-1), yg.reshape(-1)
    d = [rot[i, 0] * xg + rot[i, 1] * yg + rot[i, 2] for i in range(3)]
    return _Rays(origin, d[0], d[1], d[2])


# --------------------------------------------------------------------------------------------------------------------
# The catalog

ROOM_LO: tuple[float, float, float] = (-6.0, -4.0, -3.0)
ROOM_HI: tuple[float, float, float] = (6.0, 1.4, 8.0)


def make_room(
    back: Texture,
    floor: Texture,
    walls: Texture,
    ceiling: Texture | None = None,
    lo: tuple[float, float, float] = ROOM_LO,
    hi: tuple[float, float, float] = ROOM_HI,
) -> tuple[Rect, ...]:
    """The six walls of a closed axis-aligned room, as :class:`Rect`.

    With the default bounds the back wall is at z = 8, the floor at y = 1.4 (below the source
    camera), the ceiling at y = -4, the side walls at x = +-6 and the front wall at z = -3, so every
    ray from a camera inside the room hits a wall.

    Args:
        back: Texture of the back wall (z = ``hi[2]``).
        floor: Texture of the floor (y = ``hi[1]``, y is down).
        walls: Texture of the side walls and of the front wall behind the source camera.
        ceiling: Texture of the ceiling; ``walls`` when ``None``.
        lo: Minimum corner of the room.
        hi: Maximum corner of the room.

    Returns:
        ``(back, floor, ceiling, left, right, front)``.

    """
    (x0, y0, z0), (x1, y1, z1) = lo, hi
    ceiling = walls if ceiling is None else ceiling
    return (
        Rect((x0, y0, z1), (x1 - x0, 0, 0), (0, y1 - y0, 0), back),
        Rect((x0, y1, z0), (x1 - x0, 0, 0), (0, 0, z1 - z0), floor),
        Rect((x0, y0, z0), (x1 - x0, 0, 0), (0, 0, z1 - z0), ceiling),
        Rect((x0, y0, z0), (0, 0, z1 - z0), (0, y1 - y0, 0), walls),
        Rect((x1, y0, z0), (0, 0, z1 - z0), (0, y1 - y0, 0), walls),
        Rect((x0, y0, z0), (x1 - x0, 0, 0), (0, y1 - y0, 0), walls),
    )


def _default_room(period: float = 0.6, seed: int = 1) -> tuple[Rect, ...]:
    return make_room(
        back=Texture("noise", ((70, 90, 120), (175, 160, 130), (235, 225, 205)), period, seed),
        floor=Texture("checker", ((95, 70, 50), (160, 125, 85)), 0.5),
        walls=Texture("noise", ((120, 120, 110), (200, 195, 180)), 1.0, seed + 100),
        ceiling=Texture("gradient", ((200, 200, 205), (235, 235, 240)), 3.0),
    )


def _planes() -> SyntheticScene:
    objects = (
        *_default_room(),
        Rect((-0.55, -0.55, 2.0), (0.6, 0, 0), (0, 0.8, 0), Texture("checker", ((220, 60, 50), (245, 235, 215)), 0.1)),
        Rect((-0.1, -0.9, 3.4), (1.3, 0, 0), (0, 1.4, 0), Texture("stripes", ((40, 110, 60), (230, 200, 70)), 0.12)),
        # Yawed: its right edge comes towards the camera (z from 6.5 down to 4.5).
        Rect(
            (-2.9, -1.813, 6.5),
            (1.6, 0, -2.0),
            (0, 2.6, 0),
            Texture("noise", ((30, 60, 140), (120, 170, 220), (240, 240, 250)), 0.15, 7),
        ),
        # Pitched, in front of the stripes: its top edge leans away (z from 2.5 at the bottom to 3.3 at the top).
        Rect(
            (0.35, -0.5, 3.3), (1.2, 0, 0), (0, 0.9, -0.8), Texture("checker", ((60, 40, 120), (200, 190, 230)), 0.15)
        ),
    )
    return SyntheticScene(
        "planes", objects, "fronto-parallel and slanted textured rectangles at 2 to 6.5 before a wall"
    )


def _boxes() -> SyntheticScene:
    floor_y = ROOM_HI[1]
    objects = (
        *_default_room(),
        Box((-0.95, 0.35, 1.7), (-0.3, floor_y, 2.3), Texture("checker", ((200, 70, 40), (240, 200, 120)), 0.08)),
        Box((0.15, 0.1, 3.0), (1.15, floor_y, 4.0), Texture("stripes", ((40, 90, 160), (200, 220, 240)), 0.1)),
        Box((-2.3, -0.9, 4.8), (-0.9, floor_y, 6.0), Texture("noise", ((90, 140, 60), (220, 230, 150)), 0.2, 3)),
        Box((1.3, -1.6, 5.6), (2.6, floor_y, 6.6), Texture("checker", ((80, 80, 80), (230, 230, 230)), 0.25)),
        Box((-0.4, -0.05, 2.7), (0.3, 0.35, 3.3), Texture("gradient", ((170, 40, 140), (250, 200, 90)), 0.5)),
    )
    return SyntheticScene("boxes", objects, "boxes at depths 1.7 to 6.6, most standing on the floor")


def _spheres() -> SyntheticScene:
    objects = (
        *_default_room(),
        Sphere((-0.55, 0.0, 2.2), 0.45, Texture("checker", ((210, 50, 50), (250, 240, 220)), 0.12)),
        Sphere((0.55, 0.25, 3.5), 0.7, Texture("noise", ((40, 80, 160), (150, 200, 240)), 0.15, 5)),
        Sphere((-1.4, -0.6, 5.0), 1.0, Texture("stripes", ((60, 140, 70), (230, 220, 120)), 0.2)),
        Sphere((1.9, -1.1, 6.2), 0.8, Texture("gradient", ((120, 60, 30), (240, 180, 110)), 0.6)),
        Sphere((0.1, -0.45, 1.9), 0.2, Texture("solid", ((235, 215, 60),))),
    )
    return SyntheticScene("spheres", objects, "spheres from 1.7 to 7: curved silhouettes, smooth depth")


def _thin() -> SyntheticScene:
    floor_y, ceil_y = ROOM_HI[1], ROOM_LO[1]
    metal = Texture("gradient", ((40, 40, 45), (190, 190, 200)), 0.05)
    wood = Texture("stripes", ((150, 100, 60), (120, 80, 45)), 0.3)
    slats = tuple(
        Box((x, -0.347, 3.217), (x + 0.028, floor_y, 3.247), wood)  # off round numbers: no pixel ray grazes an edge
        for x in np.round(np.arange(-1.613, 1.6, 0.085), 6).tolist()
    )
    objects = (
        *make_room(
            back=Texture("checker", ((60, 80, 110), (225, 215, 190)), 0.2),
            floor=Texture("noise", ((110, 90, 70), (180, 160, 130)), 0.3, 11),
            walls=Texture("noise", ((120, 120, 110), (200, 195, 180)), 1.0, 12),
        ),
        Cylinder((-0.45, 1.8), (ceil_y, floor_y), 0.007, metal),
        Cylinder((0.3, 2.4), (ceil_y, floor_y), 0.012, metal),
        Cylinder((0.75, 2.9), (ceil_y, floor_y), 0.005, Texture("solid", ((230, 60, 40),))),
        Cylinder((-1.1, 4.5), (ceil_y, floor_y), 0.03, metal),
        Box((-6.0, -0.6, 2.2), (6.0, -0.594, 2.206), Texture("solid", ((25, 25, 25),))),  # a horizontal wire
        Box((-1.7, -0.3, 3.207), (1.7, -0.26, 3.267), wood),  # the fence's top rail
        *slats,
    )
    return SyntheticScene("thin", objects, "thin poles, a wire and a fence of slats in front of a checkered wall")


def _nested() -> SyntheticScene:
    objects = (
        *_default_room(),
        Box((-0.35, -0.3, 1.6), (0.05, 0.15, 1.7), Texture("checker", ((230, 80, 40), (250, 230, 200)), 0.05)),
        Sphere((0.1, -0.05, 3.0), 0.55, Texture("noise", ((30, 90, 150), (140, 200, 240)), 0.12, 21)),
        Rect((-0.9, -0.85, 4.3), (1.6, 0, 0), (0, 1.5, 0), Texture("stripes", ((60, 130, 60), (220, 220, 140)), 0.15)),
        Box((-0.2, -1.2, 5.6), (1.6, 0.7, 6.2), Texture("checker", ((100, 60, 140), (210, 190, 230)), 0.2)),
    )
    return SyntheticScene("nested", objects, "four overlapping occluders at 1.6, 2.45, 4.3 and 5.6 before a wall")


def _texture_scene(name: str, scale: float) -> SyntheticScene:
    """The same box and plane before a wall; ``scale`` multiplies every texture period."""
    floor_y = ROOM_HI[1]
    objects = (
        *make_room(
            back=Texture("noise", ((60, 80, 110), (170, 160, 140), (240, 230, 210)), 0.05 * scale, 31),
            floor=Texture("checker", ((90, 70, 50), (170, 140, 100)), 0.03 * scale),
            walls=Texture("noise", ((120, 120, 110), (200, 195, 180)), 0.1 * scale, 32),
        ),
        Box(
            (-1.1, -0.3, 2.4), (-0.1, floor_y, 3.2), Texture("checker", ((200, 60, 40), (245, 230, 200)), 0.012 * scale)
        ),
        Rect(
            (0.1, -1.0, 3.8),
            (1.4, 0, 0),
            (0, 1.6, 0),
            Texture("noise", ((30, 70, 140), (120, 180, 220), (240, 245, 250)), 0.02 * scale, 33),
        ),
    )
    kind = "fine (periods of about 3 to 4 pixels)" if scale < 2 else "coarse (periods of about 50 pixels)"
    return SyntheticScene(name, objects, f"a box at 2.4 and a plane at 3.8 before a wall, {kind} texture")


_BUILDERS = {
    "planes": _planes,
    "boxes": _boxes,
    "spheres": _spheres,
    "thin": _thin,
    "nested": _nested,
    "fine_texture": lambda: _texture_scene("fine_texture", 1.0),
    "coarse_texture": lambda: _texture_scene("coarse_texture", 15.0),
}

SCENE_NAMES: tuple[str, ...] = tuple(_BUILDERS)
"""Names of the catalog scenes, in a fixed order."""


def scene_catalog(width: int = 640, height: int = 480) -> dict[str, tuple[SyntheticScene, Intrinsics]]:
    """The benchmark scenes with the source camera's intrinsics.

    Every scene lies at depths of about 1.5 to 8 world units inside a closed textured room, with
    occluders whose disocclusions open under lateral moves of a few percent of the near depth.

    Args:
        width: Source image width in pixels.
        height: Source image height in pixels.

    Returns:
        ``{name: (scene, intrinsics)}`` for every name in :data:`SCENE_NAMES`, with
        ``Intrinsics.from_fov(width, height)`` (53.13 degrees on the longer side).

    """
    k = Intrinsics.from_fov(width, height)
    return {name: (build(), k) for name, build in _BUILDERS.items()}


def render_source(name: str, width: int = 640, height: int = 480, samples: int = 3) -> tuple[SyntheticView, Intrinsics]:
    """The source view of a catalog scene, from ``Pose.identity()``.

    Args:
        name: One of :data:`SCENE_NAMES`.
        width: Image width in pixels.
        height: Image height in pixels.
        samples: Rays per pixel side for the image.

    Returns:
        ``(view, intrinsics)``.

    Raises:
        Photo3DError: If ``name`` is not a catalog scene.

    """
    if name not in _BUILDERS:
        raise Photo3DError(f"unknown synthetic scene {name!r}; use one of {', '.join(SCENE_NAMES)}")
    k = Intrinsics.from_fov(width, height)
    return render_view(_BUILDERS[name](), k, Pose.identity(), samples), k
