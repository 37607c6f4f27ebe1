"""The end-to-end pipeline: photo and depth in, LDI and mesh, video frames and PLY out.

Data flows one way: :func:`load_scene` (input) -> :func:`build_3d_photo` (LDI,
mesh) -> :func:`plan_cameras` (trajectory, framing) -> :func:`render_frames`
(renderer into a writer) and :func:`photo3d.export.write_ply`. :func:`render_photo`
runs them all; it is what ``photo3d render`` calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .camera import Intrinsics, Pose
from .errors import Photo3DError
from .framing import FRAMINGS, base_output_intrinsics, edge_zoom
from .ldi import LDI, LDIParams, build_ldi
from .mesh import Mesh, mesh_from_ldi
from .trajectory import load_trajectory, scene_scale, trajectory_cameras

__all__ = [
    "RenderReport",
    "RenderSettings",
    "Scene",
    "build_3d_photo",
    "load_scene",
    "plan_cameras",
    "render_frames",
    "render_photo",
]

log = logging.getLogger(__name__)


@dataclass
class Scene:
    """A photo with its depth and camera.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        depth: (H, W) float32 planar depth, finite and positive, in the depth map's units.
        intrinsics: The source camera.

    """

    image: np.ndarray
    depth: np.ndarray
    intrinsics: Intrinsics


@dataclass
class RenderSettings:
    """How to render a 3D photo.

    Attributes:
        trajectory: Preset name (see ``photo3d trajectories``) or path to a trajectory TOML file.
        fps: Frames per second of the video.
        duration: Length of the video in seconds (ignored when ``frames`` is set).
        frames: Exact number of frames; None derives it from ``duration * fps``.
        size: Output ``(width, height)`` in pixels; None uses the photo's size rounded down to even numbers.
        ssaa: Supersampling factor: frames are drawn at ``ssaa`` times the size and box-filtered down.
        framing: ``"cover"``: fill the frame and zoom in just enough to keep the photo's edge out of view;
            ``"none"``: the source camera's focal length and pixel grid, nothing added.
        crf: Video quality for H.264/VP9 (lower is better; 18 is visually lossless).
        ldi: LDI construction settings.

    """

    trajectory: str = "dolly"
    fps: float = 30.0
    duration: float = 4.0
    frames: int | None = None
    size: tuple[int, int] | None = None
    ssaa: int = 2
    framing: str = "cover"
    crf: int = 18
    ldi: LDIParams = field(default_factory=LDIParams)

    def num_frames(self) -> int:
        """Number of frames to render (at least 1)."""
        if self.frames is not None:
            if self.frames < 1:
                raise Photo3DError(f"--frames must be at least 1, got {self.frames}")
            return int(self.frames)
        if not self.fps > 0 or not self.duration > 0:
            raise Photo3DError(f"--fps and --duration must be positive, got {self.fps} and {self.duration}")
        return max(1, round(self.duration * self.fps))


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
        vertices: Mesh vertex count.
        faces: Mesh triangle count.
        timings: Seconds per stage: ``load``, ``ldi_mesh``, ``render`` (render plus encode,
            overlapped), ``ply``.

    """

    renderer: str = ""
    size: tuple[int, int] = (0, 0)
    frames: int = 0
    layers: int = 0
    band_px: int = 0
    zoom: float = 1.0
    vertices: int = 0
    faces: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def load_scene(
    image_path: str | Path,
    depth_path: str | Path | None,
    depth_kind: str = "auto",
    fov: float | None = None,
    focal_px: float | None = None,
) -> Scene:
    """Reads a photo and its depth map and sets up the source camera.

    Args:
        image_path: JPEG, PNG, TIFF or WebP photo.
        depth_path: 8/16-bit PNG or ``.npy`` depth map.
        depth_kind: ``"auto"``, ``"depth"`` or ``"disparity"`` (see :mod:`photo3d.depth`).
        fov: Field of view in degrees across the longer side (default 53.13).
        focal_px: Focal length in pixels; overrides ``fov``.

    Raises:
        Photo3DError: For a missing depth map or any unreadable or invalid input.

    """
    from .camera import DEFAULT_FOV_DEG
    from .depth import load_depth
    from .image import load_image

    if depth_path is None:
        raise Photo3DError(missing_depth_message())
    image = load_image(image_path)
    h, w = image.shape[:2]
    depth = load_depth(depth_path, w, h, kind=depth_kind)
    if focal_px is not None:
        if not focal_px > 0:
            raise Photo3DError(f"--focal-px must be positive, got {focal_px}")
        intrinsics = Intrinsics.from_focal(w, h, focal_px)
    else:
        intrinsics = Intrinsics.from_fov(w, h, DEFAULT_FOV_DEG if fov is None else fov)
    return Scene(image=image, depth=depth, intrinsics=intrinsics)


def missing_depth_message() -> str:
    """The one-line error for a render without a depth map."""
    return (
        "no depth map given: pass --depth PATH (an 8/16-bit PNG or .npy of the photo's size; "
        "--depth-kind disparity|depth); estimating depth from the photo alone is not available yet"
    )


