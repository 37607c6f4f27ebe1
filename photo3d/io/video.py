"""Streaming video, still-image and PNG-sequence writers.

:func:`open_writer` picks the output kind from the path:

========================  ==========================================================================
path                      output
========================  ==========================================================================
``*.mp4``, ``*.mov``      H.264 (libx264) by default, or H.265/HEVC (libx265, tagged ``hvc1`` so
                          Apple players open it) with ``codec="h265"``; yuv420p, ``-preset
                          veryfast`` unless ``preset`` says otherwise, faststart
``*.mkv``                 H.264 by default, or H.265 or VP9 (``codec="h265"`` / ``"vp9"``)
``*.webm``                VP9 (libvpx-vp9, yuv420p, constant quality ``-b:v 0``)
``*.gif``                 GIF, one 256-colour palette from the first frame, loops forever; frame
                          delays follow ``fps`` as closely as GIF's whole centiseconds allow
                          (above 50 fps, which browsers slow down, frames are dropped to 50 fps)
``*.png``, ``*.jpg``,     one still image (8-bit RGB; PNG is lossless, JPEG and WebP quality 95);
``*.jpeg``, ``*.webp``    the writer takes exactly one frame
existing folder, a path   PNG sequence ``00000.png``, ``00001.png``, ... (RGB, 8 bit)
ending in ``/``, or a
path without a suffix
========================  ==========================================================================

Every output is exactly the requested width x height. :meth:`FrameWriter.write`
copies the frame onto a small bounded queue and returns; a background thread
pipes the frames into ffmpeg (the binary shipped with ``imageio-ffmpeg``) or
saves the images, so rendering the next frame overlaps encoding this one. A
failure in that thread (ffmpeg dying, a full disk) is raised as a
:class:`~photo3d.errors.Photo3DError` by the next ``write`` or by ``close``.
Output goes through :mod:`photo3d.io.outputs`, so a failure (an exception in the
caller, ffmpeg dying, Ctrl-C) leaves neither a partial file nor a temporary
behind.

The mp4, mov, mkv and webm outputs are tagged BT.709 (limited range), which is
what players assume for HD video; frames are converted from sRGB with the
BT.709 matrix so colours survive the round trip.
"""

from __future__ import annotations

import functools
import math
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import IO, TypedDict

import cv2
import imageio_ffmpeg
import numpy as np

from ..errors import Photo3DError
from .outputs import atomic_directory, atomic_output

__all__ = [
    "ENCODER_PRESETS",
    "STILL_SUFFIXES",
    "VIDEO_SUFFIXES",
    "FrameWriter",
    "check_output",
    "is_still",
    "open_writer",
    "read_video_info",
    "video_codec",
]

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".webm", ".gif", ".mov", ".mkv")
"""File suffixes :func:`open_writer` encodes as videos with ffmpeg."""

STILL_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp")
"""File suffixes :func:`open_writer` writes as one still image (exactly one frame)."""

ENCODER_PRESETS: tuple[str, ...] = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
"""Speed presets of libx264 and libx265, fastest (largest files) first."""

_SUPPORTED_TEXT = (
    ".mp4, .webm, .gif, .mov, .mkv for a video; .png, .jpg, .jpeg, .webp for one still image; "
    "or a folder (a path ending in '/' or without a suffix) for PNG frames"
)

# Codecs each container takes; the first is the default.
_CODECS_BY_SUFFIX: dict[str, tuple[str, ...]] = {
    ".mp4": ("h264", "h265"),
    ".mov": ("h264", "h265"),
    ".mkv": ("h264", "h265", "vp9"),
    ".webm": ("vp9",),
    ".gif": ("gif",),
}
_CODEC_ALIASES = {"hevc": "h265", "avc": "h264"}
_ENCODERS = {"h264": "libx264", "h265": "libx265", "vp9": "libvpx-vp9", "gif": "gif"}
# (default crf, largest crf). x265's 20 looks about like x264's 18 at a smaller file (x265's own default, 28,
# is visibly soft); VP9's 32 with -b:v 0 is libvpx's recommended constant-quality setting for HD.
_CRF = {"h264": (18, 51), "h265": (20, 51), "vp9": (32, 63)}
_DEFAULT_PRESET = "veryfast"
# GIF delays are whole centiseconds and browsers play a delay under 2 cs as 10 cs; faster GIFs drop frames.
_GIF_MAX_FPS = 50

