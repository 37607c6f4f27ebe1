"""``photo3d depth`` and the depth sources of ``photo3d render``, through the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.support.models import save_random_model

pytestmark = pytest.mark.slow


def photo3d(*args, cwd=None, env_extra=None):
    env = dict(os.environ, HF_HUB_OFFLINE="1", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "photo3d", *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd
    )


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("photo3d: error:")]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return save_random_model(tmp_path_factory.mktemp("model") / "tiny", "tiny-depth-anything")


@pytest.fixture()
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name, (h, w) in (("a.png", (60, 80)), ("b.jpg", (90, 60))):
        cv2.imwrite(str(folder / name), rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_folder_with_model_preview_and_normals(photos, tiny_model, tmp_path):
    out = tmp_path / "out"
    result = photo3d(
        "depth",
        photos,
        "--out",
        out,
        "--depth-model",
        tiny_model,
        "--preview",
        "--normals",
        env_extra={"PHOTO3D_CACHE": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    assert "notes.txt" in result.stderr  # skipped with a warning
    assert sorted(p.name for p in out.iterdir()) == [
        "a_depth.png",
        "a_depth_preview.png",
        "a_normals.png",
        "b_depth.png",
        "b_depth_preview.png",
        "b_normals.png",
    ]
    with Image.open(out / "a_depth.png") as im:
        assert im.size == (80, 60) and im.mode.startswith("I")
        assert int(np.asarray(im).max()) == 65535  # the nearest pixel is white
    with Image.open(out / "b_normals.png") as im:
        assert im.size == (60, 90) and im.mode == "RGB"
    with Image.open(out / "b_depth_preview.png") as im:
        assert im.size == (60, 90) and im.mode == "RGB"


def test_a_bad_photo_does_not_stop_the_others(photos, tiny_model, tmp_path):
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    out = tmp_path / "out"
    result = photo3d(
        "depth", photos, "--out", out, "--depth-model", tiny_model, env_extra={"PHOTO3D_CACHE": str(tmp_path / "cache")}
    )
    assert result.returncode == 2
    errors = error_lines(result)
    assert any("broken.jpg" in line for line in errors), result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a_depth.png", "b_depth.png"]


def test_depth_file_round_trips_through_the_16_bit_png(tmp_path):
    from photo3d.sample import make_sample_scene

    scene = make_sample_scene(96, 64)
    cv2.imwrite(str(tmp_path / "photo.png"), scene.image[..., ::-1])
    np.save(tmp_path / "depth.npy", scene.depth)
    result = photo3d("depth", tmp_path / "photo.png", "--depth", tmp_path / "depth.npy", "--out", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    stored = np.asarray(Image.open(tmp_path / "o" / "photo_depth.png")).astype(np.float64)
    expected = 65535.0 * scene.depth.min() / scene.depth  # disparity, nearest = 65535
    assert np.abs(stored - expected).max() <= 0.5 + 1e-6


def test_blender_distance_exr_gives_a_flat_wall(tmp_path):
    import OpenEXR

    from photo3d.camera.intrinsics import Intrinsics

    w, h, f, z = 64, 48, 50.0, 3.0
    k = Intrinsics.from_focal(w, h, f)
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    distance = (z * np.sqrt(1 + ((u - k.cx) ** 2 + (v - k.cy) ** 2) / f**2)).astype(np.float32)
    OpenEXR.File({"type": OpenEXR.scanlineimage}, {"Z": distance}).write(str(tmp_path / "z.exr"))
    cv2.imwrite(str(tmp_path / "frame.png"), np.full((h, w, 3), 128, np.uint8))
    result = photo3d(
        "depth",
        tmp_path / "frame.png",
        "--depth",
        tmp_path / "z.exr",
        "--depth-kind",
        "distance",
        "--focal-px",
        f,
        "--out",
        tmp_path / "o",
    )
    assert result.returncode == 0, result.stderr
    stored = np.asarray(Image.open(tmp_path / "o" / "frame_depth.png"))
    assert stored.min() == stored.max() == 65535  # every pixel at the same planar depth
    as_depth = photo3d(
        "depth",
        tmp_path / "frame.png",
        "--depth",
        tmp_path / "z.exr",
        "--depth-kind",
        "depth",
        "--focal-px",
        f,
        "--out",
        tmp_path / "p",
    )
    assert as_depth.returncode == 0, as_depth.stderr

    assert np.asarray(Image.open(tmp_path / "p" / "frame_depth.png")).min() < 60000  # read as planar: curved


@pytest.mark.real
def test_lens_blur_photo_uses_its_embedded_depth_offline(real_data, tmp_path):
    folder = real_data / "google_lensblur_depthy"
    result = photo3d("depth", folder / "1.jpg", "--out", tmp_path, "--preview")
    assert result.returncode == 0, result.stderr
    assert "GDepth" in result.stderr
    with Image.open(tmp_path / "1_depth.png") as im:
        assert im.size == (580, 1024)
        stored = np.asarray(im).astype(np.float64)
    raw = np.asarray(Image.open(folder / "1-depth.png"))[..., 0].astype(np.float64)
    near, far = 9.61550521850586, 44.63623809814453
    depth = near * far / (far - raw / 255 * (far - near))
    np.testing.assert_allclose(stored, 65535 * depth.min() / depth, atol=0.51)


@pytest.mark.real
@pytest.mark.gl
def test_render_lens_blur_photo_without_a_model(real_data, tmp_path):
    out = tmp_path / "circle.mp4"
    result = photo3d(
        "render",
        real_data / "google_lensblur_depthy" / "1.jpg",
        "-t",
        "circle",
        "--frames",
        "3",
        "--size",
        "290x512",
        "-o",
        out,
    )
    assert result.returncode == 0, result.stderr
    assert "embedded: Google GDepth" in result.stderr
    assert out.stat().st_size > 0


@pytest.mark.real
def test_apple_portrait_uses_its_embedded_disparity(real_data, tmp_path):
    result = photo3d("depth", real_data / "apple_portrait_pug" / "pug.heic", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "disparity" in result.stderr
    with Image.open(tmp_path / "pug_depth.png") as im:
        assert im.size == (4032, 3024)


def test_depth_options_without_a_depth_file_are_refused(photos, tmp_path):
    result = photo3d("depth", photos / "a.png", "--invert", "--out", tmp_path)
    assert result.returncode == 2 and "--depth PATH" in result.stderr
    assert len(error_lines(result)) == 1


def test_bad_depth_clip_and_range(photos, tmp_path):
    for option, value in (("--depth-clip", "5"), ("--depth-range", "3,1")):
        result = photo3d("depth", photos / "a.png", option, value, "--out", tmp_path)
        assert result.returncode == 2, result.stderr
        assert len(error_lines(result)) == 1 and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.png"))