def output_size(scene: Scene, size: tuple[int, int] | None) -> tuple[int, int]:
    """The output ``(width, height)``: ``size``, or the photo's size rounded down to even numbers."""
    if size is None:
        w, h = scene.intrinsics.width, scene.intrinsics.height
        size = (max(2, w - w % 2), max(2, h - h % 2))
    if size[0] < 2 or size[1] < 2:
        raise Photo3DError(f"--size must be at least 2x2, got {size[0]}x{size[1]}")
    return size


def plan_cameras(scene: Scene, settings: RenderSettings) -> list[tuple[Pose, Intrinsics]]:
    """Every frame's camera, before any framing zoom.

    Raises:
        Photo3DError: For an unknown trajectory or framing, or invalid frame counts.

    """
    if settings.framing not in FRAMINGS:
        raise Photo3DError(f"--framing must be one of {', '.join(FRAMINGS)}, got {settings.framing!r}")
    traj = load_trajectory(settings.trajectory)
    width, height = output_size(scene, settings.size)
    base = base_output_intrinsics(scene.intrinsics, width, height, settings.framing)
    return trajectory_cameras(traj, settings.num_frames(), base, scene_scale(scene.depth))


def build_3d_photo(scene: Scene, poses: list[Pose] | None = None, params: LDIParams = LDIParams()) -> tuple[LDI, Mesh]:
    """Lifts a scene into an LDI and triangulates it.

    Args:
        scene: Photo, depth and camera.
        poses: The trajectory's poses, which size the back layers.
        params: LDI settings.

    """
    ldi = build_ldi(scene.image, scene.depth, scene.intrinsics, poses, params)
    return ldi, mesh_from_ldi(ldi)


def render_frames(
    mesh: Mesh,
    cameras: list[tuple[Pose, Intrinsics]],
    out: str | Path,
    fps: float,
    ssaa: int = 2,
    crf: int = 18,
    on_frame: Callable[[int], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> str:
    """Renders the mesh from each camera and streams the frames into ``out``.

    Args:
        mesh: The mesh.
        cameras: ``(pose, intrinsics)`` per frame, all the same image size.
        out: ``.mp4``, ``.webm``, ``.gif``, or a directory for a PNG sequence.
        fps: Frames per second.
        ssaa: Supersampling factor.
        crf: Encoder quality.
        on_frame: Called with the number of frames written after each frame.
        on_start: Called once with the OpenGL renderer's name.

    Returns:
        The OpenGL renderer's name.

    """
    from .render import Renderer
    from .video import open_writer

    k0 = cameras[0][1]
    with Renderer(k0.width, k0.height, ssaa) as renderer, open_writer(out, k0.width, k0.height, fps, crf=crf) as writer:
        if on_start:
            on_start(renderer.renderer_name)
        renderer.upload(mesh)
        for i, (pose, k) in enumerate(cameras):
            writer.write(renderer.render(pose, k))
            if on_frame:
                on_frame(i + 1)
        return renderer.renderer_name


def render_photo(
    scene: Scene,
    out: str | Path | None,
    settings: RenderSettings = RenderSettings(),
    ply: str | Path | None = None,
    on_frame: Callable[[int, int], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> RenderReport:
    """Runs the whole pipeline on a loaded scene.

    Args:
        scene: Photo, depth and camera (see :func:`load_scene`).
        out: Video file (``.mp4``, ``.webm``, ``.gif``) or directory for PNG frames; None renders no video.
        settings: Trajectory, timing, size, SSAA and framing.
        ply: Where to write the mesh as a binary PLY, or None.
        on_frame: Progress callback ``(frames_done, frames_total)``.
        on_start: Called once with the OpenGL renderer's name before the first frame.

    Returns:
        A :class:`RenderReport`.

    Raises:
        Photo3DError: For invalid settings or outputs that cannot be written.

    """
    from .export import write_ply
    from .outputs import check_writable

    for target in (out, ply):
        if target is not None:
            check_writable(Path(target))
    report = RenderReport()
    cameras = plan_cameras(scene, settings)
    t0 = time.perf_counter()
    ldi, mesh = build_3d_photo(scene, [p for p, _ in cameras], settings.ldi)
    report.timings["ldi_mesh"] = time.perf_counter() - t0
    report.layers, report.band_px = ldi.num_layers, ldi.band_px
    report.vertices, report.faces = mesh.num_vertices, mesh.num_faces
    if ply is not None:
        t0 = time.perf_counter()
        write_ply(ply, mesh, scene.intrinsics)
        report.timings["ply"] = time.perf_counter() - t0
    if out is None:
        return report
    if settings.framing == "cover":
        report.zoom = edge_zoom(ldi.depth[0], scene.intrinsics, cameras)
        cameras = [(pose, k.zoomed(report.zoom)) for pose, k in cameras]
    report.size = (cameras[0][1].width, cameras[0][1].height)
    report.frames = len(cameras)
    t0 = time.perf_counter()
    report.renderer = render_frames(
        mesh,
        cameras,
        out,
        settings.fps,
        settings.ssaa,
        settings.crf,
        on_frame=(lambda i: on_frame(i, len(cameras))) if on_frame else None,
        on_start=on_start,
    )
    report.timings["render"] = time.perf_counter() - t0
    return report
