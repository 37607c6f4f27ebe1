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

from .errors import Photo3DError

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


@app.command()
def render(
    image: Annotated[Path, typer.Argument(help="The photo: JPEG, PNG, TIFF or WebP.", show_default=False)],
    depth: Annotated[
        Path | None,
        typer.Option(help="Depth map of the photo: 8/16-bit PNG or .npy (required for now).", show_default=False),
    ] = None,
    depth_kind: Annotated[
        str,
        typer.Option(help="auto (disparity for images, depth for .npy), disparity (larger = nearer) or depth."),
    ] = "auto",
    trajectory: Annotated[
        str,
        typer.Option(
            "--trajectory", "-t", help="Preset (dolly, swing, circle; see 'photo3d trajectories') or TOML file."
        ),
    ] = "dolly",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Video (.mp4, .webm, .gif) or a directory for PNG frames. [default: PHOTO_TRAJECTORY.mp4]",
        ),
    ] = None,
    ply: Annotated[Path | None, typer.Option(help="Also write the layered mesh as a binary PLY for Blender.")] = None,
    fov: Annotated[
        float | None, typer.Option(help="Field of view in degrees across the longer side. [default: 53.13]")
    ] = None,
    focal_px: Annotated[float | None, typer.Option(help="Focal length in pixels (overrides --fov).")] = None,
    fps: Annotated[float, typer.Option(help="Frames per second.")] = 30.0,
    duration: Annotated[float, typer.Option(help="Length in seconds.")] = 4.0,
    frames: Annotated[int | None, typer.Option(help="Exact number of frames (overrides --duration).")] = None,
    size: Annotated[
        str | None, typer.Option(help="Output WIDTHxHEIGHT, e.g. 1080x1920. [default: the photo's size, made even]")
    ] = None,
    ssaa: Annotated[int, typer.Option(help="Supersampling anti-aliasing factor (1 = off).")] = 2,
    framing: Annotated[
        str, typer.Option(help="cover: fill the frame, zoom just enough to hide the photo's edge; none: source camera.")
    ] = "cover",
    crf: Annotated[int, typer.Option(help="Video quality (lower is better).")] = 18,
) -> None:
    """Render a parallax video (and optionally a PLY mesh) from a photo and its depth map."""
    from .pipeline import RenderSettings, missing_depth_message

    if depth is None:
        raise Photo3DError(missing_depth_message())
    settings = RenderSettings(
        trajectory=trajectory,
        fps=fps,
        duration=duration,
        frames=frames,
        size=_parse_size(size),
        ssaa=ssaa,
        framing=framing,
        crf=crf,
    )
    if out is None:
        out = Path(f"{image.stem}_{Path(trajectory).stem}.mp4")
    _run_render(image, depth, depth_kind, fov, focal_px, settings, out, ply)


def _run_render(image, depth, depth_kind, fov, focal_px, settings, out, ply) -> None:
    from .pipeline import load_scene, render_photo
    from .progress import frame_progress

    scene = load_scene(image, depth, depth_kind, fov, focal_px)
    with frame_progress(disable=_state["quiet"]) as progress:
        report = render_photo(
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
            f"wrote {out} ({report.frames} frames, {report.size[0]}x{report.size[1]}, zoom {report.zoom:.3f}); "
            f"LDI {report.layers} layers, band {report.band_px} px; "
            f"mesh {report.vertices} vertices, {report.faces} faces; "
            f"LDI+mesh {t.get('ldi_mesh', 0):.2f} s, render+encode {t.get('render', 0):.2f} s"
            + (f"; wrote {ply}" if ply else ""),
            err=True,
        )


@app.command()
def sample(
    folder: Annotated[Path, typer.Argument(help="Folder to write photo.png and depth.png into.")] = Path("sample"),
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT of the generated photo.")] = "960x640",
) -> None:
    """Generate a sample scene (photo.png + 16-bit disparity depth.png) by exact ray casting."""
    import cv2
    import numpy as np

    from .outputs import atomic_output
    from .sample import make_sample_scene

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
    typer.echo(f"wrote {folder / 'photo.png'} and {folder / 'depth.png'} (16-bit disparity, larger = nearer)", err=True)


@app.command()
def trajectories() -> None:
    """List the trajectory presets."""
    from .trajectory import load_trajectory, preset_names

    for name in preset_names():
        typer.echo(f"{name:10s} {load_trajectory(name).description}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``photo3d`` command: one-line errors and exit status 2 for bad input."""
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
