"""Depth maps that phones store inside the photo file.

Two kinds are read:

* **Google Camera "Lens Blur" JPEG** (the GDepth/GImage XMP format). The XMP
  lives in APP1 segments: a standard XMP packet plus, when it does not fit in
  one 64 KB segment, "extended XMP" chunks keyed by a GUID (the MD5 of the
  extended packet, named by ``xmpNote:HasExtendedXMP``) and reassembled by
  offset. ``GDepth:Data`` is a base64 PNG or JPEG of 8- or 16-bit values
  ``v``; with ``dn = v / max`` (max = 255 or 65535):

  - ``RangeInverse``: ``depth = Near * Far / (Far - dn * (Far - Near))``
  - ``RangeLinear``:  ``depth = Near + dn * (Far - Near)``

  so ``v = 0`` is Near and ``v = max`` is Far in both. The units are those of
  Near and Far: relative (structure from motion) unless ``GDepth:Units`` says
  "m" or "mm". ``GImage:Data`` is the unblurred colour photo, to be used
  instead of the file's (blurred) primary image. Depth and colour are stored
  the way the sensor saw them and turned by the container's EXIF orientation
  (unless the embedded colour JPEG carries its own).

* **HEIC/HEIF with an auxiliary depth image** (iPhone portrait photos), read
  with pillow-heif (libheif). The HEIF depth representation info gives the
  type and range (ISO/IEC 23008-12; ``v / max`` as above):

  - 1, uniform disparity (Apple): ``disparity = d_min + dn * (d_max - d_min)``
    in 1/m, ``depth = 1 / disparity`` in metres;
  - 0, uniform inverse Z: ``1/z = 1/z_far + dn * (1/z_near - 1/z_far)``
    (or ``d_min + dn * (d_max - d_min)`` when only d_min/d_max are stored);
  - 2, uniform Z: ``z = z_near + dn * (z_far - z_near)`` (or d_min/d_max);
  - 3, non-uniform disparity: not supported.

  The Apple XMP attached to the depth item (found by parsing the HEIF boxes
  ourselves; pillow-heif does not expose it) gives the camera intrinsics,
  from which the focal length in pixels at the photo's size is derived.

The depth returned is **planar** depth (see :mod:`photo3d.depth.conversions`), finite and
> 0, at the depth map's own resolution: resample it to the photo with
:func:`photo3d.depth.conversions.resample_depth`.

Every problem with metadata that is present raises
:class:`~photo3d.errors.Photo3DError` with one line that names the file; a
file that simply carries no depth gives None.

>>> near, far = 1.0, 4.0
>>> [round(near * far / (far - dn * (far - near)), 3) for dn in (0.0, 0.5, 1.0)]
[1.0, 1.6, 4.0]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import math
import os
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..camera.intrinsics import aspect_ratios_differ
from ..errors import Photo3DError, one_line
from .image import decode_bytes, exif_orientation, is_heif, read_file, to_rgb8

__all__ = ["EmbeddedDepth", "read_embedded_depth"]

logger = logging.getLogger(__name__)

GDEPTH_NS = "http://ns.google.com/photos/1.0/depthmap/"
GIMAGE_NS = "http://ns.google.com/photos/1.0/image/"
XMP_NOTE_NS = "http://ns.adobe.com/xmp/note/"
APPLE_PIXEL_NS = "http://ns.apple.com/pixeldatainfo/1.0/"
APPLE_DEPTH_NS = "http://ns.apple.com/depthData/1.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

_XMP_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\x00"
_EXTENDED_XMP_SIGNATURE = b"http://ns.adobe.com/xmp/extension/\x00"
_GUID = re.compile(rb"[0-9A-Fa-f]{32}")
_XML_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_HINT = "pass --depth or --depth-model instead"
_HEIF_DEPTH_URNS = ("urn:mpeg:hevc:2015:auxid:2", "urn:mpeg:mpegB:cicp:systems:auxiliary:depth")
_MAX_XMP_ITEM = 16 << 20  # bytes; Apple's depth XMP is ~10 KB


@dataclass
class EmbeddedDepth:
    """A depth map found inside a photo file, converted to planar depth.

    Pixel (row, col) of ``depth`` covers the same part of the scene as the
    same fraction of the photo: the depth map may be smaller than the photo
    but has the same aspect ratio (within 1 %) and orientation.
    """

    depth: np.ndarray
    """(h, w) float32 planar depth, finite and > 0, in ``units``, at the depth map's own resolution."""
    raw: np.ndarray
    """(h, w) uint8 or uint16: the stored values as decoded (channel 0 of an RGB(A) map), before conversion."""
    image: np.ndarray | None
    """(H, W, 3) uint8 RGB to use instead of the file's primary image (Google ``GImage``), or None."""
    source: str
    """Where the depth came from, e.g. "Google GDepth (RangeInverse)", "Apple HEIF auxiliary disparity"."""
    near: float
    """Depth of the nearest representable value (stored value 0 for GDepth), > 0, in ``units``."""
    far: float
    """Depth of the farthest representable value, > ``near``, in ``units``."""
    units: str
    """Either "metres" (HEIF; GDepth with Units m or mm) or "relative" (GDepth: structure-from-motion units)."""
    focal_px: float | None
    """Focal length in pixels at the photo's (primary image's) size, when the file stores intrinsics; else None."""


