"""No output may destroy an input, and no output may silently replace another (issue 15, items 1 and 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from photo3d.errors import Photo3DError
from photo3d.io.outputs import check_distinct, same_file
from tests.cli.test_cli import assert_one_line_error, run

pytestmark = pytest.mark.gl


@pytest.fixture()
def files(tmp_path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
    depth = tmp_path / "good.npy"
    np.save(depth, (1.0 + rng.random((60, 80))).astype(np.float32))
    return {"photo": photo, "depth": depth}


def _render(files, *args):
    return run("render", files["photo"], "--depth", files["depth"], "--frames", "2", "--size", "80x60", *args)


@pytest.mark.parametrize(
    ("args", "victim", "words"),
    [
        (("--out", "{photo}"), "photo", ("--out", "the photo", "destroy")),
        (("--out", "{depth}", "--ply", "x.ply"), "depth", ("--out", "the depth map")),
        (("--ply", "{photo}"), "photo", ("--ply", "the photo")),
        (("--ply", "{depth}"), "depth", ("--ply", "the depth map")),
    ],
)
def test_render_refuses_an_output_that_is_an_input(files, tmp_path, args, victim, words):
    before = files[victim].read_bytes()
    args = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    proc = _render(files, *args)
    assert_one_line_error(proc, *words)
    assert files[victim].read_bytes() == before


def test_render_refuses_a_hard_link_to_the_photo(files, tmp_path):
    link = tmp_path / "link.png"
    os.link(files["photo"], link)
    before = files["photo"].read_bytes()
    assert_one_line_error(_render(files, "--out", link), "--out", "the photo")
    assert files["photo"].read_bytes() == before


def test_render_refuses_two_outputs_in_one_file(files, tmp_path):
    proc = _render(files, "--out", tmp_path / "same.mp4", "--ply", tmp_path / "same.mp4")
    assert_one_line_error(proc, "--out and --ply", "same.mp4")
    assert not (tmp_path / "same.mp4").exists()


def test_depth_refuses_to_overwrite_the_depth_map_it_reads(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.full((30, 40, 3), 128, np.uint8))
    ramp = np.tile(np.linspace(1000, 60000, 40), (30, 1)).astype(np.uint16)
    cv2.imwrite(str(folder / "a_depth.png"), ramp)
    before = (folder / "a_depth.png").read_bytes()
    proc = run("depth", folder / "a.png", "--depth", folder / "a_depth.png", "--out", folder)
    assert_one_line_error(proc, "the depth map", "a_depth.png")
    assert (folder / "a_depth.png").read_bytes() == before


def test_depth_refuses_two_photos_that_would_write_one_file(tmp_path):
    for name in ("d1/a.png", "d2/a.jpg"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        cv2.imwrite(str(tmp_path / name), np.full((30, 40, 3), 100, np.uint8))
    proc = run("depth", tmp_path / "d1", tmp_path / "d2", "--out", tmp_path / "out", "--depth-model", "x")
    assert_one_line_error(proc, "a.png", "a.jpg", "a_depth.png")
    assert not (tmp_path / "out").exists()


def test_check_distinct_in_the_library(tmp_path):
    a = tmp_path / "a.png"
    a.write_bytes(b"x")
    check_distinct([("--out", tmp_path / "b.mp4"), ("--ply", None)], [("the photo", a), ("the depth map", None)])
    with pytest.raises(Photo3DError, match="--out .* is the photo"):
        check_distinct([("--out", tmp_path / "." / "a.png")], [("the photo", a)])
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "00001.png").write_bytes(b"x")
    with pytest.raises(Photo3DError, match="is the folder of the photo"):
        check_distinct([("--out", frames)], [("the photo", frames / "00001.png")], folders=("--out",))
    check_distinct([("--ply", frames)], [("the photo", frames / "00001.png")])  # not a folder output
    assert same_file(a, tmp_path / "sub" / ".." / "a.png") and not same_file(a, tmp_path / "b.png")


def test_depth_runs_again_on_a_folder_beside_its_own_outputs(tmp_path):
    """A second run into the photos' own folder rewrites their depth maps and takes none of them for a photo."""
    cv2.imwrite(str(tmp_path / "a.png"), np.full((30, 40, 3), 100, np.uint8))
    ramp = np.tile(np.linspace(1000, 60000, 40), (30, 1)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "a_depth.png"), ramp)  # as the first run wrote it
    cv2.imwrite(str(tmp_path / "a_normals.png"), np.zeros((30, 40, 3), np.uint8))
    proc = run("depth", tmp_path, "--out", tmp_path, "--depth-model", "x")  # no such model: fails after collection
    errors = [line for line in proc.stderr.splitlines() if line.startswith("photo3d: error:")]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(errors) == 2 and f"{tmp_path / 'a.png'}:" in errors[0], proc.stderr
    assert errors[1] == "photo3d: error: the photo failed (see above)"  # not "the others were written"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("render", "--frames", "abc", "x.png"), ("--frames", "photo3d render --help")),
        (("render", "x.png", "--bogus"), ("--bogus", "photo3d render --help")),
        (("render",), ("missing argument", "image")),
        (("depth",), ("missing argument", "photo3d depth --help")),
        (("render", "x.png", "--device", "bogus"), ("--device", "cpu, cuda")),
        (("render", "x.png", "--depth-resolution", "-5"), ("--depth-resolution", "14")),
    ],
)
def test_usage_errors_are_one_line(args, words):
    """Issue 15, item 9: Click's usage block becomes one line that points to --help; bad values are refused."""
    proc = run(*args)
    assert_one_line_error(proc, *words)
    assert "Usage:" not in proc.stderr and proc.stderr.count("\n") == 1


def test_bare_command_still_shows_the_help():
    proc = run()
    assert proc.returncode == 2 and "Commands:" in proc.stderr + proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_an_interrupted_render_says_so_and_leaves_nothing(files, tmp_path, signum):
    out = tmp_path / "long.mp4"
    args = ["render", files["photo"], "--depth", files["depth"], "--frames", "5000", "--size", "80x60", "-o", out]
    proc = subprocess.Popen([sys.executable, "-m", "photo3d", *map(str, args)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".") for p in tmp_path.iterdir()):  # the render's temporary file
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "photo3d: interrupted; outputs in progress were discarded"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npy", "p.png"]


def test_a_tiny_frame_rate_and_a_mesh_named_as_another_format_are_refused_up_front(files, tmp_path):
    """Issue 15, item 9: --fps 1e-9 used to fail inside ffmpeg; --ply x.obj wrote PLY bytes into a .obj."""
    assert_one_line_error(_render(files, "--fps", "1e-9", "-o", tmp_path / "a.mp4"), "--fps", "0.01")
    assert_one_line_error(_render(files, "-o", tmp_path / "b.mp4", "--ply", tmp_path / "x.obj"), "x.obj", ".ply")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npy", "p.png"]
