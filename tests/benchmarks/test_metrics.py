"""Tests for benchmarks.metrics (alignment, AbsRel, δ<1.25) and the ground-truth loaders of benchmarks/."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.metrics import DepthMetrics, align_scale_shift, depth_metrics, srgb_to_linear, temporal_flicker

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _ground_truth_module():
    spec = importlib.util.spec_from_file_location("ground_truth", BENCHMARKS / "ground_truth.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(*values) -> np.ndarray:
    return np.array([values], dtype=np.float64)


def reference_metrics(pred_disp: list, gt_depth: list, cap=None) -> tuple[F, F, F]:
    """Plain exact re-implementation: (AbsRel, δ<1.25, mean squared error), in fractions."""
    p, g = [F(v) for v in pred_disp], [1 / F(v) for v in gt_depth]
    n = len(p)
    pm, gm = sum(p) / n, sum(g) / n
    s = sum((a - pm) * (b - gm) for a, b in zip(p, g, strict=True)) / sum((a - pm) ** 2 for a in p)
    t = gm - s * pm
    cap = max(F(v) for v in gt_depth) if cap is None else F(cap)
    d = [1 / max(s * a + t, 1 / cap) for a in p]
    dg = [F(v) for v in gt_depth]
    abs_rel = sum(abs(a - b) / b for a, b in zip(d, dg, strict=True)) / n
    delta = F(sum(max(a / b, b / a) < F(5, 4) for a, b in zip(d, dg, strict=True)), n)
    mse = sum((a - b) ** 2 for a, b in zip(d, dg, strict=True)) / n
    return abs_rel, delta, mse


# --- align_scale_shift -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("s", "t"), [(2.5, 0.7), (-3.0, 10.0), (1e-3, -2.0)])
def test_alignment_recovers_scale_and_shift_exactly(s, t):
    pred = np.random.default_rng(1).uniform(0.1, 5.0, (5, 7))
    scale, shift = align_scale_shift(pred, s * pred + t, np.ones((5, 7), dtype=bool))
    assert scale == pytest.approx(s, rel=1e-12) and shift == pytest.approx(t, rel=1e-12, abs=1e-12)


def test_alignment_uses_only_masked_pixels():
    pred = np.random.default_rng(2).uniform(0.1, 5.0, (4, 6))
    gt = 2.0 * pred + 1.0
    mask = np.zeros((4, 6), dtype=bool)
    mask[1:3, 1:5] = True
    gt[~mask] = 1e6  # outliers outside the mask
    pred[0, 0] = np.nan  # and a non-finite value: ignored too
    assert align_scale_shift(pred, gt, mask) == pytest.approx((2.0, 1.0))


def test_alignment_by_hand():
    # p = [0, 1, 3], g = [1, 2, 3]: s = Σ(p−p̄)(g−ḡ)/Σ(p−p̄)² = 3 / (14/3) = 9/14, t = ḡ − s·p̄ = 2 − 6/7 = 8/7
    s, t = align_scale_shift(_row(0, 1, 3), _row(1, 2, 3), np.ones((1, 3), dtype=bool))
    assert s == pytest.approx(9 / 14) and t == pytest.approx(8 / 7)


@pytest.mark.parametrize(
    ("mask", "pred", "words"),
    [
        (np.zeros((1, 3), dtype=bool), _row(0, 1, 2), ["at least 2 pixels", "got 0"]),
        (np.array([[True, False, False]]), _row(0, 1, 2), ["at least 2 pixels", "got 1"]),
        (np.ones((1, 3), dtype=bool), _row(4, 4, 4), ["constant", "3 masked pixels"]),
        (np.ones((1, 3), dtype=bool), _row(0, 0, 0), ["constant"]),
        (np.ones((1, 3), dtype=bool), _row(0, np.inf, 2), ["pred_disparity", "non-finite"]),
        (np.ones((1, 3), dtype=int), _row(0, 1, 2), ["mask must be a bool array"]),
        (np.ones((3, 1), dtype=bool), _row(0, 1, 2), ["mask", "(1, 3)", "(3, 1)"]),
    ],
)
def test_alignment_errors(mask, pred, words):
    with pytest.raises(ValueError) as info:
        align_scale_shift(pred, _row(1, 2, 3), mask)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_alignment_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"gt_disparity must have the prediction's shape \(1, 3\), got \(1, 2\)"):
        align_scale_shift(_row(0, 1, 2), _row(1, 2), np.ones((1, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"pred_disparity must be an \(H, W\) array, got shape \(3,\)"):
        align_scale_shift(np.zeros(3), np.zeros(3), np.ones(3, dtype=bool))


# --- depth_metrics: exact cases --------------------------------------------------------------------------------------


def test_affine_disparity_of_the_ground_truth_is_perfect():
    gt = np.random.default_rng(3).uniform(1.5, 40.0, (12, 9)).astype(np.float32)
    m = depth_metrics((7.0 / gt - 0.01).astype(np.float32), "disparity", gt, None)
    assert m.abs_rel < 1e-6 and m.delta1 == 1.0 and m.rmse < 1e-4 and m.pixels == 108
    assert m.scale == pytest.approx(1 / 7, rel=1e-5) and m.shift == pytest.approx(0.01 / 7, rel=1e-3)


def test_scaled_depth_is_perfect():
    gt = np.random.default_rng(4).uniform(0.5, 8.0, (6, 6))
    m = depth_metrics(1.3 * gt, "depth", gt, None)
    assert m.abs_rel < 1e-12 and m.delta1 == 1.0 and m.scale == pytest.approx(1.3)


def test_hand_computed_example_with_mask():
    # Pixels 0-2 as in test_alignment_by_hand: aligned disparity 8/7, 25/14, 43/14 → depths 7/8, 14/25, 14/43
    # against 1, 1/2, 1/3: relative errors 1/8, 3/25, 1/43, all ratios < 1.25. Pixel 3 is masked out.
    pred = _row(0, 1, 3, np.nan)
    gt = _row(1, 1 / 2, 1 / 3, 5.0)
    m = depth_metrics(pred, "disparity", gt, np.array([[True, True, True, False]]))
    assert m.pixels == 3
    assert m.abs_rel == pytest.approx((1 / 8 + 3 / 25 + 1 / 43) / 3, rel=1e-12)
    assert m.delta1 == 1.0
    assert m.rmse == pytest.approx(np.sqrt(((7 / 8 - 1) ** 2 + (14 / 25 - 1 / 2) ** 2 + (14 / 43 - 1 / 3) ** 2) / 3))


def test_hand_computed_example_where_the_depth_cap_matters():
    # p = [0, 1, 2, 3], 1/gt = [1, 1, 1, 4]: s = 0.9, t = 0.4, aligned disparity [0.4, 1.3, 2.2, 3.1].
    # The cap (max GT depth 1 → disparity ≥ 1) lifts 0.4 to 1: depths [1, 1/1.3, 1/2.2, 1/3.1] against
    # [1, 1, 1, 1/4]: relative errors 0, 3/13, 6/11, 9/31; ratios 1, 1.3, 2.2, 1.29 → δ = 1/4.
    pred, gt = _row(0, 1, 2, 3), _row(1, 1, 1, 0.25)
    m = depth_metrics(pred, "disparity", gt, None)
    assert (m.scale, m.shift) == pytest.approx((0.9, 0.4))
    assert m.abs_rel == pytest.approx((3 / 13 + 6 / 11 + 9 / 31) / 4, rel=1e-12)
    assert m.delta1 == 0.25
    # A looser cap (depth 10) leaves pixel 0 at 1 / 0.4 = 2.5: relative error 1.5 and ratio 2.5.
    m = depth_metrics(pred, "disparity", gt, None, max_depth=10.0)
    assert m.abs_rel == pytest.approx((1.5 + 3 / 13 + 6 / 11 + 9 / 31) / 4, rel=1e-12)
    assert m.delta1 == 0.0


def test_depth_prediction_with_relative_error_against_reference():
    # pred depth = gt·(1 + ε) with ε = [0, 0, 0.3, −0.2, 0.1]: not affine in disparity, so not perfect.
    gt = [1, 2, 4, 8, 16]
    eps = [0, 0, F(3, 10), F(-1, 5), F(1, 10)]
    pred_depth = [F(g) * (1 + e) for g, e in zip(gt, eps, strict=True)]
    abs_rel, delta, mse = reference_metrics([1 / d for d in pred_depth], gt)
    m = depth_metrics(np.array([[float(d) for d in pred_depth]]), "depth", _row(*gt), None)
    assert m.abs_rel == pytest.approx(float(abs_rel), rel=1e-9)
    assert m.delta1 == pytest.approx(float(delta))
    assert m.rmse == pytest.approx(float(mse) ** 0.5, rel=1e-9)
    assert 0.01 < m.abs_rel < 0.3 and m.delta1 < 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-50, 50), min_size=3, max_size=8).filter(lambda p: len(set(p)) > 1),
    st.data(),
)
def test_matches_reference_implementation(pred, data):
    gt = data.draw(st.lists(st.integers(1, 40), min_size=len(pred), max_size=len(pred)))
    abs_rel, delta, mse = reference_metrics(pred, gt)
    m = depth_metrics(_row(*pred), "disparity", _row(*gt), None)
    # An exact fit scores 0 with fractions but float64 rounding here (1.05e-12 for pred [34, 31, 34], gt [1, 32, 1]).
    assert m.abs_rel == pytest.approx(float(abs_rel), rel=1e-9, abs=1e-9)
    assert m.rmse == pytest.approx(float(mse) ** 0.5, rel=1e-9, abs=1e-9)
    # δ compares ratios with 1.25: allow a float tie to fall either way
    assert abs(m.delta1 - float(delta)) <= 1 / len(pred) + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.floats(-100, 100).filter(lambda a: abs(a) > 1e-3), st.floats(-100, 100))
def test_invariant_to_affine_maps_of_a_disparity_prediction(a, b):
    rng = np.random.default_rng(5)
    gt = rng.uniform(1.0, 20.0, (8, 8))
    pred = 1.0 / gt + rng.normal(0.0, 0.05, (8, 8))
    m0, m1 = depth_metrics(pred, "disparity", gt, None), depth_metrics(a * pred + b, "disparity", gt, None)
    assert m1.abs_rel == pytest.approx(m0.abs_rel, rel=1e-6)
    assert m1.delta1 == m0.delta1 and m1.pixels == m0.pixels


def test_depth_kind_is_inverted_then_aligned_in_disparity():
    rng = np.random.default_rng(6)
    gt = rng.uniform(1.0, 20.0, (5, 5))
    pred_disp = 1.0 / gt + rng.uniform(0.0, 0.2, (5, 5))
    as_depth = depth_metrics(1.0 / pred_disp, "depth", gt, None).as_dict()
    assert as_depth == pytest.approx(depth_metrics(pred_disp, "disparity", gt, None).as_dict(), rel=1e-12)
    pred_disp[0, 0] = 0.0  # non-positive depth = infinitely far = disparity 0
    depth = 1.0 / np.where(pred_disp > 0, pred_disp, 1.0)
    depth[0, 0] = -1.0
    as_depth = depth_metrics(depth, "depth", gt, None).as_dict()
    assert as_depth == pytest.approx(depth_metrics(pred_disp, "disparity", gt, None).as_dict(), rel=1e-12)


def test_pixels_without_ground_truth_or_outside_the_range_are_ignored():
    rng = np.random.default_rng(7)
    gt = rng.uniform(1.0, 20.0, (6, 6))
    gt[0, :] = 0.0  # no ground truth
    gt[1, :] = np.nan
    pred = 2.0 / np.where(gt > 0, gt, 1.0)
    pred[0, :] = np.nan  # anything goes where there is no ground truth
    m = depth_metrics(pred, "disparity", gt, np.ones((6, 6), dtype=bool))
    assert m.pixels == 24 and m.abs_rel < 1e-12
    ranged = depth_metrics(pred, "disparity", gt, None, min_depth=5.0, max_depth=15.0)
    assert ranged.pixels == int(np.count_nonzero((gt >= 5.0) & (gt <= 15.0)))


def test_metrics_as_dict():
    m = depth_metrics(_row(1, 2, 3), "disparity", _row(1, 0.5, 1 / 3), None)
    assert isinstance(m, DepthMetrics)
    assert set(m.as_dict()) == {"abs_rel", "delta1", "rmse", "pixels", "scale", "shift"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pred_kind": "inverse"}, "pred_kind must be 'disparity' or 'depth', got 'inverse'"),
        ({"mask": np.zeros((1, 3), dtype=bool)}, "need at least 2 valid pixels"),
        ({"gt_depth": _row(0, 0, 1)}, "got 1"),
        ({"pred": _row(1, np.nan, 3)}, "pred has 1 non-finite value(s) on the 3 valid pixels"),
        ({"pred": _row(2, 2, 2)}, "constant"),
        ({"max_depth": -1.0}, "max_depth must be a positive number or None, got -1.0"),
        ({"min_depth": 3.0, "max_depth": 2.0}, "min_depth (3.0) must be below max_depth (2.0)"),
        ({"gt_depth": _row(1, 2)}, "gt_depth must have the prediction's shape (1, 3), got (1, 2)"),
    ],
)
def test_depth_metrics_errors(kwargs, message):
    args = {"pred": _row(1, 2, 3), "pred_kind": "disparity", "gt_depth": _row(1, 2, 3), "mask": None}
    args.update(kwargs)
    with pytest.raises(ValueError) as info:
        depth_metrics(args.pop("pred"), args.pop("pred_kind"), args.pop("gt_depth"), args.pop("mask"), **args)
    assert message in str(info.value)


# --- ground-truth loaders (real data) --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ground_truth(real_data):
    gt = _ground_truth_module()
    return {name: load(real_data) for name, load in gt.LOADERS.items()}


def _check_item(item, shape):
    assert item.image.shape == (*shape, 3) and item.image.dtype == np.uint8
    assert item.depth.shape == shape and item.depth.dtype == np.float32
    assert np.isfinite(item.depth).all() and (item.depth >= 0).all()


@pytest.mark.real
def test_kitti_lidar_projection(ground_truth):
    item = ground_truth["kitti"]
    _check_item(item, (370, 1224))
    points = item.depth[item.depth > 0]
    assert 19_000 < points.size < 21_500  # MANIFEST: ~20k points, 4.5 % of pixels
    assert 4.1 < points.min() < 4.3 and 72.5 < points.max() < 72.9
    assert not (item.depth[:120] > 0).any()  # no LiDAR coverage in about the top third (first point: row 121)
    assert item.units == "m"


@pytest.mark.real
def test_tum_depth_in_metres(ground_truth):
    item = ground_truth["tum"]
    _check_item(item, (480, 640))
    valid = item.depth[item.depth > 0]
    lo, hi = np.percentile(valid, [1, 99])
    assert 1.45 < lo < 1.55 and 7.25 < hi < 7.4
    assert 0.78 < valid.size / item.depth.size < 0.84  # 19 % missing


@pytest.mark.real
def test_middlebury_disparity_ranges(ground_truth):
    cones, tsukuba = ground_truth["cones"], ground_truth["tsukuba"]
    _check_item(cones, (375, 450))
    _check_item(tsukuba, (288, 384))
    d = 1.0 / cones.depth[cones.depth > 0]  # Z = 1/d with f·B = 1
    assert d.min() == pytest.approx(5.5, rel=1e-5) and d.max() == pytest.approx(55.0, rel=1e-5)
    assert (cones.depth > 0).mean() == pytest.approx(0.968, abs=0.002)
    d = 1.0 / tsukuba.depth[tsukuba.depth > 0]
    assert d.min() == pytest.approx(5.0, rel=1e-5) and d.max() == pytest.approx(14.0, rel=1e-5)
    assert np.allclose(d, np.round(d), atol=1e-4)  # integer disparities


@pytest.mark.real
def test_middlebury_nonoccluded_region(real_data):
    cones = _ground_truth_module().load_cones(real_data, region="nonocc")
    assert (cones.depth > 0).mean() == pytest.approx(0.853, abs=0.002)  # MANIFEST: nonocc.png covers 85.3 %


@pytest.mark.real
@pytest.mark.parametrize("name", ["tum", "kitti", "cones", "tsukuba"])
def test_ground_truth_as_prediction_is_perfect(ground_truth, name):
    item = ground_truth[name]
    m = depth_metrics(item.depth, "depth", item.depth, item.depth > 0)
    assert m.abs_rel < 1e-6 and m.delta1 == 1.0 and m.pixels == np.count_nonzero(item.depth)


# --- the benchmark script --------------------------------------------------------------------------------------------


def test_benchmark_skips_cleanly_without_real_data(tmp_path):
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "depth_accuracy.py"), "--gt", "--real", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "real data not found" in out.stdout and "skipping" in out.stdout


# --- temporal_flicker -------------------------------------------------------------------------------------------------


def _encode(lin: np.ndarray) -> np.ndarray:
    """Exact sRGB encoding of linear light, rounded to uint8."""
    enc = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.rint(enc * 255).astype(np.uint8)


def test_srgb_to_linear_known_values():
    assert srgb_to_linear(np.array([0, 255])).tolist() == [0.0, 1.0]
    assert srgb_to_linear(np.array([188]))[0] == pytest.approx(0.5029, abs=1e-4)  # 188 is linear 0.5 to 8 bits
    assert srgb_to_linear(np.array([10]))[0] == pytest.approx(10 / 255 / 12.92, rel=1e-12)  # the linear segment


def test_flicker_is_zero_for_linear_ramps_in_time():
    """Each pixel's linear intensity changes by a constant step per frame: the second difference vanishes."""
    t = np.arange(7)[:, None, None, None]
    rng = np.random.default_rng(0)
    a = rng.uniform(0.0, 0.4, (1, 5, 6, 3))
    b = rng.uniform(-0.05, 0.05, (1, 5, 6, 3))
    lin = a + 0.3 + b * t  # stays in [0, 1]
    frames = _encode(lin)
    # 8-bit rounding leaves a little (measured 3.3e-3): each term is off by at most half a level, 0.0045 in
    # linear light at the brightest values here; a metric on encoded values would not be 0 even before rounding.
    assert temporal_flicker(frames) < 4e-3
    # sRGB values up to 10 lie on the transfer function's linear segment: an 8-bit ramp there is exact.
    exact = np.broadcast_to(np.arange(0, 12, 2, dtype=np.uint8)[:, None, None, None], (6, 3, 3, 3))
    assert temporal_flicker(exact) < 1e-15
    constant = np.repeat(frames[:1], 5, axis=0)
    assert temporal_flicker(constant) == 0.0


def test_flicker_of_alternating_frames():
    """Black, white, black, ...: every second difference is +-2 in linear light."""
    frames = np.zeros((6, 4, 4, 3), np.uint8)
    frames[1::2] = 255
    assert temporal_flicker(frames) == pytest.approx(2.0)
    half = frames.copy()
    half[:, :, :2] = 0  # half the pixels still
    assert temporal_flicker(half) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "frames",
    [np.zeros((2, 4, 4, 3), np.uint8), np.zeros((5, 4, 4), np.uint8), np.zeros((5, 4, 4, 3), np.float32)],
)
def test_flicker_rejects_bad_input(frames):
    with pytest.raises(ValueError, match="frames"):
        temporal_flicker(frames)
