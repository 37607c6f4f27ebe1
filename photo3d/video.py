"""Streaming video and PNG-sequence writers.

:func:`open_writer` picks the output kind from the path:

========================  ==========================================================
path                      output
========================  ==========================================================
``*.mp4``                 H.264 (libx264, yuv420p, ``-preset veryfast``, faststart)
``*.webm``                VP9 (libvpx-vp9, yuv420p, constant quality)
``*.gif``                 GIF, one 256-colour palette from the first frame, loops forever
existing folder, a path   PNG sequence ``00000.png``, ``00001.png``, ... (RGB, 8 bit)
ending in ``/``, or a
path without a suffix
========================  ==========================================================

Frames stream straight to ffmpeg (the binary shipped with ``imageio-ffmpeg``)
or to disk; the writer never holds more than the frame it is given. Output
goes through :mod:`photo3d.outputs`, so a failure (an exception in the caller,
ffmpeg dying, Ctrl-C) leaves neither a partial file nor a temporary behind.

The mp4 and webm outputs are tagged BT.709 (limited range), which is what
players assume for HD video; frames are converted from sRGB with the BT.709
matrix so colours survive the round trip.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import IO

import cv2
import imageio_ffmpeg
import numpy as np

from .errors import Photo3DError
from .outputs import atomic_directory, atomic_output

__all__ = ["VIDEO_SUFFIXES", "FrameWriter", "open_writer", "read_video_info"]

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".webm", ".gif")
"""File suffixes :func:`open_writer` encodes with ffmpeg; anything folder-like becomes a PNG sequence."""

_SUPPORTED_TEXT = ".mp4, .webm, .gif, or a folder (a path ending in '/' or without a suffix) for PNG frames"

# sRGB -> limited-range BT.709 YCbCr, with the frames (and so the stream) tagged BT.709.
_BT709_FILTER = (
    "scale=out_color_matrix=bt709:out_range=tv,"
    "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
)


# One palette for the whole GIF, computed from the first frame. A palette from all frames would make
# ffmpeg queue every frame until the end (about 7 MB per 1080x1920 frame: 2.5 GB for 10 s at 30 fps);
# the first frame of a 3D-photo clip shows nearly all of its colours, and memory stays flat.
_GIF_FILTER = "split[a][b];[a]trim=end_frame=1,palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a"


def _ffmpeg_output_args(kind: str, crf: int) -> list[str]:
    """Return the ffmpeg arguments after the input for one output kind (codec, pixel format, quality, filters)."""
    if kind == ".mp4":
        return [
            "-vcodec", "libx264", "-pix_fmt", "yuv420p",
            "-vf", _BT709_FILTER,
            "-crf", str(crf), "-preset", "veryfast", "-movflags", "+faststart",
        ]  # fmt: skip
    if kind == ".webm":
        return [
            "-vcodec", "libvpx-vp9", "-pix_fmt", "yuv420p",
            "-vf", _BT709_FILTER,
            "-crf", str(crf), "-b:v", "0", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1",
        ]  # fmt: skip
    if kind == ".gif":
        return [
            "-vcodec", "gif",
            "-vf", _GIF_FILTER,
            "-loop", "0",
        ]  # fmt: skip
    raise AssertionError(kind)  # pragma: no cover


def _output_kind(path: str | os.PathLike[str]) -> str:
    """``".mp4"``, ``".webm"``, ``".gif"`` or ``"png"`` for a PNG sequence.

    Raises:
        Photo3DError: If the suffix is none of the supported ones.

    """
    text = os.fspath(path)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir() or p.suffix == "":
        return "png"
    suffix = p.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return suffix
    raise Photo3DError(f"cannot write {p}: unknown output type {p.suffix!r}; use {_SUPPORTED_TEXT}")


class FrameWriter:
    """Base of the streaming writers returned by :func:`open_writer`; use it as a context manager.

    ``with open_writer(...) as w: w.write(frame)`` writes the output when the
    block ends normally and discards everything when it raises. Without a
    ``with`` block, call :meth:`close` (success) or :meth:`abort` (discard).

    Attributes:
        path: The destination (a file, or a folder for PNG sequences).
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Frames per second.
        frames_written: Number of frames accepted by :meth:`write` so far.

    """

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        self.frames_written = 0
        self._stack = ExitStack()
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        """Append one frame.

        Args:
            frame: (H, W, 3) uint8 sRGB image, H and W as given to :func:`open_writer`.

        Raises:
            ValueError: If the frame's shape or dtype is wrong.
            Photo3DError: If the writer is closed or the encoder failed.

        """
        if self._closed:
            raise Photo3DError(f"cannot write to {self.path}: the writer is already closed")
        expected = (self.height, self.width, 3)
        if not isinstance(frame, np.ndarray) or frame.shape != expected or frame.dtype != np.uint8:
            got = f"{frame.shape} {frame.dtype}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise ValueError(f"frame must be an (H, W, 3) uint8 array of shape {expected}, got {got}")
        self._write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the output and move it into place. Idempotent.

        Raises:
            Photo3DError: If the encoder failed; nothing is left on disk then.

        """
        if self._closed:
            return
        self._closed = True
        try:
            self._finish()
        except BaseException as exc:
            self._discard(exc)
            raise
        self._stack.close()

    def abort(self) -> None:
        """Stop writing and delete everything written so far. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._discard(None)

    def _discard(self, exc: BaseException | None) -> None:
        try:
            self._kill()
        finally:
            error = exc if exc is not None else _Aborted()
            try:
                self._stack.__exit__(type(error), error, error.__traceback__)
            except BaseException as raised:
                if raised is not error:
                    raise

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()
        elif not self._closed:
            self._closed = True
            self._discard(exc)

    # Implemented by subclasses.
    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError  # pragma: no cover

    def _finish(self) -> None:
        raise NotImplementedError  # pragma: no cover

    def _kill(self) -> None:
        """Stop any worker process without finishing the output."""


class _Aborted(Exception):
    """Internal marker passed to the output context managers so that they discard their temporaries."""


class _FFmpegWriter(FrameWriter):
    """Pipes raw RGB frames into an ffmpeg process that writes a temporary next to ``path``."""

    def __init__(self, path: Path, width: int, height: int, fps: float, kind: str, crf: int) -> None:
        super().__init__(path, width, height, fps)
        tmp = self._stack.enter_context(atomic_output(path))
        try:
            self._stderr: IO[bytes] = self._stack.enter_context(tempfile.TemporaryFile())
            rate = Fraction(fps).limit_denominator(1001)
            cmd = [
                imageio_ffmpeg.get_ffmpeg_exe(), "-y",
                "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{width}x{height}", "-pix_fmt", "rgb24",
                "-r", str(rate), "-i", "-", "-an",
                *_ffmpeg_output_args(kind, crf),
                "-v", "error", str(tmp),
            ]  # fmt: skip
            self._process = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr, **_detached()
            )
        except BaseException as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def _write(self, frame: np.ndarray) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except (BrokenPipeError, OSError):
            self._process.wait()
            raise Photo3DError(self._failure_message()) from None

    def _finish(self) -> None:
        if self.frames_written == 0:
            raise Photo3DError(f"cannot write {self.path}: no frames were given")
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.close()
        except (BrokenPipeError, OSError):
            pass
        if self._process.wait() != 0:
            raise Photo3DError(self._failure_message())

    def _kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stdin is not None:
            try:
                self._process.stdin.close()
            except OSError:
                pass

    def _failure_message(self) -> str:
        """One line for a failed ffmpeg: its exit status and the last line it printed."""
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
        detail = lines[-1] if lines else "no error message"
        return f"ffmpeg failed writing {self.path} (exit status {self._process.returncode}): {detail}"


class _PngSequenceWriter(FrameWriter):
    """Writes ``00000.png, 00001.png, ...`` into a hidden folder moved into ``path`` on success."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        super().__init__(path, width, height, fps)
        self._tmp = self._stack.enter_context(atomic_directory(path))

    def _write(self, frame: np.ndarray) -> None:
        name = self._tmp / f"{self.frames_written:05d}.png"
        if not cv2.imwrite(str(name), np.ascontiguousarray(frame[:, :, ::-1])):
            raise Photo3DError(f"cannot write frame {name.name} into {self.path}: OpenCV could not save the PNG")

    def _finish(self) -> None:
        pass


