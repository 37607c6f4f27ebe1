"""The end-to-end pipeline: photo and depth in, LDI and mesh, video frames and PLY out.

Data flows one way: :func:`load_scene` (input) -> :func:`plan_render` (trajectory, framing) ->
LDI and mesh -> frames. The settings, the scene and the camera plan live here; the session that runs
the stages (:class:`photo3d.session.Studio`) is in :mod:`photo3d.session`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from .camera.framing import (
    Subject,
    base_output_intrinsics,
    contain_size,
    find_subject,
)
from .camera.intrinsics import Intrinsics, Pose
from .camera.trajectory import Trajectory, scene_scale, trajectory_cameras
from .camera.trajectory_files import load_trajectory
from .depth.conversions import DepthOptions
from .depth.estimate import DepthEstimator
from .errors import Photo3DError
from .settings import DepthSettings, RenderSettings

__all__ = [
    "FoundDepth",
    "RenderReport",
    "Scene",
    "CameraPlan",
    "export_depth_maps",
    "load_scene",
    "obtain_depth",
    "plan_cameras",
    "plan_render",
]

log = logging.getLogger(__name__)


@dataclass
class Scene:
    """A photo with its depth and camera.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        depth: (H, W) float32 planar depth, finite and positive, in the depth map's units.
        intrinsics: The source camera.
        depth_source: Where the depth came from (a file, embedded metadata, a model), for reports.

    """

    image: np.ndarray
    depth: np.ndarray
    intrinsics: Intrinsics
    depth_source: str = ""

    @classmethod
    def from_arrays(
        cls,
        image: np.ndarray,
        depth: np.ndarray,
        kind: Literal["depth", "disparity", "distance"] = "depth",
        *,
        fov: float | None = None,
        focal_px: float | None = None,
        options: DepthOptions | None = None,
    ) -> Scene:
        """A scene from arrays in memory, converted as a depth file of that kind would be.

        Args:
            image: (H, W, 3) uint8 RGB photo.
            depth: (h, w) real array with the photo's aspect ratio (within 1 %): planar depth, disparity or
                ray distance as ``kind`` says. NaN, inf, values <= 0 and >= 1e9 are invalid and take the
                value of the nearest valid pixel. A smaller map is upsampled along the photo's colour edges.
            kind: ``"depth"`` (planar, any units, kept as they are), ``"disparity"`` (larger = nearer,
                relative: the nearest pixel becomes depth 1) or ``"distance"`` (along each pixel's ray, as
                Blender's Z pass).
            fov: Field of view in degrees across the longer side (default 53.13).
            focal_px: Focal length in pixels (overrides ``fov``).
            options: Invert, scale and clip (see :class:`~photo3d.depth.conversions.DepthOptions`; its
                ``kind`` is not read).

        Returns:
            The scene, with (H, W) float32 planar depth.

        Raises:
            Photo3DError: If the image is not (H, W, 3) uint8, the depth is not a 2-D real array or has no
                valid value, the kind is unknown, the aspect ratios differ, or ``fov``/``focal_px`` is invalid.

        """
        from .depth.conversions import depth_from_values

        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) < 1:
            raise Photo3DError(f"the image must be an (H, W, 3) uint8 RGB array, got {image.shape} {image.dtype}")
        values = np.asarray(depth)
        if values.ndim != 2 or min(values.shape) < 1 or values.dtype.kind not in "fiu":
            raise Photo3DError(f"the depth must be an (h, w) array of real numbers, got {values.shape} {values.dtype}")
        if kind not in ("depth", "disparity", "distance"):
            raise Photo3DError(f"kind must be depth, disparity or distance, got {kind!r}")
        if focal_px is not None and not focal_px > 0:
            raise Photo3DError(f"focal_px must be positive, got {focal_px}")
        intrinsics = _intrinsics(image, fov, focal_px, None)
        with np.errstate(over="ignore"):
            values = values.astype(np.float32)
        planar = depth_from_values(
            values,
            kind,
            intrinsics.width,
            intrinsics.height,
            intrinsics=intrinsics,
            options=options,
            guide=image,
            name="(array)",
        )
        return cls(image=image, depth=planar, intrinsics=intrinsics, depth_source=f"{kind} array")

    @classmethod
    def load(
        cls,
        photo: str | Path,
        depth: DepthSettings | str | Path | None = None,
        fov: float | None = None,
        focal_px: float | None = None,
    ) -> Scene:
        """Reads a photo and finds its depth: the same as :func:`load_scene`."""
        return load_scene(photo, depth, fov, focal_px)


@dataclass
class RenderReport:
    """What a render did, with timings in seconds.

    Attributes:
        renderer: The OpenGL renderer string.
        size: Output ``(width, height)``.
        frames: Frames written.
        layers: LDI layers.
        band_px: Width of the back-layer band in source pixels.
        zoom: Zoom applied by the framing to keep the photo's edge out of view.
        focus: The planar depth kept still on screen (depth units).
        vertices: Vertex count of the rendered (simplified) mesh.
        faces: Triangle count of the rendered (simplified) mesh.
        faces_full: Triangle count with one vertex per LDI sample (what the PLY holds).
        timings: Seconds per stage: ``load``, ``ldi_mesh``, ``render`` (render plus encode,
            overlapped), ``ply``.

    """

    renderer: str = ""
    size: tuple[int, int] = (0, 0)
    frames: int = 0
    layers: int = 0
    band_px: int = 0
    zoom: float = 1.0
    focus: float = 0.0
    vertices: int = 0
    faces: int = 0
    faces_full: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def load_scene(
    image_path: str | Path,
    depth: DepthSettings | str | Path | None = None,
    fov: float | None = None,
    focal_px: float | None = None,
    *,
    estimator: Callable[[str, str | None, int | None], DepthEstimator] | None = None,
) -> Scene:
    """Reads a photo, finds its depth (file, embedded or estimated) and sets up the source camera.

    Args:
        image_path: JPEG, PNG, TIFF, WebP or HEIC photo.
        depth: Where the depth comes from (see :class:`DepthSettings`); a path is
            a depth map file read with ``--depth-kind auto``; None means embedded
            depth if the photo has any, else the default depth model.
        fov: Field of view in degrees across the longer side (default 53.13).
        focal_px: Focal length in pixels; overrides ``fov``. Without either, a
            focal length stored with the photo's depth (Apple) or estimated by
            the model (Depth Pro) is used when there is one.
        estimator: Gives the depth network for ``(model, device, resolution)``; None: one loaded
            network per process and key (a :class:`~photo3d.session.Studio` keeps its own).

    Returns:
        The scene; ``scene.depth_source`` says where the depth came from.

    Raises:
        Photo3DError: For any unreadable or invalid input, a model that cannot be
            loaded, or no network with the model not cached.

    """
    from .io.image import load_image

    if depth is None or isinstance(depth, (str, Path)):
        depth = DepthSettings(path=None if depth is None else Path(depth))
    if focal_px is not None and not focal_px > 0:
        raise Photo3DError(f"focal_px must be positive, got {focal_px}")
    image = load_image(image_path)
    found = obtain_depth(image_path, image, depth, _intrinsics(image, fov, focal_px, None), estimator=estimator)
    image = found.image if found.image is not None else image
    intrinsics = _intrinsics(image, fov, focal_px, found.focal_px)
    return Scene(image=image, depth=found.depth, intrinsics=intrinsics, depth_source=found.source)


def _intrinsics(image: np.ndarray, fov: float | None, focal_px: float | None, found_focal: float | None) -> Intrinsics:
    from .camera.intrinsics import DEFAULT_FOV_DEG

    h, w = image.shape[:2]
    if focal_px is not None:
        return Intrinsics.from_focal(w, h, focal_px)
    if fov is None and found_focal is not None:
        return Intrinsics.from_focal(w, h, found_focal)
    return Intrinsics.from_fov(w, h, DEFAULT_FOV_DEG if fov is None else fov)


@dataclass
class FoundDepth:
    """Planar depth for a photo and where it came from.

    Attributes:
        depth: (H, W) float32 planar depth at the photo's size, finite and > 0.
        source: One line for logs and reports, e.g. ``"embedded: Google GDepth (RangeInverse)"``.
        image: (H, W, 3) uint8 RGB colour to use instead of the decoded photo (a Lens
            Blur photo's unblurred original), or None.
        focal_px: Focal length in pixels at the photo's size, when the source knows it.

    """

    depth: np.ndarray
    source: str
    image: np.ndarray | None = None
    focal_px: float | None = None


def obtain_depth(
    image_path: str | Path,
    image: np.ndarray,
    settings: DepthSettings,
    intrinsics: Intrinsics,
    *,
    estimator: Callable[[str, str | None, int | None], DepthEstimator] | None = None,
) -> FoundDepth:
    """Planar depth for one photo from the source ``settings`` name (see :class:`DepthSettings`).

    Args:
        image_path: The photo's file (read again for embedded depth).
        image: (H, W, 3) uint8 RGB, the decoded photo.
        settings: Where the depth comes from.
        intrinsics: The photo's camera (used to turn ray distance into planar depth).
        estimator: Gives the depth network for ``(model, device, resolution)`` (see :func:`load_scene`).

    Returns:
        The depth ((H, W) float32 planar, finite, > 0; metres for metric sources, relative
        units otherwise), where it came from, and the colour and focal length the source
        supplies, if any.

    Raises:
        Photo3DError: For unreadable depth, corrupt embedded metadata, or a model that cannot run.

    """
    from .depth.conversions import apply_depth_clip, load_depth

    h, w = image.shape[:2]
    clip = settings.options.clip
    if settings.path is not None:
        depth = load_depth(settings.path, w, h, intrinsics=intrinsics, options=settings.options, guide=image)
        return FoundDepth(depth, f"depth map {settings.path}")
    if settings.model is None:
        found = _embedded_depth(image_path, image, clip)
        if found is not None:
            return found
    from .depth.cache import DepthCache
    from .depth.estimate import prediction_to_depth
    from .depth.models import DEFAULT_MODEL

    model = settings.model or DEFAULT_MODEL
    network = (estimator or _estimator)(model, settings.device, settings.resolution)
    if settings.cache:
        prediction, hit = DepthCache(settings.cache_dir).predict(network, image)
    else:
        prediction, hit = network.predict(image), False
    depth = prediction_to_depth(prediction, settings.near, settings.far)
    if clip is not None:
        depth = apply_depth_clip(depth, clip, relative=prediction.kind == "disparity")
    what = "metric depth" if prediction.kind == "depth" else "relative inverse depth"
    source = f"estimated by {model} ({what}{', from the cache' if hit else ''})"
    return FoundDepth(depth, source, focal_px=prediction.focal_px)


def _embedded_depth(image_path: str | Path, image: np.ndarray, clip: tuple[float, float] | None) -> FoundDepth | None:
    from .depth.conversions import apply_depth_clip
    from .depth.upsample import upsample_depth
    from .io.embedded import read_embedded_depth

    embedded = read_embedded_depth(image_path)
    if embedded is None:
        return None
    colour = embedded.image if embedded.image is not None else image
    h, w = colour.shape[:2]
    depth = embedded.depth
    if depth.shape != (h, w):  # guided by the photo, so depth edges follow colour edges
        depth = upsample_depth(depth, colour)
    if clip is not None:
        depth = apply_depth_clip(depth, clip, relative=embedded.units == "relative")
    log.info("using the depth embedded in %s: %s, %s units", image_path, embedded.source, embedded.units)
    return FoundDepth(depth, f"embedded: {embedded.source}", embedded.image, embedded.focal_px)


@functools.lru_cache(maxsize=2)
def _estimator(model: str, device: str | None, resolution: int | None):
    """One loaded network per (model, device, resolution) for the whole process (batches reuse it)."""
    return DepthEstimator(model, device=device, resolution=resolution)


def depth_map_names(photo: str | Path, out_dir: str | Path, preview: bool = False, normals: bool = False) -> list[Path]:
    """The files :func:`export_depth_maps` writes for ``photo``: ``STEM_depth.png``, then the preview and normals."""
    stem, out_dir = Path(photo).stem, Path(out_dir)
    names = [f"{stem}_depth.png"] + [f"{stem}_depth_preview.png"] * preview + [f"{stem}_normals.png"] * normals
    return [out_dir / name for name in names]


def export_depth_maps(
    photo: str | Path,
    out_dir: str | Path,
    depth: DepthSettings,
    fov: float | None = None,
    focal_px: float | None = None,
    preview: bool = False,
    normals: bool = False,
) -> tuple[list[Path], str]:
    """Writes a photo's depth as ``STEM_depth.png`` (and a preview and normal map) into ``out_dir``.

    Args:
        photo: The photo file.
        out_dir: Output folder (created if missing).
        depth: Where the depth comes from (see :class:`DepthSettings`).
        fov: Field of view in degrees (for the normal map's camera).
        focal_px: Focal length in pixels (overrides ``fov``).
        preview: Also write ``STEM_depth_preview.png`` (turbo colour map, near = warm).
        normals: Also write ``STEM_normals.png``.

    Returns:
        ``(written files, where the depth came from)``.

    Raises:
        Photo3DError: For unreadable input, a model that cannot run, or an output that cannot be written.

    """
    from .io.depth_images import write_depth_png, write_depth_preview, write_normal_map
    from .io.outputs import check_distinct, check_writable

    out_dir = Path(out_dir)
    targets = depth_map_names(photo, out_dir, preview, normals)
    check_distinct([("the output", path) for path in targets], [("the photo", photo), ("the depth map", depth.path)])
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise Photo3DError(f"cannot create the output folder {out_dir}: {e.strerror or e}") from None
    for target in targets:
        check_writable(target)
    scene = load_scene(photo, depth, fov, focal_px)
    write_depth_png(targets[0], scene.depth)
    if preview:
        write_depth_preview(targets[1], scene.depth)
    if normals:
        write_normal_map(targets[-1], scene.depth, scene.intrinsics)
    return targets, scene.depth_source


def output_size(scene: Scene, size: tuple[int, int] | None, stereo: str | None = None) -> tuple[int, int]:
    """The written frame's size.

    Args:
        scene: The photo (its size is the default).
        size: ``(width, height)`` in pixels, or None for the photo's size rounded down to even numbers
            (two eyes of that size side by side or stacked with ``stereo``, see
            :func:`photo3d.camera.stereo.stereo_frame_size`).
        stereo: None or one of :data:`photo3d.camera.stereo.STEREO_MODES`.

    Returns:
        ``(width, height)`` in pixels, each >= 2.

    Raises:
        Photo3DError: If ``size`` is smaller than 2 x 2 or ``stereo`` is unknown.

    """
    if size is None:
        w, h = scene.intrinsics.width, scene.intrinsics.height
        size = (max(2, w - w % 2), max(2, h - h % 2))
        if stereo is not None:
            from .camera.stereo import stereo_frame_size

            size = stereo_frame_size(size[0], size[1], stereo)
    return size


def eye_size(frame: tuple[int, int], stereo: str | None) -> tuple[int, int]:
    """The size of one eye's view inside a frame (the inverse of :func:`photo3d.camera.stereo.stereo_frame_size`).

    Args:
        frame: ``(width, height)`` of the written frame in pixels.
        stereo: None, ``"sbs"`` (half the width), ``"tb"`` (half the height) or ``"anaglyph"`` (the frame).

    Returns:
        ``(width, height)`` of one eye in pixels.

    Raises:
        Photo3DError: If the halved side is odd.

    """
    w, h = frame
    if stereo == "sbs":
        if w % 2:
            raise Photo3DError(f"stereo sbs needs an even frame width, got {w}")
        return w // 2, h
    if stereo == "tb":
        if h % 2:
            raise Photo3DError(f"stereo tb needs an even frame height, got {h}")
        return w, h // 2
    return w, h


@dataclass
class CameraPlan:
    """Every frame's camera(s) and where the frame's pixels come from.

    Attributes:
        cameras: ``(pose, intrinsics)`` per frame (the centre between the eyes for stereo), before edge zoom.
        frame_size: ``(width, height)`` of the written frames.
        view_size: ``(width, height)`` each camera renders (smaller than one eye's area with ``contain``).
        focus: The planar depth kept still on screen (and the stereo convergence depth); with ``focus = inf``
            nothing is kept still and this is the subject's depth.
        subject: The subject found in the depth map.

    """

    cameras: list[tuple[Pose, Intrinsics]]
    frame_size: tuple[int, int]
    view_size: tuple[int, int]
    focus: float
    subject: Subject


def plan_cameras(scene: Scene, settings: RenderSettings) -> list[tuple[Pose, Intrinsics]]:
    """Every frame's camera, before any framing zoom (see :func:`plan_render` for the whole plan).

    Raises:
        Photo3DError: For an unknown or invalid trajectory.

    """
    return plan_render(scene, settings).cameras


def plan_render(scene: Scene, settings: RenderSettings) -> CameraPlan:
    """Sizes, subject, focus and every frame's camera.

    Args:
        scene: Photo, depth and camera.
        settings: Trajectory, motion, size, framing and stereo settings.

    Returns:
        The plan; its cameras are before the framing's edge zoom and, for stereo, the centre between the eyes.

    Raises:
        Photo3DError: For an unknown or invalid trajectory, or motion options it refuses.

    """
    traj = settings.trajectory if isinstance(settings.trajectory, Trajectory) else load_trajectory(settings.trajectory)
    frame = output_size(scene, settings.size, settings.stereo)
    eye = eye_size(frame, settings.stereo)
    view = contain_size(scene.intrinsics, *eye) if settings.framing == "contain" else eye
    subject = find_subject(scene.depth, scene.image)
    scale = scene_scale(scene.depth)
    # The automatic focus stays at least half the scene's reference depth away, so that no preset
    # (the dolly moves in by 0.15 of it) reaches the focus point at intensities up to 3.
    auto = max(subject.depth, 0.5 * scale)
    focus = settings.focus if settings.focus is not None else auto
    shift = float(focus) if np.isfinite(focus) else None
    base = base_output_intrinsics(scene.intrinsics, view[0], view[1], settings.framing, subject.position)
    cameras = trajectory_cameras(traj, settings.num_frames(), base, scale, settings.motion(shift))
    return CameraPlan(cameras, frame, view, shift if shift is not None else float(auto), subject)