# sRGB -> limited-range BT.709 YCbCr, with the frames (and so the stream) tagged BT.709.
_BT709_FILTER = (
    "scale=out_color_matrix=bt709:out_range=tv,"
    "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
)


# One palette for the whole GIF, computed from the first frame. A palette from all frames would make
# ffmpeg queue every frame until the end (about 7 MB per 1080x1920 frame: 2.5 GB for 10 s at 30 fps);
# the first frame of a 3D-photo clip shows nearly all of its colours, and memory stays flat.
# The GIF muxer stores each frame's delay as the difference of its timestamp rounded to centiseconds,
# so at 30 fps the delays go 3, 4, 3, 3, 4, ... cs and the clip keeps the right length.
_GIF_FILTER = "split[a][b];[a]trim=end_frame=1,palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a"

# Quality of the lossy still formats (OpenCV's scale, 0..100).
_STILL_PARAMS = {
    ".png": [],
    ".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95],
    ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95],
    ".webp": [cv2.IMWRITE_WEBP_QUALITY, 95],
}


@dataclass(frozen=True)
class _Encoding:
    """What ffmpeg is asked to write: container suffix, codec (``h264``, ``h265``, ``vp9``, ``gif``) and settings."""

    suffix: str
    codec: str
    crf: int
    preset: str
    fps: float


def _ffmpeg_output_args(enc: _Encoding) -> list[str]:
    """Return the ffmpeg arguments after the input for one encoding (codec, pixel format, quality, filters)."""
    if enc.codec in ("h264", "h265"):
        args = [
            "-vcodec", _ENCODERS[enc.codec], "-pix_fmt", "yuv420p",
            "-vf", _BT709_FILTER,
            "-crf", str(enc.crf), "-preset", enc.preset,
        ]  # fmt: skip
        if enc.codec == "h265":
            # x265 prints its banner and statistics straight to stderr, past ffmpeg's -v.
            args += ["-x265-params", "log-level=error"]
            if enc.suffix in (".mp4", ".mov"):
                args += ["-tag:v", "hvc1"]  # Apple players refuse HEVC tagged hev1 (ffmpeg's default)
        if enc.suffix in (".mp4", ".mov"):
            args += ["-movflags", "+faststart"]
        return args
    if enc.codec == "vp9":
        return [
            "-vcodec", "libvpx-vp9", "-pix_fmt", "yuv420p",
            "-vf", _BT709_FILTER,
            "-crf", str(enc.crf), "-b:v", "0", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1",
        ]  # fmt: skip
    if enc.codec == "gif":
        gif_filter = _GIF_FILTER if enc.fps <= _GIF_MAX_FPS else f"fps={_GIF_MAX_FPS},{_GIF_FILTER}"
        return [
            "-vcodec", "gif",
            "-vf", gif_filter,
            "-loop", "0",
        ]  # fmt: skip
    raise AssertionError(enc.codec)  # pragma: no cover


@functools.cache
def _ffmpeg_encoders() -> frozenset[str]:
    """Names of the encoders compiled into imageio-ffmpeg's ffmpeg (empty if it cannot be asked)."""
    try:
        result = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-encoders"],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        return frozenset()
    names = re.findall(r"^\s*[VAS][A-Z.]{5}\s+(\S+)", result.stdout.decode("utf-8", "replace"), re.MULTILINE)
    return frozenset(names)


