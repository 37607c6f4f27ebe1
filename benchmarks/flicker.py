"""Temporal flicker (shimmer) of fine texture under slow camera motion, per anti-aliasing setting.

The ``fine_texture`` synthetic scene (:mod:`benchmarks.synthetic`: a room of
procedural 1-pixel texture) is lifted to an LDI and mesh once, then rendered
while the camera slides sideways by about 0.13 output pixels per frame (a
static scene, a constant sub-pixel speed). :func:`benchmarks.metrics.temporal_flicker`
measures the mean absolute second temporal difference in linear light: near
zero for a band-limited rendering, large where texture crawls and shimmers.
The photo is shown at 1.5x magnification and, more demanding, at 0.5x
(minified: texture above the output's Nyquist frequency).

    .venv/bin/python benchmarks/flicker.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.metrics import temporal_flicker  # noqa: E402
from benchmarks.synthetic import render_view, scene_catalog  # noqa: E402
from photo3d.camera.intrinsics import Pose  # noqa: E402
from photo3d.ldi.layering import build_ldi  # noqa: E402
from photo3d.mesh.triangulate import mesh_from_ldi, simplify_tolerance  # noqa: E402
from photo3d.render.renderer import Renderer  # noqa: E402

SETTINGS = [(1.0, 0), (1.5, 0), (2.0, 0), (4.0, 0), (1.0, 4), (2.0, 4)]
FRAMES = 24


def main() -> int:
    scene, k = scene_catalog(320, 240)["fine_texture"]
    view = render_view(scene, k, Pose.identity(), samples=3)
    near = float(np.percentile(view.depth, 10))
    rows = []
    for magnification in (1.5, 0.5):
        out_k = k.scaled(round(k.width * magnification), round(k.height * magnification))
        step = 0.13 * near / out_k.fx  # camera translation for 0.13 px per frame at the near depth
        poses = [Pose.translation(i * step, 0.0, 0.0) for i in range(FRAMES)]
        ldi = build_ldi(view.image, view.depth, k, poses)
        meshes = {
            "full": mesh_from_ldi(ldi),
            "simplified": mesh_from_ldi(ldi, max_error=simplify_tolerance([(p, out_k) for p in poses])),
        }
        for name, mesh in meshes.items():
            for ssaa, msaa in SETTINGS:
                with Renderer(out_k.width, out_k.height, ssaa, msaa=msaa) as r:
                    r.upload(mesh)
                    t0 = time.perf_counter()
                    frames = np.stack([r.render(p, out_k) for p in poses])
                    ms = 1000 * (time.perf_counter() - t0) / FRAMES
                rows.append((magnification, name, ssaa, msaa, 255 * temporal_flicker(frames), ms))
                print(f"  {magnification}x {name} ssaa {ssaa} msaa {msaa}: {rows[-1][4]:.2f}", file=sys.stderr)
    print("\n| scale | mesh | SSAA | MSAA | flicker (8-bit linear units) | ms/frame |")
    print("|---|---|---|---|---|---|")
    for mag, name, ssaa, msaa, flicker, ms in rows:
        print(f"| {mag:g}x | {name} | {ssaa:g} | {msaa} | {flicker:.2f} | {ms:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
