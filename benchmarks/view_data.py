"""Ground-truth novel views of the team's real data (../shared/data/real), masks, image metrics and a classic baseline.

Library module for ``benchmarks/view_synthesis.py``: how well does a renderer reproduce a real second view of
the scene from one photo and its depth? Everything here follows photo3d's conventions (``docs/conventions.md``):
OpenCV camera axes (x right, y down, z forward), pixel ``(u, v)`` covers ``[u, u + 1) x [v, v + 1)`` with its
centre at ``(u + 0.5, v + 0.5)``, planar depth, and a target :class:`~photo3d.camera.intrinsics.Pose` that is
camera-to-source (target camera -> source camera frame).

A point at continuous image position ``(x, y)`` (``x = fx * X / Z + cx``) falls in pixel
``(floor(x), floor(y))``, the pixel whose centre is nearest; this is the "nearest pixel" used throughout.

Cases (each loader reads the data in place, never copies it, and raises ``FileNotFoundError`` when it is absent):

* ``cones``: Middlebury 2003 Cones, im2 -> im6 (``+1`` baseline along x, ``Z = fx / d``).
* ``tsukuba``: Middlebury 2001 Tsukuba, col3 -> col4 (``+1`` baseline along x, ``Z = fx / d``).
* ``iclnuim``: Open3D's 5-frame ICL-NUIM living-room sequence, frame 0 -> frames 1..4 (metric depth, GT poses).

    from view_data import load_real_cases, forward_warp_telea, psnr
    for case in load_real_cases(REAL):
        for t in case.targets:
            pred = forward_warp_telea(case.image, case.depth, case.intrinsics, t.intrinsics, t.pose)
            print(case.name, t.name, psnr(pred, t.image, t.valid))
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:  # run from a checkout without installing photo3d
    sys.path.insert(0, str(_REPO))

from photo3d.camera.intrinsics import Intrinsics, Pose, unproject_depth  # noqa: E402

__all__ = [
    "REAL",
    "Case",
    "Target",
    "fill_depth",
    "forward_warp",
    "forward_warp_telea",
    "halo_band",
    "load_cones",
    "load_iclnuim",
    "load_real_cases",
    "load_tsukuba",
    "mae",
    "project_to_source",
    "psnr",
    "ssim",
    "visibility_masks",
]

REAL = _REPO.parent / "shared" / "data" / "real"
"""Default location of the real data: ``../shared/data/real`` next to the repository."""

MIDDLEBURY_BASELINE = 1.0
"""Assumed stereo baseline of the Middlebury pairs, in depth units: ``Z = fx * B / d`` (no calibration is published)."""

ICL_FOCAL = 525.0
"""Focal length in pixels of the Open3D ICL-NUIM frames (MANIFEST section 9)."""

ICL_PRINCIPAL_POINT = (320.0, 240.0)
"""Principal point of the ICL-NUIM frames in photo3d's convention.

Open3D's ``cx = 319.5, cy = 239.5`` put pixel centres at integer coordinates (``x = (u - cx) * z / fx`` for
integer ``u``); photo3d puts them at ``u + 0.5``, so the same camera has ``cx = 320.0, cy = 240.0``, the image
centre. :func:`load_iclnuim` documents the numerical check.
"""


# --- data structures -------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One ground-truth novel view of a :class:`Case`.

    Attributes:
        name: Short name, e.g. ``"im6"`` or ``"frame1"``.
        pose: Target camera in the source camera's frame (camera-to-source), in the case's depth units.
        intrinsics: Target camera intrinsics (its size is the image's size).
        image: (H, W, 3) uint8 RGB ground-truth view.
        valid: (H, W) bool, pixels with ground truth to score.
        visible: (H, W) bool, valid pixels the source camera sees: inside its frame, not occluded there, and
            mapping onto a source pixel with known depth (see :func:`visibility_masks`).
        disoccluded: (H, W) bool, valid pixels inside the source frame but hidden there behind something nearer.
        halo: (H, W) bool, valid pixels within 3 px of a depth discontinuity of the target view, on both sides
            (see :func:`halo_band`).
        depth: (H, W) float32 planar target-view depth used to build the masks (positive everywhere; only
            ``valid`` pixels are ground truth, the rest is filled).

    """

    name: str
    pose: Pose
    intrinsics: Intrinsics
    image: np.ndarray
    valid: np.ndarray
    visible: np.ndarray
    disoccluded: np.ndarray
    halo: np.ndarray
    depth: np.ndarray | None = None