def _output_kind(path: str | os.PathLike[str]) -> str:
    """The lower-case suffix (one of :data:`VIDEO_SUFFIXES` or :data:`STILL_SUFFIXES`), or ``"png"`` for frames.

    Raises:
        Photo3DError: If the suffix is none of the supported ones.

    """
    text = os.fspath(path)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir() or p.suffix == "":
        return "png"
    suffix = p.suffix.lower()
    if suffix in VIDEO_SUFFIXES or suffix in STILL_SUFFIXES:
        return suffix
    raise Photo3DError(f"cannot write {p}: unknown output type {p.suffix!r}; use {_SUPPORTED_TEXT}")


def is_still(path: str | os.PathLike[str]) -> bool:
    """Whether :func:`open_writer` writes ``path`` as one still image (it then takes exactly one frame).

    Args:
        path: An output path as for :func:`open_writer`.

    Returns:
        True for a file path ending in one of :data:`STILL_SUFFIXES` (any
        case) that is not an existing folder; False otherwise, including for
        suffixes :func:`open_writer` refuses.

    """
    text = os.fspath(path)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir():
        return False
    return p.suffix.lower() in STILL_SUFFIXES


_END = object()
"""Queue item that tells the worker thread to stop."""


class FrameWriter:
    """Base of the streaming writers returned by :func:`open_writer`; use it as a context manager.

    ``with open_writer(...) as w: w.write(frame)`` writes the output when the
    block ends normally and discards everything when it raises. Without a
    ``with`` block, call :meth:`close` (success) or :meth:`abort` (discard).

    :meth:`write` copies each frame onto a bounded queue that a background
    (daemon) thread empties into the encoder or onto disk, so the caller may
    reuse its array at once and renders the next frame while this one is
    encoded. It blocks only while the queue is full.

    Attributes:
        path: The destination (a file, or a folder for PNG sequences).
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Frames per second.
        frames_written: Number of frames accepted by :meth:`write` so far
            (queued; they reach the output by the time :meth:`close` returns).

    """

    def __init__(self, path: Path, width: int, height: int, fps: float, *, queue_size: int = 4) -> None:
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        self.frames_written = 0
        self._max_frames: int | None = None
        self._stack = ExitStack()
        self._closed = False
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stopping = False
        self._frames_sunk = 0

    def write(self, frame: np.ndarray) -> None:
        """Queue one frame and return; the frame is copied, so the caller may reuse its array.

        Args:
            frame: (H, W, 3) uint8 sRGB image, H and W as given to :func:`open_writer`.

        Raises:
            ValueError: If the frame's shape or dtype is wrong.
            Photo3DError: If the writer is closed, a still image already has
                its frame, or the encoder or a disk write failed (the output
                is discarded then).

        """
        if self._closed:
            raise Photo3DError(f"cannot write to {self.path}: the writer is already closed")
        expected = (self.height, self.width, 3)
        if not isinstance(frame, np.ndarray) or frame.shape != expected or frame.dtype != np.uint8:
            got = f"{frame.shape} {frame.dtype}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise ValueError(f"frame must be an (H, W, 3) uint8 array of shape {expected}, got {got}")
        self._raise_worker_error()
        if self._max_frames is not None and self.frames_written >= self._max_frames:
            raise Photo3DError(
                f"cannot write a second frame to {self.path}: a still image ({self.path.suffix}) takes one frame; "
                "use a video suffix such as .mp4 or a folder for PNG frames"
            )
        self._queue.put(np.array(frame, order="C", copy=True))
        self.frames_written += 1

    def close(self) -> None:
        """Wait for the queued frames, finish the output and move it into place. Idempotent.

        Raises:
            Photo3DError: If no frame was written or the encoder or a disk
                write failed; nothing is left on disk then.

        """
        if self._closed:
            return
        self._closed = True
        try:
            if self.frames_written == 0:
                raise Photo3DError(f"cannot write {self.path}: no frames were given")
            self._drain_worker()
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

    # The worker thread.
    def _start_worker(self) -> None:
        """Start the thread that hands queued frames to :meth:`_sink`; subclasses call it once set up."""
        self._thread = threading.Thread(target=self._work, name=f"photo3d-writer {self.path.name}", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            assert isinstance(item, np.ndarray)  # write() queues nothing else
            if self._error is not None or self._stopping:
                continue  # keep emptying the queue so that write() never waits on a dead worker
            try:
                self._sink(item, self._frames_sunk)
                self._frames_sunk += 1
            except BaseException as exc:  # surfaced by the next write() or close()
                self._error = exc

    def _raise_worker_error(self) -> None:
        """If the worker failed, discard the output and raise its error (a fresh copy of a Photo3DError)."""
        err = self._error
        if err is None:
            return
        raised = Photo3DError(str(err)) if isinstance(err, Photo3DError) else err
        if not self._closed:
            self._closed = True
            self._discard(raised)
        if raised is err:
            raise err
        raise raised from None

    def _drain_worker(self) -> None:
        """Wait until the worker has handled every queued frame and stopped; raise its error if it failed."""
        if self._thread is not None:
            self._queue.put(_END)
            self._thread.join()
        err = self._error
        if err is not None:
            if isinstance(err, Photo3DError):
                raise Photo3DError(str(err)) from None
            raise err

    def _stop_worker(self) -> None:
        """Drop the queued frames and stop the worker (after the encoder was killed, so it cannot block)."""
        self._stopping = True
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_END)  # only this thread puts, and the queue is empty: never blocks
        thread.join()

    # Implemented by subclasses.
    def _sink(self, frame: np.ndarray, index: int) -> None:
        """Deliver frame number ``index`` (a private C-contiguous copy) to the output; runs on the worker thread."""
        raise NotImplementedError  # pragma: no cover

    def _finish(self) -> None:
        """Complete the output after every frame was delivered."""

    def _kill(self) -> None:
        """Stop the worker (and any worker process) without finishing the output."""
        self._stop_worker()


