"""Tests for photo3d.io.embedded: Google GDepth JPEGs, HEIF auxiliary depth, corrupt metadata and fuzzing."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photo3d.errors import Photo3DError
from photo3d.io import depth_metadata, gdepth, heif_depth
from photo3d.io.embedded import EmbeddedDepth, read_embedded_depth
from photo3d.io.image import load_image
from tests.support.helpers import raises_one_line

XMP_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\x00"
EXTENDED_SIGNATURE = b"http://ns.adobe.com/xmp/extension/\x00"
NAMESPACES = (
    'xmlns:GDepth="http://ns.google.com/photos/1.0/depthmap/" '
    'xmlns:GImage="http://ns.google.com/photos/1.0/image/" '
    'xmlns:xmpNote="http://ns.adobe.com/xmp/note/"'
)
RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# ---------------------------------------------------------------------------------------------------------------------
# Building Lens Blur JPEGs from scratch
# ---------------------------------------------------------------------------------------------------------------------


def _png(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(rgb: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95, **kwargs)
    return buffer.getvalue()


def _packet(properties: dict[str, str], as_elements: bool = False) -> bytes:
    """An XMP packet with the properties as attributes of rdf:Description, or as child elements."""
    if as_elements:
        body = "".join(f"<{k}>{v}</{k}>" for k, v in properties.items())
        description = f'<rdf:Description rdf:about="" {NAMESPACES}>{body}</rdf:Description>'
    else:
        attributes = " ".join(f'{k}="{v}"' for k, v in properties.items())
        description = f'<rdf:Description rdf:about="" {NAMESPACES} {attributes}/>'
    return f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF {RDF}>{description}</rdf:RDF></x:xmpmeta>'.encode()


def _app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _container(standard: bytes | None, extended: bytes | None = None, **options) -> bytes:
    """A JPEG with a standard XMP APP1 segment and the extended packet split into chunks.

    Options: base (the JPEG to insert into), guid (of the chunks), chunk (size), drop (chunk
    indices to leave out), drop_last (leave out the last chunk), length_delta (added to the
    declared full length).
    """
    base = options.get("base") or _jpeg(np.full((8, 16, 3), 128, np.uint8))
    segments = [] if standard is None else [_app1(XMP_SIGNATURE + standard)]
    if extended is not None:
        guid = options.get("guid") or hashlib.md5(extended).hexdigest().upper().encode()
        size = options.get("chunk", 700)
        full = len(extended) + options.get("length_delta", 0)
        for index, offset in enumerate(range(0, len(extended), size)):
            last = offset + size >= len(extended)
            if index in options.get("drop", ()) or (last and options.get("drop_last")):
                continue
            header = EXTENDED_SIGNATURE + guid + struct.pack(">II", full, offset)
            segments.append(_app1(header + extended[offset : offset + size]))
    return base[:2] + b"".join(segments) + base[2:]


def lens_blur(
    raw: np.ndarray,
    colour: np.ndarray | None = None,
    fmt: str = "RangeInverse",
    near: str = "2.5",
    far: str = "10.0",
    as_elements: bool = False,
    standard_extra: dict[str, str] | None = None,
    extended_extra: dict[str, str] | None = None,
    drop_keys: tuple[str, ...] = (),
    declared: str | None = "auto",
    **options,
) -> bytes:
    """A Google Camera Lens Blur style JPEG: GDepth fields in the standard XMP, Data in extended XMP."""
    extended_props = {"GDepth:Data": base64.b64encode(_png(raw)).decode()}
    if colour is not None:
        extended_props["GImage:Data"] = base64.b64encode(_jpeg(colour)).decode()
    extended_props.update(extended_extra or {})
    extended = _packet({k: v for k, v in extended_props.items() if k not in drop_keys}, as_elements)
    standard_props = {"GDepth:Format": fmt, "GDepth:Near": near, "GDepth:Far": far, "GDepth:Mime": "image/png"}
    if declared == "auto":
        declared = hashlib.md5(extended).hexdigest().upper()
    if declared is not None:
        standard_props["xmpNote:HasExtendedXMP"] = declared
    standard_props.update(standard_extra or {})
    standard = _packet({k: v for k, v in standard_props.items() if k not in drop_keys}, as_elements)
    return _container(standard, extended, **options)


def _ramp(h: int = 8, w: int = 16, dtype=np.uint8) -> np.ndarray:
    top = np.iinfo(dtype).max
    values = np.linspace(0, top, h * w).round().astype(dtype).reshape(h, w)
    values.flat[0], values.flat[-1] = 0, top
    return values


def _smooth_rgb(h: int = 8, w: int = 16) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 90)], axis=-1).astype(np.uint8)


def _write(tmp_path: Path, data: bytes, name: str = "photo.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------------------------------
# Synthetic GDepth files
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_elements", [False, True])
def test_range_inverse_decodes_exactly(tmp_path, as_elements):
    raw = _ramp()
    colour = _smooth_rgb()
    path = _write(tmp_path, lens_blur(raw, colour, "RangeInverse", "2.5", "10.0", as_elements=as_elements))
    out = read_embedded_depth(path)
    assert isinstance(out, EmbeddedDepth)
    np.testing.assert_array_equal(out.raw, raw)
    assert out.raw.dtype == np.uint8
    dn = raw / 255.0
    expected = (2.5 * 10.0 / (10.0 - dn * (10.0 - 2.5))).astype(np.float32)
    np.testing.assert_array_equal(out.depth, expected)
    assert out.depth.dtype == np.float32 and out.depth.shape == (8, 16)
    assert out.depth.flat[0] == np.float32(2.5) and out.depth.flat[-1] == np.float32(10.0)
    assert (out.near, out.far, out.units, out.focal_px) == (2.5, 10.0, "relative", None)
    assert out.source == "Google GDepth (RangeInverse)"
    (tmp_path / "colour.jpg").write_bytes(_jpeg(colour))
    np.testing.assert_array_equal(out.image, load_image(tmp_path / "colour.jpg"))


def test_range_linear_16_bit_decodes_exactly(tmp_path):
    raw = _ramp(dtype=np.uint16)
    path = _write(tmp_path, lens_blur(raw, None, "RangeLinear", "0.5", "4.5", chunk=97))
    out = read_embedded_depth(path)
    np.testing.assert_array_equal(out.raw, raw)
    assert out.raw.dtype == np.uint16
    expected = (0.5 + raw / 65535.0 * 4.0).astype(np.float32)
    np.testing.assert_array_equal(out.depth, expected)
    assert out.depth.flat[0] == np.float32(0.5) and out.depth.flat[-1] == np.float32(4.5)
    assert out.image is None
    assert out.source == "Google GDepth (RangeLinear)"


def test_everything_in_the_standard_xmp_and_units_in_millimetres(tmp_path):
    raw = _ramp()
    props = {
        "GDepth:Format": "RangeLinear",
        "GDepth:Near": "1000",
        "GDepth:Far": "3000",
        "GDepth:Units": "mm",
        "GDepth:Data": base64.b64encode(_png(raw)).decode(),
    }
    out = read_embedded_depth(_write(tmp_path, _container(_packet(props))))
    assert (out.units, out.near, out.far) == ("metres", 1.0, 3.0)
    np.testing.assert_allclose(out.depth, 1.0 + raw / 255.0 * 2.0, rtol=1e-6)


def test_rgba_depth_png_takes_channel_0(tmp_path):
    raw = _ramp()
    rgba = np.dstack([raw, raw, raw, np.full_like(raw, 255)])
    props = {"GDepth:Format": "RangeLinear", "GDepth:Near": "1", "GDepth:Far": "2"}
    props["GDepth:Data"] = base64.b64encode(_png(rgba)).decode()
    out = read_embedded_depth(_write(tmp_path, _container(_packet(props))))
    np.testing.assert_array_equal(out.raw, raw)


def test_container_exif_orientation_turns_depth_and_colour(tmp_path):
    raw, colour = _ramp(8, 16), _smooth_rgb(8, 16)
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to display
    base = _jpeg(np.zeros((8, 16, 3), np.uint8), exif=exif.tobytes())
    out = read_embedded_depth(_write(tmp_path, lens_blur(raw, colour, base=base)))
    np.testing.assert_array_equal(out.raw, np.rot90(raw, -1))
    assert out.image.shape == (16, 8, 3)
    (tmp_path / "colour.jpg").write_bytes(_jpeg(colour))
    np.testing.assert_array_equal(out.image, np.rot90(load_image(tmp_path / "colour.jpg"), -1))


def test_extended_xmp_without_declaration_and_in_any_order(tmp_path):
    raw = _ramp()
    data = lens_blur(raw, declared=None, chunk=50)
    # reverse the order of the extended chunks in the file: reassembly goes by offset
    first = data.index(b"\xff\xe1", data.index(EXTENDED_SIGNATURE) - 4)
    segments, pos = [], first
    while (
        data[pos : pos + 2] == b"\xff\xe1" and data[pos + 4 : pos + 4 + len(EXTENDED_SIGNATURE)] == EXTENDED_SIGNATURE
    ):
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segments.append(data[pos : pos + 2 + length])
        pos += 2 + length
    shuffled = data[:first] + b"".join(reversed(segments)) + data[pos:]
    np.testing.assert_array_equal(read_embedded_depth(_write(tmp_path, shuffled)).raw, raw)


def test_guid_that_is_not_the_md5_only_warns(tmp_path, caplog):
    guid = "0123456789ABCDEF0123456789ABCDEF"
    data = lens_blur(_ramp(), declared=guid, guid=guid.encode())
    with caplog.at_level(logging.WARNING, logger="photo3d.io.embedded"):
        assert read_embedded_depth(_write(tmp_path, data)) is not None
    assert "MD5" in caplog.text


def test_files_without_embedded_depth_give_none(tmp_path):
    rgb = _smooth_rgb()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    Image.fromarray(rgb).save(tmp_path / "a.jpg")
    (tmp_path / "notes.txt").write_text("hello")
    other_xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF ' + RDF.encode() + b"/></x:xmpmeta>"
    broken_other = b"<x:xmpmeta><unclosed"  # broken, but not ours to judge: no GDepth namespace
    for name in ("a.png", "a.jpg", "notes.txt"):
        assert read_embedded_depth(tmp_path / name) is None
    assert read_embedded_depth(_write(tmp_path, _container(other_xmp), "x.jpg")) is None
    assert read_embedded_depth(_write(tmp_path, _container(broken_other), "y.jpg")) is None
    assert read_embedded_depth(_write(tmp_path, b"\xff\xd8\xff", "stub.jpg")) is None


def test_missing_file_is_one_line_error(tmp_path):
    raises_one_line(read_embedded_depth, tmp_path / "nope.jpg", words=("not found", "nope.jpg"))


def _bomb_png() -> bytes:
    """A PNG header claiming 30000 x 30000 pixels (above Pillow's decompression-bomb limit)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


CORRUPT = {
    "bad base64": ({"extended_extra": {"GDepth:Data": "@@not*base64@@"}}, ("GDepth:Data", "base64")),
    "bad padding": ({"extended_extra": {"GDepth:Data": "QUJDRA="}}, ("GDepth:Data", "base64")),
    "missing chunk": ({"drop": (1,)}, ("extended XMP", "missing")),
    "missing last chunk": ({"drop_last": True}, ("extended XMP", "missing chunks")),
    "wrong total length": ({"length_delta": 5}, ("extended XMP", "missing chunks")),
    "wrong guid": ({"guid": b"0123456789ABCDEF0123456789ABCDEF"}, ("GUID", "HasExtendedXMP")),
    "declared but absent": ({"drop": tuple(range(100))}, ("HasExtendedXMP", "no extended XMP")),
    "near missing": ({"drop_keys": ("GDepth:Near",)}, ("GDepth:Near", "missing")),
    "far not a number": ({"far": "far away"}, ("GDepth:Far", "not a number")),
    "far infinite": ({"far": "inf"}, ("GDepth:Far", "finite")),
    "near above far": ({"near": "12", "far": "3"}, ("Near", "Far", "0 < Near < Far")),
    "near zero": ({"near": "0", "fmt": "RangeLinear"}, ("0 < Near < Far",)),
    "format missing": ({"drop_keys": ("GDepth:Format",)}, ("GDepth:Format", "missing")),
    "format unknown": ({"fmt": "RangeFoo"}, ("GDepth:Format", "RangeFoo")),
    "data missing": ({"drop_keys": ("GDepth:Data",)}, ("GDepth:Data", "missing")),
    "mime unknown": ({"standard_extra": {"GDepth:Mime": "image/tiff"}}, ("GDepth:Mime", "image/tiff")),
    "data not an image": ({"extended_extra": {"GDepth:Data": _b64(b"hello world!")}}, ("neither a PNG nor a JPEG",)),
    "png undecodable": (
        {"extended_extra": {"GDepth:Data": _b64(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)}},
        ("depth map GDepth:Data", "not an image"),
    ),
    "png truncated": (
        {"extended_extra": {"GDepth:Data": _b64(_png(_ramp())[:-30])}},
        ("GDepth:Data", "truncated or corrupt"),
    ),
    "png bomb": ({"extended_extra": {"GDepth:Data": _b64(_bomb_png())}}, ("GDepth:Data", "too large")),
    "colour undecodable": ({"extended_extra": {"GImage:Data": _b64(b"\xff\xd8\xff\xe0junk")}}, ("GImage:Data",)),
    "data empty": ({"extended_extra": {"GDepth:Data": ""}}, ("GDepth:Data", "missing or empty")),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_metadata_is_one_line_error(tmp_path, case):
    kwargs, words = CORRUPT[case]
    path = _write(tmp_path, lens_blur(_ramp(), _smooth_rgb(), **kwargs))
    raises_one_line(read_embedded_depth, path, words=(str(path), "--depth", *words))


def test_aspect_mismatch_with_colour_is_one_line_error(tmp_path):
    path = _write(tmp_path, lens_blur(_ramp(8, 8), _smooth_rgb(8, 16)))
    raises_one_line(read_embedded_depth, path, words=("8x8", "16x8", "aspect"))


@pytest.mark.parametrize(
    ("standard", "words"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/" GDepth="http://ns.google.com/photos/1.0/depthmap/">&lol2;</x:xmpmeta>',
            ("DOCTYPE",),
        ),
        (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><!ENTITY x "http://ns.google.com/photos/1.0/depthmap/">', ("XML",)),
        (b"<x:xmpmeta>http://ns.google.com/photos/1.0/depthmap/<rdf:RDF></x:xmpmeta>", ("XML",)),
    ],
)
def test_hostile_or_broken_xml_is_one_line_error(tmp_path, standard, words):
    path = _write(tmp_path, _container(standard))
    raises_one_line(read_embedded_depth, path, words=(str(path), *words))


def test_truncated_xmp_segment_is_one_line_error(tmp_path):
    data = lens_blur(_ramp())
    cut = data.index(EXTENDED_SIGNATURE) + 300
    path = _write(tmp_path, data[:cut])
    raises_one_line(read_embedded_depth, path, words=("truncated",))


# ---------------------------------------------------------------------------------------------------------------------
# Fuzzing: nothing but None, an EmbeddedDepth or a Photo3DError may come out
# ---------------------------------------------------------------------------------------------------------------------


def _check_outcome(path: Path) -> None:
    try:
        out = read_embedded_depth(path)
    except Photo3DError as e:
        assert "\n" not in str(e)
        return
    if out is not None:
        assert isinstance(out, EmbeddedDepth)
        assert out.depth.dtype == np.float32 and out.depth.shape == out.raw.shape
        assert np.isfinite(out.depth).all() and (out.depth > 0).all()


def _mutate(source: bytes, data, limit: int | None = None) -> bytes:
    """Truncate ``source`` or overwrite a few of its bytes (within the first ``limit`` bytes)."""
    if data.draw(st.booleans(), label="truncate"):
        return source[: data.draw(st.integers(0, len(source) - 1), label="length")]
    out = bytearray(source)
    end = min(len(out), limit or len(out)) - 1
    for _ in range(data.draw(st.integers(1, 6), label="count")):
        out[data.draw(st.integers(0, end), label="at")] = data.draw(st.integers(0, 255), label="byte")
    return bytes(out)


SYNTHETIC = lens_blur(_ramp(), _smooth_rgb(), chunk=300)


@FUZZ
@given(data=st.data())
def test_fuzz_synthetic_lens_blur(tmp_path, data):
    _check_outcome(_write(tmp_path, _mutate(SYNTHETIC, data)))


@pytest.fixture(scope="module")
def real_bytes(real_data) -> dict[str, bytes]:
    return {
        "jpg": (real_data / "google_lensblur_depthy" / "1.jpg").read_bytes(),
        "heic": (real_data / "apple_portrait_pug" / "pug.heic").read_bytes(),
    }


@pytest.mark.real
@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_fuzz_real_lens_blur(tmp_path, real_bytes, data):
    source = real_bytes["jpg"]
    _check_outcome(_write(tmp_path, _mutate(source, data, limit=source.index(b"\xff\xda"))))


@pytest.mark.real
@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_fuzz_real_heic(tmp_path, real_bytes, data):
    # Checked by hand in subprocesses before running in-process: libheif 1.23.6 (pillow-heif 1.8.1) survived
    # 2,670 truncated or mutated copies of pug.heic (720 of them with the depth image's HEVC data mutated)
    # without a crash or hang.
    _check_outcome(_write(tmp_path, _mutate(real_bytes["heic"], data, limit=20000), "p.heic"))


@pytest.mark.real
@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_fuzz_heif_box_parser(real_bytes, data):
    """The HEIF box parser (ours, not libheif's) only ever raises its own error."""
    source = real_bytes["heic"]
    mutated = _mutate(source, data, limit=20000)
    try:
        items = heif_depth._heif_items(mutated)
        for item_id in heif_depth._depth_items(items):
            for _kind, src, dst in items.references:
                if dst == item_id and src in items.mime:
                    heif_depth._item_data(mutated, items, src)
    except depth_metadata.CorruptMetadata:
        pass
    assert isinstance(heif_depth._apple_depth_info(mutated, "p.heic"), heif_depth._AppleDepthInfo)


# ---------------------------------------------------------------------------------------------------------------------
# Real files (../shared/data/real)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.real
def test_google_lens_blur_sample(real_data):
    folder = real_data / "google_lensblur_depthy"
    out = read_embedded_depth(folder / "1.jpg")
    expected_raw = np.asarray(Image.open(folder / "1-depth.png"))[:, :, 0]
    np.testing.assert_array_equal(out.raw, expected_raw)
    np.testing.assert_array_equal(out.image, load_image(folder / "1-image.jpg"))
    assert out.image.shape == (1024, 580, 3)  # 580 wide, 1024 high, portrait
    assert out.depth.shape == (1024, 580)
    assert out.near == pytest.approx(9.61550521850586, abs=1e-12)
    assert out.far == pytest.approx(44.63623809814453, abs=1e-12)
    assert out.source == "Google GDepth (RangeInverse)" and out.units == "relative" and out.focal_px is None
    assert np.all(out.depth[out.raw == 0] == np.float32(out.near))
    # RangeInverse: v = 255 would be Far; this file's brightest value is 252
    v = int(out.raw.max())
    dn = v / 255
    far_at_v = out.near * out.far / (out.far - dn * (out.far - out.near))
    assert np.allclose(out.depth[out.raw == v], far_at_v, rtol=1e-6)
    assert out.depth.min() == pytest.approx(out.near, rel=1e-6) and out.depth.max() <= out.far


@pytest.mark.real
def test_google_lens_blur_payloads_are_the_reference_files(real_data):
    folder = real_data / "google_lensblur_depthy"
    props = gdepth._google_depth_properties((folder / "1.jpg").read_bytes())
    assert base64.b64decode(props["GDepth:Data"]) == (folder / "1-depth.png").read_bytes()
    assert base64.b64decode(props["GImage:Data"]) == (folder / "1-image.jpg").read_bytes()
    assert props["GDepth:Format"] == "RangeInverse" and props["GDepth:Mime"] == "image/png"


@pytest.mark.real
def test_apple_portrait_heic(real_data):
    folder = real_data / "apple_portrait_pug"
    out = read_embedded_depth(folder / "pug.heic")
    np.testing.assert_array_equal(out.raw, np.asarray(Image.open(folder / "pug_depth.png")))
    assert out.raw.dtype == np.uint8 and out.depth.shape == (576, 768)
    assert "disparity" in out.source and out.source.startswith("Apple")
    assert out.units == "metres" and out.image is None
    low, high = 1 / 4.3828125, 1 / 1.498046875
    assert out.near == pytest.approx(low) and out.far == pytest.approx(high)
    assert low * (1 - 1e-6) <= out.depth.min() and out.depth.max() <= high * (1 + 1e-6)
    expected = 1.0 / (1.498046875 + out.raw / 255.0 * (4.3828125 - 1.498046875))
    np.testing.assert_allclose(out.depth, expected, rtol=1e-6)
    # brighter = nearer
    assert out.depth[out.raw == 255].max() < out.depth[out.raw == 0].min()
    # IntrinsicMatrix fx = 3032.594 at its 4032 x 3024 reference, which is the photo's size
    assert out.focal_px == pytest.approx(3032.59423828125)


@pytest.mark.real
def test_heic_without_depth_gives_none(real_data):
    assert read_embedded_depth(real_data / "apple_spatial_stereo" / "spatial_photo.heic") is None


def test_heif_depth_representations():
    raw = np.array([[0, 255]], np.uint8)
    depth, near, far, what = heif_depth._heif_depth_from_values(
        raw, {"representation_type": 1, "d_min": 1.0, "d_max": 4.0}
    )
    np.testing.assert_allclose(depth, [[1.0, 0.25]])
    assert (near, far, what) == (0.25, 1.0, "disparity")
    depth, *_ = heif_depth._heif_depth_from_values(raw, {"representation_type": 0, "z_near": 1.0, "z_far": 4.0})
    np.testing.assert_allclose(depth, [[4.0, 1.0]])
    depth, *_ = heif_depth._heif_depth_from_values(raw, {"representation_type": 2, "d_min": 1.0, "d_max": 4.0})
    np.testing.assert_allclose(depth, [[1.0, 4.0]])
    for metadata, words in [
        ({"representation_type": 3}, ("non-uniform",)),
        ({"representation_type": 7}, ("unknown", "7")),
        ({"representation_type": 1}, ("d_min",)),
        ({"representation_type": 1, "d_min": 0.0, "d_max": 2.0}, ("0 < d_min < d_max",)),
    ]:
        with pytest.raises(depth_metadata.CorruptMetadata) as info:
            heif_depth._heif_depth_from_values(raw, metadata)
        assert all(word in str(info.value) for word in words)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_heif_transforms_match_libheif(orientation):
    """Our irot/imir reading (used to turn a depth map like its photo) agrees with libheif's decoding."""
    pillow_heif = pytest.importorskip("pillow_heif")
    rgb = np.zeros((16, 32, 3), np.uint8)
    rgb[:8, :8], rgb[:8, 24:], rgb[8:, :8] = [255, 0, 0], [0, 255, 0], [0, 0, 255]
    exif = Image.Exif()
    exif[0x0112] = orientation  # pillow-heif stores it as irot/imir properties
    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(rgb)).save(buffer, quality=-1, chroma=444, exif=exif.tobytes())
    data = buffer.getvalue()
    decoded = np.asarray(pillow_heif.open_heif(io.BytesIO(data))[0].to_pillow())
    items = heif_depth._heif_items(data)
    ours = heif_depth._apply_transforms(rgb, heif_depth._transforms(items, items.primary))
    assert ours.shape == decoded.shape
    assert np.abs(ours.astype(int) - decoded).max() <= 2
