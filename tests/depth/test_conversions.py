"""Tests for photo3d.depth.conversions: reading depth/disparity maps and turning them into planar depth."""

from __future__ import annotations

import dataclasses
import doctest
import logging

import cv2
import numpy as np
import pytest
from PIL import Image

import photo3d.depth.conversions
from photo3d.camera.intrinsics import Intrinsics
from photo3d.depth.conversions import (
    DepthOptions,
    apply_depth_clip,
    disparity_to_depth,
    distance_to_depth,
    fill_invalid,
    load_depth,
    parse_depth_clip,
    resample_depth,
    resolve_depth_kind,
)
from photo3d.io.depth_files import load_depth_values
from tests.support.helpers import raises_one_line, write_exr


def _ramp(h: int = 6, w: int = 8) -> np.ndarray:
    return (np.arange(h * w).reshape(h, w) % 200 + 10).astype(np.float64)


# --- kinds ----------------------------------------------------------------------------------------------------------


def test_resolve_depth_kind():
    assert resolve_depth_kind("a.png", "auto") == "disparity"
    assert resolve_depth_kind("a.TIFF", "auto") == "disparity"
    assert resolve_depth_kind("a.tif") == "disparity"
    assert resolve_depth_kind("a.npy", "auto") == "depth"
    assert resolve_depth_kind("a.NPY", "auto") == "depth"
    assert resolve_depth_kind("a.png", "depth") == "depth"
    assert resolve_depth_kind("a.npy", "disparity") == "disparity"
    raises_one_line(resolve_depth_kind, "a.png", "inverse", words=("'inverse'", "auto, depth, disparity or distance"))


def test_resolve_depth_kind_float_formats_and_distance():
    assert resolve_depth_kind("a.exr") == "depth"
    assert resolve_depth_kind("a.PFM") == "depth"
    assert resolve_depth_kind("a.tif", floating=True) == "depth"
    assert resolve_depth_kind("a.exr", "distance") == "distance"
    assert resolve_depth_kind("a.png", "distance") == "distance"
    assert resolve_depth_kind("a.exr", "disparity") == "disparity"


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


def test_fill_invalid_all_nan_raises_one_line():
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


def test_resample_aspect_mismatch_raises_one_line():
    message = raises_one_line(resample_depth, np.ones((200, 100), np.float32), 640, 480, name="d.png")
    assert message == (
        "depth map d.png is 100x200 but the photo is 640x480: their aspect ratios differ; "
        "give a depth map of the photo's size"
    )


def test_resample_upsamples_without_mixing_across_edges(caplog):
    depth = np.full((30, 40), 10.0, np.float32)
    depth[:, :17] = 2.0  # a foreground slab
    with caplog.at_level(logging.WARNING, logger="photo3d.depth.conversions"):
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
    with caplog.at_level(logging.WARNING, logger="photo3d.depth.conversions"):
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
    with caplog.at_level(logging.INFO, logger="photo3d.depth.conversions"):
        out = load_depth(tmp_path / "d.npy", 2, 2)
    np.testing.assert_array_equal(out, np.array([[1.5, 2.5], [1.5, 7.25]], np.float32))
    assert "as depth" in caplog.text


def test_load_depth_png_as_depth_keeps_values(tmp_path):
    values = np.array([[1000, 2000], [0, 4000]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "z.png")
    np.testing.assert_array_equal(load_depth(tmp_path / "z.png", 2, 2, kind="depth"), [[1000, 2000], [1000, 4000]])


def test_load_depth_all_invalid_raises_one_line(tmp_path):
    np.save(tmp_path / "nan.npy", np.full((3, 4), np.nan))
    raises_one_line(
        load_depth, tmp_path / "nan.npy", 4, 3, words=(f"depth map {tmp_path / 'nan.npy'} has no valid pixel",)
    )


@pytest.mark.parametrize("kind", ["disparity", "depth"])
def test_a_constant_depth_map_is_a_plane_facing_the_camera(tmp_path, caplog, kind):
    values = np.full((3, 4), 42, np.uint8)
    values[0, 0] = 0  # invalid pixels do not count
    Image.fromarray(values).save(tmp_path / "flat.png")
    with caplog.at_level(logging.WARNING):
        depth = load_depth(tmp_path / "flat.png", 4, 3, kind=kind)
    np.testing.assert_array_equal(depth, np.full((3, 4), 1.0 if kind == "disparity" else 42.0, np.float32))
    where = "at relative depth 1" if kind == "disparity" else "at depth 42"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"depth map {tmp_path / 'flat.png'} is constant (every valid pixel is 42): "
        f"the scene is one plane facing the camera, {where}"
    ]


