"""Contact sheet of the quality issue's "look" frames: silhouettes of the real photos under motion, in one PNG.

Renders a few frames of three real photos from ``../shared/data/real`` (see its
``MANIFEST.md``; the files are read in place, never copied) and lays them out in
one grid image, each tile under a label strip naming the photo, the trajectory
and the frame index. Every tile is exactly the frame ``photo3d render`` writes
for the equivalent command (printed per tile group; with ``--out frames/`` the
tile of frame 30 is ``frames/00030.png``), but only the frames shown are drawn:
the LDI and mesh are built once per photo and trajectory from the whole clip's
cameras (they size the back layers, the mesh simplification and the edge zoom,
as for the video; :meth:`photo3d.Studio.prepare`), then the studio draws the chosen frames.

Rows of the sheet (frames at 1/4 and 3/4 of each 120-frame clip, i.e. frames 30
and 90: the two sideways extremes of the orbit and swing, the top and the bottom of
the circle, where the most background is uncovered):

1. **moon** (3d-photo-inpainting's Apollo 11 sample with its 16-bit MiDaS disparity),
   ``photo3d render moon.jpg --depth moon.png --preset tiktok -t orbit --loop`` (two
   tiles) and the same with ``-t swing`` (two tiles), at ``--size`` (default
   540x960, half the TikTok size). Aldrin against the black sky and the lunar
   ground: the backpack and helmet outline, the arms and the legs are the
   silhouettes to inspect.
2. **pug** (iPhone 13 Pro portrait HEIC, embedded disparity), ``-t swing``, frames 30
   and 90, at the photo's aspect with the longer side of ``--size`` (960x720).
   The head, snout and back against the wall, and the near cushion on the right.
3. **lensblur** (Google Camera Lens Blur JPEG, embedded GDepth; the unblurred original
   is the colour), ``-t circle``, at the photo's aspect (544x960). The lamp shade and
   arm against the wall and window, the desk's edge, and the blurred object at the
   bottom.

``--crop`` adds, under each row, the same frames zoomed 2x (nearest neighbour, so
pixels stay pixels) around the photo's main silhouette: the window of half the
frame holding the most depth-edge parallax (summed disparity jumps) in view,
placed on the near side of the edge and followed from frame to frame
(:func:`silhouette_point`). On these photos that is Aldrin's helmet and backpack
against the sky and the ground, the pug's head with the cushions behind it, and the
desk's glass top and edge against the sofa and floor.

What to look for at silhouettes, where the camera uncovers background the photo
never saw:

* foreground texture copied into the uncovered background (a smeared or
  mirrored second copy of an edge of the subject beside it);
* halos: a rim of foreground colour left on the background side of the edge,
  or background colour on the foreground side (from soft or misplaced depth edges);
* hard cut-outs: a jagged or stair-stepped outline, or pieces of the subject
  torn off along a wrong depth edge; and streaks (stretched triangles) across
  the gap.

Usage::

    .venv/bin/python benchmarks/contact_sheet.py --out sheet.png
    .venv/bin/python benchmarks/contact_sheet.py --out sheet.png --crop --size 1080x1920

Prints one line per tile with timings (photo load and LDI+mesh are shared by a
photo's or a photo and trajectory's tiles). Writes the PNG atomically. With no
real-data folder it prints a message and exits 0 without a sheet.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

_REPO = Path(__file__).resolve().parents[1]
REAL = _REPO.parent / "shared" / "data" / "real"
sys.path.insert(0, str(_REPO))

import photo3d  # noqa: E402
from photo3d.camera.framing import format_preset  # noqa: E402
from photo3d.errors import Photo3DError  # noqa: E402
from photo3d.io.outputs import atomic_output, check_writable  # noqa: E402
from photo3d.pipeline import CameraPlan, Scene  # noqa: E402

GAP = 4
"""Pixels between tiles and around the sheet."""
BACKGROUND = (48, 48, 48)
FONT = cv2.FONT_HERSHEY_SIMPLEX
CROP_ZOOM = 2


@dataclass(frozen=True)
class Shot:
    """One photo with one camera move, and the frames of its clip that the sheet shows.

    Attributes:
        photo: Short name for labels.
        image: The photo, relative to the real-data folder.
        depth: A depth map file relative to that folder (``--depth``), or None for the photo's embedded depth.
        trajectory: Trajectory preset (``-t``).
        fractions: Positions in the clip of the frames shown; frame ``int(f * frames)``.
        tiktok: ``--preset tiktok`` (30 fps, vertical, ``--size`` as given); else the photo's aspect.
        playback: ``--loop`` etc., or None for the trajectory's own.
        row: Row of the sheet.

    """

    photo: str
    image: str
    depth: str | None
    trajectory: str
    fractions: tuple[float, ...] = (0.25, 0.75)
    tiktok: bool = False
    playback: str | None = None
    row: int = 0


MOON = ("peer_3dphoto_moon/image/moon.jpg", "peer_3dphoto_moon/depth/moon.png")
SHOTS: tuple[Shot, ...] = (
    Shot("moon", *MOON, "orbit", tiktok=True, playback="loop", row=0),
    Shot("moon", *MOON, "swing", tiktok=True, playback="loop", row=0),
    Shot("pug", "apple_portrait_pug/pug.heic", None, "swing", row=1),
    Shot("lensblur", "google_lensblur_depthy/1.jpg", None, "circle", row=2),
)


@dataclass
class Tile:
    """One rendered frame of a shot, with its label and timings."""

    shot: Shot
    index: int
    frames: int
    image: np.ndarray
    crop_px: tuple[float, float]
    load_s: float
    build_s: float
    render_s: float

    @property
    def label(self) -> str:
        return f"{self.shot.photo} {self.shot.trajectory} frame {self.index}/{self.frames}"


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` with even numbers of at least 2 (as ``photo3d render --size``)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size must look like WIDTHxHEIGHT (e.g. 540x960), got {text!r}") from None
    if w < 2 or h < 2 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"--size needs even width and height of at least 2, got {w}x{h}")
    return w, h


def _even(x: float) -> int:
    return max(2, 2 * round(x / 2))


def shot_size(shot: Shot, photo_size: tuple[int, int], size: tuple[int, int]) -> tuple[int, int]:
    """The frame size of a shot: ``size`` for TikTok shots, else the photo's aspect with the longer side of ``size``."""
    if shot.tiktok:
        return size
    w, h = photo_size
    scale = max(size) / max(w, h)
    return _even(w * scale), _even(h * scale)