class _CorruptError(Exception):
    """Raised inside the parsers; turned into a Photo3DError naming the file."""


def read_embedded_depth(path: str | os.PathLike[str]) -> EmbeddedDepth | None:
    """Read the depth map embedded in a phone photo, if there is one.

    Only metadata is parsed until a depth map is known to be present: an
    ordinary JPEG, PNG or HEIC gives None without decoding any pixels.

    Args:
        path: A JPEG (Google Camera Lens Blur, GDepth XMP) or HEIC/HEIF
            (auxiliary depth image, e.g. iPhone portrait mode) file. Other
            files give None.

    Returns:
        The depth map (see :class:`EmbeddedDepth`), or None if the file has no
        embedded depth.

    Raises:
        Photo3DError: If the file cannot be read, or its depth metadata is
            present but broken: malformed XML or XML with DOCTYPE/ENTITY
            declarations, missing or invalid ``GDepth:Format``/``Near``/
            ``Far``/``Data``, bad base64, an undecodable depth or colour
            image, extended XMP that does not reassemble (missing or
            overlapping chunks, wrong total length, GUID mismatch), a HEIF
            file libheif cannot open, an undecodable HEIF depth image, an
            unknown depth representation, or a depth map whose aspect ratio
            differs from the photo's.

    """
    name = os.fspath(path)
    data = read_file(path, "photo")
    try:
        if data.startswith(b"\xff\xd8"):
            return _read_google_depth(data, name)
        if is_heif(data):
            return _read_heif_depth(data, name)
    except _CorruptError as e:
        raise Photo3DError(f"embedded depth in {name} is unusable: {e}; {_HINT}") from None
    return None


# --------------------------------------------------------------------------------------------------------------------
# Google GDepth (JPEG + XMP)
# --------------------------------------------------------------------------------------------------------------------


def _jpeg_app1_segments(data: bytes) -> list[bytes]:
    """Payloads of the APP1 segments of a JPEG, from SOI up to the first SOS.

    A marker structure that breaks off (bad marker, a segment longer than the
    file) ends the scan; an XMP segment that is cut short raises.

    Args:
        data: The JPEG file's bytes (starting with SOI, FF D8).

    Returns:
        The APP1 payloads (after the 2-byte length) in file order.

    Raises:
        _CorruptError: If an XMP segment runs past the end of the file.

    """
    segments = []
    pos, n = 2, len(data)
    while pos + 1 < n:
        if data[pos] != 0xFF:
            logger.debug("JPEG marker structure ends at byte %d (0x%02x, not a marker)", pos, data[pos])
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        pos += 2
        if marker in (0xDA, 0xD9):  # SOS: entropy-coded data follows; EOI
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # TEM, RSTn, SOI: no length
            continue
        if pos + 2 > n:
            break
        length = struct.unpack_from(">H", data, pos)[0]
        if length < 2:
            logger.debug("JPEG segment 0x%02x at byte %d has length %d", marker, pos - 2, length)
            break
        payload = data[pos + 2 : pos + length]
        if pos + length > n:
            if marker == 0xE1 and payload.startswith((_XMP_SIGNATURE[:20], _EXTENDED_XMP_SIGNATURE[:20])):
                raise _CorruptError(f"an XMP segment at byte {pos - 2} runs past the end of the file (truncated)")
            break
        if marker == 0xE1:
            segments.append(payload)
        pos += length
    return segments


def _parse_xml(text: bytes, what: str) -> ET.Element:
    """Parse an XMP packet, refusing DOCTYPE/ENTITY declarations (entity expansion attacks).

    Raises:
        _CorruptError: If the XML declares a DOCTYPE or ENTITY, or is malformed.

    """
    text = text.rstrip(b"\x00 \t\r\n")
    if _XML_DECLARATIONS.search(text):
        raise _CorruptError(f"{what} contains a DOCTYPE or ENTITY declaration, which XMP never needs")
    try:
        return ET.fromstring(text)
    except ET.ParseError as e:
        raise _CorruptError(f"{what} is not well-formed XML ({one_line(e)})") from None
    except (ValueError, LookupError) as e:  # bad encoding declarations
        raise _CorruptError(f"{what} cannot be read as XML ({one_line(e)})") from None


