from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from photo3d.errors import Photo3DError
from photo3d.io import video
from photo3d.io.outputs import atomic_directory, atomic_output, check_writable
from photo3d.io.video import open_writer, read_video_info

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
    monkeypatch.setattr(video, "_ffmpeg_output_args", lambda enc: [*real(enc), "-no_such_option", "1"])
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


# --- codecs, containers and presets ------------------------------------------------------------------


def test_h265_round_trip_is_tagged_hvc1(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with open_writer(out, W, H, 30, codec="h265") as w:
        for i in range(N):
            w.write(frame(i))
    assert read_video_info(out) == (N, W, H, 30.0)
    assert video.video_codec(out) == "hevc"
    data = out.read_bytes()
    assert b"hvc1" in data and b"hev1" not in data  # the sample entry Apple players need
    first, meta = first_frame_and_meta(out)
    assert meta["pix_fmt"].startswith("yuv420p")
    np.testing.assert_allclose(first[40, 40].astype(int), (200, 0, 50), atol=3)
    assert listing(tmp_path) == ["clip.mp4"]


@pytest.mark.parametrize(
    "name,codec,expected",
    [
        ("clip.mov", None, "h264"),
        ("clip.mov", "hevc", "hevc"),
        ("clip.mkv", None, "h264"),
        ("clip.mkv", "vp9", "vp9"),
        ("clip.mp4", "H264", "h264"),
        ("clip.gif", "gif", "gif"),
    ],
)
def test_codec_and_container(tmp_path: Path, name: str, codec: str | None, expected: str) -> None:
    out = tmp_path / name
    with open_writer(out, 90, 160, 24, codec=codec) as w:
        for i in range(3):
            w.write(frame(i, 90, 160))
    assert video.video_codec(out) == expected
    assert read_video_info(out)[:3] == (3, 90, 160)
    assert listing(tmp_path) == [name]


@pytest.mark.parametrize("preset,subme", [("ultrafast", 0), (None, 2), ("veryfast", 2), ("slow", 8)])
def test_x264_preset_reaches_the_encoder(tmp_path: Path, preset: str | None, subme: int) -> None:
    # x264 stores its settings as text in the stream; subme (subpixel refinement) is set by the preset.
    out = tmp_path / "clip.mp4"
    with open_writer(out, W, H, 30, preset=preset) as w:
        for i in range(3):
            w.write(frame(i))
    settings = [part for part in out.read_bytes().split(b" ") if part.startswith(b"subme=")]
    assert settings == [f"subme={subme}".encode()]


def test_bad_preset_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match="unknown encoder preset 'quick'; use one of ultrafast, .*, veryslow$"):
        open_writer(tmp_path / "clip.mp4", W, H, 30, preset="quick")
    assert video.ENCODER_PRESETS[0] == "ultrafast" and len(video.ENCODER_PRESETS) == 9
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "name,codec,message",
    [
        (
            "clip.webm",
            "h264",
            r"'h264' does not fit \.webm files, which take vp9; use a \.mp4, \.mov, \.mkv file for h264$",
        ),
        (
            "clip.mp4",
            "vp9",
            r"'vp9' does not fit \.mp4 files, which take h264, h265; use a \.mkv, \.webm file for vp9$",
        ),
        ("clip.mp4", "av1", r"unknown codec 'av1'; \.mp4 files take h264, h265$"),
        (
            "clip.gif",
            "h265",
            r"'h265' does not fit \.gif files, which take gif; use a \.mp4, \.mov, \.mkv file for h265$",
        ),
        ("still.png", "h264", r"does not apply to a \.png still image"),
        ("frames/", "h264", r"does not apply to a PNG sequence"),
    ],
)
def test_codec_must_fit_the_suffix(tmp_path: Path, name: str, codec: str, message: str) -> None:
    with pytest.raises(Photo3DError, match=message):
        open_writer(f"{tmp_path}/{name}", W, H, 30, codec=codec)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "name,codec,crf,top",
    [
        ("clip.mp4", "h265", 52, 51),
        ("clip.webm", None, 64, 63),
        ("clip.mkv", "vp9", -1, 63),
        ("clip.mp4", None, 1.5, 51),
    ],
)
def test_crf_range_per_encoder(tmp_path: Path, name: str, codec: str | None, crf: float, top: int) -> None:
    with pytest.raises(Photo3DError, match=f"crf must be a whole number from 0 to {top}"):
        open_writer(tmp_path / name, W, H, 30, codec=codec, crf=crf)  # type: ignore[arg-type]
    assert listing(tmp_path) == []


def test_vp9_accepts_crf_above_51(tmp_path: Path) -> None:
    out = tmp_path / "clip.webm"
    with open_writer(out, W, H, 30, crf=60) as w:
        w.write(frame(0))
    assert read_video_info(out)[:3] == (1, W, H)


def test_missing_libx265_names_the_alternative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(video, "_ffmpeg_encoders", lambda: frozenset({"libx264", "libvpx-vp9", "gif"}))
    with pytest.raises(Photo3DError, match=r"has no libx265 encoder; use codec='h264' instead$"):
        open_writer(tmp_path / "clip.mp4", W, H, 30, codec="h265")
    assert listing(tmp_path) == []