class _Aborted(Exception):
    """Internal marker passed to the output context managers so that they discard their temporaries."""


class _FFmpegWriter(FrameWriter):
    """Pipes raw RGB frames into an ffmpeg process that writes a temporary next to ``path``."""

    def __init__(
        self, path: Path, width: int, height: int, fps: float, encoding: _Encoding, *, queue_size: int
    ) -> None:
        super().__init__(path, width, height, fps, queue_size=queue_size)
        tmp = self._stack.enter_context(atomic_output(path))
        try:
            self._stderr: IO[bytes] = self._stack.enter_context(tempfile.TemporaryFile())
            rate = Fraction(fps).limit_denominator(1001)
            cmd = [
                imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-nostdin",
                "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{width}x{height}", "-pix_fmt", "rgb24",
                "-r", str(rate), "-i", "-", "-an",
                *_ffmpeg_output_args(encoding),
                "-v", "error", str(tmp),
            ]  # fmt: skip
            self._process = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr, **_detached()
            )
            self._start_worker()
        except BaseException as exc:
            if getattr(self, "_process", None) is not None:
                self._kill()
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def _sink(self, frame: np.ndarray, index: int) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(frame.data.cast("B"))
        except (BrokenPipeError, OSError, ValueError):  # ValueError: the pipe was closed by abort
            if self._stopping:
                return
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover - the pipe broke but ffmpeg lives on
                self._process.kill()
                self._process.wait()
            raise Photo3DError(self._failure_message()) from None

    def _finish(self) -> None:
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
        try:
            self._stop_worker()  # its pipe write fails at once now that ffmpeg is gone
        finally:
            self._process.wait()
            if self._process.stdin is not None:
                try:
                    self._process.stdin.close()
                except OSError:
                    pass

    def _failure_message(self) -> str:
        """One line for a failed ffmpeg: its exit status (or signal) and the last line it printed."""
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
        detail = lines[-1] if lines else "no error message"
        code = self._process.returncode
        status = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        return f"ffmpeg failed writing {self.path} ({status}): {detail}"