def shot_settings(shot: Shot, frame_size: tuple[int, int]) -> photo3d.RenderSettings:
    """The :class:`photo3d.RenderSettings` that ``photo3d render`` builds for :func:`cli_args`."""
    fps = format_preset("tiktok")[2] if shot.tiktok else 30.0
    return photo3d.RenderSettings(trajectory=shot.trajectory, fps=fps, size=frame_size, playback=shot.playback)


def cli_args(shot: Shot, real: Path, frame_size: tuple[int, int], out: str = "frames/") -> list[str]:
    """Arguments of ``photo3d render`` whose PNG frames in ``out`` are this shot's tiles."""
    args = ["render", str(real / shot.image)]
    if shot.depth is not None:
        args += ["--depth", str(real / shot.depth)]
    if shot.tiktok:
        args += ["--preset", "tiktok"]
    args += ["-t", shot.trajectory]
    if shot.playback is not None:
        args.append(f"--{shot.playback}")
    return args + ["--size", f"{frame_size[0]}x{frame_size[1]}", "--out", out]


def frame_indices(shot: Shot, frames: int) -> list[int]:
    """Indices of the frames shown (``int(f * frames)`` for each fraction, inside the clip)."""
    return [min(frames - 1, int(f * frames)) for f in shot.fractions]