def test_real_ffmpeg_lists_the_encoders_we_use() -> None:
    assert {"libx264", "libx265", "libvpx-vp9", "gif"} <= video._ffmpeg_encoders()


def test_bad_queue_size(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match="queue_size must be a whole number >= 1, got 0"):
        open_writer(tmp_path / "clip.mp4", W, H, 30, queue_size=0)


# --- GIF timing ----------------------------------------------------------------------------------------


def gif_delays_ms(path: Path) -> list[int]:
    with Image.open(path) as im:
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(int(im.info["duration"]))
    return delays


@pytest.mark.parametrize("fps", [30, 24, 12.5])
def test_gif_delays_follow_fps(tmp_path: Path, fps: float) -> None:
    out = tmp_path / "clip.gif"
    n = 24
    write_clip(out, n=n, fps=fps)
    delays = gif_delays_ms(out)
    assert len(delays) == n
    ideal = 1000 / fps
    # Each delay is the ideal one rounded down or up to whole centiseconds, and the rounding errors do not add up.
    assert all(math.floor(ideal / 10) * 10 <= d <= math.ceil(ideal / 10) * 10 for d in delays)
    assert abs(sum(delays) - n * ideal) <= 10


def test_gif_above_50_fps_drops_frames_instead_of_stalling(tmp_path: Path) -> None:
    # Browsers play a delay under 2 centiseconds as 10 cs, so 60 fps would play at a fraction of its speed.
    out = tmp_path / "clip.gif"
    write_clip(out, n=12, fps=60)
    delays = gif_delays_ms(out)
    assert min(delays) >= 20
    assert abs(sum(delays) - 12 * 1000 / 60) <= 20


# --- still images --------------------------------------------------------------------------------------


def test_png_still_is_exact(tmp_path: Path) -> None:
    out = tmp_path / "still.png"
    image = frame(3, 63, 47)  # odd sizes are fine for stills
    with open_writer(out, 63, 47, 30) as w:
        w.write(image)
    assert listing(tmp_path) == ["still.png"]
    back = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(back[:, :, ::-1], image)
    assert video.video_codec(out) == "png"


@pytest.mark.parametrize("name", ["still.jpg", "still.JPEG", "still.webp"])
def test_lossy_still_has_exact_size_and_close_colours(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    image = frame(2, 90, 61)
    with open_writer(out, 90, 61, 30) as w:
        w.write(image)
    back = cv2.imread(str(out))[:, :, ::-1]
    assert back.shape == image.shape
    np.testing.assert_allclose(back[40, 40].astype(int), image[40, 40].astype(int), atol=6)
    assert listing(tmp_path) == [name]


def test_still_takes_exactly_one_frame(tmp_path: Path) -> None:
    out = tmp_path / "still.png"
    with pytest.raises(Photo3DError, match=r"a still image \(\.png\) takes one frame; use a video suffix"):
        with open_writer(out, W, H, 30) as w:
            w.write(frame(0))
            w.write(frame(1))
    assert listing(tmp_path) == []


def test_still_without_a_frame_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match="no frames"):
        with open_writer(tmp_path / "still.jpg", W, H, 30):
            pass
    assert listing(tmp_path) == []


def test_still_replaces_an_existing_file_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "still.png"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with open_writer(out, W, H, 30) as w:
            w.write(frame(0))
            raise RuntimeError("stop")
    assert out.read_bytes() == b"old"
    with open_writer(out, W, H, 30) as w:
        w.write(frame(0))
    np.testing.assert_array_equal(cv2.imread(str(out))[:, :, ::-1], frame(0))
    assert listing(tmp_path) == ["still.png"]


# --- the background thread -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["frames/", "clip.mp4"])
def test_write_returns_before_the_frame_is_encoded_and_copies_it(tmp_path: Path, name: str) -> None:
    queue_size = 3
    gate = threading.Event()
    failsafe = threading.Timer(60, gate.set)  # a writer that blocks in write() fails below instead of hanging
    failsafe.start()
    consumed: list[int] = []
    w = open_writer(f"{tmp_path}/{name}", W, H, 30, queue_size=queue_size)
    real_sink = w._sink

    def gated_sink(f: np.ndarray, index: int) -> None:
        gate.wait()
        consumed.append(index)
        real_sink(f, index)

    w._sink = gated_sink  # type: ignore[method-assign]
    try:
        buffer = np.empty((H, W, 3), np.uint8)
        for i in range(queue_size + 1):  # one held by the blocked worker, the rest queued
            buffer[...] = frame(i)  # the caller reuses its array, as a renderer does
            w.write(buffer)
        assert consumed == []  # every write returned while the encoder had not taken a single frame
        assert not gate.is_set()
    finally:
        gate.set()
        failsafe.cancel()
    w.close()
    assert consumed == list(range(queue_size + 1))
    if name == "frames/":
        for i in range(queue_size + 1):
            back = cv2.imread(str(tmp_path / "frames" / f"{i:05d}.png"))[:, :, ::-1]
            np.testing.assert_array_equal(back, frame(i))
    else:
        assert read_video_info(tmp_path / name)[0] == queue_size + 1