def test_load_depth_aspect_mismatch_raises_one_line(tmp_path):
    np.save(tmp_path / "d.npy", _ramp(6, 8))
    raises_one_line(load_depth, tmp_path / "d.npy", 8, 8, words=("aspect ratios differ", "d.npy", "8x6", "8x8"))


def test_load_depth_resamples_with_warning(tmp_path, caplog):
    np.save(tmp_path / "d.npy", _ramp(6, 8))
    with caplog.at_level(logging.WARNING, logger="photo3d.depth.conversions"):
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


# --- float TIFF ----------------------------------------------------------------------------------------------------


def _float_map(h: int = 5, w: int = 7) -> np.ndarray:
    values = np.random.default_rng(0).uniform(0.5, 10.0, (h, w)).astype(np.float32)
    values[0, 0] = np.nan
    values[0, 1] = 1e10  # Blender's "no geometry"
    return values


def test_values_float_tiff_round_trip(tmp_path):
    values = _float_map()
    Image.fromarray(values, mode="F").save(tmp_path / "pil.tif")  # Pillow mode F
    Image.fromarray(values, mode="F").save(tmp_path / "lzw.tif", compression="tiff_lzw")
    assert cv2.imwrite(str(tmp_path / "cv32.tif"), values)
    assert cv2.imwrite(str(tmp_path / "cv64.tif"), values.astype(np.float64))  # Pillow cannot, OpenCV does
    assert cv2.imwrite(str(tmp_path / "rgb.tif"), np.dstack([values] * 3))  # R = G = B, NaN included
    for name in ("pil.tif", "lzw.tif", "cv32.tif", "cv64.tif", "rgb.tif"):
        out = load_depth_values(tmp_path / name)
        assert out.dtype == np.float32 and out.shape == values.shape, name
        np.testing.assert_array_equal(out, values, err_msg=name)


def test_float_tiff_colour_is_refused(tmp_path):
    values = _float_map()
    assert cv2.imwrite(str(tmp_path / "colour.tif"), np.dstack([values, values * 2, values]))
    raises_one_line(load_depth_values, tmp_path / "colour.tif", words=("colour image", "colour.tif"))


def test_load_depth_float_tiff_auto_is_depth(tmp_path, caplog):
    values = _float_map(4, 6)
    Image.fromarray(values, mode="F").save(tmp_path / "z.tif")
    with caplog.at_level(logging.INFO, logger="photo3d.depth.conversions"):
        out = load_depth(tmp_path / "z.tif", 6, 4)
    valid = np.isfinite(values) & (values < 1e9)
    np.testing.assert_array_equal(out[valid], values[valid])  # planar depth, unscaled
    assert out[0, 0] in values[valid] and out[0, 1] in values[valid]  # NaN and 1e10 filled from neighbours
    assert "read as depth" in caplog.text and "--depth-kind distance" in caplog.text


def test_load_depth_16bit_tiff_auto_stays_disparity(tmp_path):
    assert cv2.imwrite(str(tmp_path / "d.tif"), np.array([[100, 200], [400, 50]], np.uint16))
    np.testing.assert_allclose(load_depth(tmp_path / "d.tif", 2, 2), [[4, 2], [1, 8]], rtol=1e-6)


# --- ray distance --------------------------------------------------------------------------------------------------

_K = Intrinsics(width=40, height=30, fx=35.0, fy=38.0, cx=21.3, cy=14.1)  # off-centre, non-square pixels


