"""``photo3d sample`` and ``photo3d trajectories``: a generated scene to try, and the trajectory presets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import Photo3DError
from .options import parse_size, state

__all__ = ["sample", "trajectories"]


def sample(
    folder: Annotated[Path, typer.Argument(help="Folder to write photo.png and depth.png into.")] = Path("sample"),
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT of the generated photo.")] = "960x640",
) -> None:
    """Generate a sample scene (photo.png + 16-bit disparity depth.png) by exact ray casting."""
    import cv2
    import numpy as np

    from ..io.outputs import atomic_output
    from ..sample import make_sample_scene

    parsed = parse_size(size)
    assert parsed is not None  # a text always parses to a size or raises
    w, h = parsed
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
    if not state["quiet"]:
        typer.echo(
            f"wrote {folder / 'photo.png'} and {folder / 'depth.png'} (16-bit disparity, larger = nearer)", err=True
        )


def trajectories() -> None:
    """List the trajectory presets (use one with --trajectory NAME, or copy its file to make your own)."""
    from ..camera.trajectory_files import preset_descriptions

    for name, description in preset_descriptions():
        typer.echo(f"{name:12s} {description}")