def _encode_image(frame: np.ndarray, suffix: str) -> bytes:
    """Encode an RGB frame as an image file's bytes with OpenCV (which releases the GIL while it works).

    Raises:
        Photo3DError: If OpenCV cannot encode it.

    """
    ok, data = cv2.imencode(suffix, np.ascontiguousarray(frame[:, :, ::-1]), _STILL_PARAMS[suffix])
    if not ok:  # pragma: no cover - OpenCV encodes every 8-bit BGR image
        raise Photo3DError(f"cannot encode a frame as {suffix}: OpenCV refused it")
    return data.tobytes()


class _PngSequenceWriter(FrameWriter):
    """Writes ``00000.png, 00001.png, ...`` into a hidden folder moved into ``path`` on success."""

    def __init__(self, path: Path, width: int, height: int, fps: float, *, queue_size: int) -> None:
        super().__init__(path, width, height, fps, queue_size=queue_size)
        self._tmp = self._stack.enter_context(atomic_directory(path))
        self._start_worker()

    def _sink(self, frame: np.ndarray, index: int) -> None:
        name = self._tmp / f"{index:05d}.png"
        try:
            name.write_bytes(_encode_image(frame, ".png"))
        except OSError as err:
            raise Photo3DError(f"cannot write frame {name.name} into {self.path}: {err.strerror or err}") from None


class _StillWriter(FrameWriter):
    """Writes the one frame it is given as a PNG, JPEG or WebP file (through a temporary)."""

    def __init__(self, path: Path, width: int, height: int, fps: float, suffix: str, *, queue_size: int) -> None:
        super().__init__(path, width, height, fps, queue_size=queue_size)
        self._suffix = suffix
        self._max_frames = 1
        self._tmp = self._stack.enter_context(atomic_output(path))
        self._start_worker()

    def _sink(self, frame: np.ndarray, index: int) -> None:
        try:
            self._tmp.write_bytes(_encode_image(frame, self._suffix))
        except OSError as err:
            raise Photo3DError(f"cannot write {self.path}: {err.strerror or err}") from None


class _PopenGroup(TypedDict, total=False):
    """The keyword arguments of :func:`_detached`."""

    creationflags: int
    start_new_session: bool


def _detached() -> _PopenGroup:
    """Popen arguments that keep Ctrl-C in the terminal from reaching ffmpeg (we stop it ourselves)."""
    if sys.platform == "win32":  # pragma: no cover
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _resolve_encoding(
    p: Path, suffix: str, codec: str | None, crf: int | None, preset: str | None, fps: float
) -> _Encoding:
    """Check codec, crf and preset against the container and return the :class:`_Encoding`.

    Raises:
        Photo3DError: For a codec the container cannot hold or this ffmpeg lacks, or a crf out of range.

    """
    allowed = _CODECS_BY_SUFFIX[suffix]
    if codec is None:
        name = allowed[0]
    else:
        name = _CODEC_ALIASES.get(str(codec).lower(), str(codec).lower())
        if name not in allowed:
            takes = f"{suffix} files take {', '.join(allowed)}"
            homes = [s for s, codecs in _CODECS_BY_SUFFIX.items() if name in codecs]
            if not homes:
                raise Photo3DError(f"cannot write {p}: unknown codec {codec!r}; {takes}")
            raise Photo3DError(
                f"cannot write {p}: codec {codec!r} does not fit {suffix} files, which take {', '.join(allowed)}; "
                f"use a {', '.join(homes)} file for {name}"
            )
    encoder = _ENCODERS[name]
    encoders = _ffmpeg_encoders()  # empty if ffmpeg could not be asked: then ffmpeg itself reports
    if encoders and encoder not in encoders:
        others = [c for c in ("h264", "vp9") if c != name and _ENCODERS[c] in encoders]
        hint = ""
        if others:
            where = " (in a .mkv or .webm file)" if others[0] == "vp9" else ""
            hint = f"; use codec={others[0]!r}{where} instead"
        raise Photo3DError(f"cannot write {p} with {name}: imageio-ffmpeg's ffmpeg has no {encoder} encoder{hint}")
    if name == "gif":
        return _Encoding(suffix, name, 0, _DEFAULT_PRESET, fps)
    default, top = _CRF[name]
    if crf is None:
        crf = default
    if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 0 <= crf <= top:
        raise Photo3DError(f"cannot write {p}: crf must be a whole number from 0 to {top} for {name}, got {crf!r}")
    return _Encoding(suffix, name, int(crf), preset or _DEFAULT_PRESET, fps)


