"""Depth accuracy of depth models on the real photos with ground truth (../shared/data/real).

For each model and item (TUM RGB-D, KITTI LiDAR, Middlebury cones and tsukuba)
it predicts depth with photo3d.depth.estimate.DepthEstimator, aligns the prediction to
the ground truth by least-squares scale and shift in disparity space (MiDaS
protocol, benchmarks.metrics.depth_metrics) and prints AbsRel and δ<1.25 over the
pixels with ground truth (KITTI: only the ~20k LiDAR pixels).

--gt evaluates the ground truth itself as a check on the harness: "gt" (the
depth) and "gt-affine" (an affine map of its disparity) must score AbsRel 0 and
δ 1; "gt-noise10%" (depth × exp(N(0, 0.1²)), seeded) about AbsRel 0.07 and
δ 0.98. "gt-shuffled" (the same depths at random pixels, seeded) carries no
information: alignment reduces it to about one constant depth, so it is the
floor a model must beat on that item (high on TUM, whose depths cluster). "gt-flipped"
(depth passed off as disparity: near and far swapped) shows a pitfall of the
protocol: the fitted scale is free to turn negative and so undoes most of the
swap (the scale column shows the sign; a real model should never need s < 0).

Timing: "load s" is loading the weights plus one warm-up prediction on a small
image; "seconds" is the wall time of DepthEstimator.predict on the item
(preprocessing, network, resampling to the photo's size), "net s" the network
part that the estimator reports (with --repeat N: medians of N runs).

    .venv/bin/python benchmarks/depth_accuracy.py --gt --random tiny-depth-anything
    .venv/bin/python benchmarks/depth_accuracy.py --model depth-anything/Depth-Anything-V2-Small-hf --json da2.json
    .venv/bin/python benchmarks/depth_accuracy.py --random depth-anything-v2-small --items cones,tsukuba
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package, run from a checkout

from benchmarks.ground_truth import LOADERS, REAL, GroundTruth  # noqa: E402
from benchmarks.metrics import depth_metrics  # noqa: E402
from photo3d.errors import Photo3DError  # noqa: E402

NOISE_SIGMA = 0.1
"""Standard deviation of the log-normal depth noise of the "gt-noise10%" row."""

Predictor = Callable[[GroundTruth], tuple[np.ndarray, str, float | None]]
"""Item -> ((H, W) prediction, "depth" or "disparity", network seconds or None)."""


def gt_predictors() -> Iterator[tuple[str, Predictor]]:
    """The ground-truth "models" of --gt (zero where the ground truth is unknown)."""
    known = lambda item: item.depth > 0  # noqa: E731

    def affine(item: GroundTruth) -> tuple[np.ndarray, str, None]:
        disp = np.where(known(item), 1.0 / np.where(known(item), item.depth, 1.0), 0.0)
        return np.where(known(item), 3.0 * disp + 0.5 * disp.max(), 0.0).astype(np.float32), "disparity", None

    def noisy(item: GroundTruth) -> tuple[np.ndarray, str, None]:
        rng = np.random.default_rng(0)
        noise = np.exp(rng.normal(0.0, NOISE_SIGMA, item.depth.shape))
        return (item.depth * noise).astype(np.float32), "depth", None

    def shuffled(item: GroundTruth) -> tuple[np.ndarray, str, None]:
        out = item.depth.copy()
        out[known(item)] = np.random.default_rng(0).permutation(item.depth[known(item)])
        return out, "depth", None

    yield "gt", lambda item: (item.depth, "depth", None)
    yield "gt-affine", affine
    yield f"gt-noise{NOISE_SIGMA:.0%}", noisy
    yield "gt-shuffled", shuffled
    yield "gt-flipped", lambda item: (item.depth, "disparity", None)


def model_predictor(model: str, device: str | None, resolution: int | None) -> tuple[Predictor, float]:
    """Loads a model through photo3d.depth.estimate (with one warm-up run); returns its predictor and that time in s."""
    from photo3d.depth.estimate import DepthEstimator

    t0 = time.perf_counter()
    estimator = DepthEstimator(model, device=device, resolution=resolution)
    estimator.predict(np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8))  # loads the weights
    load_s = time.perf_counter() - t0

    def predict(item: GroundTruth) -> tuple[np.ndarray, str, float | None]:
        pred = estimator.predict(item.image)
        if pred.values.shape != item.depth.shape:
            raise SystemExit(f"{model}: prediction has shape {pred.values.shape}, expected {item.depth.shape}")
        return pred.values, pred.kind, pred.seconds

    return predict, load_s


def evaluate(label: str, predict: Predictor, item: GroundTruth, load_s: float | None = None, repeat: int = 1) -> dict:
    """One table row: predicts (timed; median of ``repeat`` runs), aligns and scores on every pixel with GT."""
    runs = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        pred, kind, net_s = predict(item)
        runs.append((time.perf_counter() - t0, net_s))
    seconds = float(np.median([r[0] for r in runs]))
    net_s = None if net_s is None else float(np.median([r[1] for r in runs]))
    m = depth_metrics(pred, kind, item.depth, item.depth > 0)
    timing = {"load_s": load_s, "seconds": seconds if net_s is not None else None, "net_s": net_s}
    return {"model": label, "item": item.name, "kind": kind, "units": item.units, **timing, **m.as_dict()}


COLUMNS = [
    ("model", "model", "{}"),
    ("item", "item", "{}"),
    ("kind", "kind", "{}"),
    ("pixels", "pixels", "{:,}"),
    ("abs_rel", "AbsRel", "{:.4f}"),
    ("delta1", "δ<1.25", "{:.4f}"),
    ("rmse", "RMSE", "{:.3g}"),
    ("units", "GT units", "{}"),
    ("scale", "scale", "{:+.3g}"),
    ("load_s", "load s", "{:.2f}"),
    ("seconds", "seconds", "{:.2f}"),
    ("net_s", "net s", "{:.2f}"),
]


def print_table(rows: list[dict]) -> None:
    """Prints the rows as an aligned text table ("-" for timings that do not apply)."""
    cells = [[("-" if r[k] is None else f.format(r[k])) for k, _, f in COLUMNS] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h, _) in enumerate(COLUMNS)]
    print("  ".join(h.ljust(w) for (_, h, _), w in zip(COLUMNS, widths, strict=True)))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model", action="append", default=[], metavar="ID_OR_DIR", help="Hugging Face depth model id or local folder"
    )
    parser.add_argument(
        "--random", action="append", default=[], metavar="ARCH", help="random-weight model (tests.support.models)"
    )
    parser.add_argument("--gt", action="store_true", help="evaluate the ground truth itself (harness check)")
    parser.add_argument("--resolution", type=int, help="model input resolution (default: the model's)")
    parser.add_argument("--device", help="torch device (default: automatic)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="predictions per item; times are the median (the first run on a new image size is slower)",
    )
    parser.add_argument("--items", default=",".join(LOADERS), help=f"comma-separated, from {','.join(LOADERS)}")
    parser.add_argument("--real", type=Path, default=REAL, help="the real-data folder (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    items = [s.strip() for s in args.items.split(",") if s.strip()]
    unknown = [s for s in items if s not in LOADERS]
    if unknown:
        parser.error(f"unknown item(s) {', '.join(unknown)}; choose from {', '.join(LOADERS)}")
    if not (args.model or args.random or args.gt):
        parser.error("nothing to evaluate: give --gt, --model ID_OR_DIR and/or --random ARCH")
    if not args.real.is_dir():
        print(f"real data not found at {args.real}; skipping the depth accuracy benchmark")
        return

    data = [LOADERS[name](args.real) for name in items]
    rows: list[dict] = []
    with contextlib.ExitStack() as stack:
        if args.gt:
            for label, predict in gt_predictors():
                rows += [evaluate(label, predict, item) for item in data]
        models = [(m, m) for m in args.model]
        if args.random:
            from tests.support.models import save_random_model

            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="photo3d-random-")))
            models += [(f"random:{a}", str(save_random_model(tmp / a, a))) for a in args.random]
        for label, model in models:
            print(f"{label}: loading", file=sys.stderr)
            try:
                predict, load_s = model_predictor(model, args.device, args.resolution)
                for i, item in enumerate(data):
                    rows.append(evaluate(label, predict, item, load_s if i == 0 else None, args.repeat))
            except Photo3DError as e:
                sys.exit(f"{label}: {e}")

    print(
        "alignment: least-squares scale and shift in disparity space (MiDaS protocol), depth capped at the GT max; "
        "all pixels with GT"
    )
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
