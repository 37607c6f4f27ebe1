"""Reading photos from disk into RGB arrays.

A photo is returned as an ``(H, W, 3) uint8`` RGB array, row 0 at the top,
after the file's EXIF orientation has been applied, so it looks the way a
photo viewer shows it. ``H`` and ``W`` are the size *after* orientation.

Pillow decodes JPEG, PNG, TIFF, WebP (and whatever else it knows); HEIC/HEIF
photos (iPhone) are decoded through pillow-heif (libheif), whose Pillow plugin
is registered the first time such a file is met. For HEIF, libheif applies the
file's ``irot``/``imir`` transformations and the EXIF orientation is ignored,
as the HEIF standard asks. Pillow reduces 16-bit colour PNG/TIFF to 8 bits by dropping the low byte; those
files are decoded with OpenCV instead, so every 16-bit value ``v`` becomes
``round(v / 257)``, exactly.

Every problem with the file raises :class:`~photo3d.errors.Photo3DError` with
a one-line message that names it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from ..errors import Photo3DError, one_line

__all__ = ["decode_bytes", "decode_file", "exif_orientation", "is_heif", "load_image", "read_file", "to_rgb8"]

logger = logging.getLogger(__name__)

_EXIF_ORIENTATION = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_TO_RGB_MODES = ("CMYK", "YCbCr", "LAB", "HSV", "RGBX")
_HEIF_BRANDS = frozenset((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"))
_HEIF_LOCK = threading.Lock()
_heif_registered = False


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a photo as RGB.

    Grey images are replicated to three channels, alpha is dropped, palette
    images are expanded, 16-bit images are scaled to 8 bits with
    ``round(v / 257)`` and EXIF orientation is applied.

    Args:
        path: A JPEG, PNG, TIFF, WebP or HEIC/HEIF file (8 or 16 bits per
            channel; any other format Pillow reads also works). For a HEIF
            file the primary image is read.

    Returns:
        (H, W, 3) uint8 RGB in [0, 255], C-contiguous, ``H`` and ``W`` as
        displayed (after EXIF orientation).

    Raises:
        Photo3DError: If the file is missing, a directory, empty, unreadable,
            truncated or corrupt, not an image, floating point or 32-bit,
            or has a zero dimension, or is HEIC/HEIF and pillow-heif is not
            installed.

    """
    name = os.fspath(path)
    return to_rgb8(decode_file(path, "photo"), f"photo {name}")


def to_rgb8(pixels: np.ndarray, label: str) -> np.ndarray:
    """Turn what :func:`decode_bytes` returns into (H, W, 3) uint8 RGB, as :func:`load_image` documents.

    Args:
        pixels: (H, W), (H, W, 2), (H, W, 3) or (H, W, 4); uint8, uint16,
            int32 or float32.
        label: What the pixels are, for messages (e.g. "photo a.jpg").

    Returns:
        (H, W, 3) uint8 RGB, C-contiguous.

    Raises:
        Photo3DError: If the pixels are floating point or 32-bit.

    """
    if pixels.dtype == np.int32:  # Pillow mode "I": 16-bit data in some PGM/TIFF writers, else true 32-bit
        if pixels.min() < 0 or pixels.max() > 65535:
            raise Photo3DError(f"{label} has 32-bit integer pixels; save it with 8 or 16 bits per channel")
        pixels = pixels.astype(np.uint16)
    if pixels.dtype == np.uint16:
        pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)  # round(v / 257); no ties exist
    elif pixels.dtype != np.uint8:
        raise Photo3DError(f"{label} has {pixels.dtype} pixels; save it with 8 or 16 bits per channel")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    elif pixels.shape[2] == 2:  # grey + alpha
        pixels = np.repeat(pixels[:, :, :1], 3, axis=2)
    else:  # RGB or RGBA
        pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels)


def read_file(path: str | os.PathLike[str], what: str) -> bytes:
    """Read the bytes of ``path``, or raise a :class:`Photo3DError` saying why there are none.

    Args:
        path: The file to read.
        what: What the file is, for messages ("photo", "depth map").

    Raises:
        Photo3DError: If the file is missing, a directory, empty or unreadable.

    """
    name = os.fspath(path)
    p = Path(path)
    if p.is_dir():
        raise Photo3DError(f"{what} {name} is a directory, not a file")
    if not p.exists():
        raise Photo3DError(f"{what} not found: {name}")
    try:
        data = p.read_bytes()
    except PermissionError:
        raise Photo3DError(f"cannot read {what} {name}: permission denied") from None
    except OSError as e:
        raise Photo3DError(f"cannot read {what} {name}: {one_line(e)}") from None
    if not data:
        raise Photo3DError(f"{what} {name} is empty (0 bytes)")
    return data


