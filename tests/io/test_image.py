"""Tests for photo3d.io.image.load_image: formats, bit depths, orientation and bad files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from photo3d.errors import Photo3DError
from photo3d.io.image import _apply_orientation, load_image

RNG = np.random.default_rng(0)


def _rgb(h: int = 12, w: int = 20) -> np.ndarray:
    return RNG.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _smooth_rgb(h: int = 32, w: int = 48) -> np.ndarray:
    """Gradients that survive lossy compression almost unchanged."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 128)], axis=-1).astype(np.uint8)


def _check_rgb(a: np.ndarray, h: int, w: int) -> None:
    assert a.shape == (h, w, 3)
    assert a.dtype == np.uint8
    assert a.flags["C_CONTIGUOUS"]


def test_png_rgb_round_trip(tmp_path):
    rgb = _rgb()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    _check_rgb(out, 12, 20)
    np.testing.assert_array_equal(out, rgb)


def test_png_grey_is_replicated(tmp_path):
    grey = _rgb()[:, :, 0]
    Image.fromarray(grey).save(tmp_path / "g.png")
    out = load_image(str(tmp_path / "g.png"))
    _check_rgb(out, 12, 20)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], grey)


def test_png_rgba_drops_alpha(tmp_path):
    rgba = np.dstack([_rgb(), np.full((12, 20), 7, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "a.png")
    np.testing.assert_array_equal(load_image(tmp_path / "a.png"), rgba[:, :, :3])


def test_png_palette_is_expanded(tmp_path):
    rgb = _rgb()
    image = Image.fromarray(rgb).quantize(colors=16)
    image.save(tmp_path / "p.png")
    np.testing.assert_array_equal(load_image(tmp_path / "p.png"), np.asarray(image.convert("RGB")))


def test_png_16bit_grey_rounds_to_8bit(tmp_path):
    values = np.array([[0, 128, 129, 257], [32767, 32768, 65406, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    out = load_image(tmp_path / "g16.png")
    expected = np.round(values / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(expected, [[0, 0, 1, 1], [127, 128, 254, 255]])
    _check_rgb(out, 2, 4)
    np.testing.assert_array_equal(out, np.repeat(expected[:, :, None], 3, axis=2))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_rgb_rounds_to_8bit(tmp_path, suffix):
    import cv2

    rgb16 = RNG.integers(0, 65536, size=(9, 7, 3), dtype=np.uint16)
    rgb16[0, 0] = [32767, 128, 65535]  # Pillow would truncate 32767 to 127 and 128 to 0
    path = tmp_path / f"c16{suffix}"
    assert cv2.imwrite(str(path), rgb16[:, :, ::-1])  # OpenCV writes BGR
    out = load_image(path)
    _check_rgb(out, 9, 7)
    np.testing.assert_array_equal(out, np.round(rgb16 / 257.0).astype(np.uint8))
    np.testing.assert_array_equal(out[0, 0], [127, 0, 255])


def test_jpeg(tmp_path):
    rgb = _smooth_rgb()
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    out = load_image(tmp_path / "a.jpg")
    _check_rgb(out, 32, 48)
    assert np.abs(out.astype(int) - rgb).max() <= 8


def test_tiff(tmp_path):
    rgb = _rgb()
    Image.fromarray(rgb).save(tmp_path / "a.tiff")
    np.testing.assert_array_equal(load_image(tmp_path / "a.tiff"), rgb)


def test_webp_lossless(tmp_path):
    rgb = _rgb()
    Image.fromarray(rgb).save(tmp_path / "a.webp", lossless=True)
    np.testing.assert_array_equal(load_image(tmp_path / "a.webp"), rgb)


def test_exif_orientation_6_rotates_clockwise(tmp_path):
    # 40 wide x 20 high, red top-left quadrant, stored with "rotate 90 degrees clockwise to display".
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:10, :20] = [255, 0, 0]
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / "o6.jpg", exif=exif, quality=95)
    out = load_image(tmp_path / "o6.jpg")
    _check_rgb(out, 40, 20)  # width and height swap
    # Rotating clockwise moves the stored top-left corner to the displayed top-right.
    assert np.abs(out[2, 17].astype(int) - [255, 0, 0]).max() < 30
    assert np.abs(out[2, 2].astype(int)).max() < 30
    np.testing.assert_allclose(out, np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o6.jpg"))), atol=0)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(tmp_path, orientation):
    rgb = _rgb(5, 8)
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "o.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.png")))
    np.testing.assert_array_equal(load_image(tmp_path / "o.png"), expected)
    np.testing.assert_array_equal(_apply_orientation(rgb, orientation), expected)


def _assert_one_line_error(path, *words):
    with pytest.raises(Photo3DError) as info:
        load_image(path)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    for word in words:
        assert word in message
    return message


def test_missing_file(tmp_path):
    message = _assert_one_line_error(tmp_path / "nope.jpg", "not found")
    assert message == f"photo not found: {tmp_path / 'nope.jpg'}"


def test_directory(tmp_path):
    (tmp_path / "dir.png").mkdir()
    _assert_one_line_error(tmp_path / "dir.png", "directory")


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    _assert_one_line_error(tmp_path / "empty.png", "empty")


@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_truncated(tmp_path, fmt, suffix):
    path = tmp_path / f"cut{suffix}"
    Image.fromarray(_rgb(64, 80)).save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _assert_one_line_error(path, "truncated")


def test_truncated_even_if_pillow_is_told_to_tolerate_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = tmp_path / "cut.jpg"
    Image.fromarray(_rgb(64, 80)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _assert_one_line_error(path, "truncated")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a photo\nsecond line\n")
    _assert_one_line_error(path, "not an image")


def test_png_signature_with_garbage(tmp_path):
    path = tmp_path / "garbage.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    _assert_one_line_error(path)


def test_float_tiff_is_refused(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(np.ones((4, 5), np.float32)).save(path)
    _assert_one_line_error(path, "float32")


def test_zero_width_png(tmp_path):
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 0, 5, 8, 2, 0, 0, 0)  # width 0, height 5, 8-bit RGB
    path = tmp_path / "zero.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    _assert_one_line_error(path)


def test_truncated_16bit_rgb_png(tmp_path):
    import cv2

    path = tmp_path / "cut16.png"
    cv2.imwrite(str(path), RNG.integers(0, 65536, size=(64, 64, 3), dtype=np.uint16))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _assert_one_line_error(path, "truncated")


# HEIC / HEIF (pillow-heif)


def _save_heic(path, rgb: np.ndarray, orientation: int | None = None) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    pillow_heif.from_pillow(Image.fromarray(rgb)).save(path, quality=-1, chroma=444, **kwargs)


def test_heic_round_trip(tmp_path):
    rgb = _smooth_rgb()
    _save_heic(tmp_path / "a.heic", rgb)
    out = load_image(tmp_path / "a.heic")
    _check_rgb(out, 32, 48)
    assert np.abs(out.astype(int) - rgb).max() <= 2  # lossless HEVC, up to YCbCr rounding


def test_heic_orientation_is_applied_once(tmp_path):
    # pillow-heif stores EXIF orientation 6 as an irot transformation, which libheif applies on decoding;
    # the EXIF tag must not turn the image a second time.
    rgb = _smooth_rgb()
    rgb[:8, :8] = [255, 0, 0]
    _save_heic(tmp_path / "o6.heic", rgb, orientation=6)
    out = load_image(tmp_path / "o6.heic")
    _check_rgb(out, 48, 32)
    assert np.abs(out.astype(int) - np.rot90(rgb, -1)).max() <= 2


def test_heic_named_jpg_is_still_read(tmp_path):
    rgb = _smooth_rgb()
    _save_heic(tmp_path / "really_heic.jpg", rgb)
    assert load_image(tmp_path / "really_heic.jpg").shape == (32, 48, 3)


def test_truncated_heic(tmp_path):
    _save_heic(tmp_path / "a.heic", _rgb(64, 80))
    data = (tmp_path / "a.heic").read_bytes()
    (tmp_path / "cut.heic").write_bytes(data[: len(data) // 2])
    _assert_one_line_error(tmp_path / "cut.heic")


def test_heic_without_pillow_heif_is_one_line_error(tmp_path, monkeypatch):
    import sys

    from photo3d.io import image as image_module

    _save_heic(tmp_path / "a.heic", _smooth_rgb())
    monkeypatch.setattr(image_module, "_heif_registered", False)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import fails
    _assert_one_line_error(tmp_path / "a.heic", "pillow-heif", "pip install")


@pytest.mark.real
def test_real_iphone_heic(real_data):
    out = load_image(real_data / "apple_portrait_pug" / "pug.heic")
    _check_rgb(out, 3024, 4032)
