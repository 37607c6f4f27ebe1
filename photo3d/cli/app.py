"""The ``photo3d`` command line: thin commands over the Python API.

Errors a user can act on print one line, ``photo3d: error: ...``, and exit
with status 2; ``--debug`` shows tracebacks of unexpected failures.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import Photo3DError

__all__ = ["app", "main"]

app = typer.Typer(
    name="photo3d",
    help="One photo in, a living 3D photo out: layered depth, inpainting, parallax video and Blender PLY.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
log = logging.getLogger("photo3d")
_state = {"debug": False, "quiet": False}


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise Photo3DError(f"--size must look like WIDTHxHEIGHT (e.g. 1080x1920), got {text!r}") from None
    if w < 2 or h < 2 or w % 2 or h % 2:
        raise Photo3DError(f"--size needs even width and height of at least 2 (yuv420p video), got {w}x{h}")
    return w, h


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print errors only: no progress bar or summary.")
    ] = False,
) -> None:
    _state["debug"], _state["quiet"] = debug, quiet
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="photo3d: %(levelname)s: %(message)s" if not quiet else "photo3d: %(message)s",
        stream=sys.stderr,
    )


# Depth options shared by ``render`` and ``depth``.
DepthPathOpt = Annotated[
    Path | None,
    typer.Option(
        "--depth",
        help="Depth map of the photo: 8/16-bit PNG, TIFF (float too), .npy, .pfm or OpenEXR. "
        "Without it: the photo's embedded depth (Google Lens Blur, Apple portrait HEIC), else --depth-model.",
        show_default=False,
    ),
]
DepthKindOpt = Annotated[
    str,
    typer.Option(
        help="What --depth holds: auto (disparity for 8/16-bit images, depth for .npy/.pfm/.exr/float TIFF), "
        "disparity (larger = nearer), depth (planar) or distance (along each ray, e.g. Blender's Z pass)."
    ),
]
InvertOpt = Annotated[
    bool, typer.Option("--invert", help="Reverse --depth's values (for maps stored the other way round).")
]
DepthScaleOpt = Annotated[
    float | None,
    typer.Option(help="Multiply --depth's values, e.g. 0.0002 for TUM (value/5000 = metres), 0.001 for millimetres."),
]
DepthClipOpt = Annotated[
    str | None,
    typer.Option(help="NEAR,FAR: clamp planar depth to this range (in the depth's units) and renormalise."),
]
DepthModelOpt = Annotated[
    str | None,
    typer.Option(
        help="Hugging Face depth model id or local folder; runs even if the photo embeds depth. "
        "[default: depth-anything/Depth-Anything-V2-Small-hf]",
        show_default=False,
    ),
]
DepthResolutionOpt = Annotated[
    int | None,
    typer.Option(help="The depth model's input size in pixels. [default: the model's own, 518 for Depth Anything]"),
]
DepthRangeOpt = Annotated[
    str,
    typer.Option(
        help="NEAR,FAR: depth given to the nearest and farthest pixel of a relative (inverse-depth) estimate."
    ),
]
DeviceOpt = Annotated[str | None, typer.Option(help="cpu, cuda, cuda:N or mps. [default: CUDA, else MPS, else CPU]")]
CacheOpt = Annotated[
    bool, typer.Option("--depth-cache/--no-depth-cache", help="Reuse depth estimated earlier for the same photo.")
]
FovOpt = Annotated[float | None, typer.Option(help="Field of view in degrees across the longer side. [default: 53.13]")]
FocalOpt = Annotated[float | None, typer.Option(help="Focal length in pixels (overrides --fov).")]


def _depth_settings(
    depth: Path | None,
    depth_kind: str,
    invert: bool,
    depth_scale: float | None,
    depth_clip: str | None,
    depth_model: str | None,
    depth_resolution: int | None,
    depth_range: str,
    device: str | None,
    depth_cache: bool,
):
    from ..depth.conversions import DepthOptions, parse_depth_clip, resolve_depth_kind
    from ..pipeline import DepthSettings

    if depth is None and (invert or depth_scale is not None or depth_kind != "auto"):
        raise Photo3DError("--depth-kind, --invert and --depth-scale describe a --depth file; pass --depth PATH too")
    if depth is not None and depth_model is not None:
        raise Photo3DError("give either --depth (a depth map you have) or --depth-model (estimate it), not both")
    if depth is not None:
        resolve_depth_kind(depth, depth_kind)  # checks the name early
    near, far = _parse_pair(depth_range, "--depth-range")
    return DepthSettings(
        path=depth,
        options=DepthOptions(
            kind=depth_kind,
            invert=invert,
            scale=depth_scale,
            clip=parse_depth_clip(depth_clip) if depth_clip is not None else None,
        ),
        model=depth_model,
        resolution=depth_resolution,
        device=device,
        near=near,
        far=far,
        cache=depth_cache,
    )


def _parse_pair(text: str, option: str) -> tuple[float, float]:
    try:
        near, far = (float(v) for v in text.split(","))
    except ValueError:
        raise Photo3DError(f"{option} must look like NEAR,FAR (e.g. 1,60), got {text!r}") from None
    if not 0 < near < far < float("inf"):
        raise Photo3DError(f"{option} needs 0 < NEAR < FAR, got {text!r}")
    return near, far


def _parse_presets(values: list[str] | None) -> tuple[tuple[int, int, float] | None, str | None]:
    """Splits ``--preset`` values into an output format (tiktok, 4k, ...) and an encoder speed preset."""
    from ..camera.framing import FORMAT_PRESETS
    from ..io.video import ENCODER_PRESETS

    fmt = speed = None
    for value in values or []:
        name = value.lower()
        if name in FORMAT_PRESETS:
            if fmt is not None:
                raise Photo3DError(f"--preset gives two output formats; choose one of {', '.join(FORMAT_PRESETS)}")
            fmt = FORMAT_PRESETS[name]
        elif name in ENCODER_PRESETS:
            if speed is not None:
                raise Photo3DError("--preset gives two encoder speeds; choose one")
            speed = name
        else:
            raise Photo3DError(
                f"--preset {value!r} is neither an output format ({', '.join(FORMAT_PRESETS)}) "
                f"nor an encoder speed ({', '.join(ENCODER_PRESETS)})"
            )
    return fmt, speed


def _playback(loop: bool, once: bool, pingpong: bool) -> str | None:
    chosen = [name for name, on in (("loop", loop), ("once", once), ("pingpong", pingpong)) if on]
    if len(chosen) > 1:
        raise Photo3DError(f"give at most one of --loop, --once and --pingpong, got {', '.join(chosen)}")
    return chosen[0] if chosen else None


@app.command()
def render(
    image: Annotated[Path, typer.Argument(help="The photo: JPEG, PNG, TIFF, WebP or HEIC.", show_default=False)],
    depth: DepthPathOpt = None,
    depth_kind: DepthKindOpt = "auto",
    invert: InvertOpt = False,
    depth_scale: DepthScaleOpt = None,
    depth_clip: DepthClipOpt = None,
    depth_model: DepthModelOpt = None,
    depth_resolution: DepthResolutionOpt = None,
    depth_range: DepthRangeOpt = "1,60",
    device: DeviceOpt = None,
    depth_cache: CacheOpt = True,
    trajectory: Annotated[
        str,
        typer.Option(
            "--trajectory",
            "-t",
            help="Camera move: dolly, dolly-zoom, zoom-in, swing, circle, horizontal, vertical, orbit "
            "(see 'photo3d trajectories'), or a TOML file.",
        ),
    ] = "dolly",
    intensity: Annotated[
        float, typer.Option(help="Amount of camera motion: 1 = the preset's, 0.5 = half, 0 = still camera.")
    ] = 1.0,
    focus: Annotated[
        float | None,
        typer.Option(
            help="Depth that stays put on screen, in the depth map's units; inf: none (the camera keeps its axis). "
            "[default: the subject's depth]",
            show_default=False,
        ),
    ] = None,
    loop: Annotated[
        bool, typer.Option("--loop", help="Seamless loop: the frame after the last equals the first.")
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="Play the move once, from start to end.")] = False,
    pingpong: Annotated[bool, typer.Option("--pingpong", help="Play the move forward, then backward.")] = False,
    reverse: Annotated[bool, typer.Option("--reverse", help="Play the move backwards.")] = False,
    easing: Annotated[
        str | None,
        typer.Option(
            help="Time easing: linear, smooth, smoother, ease-in, ease-out or sine. [default: the trajectory's own]",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Video (.mp4, .webm, .gif), still image (.png, .jpg), or a directory for PNG frames. "
            "[default: PHOTO_TRAJECTORY.mp4]",
            show_default=False,
        ),
    ] = None,
    ply: Annotated[Path | None, typer.Option(help="Also write the layered mesh as a binary PLY for Blender.")] = None,
    fov: FovOpt = None,
    focal_px: FocalOpt = None,
    preset: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help="Output format: tiktok, reels, shorts (1080x1920, 30 fps), square (1080x1080), 1080p, 4k; "
            "and/or x264/x265 speed: ultrafast ... veryslow. May be given twice.",
            show_default=False,
        ),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            help="Output WIDTHxHEIGHT, e.g. 1080x1920 (overrides --preset's). [default: the photo's size, made even]",
            show_default=False,
        ),
    ] = None,
    fps: Annotated[
        float | None, typer.Option(help="Frames per second. [default: 30, or --preset's]", show_default=False)
    ] = None,
    duration: Annotated[float, typer.Option(help="Length in seconds.")] = 4.0,
    frames: Annotated[int | None, typer.Option(help="Exact number of frames (overrides --duration).")] = None,
    framing: Annotated[
        str,
        typer.Option(
            help="cover: fill the frame, cropped around the subject, zoomed just enough to hide the photo's edge; "
            "contain: the whole photo with black bars; none: the source camera as is."
        ),
    ] = "cover",
    ssaa: Annotated[
        float, typer.Option(help="Supersampling anti-aliasing, 1 (off) to 4; fractions such as 1.5 allowed.")
    ] = 2.0,
    msaa: Annotated[int, typer.Option(help="Multisample anti-aliasing samples: 0 (off), 2, 4 or 8.")] = 0,
    codec: Annotated[
        str | None,
        typer.Option(help="h264 or h265 for .mp4, vp9 for .webm. [default: h264 / vp9]", show_default=False),
    ] = None,
    crf: Annotated[
        int | None,
        typer.Option(help="Video quality, lower is better. [default: 18 for H.264, the encoder's own else]"),
    ] = None,
    stereo: Annotated[
        str | None,
        typer.Option(
            help="Stereo 3D: sbs (side by side), tb (top and bottom) or anaglyph (red-cyan glasses).",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        float, typer.Option(help="Distance between the stereo eyes as a fraction of the focus depth.")
    ] = 0.03,
    simplify: Annotated[
        float,
        typer.Option(
            help="Mesh simplification: largest geometric error in pixels (of the output, or of the photo if coarser); "
            "0 = one vertex per pixel."
        ),
    ] = 0.5,
    inpainter: Annotated[
        str,
        typer.Option(
            help="What fills the hidden background: classical (smooth fill plus texture), smooth, "
            "or a TorchScript inpainting network file such as LaMa's big-lama.pt (runs on --device)."
        ),
    ] = "classical",
    layers: Annotated[int, typer.Option(help="Most LDI layers, the photo's own included (1 = no inpainting).")] = 4,
) -> None:
    """Render a parallax video, a still (optionally stereo) and/or a PLY mesh from a photo.

    Depth comes from --depth, else from the photo itself (Google Lens Blur JPEG, Apple portrait HEIC),
    else from a depth model (Depth Anything V2 Small by default; weights download on first use).

    Example: photo3d render photo.jpg --preset tiktok -t orbit --loop
    """
    from ..ldi.layering import LDIParams
    from ..pipeline import RenderSettings

    if layers < 1:
        raise Photo3DError(f"--layers must be at least 1, got {layers}")
    fmt, encoder_preset = _parse_presets(preset)
    wh = _parse_size(size)
    if wh is None and fmt is not None:
        wh = fmt[:2]
    if fps is None:
        fps = fmt[2] if fmt is not None else 30.0
    _check_choices(easing=easing, stereo=stereo, framing=framing)

    depth_settings = _depth_settings(
        depth,
        depth_kind,
        invert,
        depth_scale,
        depth_clip,
        depth_model,
        depth_resolution,
        depth_range,
        device,
        depth_cache,
    )
    settings = RenderSettings(
        trajectory=trajectory,
        fps=fps,
        duration=duration,
        frames=frames,
        size=wh,
        ssaa=ssaa,
        msaa=msaa,
        framing=framing,
        crf=crf,
        codec=codec,
        encoder_preset=encoder_preset,
        intensity=intensity,
        focus=focus,
        playback=_playback(loop, once, pingpong),
        reverse=reverse,
        easing=easing,
        stereo=stereo,
        baseline=baseline,
        simplify=simplify,
        ldi=LDIParams(max_layers=layers),
        inpainter=inpainter,
        device=device,
    )
    if out is None:
        out = Path(f"{image.stem}_{Path(trajectory).stem}.mp4")
    _run_render(image, depth_settings, fov, focal_px, settings, out, ply)


def _check_choices(**values: str | None) -> None:
    """One-line errors for option values outside their choices, before any slow work."""
    from ..camera.framing import FRAMINGS
    from ..camera.stereo import STEREO_MODES
    from ..camera.trajectory import EASINGS

    choices = {"easing": EASINGS, "stereo": STEREO_MODES, "framing": FRAMINGS}  # codecs: video.check_output
    for name, value in values.items():
        if value is not None and value not in choices[name]:
            raise Photo3DError(f"--{name} must be one of {', '.join(choices[name])}, got {value!r}")


def _run_render(image, depth_settings, fov, focal_px, settings, out, ply) -> None:
    from dataclasses import replace

    from ..camera.trajectory_files import load_trajectory
    from ..io.outputs import check_writable
    from ..io.video import check_output
    from ..ldi.inpaint import make_inpainter
    from ..ldi.matte import preload_solver
    from ..progress import frame_progress
    from ..render.renderer import check_antialiasing
    from ..session import Studio

    for target in (out, ply):  # fail before the (possibly long) depth estimation
        if target is not None:
            check_writable(Path(target))
    # Bad trajectories, frame counts, outputs and inpainters fail before depth estimation.
    check_output(out, codec=settings.codec, crf=settings.crf, preset=settings.encoder_preset)
    load_trajectory(settings.trajectory)
    check_antialiasing(settings.ssaa, settings.msaa)
    settings.num_frames()
    settings.motion(None)
    settings = replace(settings, inpainter=make_inpainter(settings.inpainter, settings.device))
    if settings.ldi.soft_edges:
        preload_solver()  # the matting library loads while the photo and its depth do
    with Studio(depth_settings) as studio:
        scene = studio.load(image, fov=fov, focal_px=focal_px)
        with frame_progress(disable=_state["quiet"]) as progress:
            report = studio.render_clip(
                scene,
                out,
                settings,
                ply,
                on_frame=progress.update,
                on_start=lambda name: log.info("OpenGL renderer: %s", name),
            )
    if not _state["quiet"]:
        t = report.timings
        typer.echo(
            f"wrote {out} ({report.frames} frames, {report.size[0]}x{report.size[1]}, zoom {report.zoom:.3f}, "
            f"focus depth {report.focus:.3g}); depth {scene.depth_source}; "
            f"LDI {report.layers} layers, band {report.band_px} px; "
            f"mesh {report.vertices} vertices, {report.faces} faces; "
            f"LDI+mesh {t.get('ldi_mesh', 0):.2f} s, render+encode {t.get('render', 0):.2f} s"
            + (f"; wrote {ply}" if ply else ""),
            err=True,
        )


@app.command("depth")
def depth_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Photos, or folders of photos (non-images are skipped with a warning).", show_default=False
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the depth maps into.")] = Path("."),
    preview: Annotated[
        bool, typer.Option("--preview", help="Also write a colour-mapped preview (near = warm).")
    ] = False,
    normals: Annotated[
        bool, typer.Option("--normals", help="Also write a normal map (x right, y up, z toward you).")
    ] = False,
    depth: DepthPathOpt = None,
    depth_kind: DepthKindOpt = "auto",
    invert: InvertOpt = False,
    depth_scale: DepthScaleOpt = None,
    depth_clip: DepthClipOpt = None,
    depth_model: DepthModelOpt = None,
    depth_resolution: DepthResolutionOpt = None,
    depth_range: DepthRangeOpt = "1,60",
    device: DeviceOpt = None,
    depth_cache: CacheOpt = True,
    fov: FovOpt = None,
    focal_px: FocalOpt = None,
) -> None:
    """Write depth maps: PHOTO_depth.png (16-bit, near = white: 65535 * nearest depth / depth).

    With --preview also PHOTO_depth_preview.png, with --normals PHOTO_normals.png. A photo that fails
    is reported and skipped; the others go on, and the exit status is 2 if any failed.
    """
    from ..pipeline import export_depth_maps
    from ..progress import frame_progress

    settings = _depth_settings(
        depth,
        depth_kind,
        invert,
        depth_scale,
        depth_clip,
        depth_model,
        depth_resolution,
        depth_range,
        device,
        depth_cache,
    )
    photos = _collect_photos(inputs)
    if depth is not None and len(photos) != 1:
        raise Photo3DError(f"--depth gives the depth of one photo, but {len(photos)} photos were given")
    failed = 0
    with frame_progress(disable=_state["quiet"], description="depth", unit="photos", rate="photos/s") as progress:
        progress.update(0, len(photos))
        for i, photo in enumerate(photos):
            try:
                written, source = export_depth_maps(photo, out, settings, fov, focal_px, preview, normals)
                log.info("%s: depth %s; wrote %s", photo, source, ", ".join(str(p) for p in written))
            except Photo3DError as exc:
                failed += 1
                typer.echo(f"photo3d: error: {photo}: {exc}", err=True)
            progress.update(i + 1, len(photos))
    if failed:
        raise Photo3DError(f"{failed} of {len(photos)} photos failed (see above); the others were written")
    if not _state["quiet"]:
        typer.echo(f"wrote depth maps for {len(photos)} photo{'s' if len(photos) != 1 else ''} into {out}", err=True)


_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".bmp"}


def _collect_photos(inputs: list[Path]) -> list[Path]:
    photos: list[Path] = []
    for item in inputs:
        if item.is_dir():
            for path in sorted(p for p in item.iterdir() if p.is_file()):
                if path.suffix.lower() in _PHOTO_SUFFIXES:
                    photos.append(path)
                else:
                    log.warning("skipping %s: not a photo (%s)", path, ", ".join(sorted(_PHOTO_SUFFIXES)))
        elif item.is_file():
            photos.append(item)
        else:
            raise Photo3DError(f"{item} does not exist")
    if not photos:
        raise Photo3DError(f"no photos found in {', '.join(map(str, inputs))}")
    return photos


@app.command()
def sample(
    folder: Annotated[Path, typer.Argument(help="Folder to write photo.png and depth.png into.")] = Path("sample"),
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT of the generated photo.")] = "960x640",
) -> None:
    """Generate a sample scene (photo.png + 16-bit disparity depth.png) by exact ray casting."""
    import cv2
    import numpy as np

    from ..io.outputs import atomic_output
    from ..sample import make_sample_scene

    w, h = _parse_size(size)
    scene = make_sample_scene(w, h)
    folder.mkdir(parents=True, exist_ok=True)
    disparity = scene.depth.min() / scene.depth  # 1 at the nearest point
    for name, array in (
        ("photo.png", scene.image[..., ::-1]),
        ("depth.png", np.rint(disparity * 65535).astype(np.uint16)),
    ):
        with atomic_output(folder / name) as tmp:
            if not cv2.imwrite(str(tmp), array):
                raise Photo3DError(f"cannot write {folder / name}")
    if not _state["quiet"]:
        typer.echo(
            f"wrote {folder / 'photo.png'} and {folder / 'depth.png'} (16-bit disparity, larger = nearer)", err=True
        )


@app.command()
def trajectories() -> None:
    """List the trajectory presets (use one with --trajectory NAME, or copy its file to make your own)."""
    from ..camera.trajectory_files import preset_descriptions

    for name, description in preset_descriptions():
        typer.echo(f"{name:12s} {description}")


def _terminate(signum, frame) -> None:
    """SIGTERM (``kill``, a batch scheduler) unwinds like Ctrl-C, so outputs in progress are discarded."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``photo3d`` command: one-line errors and exit status 2 for bad input."""
    import signal

    from ..runtime import tune_allocator

    tune_allocator()  # freed photo-sized arrays are reused instead of faulted in afresh

    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (photo3d embedded in another program): leave signals alone
        pass
    try:
        app(args=argv, standalone_mode=True)
    except Photo3DError as exc:
        typer.echo(f"photo3d: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("photo3d: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: still one line unless --debug
        if _state["debug"]:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        typer.echo(f"photo3d: internal error: {type(exc).__name__}: {first} (rerun with --debug for details)", err=True)
        sys.exit(1)
