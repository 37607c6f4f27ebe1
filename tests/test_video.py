from __future__ import annotations

import os
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from photo3d import video
from photo3d.errors import Photo3DError
from photo3d.outputs import atomic_directory, atomic_output, check_writable
from photo3d.video import open_writer, read_video_info

W, H, N = 64, 48, 7


def frame(i: int, width: int = W, height: int = H) -> np.ndarray:
    """A flat colour that changes with i, plus a bright square so frames differ in structure too."""
    f = np.empty((height, width, 3), np.uint8)
    f[...] = (200, (30 * i) % 256, 50)
    f[4:12, 4 + i : 12 + i] = 255
    return f


def write_clip(path: str | Path, n: int = N, width: int = W, height: int = H, fps: float = 30) -> video.FrameWriter:
    with open_writer(path, width, height, fps) as w:
        for i in range(n):
            w.write(frame(i, width, height))
    return w


def first_frame_and_meta(path: Path) -> tuple[np.ndarray, dict]:
    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    width, height = meta["size"]
    first = np.frombuffer(next(gen), np.uint8).reshape(height, width, 3)
    gen.close()
    return first, meta


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# --- output kinds ---------------------------------------------------------------------------------


def test_mp4_has_exact_frames_size_and_yuv420p(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    w = write_clip(out)
    assert w.frames_written == N
    assert read_video_info(out) == (N, W, H, 30.0)
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == N
    first, meta = first_frame_and_meta(out)
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert "bt709" in meta["pix_fmt"]
    # The flat colour survives sRGB -> BT.709 YCbCr -> sRGB.
    np.testing.assert_allclose(first[40, 40].astype(int), (200, 0, 50), atol=3)
    assert listing(tmp_path) == ["clip.mp4"]


def test_webm_is_vp9(tmp_path: Path) -> None:
    out = tmp_path / "clip.webm"
    write_clip(out)
    assert read_video_info(out) == (N, W, H, 30.0)
    first, meta = first_frame_and_meta(out)
    assert meta["codec"] == "vp9"
    assert meta["pix_fmt"].startswith("yuv420p")
    np.testing.assert_allclose(first[40, 40].astype(int), (200, 0, 50), atol=3)


def test_gif_keeps_frames_and_size(tmp_path: Path) -> None:
    out = tmp_path / "clip.gif"
    write_clip(out, fps=10)
    count, width, height, fps = read_video_info(out)
    assert (count, width, height) == (N, W, H)
    assert fps == pytest.approx(10.0)  # GIF delays are whole centiseconds: 10 fps is exact
    first, meta = first_frame_and_meta(out)
    assert meta["codec"].rstrip(",") == "gif"
    np.testing.assert_allclose(first[40, 40].astype(int), (200, 0, 50), atol=3)


@pytest.mark.parametrize("spelling", ["slash", "no_suffix", "existing"])
def test_png_sequence(tmp_path: Path, spelling: str) -> None:
    if spelling == "slash":
        target: str | Path = f"{tmp_path / 'frames.v1'}/"
        folder = tmp_path / "frames.v1"
    elif spelling == "no_suffix":
        target = folder = tmp_path / "frames"
    else:
        folder = tmp_path / "existing.mp4"  # an existing folder wins over the suffix
        folder.mkdir()
        (folder / "notes.txt").write_text("kept")
        target = folder
    write_clip(target)
    names = [n for n in listing(folder) if n.endswith(".png")]
    assert names == [f"{i:05d}.png" for i in range(N)]
    assert not [n for n in listing(folder) if n.startswith(".")]
    for i, name in enumerate(names):
        back = cv2.imread(str(folder / name), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(back[:, :, ::-1], frame(i))  # lossless, RGB order kept
    if spelling == "existing":
        assert (folder / "notes.txt").read_text() == "kept"


def test_size_is_not_rounded_to_macro_blocks(tmp_path: Path) -> None:
    out = tmp_path / "tall.mp4"
    write_clip(out, n=3, width=90, height=160)
    assert read_video_info(out)[:3] == (3, 90, 160)


def test_fractional_fps(tmp_path: Path) -> None:
    out = tmp_path / "ntsc.mp4"
    write_clip(out, n=3, fps=30000 / 1001)
    assert read_video_info(out)[3] == pytest.approx(29.97, abs=0.01)


# --- argument errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("width,height", [(63, 48), (64, 47)])
@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_odd_size_is_refused_for_yuv420p(tmp_path: Path, width: int, height: int, suffix: str) -> None:
    with pytest.raises(Photo3DError, match="needs an even width and height"):
        open_writer(tmp_path / f"odd{suffix}", width, height, 30)
    assert listing(tmp_path) == []


def test_odd_size_is_fine_for_gif_and_png(tmp_path: Path) -> None:
    write_clip(tmp_path / "odd.gif", n=2, width=63, height=47)
    write_clip(tmp_path / "odd", n=2, width=63, height=47)
    assert read_video_info(tmp_path / "odd.gif")[:3] == (2, 63, 47)
    assert cv2.imread(str(tmp_path / "odd" / "00001.png")).shape == (47, 63, 3)


def test_unknown_suffix_lists_supported(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match=r"unknown output type '\.avi'.*\.mp4, \.webm, \.gif"):
        open_writer(tmp_path / "clip.avi", W, H, 30)


@pytest.mark.parametrize("fps", [0, -1, float("nan"), float("inf")])
def test_bad_fps(tmp_path: Path, fps: float) -> None:
    with pytest.raises(Photo3DError, match="fps must be a positive number"):
        open_writer(tmp_path / "clip.mp4", W, H, fps)


def test_bad_crf(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match="crf must be a whole number from 0 to 51"):
        open_writer(tmp_path / "clip.mp4", W, H, 30, crf=60)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "bad",
    [np.zeros((W, H, 3), np.uint8), np.zeros((H, W, 4), np.uint8), np.zeros((H, W, 3), np.float32)],
    ids=["transposed", "rgba", "float"],
)
def test_frame_shape_is_checked(tmp_path: Path, bad: np.ndarray) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(ValueError, match=r"shape \(48, 64, 3\), got"):
        with open_writer(out, W, H, 30) as w:
            w.write(frame(0))
            w.write(bad)
    assert listing(tmp_path) == []


def test_zero_frames_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match="no frames"):
        with open_writer(tmp_path / "empty.mp4", W, H, 30):
            pass
    assert listing(tmp_path) == []