@contextlib.contextmanager
def _strict_decoding() -> Iterator[None]:
    """Make Pillow raise on truncated files even if someone enabled ``LOAD_TRUNCATED_IMAGES``."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def is_heif(data: bytes) -> bool:
    """Tell whether ``data`` starts like a HEIC/HEIF file (an ``ftyp`` box naming a HEIF brand).

    Args:
        data: The first bytes of a file (at least 12 to say yes; the whole ``ftyp`` box to see every brand).

    Returns:
        True if the major brand or a compatible brand is a HEIF one (heic, heix, mif1, ...).

    """
    if len(data) < 12 or data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[:4], "big")
    end = min(len(data), size) if size >= 16 else 12
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, end - 3, 4)]
    return any(brand in _HEIF_BRANDS for brand in brands)


def _register_heif_opener(what: str, name: str) -> None:
    """Register pillow-heif's Pillow plugin (once per process).

    Raises:
        Photo3DError: If pillow-heif is not installed.

    """
    global _heif_registered
    with _HEIF_LOCK:
        if _heif_registered:
            return
        try:
            import pillow_heif
        except ImportError:
            raise Photo3DError(
                f"{what} {name} is HEIC/HEIF, which needs pillow-heif: pip install pillow-heif "
                "(or convert the photo to JPEG or PNG)"
            ) from None
        pillow_heif.register_heif_opener()
        _heif_registered = True
        logger.debug("registered pillow-heif %s for HEIC/HEIF files", pillow_heif.__version__)


def decode_file(path: str | os.PathLike[str], what: str) -> np.ndarray:
    """Decode an image file to its native pixel values, EXIF orientation applied.

    Shared by :func:`load_image` and :func:`photo3d.io.depth_files.load_depth_values`.

    Args:
        path: An image file.
        what: What the file is, for messages ("photo", "depth map").

    Returns:
        As :func:`decode_bytes`.

    Raises:
        Photo3DError: If the file is missing, a directory, empty, unreadable,
            not an image, truncated or corrupt, or has a zero dimension.

    """
    return decode_bytes(read_file(path, what), what, os.fspath(path))


def decode_bytes(data: bytes, what: str, name: str, default_orientation: int = 1) -> np.ndarray:
    """Decode the bytes of an image file to its native pixel values, EXIF orientation applied.

    Args:
        data: The file's bytes (not empty).
        what: What the image is, for messages ("photo", "depth map").
        name: Where it comes from, for messages (usually its path).
        default_orientation: The EXIF orientation (1..8) to apply when the
            image itself has no orientation tag (e.g. an image embedded in a
            JPEG whose own EXIF says how to turn it).

    Returns:
        (H, W) grey, (H, W, 2) grey + alpha, (H, W, 3) RGB or (H, W, 4) RGBA;
        dtype uint8, uint16, int32 (Pillow mode "I") or float32 (mode "F");
        raw values, not rescaled; both H and W at least 1.

    Raises:
        Photo3DError: If the data is not an image, is truncated or corrupt,
            too large to decode safely, has a zero dimension, or is HEIF and
            pillow-heif is not installed.

    """
    corrupt = f"{what} {name} is truncated or corrupt"
    if is_heif(data):
        _register_heif_opener(what, name)
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        pixels = _decode_with_opencv(data) if data.startswith((_PNG_SIGNATURE, *_TIFF_SIGNATURES)) else None
        if pixels is None:
            raise Photo3DError(
                f"{what} {name} is not an image that Pillow or OpenCV can read (use JPEG, PNG, TIFF, WebP or HEIC)"
            ) from None
        return _checked_size(pixels, what, name)
    except Image.DecompressionBombError as e:
        raise Photo3DError(f"{what} {name} is too large to decode safely: {one_line(e)}") from None
    except Exception as e:  # Pillow reports broken headers with OSError, SyntaxError, ValueError, struct.error ...
        raise Photo3DError(f"{corrupt} ({one_line(e)})") from None

    with image:
        if image.width < 1 or image.height < 1:
            raise Photo3DError(f"{what} {name} has a zero dimension ({image.width}x{image.height})")
        if _pillow_drops_low_bits(image):
            pixels = _decode_with_opencv(data)
            if pixels is not None:
                return _checked_size(
                    _apply_orientation(pixels, exif_orientation(image, default_orientation)), what, name
                )
        try:
            with _strict_decoding():
                image.load()  # Image.open is lazy: this is where truncation shows
            pixels = _pillow_to_array(image)
        except Exception as e:
            raise Photo3DError(f"{corrupt} ({one_line(e)})") from None
        return _checked_size(_apply_orientation(pixels, exif_orientation(image, default_orientation)), what, name)


def _checked_size(pixels: np.ndarray, what: str, name: str) -> np.ndarray:
    if pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise Photo3DError(f"{what} {name} has a zero dimension ({pixels.shape[1]}x{pixels.shape[0]})")
    return pixels


def _raw_mode(image: ImageFile.ImageFile) -> str:
    """Return the raw mode of Pillow's first decoder tile, e.g. ``"RGB;16B"`` ("" if unknown)."""
    try:
        args = image.tile[0][3]
    except (IndexError, TypeError):
        return ""
    if isinstance(args, tuple):
        args = args[0] if args else ""
    return args if isinstance(args, str) else ""


