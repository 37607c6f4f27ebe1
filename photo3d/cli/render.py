"""``photo3d render``: a parallax video, a still and/or a PLY mesh from a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import Photo3DError
from ..settings import RenderSettings
from .options import (
    CacheOpt,
    DepthClipOpt,
    DepthKindOpt,
    DepthModelOpt,
    DepthPathOpt,
    DepthRangeOpt,
    DepthResolutionOpt,
    DepthScaleOpt,
    DeviceOpt,
    FocalOpt,
    FovOpt,
    InvertOpt,
    log,
    make_depth_settings,
    parse_presets,
    parse_size,
    playback_of,
    state,
)

__all__ = ["render"]


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
            help=RenderSettings.help("trajectory"),
        ),
    ] = "dolly",
    intensity: Annotated[float, typer.Option(help=RenderSettings.help("intensity"))] = 1.0,
    focus: Annotated[
        float | None,
        typer.Option(help=RenderSettings.help("focus"), show_default=False),
    ] = None,
    loop: Annotated[
        bool, typer.Option("--loop", help="Seamless loop: the frame after the last equals the first.")
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="Play the move once, from start to end.")] = False,
    pingpong: Annotated[bool, typer.Option("--pingpong", help="Play the move forward, then backward.")] = False,
    reverse: Annotated[bool, typer.Option("--reverse", help=RenderSettings.help("reverse"))] = False,
    easing: Annotated[
        str | None,
        typer.Option(help=RenderSettings.help("easing"), show_default=False),
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
        float | None,
        typer.Option(help=RenderSettings.help("fps") + " [default: 30, or --preset's]", show_default=False),
    ] = None,
    duration: Annotated[float, typer.Option(help=RenderSettings.help("duration"))] = 4.0,
    frames: Annotated[int | None, typer.Option(help=RenderSettings.help("frames"))] = None,
    framing: Annotated[
        str,
        typer.Option(help=RenderSettings.help("framing")),
    ] = "cover",
    ssaa: Annotated[float, typer.Option(help=RenderSettings.help("ssaa"))] = 2.0,
    msaa: Annotated[int, typer.Option(help=RenderSettings.help("msaa"))] = 0,
    codec: Annotated[
        str | None,
        typer.Option(help=RenderSettings.help("codec"), show_default=False),
    ] = None,
    crf: Annotated[
        int | None,
        typer.Option(help=RenderSettings.help("crf")),
    ] = None,
    stereo: Annotated[
        str | None,
        typer.Option(help=RenderSettings.help("stereo"), show_default=False),
    ] = None,
    baseline: Annotated[float, typer.Option(help=RenderSettings.help("baseline"))] = 0.03,
    simplify: Annotated[
        float,
        typer.Option(help=RenderSettings.help("simplify")),
    ] = 0.5,
    inpainter: Annotated[
        str,
        typer.Option(help=RenderSettings.help("inpainter")),
    ] = "classical",
    layers: Annotated[int, typer.Option(help="Most LDI layers, the photo's own included (1 = no inpainting).")] = 4,
) -> None:
    """Render a parallax video, a still (optionally stereo) and/or a PLY mesh from a photo.

    Depth comes from --depth, else from the photo itself (Google Lens Blur JPEG, Apple portrait HEIC),
    else from a depth model (Depth Anything V2 Small by default; weights download on first use).

    Example: photo3d render photo.jpg --preset tiktok -t orbit --loop
    """
    from ..ldi.structure import LDIParams

    if layers < 1:
        raise Photo3DError(f"--layers must be at least 1, got {layers}")
    fmt, encoder_preset = parse_presets(preset)
    wh = parse_size(size)
    if wh is None and fmt is not None:
        wh = fmt[:2]
    if fps is None:
        fps = fmt[2] if fmt is not None else 30.0

    depth_settings = make_depth_settings(
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
    # Options named as their settings pass through as they are; the others are parsed above.
    given = {name: value for name, value in locals().items() if name in RenderSettings.model_fields}
    given.update(
        fps=fps,
        size=wh,
        encoder_preset=encoder_preset,
        playback=playback_of(loop, once, pingpong),
        ldi=LDIParams(max_layers=layers),
    )
    settings = RenderSettings(**given)
    if out is None:
        out = Path(f"{image.stem}_{Path(trajectory).stem}.mp4")
    _run_render(image, depth_settings, fov, focal_px, settings, out, ply)


def _run_render(image, depth_settings, fov, focal_px, settings, out, ply) -> None:
    from ..camera.trajectory_files import load_trajectory
    from ..io.outputs import check_distinct, check_writable
    from ..io.ply import check_ply_name
    from ..io.video import check_output
    from ..ldi.inpaint import make_inpainter
    from ..ldi.matte import preload_solver
    from ..progress import frame_progress
    from ..render.renderer import check_antialiasing
    from ..session import Studio

    trajectory_file = Path(settings.trajectory) if Path(settings.trajectory).suffix == ".toml" else None
    check_distinct(
        [("--out", out), ("--ply", ply)],
        [("the photo", image), ("the depth map", depth_settings.path), ("the trajectory file", trajectory_file)],
        folders=("--out",),
    )
    for target in (out, ply):  # fail before the (possibly long) depth estimation
        if target is not None:
            check_writable(Path(target))
    if ply is not None:
        check_ply_name(ply)
    # Bad trajectories, frame counts, outputs and inpainters fail before depth estimation.
    check_output(out, codec=settings.codec, crf=settings.crf, preset=settings.encoder_preset)
    load_trajectory(settings.trajectory)
    check_antialiasing(settings.ssaa, settings.msaa)
    settings.num_frames()
    settings.motion(None)
    settings = settings.replace(inpainter=make_inpainter(settings.inpainter, settings.device))
    if settings.ldi.soft_edges:
        preload_solver()  # the matting library loads while the photo and its depth do
    with Studio(depth_settings) as studio:
        scene = studio.load(image, fov=fov, focal_px=focal_px)
        with frame_progress(disable=state["quiet"]) as progress:
            report = studio.render_clip(
                scene,
                out,
                settings,
                ply,
                on_frame=progress.update,
                on_start=lambda name: log.info("OpenGL renderer: %s", name),
            )
    if not state["quiet"]:
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
