"""``photo3d depth``: depth maps (and previews, normal maps) of photos, written beside them or into a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import Photo3DError
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
    state,
)

__all__ = ["depth_command"]


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

    settings = make_depth_settings(
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
    _check_outputs(photos, out, preview, normals, depth)
    failed = 0
    with frame_progress(disable=state["quiet"], description="depth", unit="photos", rate="photos/s") as progress:
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
        if failed == len(photos):
            raise Photo3DError(f"{'the photo' if failed == 1 else f'all {failed} photos'} failed (see above)")
        raise Photo3DError(f"{failed} of {len(photos)} photos failed (see above); the others were written")
    if not state["quiet"]:
        typer.echo(f"wrote depth maps for {len(photos)} photo{'s' if len(photos) != 1 else ''} into {out}", err=True)


def _check_outputs(photos: list[Path], out: Path, preview: bool, normals: bool, depth: Path | None) -> None:
    """Before any work: no output overwrites an input, and no two photos write the same file."""
    from ..io.outputs import check_distinct
    from ..pipeline import depth_map_names

    writer: dict[Path, Path] = {}
    targets = []
    for photo in photos:
        for target in depth_map_names(photo, out, preview, normals):
            first = writer.setdefault(target.resolve(), photo)
            if first != photo:
                raise Photo3DError(
                    f"{first} and {photo} would both write {target}; rename one or run them into separate --out folders"
                )
            targets.append(("the output", target))
    check_distinct(targets, [("the photo", photo) for photo in photos] + [("the depth map", depth)])


_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".bmp"}


_OUTPUT_STEMS = ("_depth", "_depth_preview", "_normals")


def _collect_photos(inputs: list[Path]) -> list[Path]:
    """The photos named or found in the folders; a folder's own depth outputs (``*_depth.png``, ...) are not photos."""
    photos: list[Path] = []
    for item in inputs:
        if item.is_dir():
            for path in sorted(p for p in item.iterdir() if p.is_file()):
                if path.suffix.lower() == ".png" and path.stem.endswith(_OUTPUT_STEMS):
                    log.info("skipping %s: a depth output of an earlier run", path)
                elif path.suffix.lower() in _PHOTO_SUFFIXES:
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
