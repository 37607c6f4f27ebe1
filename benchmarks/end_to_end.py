"""End-to-end cost of one 3D photo: LDI+mesh, render, encode, PLY, memory.

Runs each configuration in a fresh subprocess (so peak memory is its own) on a
real photo from ../shared/data/real, or on photo3d's generated sample scene
with --sample, and prints one table.

    .venv/bin/python benchmarks/end_to_end.py                 # tum_rgbd_sample, own size and 1080x1920
    .venv/bin/python benchmarks/end_to_end.py --frames 120 --json results.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def measure(size: str | None, frames: int, ssaa: int, trajectory: str, sample: bool) -> dict:
    """One configuration, through the same session the ``photo3d`` command uses."""
    import numpy as np

    import photo3d
    from photo3d.depth.conversions import DepthOptions
    from photo3d.io.ply import write_ply
    from photo3d.io.video import open_writer

    with photo3d.Studio() as studio:
        if sample:
            from photo3d.sample import make_sample_scene

            s = make_sample_scene()
            scene = photo3d.Scene(s.image, s.depth, s.intrinsics)
            name = "sample 960x640"
        else:
            folder = REAL / "tum_rgbd_sample"
            # TUM's depth PNG holds depth in units of 1/5000 m (its MANIFEST.md).
            depth = photo3d.DepthSettings(path=folder / "TUM_depth.png", options=DepthOptions(kind="depth", scale=2e-4))
            scene = studio.load(folder / "TUM_color.png", depth, focal_px=525.0)
            name = "tum_rgbd_sample"
        wh = tuple(int(v) for v in size.split("x")) if size else None
        settings = photo3d.RenderSettings(trajectory=trajectory, frames=frames, size=wh, ssaa=ssaa)
        row = {
            "input": name,
            "size": size or f"{scene.intrinsics.width}x{scene.intrinsics.height}",
            "frames": frames,
            "ssaa": ssaa,
        }

        t0 = time.perf_counter()
        clip = studio.prepare(scene, settings)
        row["ldi_mesh_s"] = time.perf_counter() - t0
        row["vertices"], row["faces"], row["band_px"] = clip.mesh.num_vertices, clip.mesh.num_faces, clip.ldi.band_px

        with tempfile.TemporaryDirectory() as tmp:
            ply = Path(tmp) / "mesh.ply"
            t0 = time.perf_counter()
            write_ply(ply, photo3d.mesh_from_ldi(clip.ldi), scene.intrinsics)
            row["ply_s"] = time.perf_counter() - t0
            row["ply_mb"] = ply.stat().st_size / 1e6

            drawn = studio.frames(clip, on_start=lambda name: row.update(renderer=name.split(" (OpenGL")[0]))
            frame = next(drawn)  # the renderer's set-up and upload are not counted
            t0 = time.perf_counter()
            for _ in drawn:
                pass
            row["render_ms_per_frame"] = 1000 * (time.perf_counter() - t0) / max(1, clip.num_frames - 1)

            frame = np.ascontiguousarray(frame)
            t0 = time.perf_counter()
            with open_writer(Path(tmp) / "encode.mp4", *clip.frame_size, 30.0) as w:
                for _ in range(clip.num_frames):
                    w.write(frame)
            row["encode_ms_per_frame"] = 1000 * (time.perf_counter() - t0) / clip.num_frames

            t0 = time.perf_counter()
            studio.render_clip(scene, Path(tmp) / "clip.mp4", settings)
            row["render_encode_s"] = time.perf_counter() - t0

    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


COLUMNS = [
    ("input", "{}"),
    ("size", "{}"),
    ("ssaa", "{}"),
    ("frames", "{}"),
    ("ldi_mesh_s", "{:.2f}"),
    ("render_ms_per_frame", "{:.0f}"),
    ("encode_ms_per_frame", "{:.1f}"),
    ("render_encode_s", "{:.1f}"),
    ("ply_s", "{:.2f}"),
    ("ply_mb", "{:.1f}"),
    ("vertices", "{:,}"),
    ("faces", "{:,}"),
    ("band_px", "{}"),
    ("peak_rss_mb", "{:.0f}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="own,1080x1920", help="comma-separated WxH, 'own' = the photo's size")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--ssaa", type=int, default=2)
    parser.add_argument("--trajectory", default="dolly")
    parser.add_argument("--sample", action="store_true", help="use the generated sample scene instead of TUM")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        size = None if args.one == "own" else args.one
        print(json.dumps(measure(size, args.frames, args.ssaa, args.trajectory, args.sample)))
        return
    if not args.sample and not REAL.is_dir():
        sys.exit(f"real data not found at {REAL}; pass --sample to use the generated scene")
    rows = []
    for size in args.sizes.split(","):
        cmd = [
            sys.executable,
            __file__,
            "--one",
            size,
            "--frames",
            str(args.frames),
            "--ssaa",
            str(args.ssaa),
            "--trajectory",
            args.trajectory,
        ] + (["--sample"] if args.sample else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"renderer: {rows[0]['renderer']}; trajectory {args.trajectory}")
    widths = [max(len(c), *(len(f.format(r[c])) for r in rows)) for c, f in COLUMNS]
    print("  ".join(c.ljust(w) for (c, _), w in zip(COLUMNS, widths, strict=True)))
    for r in rows:
        print("  ".join(f.format(r[c]).ljust(w) for (c, f), w in zip(COLUMNS, widths, strict=True)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
