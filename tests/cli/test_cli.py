"""The command line end to end: real photos, the pixel-grid contract, and bad input."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from photo3d.io.video import read_video_info


def run(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photo3d", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("photo3d: error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]


def write_png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), rgb[..., ::-1])
    return path


@pytest.fixture()
def photo(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.random((48, 64, 3)).astype(np.float32), (0, 0), 1.5)
    img = np.rint(255 * (img - img.min()) / (img.max() - img.min())).astype(np.uint8)
    return write_png(tmp_path / "photo.png", img)


def read_rgb(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]


# --- real photos --------------------------------------------------------------------------------


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.gl
@pytest.mark.parametrize(
    ("item", "image", "depth", "extra"),
    [
        ("tum_rgbd_sample", "TUM_color.png", "TUM_depth.png", ["--depth-kind", "depth", "--focal-px", "525"]),
        ("mb2003_cones", "im2.png", "disp2.png", ["--depth-kind", "disparity"]),
    ],
)
def test_real_photo_to_video_and_ply(real_data, tmp_path, item, image, depth, extra):
    import open3d as o3d

    folder = real_data / item
    out, ply = tmp_path / "clip.mp4", tmp_path / "mesh.ply"
    proc = run(
        "render",
        folder / image,
        "--depth",
        folder / depth,
        *extra,
        "--trajectory",
        "swing",
        "--frames",
        "9",
        "--out",
        out,
        "--ply",
        ply,
    )
    assert proc.returncode == 0, proc.stderr
    assert "OpenGL renderer" in proc.stderr
    w, h = (int(v) for v in cv2.imread(str(folder / image)).shape[1::-1])
    count, vw, vh, _ = read_video_info(out)
    assert (count, vw, vh) == (9, w - w % 2, h - h % 2)
    mesh = o3d.io.read_triangle_mesh(str(ply))
    assert len(mesh.vertices) > w * h  # layer 0 plus back-layer samples
    assert len(mesh.triangles) > w * h
    colors = np.asarray(mesh.vertex_colors)
    assert colors.std() > 0.05  # coloured, not grey
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary left behind


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.gl
def test_real_photo_vertical_clip(real_data, tmp_path):
    folder = real_data / "tum_rgbd_sample"
    out = tmp_path / "vertical.mp4"
    proc = run(
        "render",
        folder / "TUM_color.png",
        "--depth",
        folder / "TUM_depth.png",
        "--depth-kind",
        "depth",
        "--trajectory",
        "dolly",
        "--frames",
        "3",
        "--size",
        "1080x1920",
        "--out",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    assert read_video_info(out)[:3] == (3, 1080, 1920)


# --- the contract: --framing none at the photo's size is the source camera --------------------------


def plane_inputs(tmp_path: Path, photo: Path, z: float) -> Path:
    """A fronto-parallel plane at z: a constant depth map (issue 15, item 5: once refused as carrying no depth)."""
    h, w = read_rgb(photo).shape[:2]
    depth = np.full((h, w), z, np.float32)
    path = tmp_path / "plane.npy"
    np.save(path, depth)
    return path


@pytest.mark.gl
@pytest.mark.parametrize(("shift_px", "focus_times_z"), [(0, 4.0), (4, 4.0), (4, math.inf)])
def test_contract_source_pixel_grid(tmp_path, photo, shift_px, focus_times_z):
    """One frame, SSAA 1, framing none: the source camera exactly; a move by tx shifts by f tx (1/Z - 1/focus) pixels.

    The lens shift keeps the focus depth still, so with ``--focus 4 Z`` the plane moves by 3/4 of f tx / Z;
    ``--focus inf`` (no lens shift) moves it by f tx / Z.
    """
    z, f = 3.0, 70.0
    focus = focus_times_z * z
    depth = plane_inputs(tmp_path, photo, z)
    tx = shift_px / (f * (1.0 / z - 1.0 / focus))
    traj = tmp_path / "path.toml"
    traj.write_text(f"[[keyframe]]\nt = 0.0\nposition = [{tx!r}, 0.0, 0.0]\n")
    out = tmp_path / "frames"
    proc = run(
        "render",
        photo,
        "--depth",
        depth,
        "--depth-kind",
        "depth",
        "--focal-px",
        f,
        "--trajectory",
        traj,
        "--frames",
        "1",
        "--ssaa",
        "1",
        "--size",
        "64x48",
        "--framing",
        "none",
        "--focus",
        focus,
        "--out",
        f"{out}/",
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["00000.png"]
    got = read_rgb(out / "00000.png").astype(int)
    src = read_rgb(photo).astype(int)
    s = shift_px
    # Compare above the corner block (and its back-layer band), away from the last row and column.
    assert np.abs(got[:28, : 63 - s] - src[:28, s:63]).max() <= 1


# --- bad input: one line, non-zero exit, nothing written ------------------------------------------


def test_missing_depth_fails_fast_and_says_how(photo, tmp_path):
    start = time.perf_counter()
    proc = run("render", photo, "--trajectory", "dolly", "--out", tmp_path / "x.mp4")
    assert time.perf_counter() - start < 5.0
    assert_one_line_error(proc, "--depth")
    assert not (tmp_path / "x.mp4").exists()


def bad_photos(tmp_path: Path, photo: Path) -> dict[str, Path]:
    data = photo.read_bytes()
    jpeg = cv2.imencode(".jpg", read_rgb(photo))[1].tobytes()
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "notes.jpg").write_text("not an image\n")
    return {
        "missing": tmp_path / "absent.jpg",
        "empty": tmp_path / "empty.jpg",
        "truncated": tmp_path / "truncated.jpg",
        "truncated-png": tmp_path / "truncated.png",
        "not an image": tmp_path / "notes.jpg",
    }


@pytest.mark.parametrize("case", ["missing", "empty", "truncated", "truncated-png", "not an image"])
def test_bad_photo(tmp_path, photo, case):
    bad = bad_photos(tmp_path, photo)[case]
    depth = plane_inputs(tmp_path, photo, 2.0)
    outdir = tmp_path / "out"
    outdir.mkdir()
    proc = run("render", bad, "--depth", depth, "--out", outdir / "x.mp4", "--ply", outdir / "x.ply")
    assert_one_line_error(proc, bad.name)
    assert list(outdir.iterdir()) == []


@pytest.mark.parametrize("case", ["all-nan", "other-size"])
def test_bad_depth(tmp_path, photo, case):
    h, w = read_rgb(photo).shape[:2]
    depth = tmp_path / f"{case}.npy"
    if case == "all-nan":
        np.save(depth, np.full((h, w), np.nan, np.float32))
    else:
        np.save(depth, np.full((h, w * 2), 2.0, np.float32) + np.arange(w * 2, dtype=np.float32))
    outdir = tmp_path / "out"
    outdir.mkdir()
    proc = run("render", photo, "--depth", depth, "--out", outdir / "x.mp4", "--ply", outdir / "x.ply")
    assert_one_line_error(proc, depth.name)
    assert list(outdir.iterdir()) == []


@pytest.mark.gl
@pytest.mark.parametrize("kind", ["depth", "disparity"])
def test_a_constant_depth_map_renders_a_wall_with_one_warning(tmp_path, photo, kind):
    """Issue 15, item 5: a flat wall facing the camera is a valid scene."""
    h, w = read_rgb(photo).shape[:2]
    np.save(tmp_path / "c.npy", np.full((h, w), 3.0, np.float32))
    out = tmp_path / "wall.mp4"
    proc = run("render", photo, "--depth", tmp_path / "c.npy", "--depth-kind", kind, "--frames", "4", "--out", out)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "is constant" in line]
    where = "at depth 3" if kind == "depth" else "at relative depth 1"
    assert len(warnings) == 1 and warnings[0].endswith(f"the scene is one plane facing the camera, {where}")
    assert read_video_info(out)[0] == 4


@pytest.mark.parametrize("target", ["missing-folder", "proc", "is-a-directory"])
def test_unwritable_output(tmp_path, photo, target):
    depth = plane_inputs(tmp_path, photo, 2.0)
    out = {
        "missing-folder": tmp_path / "nope" / "x.mp4",
        "proc": Path("/proc/photo3d-test.mp4"),
        "is-a-directory": tmp_path,
    }[target]
    if target == "is-a-directory":
        proc = run("render", photo, "--depth", depth, "--out", "out.mp4", "--ply", tmp_path, cwd=tmp_path)
    else:
        proc = run("render", photo, "--depth", depth, "--out", out)
    assert_one_line_error(proc, "cannot write")
    assert not (tmp_path / "out.mp4").exists()


def test_bad_options_are_one_line_errors(tmp_path, photo):
    depth = plane_inputs(tmp_path, photo, 2.0)
    for args, word in [
        (["--trajectory", "nowhere"], "trajectory"),
        (["--size", "101x100"], "--size"),
        (["--framing", "zoom"], "--framing"),
        (["--ssaa", "0"], "--ssaa"),
        (["--frames", "0"], "--frames"),
        (["--inpainter", "nowhere.pt"], "--inpainter"),
        (["--inpainter", str(depth)], "TorchScript"),  # a file, but not a network
        (["--layers", "0"], "--layers"),
    ]:
        proc = run("render", photo, "--depth", depth, "--out", tmp_path / "x.mp4", *args)
        assert_one_line_error(proc, word)
    assert not (tmp_path / "x.mp4").exists()


def test_trajectories_lists_presets():
    proc = run("trajectories")
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert {"dolly", "swing", "circle"} <= set(names)


@pytest.mark.gl
def test_sample_scene_quickstart(tmp_path):
    """The README's main job, small: generate the sample scene and render it with a PLY."""
    assert run("sample", tmp_path / "demo", "--size", "192x128").returncode == 0
    proc = run(
        "render",
        tmp_path / "demo" / "photo.png",
        "--depth",
        tmp_path / "demo" / "depth.png",
        "--frames",
        "4",
        "--out",
        tmp_path / "dolly.mp4",
        "--ply",
        tmp_path / "photo.ply",
    )
    assert proc.returncode == 0, proc.stderr
    assert read_video_info(tmp_path / "dolly.mp4")[:3] == (4, 192, 128)
    assert (tmp_path / "photo.ply").stat().st_size > 192 * 128 * 15


