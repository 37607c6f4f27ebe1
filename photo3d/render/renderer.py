"""Headless OpenGL rendering of LDI meshes with moderngl.

The renderer takes a :class:`~photo3d.mesh.triangulate.Mesh` and cameras (an
:class:`~photo3d.camera.intrinsics.Intrinsics` and a :class:`~photo3d.camera.intrinsics.Pose`);
it knows nothing of photos or files. It opens a standalone EGL context, which
is a real GPU where there is one and Mesa's llvmpipe on CPU-only machines, and
for each frame:

1. draws the mesh with the depth test on into a supersampled framebuffer,
   ``round(ssaa * width)`` x ``round(ssaa * height)`` (``ssaa`` in [1, 4], not
   necessarily an integer), optionally multisampled (``msaa`` samples, resolved in
   linear light by ``shaders/msaa_resolve.glsl``);
2. resolves it on the GPU to the output size with an area-weighted box filter
   over each output pixel's exact footprint, in linear light
   (``shaders/downsample.glsl``), filling uncovered pixels from the mipmaps;
3. reads back one ``(H, W, 3) uint8`` sRGB frame.

Colours are sRGB-encoded 8-bit values everywhere they are stored; only the
resolves decode them (exact IEC 61966-2-1 transfer functions,
``shaders/srgb.glsl``). Meshes may be textured (:attr:`Mesh.textures`): each LDI
layer's colour image becomes one layer of a mipmapped texture array.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import numpy as np

from ..camera.intrinsics import Intrinsics, Pose
from ..errors import Photo3DError, SettingsError
from ..mesh.triangulate import Mesh
from .glsl import load_program_sources

if TYPE_CHECKING:
    import moderngl

__all__ = ["MSAA_CHOICES", "Renderer", "check_antialiasing", "create_context"]

log = logging.getLogger(__name__)

MSAA_CHOICES = (0, 2, 4, 8)
"""Accepted ``msaa`` sample counts (0 = off)."""

SSAA_RANGE = (1.0, 4.0)


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
            # moderngl's stub types each **settings value as a dict, but backend is a str
            return moderngl.create_standalone_context(require=330, **kwargs)  # type: ignore[arg-type]
        except Exception as exc:  # moderngl raises plain Exception subclasses per backend
            errors.append(f"{b or 'default'}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    raise Photo3DError(
        "cannot create a headless OpenGL context (" + "; ".join(errors) + "); on Debian/Ubuntu install it with "
        "'apt-get install -y --no-install-recommends libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri'"
    )


def check_antialiasing(ssaa: float, msaa: int) -> None:
    """Fails fast on an SSAA factor outside [1, 4] or MSAA samples not in :data:`MSAA_CHOICES`.

    Raises:
        Photo3DError: With a one-line message naming ``--ssaa`` or ``--msaa``.

    """
    _check_ssaa(ssaa)
    if msaa not in MSAA_CHOICES:
        raise SettingsError("msaa", f"must be one of {', '.join(map(str, MSAA_CHOICES))}, got {msaa}")


def _check_ssaa(ssaa: float) -> float:
    try:
        value = float(ssaa)
    except (TypeError, ValueError):
        raise SettingsError("ssaa", f"must be a number from 1 to 4, got {ssaa!r}") from None
    if not SSAA_RANGE[0] <= value <= SSAA_RANGE[1]:  # also refuses NaN
        raise SettingsError("ssaa", f"must be from 1 to 4, got {ssaa}")
    return value


def _taps(big: int, out: int) -> int:
    """Most texels one output pixel's footprint ``[p big/out, (p+1) big/out)`` overlaps, over all pixels p."""
    p = np.arange(out, dtype=np.int64)
    first = p * big // out
    end = -((-(p + 1) * big) // out)  # ceil
    return int((end - first).max())


class Renderer:
    """Renders meshes into ``width`` x ``height`` RGB frames with SSAA (and optional MSAA).

    Args:
        width: Output width in pixels.
        height: Output height in pixels.
        ssaa: Supersampling factor s in [1, 4], fractional allowed: the scene is
            drawn at ``round(s * width)`` x ``round(s * height)`` and each output
            pixel is the area-weighted mean, in linear light, of the texels its
            footprint overlaps (an s x s block for an integer s). 1 = off.
        msaa: Multisample anti-aliasing samples per supersampled texel, one of
            0 (off), 2, 4, 8. A count above the context's maximum is lowered to it
            (with a logged warning). MSAA smooths triangle edges only (colour is
            shaded once per texel); SSAA also filters texture and vertex-colour detail.
        background: RGB colour, 0-255, for pixels no triangle covers (with ``fill_holes`` off).
        fill_holes: Fill pixels no triangle covers (cracks, gaps wider than the back
            layers, the frame edge) from the nearest covered ones, through the
            supersampled image's mipmaps; off, they show ``background``.
        context: An existing moderngl context to share (tests use one per session);
            by default a new headless one is created and released with the renderer.

    Attributes:
        ssaa: The supersampling factor, a float.
        msaa: The MSAA samples in use after clamping (0 = off).
        big_size: ``(width, height)`` of the supersampled framebuffer, in texels.

    Raises:
        Photo3DError: If ``ssaa`` is outside [1, 4], ``msaa`` is not one of 0, 2,
            4, 8, no OpenGL context can be created, or the supersampled
            framebuffer exceeds the GPU's maximum size.

    """

    def __init__(
        self,
        width: int,
        height: int,
        ssaa: float = 2,
        msaa: int = 0,
        background: tuple[int, int, int] = (0, 0, 0),
        fill_holes: bool = True,
        context=None,
    ) -> None:
        check_antialiasing(ssaa, msaa)
        self.ssaa = float(ssaa)
        self.width, self.height = int(width), int(height)
        big = (int(math.floor(self.width * self.ssaa + 0.5)), int(math.floor(self.height * self.ssaa + 0.5)))
        self.big_size = big
        self._own_context = context is None
        self.ctx = context if context is not None else create_context()
        ctx = self.ctx
        max_size = ctx.info.get("GL_MAX_RENDERBUFFER_SIZE", 16384)
        if max(big) > max_size:
            self._release_context()
            raise SettingsError(
                "ssaa",
                f"{ssaa} at {width}x{height} needs a {big[0]}x{big[1]} framebuffer, "
                f"above this GPU's limit of {max_size}; lower it or the output size",
            )
        max_samples = min(
            int(ctx.max_samples),
            int(ctx.info.get("GL_MAX_COLOR_TEXTURE_SAMPLES", ctx.max_samples)),
            int(ctx.info.get("GL_MAX_DEPTH_TEXTURE_SAMPLES", ctx.max_samples)),
        )
        self.msaa = int(msaa)
        if self.msaa > max_samples:
            lowered = max(c for c in MSAA_CHOICES if c <= max_samples)
            log.warning("msaa %d is above this GPU's maximum of %d samples; using %d", msaa, max_samples, lowered)
            self.msaa = lowered
        self.background = tuple(c / 255.0 for c in background)
        self.fill_holes = fill_holes
        self._programs = {
            textured: ctx.program(**load_program_sources("mesh.glsl", {"TEXTURED": int(textured)}))
            for textured in (False, True)
        }
        self._mesh_program = self._programs[False]
        # Without MSAA every texel is covered or not (alpha 0 or 1), and 8-bit sRGB-encoded colour is exact
        # enough. MSAA edges have fractional coverage: premultiplied colour must then be stored linear (half
        # floats), or the mipmaps' colour / alpha of the hole fill would be biased.
        self._big_color = ctx.texture(big, 4, dtype="f2" if self.msaa else "f1")
        self._big_color.filter = (ctx.LINEAR_MIPMAP_NEAREST, ctx.LINEAR) if fill_holes else (ctx.NEAREST, ctx.NEAREST)
        self._levels = int(np.floor(np.log2(max(big)))) + 1
        self._depth = ctx.depth_renderbuffer(big, samples=self.msaa)
        if self.msaa:
            # Multisample colour as a texture, so the MSAA resolve can decode each sample to linear light.
            self._ms_color = ctx.texture(big, 4, samples=self.msaa)
            self._draw_fbo = ctx.framebuffer([self._ms_color], self._depth)
            self._big_fbo = ctx.framebuffer([self._big_color])
            self._ms_resolve = ctx.program(**load_program_sources("msaa_resolve.glsl", {"SAMPLES": self.msaa}))
            self._ms_resolve_vao = ctx.vertex_array(self._ms_resolve, [])
        else:
            self._ms_color = self._ms_resolve = self._ms_resolve_vao = None
            self._big_fbo = self._draw_fbo = ctx.framebuffer([self._big_color], self._depth)
        defines = {
            "BIG_W": big[0],
            "BIG_H": big[1],
            "OUT_W": self.width,
            "OUT_H": self.height,
            "TAPS_X": _taps(big[0], self.width),
            "TAPS_Y": _taps(big[1], self.height),
            "FILL_HOLES": int(fill_holes),
            "LINEAR_INPUT": int(self.msaa > 0),
        }
        self._resolve = ctx.program(**load_program_sources("downsample.glsl", defines))
        self._small_fbo = ctx.framebuffer([ctx.renderbuffer((self.width, self.height), 4)])
        self._resolve_vao = ctx.vertex_array(self._resolve, [])
        self._vao = None
        self._texture: moderngl.TextureArray | None = None
        self._buffers: list = []
        self._num_faces = self._opaque_faces = 0
        self._depth_range = (1.0, 1.0)

    @property
    def renderer_name(self) -> str:
        """The OpenGL renderer string, e.g. ``"llvmpipe (LLVM 15.0.6, 256 bits)"`` or a GPU's name."""
        return f"{self.ctx.info['GL_RENDERER']} (OpenGL {self.ctx.info['GL_VERSION']})"

    def upload(self, mesh: Mesh) -> None:
        """Copies a mesh (and its textures, if any) to the GPU, replacing any previous one.

        A mesh without textures gets the plain per-vertex-colour program. A mesh
        with ``textures`` (L, H, W, 3) uint8 gets an RGBA8 texture array of L
        layers (padded to 4 bytes per texel for aligned fetches), sampled with
        bilinear magnification and trilinear (``LINEAR_MIPMAP_LINEAR``)
        minification through mipmaps, clamped to the edge; filtering and mipmaps
        work on the sRGB-encoded values, like the vertex-colour interpolation.

        A mesh with ``alphas`` has its translucent triangles (a vertex below 255,
        the soft silhouettes) drawn after the opaque ones, with the depth test on,
        depth writes off and premultiplied-alpha blending (``ONE,
        ONE_MINUS_SRC_ALPHA``) over what lies behind them. Colours blend as
        sRGB-encoded values, as the photo mixes them (a matte's
        ``alpha * foreground + (1 - alpha) * background`` is in encoded values).

        Args:
            mesh: The mesh; see :class:`~photo3d.mesh.triangulate.Mesh` for ``texcoords`` and ``textures``.

        Raises:
            Photo3DError: If the mesh has no faces, or its textures exceed the
                GPU's maximum texture size or layer count.
            ValueError: If ``textures`` or ``texcoords`` is given without the
                other, has the wrong shape or dtype, or a textured vertex's layer
                has no texture.

        """
        if mesh.num_faces == 0:
            raise Photo3DError("the mesh has no triangles to render")
        textured = mesh.textures is not None or mesh.texcoords is not None
        if textured:
            self._check_textures(mesh)
        self._release_mesh()
        ctx = self.ctx
        pos = ctx.buffer(np.ascontiguousarray(mesh.vertices, dtype="f4").tobytes())
        # Colours padded to 4 bytes per vertex: aligned attributes fetch faster (llvmpipe: about 25 %).
        # The fourth byte holds a vertex-coloured vertex's opacity, a textured vertex's layer.
        rgba = np.empty((mesh.num_vertices, 4), np.uint8)
        rgba[:, :3] = mesh.colors
        rgba[:, 3] = 255 if mesh.alphas is None else mesh.alphas
        faces = np.ascontiguousarray(mesh.faces, dtype="u4")
        self._opaque_faces = len(faces)
        if mesh.alphas is not None:
            translucent = (mesh.alphas[faces] < 255).any(axis=1)
            self._opaque_faces = int(len(faces) - np.count_nonzero(translucent))
            if self._opaque_faces < len(faces):
                faces = np.concatenate([faces[~translucent], faces[translucent]])
        if textured:
            rgba[:, 3] = np.where(np.all(mesh.texcoords == -1.0, axis=1), rgba[:, 3], mesh.layers)
        col = ctx.buffer(rgba.tobytes())
        idx = ctx.buffer(faces.tobytes())
        self._num_faces = len(faces)
        self._buffers = [pos, col, idx]
        self._mesh_program = program = self._programs[textured]
        if not textured:
            attributes = [(pos, "3f", "in_position"), (col, "4f1", "in_color")]
        else:
            uv = ctx.buffer(np.ascontiguousarray(mesh.texcoords, dtype="f4").tobytes())
            self._buffers.append(uv)
            attributes = [(pos, "3f", "in_position"), (col, "4f1", "in_color"), (uv, "2f", "in_texcoord")]
            assert mesh.textures is not None  # checked by _check_textures
            num_layers, h, w, _ = mesh.textures.shape
            texels = np.empty((num_layers, h, w, 4), np.uint8)
            texels[..., :3] = mesh.textures
            texels[..., 3] = 255
            self._texture = ctx.texture_array((w, h, num_layers), 4, texels.tobytes())
            self._texture.repeat_x = self._texture.repeat_y = False  # clamp to edge
            self._texture.filter = (ctx.LINEAR_MIPMAP_LINEAR, ctx.LINEAR)
            self._texture.build_mipmaps()
            program["u_texture_size"].value = (float(w), float(h))
        self._vao = ctx.vertex_array(program, attributes, index_buffer=idx, index_element_size=4)
        z = mesh.vertices[:, 2]
        self._depth_range = (float(z.min()), float(z.max()))

    def _check_textures(self, mesh: Mesh) -> None:
        tex, uv = mesh.textures, mesh.texcoords
        if tex is None or uv is None:
            raise ValueError("a textured mesh needs both texcoords and textures")
        if tex.ndim != 4 or tex.shape[-1] != 3 or tex.dtype != np.uint8:
            raise ValueError(f"mesh.textures must be (L, H, W, 3) uint8, got {tex.shape} {tex.dtype}")
        if uv.shape != (mesh.num_vertices, 2):
            raise ValueError(f"mesh.texcoords must be ({mesh.num_vertices}, 2), got {uv.shape}")
        num_layers, h, w, _ = tex.shape
        used = ~np.all(uv == -1.0, axis=1)
        if used.any() and int(mesh.layers[used].max()) >= num_layers:
            raise ValueError(f"a textured vertex samples layer {int(mesh.layers[used].max())} of {num_layers}")
        max_size = int(self.ctx.info.get("GL_MAX_TEXTURE_SIZE", 16384))
        max_layers = int(self.ctx.info.get("GL_MAX_ARRAY_TEXTURE_LAYERS", 256))
        if max(w, h) > max_size or num_layers > max_layers:
            raise Photo3DError(
                f"{num_layers} textures of {w}x{h} exceed this GPU's limits "
                f"({max_size} pixels a side, {max_layers} layers); use a smaller photo"
            )

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
            (height, width, 3) uint8 sRGB frame, image row 0 first.

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
        program = self._mesh_program
        program["u_world_to_camera"].write(pose.world_to_camera().astype("f4").T.tobytes())
        program["u_clip"].write(intrinsics.clip_matrix(near, far).T.tobytes())
        if self._texture is not None:
            self._texture.use(0)
            program["u_texture"].value = 0
        self._draw_fbo.use()
        ctx.enable(ctx.DEPTH_TEST)
        ctx.disable(ctx.CULL_FACE)
        self._draw_fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        self._vao.render(vertices=3 * self._opaque_faces)
        if self._opaque_faces < self._num_faces:
            # Soft silhouettes over what the opaque pass drew behind them (premultiplied alpha).
            ctx.enable(ctx.BLEND)
            ctx.blend_func = ctx.ONE, ctx.ONE_MINUS_SRC_ALPHA
            self._draw_fbo.depth_mask = False
            self._vao.render(vertices=3 * (self._num_faces - self._opaque_faces), first=3 * self._opaque_faces)
            self._draw_fbo.depth_mask = True
            ctx.disable(ctx.BLEND)
        ctx.disable(ctx.DEPTH_TEST)
        if self.msaa:
            self._big_fbo.use()
            self._ms_color.use(0)
            self._ms_resolve["u_samples"].value = 0
            self._ms_resolve_vao.render(vertices=3)
        if self.fill_holes:
            self._big_color.build_mipmaps()
        self._small_fbo.use()
        self._big_color.use(0)
        self._resolve["u_image"].value = 0
        self._resolve["u_background"].value = self.background
        if self.fill_holes:
            self._resolve["u_levels"].value = self._levels
        self._resolve_vao.render(vertices=3)
        data = self._small_fbo.read(components=3, alignment=1)
        return np.frombuffer(data, dtype=np.uint8).reshape(self.height, self.width, 3)

    def _release_mesh(self) -> None:
        if self._vao is not None:
            self._vao.release()
            self._vao = None
        for b in self._buffers:
            b.release()
        self._buffers = []
        if self._texture is not None:
            self._texture.release()
            self._texture = None

    def _release_context(self) -> None:
        if self._own_context:
            self.ctx.release()

    def release(self) -> None:
        """Frees GPU resources (and the context, if the renderer created it)."""
        self._release_mesh()
        if self._own_context:
            self.ctx.release()
        else:
            # A framebuffer left bound after its release makes the context's next bind fail.
            self.ctx.detect_framebuffer(0).use()
            for obj in (
                self._draw_fbo,
                self._big_fbo,
                self._small_fbo,
                self._big_color,
                self._depth,
                self._ms_color,
                self._resolve_vao,
                self._ms_resolve_vao,
                self._resolve,
                self._ms_resolve,
                *self._programs.values(),
            ):
                if obj is not None:
                    obj.release()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
