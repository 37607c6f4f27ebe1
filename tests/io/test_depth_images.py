"""The photo3d depth outputs: 16-bit disparity PNG, colour preview and normal map files."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from photo3d.camera.intrinsics import Intrinsics, pixel_rays
from photo3d.depth.conversions import load_depth
from photo3d.depth.normals import encode_normals
from photo3d.io.depth_images import (
    depth_preview,
    depth_to_png16,
    write_depth_png,
    write_depth_preview,
    write_normal_map,
)
from tests.support.helpers import raises_one_line


def plane_depth(k: Intrinsics, z0: float, a: float, b: float) -> np.ndarray:
    """Planar depth of the plane z = z0 + a x + b y (camera frame) seen through k: z = z0 / (1 - a xn - b yn)."""
    xn, yn = pixel_rays(k)
    return (z0 / (1.0 - a * xn.astype(np.float64) - b * yn.astype(np.float64))).astype(np.float32)


def test_depth_to_png16_formula() -> None:
    depth = np.array([[2.0, 4.0, 3.0], [2.0, 8.0, 2.0 * 65535 * 3]])
    png = depth_to_png16(depth)
    assert png.dtype == np.uint16 and png.shape == (2, 3)
    assert png.tolist() == [[65535, 32768, 43690], [65535, 16384, 1]]  # nearest = white; 0 (unknown) never appears
    assert depth_to_png16(np.full((2, 2), 5.0, np.float32)).tolist() == [[65535, 65535], [65535, 65535]]


def test_depth_png_round_trips_through_load_depth(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    depth = rng.uniform(2.0, 200.0, (48, 64)).astype(np.float32)  # z_max / z_min up to 100, the importer's limit
    depth[0, 0] = 2.0
    out = tmp_path / "depth.png"
    write_depth_png(out, depth)
    back = load_depth(out, 64, 48, kind="disparity")
    ratio = depth.astype(np.float64) / depth.min()  # the relative depth the importer returns (nearest = 1)
    # v = round(65535 / ratio) is off by at most 0.5, so 65535 / v is off by at most 0.5 / (65535 / ratio - 0.5).
    bound = 0.5 / (65535.0 / ratio - 0.5)
    error = np.abs(back / ratio - 1.0)
    assert np.all(error <= bound + 1e-6), float((error - bound).max())
    assert error.max() < 7.7e-4  # the bound at ratio 100
    assert error.max() > 1e-5  # quantisation is really there: the check is not vacuous


def test_depth_png_file(tmp_path: Path) -> None:
    depth = np.linspace(1.0, 10.0, 30 * 40, dtype=np.float32).reshape(30, 40)
    out = tmp_path / "d.png"
    write_depth_png(out, depth)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "I;16" and im.size == (40, 30)
        np.testing.assert_array_equal(np.asarray(im), depth_to_png16(depth))
    assert os.listdir(tmp_path) == ["d.png"]


def test_depth_preview_near_is_warm(tmp_path: Path) -> None:
    depth = np.tile(np.linspace(1.0, 20.0, 64, dtype=np.float32), (8, 1))  # nearest on the left
    rgb = depth_preview(depth)
    assert rgb.shape == (8, 64, 3) and rgb.dtype == np.uint8
    turbo = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_TURBO)[:, 0, ::-1]
    np.testing.assert_array_equal(rgb[:, 0], np.broadcast_to(turbo[255], (8, 3)))  # nearest: the warm end
    np.testing.assert_array_equal(rgb[:, -1], np.broadcast_to(turbo[0], (8, 3)))  # farthest: the cool end
    assert rgb[0, 0, 0] > rgb[0, 0, 2] and rgb[0, -1, 2] > rgb[0, -1, 0]  # red near, blue far
    # Stretched in disparity: the pixel at half the nearest disparity gets the middle of the colour map.
    d = 1.0 / depth[0]
    half = int(np.argmin(np.abs((d - d.min()) / (d.max() - d.min()) - 0.5)))
    assert np.abs(rgb[0, half].astype(int) - turbo[128]).max() <= 40
    np.testing.assert_array_equal(depth_preview(np.full((2, 3), 4.0)), np.broadcast_to(turbo[128], (2, 3, 3)))

    out = tmp_path / "preview.png"
    write_depth_preview(out, depth)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "RGB" and im.size == (64, 8)
        np.testing.assert_array_equal(np.asarray(im), rgb)
    assert os.listdir(tmp_path) == ["preview.png"]


def test_write_normal_map(tmp_path: Path) -> None:
    k = Intrinsics.from_fov(40, 30)
    out = tmp_path / "normals.png"
    write_normal_map(out, plane_depth(k, 4.0, 0.5, 0.0), k)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "RGB" and im.size == (40, 30)
        pixels = np.asarray(im)
    expected = encode_normals(np.broadcast_to(np.array([0.5, 0.0, 1.0]) / np.sqrt(1.25), (30, 40, 3)))
    assert np.abs(pixels.astype(int) - expected).max() <= 1
    assert os.listdir(tmp_path) == ["normals.png"]


@pytest.mark.parametrize("writer", ["depth", "preview", "normals"])
def test_depth_writers_fail_in_one_line_and_leave_nothing(tmp_path: Path, writer: str) -> None:
    k = Intrinsics.from_fov(8, 6)
    depth = np.ones((6, 8), np.float32)

    def write(path, d=depth):
        if writer == "depth":
            write_depth_png(path, d)
        elif writer == "preview":
            write_depth_preview(path, d)
        else:
            write_normal_map(path, d, k)

    raises_one_line(write, tmp_path / "missing" / "d.png", words=("does not exist",))
    raises_one_line(write, tmp_path, words=("is a directory",))
    raises_one_line(write, "/proc/photo3d.png", words=("cannot write /proc/photo3d.png",))
    raises_one_line(write, tmp_path / "d.jpg", words=("d.jpg", ".png"))
    raises_one_line(write, tmp_path / "d.png", np.full((6, 8), np.nan), words=("NaN",))
    raises_one_line(write, tmp_path / "d.png", np.ones((6, 8, 1)), words=("(H, W)",))
    assert os.listdir(tmp_path) == []
    assert not Path("/proc/photo3d.png").exists()


def test_depth_png_failure_while_writing_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "d.png"
    out.write_bytes(b"old")

    def full_disk(path, mode):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("photo3d.io.depth_images.open", full_disk, raising=False)
    raises_one_line(write_depth_png, out, np.ones((4, 4)), words=("No space left on device",))
    assert out.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["d.png"]