@pytest.mark.gl
def test_learned_inpainter_and_single_layer(tmp_path):
    """--inpainter takes a TorchScript network file; --layers 1 renders without back layers."""
    pytest.importorskip("torch")
    from tests.support.models import save_random_inpainter

    net = save_random_inpainter(tmp_path / "lama.pt")
    assert run("sample", tmp_path / "demo", "--size", "160x96").returncode == 0
    base = ["render", tmp_path / "demo" / "photo.png", "--depth", tmp_path / "demo" / "depth.png", "--frames", "3"]
    proc = run(*base, "--inpainter", net, "--device", "cpu", "--out", tmp_path / "a.mp4")
    assert proc.returncode == 0, proc.stderr
    assert "LDI 1 layers" not in proc.stderr
    proc = run(*base, "--layers", "1", "--out", tmp_path / "b.mp4")
    assert proc.returncode == 0, proc.stderr
    assert "LDI 1 layers" in proc.stderr


# --- issue 5: presets, every trajectory, stereo, stills, motion options ------------------------------


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.gl
def test_every_preset_renders_a_real_photo_in_a_vertical_frame(real_data, tmp_path):
    """Each trajectory preset renders cones into the tiktok format (1080x1920 at 30 fps), exactly that size."""
    from photo3d.camera.trajectory_files import preset_names

    folder = real_data / "mb2003_cones"
    for name in preset_names():
        out = tmp_path / f"{name}.mp4"
        proc = run(
            "render", folder / "im2.png", "--depth", folder / "disp2.png", "--depth-kind", "disparity",
            "--preset", "tiktok", "--preset", "ultrafast", "-t", name, "--frames", "3", "--ssaa", "1", "--out", out,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        count, w, h, fps = read_video_info(out)
        assert (count, w, h) == (3, 1080, 1920), name
        assert fps == pytest.approx(30.0)


@pytest.mark.gl
@pytest.mark.parametrize(("mode", "shape"), [("sbs", (48, 128)), ("tb", (96, 64)), ("anaglyph", (48, 64))])
def test_stereo_still(tmp_path, photo, mode, shape):
    """A stereo still: both eyes of the photo's size; a plane at the focus depth has zero disparity."""
    z = 3.0
    depth = plane_inputs(tmp_path, photo, z)
    out = tmp_path / "stereo.png"
    proc = run(
        "render", photo, "--depth", depth, "--depth-kind", "depth", "--stereo", mode, "--focus", z,
        "--framing", "none", "--ssaa", "1", "--out", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = read_rgb(out).astype(int)
    assert got.shape[:2] == shape
    if mode == "sbs":
        left, right = got[:, :64], got[:, 64:]
    elif mode == "tb":
        left, right = got[:48], got[48:]
    else:
        return
    # The plane is at the convergence depth: both eyes see it at the same pixels (away from the near corner).
    src = read_rgb(photo).astype(int)
    assert np.abs(left[:28, 2:62] - right[:28, 2:62]).max() <= 2
    assert np.abs(left[:28, 2:62] - src[:28, 2:62]).max() <= 2


@pytest.mark.gl
def test_contain_framing_letterboxes(tmp_path, photo):
    z = 3.0
    depth = plane_inputs(tmp_path, photo, z)
    out = tmp_path / "square.png"
    proc = run(
        "render", photo, "--depth", depth, "--depth-kind", "depth", "--size", "64x64", "--framing", "contain",
        "--out", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = read_rgb(out)
    assert got.shape[:2] == (64, 64)
    # A 64x48 photo in a 64x64 frame: black bars of 8 rows above and below, the photo between them.
    assert got[:8].max() == 0 and got[-8:].max() == 0
    assert got[8:56].mean() > 40


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--preset", "tiktok", "--preset", "square"], ("--preset", "two output formats")),
        (["--preset", "bogus"], ("--preset", "bogus", "tiktok", "veryfast")),
        (["--loop", "--once"], ("--loop", "--once")),
        (["--easing", "wobbly"], ("--easing", "smooth")),
        (["--stereo", "3d"], ("--stereo", "sbs", "anaglyph")),
        (["--framing", "fill"], ("--framing", "contain")),
        (["--intensity", "-1"], ("--intensity",)),
        (["--codec", "h265", "--out", "x.webm"], ("h265",)),
        (["--ssaa", "8"], ("--ssaa",)),
        (["--msaa", "3"], ("--msaa",)),
    ],
)
def test_bad_motion_and_output_options_fail_fast(tmp_path, photo, args, words):
    """Each bad option is one line and exit 2, and nothing is written."""
    depth = plane_inputs(tmp_path, photo, 3.0)
    start = time.perf_counter()
    proc = run("render", photo, "--depth", depth, "--depth-kind", "depth", *args, cwd=tmp_path)
    assert time.perf_counter() - start < 30.0
    assert_one_line_error(proc, *words)
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.webm"))
