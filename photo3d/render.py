"""Headless OpenGL rendering of LDI meshes with moderngl.

The renderer takes a :class:`~photo3d.mesh.Mesh` and cameras (an
:class:`~photo3d.camera.Intrinsics` and a :class:`~photo3d.camera.Pose`);
it knows nothing of photos or files. It opens a standalone EGL context, which
is a real GPU where there is one and Mesa's llvmpipe on CPU-only machines,
draws with the depth test on into a framebuffer ``ssaa`` times the output size,
resolves that on the GPU with a box (area) filter, and reads back one
``(H, W, 3) uint8`` frame per call.
"""

from __future__ import annotations

import logging

import numpy as np

from .camera import Intrinsics, Pose
from .errors import Photo3DError
from .glsl import load_program_sources
from .mesh import Mesh

__all__ = ["Renderer", "create_context"]

log = logging.getLogger(__name__)


def create_context(backend: str | None = None):
    """A standalone (headless) moderngl context, OpenGL 3.3 core or newer.

    Args:
        backend: ``"egl"`` (default on Linux: no display needed) or ``None`` to
            let moderngl choose (the platform default elsewhere).

    Returns:
        A ``moderngl.Context``.

    Raises:
        Photo3DError: If no context can be created (missing EGL/Mesa libraries).

    """
    import sys

    import moderngl

    tries = [backend] if backend else (["egl", None] if sys.platform.startswith("linux") else [None])
    errors = []
    for b in tries:
        try:
            kwargs = {"backend": b} if b else {}
            return moderngl.create_standalone_context(require=330, **kwargs)
        except Exception as exc:  # moderngl raises plain Exception subclasses per backend
            errors.append(f"{b or 'default'}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    raise Photo3DError(
        "cannot create a headless OpenGL context (" + "; ".join(errors) + "); on Debian/Ubuntu install it with "
        "'apt-get install -y --no-install-recommends libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri'"
    )


