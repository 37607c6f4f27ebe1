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
    import numpy as np

    from photo3d.camera.framing import edge_zoom
    from photo3d.io.ply import write_ply
    from photo3d.io.video import open_writer
    from photo3d.pipeline import RenderSettings, Scene, build_3d_photo, load_scene, plan_cameras, render_frames
    from photo3d.render.renderer import Renderer

    if sample:
        from photo3d.sample import make_sample_scene

        s = make_sample_scene()
        scene = Scene(s.image, s.depth, s.intrinsics)
        name = "sample 960x640"
    else:
        folder = REAL / "tum_rgbd_sample"
        scene = load_scene(folder / "TUM_color.png", folder / "TUM_depth.png", "depth", focal_px=525.0)
        name = "tum_rgbd_sample"
    wh = tuple(int(v) for v in size.split("x")) if size else None
    settings = RenderSettings(trajectory=trajectory, frames=frames, size=wh, ssaa=ssaa)
    row = {
        "input": name,
        "size": size or f"{scene.intrinsics.width}x{scene.intrinsics.height}",
        "frames": frames,
        "ssaa": ssaa,
    }

    cameras = plan_cameras(scene, settings)
    t0 = time.perf_counter()
    ldi, mesh = build_3d_photo(scene, [p for p, _ in cameras])
    row["ldi_mesh_s"] = time.perf_counter() - t0
    row["vertices"], row["faces"], row["band_px"] = mesh.num_vertices, mesh.num_faces, ldi.band_px
    zoom = edge_zoom(ldi.depth[0], scene.intrinsics, cameras)
    cameras = [(p, k.zoomed(zoom)) for p, k in cameras]
    k0 = cameras[0][1]

    with tempfile.TemporaryDirectory() as tmp:
        ply = Path(tmp) / "mesh.ply"
        t0 = time.perf_counter()
        write_ply(ply, mesh, scene.intrinsics)
        row["ply_s"] = time.perf_counter() - t0
        row["ply_mb"] = ply.stat().st_size / 1e6

        with Renderer(k0.width, k0.height, ssaa) as r:
            row["renderer"] = r.renderer_name.split(" (OpenGL")[0]
            r.upload(mesh)
            frame = r.render(*cameras[0])
            t0 = time.perf_counter()
            for pose, k in cameras:
                frame = r.render(pose, k)
            row["render_ms_per_frame"] = 1000 * (time.perf_counter() - t0) / len(cameras)

        frame = np.ascontiguousarray(frame)
        t0 = time.perf_counter()
        with open_writer(Path(tmp) / "encode.mp4", k0.width, k0.height, 30.0) as w:
            for _ in cameras:
                w.write(frame)
        row["encode_ms_per_frame"] = 1000 * (time.perf_counter() - t0) / len(cameras)

        t0 = time.perf_counter()
        render_frames(mesh, cameras, Path(tmp) / "clip.mp4", 30.0, ssaa)
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