def _detached() -> dict[str, object]:
    """Popen arguments that keep Ctrl-C in the terminal from reaching ffmpeg (we stop it ourselves)."""
    if os.name == "nt":  # pragma: no cover
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def open_writer(path: str | os.PathLike[str], width: int, height: int, fps: float, *, crf: int = 18) -> FrameWriter:
    """Open a streaming writer for ``width`` x ``height`` RGB frames, chosen by ``path``.

    See the module docstring for the output kinds. The file (or the frames in
    the folder) appears only when the writer closes successfully.

    Args:
        path: ``*.mp4``, ``*.webm``, ``*.gif``, or a folder for a PNG sequence
            (an existing folder, a string ending in ``/``, or a path without
            suffix; it is created if missing, and existing frames of the same
            names are replaced).
        width: Frame width in pixels, >= 1 (even for mp4 and webm).
        height: Frame height in pixels, >= 1 (even for mp4 and webm).
        fps: Frames per second, > 0 (stored as a rational, e.g. 29.97 -> 2997/100).
        crf: Constant rate factor for mp4 (libx264, 0..51) and webm
            (libvpx-vp9, 0..63): lower is better quality and larger files.
            Ignored for GIF and PNG.

    Returns:
        A :class:`FrameWriter`; use it in a ``with`` block.

    Raises:
        Photo3DError: If the suffix is unsupported, the size or fps is invalid,
            an mp4/webm size is odd, or the destination cannot be written.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "clip.mp4"
        >>> with open_writer(out, 64, 48, 30) as w:
        ...     for i in range(3):
        ...         w.write(np.full((48, 64, 3), 80 * i, np.uint8))
        >>> read_video_info(out)
        (3, 64, 48, 30.0)

    """
    kind = _output_kind(path)
    p = Path(path)
    if isinstance(width, bool) or isinstance(height, bool) or int(width) != width or int(height) != height:
        raise Photo3DError(f"cannot write {p}: frame size must be whole pixels, got {width}x{height}")
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise Photo3DError(f"cannot write {p}: frame size must be positive, got {width}x{height}")
    if not (isinstance(fps, (int, float, Fraction)) and math.isfinite(fps) and fps > 0):
        raise Photo3DError(f"cannot write {p}: fps must be a positive number, got {fps!r}")
    if kind == "png":
        return _PngSequenceWriter(p, width, height, float(fps))
    if kind in (".mp4", ".webm"):
        if width % 2 or height % 2:
            raise Photo3DError(
                f"cannot write {p} at {width}x{height}: {kind} (yuv420p) needs an even width and height; "
                "crop or resize by one pixel"
            )
        top = 51 if kind == ".mp4" else 63
        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= top:
            raise Photo3DError(f"cannot write {p}: crf must be a whole number from 0 to {top} for {kind}, got {crf!r}")
    return _FFmpegWriter(p, width, height, float(fps), kind, crf)