def test_write_after_close(tmp_path: Path) -> None:
    w = write_clip(tmp_path / "clip.mp4", n=1)
    with pytest.raises(Photo3DError, match="already closed"):
        w.write(frame(0))


# --- failures leave nothing behind ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clip.mp4", "clip.webm", "clip.gif", "frames/"])
def test_exception_midway_leaves_no_file(tmp_path: Path, name: str) -> None:
    with pytest.raises(RuntimeError, match="renderer broke"):
        with open_writer(f"{tmp_path}/{name}", W, H, 30) as w:
            for i in range(3):
                w.write(frame(i))
            raise RuntimeError("renderer broke")
    assert listing(tmp_path) == []


def test_exception_midway_keeps_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    write_clip(out, n=2)
    before = out.read_bytes()
    with pytest.raises(RuntimeError):
        with open_writer(out, W, H, 30) as w:
            w.write(frame(5))
            raise RuntimeError("stop")
    assert out.read_bytes() == before
    assert listing(tmp_path) == ["clip.mp4"]


def test_exception_midway_keeps_existing_frames(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    write_clip(folder, n=2)
    with pytest.raises(RuntimeError):
        with open_writer(folder, W, H, 30) as w:
            w.write(frame(5))
            raise RuntimeError("stop")
    assert listing(folder) == ["00000.png", "00001.png"]
    np.testing.assert_array_equal(cv2.imread(str(folder / "00000.png"))[:, :, ::-1], frame(0))


def test_abort_without_with(tmp_path: Path) -> None:
    w = open_writer(tmp_path / "clip.mp4", W, H, 30)
    w.write(frame(0))
    w.abort()
    w.abort()
    assert listing(tmp_path) == []


def test_ffmpeg_failure_reports_its_last_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = video._ffmpeg_output_args
    monkeypatch.setattr(video, "_ffmpeg_output_args", lambda kind, crf: [*real(kind, crf), "-no_such_option", "1"])
    with pytest.raises(Photo3DError, match=r"ffmpeg failed writing .*clip\.mp4 \(exit status \d+\): \S"):
        write_clip(tmp_path / "clip.mp4", n=N)
    assert listing(tmp_path) == []


# --- unwritable destinations ------------------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    for name in ["clip.mp4", "frames"]:
        target = tmp_path / "missing" / name
        with pytest.raises(Photo3DError, match="does not exist"):
            open_writer(target, W, H, 30)
        with pytest.raises(Photo3DError, match="does not exist"):
            check_writable(target, directory=name == "frames")
    assert listing(tmp_path) == []


def test_proc_is_not_writable_even_as_root() -> None:
    with pytest.raises(Photo3DError, match=r"cannot write /proc/photo3d\.mp4"):
        check_writable(Path("/proc/photo3d.mp4"))
    with pytest.raises(Photo3DError, match=r"cannot write /proc/photo3d\.mp4"):
        open_writer("/proc/photo3d.mp4", W, H, 30)
    with pytest.raises(Photo3DError, match=r"/proc/photo3d-frames"):
        open_writer("/proc/photo3d-frames/", W, H, 30)


def test_directory_given_as_file(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(Photo3DError, match="is a directory"):
        with atomic_output(tmp_path):
            pass


def test_file_given_as_folder(tmp_path: Path) -> None:
    (tmp_path / "frames").write_text("x")
    with pytest.raises(Photo3DError, match="it is a file, not a folder"):
        check_writable(tmp_path / "frames", directory=True)
    with pytest.raises(Photo3DError, match="it is a file, not a folder"):
        with atomic_directory(tmp_path / "frames"):
            pass


@pytest.mark.parametrize(
    "error,message",
    [(PermissionError(13, "Permission denied"), "permission denied"), (OSError(30, "Read-only"), "read-only")],
)
def test_check_writable_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, message: str) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise error

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(Photo3DError, match=message):
        check_writable(tmp_path / "clip.mp4")
    with pytest.raises(Photo3DError, match=message):
        open_writer(tmp_path / "clip.mp4", W, H, 30)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permission bits")
def test_read_only_folder_by_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(Photo3DError, match="permission denied"):
            check_writable(folder / "clip.mp4")
    finally:
        folder.chmod(0o755)


def test_check_writable_leaves_nothing(tmp_path: Path) -> None:
    check_writable(tmp_path / "clip.mp4")
    check_writable(tmp_path / "frames", directory=True)
    assert listing(tmp_path) == []


def test_atomic_output_names_and_permissions(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".clip.mp4.")
        assert tmp.name.endswith(".tmp.mp4")
        tmp.write_bytes(b"data")
    assert target.read_bytes() == b"data"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