def _xmp_properties(root: ET.Element, namespace: str) -> dict[str, str]:
    """Simple properties of ``namespace`` in an XMP tree, as attributes or as leaf elements.

    Args:
        root: The parsed XMP packet.
        namespace: The namespace URI.

    Returns:
        Local name -> text (stripped), the first occurrence of each name.

    """
    prefix = "{" + namespace + "}"
    props: dict[str, str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith(prefix):
                props.setdefault(key[len(prefix) :], value.strip())
        if isinstance(element.tag, str) and element.tag.startswith(prefix) and len(element) == 0:
            props.setdefault(element.tag[len(prefix) :], (element.text or "").strip())
    return props


def _xmp_sequence(root: ET.Element, namespace: str, local: str) -> list[str] | None:
    """Items of an ``rdf:Seq`` (or ``rdf:Bag``) property, or None if absent."""
    for element in root.iter("{" + namespace + "}" + local):
        return [(li.text or "").strip() for li in element.iter("{" + RDF_NS + "}li")]
    return None


def _extended_xmp(chunks: list[bytes], declared: str | None) -> bytes | None:
    """Reassemble extended XMP from its APP1 chunks.

    Args:
        chunks: APP1 payloads that start with the extended XMP signature.
        declared: ``xmpNote:HasExtendedXMP`` of the standard XMP, or None.

    Returns:
        The extended XMP packet, or None if there is none.

    Raises:
        _CorruptError: If a chunk header is malformed, the GUIDs do not match
            the declared one, chunks are missing or overlap, or the total
            length is wrong.

    """
    parts: dict[str, list[tuple[int, int, bytes]]] = {}
    for chunk in chunks:
        body = chunk[len(_EXTENDED_XMP_SIGNATURE) :]
        if len(body) < 40 or not _GUID.fullmatch(body[:32]):
            raise _CorruptError("an extended XMP segment has a malformed header (GUID, length, offset)")
        full, offset = struct.unpack_from(">II", body, 32)
        parts.setdefault(body[:32].decode("ascii").upper(), []).append((offset, full, body[40:]))
    if not parts:
        if declared:
            raise _CorruptError(f"xmpNote:HasExtendedXMP names {declared} but the file has no extended XMP segment")
        return None
    if declared:
        guid = declared.upper()
        if guid not in parts:
            found = ", ".join(sorted(parts))
            raise _CorruptError(f"extended XMP GUID {found} does not match xmpNote:HasExtendedXMP {declared}")
    elif len(parts) == 1:
        guid = next(iter(parts))
    else:
        raise _CorruptError(f"extended XMP has {len(parts)} different GUIDs and no xmpNote:HasExtendedXMP")
    pieces = sorted(parts[guid], key=lambda p: p[0])
    total = pieces[0][1]
    if any(full != total for _, full, _ in pieces):
        raise _CorruptError("extended XMP segments disagree on the total length")
    position = 0
    for offset, _, piece in pieces:
        if offset != position:
            what = "missing" if offset > position else "overlapping"
            raise _CorruptError(f"extended XMP has {what} data at byte {min(offset, position)} of {total}")
        position += len(piece)
    if position != total:
        raise _CorruptError(f"extended XMP is {position} bytes but its segments say {total} (missing chunks)")
    packet = b"".join(piece for _, _, piece in pieces)
    if hashlib.md5(packet).hexdigest().upper() != guid:  # noqa: S324 - the XMP spec's GUID, not security
        logger.warning("extended XMP GUID %s is not the MD5 of its content; reading it anyway", guid)
    return packet


def _google_depth_properties(data: bytes) -> dict[str, str] | None:
    """GDepth and GImage XMP properties of a JPEG, keyed "GDepth:Near", "GImage:Data", ...

    Standard XMP properties come first: where both packets give a property,
    the standard one is kept.

    Args:
        data: The JPEG file's bytes.

    Returns:
        The properties, or None if no XMP mentions the GDepth namespace.

    Raises:
        _CorruptError: If the XMP is present but broken (see :func:`_extended_xmp`, :func:`_parse_xml`).

    """
    segments = _jpeg_app1_segments(data)
    standard = [s[len(_XMP_SIGNATURE) :] for s in segments if s.startswith(_XMP_SIGNATURE)]
    chunks = [s for s in segments if s.startswith(_EXTENDED_XMP_SIGNATURE)]
    namespace = GDEPTH_NS.encode()
    if not any(namespace in s for s in standard) and namespace not in b"".join(chunks):
        return None
    if len(standard) > 1:
        logger.warning("the JPEG has %d standard XMP segments; using the first", len(standard))
    roots = []
    declared = None
    if standard:
        root = _parse_xml(standard[0], "the XMP packet")
        roots.append(root)
        declared = _xmp_properties(root, XMP_NOTE_NS).get("HasExtendedXMP") or None
    extended = _extended_xmp(chunks, declared)
    if extended is not None:
        roots.append(_parse_xml(extended, "the extended XMP packet"))
    props: dict[str, str] = {}
    for root in roots:
        for prefix, ns in (("GDepth", GDEPTH_NS), ("GImage", GIMAGE_NS)):
            for key, value in _xmp_properties(root, ns).items():
                props.setdefault(f"{prefix}:{key}", value)
    return props


def _float_property(props: dict[str, str], key: str) -> float:
    text = props.get(key)
    if text is None:
        raise _CorruptError(f"{key} is missing")
    try:
        value = float(text)
    except ValueError:
        raise _CorruptError(f"{key} is {text[:40]!r}, not a number") from None
    if not math.isfinite(value):
        raise _CorruptError(f"{key} is {text[:40]!r}, not a finite number")
    return value


def _base64_property(props: dict[str, str], key: str) -> bytes:
    text = props.get(key)
    if not text:
        raise _CorruptError(f"{key} is missing or empty")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise _CorruptError(f"{key} is not valid base64 ({one_line(e)})") from None


def _container_view(data: bytes) -> tuple[int, tuple[int, int] | None]:
    """EXIF orientation of a JPEG and its displayed (width, height); (1, None) if Pillow cannot open it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            orientation = exif_orientation(image)
            width, height = image.size
    except Exception as e:  # a broken primary image is load_image's business
        logger.debug("cannot open the primary JPEG (%s)", one_line(e))
        return 1, None
    return orientation, ((height, width) if orientation >= 5 else (width, height))


def _depth_values(pixels: np.ndarray, label: str) -> np.ndarray:
    """(h, w) uint8/uint16 stored depth values from decoded depth-map pixels (channel 0 of colour)."""
    if pixels.ndim == 3:
        if pixels.shape[2] >= 3 and not (
            np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])
        ):
            logger.warning("%s has different colour channels; using channel 0 (red)", label)
        pixels = pixels[..., 0]
    if pixels.dtype == np.int32:  # Pillow mode "I"
        if pixels.min() < 0 or pixels.max() > 65535:
            raise _CorruptError(f"{label} has 32-bit values; expected 8 or 16 bits")
        pixels = pixels.astype(np.uint16)
    if pixels.dtype not in (np.uint8, np.uint16):
        raise _CorruptError(f"{label} has {pixels.dtype} values; expected 8 or 16 bits")
    return np.ascontiguousarray(pixels)


def _normalised(raw: np.ndarray) -> np.ndarray:
    """``raw / max`` in float64, max = 255 (uint8) or 65535 (uint16)."""
    return raw.astype(np.float64) / float(np.iinfo(raw.dtype).max)


def _check_aspect(depth_size: tuple[int, int], photo_size: tuple[int, int], what: str) -> None:
    """Raise if a (w, h) depth map does not have the (w, h) photo's aspect ratio within 1 %."""
    (w, h), (pw, ph) = depth_size, photo_size
    if aspect_ratios_differ(w, h, pw, ph):
        raise _CorruptError(f"the depth map is {w}x{h} but {what} is {pw}x{ph}: their aspect ratios differ")


_GOOGLE_UNITS = {"m": 1.0, "meters": 1.0, "metres": 1.0, "mm": 1e-3, "millimeters": 1e-3, "millimetres": 1e-3}


def _read_google_depth(data: bytes, name: str) -> EmbeddedDepth | None:
    """Read a Google Camera Lens Blur JPEG (GDepth/GImage XMP); None if it has no GDepth XMP."""
    props = _google_depth_properties(data)
    if props is None:
        return None
    if "GDepth:Data" not in props and "GDepth:Format" not in props:
        logger.debug("%s mentions the GDepth namespace but has no GDepth:Data or Format", name)
        return None
    fmt = props.get("GDepth:Format")
    if fmt is None:
        raise _CorruptError("GDepth:Format is missing")
    if fmt not in ("RangeInverse", "RangeLinear"):
        raise _CorruptError(f"GDepth:Format is {fmt[:40]!r}; expected RangeInverse or RangeLinear")
    near = _float_property(props, "GDepth:Near")
    far = _float_property(props, "GDepth:Far")
    if not 0.0 < near < far:
        raise _CorruptError(f"GDepth:Near ({near:g}) and GDepth:Far ({far:g}) must satisfy 0 < Near < Far")
    depth_bytes = _base64_property(props, "GDepth:Data")
    mime = props.get("GDepth:Mime", "")
    if mime and mime not in ("image/png", "image/jpeg"):
        raise _CorruptError(f"GDepth:Mime is {mime[:40]!r}; expected image/png or image/jpeg")
    if not depth_bytes.startswith((b"\x89PNG", b"\xff\xd8")):
        raise _CorruptError("GDepth:Data is neither a PNG nor a JPEG")

    orientation, primary_size = _container_view(data)
    try:
        pixels = decode_bytes(depth_bytes, "depth map", "GDepth:Data", default_orientation=orientation)
    except Photo3DError as e:
        raise _CorruptError(str(e)) from None
    raw = _depth_values(pixels, "the GDepth depth map")

    image = None
    if "GImage:Data" in props:
        image_bytes = _base64_property(props, "GImage:Data")
        try:
            pixels = decode_bytes(image_bytes, "colour image", "GImage:Data", default_orientation=orientation)
            image = to_rgb8(pixels, "colour image GImage:Data")
        except Photo3DError as e:
            raise _CorruptError(str(e)) from None
    colour_size = (image.shape[1], image.shape[0]) if image is not None else primary_size
    if colour_size is not None:
        _check_aspect((raw.shape[1], raw.shape[0]), colour_size, "the colour image")

    scale, units = 1.0, "relative"
    unit_text = props.get("GDepth:Units", "").strip().lower()
    if unit_text in _GOOGLE_UNITS:
        scale, units = _GOOGLE_UNITS[unit_text], "metres"
    elif unit_text:
        logger.info("%s: GDepth:Units %r not understood; depth is taken as relative", name, unit_text)
    dn = _normalised(raw)
    if fmt == "RangeInverse":
        depth = near * far / (far - dn * (far - near))
    else:
        depth = near + dn * (far - near)
    depth32 = (depth * scale).astype(np.float32)
    if not (np.isfinite(depth32).all() and (depth32 > 0).all()):
        raise _CorruptError(f"GDepth:Near/Far ({near:g}, {far:g}) give depths outside float32's range")
    logger.info(
        "%s: Google GDepth %s depth map %dx%d (%s), Near %g, Far %g",
        name,
        fmt,
        raw.shape[1],
        raw.shape[0],
        raw.dtype,
        near,
        far,
    )
    return EmbeddedDepth(
        depth=depth32,
        raw=raw,
        image=image,
        source=f"Google GDepth ({fmt})",
        near=near * scale,
        far=far * scale,
        units=units,
        focal_px=None,
    )


# --------------------------------------------------------------------------------------------------------------------
# HEIF (ISO BMFF boxes, parsed here only for what pillow-heif does not expose)
# --------------------------------------------------------------------------------------------------------------------


class _Reader:
    """Bounds-checked big-endian reads from ``data[pos:end]``."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, min(end, len(data))

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise _CorruptError(f"a HEIF box is truncated at byte {self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big") if n else 0

    def cstring(self) -> str:
        stop = self.data.find(b"\x00", self.pos, self.end)
        if stop < 0:
            raise _CorruptError(f"a HEIF string at byte {self.pos} is not terminated")
        text = self.data[self.pos : stop].decode("utf-8", "replace")
        self.pos = stop + 1
        return text


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload start, payload end) of the boxes in ``data[start:end]``.

    Raises:
        _CorruptError: If a box header is malformed or a box runs past its parent.

    """
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise _CorruptError(f"HEIF box {kind!r} at byte {pos} is truncated")
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise _CorruptError(f"HEIF box {kind!r} at byte {pos} runs past its container")
        yield kind, pos + header, pos + size
        pos += size


@dataclass
class _HeifItems:
    """What :func:`_heif_items` reads from the ``meta`` box."""

    primary: int | None
    mime: dict[int, str]  # item id -> content type of "mime" items
    locations: dict[int, tuple[int, int, list[tuple[int, int]]]]  # id -> (construction method, base, [(off, len)])
    references: list[tuple[bytes, int, int]]  # (type, from id, to id)
    properties: dict[int, list[tuple[bytes, bytes]]]  # id -> [(property type, payload)] in association order
    idat: tuple[int, int] | None  # payload start, end


def _heif_items(data: bytes) -> _HeifItems:
    """Parse the top-level ``meta`` box of a HEIF file (items, locations, references, properties).

    Raises:
        _CorruptError: If a box is malformed, or there is no ``meta`` box.

    """
    meta = next(((s, e) for kind, s, e in _boxes(data, 0, len(data)) if kind == b"meta"), None)
    if meta is None:
        raise _CorruptError("the HEIF file has no meta box")
    items = _HeifItems(None, {}, {}, [], {}, None)
    ipco: list[tuple[bytes, bytes]] = []
    associations: list[tuple[int, list[int]]] = []
    for kind, start, end in _boxes(data, meta[0] + 4, meta[1]):
        r = _Reader(data, start, end)
        if kind == b"pitm":
            version = r.uint(1)
            r.take(3)
            items.primary = r.uint(2 if version == 0 else 4)
        elif kind == b"iinf":
            version = r.uint(1)
            r.take(3)
            r.take(2 if version == 0 else 4)
            for sub, s, e in _boxes(data, r.pos, end):
                if sub != b"infe":
                    continue
                q = _Reader(data, s, e)
                infe_version = q.uint(1)
                q.take(3)
                if infe_version < 2:
                    continue
                item_id = q.uint(2 if infe_version == 2 else 4)
                q.take(2)
                item_type = q.take(4)
                q.cstring()
                if item_type == b"mime":
                    items.mime[item_id] = q.cstring()
        elif kind == b"iloc":
            _parse_iloc(r, items)
        elif kind == b"iref":
            version = r.uint(1)
            r.take(3)
            width = 2 if version == 0 else 4
            for sub, s, e in _boxes(data, r.pos, end):
                q = _Reader(data, s, e)
                source = q.uint(width)
                for _ in range(q.uint(2)):
                    items.references.append((sub, source, q.uint(width)))
        elif kind == b"iprp":
            for sub, s, e in _boxes(data, start, end):
                if sub == b"ipco":
                    ipco.extend((k, data[ps:pe]) for k, ps, pe in _boxes(data, s, e))
                elif sub == b"ipma":
                    associations.extend(_parse_ipma(_Reader(data, s, e)))
        elif kind == b"idat":
            items.idat = (start, end)
    for item_id, indices in associations:
        props = items.properties.setdefault(item_id, [])
        for index in indices:
            if not 1 <= index <= len(ipco):
                raise _CorruptError(f"HEIF item {item_id} refers to property {index} of {len(ipco)}")
            props.append(ipco[index - 1])
    return items


def _parse_iloc(r: _Reader, items: _HeifItems) -> None:
    """Read an ``iloc`` box payload into ``items.locations``."""
    version = r.uint(1)
    r.take(3)
    if version > 2:
        raise _CorruptError(f"HEIF iloc box has unknown version {version}")
    sizes = r.uint(1)
    offset_size, length_size = sizes >> 4, sizes & 15
    sizes = r.uint(1)
    base_offset_size, index_size = sizes >> 4, (sizes & 15 if version in (1, 2) else 0)
    if any(s not in (0, 4, 8) for s in (offset_size, length_size, base_offset_size, index_size)):
        raise _CorruptError("HEIF iloc box has invalid field sizes")
    for _ in range(r.uint(2 if version < 2 else 4)):
        item_id = r.uint(2 if version < 2 else 4)
        method = r.uint(2) & 15 if version in (1, 2) else 0
        r.take(2)  # data_reference_index
        base = r.uint(base_offset_size)
        extents = []
        for _ in range(r.uint(2)):
            r.take(index_size)
            extents.append((r.uint(offset_size), r.uint(length_size)))
        items.locations[item_id] = (method, base, extents)


def _parse_ipma(r: _Reader) -> list[tuple[int, list[int]]]:
    """Read an ``ipma`` box payload: [(item id, [property index (1-based)])]."""
    version = r.uint(1)
    flags = r.uint(3)
    out = []
    for _ in range(r.uint(4)):
        item_id = r.uint(2 if version < 1 else 4)
        indices = []
        for _ in range(r.uint(1)):
            indices.append(r.uint(2) & 0x7FFF if flags & 1 else r.uint(1) & 0x7F)
        out.append((item_id, [i for i in indices if i]))
    return out


def _item_data(data: bytes, items: _HeifItems, item_id: int) -> bytes:
    """The bytes of a HEIF item (file offsets or ``idat``), at most 16 MB.

    Raises:
        _CorruptError: If the item has no location, its extents lie outside the file, or it is too large.

    """
    if item_id not in items.locations:
        raise _CorruptError(f"HEIF item {item_id} has no location")
    method, base, extents = items.locations[item_id]
    if method == 0:
        start, end = 0, len(data)
    elif method == 1 and items.idat is not None:
        start, end = items.idat
    else:
        raise _CorruptError(f"HEIF item {item_id} uses an unsupported construction method {method}")
    parts = []
    total = 0
    for offset, length in extents:
        a = start + base + offset
        b = end if length == 0 else a + length
        if a > end or b > end or b - a > _MAX_XMP_ITEM - total:
            raise _CorruptError(f"HEIF item {item_id} lies outside the file or is too large")
        parts.append(data[a:b])
        total += b - a
    return b"".join(parts)


def _depth_items(items: _HeifItems) -> list[int]:
    """Ids of auxiliary depth images (auxC depth URN), those linked to the primary image first."""
    ids = []
    for item_id, props in items.properties.items():
        for kind, payload in props:
            if kind == b"auxC" and len(payload) > 4:
                urn = payload[4:].split(b"\x00", 1)[0].decode("utf-8", "replace")
                if urn in _HEIF_DEPTH_URNS:
                    ids.append(item_id)
    linked = {src for kind, src, dst in items.references if kind == b"auxl" and dst == items.primary}
    return sorted(ids, key=lambda i: (i not in linked, i))


def _transforms(items: _HeifItems, item_id: int | None) -> list[tuple[str, int]]:
    """The ``irot`` (degrees anticlockwise) and ``imir`` (axis) transformations of an item, in order."""
    out = []
    for kind, payload in items.properties.get(item_id, []) if item_id is not None else []:
        if kind == b"irot" and payload:
            out.append(("irot", (payload[0] & 3) * 90))
        elif kind == b"imir" and payload:
            out.append(("imir", payload[0] & 1))
    return out


def _apply_transforms(pixels: np.ndarray, transforms: list[tuple[str, int]]) -> np.ndarray:
    """Apply HEIF transformations as libheif does: irot turns anticlockwise; imir 0 flips top-bottom, 1 left-right."""
    for kind, value in transforms:
        if kind == "irot":
            pixels = np.rot90(pixels, value // 90)
        else:
            pixels = pixels[:, ::-1] if value else pixels[::-1]
    return np.ascontiguousarray(pixels)


@dataclass
class _AppleDepthInfo:
    """What the Apple XMP of a HEIF depth item says (all optional)."""

    xmp: ET.Element | None
    transforms_primary: list[tuple[str, int]]
    transforms_depth: list[tuple[str, int]]


def _apple_depth_info(data: bytes, name: str) -> _AppleDepthInfo:
    """Find the XMP and transformations of the depth item by parsing the HEIF boxes.

    Nothing here is needed to read the depth itself, so a problem is logged and
    an empty result returned.
    """
    try:
        items = _heif_items(data)
        depth_ids = _depth_items(items)
        if not depth_ids:
            return _AppleDepthInfo(None, [], [])
        depth_id = depth_ids[0]
        info = _AppleDepthInfo(None, _transforms(items, items.primary), _transforms(items, depth_id))
        for kind, source, target in items.references:
            if kind == b"cdsc" and target == depth_id and items.mime.get(source, "").startswith("application/rdf+xml"):
                info.xmp = _parse_xml(_item_data(data, items, source), "the depth image's XMP")
                break
        return info
    except _CorruptError as e:
        logger.warning("%s: cannot read the depth image's XMP (%s); focal length unknown", name, e)
        return _AppleDepthInfo(None, [], [])


def _apple_focal_px(xmp: ET.Element | None, photo_size: tuple[int, int], name: str) -> float | None:
    """Fx of Apple's depthData:IntrinsicMatrix, scaled from its reference size to the (w, h) photo; else None."""
    if xmp is None:
        return None
    matrix = _xmp_sequence(xmp, APPLE_DEPTH_NS, "IntrinsicMatrix")
    props = _xmp_properties(xmp, APPLE_DEPTH_NS)
    try:
        fx = float(matrix[0]) if matrix and len(matrix) == 9 else math.nan
        ref_w = float(props.get("IntrinsicMatrixReferenceWidth", "nan"))
        ref_h = float(props.get("IntrinsicMatrixReferenceHeight", "nan"))
    except ValueError:
        fx = ref_w = ref_h = math.nan
    if not all(math.isfinite(v) and v > 0 for v in (fx, ref_w, ref_h)):
        if matrix is not None:
            logger.warning("%s: the depth XMP's IntrinsicMatrix or its reference size is unusable", name)
        return None
    w, h = photo_size
    if not aspect_ratios_differ(w, h, ref_w, ref_h):
        return fx * w / ref_w
    if not aspect_ratios_differ(h, w, ref_w, ref_h):  # photo turned by 90 degrees
        return fx * h / ref_w
    logger.warning("%s: intrinsics reference %gx%g does not match the photo %dx%d", name, ref_w, ref_h, w, h)
    return None


_REPRESENTATIONS = {0: "inverse depth", 1: "disparity", 2: "depth", 3: "non-uniform disparity"}


def _heif_metadata_value(metadata: dict, key: str) -> float | None:
    value = metadata.get(key)
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise _CorruptError(f"depth representation {key} is {value!r}, not a number") from None
    if not math.isfinite(value):
        raise _CorruptError(f"depth representation {key} is {value}, not a finite number")
    return value


def _heif_depth_from_values(raw: np.ndarray, metadata: dict) -> tuple[np.ndarray, float, float, str]:
    """Planar depth from stored HEIF depth values and the depth representation info.

    Args:
        raw: (h, w) uint8 or uint16 stored values.
        metadata: pillow-heif's ``info["metadata"]`` of the depth image
            (representation_type, d_min, d_max, z_near, z_far).

    Returns:
        (depth (h, w) float32, near, far, what the values are).

    Raises:
        _CorruptError: If the representation is unknown or non-uniform, or its range is missing or invalid.

    """
    kind = metadata.get("representation_type")
    if kind not in _REPRESENTATIONS:
        raise _CorruptError(f"unknown depth representation type {kind!r} (expected 0, 1 or 2)")
    if kind == 3:
        raise _CorruptError("non-uniform disparity (HEIF depth representation 3) is not supported")
    d_min, d_max = _heif_metadata_value(metadata, "d_min"), _heif_metadata_value(metadata, "d_max")
    z_near, z_far = _heif_metadata_value(metadata, "z_near"), _heif_metadata_value(metadata, "z_far")
    dn = _normalised(raw)
    if kind == 1 or (kind == 0 and (z_near is None or z_far is None)):
        # disparity (1/m) or inverse depth, stored as d_min .. d_max
        if d_min is None or d_max is None:
            raise _CorruptError(f"the {_REPRESENTATIONS[kind]} map has no d_min/d_max range")
        if not 0.0 < d_min < d_max:
            raise _CorruptError(f"d_min ({d_min:g}) and d_max ({d_max:g}) must satisfy 0 < d_min < d_max")
        depth = 1.0 / (d_min + dn * (d_max - d_min))
        near, far = 1.0 / d_max, 1.0 / d_min
    elif kind == 0:
        if not 0.0 < z_near < z_far:
            raise _CorruptError(f"z_near ({z_near:g}) and z_far ({z_far:g}) must satisfy 0 < z_near < z_far")
        depth = 1.0 / (1.0 / z_far + dn * (1.0 / z_near - 1.0 / z_far))
        near, far = z_near, z_far
    else:
        low, high = (z_near, z_far) if z_near is not None and z_far is not None else (d_min, d_max)
        if low is None or high is None:
            raise _CorruptError("the depth map has neither z_near/z_far nor d_min/d_max")
        if not 0.0 < low < high:
            raise _CorruptError(f"the depth range ({low:g}, {high:g}) must satisfy 0 < near < far")
        depth = low + dn * (high - low)
        near, far = low, high
    depth32 = depth.astype(np.float32)
    if not (np.isfinite(depth32).all() and (depth32 > 0).all()):
        raise _CorruptError("the depth range gives depths outside float32's range")
    return depth32, near, far, _REPRESENTATIONS[kind]


def _read_heif_depth(data: bytes, name: str) -> EmbeddedDepth | None:
    """Read the auxiliary depth image of a HEIC/HEIF file; None if it has none."""
    try:
        import pillow_heif
    except ImportError:
        raise Photo3DError(
            f"photo {name} is HEIC/HEIF, which needs pillow-heif: pip install pillow-heif "
            "(or convert the photo to JPEG or PNG)"
        ) from None
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data))
        primary = heif[heif.primary_index]
        photo_size = tuple(primary.size)
        depth_images = list(primary.info.get("depth_images") or [])
    except Exception as e:  # libheif reports damage with ValueError, EOFError, SyntaxError, RuntimeError ...
        raise Photo3DError(f"photo {name} is a HEIF file that libheif cannot open ({one_line(e)})") from None
    if not depth_images:
        return None
    if len(depth_images) > 1:
        logger.warning("%s has %d depth images; using the first", name, len(depth_images))
    depth_image = depth_images[0]
    metadata = depth_image.info.get("metadata")
    if not isinstance(metadata, dict):
        raise _CorruptError("the HEIF depth image has no depth representation info")
    try:
        with depth_image.to_pillow() as pil:
            mode = pil.mode
            pixels = np.asarray(pil)
    except Exception as e:
        raise _CorruptError(f"the HEIF depth image cannot be decoded ({one_line(e)})") from None
    if pixels.ndim != 2 or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise _CorruptError(f"the HEIF depth image has mode {mode} and shape {pixels.shape}; expected grey")
    raw = _depth_values(pixels, "the HEIF depth image")

    info = _apple_depth_info(data, name)
    if info.transforms_primary and not info.transforms_depth:
        raw = _apply_transforms(raw, info.transforms_primary)  # libheif turned the photo, not the depth
    _check_aspect((raw.shape[1], raw.shape[0]), photo_size, "the photo")
    depth, near, far, what = _heif_depth_from_values(raw, metadata)
    apple = info.xmp is not None and bool(
        _xmp_properties(info.xmp, APPLE_PIXEL_NS) or _xmp_properties(info.xmp, APPLE_DEPTH_NS)
    )
    source = f"{'Apple ' if apple else ''}HEIF auxiliary {what}"
    focal_px = _apple_focal_px(info.xmp, photo_size, name)
    logger.info(
        "%s: %s %dx%d (%s), depth %.3g..%.3g m%s",
        name,
        source,
        raw.shape[1],
        raw.shape[0],
        raw.dtype,
        near,
        far,
        f", focal {focal_px:.1f} px" if focal_px else "",
    )
    return EmbeddedDepth(
        depth=depth,
        raw=raw,
        image=None,
        source=source,
        near=near,
        far=far,
        units="metres",
        focal_px=focal_px,
    )