def test_killed_encoder_surfaces_as_photo3d_error_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(Photo3DError, match=r"ffmpeg failed writing .*clip\.mp4 \(killed by signal 9\)"):
        with open_writer(out, W, H, 30) as w:
            w.write(frame(0))
            w._process.kill()
            w._process.wait()
            for i in range(1, 50):  # the error comes on one of these writes or when the block closes the writer
                w.write(frame(i))
    assert listing(tmp_path) == []
    assert w._thread is not None and not w._thread.is_alive()
    with pytest.raises(Photo3DError, match="already closed"):
        w.write(frame(0))


def test_disk_error_in_the_worker_surfaces_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(frame: np.ndarray, suffix: str) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(video, "_encode_image", full)
    with pytest.raises(Photo3DError, match=r"cannot write frame 00000\.png into .*frames: No space left on device$"):
        with open_writer(tmp_path / "frames", W, H, 30) as w:
            for i in range(20):
                w.write(frame(i))
    assert listing(tmp_path) == []


@pytest.mark.parametrize("stop", ["abort", "KeyboardInterrupt"])
def test_stopping_with_a_busy_worker_and_a_full_queue(tmp_path: Path, stop: str) -> None:
    w = open_writer(tmp_path / "clip.mp4", W, H, 30, queue_size=2)
    real_sink = w._sink
    started = threading.Event()

    def busy_sink(f: np.ndarray, index: int) -> None:
        # Like a pipe write to an ffmpeg that is slow: returns once ffmpeg is gone (or after a minute).
        started.set()
        deadline = time.monotonic() + 60
        while w._process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        real_sink(f, index)

    w._sink = busy_sink  # type: ignore[method-assign]
    if stop == "abort":
        for i in range(3):
            w.write(frame(i))
        started.wait(60)
        w.abort()
    else:
        with pytest.raises(KeyboardInterrupt):
            with w:
                for i in range(3):
                    w.write(frame(i))
                started.wait(60)
                raise KeyboardInterrupt
    assert w._process.returncode is not None and w._process.returncode < 0  # killed, not finished
    assert w._thread is not None and not w._thread.is_alive()
    assert listing(tmp_path) == []


# --- video_codec ----------------------------------------------------------------------------------------


def test_video_codec_errors(tmp_path: Path) -> None:
    with pytest.raises(Photo3DError, match="no such file"):
        video.video_codec(tmp_path / "missing.mp4")
    (tmp_path / "notes.txt").write_text("not a video")
    with pytest.raises(Photo3DError, match=r"cannot read .*notes\.txt as a video"):
        video.video_codec(tmp_path / "notes.txt")


# --- check_output ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("clip.avi", {}, r"unknown output type '\.avi'"),
        ("clip.webm", {"codec": "h265"}, r"'h265' does not fit \.webm files"),
        ("clip.mp4", {"crf": 52}, "crf must be a whole number from 0 to 51 for h264"),
        ("clip.mp4", {"preset": "fastest"}, "unknown encoder preset 'fastest'"),
        ("still.png", {"frames": 9}, r"cannot write 9 frames to .*still\.png: a still image \(\.png\) takes one frame"),
        ("frames/", {"codec": "vp9"}, "does not apply to a PNG sequence"),
    ],
)
def test_check_output_refuses_what_open_writer_refuses(tmp_path: Path, name: str, kwargs: dict, message: str) -> None:
    target = f"{tmp_path}/{name}"
    with pytest.raises(Photo3DError, match=message):
        video.check_output(target, **kwargs)
    frames = kwargs.pop("frames", None)
    if frames is None:
        with pytest.raises(Photo3DError, match=message):
            open_writer(target, W, H, 30, **kwargs)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("clip.mp4", {"codec": "h265", "crf": 28, "preset": "slow"}),
        ("clip.webm", {"crf": 63}),
        ("clip.gif", {}),
        ("still.jpg", {"frames": 1}),
        ("frames/", {"frames": 90}),
    ],
)
def test_check_output_accepts_valid_settings_and_writes_nothing(tmp_path: Path, name: str, kwargs: dict) -> None:
    video.check_output(f"{tmp_path}/{name}", **kwargs)
    video.check_output(None)
    assert listing(tmp_path) == []


def test_is_still(tmp_path: Path) -> None:
    (tmp_path / "folder.png").mkdir()
    assert video.is_still(tmp_path / "a.png") and video.is_still(f"{tmp_path}/b.JPG") and video.is_still("c.webp")
    assert not video.is_still(tmp_path / "folder.png")  # an existing folder is a PNG sequence
    assert not video.is_still(f"{tmp_path}/frames.png/")
    assert not any(video.is_still(name) for name in ["clip.mp4", "clip.gif", "frames", "clip.avi"])