def _pillow_drops_low_bits(image: ImageFile.ImageFile) -> bool:
    """Tell whether Pillow would decode this 16-bit colour (or grey + alpha) file to 8 bits by truncation."""
    return (
        image.format in ("PNG", "TIFF")
        and image.mode not in (*_SIXTEEN_BIT_MODES, "I", "F")
        and (";16" in _raw_mode(image))
    )


def _decode_with_opencv(data: bytes) -> np.ndarray | None:
    """Decode ``data`` with ``cv2.imdecode``, channels as RGB(A); None if OpenCV cannot."""
    try:
        pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except Exception:  # cv2.error on some malformed inputs
        return None
    if pixels is None or pixels.ndim not in (2, 3):
        return None
    if pixels.ndim == 3:
        if pixels.shape[2] == 1:
            pixels = pixels[:, :, 0]
        elif pixels.shape[2] == 3:
            pixels = pixels[:, :, ::-1]
        elif pixels.shape[2] == 4:
            pixels = pixels[:, :, [2, 1, 0, 3]]
        else:
            return None
    if pixels.dtype not in (np.uint8, np.uint16, np.float32):
        pixels = pixels.astype(np.float32)
    return np.ascontiguousarray(pixels)


def _pillow_to_array(image: Image.Image) -> np.ndarray:
    """Pixels of a loaded Pillow image in the layout :func:`decode_file` documents."""
    mode = image.mode
    if mode == "1":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("PA", "RGBa"):
        image = image.convert("RGBA")
    elif mode == "La":
        image = image.convert("LA")
    elif mode in _TO_RGB_MODES:
        image = image.convert("RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA", "I", "F", *_SIXTEEN_BIT_MODES):
        image = image.convert("RGB")
    pixels = np.asarray(image)
    if image.mode in _SIXTEEN_BIT_MODES:
        return pixels.astype(np.uint16)  # also makes big-endian I;16B native
    if image.mode == "I":
        return pixels.astype(np.int32)
    if image.mode == "F":
        return pixels.astype(np.float32)
    return np.array(pixels, dtype=np.uint8)


def exif_orientation(image: Image.Image, default: int = 1) -> int:
    """The EXIF orientation of an opened image.

    Args:
        image: A Pillow image (only its EXIF is read).
        default: The orientation (1..8) to return when the image has no orientation tag.

    Returns:
        1..8 (1 = upright); ``default`` when the tag is absent, 1 when the EXIF is unreadable or the value is out
        of range.

    """
    try:
        value = int(image.getexif().get(_EXIF_ORIENTATION, default))
    except Exception:  # malformed EXIF must not stop a photo from loading
        return 1
    return value if 1 <= value <= 8 else 1


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip (H, W, ...) ``pixels`` as EXIF ``orientation`` asks (the same as ``ImageOps.exif_transpose``)."""
    if orientation == 2:
        out = pixels[:, ::-1]
    elif orientation == 3:
        out = pixels[::-1, ::-1]
    elif orientation == 4:
        out = pixels[::-1]
    elif orientation == 5:
        out = np.swapaxes(pixels, 0, 1)
    elif orientation == 6:
        out = np.rot90(pixels, -1)
    elif orientation == 7:
        out = np.swapaxes(pixels, 0, 1)[::-1, ::-1]
    elif orientation == 8:
        out = np.rot90(pixels, 1)
    else:
        return pixels
    return np.ascontiguousarray(out)
