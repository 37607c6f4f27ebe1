"""Time depth estimation: the network, the upsampling with edge placement and the depth cache.

Builds the Depth Anything V2 Small architecture with random weights (the same cost
as the trained model; no download) unless --model names a real one, then estimates
the depth of a synthetic photo of each size through photo3d's own code path.

    .venv/bin/python benchmarks/depth_speed.py                      # 1080x1920 and 1920x1080
    .venv/bin/python benchmarks/depth_speed.py --model depth-anything/Depth-Anything-V2-Small-hf --sizes 1080x1920
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, run from a checkout


def synthetic_scene(width: int, height: int):
    from photo3d.sample import make_sample_scene

    return make_sample_scene(width, height)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model id or folder (default: Depth Anything V2 Small, random weights)")
    parser.add_argument("--sizes", default="1080x1920,1920x1080", help="comma-separated WIDTHxHEIGHT photo sizes")
    parser.add_argument("--resolution", type=int, default=None, help="network input size (default: the model's)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (the best is reported)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()

    import torch

    from photo3d.depth.cache import DepthCache
    from photo3d.depth.estimate import DepthEstimator
    from photo3d.depth.upsample import upsample_disparity
    from tests.support.models import save_random_model

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(save_random_model(Path(tmp) / "dav2-small", "depth-anything-v2-small"))
        name = args.model or "Depth-Anything-V2-Small architecture, random weights"
        t0 = time.perf_counter()
        estimator = DepthEstimator(model, resolution=args.resolution)
        estimator._load()
        load_s = time.perf_counter() - t0
        rows = []
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.lower().split("x"))
            scene = synthetic_scene(w, h)
            image = scene.image
            estimator.predict(image)  # warm-up
            best = None
            for _ in range(args.repeat):
                cpu0, t = time.process_time(), time.perf_counter()
                prediction = estimator.predict(image)
                total, cpu = time.perf_counter() - t, time.process_time() - cpu0
                if best is None or total < best[0]:
                    best = (total, prediction.seconds, cpu)
            net = (max(1, w * 518 // min(w, h)), max(1, h * 518 // min(w, h)))  # the scene's disparity at 518 px
            low = cv2.resize((1.0 / scene.depth).astype(np.float32), net, interpolation=cv2.INTER_AREA)
            t = time.perf_counter()
            upsample_disparity(low, image)
            upsample_s = time.perf_counter() - t
            cache = DepthCache(Path(tmp) / "cache")
            cache.predict(estimator, image)
            t = time.perf_counter()
            _, hit = cache.predict(estimator, image)
            cache_s = time.perf_counter() - t
            assert hit
            rows.append(
                {
                    "photo": f"{w}x{h}",
                    "network_s": best[1],
                    "predict_s": best[0],
                    "cpu_s": best[2],
                    "upsample_s": upsample_s,
                    "cache_hit_s": cache_s,
                }
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model: {name}; device {estimator.device}; torch threads {torch.get_num_threads()}; load {load_s:.2f} s")
    print(
        "| photo | network (preprocess + forward + post-process) | predict total (+ upsampling) "
        "| CPU time of predict | upsample alone (sample disparity, 518 px short side) | cache hit |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['photo']} | {r['network_s']:.2f} s | {r['predict_s']:.2f} s | {r['cpu_s']:.2f} s "
            f"| {r['upsample_s']:.2f} s | {r['cache_hit_s'] * 1000:.0f} ms |"
        )
    print(f"peak RSS {peak_mb:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"model": name, "load_s": load_s, "peak_mb": peak_mb, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