def _check_settings(
    p: Path, kind: str, codec: str | None, crf: int | None, preset: str | None, fps: float
) -> _Encoding | None:
    """Check preset, codec and crf for an output kind; the ffmpeg encoding, or None for stills and PNG frames.

    Raises:
        Photo3DError: For an unknown preset, a codec that does not fit (or is missing), or a crf out of range.

    """
    if preset is not None and preset not in ENCODER_PRESETS:
        raise Photo3DError(
            f"cannot write {p}: unknown encoder preset {preset!r}; use one of {', '.join(ENCODER_PRESETS)}"
        )
    if kind == "png" or kind in STILL_SUFFIXES:
        if codec is not None:
            what = "a PNG sequence" if kind == "png" else f"a {kind} still image"
            raise Photo3DError(f"cannot write {p}: codec {codec!r} does not apply to {what}; leave codec unset")
        return None
    return _resolve_encoding(p, kind, codec, crf, preset, fps)


def check_output(
    path: str | os.PathLike[str] | None,
    *,
    codec: str | None = None,
    crf: int | None = None,
    preset: str | None = None,
    frames: int | None = None,
) -> None:
    """Fail fast on output settings :func:`open_writer` would refuse, before any slow work.

    Checks what can be known without the frame size: the suffix, that the
    codec fits it and is in imageio-ffmpeg's ffmpeg, the crf range, the
    preset, and that a still image gets one frame. Whether the destination
    can be written is :func:`photo3d.io.outputs.check_writable`'s job.

    Args:
        path: The output as for :func:`open_writer`; None checks nothing.
        codec: As for :func:`open_writer`.
        crf: As for :func:`open_writer`.
        preset: As for :func:`open_writer`.
        frames: Number of frames that will be written, or None if not known
            yet; anything but 1 is refused for a still image.

    Raises:
        Photo3DError: With the same one-line message :func:`open_writer` would give.

    """
    if path is None:
        return
    kind = _output_kind(path)
    p = Path(path)
    _check_settings(p, kind, codec, crf, preset, 1.0)
    if kind in STILL_SUFFIXES and frames is not None and frames != 1:
        raise Photo3DError(
            f"cannot write {frames} frames to {p}: a still image ({p.suffix}) takes one frame; "
            "use a video suffix such as .mp4 or a folder for PNG frames"
        )


