"""A rendering session: one pipeline for the CLI, the benchmarks, notebooks and batch runs.

A :class:`Studio` keeps what is slow to set up between photos: the headless OpenGL context, the
depth networks it has loaded and the inpainters it has made. Every way of rendering goes through it:

* :meth:`Studio.prepare` lifts a scene into a :class:`Clip`: its LDI, the mesh to render and every
  frame's camera (trajectory, framing, edge zoom, stereo eyes);
* :meth:`Studio.frames` yields the frames of a clip as (H, W, 3) uint8 arrays, exactly as the video
  shows them (framing, letterbox and stereo composition included);
* :meth:`Studio.render_clip` streams them into a video, a still or PNG frames, and writes the PLY.

:func:`render_frames` and :func:`render_clip` do the same with a session of their own, for one photo::

    import photo3d

    scene = photo3d.Scene.from_arrays(image, depth, kind="depth", fov=60)
    for frame in photo3d.render_frames(scene, photo3d.RenderSettings(trajectory="swing", frames=30)):
        ...  # (H, W, 3) uint8

    with photo3d.Studio() as studio:
        for path in photos:
            studio.render_clip(studio.load(path), path.with_suffix(".mp4"))
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .camera.framing import edge_zoom, letterbox, zoom_about
from .camera.intrinsics import Intrinsics, Pose
from .ldi.inpaint import Inpainter, make_inpainter
from .ldi.layering import LDI, build_ldi
from .mesh.triangulate import Mesh, mesh_from_ldi, simplify_tolerance
from .pipeline import CameraPlan, RenderReport, Scene, eye_size, load_scene, plan_render
from .settings import DepthSettings, RenderSettings

__all__ = ["Clip", "Studio", "render_clip", "render_frames", "render_photo"]

log = logging.getLogger(__name__)


@dataclass
class Clip:
    """A 3D photo ready to render: its LDI, the mesh to draw and every camera of the clip.

    Attributes:
        scene: The photo, its depth and camera.
        settings: The render settings (``frames`` is 1 for a still output).
        plan: Sizes, subject, focus and the trajectory's cameras (before the edge zoom; for stereo, the
            centre between the eyes).
        cameras: ``(pose, intrinsics)`` of every view drawn, in order, after the framing's edge zoom: one
            per frame, or the left and right eye of each frame with ``settings.stereo``. Each intrinsics
            is ``plan.view_size``.
        ldi: The layered depth image, with back layers sized for every camera.
        mesh: The mesh that is drawn: simplified as ``settings.simplify`` says, or one vertex per LDI sample
            (``simplify`` 0, or prepared with ``full_mesh``).
        zoom: The framing's edge zoom (1 for ``framing="none"``).
        ldi_mesh_s: Seconds spent on the LDI and the mesh.

    """

    scene: Scene
    settings: RenderSettings
    plan: CameraPlan
    cameras: list[tuple[Pose, Intrinsics]]
    ldi: LDI
    mesh: Mesh
    zoom: float
    ldi_mesh_s: float

    @property
    def num_frames(self) -> int:
        """Frames in the clip."""
        return len(self.plan.cameras)

    @property
    def frame_size(self) -> tuple[int, int]:
        """``(width, height)`` of each frame in pixels."""
        return self.plan.frame_size

    def frame_cameras(self, index: int) -> list[tuple[Pose, Intrinsics]]:
        """The views of frame ``index`` (0-based): one camera, or left and right eye with stereo.

        Raises:
            IndexError: If ``index`` is outside the clip.

        """
        if not 0 <= index < self.num_frames:
            raise IndexError(f"frame {index} is outside the clip's {self.num_frames} frames")
        per = 2 if self.settings.stereo is not None else 1
        return self.cameras[per * index : per * (index + 1)]


class Studio:
    """A session that renders many photos, keeping the OpenGL context, depth networks and inpainters.

    Args:
        depth: Where depth comes from when :meth:`load` is given no depth of its own (see
            :class:`~photo3d.settings.DepthSettings`); None: embedded depth, else the default network.
        context: A moderngl context to draw with (tests share one); None creates a headless one on
            the first render, released by :meth:`close`.

    A studio is not thread-safe: give each thread (or process) its own.

    """

    def __init__(self, depth: DepthSettings | None = None, context=None) -> None:
        self.depth = depth if depth is not None else DepthSettings()
        self._context = context
        self._own_context = context is None
        self._estimators: dict[tuple[str, str | None, int | None], object] = {}
        self._inpainters: dict[tuple[str, str | None], Inpainter] = {}

    # --- lifetime -------------------------------------------------------------------------------------------------

    @property
    def context(self):
        """The moderngl context, created on first use."""
        if self._context is None:
            from .render.renderer import create_context

            self._context = create_context()
        return self._context

    def close(self) -> None:
        """Releases the OpenGL context (if the studio created it), the networks and the inpainters."""
        if self._own_context and self._context is not None:
            self._context.release()
        self._context = None
        self._estimators.clear()
        self._inpainters.clear()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- stages ---------------------------------------------------------------------------------------------------

    def load(
        self,
        photo: str | Path,
        depth: DepthSettings | str | Path | None = None,
        fov: float | None = None,
        focal_px: float | None = None,
    ) -> Scene:
        """Reads a photo and its depth (see :func:`~photo3d.pipeline.load_scene`), reusing loaded networks.

        Args:
            photo: JPEG, PNG, TIFF, WebP or HEIC photo.
            depth: Where the depth comes from; None: the studio's :attr:`depth`; a path: a depth map file
                read with the studio's depth options.
            fov: Field of view in degrees across the longer side.
            focal_px: Focal length in pixels (overrides ``fov``).

        Raises:
            Photo3DError: For unreadable or invalid input, or a depth network that cannot run.

        """
        if depth is None:
            depth = self.depth
        elif isinstance(depth, (str, Path)):
            depth = self.depth.replace(path=Path(depth), model=None)
        return load_scene(photo, depth, fov, focal_px, estimator=self._estimator)

    def prepare(
        self, scene: Scene, settings: RenderSettings | None = None, *, still: bool = False, full_mesh: bool = False
    ) -> Clip:
        """Plans the cameras and builds the LDI and the mesh to draw.

        Args:
            scene: Photo, depth and camera.
            settings: Trajectory, timing, size, framing, stereo, LDI and mesh settings.
            still: Render one frame only (a still image output).
            full_mesh: Build the mesh with one vertex per LDI sample whatever ``settings.simplify`` says.

        Raises:
            Photo3DError: For invalid settings, an unknown trajectory or an inpainter that cannot be made.

        """
        settings = settings if settings is not None else RenderSettings()
        if still and settings.num_frames() != 1:
            settings = settings.replace(frames=1)
        plan = plan_render(scene, settings)
        cameras = _view_cameras(plan, settings)
        t0 = time.perf_counter()
        inpainter = self._inpainter(settings.inpainter, settings.device)
        ldi = build_ldi(scene.image, scene.depth, scene.intrinsics, [p for p, _ in cameras], settings.ldi, inpainter)
        simplify = settings.simplify > 0 and not full_mesh
        max_error = simplify_tolerance(cameras, settings.simplify, scene.intrinsics) if simplify else None
        mesh = mesh_from_ldi(ldi, max_error=max_error)
        ldi_mesh_s = time.perf_counter() - t0
        zoom = 1.0
        if settings.framing in ("cover", "contain"):
            # About the frame centre: with the crop moved onto the subject, the principal point is off centre.
            centre = (plan.view_size[0] / 2.0, plan.view_size[1] / 2.0)
            zoom = edge_zoom(ldi.depth[0], scene.intrinsics, cameras, center=centre)
            cameras = [(pose, zoom_about(k, zoom, centre)) for pose, k in cameras]
        return Clip(scene, settings, plan, cameras, ldi, mesh, zoom, ldi_mesh_s)

    def frames(
        self,
        clip: Clip | Scene,
        settings: RenderSettings | None = None,
        indices: Iterable[int] | None = None,
        on_start: Callable[[str], None] | None = None,
    ) -> Generator[np.ndarray, None, None]:
        """Yields the frames of a clip, exactly as the video shows them.

        Args:
            clip: A prepared clip, or a scene to prepare with ``settings``.
            settings: The render settings of a scene (ignored for a clip).
            indices: The frames to draw (0-based, any order); None: all of them in order.
            on_start: Called once with the OpenGL renderer's name before the first frame.

        Yields:
            (height, width, 3) uint8 sRGB frames of ``clip.frame_size``: framed, letterboxed (``contain``)
            and with both eyes composed (``stereo``).

        Raises:
            Photo3DError: For invalid settings, or a framebuffer larger than the GPU allows.
            IndexError: For an index outside the clip.

        """
        from .camera.stereo import compose_stereo
        from .render.renderer import Renderer

        if isinstance(clip, Scene):
            clip = self.prepare(clip, settings)
        s = clip.settings
        view = clip.plan.view_size
        eye = eye_size(clip.frame_size, s.stereo)
        order = range(clip.num_frames) if indices is None else indices
        with Renderer(view[0], view[1], s.ssaa, msaa=s.msaa, context=self.context) as renderer:
            if on_start:
                on_start(renderer.renderer_name)
            renderer.upload(clip.mesh)
            for index in order:
                views = [renderer.render(pose, k) for pose, k in clip.frame_cameras(index)]
                if eye != view:
                    views = [letterbox(v, eye[0], eye[1]) for v in views]
                yield compose_stereo(views[0], views[1], s.stereo) if s.stereo is not None else views[0]

    def render_clip(
        self,
        scene: Scene,
        out: str | Path | None,
        settings: RenderSettings | None = None,
        ply: str | Path | None = None,
        on_frame: Callable[[int, int], None] | None = None,
        on_start: Callable[[str], None] | None = None,
    ) -> RenderReport:
        """Renders a scene into a video, a still or PNG frames, and writes its mesh as a PLY.

        Args:
            scene: Photo, depth and camera.
            out: Video file (``.mp4``, ``.webm``, ``.gif``), still image (``.png``, ``.jpg``: the first
                frame) or directory for PNG frames; None renders no video.
            settings: Trajectory, timing, size, SSAA, framing, stereo and encoding.
            ply: Where to write the mesh (one vertex per LDI sample) as a binary PLY, or None.
            on_frame: Progress callback ``(frames_done, frames_total)``.
            on_start: Called once with the OpenGL renderer's name before the first frame.

        Returns:
            What was done, with timings (see :class:`~photo3d.pipeline.RenderReport`).

        Raises:
            Photo3DError: For invalid settings or outputs that cannot be written.

        """
        from .io.outputs import check_writable
        from .io.ply import write_ply
        from .io.video import is_still, open_writer

        settings = settings if settings is not None else RenderSettings()
        for target in (out, ply):
            if target is not None:
                check_writable(Path(target))
        # Without a video only the PLY's full mesh is needed.
        clip = self.prepare(scene, settings, still=out is not None and is_still(out), full_mesh=out is None)
        settings = clip.settings
        full = clip.mesh if (out is None or settings.simplify == 0) else None
        report = RenderReport(
            focus=clip.plan.focus, layers=clip.ldi.num_layers, band_px=clip.ldi.band_px, zoom=clip.zoom
        )
        report.timings["ldi_mesh"] = clip.ldi_mesh_s
        report.vertices, report.faces = clip.mesh.num_vertices, clip.mesh.num_faces
        if ply is not None:
            t0 = time.perf_counter()
            full = full if full is not None else mesh_from_ldi(clip.ldi)
            write_ply(ply, full, scene.intrinsics)
            report.timings["ply"] = time.perf_counter() - t0
        if full is not None:
            report.faces_full = full.num_faces
        if out is None:
            report.zoom = 1.0
            return report
        report.size, report.frames = clip.frame_size, clip.num_frames
        t0 = time.perf_counter()

        def started(name: str) -> None:
            report.renderer = name
            if on_start:
                on_start(name)

        width, height = clip.frame_size
        with (
            open_writer(
                out, width, height, settings.fps, crf=settings.crf, codec=settings.codec, preset=settings.encoder_preset
            ) as writer,
            closing(self.frames(clip, on_start=started)) as frames,
        ):
            for done, frame in enumerate(frames, start=1):
                writer.write(frame)
                if on_frame:
                    on_frame(done, report.frames)
        report.timings["render"] = time.perf_counter() - t0
        return report

    # --- cached resources -----------------------------------------------------------------------------------------

    def _estimator(self, model: str, device: str | None, resolution: int | None):
        key = (model, device, resolution)
        if key not in self._estimators:
            from .depth.estimate import DepthEstimator

            self._estimators[key] = DepthEstimator(model, device=device, resolution=resolution)
        return self._estimators[key]

    def _inpainter(self, spec: str | Inpainter, device: str | None) -> Inpainter:
        if not isinstance(spec, str):
            return make_inpainter(spec, device)
        key = (spec, device)
        if key not in self._inpainters:
            self._inpainters[key] = make_inpainter(spec, device)
        return self._inpainters[key]


def _view_cameras(plan: CameraPlan, settings: RenderSettings) -> list[tuple[Pose, Intrinsics]]:
    """Every camera to draw, in order: one per frame, or left and right eye per frame with ``stereo``."""
    if settings.stereo is None:
        return list(plan.cameras)
    from .camera.stereo import stereo_cameras

    lefts, rights = stereo_cameras(plan.cameras, settings.baseline * plan.focus, plan.focus)
    return [camera for pair in zip(lefts, rights, strict=True) for camera in pair]


def render_frames(
    scene: Scene, settings: RenderSettings | None = None, indices: Iterable[int] | None = None
) -> Iterator[np.ndarray]:
    """Yields a scene's frames as arrays, exactly as the video would show them (see :meth:`Studio.frames`).

    Args:
        scene: Photo, depth and camera (e.g. :meth:`~photo3d.pipeline.Scene.from_arrays`).
        settings: Trajectory, size, framing, stereo and quality.
        indices: The frames to draw (0-based); None: all of them in order.

    Yields:
        (height, width, 3) uint8 sRGB frames.

    Raises:
        Photo3DError: For invalid settings.

    """
    with Studio() as studio:
        yield from studio.frames(scene, settings, indices)


def render_clip(
    scene: Scene,
    out: str | Path | None,
    settings: RenderSettings | None = None,
    ply: str | Path | None = None,
    on_frame: Callable[[int, int], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> RenderReport:
    """Renders a scene into ``out`` (and a PLY) with a session of its own (see :meth:`Studio.render_clip`)."""
    with Studio() as studio:
        return studio.render_clip(scene, out, settings, ply, on_frame, on_start)


render_photo = render_clip
"""The earlier name of :func:`render_clip`."""
