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
    "DepthSettings": "pipeline",
    "export_depth_maps": "pipeline",
    "LDI": "ldi.layering",
    "LDIParams": "ldi.layering",
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
    "find_subject": "camera.framing",
    "eye_cameras": "camera.stereo",
    "compose_stereo": "camera.stereo",
    "Renderer": "render.renderer",
    "open_writer": "io.video",
    "write_ply": "io.ply",
    "Scene": "pipeline",
    "RenderSettings": "pipeline",
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


def __getattr__(name: str):
    """Imports the public names lazily, so ``import photo3d`` and the CLI start fast."""
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'photo3d' has no attribute {name!r}")
