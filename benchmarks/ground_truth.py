"""Ground-truth depth of the team's real test photos (../shared/data/real), for depth benchmarks.

Each loader reads one item in place (nothing is copied) and returns a
:class:`GroundTruth`: the photo as (H, W, 3) uint8 RGB and its ground-truth
planar depth as (H, W) float32 with **0 = no ground truth**. Units and sources
are in ``../shared/data/real/MANIFEST.md``:

* ``tum``: TUM RGB-D frame, Kinect depth registered to the colour image, metres (value / 5000). Dense (81 %).
* ``kitti``: KITTI object frame 000000, Velodyne points projected into the left colour camera, metres. Sparse (4.5 %).
* ``cones``, ``tsukuba``: Middlebury stereo ground-truth disparity ``d`` (pixels) turned into relative depth
  ``Z = 1 / d`` (``Z = f·B / d`` with ``f·B = 1``; no calibration is published). The depth metrics align scale
  anyway, so only relative depth matters.

    from ground_truth import LOADERS
    item = LOADERS["kitti"](REAL)          # REAL = .../shared/data/real
    item.image.shape, item.depth.shape     # (370, 1224, 3), (370, 1224)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
"""Default location of the real data: ``../shared/data/real`` next to the repository."""


class GroundTruth(NamedTuple):
    """One photo with ground-truth depth.

    Attributes:
        image: (H, W, 3) uint8 RGB photo.
        depth: (H, W) float32 planar depth, > 0 where known, 0 = no ground truth.
        name: Short item name (``"tum"``, ``"kitti"``, ``"cones"``, ``"tsukuba"``).
        units: Units of ``depth``, e.g. ``"m"`` or ``"rel (1/d px, f·B=1)"``.

    """

    image: np.ndarray
    depth: np.ndarray
    name: str
    units: str


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _grey(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im if im.mode.startswith("I") else im.convert("L"))


def load_tum(real: Path = REAL) -> GroundTruth:
    """TUM RGB-D sample: ``TUM_color.png`` and ``TUM_depth.png`` (uint16, metres = value / 5000, 0 = missing)."""
    folder = Path(real) / "tum_rgbd_sample"
    image = _rgb(folder / "TUM_color.png")
    depth = _grey(folder / "TUM_depth.png").astype(np.float32) / 5000.0
    return GroundTruth(image, depth, "tum", "m")


def read_kitti_calib(path: Path) -> dict[str, np.ndarray]:
    """Reads a KITTI object calibration file into ``{key: float64 array}`` (P0..P3 3×4, R0_rect 3×3, Tr_* 3×4)."""
    shapes = {"R0_rect": (3, 3)}
    calib = {}
    for line in Path(path).read_text().splitlines():
        if ":" not in line:
            continue
        key, values = line.split(":", 1)
        calib[key.strip()] = np.array(values.split(), dtype=np.float64).reshape(shapes.get(key.strip(), (3, 4)))
    return calib


def project_velodyne(points: np.ndarray, calib: dict[str, np.ndarray], height: int, width: int) -> np.ndarray:
    """Projects Velodyne points into the left colour camera (P2) as a sparse depth map.

    ``p = P2 · R0_rect · Tr_velo_to_cam · [x, y, z, 1]ᵀ`` (R0_rect and Tr padded to 4×4);
    depth = ``p[2]`` (planar depth in the rectified camera), pixel = ``(p[0]/p[2], p[1]/p[2])``.
    KITTI's projection matrices follow the OpenCV convention (pixel centres at integer
    coordinates), so a point goes to pixel ``round(u), round(v)``. Points with depth <= 0
    or outside the image are dropped; where several land on one pixel, the nearest wins.

    Args:
        points: (N, 3+) float Velodyne points (x, y, z[, reflectance]) in metres.
        calib: From :func:`read_kitti_calib` (needs ``P2``, ``R0_rect``, ``Tr_velo_to_cam``).
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        (height, width) float32 depth in metres, 0 where no point landed.

    """
    r0 = np.eye(4)
    r0[:3, :3] = calib["R0_rect"]
    tr = np.eye(4)
    tr[:3, :] = calib["Tr_velo_to_cam"]
    xyz1 = np.c_[np.asarray(points, dtype=np.float64)[:, :3], np.ones(len(points))]
    p = (calib["P2"] @ r0 @ tr @ xyz1.T).T
    z = p[:, 2]
    front = z > 0
    p, z = p[front], z[front]
    u = np.round(p[:, 0] / z).astype(np.int64)
    v = np.round(p[:, 1] / z).astype(np.int64)
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    u, v, z = u[inside], v[inside], z[inside]
    order = np.argsort(-z, kind="stable")  # farthest first, so the nearest is written last and wins
    depth = np.zeros((height, width), dtype=np.float32)
    depth[v[order], u[order]] = z[order]
    return depth


def load_kitti(real: Path = REAL) -> GroundTruth:
    """KITTI object frame 000000: ``image_2`` and Velodyne points projected with ``calib`` (sparse, metres)."""
    folder = Path(real) / "kitti_object_000000"
    image = _rgb(folder / "image_2" / "000000.png")
    points = np.fromfile(folder / "velodyne" / "000000.bin", dtype=np.float32).reshape(-1, 4)
    calib = read_kitti_calib(folder / "calib" / "000000.txt")
    depth = project_velodyne(points, calib, image.shape[0], image.shape[1])
    return GroundTruth(image, depth, "kitti", "m")


def _middlebury(image_path: Path, disp_path: Path, divisor: float, region: Path | None, name: str) -> GroundTruth:
    image = _rgb(image_path)
    disparity = _grey(disp_path).astype(np.float32) / divisor  # pixels, 0 = unknown
    known = disparity > 0
    if region is not None:
        known &= _grey(region) == 255
    depth = np.zeros_like(disparity)
    depth[known] = 1.0 / disparity[known]
    return GroundTruth(image, depth, name, "rel (1/d px, f·B=1)")


def load_cones(real: Path = REAL, region: str = "all") -> GroundTruth:
    """Middlebury 2003 Cones (quarter size): ``im2.png`` and ``disp2.png`` (disparity = grey / 4, 0 = unknown).

    Args:
        real: The real-data folder.
        region: ``"all"``: every pixel with ground-truth disparity (right for monocular depth:
            pixels occluded in the other view still have true depth); ``"nonocc"``: only
            pixels visible in both views (``nonocc.png``).

    """
    folder = Path(real) / "mb2003_cones"
    mask = None if region == "all" else folder / f"{region}.png"
    return _middlebury(folder / "im2.png", folder / "disp2.png", 4.0, mask, "cones")


def load_tsukuba(real: Path = REAL, region: str = "all") -> GroundTruth:
    """Middlebury 2001 Tsukuba: ``scene1.row3.col3.ppm`` and ``truedisp.row3.col3.pgm`` (grey / 16, 0 = unknown).

    Args:
        real: The real-data folder.
        region: ``"all"`` or ``"nonocc"``, as for :func:`load_cones`.

    """
    folder = Path(real) / "mb2001_tsukuba"
    mask = None if region == "all" else folder / f"{region}.png"
    return _middlebury(folder / "scene1.row3.col3.ppm", folder / "truedisp.row3.col3.pgm", 16.0, mask, "tsukuba")


LOADERS: dict[str, Callable[[Path], GroundTruth]] = {
    "tum": load_tum,
    "kitti": load_kitti,
    "cones": load_cones,
    "tsukuba": load_tsukuba,
}
"""Item name -> loader taking the real-data folder."""
