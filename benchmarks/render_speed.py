"""Render speed on the real photos, side by side with DepthFlow in the same run.

For every real photo with depth in ../shared/data/real, photo3d renders clips at
1080x1920 and 1920x1080 with SSAA 1, 2 and 4 (``--frames`` frames, default 30),
each in a fresh subprocess timed from start to the finished file (imports, load,
LDI, mesh, render, encode). The headline row is the issue's target: 120 frames at
1080x1920 with SSAA 2 on ``--headline`` (default moon, the 3d-photo-inpainting
sample), photo3d against DepthFlow rendering the same photo and depth map at the
same size, frame count, fps and SSAA (DepthFlow also renders the grid for that
photo, or for ``--depthflow-photos``). DepthFlow is installed from PyPI into a
temporary virtual environment (``benchmarks/depthflow_runner.py``); its column
is left empty if it cannot be installed.

A second table gives the triangle counts before and after simplification
(adaptive tessellation, see :func:`photo3d.mesh.triangulate.mesh_from_ldi`).

    .venv/bin/python benchmarks/render_speed.py                  # everything (about 30 min on 2 CPU cores)
    .venv/bin/python benchmarks/render_speed.py --quick          # moon only, SSAA 2, no DepthFlow
    .venv/bin/python benchmarks/render_speed.py --no-depthflow --json speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
REAL = _REPO.parent / "shared" / "data" / "real"
sys.path.insert(0, str(_REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# name -> (photo, depth map or None for embedded depth, depth kind, depth scale, focal length in pixels)
PHOTOS: dict[str, tuple[str, str | None, str, float | None, float | None]] = {
    "moon": ("peer_3dphoto_moon/image/moon.jpg", "peer_3dphoto_moon/depth/moon.png", "auto", None, None),
    "cones": ("mb2003_cones/im2.png", "mb2003_cones/disp2.png", "disparity", None, None),
    "tsukuba": (
        "mb2001_tsukuba/scene1.row3.col3.ppm",
        "mb2001_tsukuba/truedisp.row3.col3.pgm",
        "disparity",
        None,
        None,
    ),
    "tum": ("tum_rgbd_sample/TUM_color.png", "tum_rgbd_sample/TUM_depth.png", "depth", 0.0002, 525.0),
    "iclnuim": ("synth_iclnuim_open3d/color/00000.jpg", "synth_iclnuim_open3d/depth/00000.png", "depth", 0.001, 525.0),
    "lensblur": ("google_lensblur_depthy/1.jpg", None, "auto", None, None),
    "pug": ("apple_portrait_pug/pug.heic", None, "auto", None, None),
}

_CHILD = r"""
import json, sys, time
t_start = time.perf_counter()
sys.path.insert(0, {repo!r})
from pathlib import Path
from photo3d.depth.conversions import DepthOptions
from photo3d.pipeline import load_scene
from photo3d.settings import DepthSettings, RenderSettings
from photo3d.session import render_clip
depth = {depth!r}
settings = DepthSettings(path=Path(depth) if depth else None, options=DepthOptions(kind={kind!r}, scale={scale!r}))
scene = load_scene({photo!r}, settings, focal_px={focal!r})
t_loaded = time.perf_counter()
report = render_clip(scene, {out!r}, RenderSettings(trajectory={trajectory!r}, frames={frames}, size={size!r},
                     ssaa={ssaa}, simplify={simplify}))
t_end = time.perf_counter()
print(json.dumps(dict(load_s=t_loaded - t_start, ldi_mesh_s=report.timings["ldi_mesh"],
                      render_s=report.timings["render"], faces=report.faces, frames=report.frames,
                      renderer=report.renderer)))