@dataclass
class Case:
    """A source photo with ground-truth depth and its ground-truth novel views.

    Attributes:
        name: Short name (``"cones"``, ``"tsukuba"``, ``"iclnuim"``).
        image: (H, W, 3) uint8 RGB source photo.
        depth: (H, W) float32 planar depth, positive and finite everywhere: unknown ground truth is filled
            (see :func:`fill_depth`).
        intrinsics: Source camera intrinsics.
        targets: Ground-truth novel views.
        source: One citation line for the data.
        depth_known: (H, W) bool, where ``depth`` is ground truth rather than filled.

    """

    name: str
    image: np.ndarray
    depth: np.ndarray
    intrinsics: Intrinsics
    targets: list[Target]
    source: str
    depth_known: np.ndarray | None = None


# --- geometry --------------------------------------------------------------------------------------------------------


def fill_depth(depth: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fills unknown depth, biased towards the background.

    Each unknown pixel takes the **farther** of the nearest known pixels to its left and to its right in the same
    row (one of them if only one exists); unknown holes in stereo ground truth are mostly occlusions, which belong
    to the background. Rows with no known pixel at all take the depth of the nearest known pixel in 2D.

    Args:
        depth: (H, W) planar depth, any values where ``known`` is False.
        known: (H, W) bool, pixels whose depth is kept; at least one must be True.

    Returns:
        (H, W) float32 depth, equal to ``depth`` where ``known``.

    Raises:
        ValueError: If no pixel is known.

    """
    known = np.asarray(known, dtype=bool)
    if not known.any():
        raise ValueError("fill_depth needs at least one known pixel")
    z = np.asarray(depth, dtype=np.float32)
    h, w = z.shape
    cols = np.broadcast_to(np.arange(w), (h, w))
    left = np.maximum.accumulate(np.where(known, cols, -1), axis=1)  # last known column at or left of each pixel
    right = np.minimum.accumulate(np.where(known, cols, w)[:, ::-1], axis=1)[:, ::-1]  # first known at or right
    rows = np.arange(h)[:, None]
    zl = np.where(left >= 0, z[rows, np.clip(left, 0, w - 1)], -np.inf)
    zr = np.where(right < w, z[rows, np.clip(right, 0, w - 1)], -np.inf)
    row_fill = np.maximum(zl, zr)
    out = np.where(known, z, row_fill)
    empty = ~np.isfinite(out)  # rows without a known pixel
    if empty.any():
        iy, ix = ndimage.distance_transform_edt(~known, return_distances=False, return_indices=True)
        out[empty] = z[iy[empty], ix[empty]]
    return out.astype(np.float32)


def project_to_source(
    target_depth: np.ndarray, target_K: Intrinsics, target_pose: Pose, source_K: Intrinsics
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where every target pixel lands in the source camera.

    The target pixel centre is unprojected with ``target_depth``, moved into the source frame by ``target_pose``
    (camera-to-source) and projected with ``source_K``.

    Args:
        target_depth: (H, W) planar depth of the target view.
        target_K: Target intrinsics (H x W).
        target_pose: Target camera in the source frame.
        source_K: Source intrinsics.

    Returns:
        ``(col, row, z, inside)``: (H, W) int64 nearest source pixel (``floor`` of the continuous position,
        clipped into the image), (H, W) float64 planar depth of the point in the source camera, and (H, W) bool,
        True where the point is in front of the source camera and its nearest pixel lies inside the source image.

    """
    p = unproject_depth(np.asarray(target_depth), target_K).astype(np.float64)
    p = p @ np.asarray(target_pose.rotation, dtype=np.float64).T + np.asarray(target_pose.position, dtype=np.float64)
    z = p[..., 2]
    front = z > 1e-9
    zs = np.where(front, z, 1.0)
    x = np.floor(source_K.fx * p[..., 0] / zs + source_K.cx)
    y = np.floor(source_K.fy * p[..., 1] / zs + source_K.cy)
    inside = front & np.isfinite(x) & np.isfinite(y)
    inside &= (x >= 0) & (x < source_K.width) & (y >= 0) & (y < source_K.height)
    col = np.clip(np.nan_to_num(x), 0, source_K.width - 1).astype(np.int64)
    row = np.clip(np.nan_to_num(y), 0, source_K.height - 1).astype(np.int64)
    return col, row, z, inside


def visibility_masks(
    source_depth: np.ndarray,
    source_K: Intrinsics,
    target_depth: np.ndarray,
    target_K: Intrinsics,
    target_pose: Pose,
    valid: np.ndarray | None = None,
    rel_tol: float = 0.01,
    source_known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which target pixels the source camera sees, and which it cannot see because something nearer hides them.

    Every target pixel is unprojected with ``target_depth`` and projected into the source camera
    (:func:`project_to_source`), giving its nearest source pixel ``p`` and its source-frame depth ``z``. Let ``s``
    be ``source_depth`` at ``p`` and ``s_max`` the largest source depth in the 3 x 3 neighbourhood of ``p``.

    * outside the source frame (or behind the source camera): neither;
    * ``p`` has no known source depth (``source_known`` False there): neither (cannot be decided);
    * ``|z - s| <= rel_tol * s``: **visible**, the source sees this very surface point;
    * ``z > s_max * (1 + rel_tol)``: **disoccluded**, hidden behind a nearer surface even allowing the 1-pixel
      slack, so pixels on a silhouette, whose 3 x 3 neighbourhood reaches the far side, are not counted;
    * anything else (silhouette pixels, ``z`` nearer than the source surface by more than ``rel_tol``, which
      contradicts the source depth): neither.

    Args:
        source_depth: (Hs, Ws) planar source depth, positive everywhere (filled where unknown).
        source_K: Source intrinsics.
        target_depth: (H, W) planar target depth (positive wherever ``valid``).
        target_K: Target intrinsics.
        target_pose: Target camera in the source frame (camera-to-source).
        valid: (H, W) bool, target pixels to classify; None = all.
        rel_tol: Relative depth tolerance (0.01 = 1 %).
        source_known: (Hs, Ws) bool, source pixels whose depth is ground truth; None = all.

    Returns:
        ``(visible, disoccluded)``, two disjoint (H, W) bool masks inside ``valid``.

    """
    s = np.asarray(source_depth, dtype=np.float64)
    col, row, z, inside = project_to_source(target_depth, target_K, target_pose, source_K)
    if valid is not None:
        inside &= np.asarray(valid, dtype=bool)
    if source_known is not None:
        inside &= np.asarray(source_known, dtype=bool)[row, col]
    s_here = s[row, col]
    s_max = ndimage.maximum_filter(s, size=3, mode="nearest")[row, col]
    visible = inside & (np.abs(z - s_here) <= rel_tol * s_here)
    disoccluded = inside & (z > s_max * (1.0 + rel_tol))
    return visible, disoccluded


def halo_band(target_depth: np.ndarray, radius: int = 3, jump: float = 0.05) -> np.ndarray:
    """Pixels near a depth discontinuity, on both its foreground and its background side.

    Two 4-neighbours ``a``, ``b`` straddle a discontinuity when their relative disparity jump
    ``|1/z_a - 1/z_b| / max(1/z_a, 1/z_b)`` exceeds ``jump``; both pixels of the pair are edge pixels. The band is
    every pixel within Euclidean distance ``radius`` of an edge pixel, so it runs ``radius`` px past the
    silhouette into the background (where halos, stretched triangles and inpainting seams appear) and ``radius``
    px into the foreground (where its boundary is drawn).

    Args:
        target_depth: (H, W) planar depth, positive.
        radius: Band half-width in pixels.
        jump: Relative disparity jump threshold.

    Returns:
        (H, W) bool band.

    """
    disp = 1.0 / np.asarray(target_depth, dtype=np.float64)
    edge = np.zeros(disp.shape, dtype=bool)
    for axis in (0, 1):
        a = disp[:-1, :] if axis == 0 else disp[:, :-1]
        b = disp[1:, :] if axis == 0 else disp[:, 1:]
        step = np.abs(a - b) > jump * np.maximum(a, b)
        if axis == 0:
            edge[:-1, :] |= step
            edge[1:, :] |= step
        else:
            edge[:, :-1] |= step
            edge[:, 1:] |= step
    if not edge.any():
        return edge
    return ndimage.distance_transform_edt(~edge) <= radius


# --- metrics ---------------------------------------------------------------------------------------------------------


def _masked_pair(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, gt, mask = np.asarray(pred), np.asarray(gt), np.asarray(mask, dtype=bool)
    if pred.shape != gt.shape or mask.shape != gt.shape[:2]:
        raise ValueError(f"shapes differ: pred {pred.shape}, gt {gt.shape}, mask {mask.shape}")
    return pred[mask].astype(np.float64), gt[mask].astype(np.float64)


def psnr(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> float:
    """Peak signal-to-noise ratio over the masked pixels, all channels, for a data range of 255.

    Args:
        pred: (H, W, 3) or (H, W) image, grey levels 0..255 (uint8 or float).
        gt: Ground truth of the same shape.
        mask: (H, W) bool, pixels to score.

    Returns:
        ``10 log10(255² / MSE)`` in dB; ``inf`` for identical pixels, NaN for an empty mask.

    """
    p, g = _masked_pair(pred, gt, mask)
    if p.size == 0:
        return math.nan
    mse = float(np.mean((p - g) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(255.0**2 / mse)


def mae(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error in grey levels over the masked pixels and all channels (NaN for an empty mask)."""
    p, g = _masked_pair(pred, gt, mask)
    return math.nan if p.size == 0 else float(np.mean(np.abs(p - g)))


def ssim(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> float:
    """Structural similarity, averaged over the masked pixels of the full SSIM map.

    The map is ``skimage.metrics.structural_similarity(..., full=True)`` with Wang et al. (2004)'s settings:
    Gaussian window ``sigma = 1.5``, population covariances, ``data_range = 255``, per channel
    (``channel_axis=-1``). It is computed on the whole image (windows reach across the mask's edge) and its
    values are averaged over the masked pixels and all channels.

    Args:
        pred: (H, W, 3) or (H, W) image, grey levels 0..255.
        gt: Ground truth of the same shape.
        mask: (H, W) bool, pixels to score.

    Returns:
        Mean SSIM in [-1, 1] (1 for identical images), NaN for an empty mask.

    """
    from skimage.metrics import structural_similarity

    pred, gt, mask = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64), np.asarray(mask, bool)
    if pred.shape != gt.shape or mask.shape != gt.shape[:2]:
        raise ValueError(f"shapes differ: pred {pred.shape}, gt {gt.shape}, mask {mask.shape}")
    if not mask.any():
        return math.nan
    _, full = structural_similarity(
        pred,
        gt,
        channel_axis=-1 if pred.ndim == 3 else None,
        data_range=255.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    return float(np.mean(full[mask]))


# --- baseline (b): forward warp + Telea inpainting --------------------------------------------------------------------


def forward_warp(
    image: np.ndarray, depth: np.ndarray, source_K: Intrinsics, target_K: Intrinsics, pose: Pose
) -> tuple[np.ndarray, np.ndarray]:
    """Splats every source pixel into the target view, nearest pixel only, with a z-buffer.

    Each source pixel centre is unprojected with ``depth``, moved into the target camera
    (``pose.world_to_camera()``), projected with ``target_K`` and written to the target pixel containing it
    (the one whose centre is nearest). Where several land on one pixel, the nearest to the target camera wins.
    No splat footprint: where the view zooms in or surfaces stretch, single-pixel cracks stay empty.

    Args:
        image: (Hs, Ws, 3) uint8 source photo.
        depth: (Hs, Ws) planar source depth, positive.
        source_K: Source intrinsics.
        target_K: Target intrinsics (sets the output size).
        pose: Target camera in the source frame (camera-to-source).

    Returns:
        ``(warped, hit)``: (H, W, 3) uint8 image, black where nothing landed, and (H, W) bool, where something did.

    """
    p = unproject_depth(np.asarray(depth), source_K).reshape(-1, 3).astype(np.float64)
    m = pose.world_to_camera()
    q = p @ m[:3, :3].T + m[:3, 3]
    z = q[:, 2]
    ok = z > 1e-9
    zs = np.where(ok, z, 1.0)
    x = np.floor(target_K.fx * q[:, 0] / zs + target_K.cx)
    y = np.floor(target_K.fy * q[:, 1] / zs + target_K.cy)
    ok &= np.isfinite(x) & np.isfinite(y) & (x >= 0) & (x < target_K.width) & (y >= 0) & (y < target_K.height)
    src = np.flatnonzero(ok)
    flat = y[src].astype(np.int64) * target_K.width + x[src].astype(np.int64)
    order = np.lexsort((z[src], flat))  # by target pixel, then nearest first
    flat, src = flat[order], src[order]
    first = np.ones(flat.size, dtype=bool)
    first[1:] = flat[1:] != flat[:-1]
    out = np.zeros((target_K.height * target_K.width, 3), dtype=np.uint8)
    hit = np.zeros(target_K.height * target_K.width, dtype=bool)
    out[flat[first]] = np.asarray(image).reshape(-1, 3)[src[first]]
    hit[flat[first]] = True
    return out.reshape(target_K.height, target_K.width, 3), hit.reshape(target_K.height, target_K.width)


def forward_warp_telea(
    image: np.ndarray, depth: np.ndarray, source_K: Intrinsics, target_K: Intrinsics, pose: Pose
) -> np.ndarray:
    """Baseline (b): :func:`forward_warp`, then Telea inpainting of every pixel nothing landed on.

    The classic depth-image-based-rendering baseline: disocclusions, the frame border revealed by the motion and
    rounding cracks are all filled by ``cv2.inpaint(warped, holes, 3, cv2.INPAINT_TELEA)`` (Telea 2004, radius 3).

    Args:
        image: (Hs, Ws, 3) uint8 source photo.
        depth: (Hs, Ws) planar source depth, positive.
        source_K: Source intrinsics.
        target_K: Target intrinsics (sets the output size).
        pose: Target camera in the source frame (camera-to-source).

    Returns:
        (H, W, 3) uint8 rendered target view.

    """
    warped, hit = forward_warp(image, depth, source_K, target_K, pose)
    if hit.all():
        return warped
    if not hit.any():
        return warped  # nothing to inpaint from
    return cv2.inpaint(np.ascontiguousarray(warped), (~hit).astype(np.uint8), 3, cv2.INPAINT_TELEA)


# --- readers ---------------------------------------------------------------------------------------------------------


def _need(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"view-synthesis data not found: {path}")
    return path


def _rgb(path: Path) -> np.ndarray:
    with Image.open(_need(path)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _grey(path: Path) -> np.ndarray:
    with Image.open(_need(path)) as im:
        return np.asarray(im if im.mode.startswith("I") else im.convert("L"))


def _target(
    name: str,
    pose: Pose,
    intrinsics: Intrinsics,
    image: np.ndarray,
    depth: np.ndarray,
    valid: np.ndarray,
    case_depth: np.ndarray,
    case_K: Intrinsics,
    case_known: np.ndarray,
    rel_tol: float,
) -> Target:
    visible, disoccluded = visibility_masks(
        case_depth, case_K, depth, intrinsics, pose, valid=valid, rel_tol=rel_tol, source_known=case_known
    )
    halo = valid & halo_band(depth)
    return Target(name, pose, intrinsics, image, valid, visible, disoccluded, halo, depth)


def _disparity_depth(disparity: np.ndarray, fx: float) -> tuple[np.ndarray, np.ndarray]:
    known = disparity > 0
    depth = np.ones(disparity.shape, dtype=np.float32)
    depth[known] = fx * MIDDLEBURY_BASELINE / disparity[known]
    return fill_depth(depth, known), known


# --- real cases ------------------------------------------------------------------------------------------------------

MIDDLEBURY_REL_TOL = 0.03
"""Depth tolerance of the Middlebury masks: quarter-pixel disparity steps are 0.5-4.5 % of cones' 5.5-55 px."""


def load_cones(root: Path = REAL) -> Case:
    """Middlebury 2003 Cones (450 x 375): source ``im2.png``, one target ``im6.png``.

    * Intrinsics: ``Intrinsics.from_fov(W, H)`` (``fx = max(W, H) = 450``, centred) for both views; baseline
      ``B = 1`` (:data:`MIDDLEBURY_BASELINE`), so depth ``Z = fx / d`` with ``d = disp2.png / 4`` px
      (0 = unknown; unknown pixels are filled by :func:`fill_depth`).
    * Target pose ``Pose.translation(B, 0, 0)``: then ``x_right = x_left - d``, the geometry checked in the MANIFEST.
    * Target depth ``Z = fx / d6`` from ``disp6.png / 4`` (right-view ground truth); ``valid`` = ``d6`` known,
      minus target pixels whose nearest source pixel has ``all.png == 0`` (no left-view ground truth; this equals
      ``disp2 == 0`` here), which are not scored.
    * ``visible`` / ``disoccluded``: :func:`visibility_masks` with ``rel_tol =`` :data:`MIDDLEBURY_REL_TOL`.
      Target pixels beyond the left view's frame (its right edge) are valid but neither.
    """
    folder = Path(root) / "mb2003_cones"
    image = _rgb(folder / "im2.png")
    target_image = _rgb(folder / "im6.png")
    h, w = image.shape[:2]
    k = Intrinsics.from_fov(w, h)
    depth, known = _disparity_depth(_grey(folder / "disp2.png").astype(np.float32) / 4.0, k.fx)
    known &= _grey(folder / "all.png") == 255
    target_depth, valid = _disparity_depth(_grey(folder / "disp6.png").astype(np.float32) / 4.0, k.fx)
    pose = Pose.translation(MIDDLEBURY_BASELINE, 0.0, 0.0)
    col, row, _, inside = project_to_source(target_depth, k, pose, k)
    valid &= ~(inside & ~known[row, col])
    target = _target("im6", pose, k, target_image, target_depth, valid, depth, k, known, MIDDLEBURY_REL_TOL)
    source = "Middlebury 2003 Cones (im2 -> im6): D. Scharstein and R. Szeliski, CVPR 2003"
    return Case("cones", image, depth, k, [target], source, known)


def _warp_disparity_rows(disparity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward-warps integer-pixel row disparity to the view ``x' = x - d`` with a z-buffer and fills disocclusions.

    Returns the target disparity (0 where unknown) and its ``valid`` mask, as described in :func:`load_tsukuba`.
    """
    h, w = disparity.shape
    v, u = np.nonzero(disparity > 0)
    d = disparity[v, u]
    ut = np.floor(u + 0.5 - d).astype(np.int64)  # pixel centre u + 0.5 moves to u + 0.5 - d
    keep = (ut >= 0) & (ut < w)
    target = np.zeros((h, w), dtype=np.float32)
    np.maximum.at(target, (v[keep], ut[keep]), d[keep])  # largest disparity (nearest) wins
    landed = target > 0
    cols = np.broadcast_to(np.arange(w), (h, w))
    left = np.maximum.accumulate(np.where(landed, cols, -1), axis=1)
    right = np.minimum.accumulate(np.where(landed, cols, w)[:, ::-1], axis=1)[:, ::-1]
    bounded = ~landed & (left >= 0) & (right < w)
    rows = np.arange(h)[:, None]
    fill = np.minimum(target[rows, np.clip(left, 0, w - 1)], target[rows, np.clip(right, 0, w - 1)])
    target[bounded] = fill[bounded]
    return target, landed | bounded


def load_tsukuba(root: Path = REAL) -> Case:
    """Middlebury 2001 Tsukuba (384 x 288): source ``scene1.row3.col3.ppm``, one target ``scene1.row3.col4.ppm``.

    * Intrinsics ``Intrinsics.from_fov(W, H)`` (``fx = 384``), ``B = 1``, ``Z = fx / d`` with
      ``d = truedisp.row3.col3.pgm / 16`` px (0 = unknown: an 18-px border; filled by :func:`fill_depth`).
    * Target pose ``Pose.translation(B, 0, 0)`` (``x_col4 = x_col3 - d``).
    * No right-view ground truth is published, so the target disparity is built by forward-warping the known
      source disparity (integers, so every pixel lands exactly) with a z-buffer (largest disparity wins). Target
      pixels nothing landed on are disocclusions where they are bounded on both sides within their row by landed
      pixels: they take the smaller (background) disparity of the two bounding pixels. ``valid`` = landed pixels
      plus those bounded holes; unbounded holes (next to the unknown border) are not scored.
    * Masks as for cones (:data:`MIDDLEBURY_REL_TOL`).
    """
    folder = Path(root) / "mb2001_tsukuba"
    image = _rgb(folder / "scene1.row3.col3.ppm")
    target_image = _rgb(folder / "scene1.row3.col4.ppm")
    h, w = image.shape[:2]
    k = Intrinsics.from_fov(w, h)
    disparity = _grey(folder / "truedisp.row3.col3.pgm").astype(np.float32) / 16.0
    depth, known = _disparity_depth(disparity, k.fx)
    target_disp, valid = _warp_disparity_rows(np.where(known, disparity, 0.0))
    target_depth, _ = _disparity_depth(np.where(valid, target_disp, 0.0), k.fx)
    pose = Pose.translation(MIDDLEBURY_BASELINE, 0.0, 0.0)
    target = _target("col4", pose, k, target_image, target_depth, valid, depth, k, known, MIDDLEBURY_REL_TOL)
    source = (
        "Middlebury 2001 Tsukuba (col3 -> col4): D. Scharstein and R. Szeliski, IJCV 2002; scene by Univ. of "
        "Tsukuba (Nakamura et al. 1996)"
    )
    return Case("tsukuba", image, depth, k, [target], source, known)


def read_trajectory_log(path: Path) -> list[np.ndarray]:
    """Reads a Redwood ``.log`` trajectory: one ``i j n`` line, then a 4 x 4 camera-to-world matrix, per frame.

    Returns:
        The (4, 4) float64 matrices in file order.

    """
    rows = [line.split() for line in _need(Path(path)).read_text().splitlines() if line.strip()]
    return [np.array(rows[i + 1 : i + 5], dtype=np.float64) for i in range(0, len(rows) - 4, 5)]


ICL_REL_TOL = 0.02
"""Depth tolerance of the ICL-NUIM masks (1 mm depth steps, rendering noise and nearest-pixel lookup on slanted
surfaces)."""


def load_iclnuim(root: Path = REAL, frames: tuple[int, ...] = (1, 2, 3, 4)) -> Case:
    """Open3D's ICL-NUIM living-room sequence (640 x 480): source frame 0, targets ``frames``.

    * Depth: ``depth/0000i.png`` in millimetres -> metres (0 = invalid; filled by :func:`fill_depth` in the source,
      not ``valid`` in a target).
    * Intrinsics ``fx = fy = 525``, ``cx, cy = 320, 240`` (:data:`ICL_PRINCIPAL_POINT`: Open3D's 319.5, 239.5
      with pixel centres at integers, moved by half a pixel to photo3d's ``u + 0.5`` centres).
    * Poses: ``trajectory.log`` holds camera-to-world ``T_i``; frame ``i`` in frame 0's camera is
      ``inv(T_0) @ T_i`` (camera-to-source), in metres. The camera axes are OpenCV's, like photo3d's.
    * Masks: :func:`visibility_masks` with ``rel_tol =`` :data:`ICL_REL_TOL`, target pixels mapping onto invalid
      source depth are neither.

    Check (``tests/benchmarks/test_view_data.py``): forward-warping frame 0 with its depth into frames 1..4 gives a mean
    absolute error of about 3 grey levels on ``visible`` pixels, against about 17 unwarped.
    """
    folder = Path(root) / "synth_iclnuim_open3d"
    poses = read_trajectory_log(folder / "trajectory.log")
    image = _rgb(folder / "color" / "00000.jpg")
    h, w = image.shape[:2]
    k = Intrinsics(w, h, ICL_FOCAL, ICL_FOCAL, *ICL_PRINCIPAL_POINT)
    raw = _grey(folder / "depth" / "00000.png").astype(np.float32) / 1000.0
    known = raw > 0
    depth = fill_depth(raw, known)
    inv0 = np.linalg.inv(poses[0])
    targets = []
    for i in frames:
        rel = inv0 @ poses[i]
        pose = Pose(rel[:3, :3].copy(), rel[:3, 3].copy())
        raw_t = _grey(folder / "depth" / f"{i:05d}.png").astype(np.float32) / 1000.0
        valid = raw_t > 0
        target_depth = fill_depth(raw_t, valid)
        target_image = _rgb(folder / "color" / f"{i:05d}.jpg")
        targets.append(_target(f"frame{i}", pose, k, target_image, target_depth, valid, depth, k, known, ICL_REL_TOL))
    source = (
        "ICL-NUIM living room (Handa et al., ICRA 2014) via Redwood (Choi et al., CVPR 2015), Open3D TestData "
        "RGBD frames 0-4 with trajectory.log"
    )
    return Case("iclnuim", image, depth, k, targets, source, known)


LOADERS: dict[str, Callable[[Path], Case]] = {"cones": load_cones, "tsukuba": load_tsukuba, "iclnuim": load_iclnuim}
"""Case name -> loader taking the real-data folder."""


def load_real_cases(root: Path = REAL) -> list[Case]:
    """Every case whose data is present under ``root`` (missing ones are left out silently)."""
    cases = []
    for load in LOADERS.values():
        try:
            cases.append(load(Path(root)))
        except FileNotFoundError:
            continue
    return cases