def _ray_distance_to_plane(k: Intrinsics, normal, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Ray distance to the plane n . X = offset, and the planar depth, for every pixel centre (float64)."""
    u, v = np.meshgrid(np.arange(k.width) + 0.5, np.arange(k.height) + 0.5)
    rays = np.stack([(u - k.cx) / k.fx, (v - k.cy) / k.fy, np.ones_like(u)], axis=-1)  # z = 1
    t = offset / (rays @ np.asarray(normal, float))  # X = t * ray, so the planar depth is t
    return t * np.linalg.norm(rays, axis=-1), t


def test_distance_to_depth_flat_wall_is_flat():
    distance, _ = _ray_distance_to_plane(_K, (0.0, 0.0, 1.0), 4.0)  # a wall at z = 4
    assert distance.max() / distance.min() > 1.2  # ray distance is far from constant
    depth = distance_to_depth(distance, _K)
    assert depth.dtype == np.float32 and depth.shape == (30, 40)
    np.testing.assert_allclose(depth, 4.0, rtol=1e-5)


def test_distance_to_depth_tilted_plane_stays_planar():
    normal = np.array([0.3, -0.2, 1.0])
    distance, expected = _ray_distance_to_plane(_K, normal, 5.0)
    depth = distance_to_depth(distance, _K).astype(np.float64)
    np.testing.assert_allclose(depth, expected, rtol=1e-5)
    u, v = np.meshgrid(np.arange(40) + 0.5, np.arange(30) + 0.5)
    points = np.stack([(u - _K.cx) / _K.fx * depth, (v - _K.cy) / _K.fy * depth, depth], axis=-1)
    np.testing.assert_allclose(points @ normal, 5.0, rtol=1e-5)  # every point on the plane


def test_distance_to_depth_explicit_rays_on_a_few_pixels():
    rng = np.random.default_rng(7)
    distance = rng.uniform(1.0, 20.0, (30, 40))
    depth = distance_to_depth(distance, _K)
    k_inv = np.linalg.inv(_K.matrix())
    for u, v in [(0, 0), (39, 29), (21, 14), (5, 27)]:
        ray = k_inv @ np.array([u + 0.5, v + 0.5, 1.0])
        point = distance[v, u] * ray / np.linalg.norm(ray)  # the point at that distance along the ray
        assert depth[v, u] == pytest.approx(point[2], rel=1e-6)
        assert np.linalg.norm(point) == pytest.approx(distance[v, u])


def test_distance_to_depth_size_mismatch():
    raises_one_line(distance_to_depth, np.ones((15, 20)), _K, words=("20x15", "40x30", "Intrinsics.scaled"))
    raises_one_line(distance_to_depth, np.ones(5), _K, words=("2-D",))


def test_load_depth_distance_on_a_smaller_map_scales_intrinsics(tmp_path):
    photo = Intrinsics(width=80, height=60, fx=70.0, fy=76.0, cx=42.6, cy=28.2)
    small = photo.scaled(40, 30)
    distance, _ = _ray_distance_to_plane(small, (0.0, 0.0, 1.0), 2.5)  # rendered at half size
    distance[0, 0] = 1e10  # background
    write_exr(tmp_path / "z.exr", {"Z": distance.astype(np.float32)})
    out = load_depth(tmp_path / "z.exr", 80, 60, intrinsics=photo, options=DepthOptions(kind="distance"))
    assert out.shape == (60, 80)
    np.testing.assert_allclose(out, 2.5, rtol=1e-5)
    unscaled = dataclasses.replace(photo, width=40, height=30)  # the photo's focal length and centre, not scaled
    assert np.ptp(distance_to_depth(distance, unscaled)[1:, 1:]) > 0.1  # would bend the wall


def test_load_depth_distance_needs_intrinsics(tmp_path):
    np.save(tmp_path / "d.npy", _ramp())
    raises_one_line(
        load_depth, tmp_path / "d.npy", 8, 6, kind="distance", words=("d.npy", "ray distance", "intrinsics")
    )


# --- invert, scale, clip -------------------------------------------------------------------------------------------


def test_invert_disparity_png(tmp_path):
    stored = np.array([[0, 10, 20, 40]], np.uint8)  # near = dark; 0 = unknown
    Image.fromarray(stored).save(tmp_path / "d.png")
    out = load_depth(tmp_path / "d.png", 4, 1, options=DepthOptions(invert=True))
    # v' = 10 + 40 - v over valid pixels: 40, 30, 10 (disparity), the unknown pixel stays unknown and is filled.
    np.testing.assert_allclose(out, [[1.0, 1.0, 4 / 3, 4.0]], rtol=1e-6)


def test_invert_depth_keeps_the_range(tmp_path):
    np.save(tmp_path / "d.npy", np.array([[1.0, 2.0, np.nan], [4.0, 0.0, 3.0]]))
    out = load_depth(tmp_path / "d.npy", 3, 2, options=DepthOptions(kind="depth", invert=True))
    np.testing.assert_array_equal(out, [[4.0, 3.0, 3.0], [1.0, 1.0, 2.0]])


def test_scale_depth_and_distance(tmp_path):
    values = np.array([[1000, 2000], [0, 4000]], dtype=np.uint16)  # millimetres
    Image.fromarray(values).save(tmp_path / "mm.png")
    out = load_depth(tmp_path / "mm.png", 2, 2, options=DepthOptions(kind="depth", scale=0.001))
    np.testing.assert_allclose(out, [[1.0, 2.0], [1.0, 4.0]], rtol=1e-7)


def test_scale_is_refused_for_disparity(tmp_path):
    Image.fromarray(np.array([[10, 20]], np.uint8)).save(tmp_path / "d.png")
    message = raises_one_line(
        load_depth, tmp_path / "d.png", 2, 1, options=DepthOptions(scale=0.001), words=("scale", "d.png")
    )
    assert "disparity (by file type)" in message and "--depth-kind depth" in message


def test_scale_overflow_is_refused(tmp_path):
    np.save(tmp_path / "d.npy", np.array([[1.0, 1e8]]))
    raises_one_line(load_depth, tmp_path / "d.npy", 2, 1, options=DepthOptions(scale=1e35), words=("scale", "float32"))


def test_clip_metric_keeps_units(tmp_path):
    np.save(tmp_path / "d.npy", np.array([[0.5, 2.0, 3.0, 50.0]]))
    out = load_depth(tmp_path / "d.npy", 4, 1, options=DepthOptions(clip=(1.0, 10.0)))
    np.testing.assert_array_equal(out, [[1.0, 2.0, 3.0, 10.0]])


def test_clip_relative_renormalises_nearest_to_one(tmp_path):
    Image.fromarray(np.array([[200, 100, 50, 25, 2]], np.uint8)).save(tmp_path / "d.png")  # depth 1, 2, 4, 8, 100
    out = load_depth(tmp_path / "d.png", 5, 1, options=DepthOptions(clip=(2.0, 20.0)))
    np.testing.assert_allclose(out, [[1.0, 1.0, 2.0, 4.0, 10.0]], rtol=1e-6)


def test_apply_depth_clip_directly():
    depth = np.array([[1.0, 2.0], [4.0, 100.0]], np.float32)
    np.testing.assert_array_equal(apply_depth_clip(depth, (2.0, 10.0), relative=False), [[2, 2], [4, 10]])
    np.testing.assert_array_equal(apply_depth_clip(depth, (0.5, 10.0), relative=True), [[1, 2], [4, 10]])
    assert apply_depth_clip(depth, (2.0, 10.0), relative=True).dtype == np.float32
    raises_one_line(
        apply_depth_clip, depth, (200.0, 300.0), relative=False, name="d.npy", words=("no pixel", "d.npy", "1 to 100")
    )
    raises_one_line(apply_depth_clip, depth, (5.0, 5.0), relative=False, words=("0 < NEAR < FAR",))
    raises_one_line(apply_depth_clip, depth, (-1.0, 5.0), relative=False, words=("0 < NEAR < FAR",))
    raises_one_line(apply_depth_clip, depth, (1.0, float("inf")), relative=False, words=("finite",))
    raises_one_line(apply_depth_clip, np.array([[np.nan, 1.0]]), (1.0, 2.0), relative=False, words=("fill it",))


def test_parse_depth_clip():
    assert parse_depth_clip("0.5,20") == (0.5, 20.0)
    assert parse_depth_clip(" 1 , 2e1 ") == (1.0, 20.0)
    for bad in ("", "1", "1,2,3", "a,b", "1;2"):
        raises_one_line(parse_depth_clip, bad, words=("clip", "NEAR,FAR", repr(bad)))
    for bad in ("2,1", "1,1", "0,1", "-1,2", "1,inf", "nan,2"):
        raises_one_line(parse_depth_clip, bad, words=("clip", "0 < NEAR < FAR"))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"kind": "metric"}, ("'metric'", "auto, depth, disparity or distance")),
        ({"scale": 0.0}, ("scale", "positive")),
        ({"scale": -2.0}, ("scale", "positive")),
        ({"scale": float("nan")}, ("scale",)),
        ({"scale": float("inf")}, ("scale",)),
        ({"clip": (3.0, 1.0)}, ("clip", "0 < NEAR < FAR")),
        ({"clip": (1.0,)}, ("clip", "two numbers")),
    ],
)
def test_depth_options_are_checked(kwargs, words):
    raises_one_line(DepthOptions, **kwargs, words=words)


def test_load_depth_kind_and_options(tmp_path):
    np.save(tmp_path / "d.npy", _ramp())
    out = load_depth(tmp_path / "d.npy", 8, 6, "auto", options=DepthOptions(kind="disparity"))
    assert out.min() == pytest.approx(1.0)  # options.kind is used
    assert np.array_equal(
        load_depth(tmp_path / "d.npy", 8, 6, "disparity", options=DepthOptions(kind="disparity")), out
    )
    with pytest.raises(ValueError, match="give the kind once"):
        load_depth(tmp_path / "d.npy", 8, 6, "depth", options=DepthOptions(kind="disparity"))


def test_module_doctests():
    assert doctest.testmod(photo3d.depth.conversions).failed == 0


# --- more real data ------------------------------------------------------------------------------------------------


@pytest.mark.real
def test_real_tum_depth_scaled_to_metres(real_data):
    path = real_data / "tum_rgbd_sample" / "TUM_depth.png"
    raw = load_depth_values(path)
    valid = raw > 0
    depth = load_depth(path, 640, 480, options=DepthOptions(kind="depth", scale=1 / 5000))
    np.testing.assert_allclose(depth[valid], raw[valid] / 5000.0, rtol=1e-6)
    lo, hi = np.percentile(depth[valid], [1, 99])
    assert 1.3 < lo < 1.7 and 7.0 < hi < 7.6  # manifest: 1.5-7.3 m
    clipped = load_depth(path, 640, 480, options=DepthOptions(kind="depth", scale=1 / 5000, clip=(2.0, 5.0)))
    assert clipped.min() == pytest.approx(2.0) and clipped.max() == pytest.approx(5.0)


@pytest.mark.real
def test_real_cones_unknown_pixels_take_a_neighbours_depth(real_data):
    path = real_data / "mb2003_cones" / "disp2.png"
    raw = load_depth_values(path)
    disparity_px = raw / 4.0  # manifest: disp_px = gray / 4, 0 = unknown
    valid = raw > 0
    assert 5.0 <= disparity_px[valid].min() and disparity_px.max() <= 55.0
    depth = load_depth(path, 450, 375, kind="disparity")
    assert set(np.unique(depth[~valid])) <= set(np.unique(depth[valid]))
    i, j = np.argwhere(valid)[[0, -1]]
    ratio = depth[tuple(i)] / depth[tuple(j)]
    assert ratio == pytest.approx(disparity_px[tuple(j)] / disparity_px[tuple(i)], rel=1e-5)


@pytest.mark.real
def test_real_moon_16bit_disparity(real_data):
    path = real_data / "peer_3dphoto_moon" / "depth" / "moon.png"
    raw = load_depth_values(path)
    assert raw.shape == (640, 640) and raw.max() > 255  # 16-bit, larger = nearer
    depth = load_depth(path, 640, 640)  # auto: disparity
    assert depth.min() == pytest.approx(1.0) and depth.max() <= 100.0
    nearest = np.unravel_index(np.argmax(np.where(raw > 0, raw, 0)), raw.shape)
    assert depth[nearest] == pytest.approx(1.0)
    big = load_depth(path, 2100, 2100)  # resampled to the photo's size
    assert big.shape == (2100, 2100) and np.isfinite(big).all()


@pytest.mark.parametrize("colour_edge", [46, 50])
def test_small_map_is_upsampled_along_the_photos_colour_edges(tmp_path, colour_edge):
    """A 4x smaller disparity map whose step could lie anywhere within a network pixel: guided by the photo,
    the step lands on the colour edge, at either end of the ramp that bilinear enlargement leaves (x = 46-50)."""
    h, w = 120, 160
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :colour_edge] = (40, 60, 200)
    image[:, colour_edge:] = (230, 200, 40)
    small = np.full((h // 4, w // 4), 20000, np.uint16)
    small[:, 12:] = 60000  # the step at x = 48 in photo pixels
    path = tmp_path / "d.png"
    Image.fromarray(small).save(path)
    guided = load_depth(path, w, h, guide=image)
    plain = load_depth(path, w, h)
    for depth, edge in ((guided, colour_edge), (plain, 48)):
        jumps = np.abs(np.diff(1.0 / depth, axis=1))
        assert (jumps.argmax(axis=1) == edge - 1).all(), edge  # the largest jump is between x = edge - 1 and edge
    step = 1.0 / guided[:, -1] - 1.0 / guided[:, 0]
    assert (np.abs(np.diff(1.0 / guided, axis=1))[:, colour_edge - 1] > 0.99 * step).all()  # one clean step
