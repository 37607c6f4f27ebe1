"""Tests for photo3d.depth: reading depth/disparity maps and turning them into planar depth."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest
from helpers import raises_one_line
from PIL import Image

from photo3d.depth import (
    disparity_to_depth,
    fill_invalid,
    load_depth,
    load_depth_values,
    resample_depth,
    resolve_depth_kind,
)


def _ramp(h: int = 6, w: int = 8) -> np.ndarray:
    return (np.arange(h * w).reshape(h, w) % 200 + 10).astype(np.float64)


# --- load_depth_values -----------------------------------------------------------------------------------------------


def test_values_8bit_png(tmp_path):
    values = _ramp().astype(np.uint8)
    Image.fromarray(values).save(tmp_path / "d8.png")
    out = load_depth_values(tmp_path / "d8.png")
    assert out.dtype == np.float32 and out.shape == (6, 8)
    np.testing.assert_array_equal(out, values)


def test_values_16bit_png_are_not_rescaled(tmp_path):
    values = np.array([[0, 1, 1000], [32768, 65534, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "d16.png")
    np.testing.assert_array_equal(load_depth_values(tmp_path / "d16.png"), values)


def test_values_16bit_tiff(tmp_path):
    values = np.array([[7, 300], [40000, 65535]], dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "d16.tif"), values)
    np.testing.assert_array_equal(load_depth_values(tmp_path / "d16.tif"), values)


def test_values_grey_rgb_and_rgba_use_channel_0(tmp_path):
    grey = _ramp().astype(np.uint8)
    Image.fromarray(np.dstack([grey] * 3)).save(tmp_path / "rgb.png")
    Image.fromarray(np.dstack([grey] * 3 + [np.full_like(grey, 255)])).save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(load_depth_values(tmp_path / "rgb.png"), grey)
    np.testing.assert_array_equal(load_depth_values(tmp_path / "rgba.png"), grey)


def test_values_16bit_grey_rgb_png_keeps_16_bits(tmp_path):
    grey = np.array([[1000, 2001], [40000, 65535]], dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "rgb16.png"), np.dstack([grey] * 3))
    np.testing.assert_array_equal(load_depth_values(tmp_path / "rgb16.png"), grey)


def test_values_colour_png_is_refused(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    raises_one_line(load_depth_values, tmp_path / "colour.png", words=("colour image", str(tmp_path / "colour.png")))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int16, np.uint32])
def test_values_npy_any_real_dtype(tmp_path, dtype):
    values = _ramp().astype(dtype)
    np.save(tmp_path / "d.npy", values)
    out = load_depth_values(tmp_path / "d.npy")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, values.astype(np.float32))


def test_values_npy_hw1(tmp_path):
    np.save(tmp_path / "d.npy", _ramp()[:, :, None])
    np.testing.assert_array_equal(load_depth_values(tmp_path / "d.npy"), _ramp())


@pytest.mark.parametrize(
    "array, words",
    [
        (np.zeros((2, 3, 4)), ("shape",)),
        (np.zeros(5), ("shape",)),
        (np.zeros((0, 4)), ("zero dimension",)),
        (np.zeros((3, 3), dtype=complex), ("dtype",)),
        (np.zeros((3, 3), dtype=bool), ("dtype",)),
    ],
)
def test_values_npy_bad_arrays(tmp_path, array, words):
    np.save(tmp_path / "bad.npy", array)
    raises_one_line(load_depth_values, tmp_path / "bad.npy", words=(str(tmp_path / "bad.npy"), *words))


def test_values_npy_pickled_objects_are_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    raises_one_line(load_depth_values, tmp_path / "obj.npy", words=(str(tmp_path / "obj.npy"), "Python objects"))


def test_values_npy_truncated_and_not_npy(tmp_path):
    np.save(tmp_path / "cut.npy", _ramp(40, 50))
    data = (tmp_path / "cut.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[: len(data) // 2])
    raises_one_line(load_depth_values, tmp_path / "cut.npy", words=(str(tmp_path / "cut.npy"),))
    (tmp_path / "text.npy").write_text("hello\n")
    raises_one_line(load_depth_values, tmp_path / "text.npy", words=(str(tmp_path / "text.npy"), ".npy"))


def test_values_bad_files(tmp_path):
    raises_one_line(load_depth_values, tmp_path / "missing.png", words=("depth map not found", "missing.png"))
    raises_one_line(load_depth_values, tmp_path / "missing.npy", words=("depth map not found", "missing.npy"))
    (tmp_path / "empty.png").write_bytes(b"")
    raises_one_line(load_depth_values, tmp_path / "empty.png", words=("empty", "empty.png"))
    (tmp_path / "empty.npy").write_bytes(b"")
    raises_one_line(load_depth_values, tmp_path / "empty.npy", words=("empty", "empty.npy"))
    (tmp_path / "d.png").mkdir()
    raises_one_line(load_depth_values, tmp_path / "d.png", words=("directory", "d.png"))
    (tmp_path / "t.png").write_text("not an image")
    raises_one_line(load_depth_values, tmp_path / "t.png", words=("not an image", "t.png"))
    Image.fromarray(np.random.default_rng(1).integers(0, 65535, (60, 60), dtype=np.uint16)).save(tmp_path / "c.png")
    data = (tmp_path / "c.png").read_bytes()
    (tmp_path / "c.png").write_bytes(data[: len(data) // 2])
    raises_one_line(load_depth_values, tmp_path / "c.png", words=("truncated", "c.png"))


# --- kinds ----------------------------------------------------------------------------------------------------------


def test_resolve_depth_kind():
    assert resolve_depth_kind("a.png", "auto") == "disparity"
    assert resolve_depth_kind("a.TIFF", "auto") == "disparity"
    assert resolve_depth_kind("a.tif") == "disparity"
    assert resolve_depth_kind("a.npy", "auto") == "depth"
    assert resolve_depth_kind("a.NPY", "auto") == "depth"
    assert resolve_depth_kind("a.png", "depth") == "depth"
    assert resolve_depth_kind("a.npy", "disparity") == "disparity"
    raises_one_line(resolve_depth_kind, "a.png", "inverse", words=("'inverse'", "auto, depth or disparity"))


# --- fill_invalid --------------------------------------------------------------------------------------------------


def test_fill_invalid_takes_nearest_valid_neighbour():
    values = np.array([[np.nan, 3.0, np.nan, 0.0, 7.0, -np.inf]])
    out = fill_invalid(values)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[3.0, 3.0, 3.0, 7.0, 7.0, 7.0]])
    assert np.isnan(values[0, 0])  # the input is not modified


def test_fill_invalid_matches_brute_force():
    rng = np.random.default_rng(3)
    values = rng.uniform(1.0, 9.0, size=(9, 11))
    bad = rng.random(values.shape) < 0.4
    values[bad] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -2.0], size=bad.sum())
    out = fill_invalid(values)
    valid_rc = np.argwhere(~bad)
    for r, c in np.argwhere(bad):
        dist2 = ((valid_rc - [r, c]) ** 2).sum(axis=1)
        nearest = valid_rc[dist2 == dist2.min()]
        assert out[r, c] in {np.float32(values[rr, cc]) for rr, cc in nearest}
    np.testing.assert_array_equal(out[~bad], values[~bad].astype(np.float32))


def test_fill_invalid_single_valid_pixel_fills_everything():
    values = np.full((4, 5), np.nan)
    values[2, 3] = 7.5
    np.testing.assert_array_equal(fill_invalid(values), np.full((4, 5), 7.5, np.float32))


def test_fill_invalid_all_nanraises_one_line():
    raises_one_line(fill_invalid, np.full((3, 3), np.nan), name="x.npy", words=("depth map x.npy has no valid pixel",))
    raises_one_line(fill_invalid, np.zeros((3, 3)), words=("no valid pixel",))


# --- disparity_to_depth --------------------------------------------------------------------------------------------


def test_disparity_to_depth_formula():
    d = np.array([[50.0, 25.0, 10.0], [1.0, 0.5, 0.0]])
    out = disparity_to_depth(d)
    assert out.dtype == np.float32
    # depth = d_max / max(d, d_max / 100), d_max = 50: the nearest is 1, the farthest is clamped at 100.
    np.testing.assert_allclose(out, [[1.0, 2.0, 5.0], [50.0, 100.0, 100.0]], rtol=1e-6)
    # Proportional to 1 / disparity: scaling the disparity changes nothing.
    np.testing.assert_allclose(disparity_to_depth(d * 37.0), out, rtol=1e-6)


def test_disparity_to_depth_refuses_non_finite_and_non_positive():
    raises_one_line(disparity_to_depth, np.array([[1.0, np.nan]]), words=("NaN",))
    raises_one_line(disparity_to_depth, np.zeros((2, 2)), words=("no positive",))


# --- resample_depth ------------------------------------------------------------------------------------------------


def test_resample_same_size_is_identity():
    depth = np.ones((4, 6), np.float32)
    assert resample_depth(depth, 6, 4) is depth


def test_resample_aspect_mismatchraises_one_line():
    message = raises_one_line(resample_depth, np.ones((200, 100), np.float32), 640, 480, name="d.png")
    assert message == (
        "depth map d.png is 100x200 but the photo is 640x480: their aspect ratios differ; "
        "give a depth map of the photo's size"
    )


def test_resample_upsamples_without_mixing_across_edges(caplog):
    depth = np.full((30, 40), 10.0, np.float32)
    depth[:, :17] = 2.0  # a foreground slab
    with caplog.at_level(logging.WARNING, logger="photo3d.depth"):
        out = resample_depth(depth, 120, 90, name="d.png")
    assert out.shape == (90, 120) and out.dtype == np.float32
    assert set(np.unique(out)) == {2.0, 10.0}  # no in-between "flying" depth
    assert (out[:, :51] == 2.0).all() and (out[:, 51:] == 10.0).all()
    assert "depth map d.png is 40x30, resampled to the photo's 120x90" in caplog.text


def test_resample_interpolates_smooth_regions():
    depth = np.tile(np.linspace(1.0, 1.2, 20, dtype=np.float32), (15, 1))  # a gentle slope
    out = resample_depth(depth, 80, 60)
    assert len(np.unique(out[0])) > 40  # smooth, not a staircase of 20 steps
    assert np.all(np.diff(out[0]) >= 0)
    assert out.min() >= 1.0 and out.max() <= 1.2 + 1e-6


def test_resample_downsamples_within_tolerance(caplog):
    depth = np.where(np.arange(201)[None, :] < 100, 3.0, 9.0).repeat(100, axis=0).astype(np.float32)  # 201 x 100
    with caplog.at_level(logging.WARNING, logger="photo3d.depth"):
        out = resample_depth(depth, 50, 25, name="big.npy")  # aspect 2.01 vs 2.0: within 1 %
    assert out.shape == (25, 50)
    assert set(np.unique(out)) == {3.0, 9.0}
    assert "resampled" in caplog.text


# --- load_depth ----------------------------------------------------------------------------------------------------


def test_load_depth_8bit_png_disparity(tmp_path):
    disparity = np.array([[0, 200, 100, 50, 25, 0]], dtype=np.uint8)
    Image.fromarray(disparity).save(tmp_path / "disp.png")
    out = load_depth(tmp_path / "disp.png", 6, 1)  # auto -> disparity
    assert out.dtype == np.float32 and out.shape == (1, 6)
    # depth = 200 / d; each 0 (unknown) takes its only neighbour's disparity.
    np.testing.assert_allclose(out, [[1.0, 1.0, 2.0, 4.0, 8.0, 8.0]], rtol=1e-6)


def test_load_depth_16bit_png_disparity(tmp_path):
    disparity = np.array([[60000, 30000], [15000, 600]], dtype=np.uint16)
    Image.fromarray(disparity).save(tmp_path / "disp16.png")
    np.testing.assert_allclose(load_depth(tmp_path / "disp16.png", 2, 2, "disparity"), [[1, 2], [4, 100]], rtol=1e-6)


def test_load_depth_npy_is_depth_and_unscaled(tmp_path, caplog):
    depth = np.array([[1.5, 2.5], [np.nan, 7.25]])
    np.save(tmp_path / "d.npy", depth)
    with caplog.at_level(logging.INFO, logger="photo3d.depth"):
        out = load_depth(tmp_path / "d.npy", 2, 2)
    np.testing.assert_array_equal(out, np.array([[1.5, 2.5], [1.5, 7.25]], np.float32))
    assert "as depth" in caplog.text


def test_load_depth_png_as_depth_keeps_values(tmp_path):
    values = np.array([[1000, 2000], [0, 4000]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "z.png")
    np.testing.assert_array_equal(load_depth(tmp_path / "z.png", 2, 2, kind="depth"), [[1000, 2000], [1000, 4000]])


def test_load_depth_all_invalidraises_one_line(tmp_path):
    np.save(tmp_path / "nan.npy", np.full((3, 4), np.nan))
    raises_one_line(
        load_depth, tmp_path / "nan.npy", 4, 3, words=(f"depth map {tmp_path / 'nan.npy'} has no valid pixel",)
    )


def test_load_depth_constantraises_one_line(tmp_path):
    values = np.full((3, 4), 42, np.uint8)
    values[0, 0] = 0  # invalid pixels do not count
    Image.fromarray(values).save(tmp_path / "flat.png")
    message = raises_one_line(load_depth, tmp_path / "flat.png", 4, 3)
    assert message == f"depth map {tmp_path / 'flat.png'} is constant (every valid pixel is 42): it carries no depth"


def test_load_depth_aspect_mismatchraises_one_line(tmp_path):
    np.save(tmp_path / "d.npy", _ramp(6, 8))
    raises_one_line(load_depth, tmp_path / "d.npy", 8, 8, words=("aspect ratios differ", "d.npy", "8x6", "8x8"))


def test_load_depth_resamples_with_warning(tmp_path, caplog):
    np.save(tmp_path / "d.npy", _ramp(6, 8))
    with caplog.at_level(logging.WARNING, logger="photo3d.depth"):
        out = load_depth(tmp_path / "d.npy", 16, 12)
    assert out.shape == (12, 16)
    assert np.isfinite(out).all() and (out > 0).all()
    assert f"depth map {tmp_path / 'd.npy'} is 8x6, resampled to the photo's 16x12" in caplog.text


def test_load_depth_bad_kind(tmp_path):
    np.save(tmp_path / "d.npy", _ramp())
    raises_one_line(load_depth, tmp_path / "d.npy", 8, 6, kind="metric", words=("'metric'",))


# --- real data -----------------------------------------------------------------------------------------------------


@pytest.mark.real
def test_real_tum_depth_png(real_data):
    path = real_data / "tum_rgbd_sample" / "TUM_depth.png"
    raw = load_depth_values(path)
    assert raw.shape == (480, 640)
    valid = raw > 0
    assert 0.7 < valid.mean() < 0.9  # the manifest says 19 % missing
    metres = raw[valid] / 5000.0  # TUM: depth_m = value / 5000
    lo, hi = np.percentile(metres, [1, 99])
    assert 1.0 < lo < 2.0 and 6.5 < hi < 8.0  # manifest: 1.5-7.3 m

    depth = load_depth(path, 640, 480, kind="depth")
    assert depth.shape == (480, 640) and depth.dtype == np.float32
    assert np.isfinite(depth).all() and (depth > 0).all()
    np.testing.assert_array_equal(depth[valid], raw[valid])  # raw depth is never rescaled
    assert load_depth(path, 640, 480).max() <= 100.0  # auto reads a PNG as disparity


@pytest.mark.real
def test_real_cones_disparity(real_data):
    path = real_data / "mb2003_cones" / "disp2.png"
    raw = load_depth_values(path)
    assert raw.shape == (375, 450)
    depth = load_depth(path, 450, 375)  # auto -> disparity; grey 0 = unknown is filled
    assert np.isfinite(depth).all()
    assert depth.min() == pytest.approx(1.0)
    # Z proportional to 1 / d: the depth ratio of two valid pixels is the inverse of their disparity ratio.
    valid = raw > 0
    np.testing.assert_allclose(depth[valid] * raw[valid], raw.max(), rtol=1e-5)