def render_shot(
    scene: Scene, settings: photo3d.RenderSettings, indices: list[int], context=None
) -> tuple[list[np.ndarray], list[tuple[float, float]], list[float], float, CameraPlan]:
    """Renders only the frames ``indices`` of a clip, each exactly as ``photo3d render`` writes it.

    The clip is prepared from all its cameras (:meth:`photo3d.Studio.prepare`: LDI, mesh and edge
    zoom as for the video); then only the chosen frames are drawn (mono; ``settings.stereo`` must be None).

    Args:
        scene: The photo, depth and camera.
        settings: The render settings of the clip.
        indices: Frame indices to render.
        context: A moderngl context to share (tests), or None for the studio's own.

    Returns:
        ``(frames, crop centre per frame (see :func:`silhouette_point`), render seconds per frame,
        LDI+mesh seconds, plan)``.

    """
    if settings.stereo is not None:
        raise ValueError("render_shot renders mono frames only")
    with photo3d.Studio(context=context) as studio:
        t0 = time.perf_counter()
        clip = studio.prepare(scene, settings)
        build_s = time.perf_counter() - t0
        plan = clip.plan
        target = silhouette_point(scene, clip.cameras[indices[0]])
        dx = (plan.frame_size[0] - plan.view_size[0]) / 2.0  # letterbox offset (contain framing)
        dy = (plan.frame_size[1] - plan.view_size[1]) / 2.0
        frames, centres, times = [], [], []
        drawn = studio.frames(clip, indices=indices)
        for i in indices:
            t0 = time.perf_counter()
            frames.append(np.array(next(drawn)))
            times.append(time.perf_counter() - t0)
            u, v = project(target, *clip.cameras[i])
            centres.append((u + dx, v + dy))
        drawn.close()
    return frames, centres, times, build_s, plan


def silhouette_point(scene: Scene, camera: tuple[photo3d.Pose, photo3d.Intrinsics], analysis: int = 512) -> np.ndarray:
    """The photo's most parallax-heavy silhouette in view: the centre of the crop window.

    In normalised disparity (``z_min / z``, proportional to how far a point moves when the camera
    translates), the jumps between neighbouring pixels are summed over a window of half the frame
    (the crop, mapped onto the photo); the window with the largest sum among those whose centre
    ``camera`` sees wins. Its point is placed at the near side of the edge, so the crop follows the
    foreground.

    Args:
        scene: The photo.
        camera: A frame's ``(pose, intrinsics)`` (after the framing's zoom).
        analysis: Longer side of the downsampled depth map the search runs on.

    Returns:
        ``(3,)`` point in the source camera's frame.

    """
    pose, k = camera
    src = scene.intrinsics
    h, w = scene.depth.shape
    s = min(1.0, analysis / max(h, w))
    small = cv2.resize(scene.depth, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_NEAREST)
    disparity = float(small.min()) / small
    jumps = np.zeros_like(disparity)
    jumps[:, :-1] = np.abs(np.diff(disparity, axis=1))
    jumps[:-1, :] = np.maximum(jumps[:-1, :], np.abs(np.diff(disparity, axis=0)))
    jumps[jumps < 0.02] = 0.0  # smooth slopes are no silhouettes
    window = (
        max(1, round(k.width / CROP_ZOOM * src.fx / k.fx * s)),
        max(1, round(k.height / CROP_ZOOM * src.fy / k.fy * s)),
    )
    score = cv2.boxFilter(jumps, -1, window, normalize=False, borderType=cv2.BORDER_CONSTANT)
    # Only centres this frame sees.
    ys, xs = np.mgrid[0 : small.shape[0], 0 : small.shape[1]]
    x_src, y_src = (xs + 0.5) / s, (ys + 0.5) / s
    z_src = small.astype(np.float64)
    points = np.stack([(x_src - src.cx) / src.fx * z_src, (y_src - src.cy) / src.fy * z_src, z_src], axis=-1)
    m = pose.world_to_camera()
    q = points @ m[:3, :3].T + m[:3, 3]
    z = np.maximum(q[..., 2], 1e-9)
    u, v = k.fx * q[..., 0] / z + k.cx, k.fy * q[..., 1] / z + k.cy
    seen = (q[..., 2] > 1e-9) & (u > 0) & (u < k.width) & (v > 0) & (v < k.height)
    if not seen.any() or not score[seen].max() > 0:
        iy, ix = small.shape[0] // 2, small.shape[1] // 2
    else:
        iy, ix = np.unravel_index(np.argmax(np.where(seen, score, -1.0)), score.shape)
    near = float(small[max(0, iy - 2) : iy + 3, max(0, ix - 2) : ix + 3].min())
    x, y = (ix + 0.5) / s, (iy + 0.5) / s
    return np.array([(x - src.cx) / src.fx * near, (y - src.cy) / src.fy * near, near])