"""


def photo3d_run(
    name: str, size: tuple[int, int], frames: int, ssaa: float, trajectory: str, simplify: float, tmp: Path
):
    """One photo3d render in a fresh process; wall time from process start to the finished file."""
    photo, depth, kind, scale, focal = PHOTOS[name]
    out = tmp / f"p3d_{name}_{size[0]}x{size[1]}_{ssaa}.mp4"
    code = _CHILD.format(
        repo=str(_REPO),
        photo=str(REAL / photo),
        depth=str(REAL / depth) if depth else None,
        kind=kind,
        scale=scale,
        focal=focal,
        out=str(out),
        trajectory=trajectory,
        frames=frames,
        size=size,
        ssaa=ssaa,
        simplify=simplify,
    )
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        print(f"  photo3d failed on {name}: {res.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    row = json.loads(res.stdout.strip().splitlines()[-1])
    row.update(wall_s=wall, fps=frames / wall)
    out.unlink(missing_ok=True)
    return row


def depthflow_run(python, name: str, size: tuple[int, int], frames: int, ssaa: float, tmp: Path):
    from depthflow_runner import run_depthflow

    photo, depth, *_ = PHOTOS[name]
    if depth is None:
        return None
    out = tmp / f"df_{name}_{size[0]}x{size[1]}_{ssaa}.mp4"
    res = run_depthflow(python, REAL / photo, REAL / depth, out, size[0], size[1], frames, 30.0, ssaa)
    out.unlink(missing_ok=True)
    return res


def triangle_counts(names: list[str], size: tuple[int, int], trajectory: str, error_px: float) -> list[dict]:
    """Faces of the full-resolution mesh against the simplified one, for the cameras of one clip."""
    from photo3d.depth.conversions import DepthOptions
    from photo3d.ldi.layering import build_ldi
    from photo3d.mesh.triangulate import mesh_from_ldi, simplify_tolerance
    from photo3d.pipeline import load_scene, plan_cameras
    from photo3d.settings import DepthSettings, RenderSettings

    rows = []
    for name in names:
        photo, depth, kind, scale, focal = PHOTOS[name]
        ds = DepthSettings(path=REAL / depth if depth else None, options=DepthOptions(kind=kind, scale=scale))
        scene = load_scene(REAL / photo, ds, focal_px=focal)
        cameras = plan_cameras(scene, RenderSettings(trajectory=trajectory, frames=120, size=size))
        ldi = build_ldi(scene.image, scene.depth, scene.intrinsics, [p for p, _ in cameras])
        t0 = time.perf_counter()
        full = mesh_from_ldi(ldi)
        t1 = time.perf_counter()
        simple = mesh_from_ldi(ldi, max_error=simplify_tolerance(cameras, error_px, scene.intrinsics))
        t2 = time.perf_counter()
        rows.append(
            dict(
                photo=name,
                pixels=f"{scene.intrinsics.width}x{scene.intrinsics.height}",
                faces_full=full.num_faces,
                faces_simplified=simple.num_faces,
                ratio=full.num_faces / simple.num_faces,
                full_s=t1 - t0,
                simplified_s=t2 - t1,
            )
        )
        print(f"  triangles {name}: {full.num_faces:,} -> {simple.num_faces:,}", file=sys.stderr)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", default=",".join(PHOTOS), help="comma-separated subset of " + ", ".join(PHOTOS))
    parser.add_argument("--frames", type=int, default=30, help="frames per grid run (default 30)")
    parser.add_argument("--ssaa", default="1,2,4", help="SSAA factors of the grid (default 1,2,4)")
    parser.add_argument("--sizes", default="1080x1920,1920x1080", help="output sizes of the grid")
    parser.add_argument("--trajectory", default="swing", help="trajectory of every run (default swing)")
    parser.add_argument("--headline", default="moon", help="photo of the 120-frame comparison with DepthFlow")
    parser.add_argument("--simplify", type=float, default=None, help="simplification error in px (default photo3d's)")
    parser.add_argument("--no-depthflow", action="store_true", help="skip DepthFlow")
    parser.add_argument("--depthflow-venv", default=None, help="reuse or create DepthFlow's environment here")
    parser.add_argument(
        "--depthflow-photos", default=None, help="photos DepthFlow also renders in the grid (default: the headline's)"
    )
    parser.add_argument("--no-grid", action="store_true", help="only the headline comparison and triangle counts")
    parser.add_argument("--quick", action="store_true", help="moon only, 1080x1920 SSAA 2, no DepthFlow")
    parser.add_argument("--json", default=None, help="also write all rows to this JSON file")
    args = parser.parse_args()
    from photo3d.settings import RenderSettings

    simplify = RenderSettings().simplify if args.simplify is None else args.simplify
    if not REAL.is_dir():
        print(f"real data not found at {REAL}", file=sys.stderr)
        return 1
    names = [n for n in args.photos.split(",") if n]
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    ssaas = [float(v) for v in args.ssaa.split(",")]
    if args.quick:
        names, sizes, ssaas, args.no_depthflow = ["moon"], [(1080, 1920)], [2.0], True
        args.headline = "moon"
    python = None
    if not args.no_depthflow:
        from depthflow_runner import ensure_depthflow

        python = ensure_depthflow(Path(args.depthflow_venv) if args.depthflow_venv else None)
    df_photos = set((args.depthflow_photos or args.headline).split(","))
    results: dict[str, list] = {"grid": [], "headline": [], "triangles": []}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # Headline: the issue's target, 120 frames of 1080x1920 at SSAA 2.
        me = photo3d_run(args.headline, (1080, 1920), 120, 2.0, args.trajectory, simplify, tmp)
        full = photo3d_run(args.headline, (1080, 1920), 120, 2.0, args.trajectory, 0.0, tmp)
        df = depthflow_run(python, args.headline, (1080, 1920), 120, 2.0, tmp) if python else None
        results["headline"].append(dict(photo=args.headline, photo3d=me, photo3d_full_mesh=full, depthflow=df))
        if not args.no_grid:
            for name in names:
                for size in sizes:
                    for ssaa in ssaas:
                        row = dict(photo=name, size=f"{size[0]}x{size[1]}", ssaa=ssaa)
                        row["photo3d"] = photo3d_run(name, size, args.frames, ssaa, args.trajectory, simplify, tmp)
                        if python and name in df_photos:
                            row["depthflow"] = depthflow_run(python, name, size, args.frames, ssaa, tmp)
                        results["grid"].append(row)
                        p = row["photo3d"]
                        print(f"  {name} {row['size']} ssaa {ssaa}: {p['wall_s'] if p else '-'} s", file=sys.stderr)
    results["triangles"] = triangle_counts(names, (1080, 1920), args.trajectory, simplify)
    if args.json:  # first, so a long run's numbers survive any printing problem
        Path(args.json).write_text(json.dumps(results, indent=2))
    print_tables(results, args.frames)
    return 0


def _fmt(v, spec: str = ".1f", unit: str = "") -> str:
    return "-" if v is None else format(v, spec) + unit


def print_tables(results: dict, frames: int) -> None:
    print("\n## 120 frames, 1080x1920, SSAA 2 (wall time from process start to the finished file)\n")
    print("| photo | photo3d | photo3d, full mesh | DepthFlow | photo3d / DepthFlow | render+encode | faces |")
    print("|---|---|---|---|---|---|---|")
    for r in results["headline"]:
        me, full, df = r["photo3d"], r["photo3d_full_mesh"], r["depthflow"]
        ratio = me["wall_s"] / df["seconds"] if me and df else None
        print(
            f"| {r['photo']} | {_fmt(me and me['wall_s'], unit=' s')} | {_fmt(full and full['wall_s'], unit=' s')} "
            f"| {_fmt(df and df['seconds'], unit=' s')} | {_fmt(ratio, '.2f')} "
            f"| {_fmt(me and me['render_s'], unit=' s')} | {_fmt(me and me['faces'], ',')} |"
        )
    if results["grid"]:
        print(f"\n## fps over {frames} frames (whole run: load, LDI, mesh, render, encode)\n")
        print("| photo | size | SSAA | photo3d fps | photo3d render-only fps | DepthFlow fps | speed-up |")
        print("|---|---|---|---|---|---|---|")
        for r in results["grid"]:
            me, df = r.get("photo3d"), r.get("depthflow")
            df_fps = frames / df["seconds"] if df else None
            render_fps = frames / me["render_s"] if me else None
            speedup = me["fps"] / df_fps if me and df_fps else None
            print(
                f"| {r['photo']} | {r['size']} | {r['ssaa']:g} | {_fmt(me and me['fps'], '.2f')} "
                f"| {_fmt(render_fps, '.2f')} | {_fmt(df_fps, '.2f')} | {_fmt(speedup, '.2f')} |"
            )
    print("\n## triangles before and after simplification (trajectory cameras of a 1080x1920 clip)\n")
    print("| photo | pixels | full mesh | simplified | ratio | mesh time full | simplified |")
    print("|---|---|---|---|---|---|---|")
    for r in results["triangles"]:
        print(
            f"| {r['photo']} | {r['pixels']} | {r['faces_full']:,} | {r['faces_simplified']:,} | {r['ratio']:.1f}x "
            f"| {r['full_s']:.2f} s | {r['simplified_s']:.2f} s |"
        )


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    raise SystemExit(main())
