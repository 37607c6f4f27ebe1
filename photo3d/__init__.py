"""photo3d: one photo in, a living 3D photo out.

The public API, stage by stage (each takes and returns plain arrays and small dataclasses):

* input: :func:`load_image`, :func:`load_depth`, :func:`read_embedded_depth`, :func:`load_scene`
  with :class:`DepthSettings`
* depth estimation: :class:`DepthEstimator`
* camera: :class:`Intrinsics`, :class:`Pose`
* LDI: :func:`build_ldi`, :class:`LDI`, :class:`LDIParams`; inpainters: :func:`make_inpainter`,
  :class:`ClassicalInpainter`, the :class:`Inpainter` protocol
* mesh: :func:`mesh_from_ldi` (with adaptive simplification), :func:`simplify_tolerance`, :class:`Mesh`
* trajectories: :func:`load_trajectory`, :func:`trajectory_cameras` with :class:`Motion`
* framing and stereo: :func:`find_subject`, :func:`eye_cameras`, :func:`compose_stereo`
* rendering: :class:`Renderer`
* outputs: :func:`open_writer`, :func:`write_ply`
* everything at once: :func:`render_frames` (arrays) and :func:`render_clip` (files) with
  :class:`RenderSettings`; :class:`Studio` keeps the OpenGL context and networks between photos
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Photo3DError": "errors",
    "Intrinsics": "camera.intrinsics",
    "Pose": "camera.intrinsics",
    "load_image": "io.image",
    "load_depth": "depth.conversions",
    "DepthOptions": "depth.conversions",
    "read_embedded_depth": "io.embedded",
    "DepthEstimator": "depth.estimate",
    "DepthSettings": "settings",
    "export_depth_maps": "pipeline",
    "LDI": "ldi.structure",
    "LDIParams": "ldi.structure",
    "build_ldi": "ldi.layering",
    "Inpainter": "ldi.inpaint",
    "ClassicalInpainter": "ldi.inpaint",
    "make_inpainter": "ldi.inpaint",
    "Mesh": "mesh.triangulate",
    "mesh_from_ldi": "mesh.triangulate",
    "simplify_tolerance": "mesh.triangulate",
    "load_trajectory": "camera.trajectory_files",
    "trajectory_cameras": "camera.trajectory",
    "Motion": "camera.trajectory",
    "Trajectory": "camera.trajectory",
    "find_subject": "camera.framing",
    "eye_cameras": "camera.stereo",
    "compose_stereo": "camera.stereo",
    "Renderer": "render.renderer",
    "open_writer": "io.video",
    "write_ply": "io.ply",
    "Scene": "pipeline",
    "RenderSettings": "settings",
    "SettingsError": "errors",
    "RenderReport": "pipeline",
    "load_scene": "pipeline",
    "Clip": "session",
    "Studio": "session",
    "render_clip": "session",
    "render_frames": "session",
    "render_photo": "session",
    "make_sample_scene": "sample",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # what editors and type checkers see; at run time the names load lazily
    from .camera.framing import find_subject as find_subject
    from .camera.intrinsics import Intrinsics as Intrinsics
    from .camera.intrinsics import Pose as Pose
    from .camera.stereo import compose_stereo as compose_stereo
    from .camera.stereo import eye_cameras as eye_cameras
    from .camera.trajectory import Motion as Motion
    from .camera.trajectory import Trajectory as Trajectory
    from .camera.trajectory import trajectory_cameras as trajectory_cameras
    from .camera.trajectory_files import load_trajectory as load_trajectory
    from .depth.conversions import DepthOptions as DepthOptions
    from .depth.conversions import load_depth as load_depth
    from .depth.estimate import DepthEstimator as DepthEstimator
    from .errors import Photo3DError as Photo3DError
    from .errors import SettingsError as SettingsError
    from .io.embedded import read_embedded_depth as read_embedded_depth
    from .io.image import load_image as load_image
    from .io.ply import write_ply as write_ply
    from .io.video import open_writer as open_writer
    from .ldi.inpaint import (
        ClassicalInpainter as ClassicalInpainter,
    )
    from .ldi.inpaint import (
        Inpainter as Inpainter,
    )
    from .ldi.inpaint import (
        make_inpainter as make_inpainter,
    )
    from .ldi.layering import build_ldi as build_ldi
    from .ldi.structure import LDI as LDI
    from .ldi.structure import LDIParams as LDIParams
    from .mesh.triangulate import Mesh as Mesh
    from .mesh.triangulate import mesh_from_ldi as mesh_from_ldi
    from .mesh.triangulate import simplify_tolerance as simplify_tolerance
    from .pipeline import (
        RenderReport as RenderReport,
    )
    from .pipeline import (
        Scene as Scene,
    )
    from .pipeline import (
        export_depth_maps as export_depth_maps,
    )
    from .pipeline import (
        load_scene as load_scene,
    )
    from .render.renderer import Renderer as Renderer
    from .sample import make_sample_scene as make_sample_scene
    from .session import (
        Clip as Clip,
    )
    from .session import (
        Studio as Studio,
    )
    from .session import (
        render_clip as render_clip,
    )
    from .session import (
        render_frames as render_frames,
    )
    from .session import (
        render_photo as render_photo,
    )
    from .settings import DepthSettings as DepthSettings
    from .settings import RenderSettings as RenderSettings


def __getattr__(name: str):
    """Imports the public names lazily, so ``import photo3d`` and the CLI start fast."""
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'photo3d' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's own names and every public name, loaded or not."""
    return sorted(set(globals()) | set(__all__))