def project(point: np.ndarray, pose: photo3d.Pose, k: photo3d.Intrinsics) -> tuple[float, float]:
    """Output pixel of a source-frame point seen by ``(pose, k)`` (the frame centre if it is behind)."""
    m = pose.world_to_camera()
    q = m[:3, :3] @ point + m[:3, 3]
    if q[2] <= 0:
        return k.width / 2.0, k.height / 2.0
    return k.fx * q[0] / q[2] + k.cx, k.fy * q[1] / q[2] + k.cy


def zoom_crop(frame: np.ndarray, centre: tuple[float, float], factor: int = CROP_ZOOM) -> np.ndarray:
    """The ``1/factor`` window of ``frame`` around ``centre`` (kept inside), enlarged back to the frame's size."""
    h, w = frame.shape[:2]
    cw, ch = max(1, w // factor), max(1, h // factor)
    x0 = int(round(min(max(centre[0] - cw / 2.0, 0.0), w - cw)))
    y0 = int(round(min(max(centre[1] - ch / 2.0, 0.0), h - ch)))
    return cv2.resize(frame[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_NEAREST)


def label_height(long_side: int) -> int:
    """Height in pixels of the label strip over tiles whose longer side is ``long_side``."""
    return max(16, round(long_side / 40))


def label_strip(text: str, width: int, height: int, colour: tuple[int, int, int] = (235, 235, 235)) -> np.ndarray:
    """A black strip with ``text``, shrunk to fit the width (clipped below half size)."""
    strip = np.zeros((height, width, 3), np.uint8)
    scale = height / 44.0
    tw = cv2.getTextSize(text, FONT, scale, 1)[0][0]
    if tw > width - 6:
        scale *= max(0.5, (width - 6) / tw)
    th = cv2.getTextSize(text, FONT, scale, 1)[0][1]
    cv2.putText(strip, text, (3, (height + th) // 2), FONT, scale, colour, 1, cv2.LINE_AA)
    return strip


def compose_sheet(rows: list[list[tuple[np.ndarray, np.ndarray]]]) -> np.ndarray:
    """Lays out rows of ``(label strip, tile)`` left to right, rows top to bottom, ``GAP`` apart, on grey."""
    heights = [max(s.shape[0] + t.shape[0] for s, t in row) for row in rows]
    widths = [sum(t.shape[1] for _, t in row) + GAP * (len(row) + 1) for row in rows]
    sheet = np.empty((sum(heights) + GAP * (len(rows) + 1), max(widths), 3), np.uint8)
    sheet[:] = BACKGROUND
    y = GAP
    for row, height in zip(rows, heights, strict=True):
        x = GAP
        for strip, tile in row:
            sh, (th, tw) = strip.shape[0], tile.shape[:2]
            sheet[y : y + sh, x : x + tw] = strip
            sheet[y + sh : y + sh + th, x : x + tw] = tile
            x += tw + GAP
        y += height + GAP
    return sheet


def render_tiles(real: Path, size: tuple[int, int], context=None, log=print) -> list[Tile]:
    """Every shot's tiles (shots whose files are missing are skipped with a message)."""
    scenes: dict[str, tuple[Scene, float]] = {}
    tiles: list[Tile] = []
    for shot in SHOTS:
        missing = [p for p in (shot.image, shot.depth) if p is not None and not (real / p).is_file()]
        if missing:
            log(f"contact_sheet: skipping {shot.photo} {shot.trajectory}: {real / missing[0]} not found")
            continue
        if shot.image not in scenes:
            t0 = time.perf_counter()
            scene = photo3d.load_scene(real / shot.image, None if shot.depth is None else real / shot.depth)
            scenes[shot.image] = (scene, time.perf_counter() - t0)
        scene, load_s = scenes[shot.image]
        frame_size = shot_size(shot, (scene.intrinsics.width, scene.intrinsics.height), size)
        settings = shot_settings(shot, frame_size)
        n = settings.num_frames()
        indices = frame_indices(shot, n)
        log(f"{shot.photo} {shot.trajectory}: photo3d {' '.join(cli_args(shot, real, frame_size))}  (frames {indices})")
        frames, centres, times, build_s, _ = render_shot(scene, settings, indices, context)
        for i, frame, centre, render_s in zip(indices, frames, centres, times, strict=True):
            tiles.append(Tile(shot, i, n, frame, centre, load_s, build_s, render_s))
    return tiles


def build_sheet(tiles: list[Tile], crop: bool) -> np.ndarray:
    """The contact sheet: one row per :attr:`Shot.row`, and under it its 2x crops with ``crop``."""
    long_side = max(max(t.image.shape[:2]) for t in tiles)
    strip_h = label_height(long_side)
    rows = []
    for r in sorted({t.shot.row for t in tiles}):
        row = [t for t in tiles if t.shot.row == r]
        rows.append([(label_strip(t.label, t.image.shape[1], strip_h), t.image) for t in row])
        if crop:
            rows.append(
                [
                    (
                        label_strip(f"{t.label} {CROP_ZOOM}x crop", t.image.shape[1], strip_h, (255, 220, 90)),
                        zoom_crop(t.image, t.crop_px),
                    )
                    for t in row
                ]
            )
    return compose_sheet(rows)


def print_table(tiles: list[Tile]) -> None:
    """One line per tile; load is shared by a photo's tiles, LDI+mesh by a photo and trajectory's."""
    print(f"{'tile':<32} {'size':>9} {'load s':>7} {'LDI+mesh s':>11} {'render s':>9}")
    for t in tiles:
        size = f"{t.image.shape[1]}x{t.image.shape[0]}"
        print(f"{t.label:<32} {size:>9} {t.load_s:>7.2f} {t.build_s:>11.2f} {t.render_s:>9.3f}")


def main(argv: list[str] | None = None, *, context=None) -> int:
    """Runs the script; returns the exit status. ``context``: a moderngl context to share (tests)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the contact sheet, a .png file")
    parser.add_argument("--real", type=Path, default=REAL, help=f"the real-data folder (default {REAL})")
    parser.add_argument(
        "--size",
        type=parse_size,
        default=(540, 960),
        help="WxH of the TikTok tiles; the other photos get their own aspect with the longer side of this "
        "(default 540x960)",
    )
    parser.add_argument(
        "--crop", action="store_true", help="add 2x zoomed crops around the main silhouette under each row"
    )
    args = parser.parse_args(argv)

    if not args.real.is_dir():
        print(f"contact_sheet: real data folder {args.real} not found; nothing to render, no sheet written")
        return 0
    if args.out.suffix.lower() != ".png":
        print(f"contact_sheet: error: --out must be a .png file, got {args.out}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        check_writable(args.out)
        tiles = render_tiles(args.real, args.size, context, log=lambda m: print(m, file=sys.stderr, flush=True))
        if not tiles:
            print(f"contact_sheet: none of the photos was found in {args.real}; no sheet written")
            return 0
        sheet = build_sheet(tiles, args.crop)
        with atomic_output(args.out) as tmp:
            Image.fromarray(sheet).save(tmp, format="PNG")
    except Photo3DError as e:
        print(f"contact_sheet: error: {e}", file=sys.stderr)
        return 2
    print_table(tiles)
    h, w = sheet.shape[:2]
    print(
        f"wrote {args.out} ({w}x{h}, {len(tiles)} frames{', with 2x crops' if args.crop else ''}) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