def read_video_info(path: str | os.PathLike[str]) -> tuple[int, int, int, float]:
    """Frame count, size and frame rate of a video file, counting frames by decoding them all.

    Args:
        path: A video file ffmpeg can read (mp4, webm, gif, ...).

    Returns:
        ``(frame_count, width, height, fps)``: the number of frames stored in
        the file and ffmpeg's idea of the frame rate (0.0 if it could not tell;
        approximate for GIFs, whose frame delays are whole centiseconds, so
        30 fps is stored as 33.3).

    Raises:
        Photo3DError: If the file does not exist or ffmpeg cannot read it.

    """
    p = Path(path)
    if not p.is_file():
        raise Photo3DError(f"cannot read {p}: no such file")
    try:
        # passthrough: count the frames in the file; by default ffmpeg duplicates frames to match the
        # frame rate it guessed, which for short GIFs can be 100 fps.
        gen = imageio_ffmpeg.read_frames(str(p), output_params=["-fps_mode", "passthrough"])
        meta = next(gen)
        count = sum(1 for _ in gen)
    except (OSError, RuntimeError, StopIteration) as err:
        detail = str(err).strip().splitlines()
        raise Photo3DError(f"cannot read {p} as a video: {detail[-1] if detail else type(err).__name__}") from None
    width, height = meta["size"]
    return count, int(width), int(height), float(meta.get("fps") or 0.0)