class Renderer:
    """Renders meshes into ``width`` x ``height`` RGB frames with SSAA.

    Args:
        width: Output width in pixels.
        height: Output height in pixels.
        ssaa: Supersampling factor K >= 1: the scene is drawn at K*width x
            K*height and each output pixel is the mean of its K x K block.
        background: RGB colour, 0-255, for pixels no triangle covers (with ``fill_holes`` off).
        fill_holes: Fill pixels no triangle covers (cracks, gaps wider than the back
            layers, the frame edge) from the nearest covered ones, through the
            supersampled image's mipmaps; off, they show ``background``.
        context: An existing moderngl context to share (tests use one per session);
            by default a new headless one is created and released with the renderer.

    Raises:
        Photo3DError: If no OpenGL context can be created, or the supersampled
            framebuffer exceeds the GPU's maximum size.

    """

    def __init__(
        self,
        width: int,
        height: int,
        ssaa: int = 2,
        background: tuple[int, int, int] = (0, 0, 0),
        fill_holes: bool = True,
        context=None,
    ) -> None:
        if ssaa < 1:
            raise Photo3DError(f"--ssaa must be at least 1, got {ssaa}")
        self.width, self.height, self.ssaa = int(width), int(height), int(ssaa)
        self._own_context = context is None
        self.ctx = context if context is not None else create_context()
        ctx = self.ctx
        max_size = ctx.info.get("GL_MAX_RENDERBUFFER_SIZE", 16384)
        big = (self.width * self.ssaa, self.height * self.ssaa)
        if max(big) > max_size:
            raise Photo3DError(
                f"--ssaa {ssaa} at {width}x{height} needs a {big[0]}x{big[1]} framebuffer, "
                f"above this GPU's limit of {max_size}; lower --ssaa or --size"
            )
        self.background = tuple(c / 255.0 for c in background)
        self.fill_holes = fill_holes
        self._mesh_program = ctx.program(**load_program_sources("mesh.glsl"))
        self._big_color = ctx.texture(big, 4)
        self._big_color.filter = (ctx.LINEAR_MIPMAP_NEAREST, ctx.LINEAR) if fill_holes else (ctx.NEAREST, ctx.NEAREST)
        self._levels = int(np.floor(np.log2(max(big)))) + 1
        self._big_fbo = ctx.framebuffer([self._big_color], ctx.depth_renderbuffer(big))
        defines = {"FACTOR": self.ssaa, "FILL_HOLES": int(fill_holes)}
        self._resolve = ctx.program(**load_program_sources("downsample.glsl", defines))
        self._small_fbo = ctx.framebuffer([ctx.renderbuffer((self.width, self.height), 4)])
        self._resolve_vao = ctx.vertex_array(self._resolve, [])
        self._vao = None
        self._buffers: list = []
        self._depth_range = (1.0, 1.0)

    @property
    def renderer_name(self) -> str:
        """The OpenGL renderer string, e.g. ``"llvmpipe (LLVM 15.0.6, 256 bits)"`` or a GPU's name."""
        return f"{self.ctx.info['GL_RENDERER']} (OpenGL {self.ctx.info['GL_VERSION']})"

    def upload(self, mesh: Mesh) -> None:
        """Copies a mesh to the GPU, replacing any previous one.

        Raises:
            Photo3DError: If the mesh has no faces.

        """
        if mesh.num_faces == 0:
            raise Photo3DError("the mesh has no triangles to render")
        self._release_mesh()
        ctx = self.ctx
        pos = ctx.buffer(np.ascontiguousarray(mesh.vertices, dtype="f4").tobytes())
        # Colours padded to 4 bytes per vertex: aligned attributes fetch faster (llvmpipe: about 25 %).
        rgba = np.empty((mesh.num_vertices, 4), np.uint8)
        rgba[:, :3] = mesh.colors
        rgba[:, 3] = 255
        col = ctx.buffer(rgba.tobytes())
        idx = ctx.buffer(np.ascontiguousarray(mesh.faces, dtype="u4").tobytes())
        self._buffers = [pos, col, idx]
        self._vao = ctx.vertex_array(
            self._mesh_program,
            [(pos, "3f", "in_position"), (col, "3f1 x1", "in_color")],
            index_buffer=idx,
            index_element_size=4,
        )
        z = mesh.vertices[:, 2]
        self._depth_range = (float(z.min()), float(z.max()))

    def _clip_planes(self, pose: Pose) -> tuple[float, float]:
        zmin, zmax = self._depth_range
        reach = float(np.linalg.norm(pose.position))
        near = max(0.5 * (zmin - reach), 1e-3 * zmin, 1e-9)
        far = 2.0 * (zmax + reach)
        return near, far

    def render(self, pose: Pose, intrinsics: Intrinsics) -> np.ndarray:
        """Draws the uploaded mesh from one camera.

        Args:
            pose: The render camera in the source camera's frame.
            intrinsics: Its intrinsics; ``intrinsics.width`` x ``intrinsics.height``
                must equal the renderer's output size.

        Returns:
            (height, width, 3) uint8 RGB frame, image row 0 first.

        Raises:
            RuntimeError: If no mesh was uploaded.
            ValueError: If the intrinsics' image size differs from the renderer's.

        """
        if self._vao is None:
            raise RuntimeError("Renderer.render called before Renderer.upload")
        if (intrinsics.width, intrinsics.height) != (self.width, self.height):
            raise ValueError(
                f"intrinsics are for {intrinsics.width}x{intrinsics.height} "
                f"but the renderer is {self.width}x{self.height}"
            )
        ctx = self.ctx
        near, far = self._clip_planes(pose)
        self._mesh_program["u_world_to_camera"].write(pose.world_to_camera().astype("f4").T.tobytes())
        self._mesh_program["u_clip"].write(intrinsics.clip_matrix(near, far).T.tobytes())
        self._big_fbo.use()
        ctx.enable(ctx.DEPTH_TEST)
        ctx.disable(ctx.CULL_FACE)
        self._big_fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        self._vao.render()
        ctx.disable(ctx.DEPTH_TEST)
        if self.fill_holes:
            self._big_color.build_mipmaps()
        self._small_fbo.use()
        self._big_color.use(0)
        self._resolve["u_image"].value = 0
        self._resolve["u_background"].value = self.background
        if self.fill_holes:
            self._resolve["u_levels"].value = self._levels
        self._resolve_vao.render(vertices=3)
        fbo = self._small_fbo
        data = fbo.read(components=3, alignment=1)
        return np.frombuffer(data, dtype=np.uint8).reshape(self.height, self.width, 3)

    def _release_mesh(self) -> None:
        if self._vao is not None:
            self._vao.release()
            self._vao = None
        for b in self._buffers:
            b.release()
        self._buffers = []

    def release(self) -> None:
        """Frees GPU resources (and the context, if the renderer created it)."""
        self._release_mesh()
        if self._own_context:
            self.ctx.release()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