def open_writer(
    path: str | os.PathLike[str],
    width: int,
    height: int,
    fps: float,
    *,
    crf: int | None = None,
    codec: str | None = None,
    preset: str | None = None,
    queue_size: int = 4,
) -> FrameWriter:
    """Open a streaming writer for ``width`` x ``height`` RGB frames, chosen by ``path``.

    See the module docstring for the output kinds. The file (or the frames in
    the folder) appears only when the writer closes successfully; a failure
    leaves nothing behind (an existing output of the same name is kept).

    Args:
        path: A video (``*.mp4``, ``*.mov``, ``*.mkv``, ``*.webm``,
            ``*.gif``), one still image (``*.png``, ``*.jpg``, ``*.jpeg``,
            ``*.webp``), or a folder for a PNG sequence (an existing folder, a
            string ending in ``/``, or a path without suffix; it is created if
            missing, and existing frames of the same names are replaced).
        width: Frame width in pixels, >= 1 (even for mp4, mov, mkv and webm).
        height: Frame height in pixels, >= 1 (even for mp4, mov, mkv and webm).
        fps: Frames per second, > 0 (stored as a rational, e.g. 29.97 ->
            2997/100). GIFs store whole-centisecond delays, and above 50 fps
            (which browsers would slow down to 10 fps) they drop frames to 50 fps.
        crf: Constant rate factor, lower is better quality and larger files:
            0..51 for h264 (default 18) and h265 (default 20), 0..63 for vp9
            (default 32). None picks the default. Ignored for GIF, stills and PNG.
        codec: ``"h264"`` (libx264) or ``"h265"`` (libx265; ``"hevc"`` also
            works) for mp4, mov and mkv; ``"vp9"`` for webm and mkv; ``"gif"``
            for gif. None picks the first of these the container takes. Must
            be None for still images and PNG sequences.
        preset: libx264/libx265 speed preset, one of :data:`ENCODER_PRESETS`
            (default ``"veryfast"``); slower presets give smaller files at the
            same crf. Ignored by the other codecs.
        queue_size: Frames :meth:`FrameWriter.write` may queue ahead of the
            encoder, >= 1 (each takes ``width * height * 3`` bytes).

    Returns:
        A :class:`FrameWriter`; use it in a ``with`` block.

    Raises:
        Photo3DError: If the suffix is unsupported, the size, fps, codec, crf,
            preset or queue size is invalid, the codec does not fit the suffix
            or is missing from imageio-ffmpeg's ffmpeg, a yuv420p size is odd,
            or the destination cannot be written.

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
    if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
        raise Photo3DError(f"cannot write {p}: queue_size must be a whole number >= 1, got {queue_size!r}")
    encoding = _check_settings(p, kind, codec, crf, preset, float(fps))
    if encoding is None:
        if kind == "png":
            return _PngSequenceWriter(p, width, height, float(fps), queue_size=queue_size)
        return _StillWriter(p, width, height, float(fps), kind, queue_size=queue_size)
    if encoding.codec != "gif" and (width % 2 or height % 2):
        raise Photo3DError(
            f"cannot write {p} at {width}x{height}: {kind} (yuv420p) needs an even width and height; "
            "crop or resize by one pixel"
        )
    return _FFmpegWriter(p, width, height, float(fps), encoding, queue_size=queue_size)


def read_video_info(path: str | os.PathLike[str]) -> tuple[int, int, int, float]:
    """Frame count, size and frame rate of a video file, counting frames by decoding them all.

    Args:
        path: A video file ffmpeg can read (mp4, webm, gif, ...).

    Returns:
        ``(frame_count, width, height, fps)``: the number of frames stored in
        the file and ffmpeg's idea of the frame rate (0.0 if it could not tell;
        approximate for GIFs, whose frame delays are whole centiseconds).

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


def video_codec(path: str | os.PathLike[str]) -> str:
    """Codec of the first video stream in a file, as ffmpeg names it.

    Args:
        path: A video or image file ffmpeg can read.

    Returns:
        ffmpeg's codec name, e.g. ``"h264"``, ``"hevc"``, ``"vp9"``, ``"gif"``, ``"png"``.

    Raises:
        Photo3DError: If the file does not exist or ffmpeg finds no video stream in it.

    """
    p = Path(path)
    if not p.is_file():
        raise Photo3DError(f"cannot read {p}: no such file")
    try:
        # Without an output ffmpeg only describes its input (on stderr) and exits with status 1.
        result = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(p)],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
        raise Photo3DError(f"cannot read {p}: running ffmpeg failed ({err})") from None
    text = result.stderr.decode("utf-8", "replace")
    match = re.search(r"^\s*Stream #\d+:\d+\S*: Video: ([A-Za-z0-9_]+)", text, re.MULTILINE)
    if match is None:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        detail = lines[-1] if lines else "no output from ffmpeg"
        raise Photo3DError(f"cannot read {p} as a video: no video stream ({detail})")
    return match.group(1)
