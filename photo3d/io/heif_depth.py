"""Depth in HEIC/HEIF photos with an auxiliary depth image (iPhone portrait photos).

The depth image is read with pillow-heif (libheif). The HEIF depth representation info gives the
type and range (ISO/IEC 23008-12; with ``dn = v / max``, max = 255 or 65535, for stored values ``v``):

- 1, uniform disparity (Apple): ``disparity = d_min + dn * (d_max - d_min)``
  in 1/m, ``depth = 1 / disparity`` in metres;
- 0, uniform inverse Z: ``1/z = 1/z_far + dn * (1/z_near - 1/z_far)``
  (or ``d_min + dn * (d_max - d_min)`` when only d_min/d_max are stored);
- 2, uniform Z: ``z = z_near + dn * (z_far - z_near)`` (or d_min/d_max);
- 3, non-uniform disparity: not supported.

The Apple XMP attached to the depth item (found by parsing the HEIF boxes
ourselves; pillow-heif does not expose it) gives the camera intrinsics,
from which the focal length in pixels at the photo's size is derived.
"""

from __future__ import annotations

import io
import logging
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..camera.intrinsics import aspect_ratios_differ
from ..errors import Photo3DError, one_line
from .depth_metadata import (
    CorruptMetadata,
    EmbeddedDepth,
    check_depth_aspect,
    normalised,
    parse_xml,
    stored_depth_values,
    xmp_properties,
    xmp_sequence,
)

__all__ = ["APPLE_DEPTH_NS", "APPLE_PIXEL_NS", "read_heif_depth"]

logger = logging.getLogger(__name__)

APPLE_PIXEL_NS = "http://ns.apple.com/pixeldatainfo/1.0/"


APPLE_DEPTH_NS = "http://ns.apple.com/depthData/1.0/"


_HEIF_DEPTH_URNS = ("urn:mpeg:hevc:2015:auxid:2", "urn:mpeg:mpegB:cicp:systems:auxiliary:depth")


_MAX_XMP_ITEM = 16 << 20  # bytes; Apple's depth XMP is ~10 KB


class _Reader:
    """Bounds-checked big-endian reads from ``data[pos:end]``."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, min(end, len(data))

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise CorruptMetadata(f"a HEIF box is truncated at byte {self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big") if n else 0

    def cstring(self) -> str:
        stop = self.data.find(b"\x00", self.pos, self.end)
        if stop < 0:
            raise CorruptMetadata(f"a HEIF string at byte {self.pos} is not terminated")
        text = self.data[self.pos : stop].decode("utf-8", "replace")
        self.pos = stop + 1
        return text


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload start, payload end) of the boxes in ``data[start:end]``.

    Raises:
        CorruptMetadata: If a box header is malformed or a box runs past its parent.

    """
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise CorruptMetadata(f"HEIF box {kind!r} at byte {pos} is truncated")
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise CorruptMetadata(f"HEIF box {kind!r} at byte {pos} runs past its container")
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
        CorruptMetadata: If a box is malformed, or there is no ``meta`` box.

    """
    meta = next(((s, e) for kind, s, e in _boxes(data, 0, len(data)) if kind == b"meta"), None)
    if meta is None:
        raise CorruptMetadata("the HEIF file has no meta box")
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
            _parse_iinf(r, items)
        elif kind == b"iloc":
            _parse_iloc(r, items)
        elif kind == b"iref":
            _parse_iref(r, items)
        elif kind == b"iprp":
            _parse_iprp(data, start, end, ipco, associations)
        elif kind == b"idat":
            items.idat = (start, end)
    _associate_properties(items, ipco, associations)
    return items


def _parse_iinf(r: _Reader, items: _HeifItems) -> None:
    """Read an ``iinf`` box payload: the content types of its ``mime`` items into ``items.mime``."""
    version = r.uint(1)
    r.take(3)
    r.take(2 if version == 0 else 4)
    for sub, s, e in _boxes(r.data, r.pos, r.end):
        if sub != b"infe":
            continue
        q = _Reader(r.data, s, e)
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


def _parse_iref(r: _Reader, items: _HeifItems) -> None:
    """Read an ``iref`` box payload into ``items.references``."""
    version = r.uint(1)
    r.take(3)
    width = 2 if version == 0 else 4
    for sub, s, e in _boxes(r.data, r.pos, r.end):
        q = _Reader(r.data, s, e)
        source = q.uint(width)
        for _ in range(q.uint(2)):
            items.references.append((sub, source, q.uint(width)))


def _parse_iprp(
    data: bytes, start: int, end: int, ipco: list[tuple[bytes, bytes]], associations: list[tuple[int, list[int]]]
) -> None:
    """Append the properties (``ipco``) and item associations (``ipma``) of an ``iprp`` box to the lists."""
    for sub, s, e in _boxes(data, start, end):
        if sub == b"ipco":
            ipco.extend((k, data[ps:pe]) for k, ps, pe in _boxes(data, s, e))
        elif sub == b"ipma":
            associations.extend(_parse_ipma(_Reader(data, s, e)))


def _associate_properties(
    items: _HeifItems, ipco: list[tuple[bytes, bytes]], associations: list[tuple[int, list[int]]]
) -> None:
    """Fill ``items.properties`` from the ``ipma`` associations (1-based indices into ``ipco``)."""
    for item_id, indices in associations:
        props = items.properties.setdefault(item_id, [])
        for index in indices:
            if not 1 <= index <= len(ipco):
                raise CorruptMetadata(f"HEIF item {item_id} refers to property {index} of {len(ipco)}")
            props.append(ipco[index - 1])


def _parse_iloc(r: _Reader, items: _HeifItems) -> None:
    """Read an ``iloc`` box payload into ``items.locations``."""
    version = r.uint(1)
    r.take(3)
    if version > 2:
        raise CorruptMetadata(f"HEIF iloc box has unknown version {version}")
    sizes = r.uint(1)
    offset_size, length_size = sizes >> 4, sizes & 15
    sizes = r.uint(1)
    base_offset_size, index_size = sizes >> 4, (sizes & 15 if version in (1, 2) else 0)
    if any(s not in (0, 4, 8) for s in (offset_size, length_size, base_offset_size, index_size)):
        raise CorruptMetadata("HEIF iloc box has invalid field sizes")
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
        CorruptMetadata: If the item has no location, its extents lie outside the file, or it is too large.

    """
    if item_id not in items.locations:
        raise CorruptMetadata(f"HEIF item {item_id} has no location")
    method, base, extents = items.locations[item_id]
    if method == 0:
        start, end = 0, len(data)
    elif method == 1 and items.idat is not None:
        start, end = items.idat
    else:
        raise CorruptMetadata(f"HEIF item {item_id} uses an unsupported construction method {method}")
    parts = []
    total = 0
    for offset, length in extents:
        a = start + base + offset
        b = end if length == 0 else a + length
        if a > end or b > end or b - a > _MAX_XMP_ITEM - total:
            raise CorruptMetadata(f"HEIF item {item_id} lies outside the file or is too large")
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
                info.xmp = parse_xml(_item_data(data, items, source), "the depth image's XMP")
                break
        return info
    except CorruptMetadata as e:
        logger.warning("%s: cannot read the depth image's XMP (%s); focal length unknown", name, e)
        return _AppleDepthInfo(None, [], [])


def _apple_focal_px(xmp: ET.Element | None, photo_size: tuple[int, int], name: str) -> float | None:
    """Fx of Apple's depthData:IntrinsicMatrix, scaled from its reference size to the (w, h) photo; else None."""
    if xmp is None:
        return None
    matrix = xmp_sequence(xmp, APPLE_DEPTH_NS, "IntrinsicMatrix")
    props = xmp_properties(xmp, APPLE_DEPTH_NS)
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
        raise CorruptMetadata(f"depth representation {key} is {value!r}, not a number") from None
    if not math.isfinite(value):
        raise CorruptMetadata(f"depth representation {key} is {value}, not a finite number")
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
        CorruptMetadata: If the representation is unknown or non-uniform, or its range is missing or invalid.

    """
    kind = metadata.get("representation_type")
    if kind not in _REPRESENTATIONS:
        raise CorruptMetadata(f"unknown depth representation type {kind!r} (expected 0, 1 or 2)")
    if kind == 3:
        raise CorruptMetadata("non-uniform disparity (HEIF depth representation 3) is not supported")
    d_min, d_max = _heif_metadata_value(metadata, "d_min"), _heif_metadata_value(metadata, "d_max")
    z_near, z_far = _heif_metadata_value(metadata, "z_near"), _heif_metadata_value(metadata, "z_far")
    dn = normalised(raw)
    if kind == 1 or (kind == 0 and (z_near is None or z_far is None)):
        # disparity (1/m) or inverse depth, stored as d_min .. d_max
        if d_min is None or d_max is None:
            raise CorruptMetadata(f"the {_REPRESENTATIONS[kind]} map has no d_min/d_max range")
        if not 0.0 < d_min < d_max:
            raise CorruptMetadata(f"d_min ({d_min:g}) and d_max ({d_max:g}) must satisfy 0 < d_min < d_max")
        depth = 1.0 / (d_min + dn * (d_max - d_min))
        near, far = 1.0 / d_max, 1.0 / d_min
    elif kind == 0:
        assert z_near is not None and z_far is not None  # else the branch above
        if not 0.0 < z_near < z_far:
            raise CorruptMetadata(f"z_near ({z_near:g}) and z_far ({z_far:g}) must satisfy 0 < z_near < z_far")
        depth = 1.0 / (1.0 / z_far + dn * (1.0 / z_near - 1.0 / z_far))
        near, far = z_near, z_far
    else:
        low, high = (z_near, z_far) if z_near is not None and z_far is not None else (d_min, d_max)
        if low is None or high is None:
            raise CorruptMetadata("the depth map has neither z_near/z_far nor d_min/d_max")
        if not 0.0 < low < high:
            raise CorruptMetadata(f"the depth range ({low:g}, {high:g}) must satisfy 0 < near < far")
        depth = low + dn * (high - low)
        near, far = low, high
    depth32 = depth.astype(np.float32)
    if not (np.isfinite(depth32).all() and (depth32 > 0).all()):
        raise CorruptMetadata("the depth range gives depths outside float32's range")
    return depth32, near, far, _REPRESENTATIONS[kind]


def read_heif_depth(data: bytes, name: str) -> EmbeddedDepth | None:
    """Read the auxiliary depth image of a HEIC/HEIF file (e.g. an iPhone portrait photo).

    Args:
        data: The HEIF file's bytes.
        name: The file's name, for messages.

    Returns:
        The depth (planar metres, finite, > 0, at the depth image's own size, turned as the photo),
        with the focal length in pixels from Apple's XMP when present; None if the file has no
        depth image.

    Raises:
        Photo3DError: If pillow-heif is missing or libheif cannot open the file.
        CorruptMetadata: If the depth image or its representation info is unusable.

    """
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
        width, height = primary.size
        photo_size = (width, height)
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
        raise CorruptMetadata("the HEIF depth image has no depth representation info")
    try:
        with depth_image.to_pillow() as pil:
            mode = pil.mode
            pixels = np.asarray(pil)
    except Exception as e:
        raise CorruptMetadata(f"the HEIF depth image cannot be decoded ({one_line(e)})") from None
    if pixels.ndim != 2 or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise CorruptMetadata(f"the HEIF depth image has mode {mode} and shape {pixels.shape}; expected grey")
    raw = stored_depth_values(pixels, "the HEIF depth image")

    info = _apple_depth_info(data, name)
    if info.transforms_primary and not info.transforms_depth:
        raw = _apply_transforms(raw, info.transforms_primary)  # libheif turned the photo, not the depth
    check_depth_aspect((raw.shape[1], raw.shape[0]), photo_size, "the photo")
    depth, near, far, what = _heif_depth_from_values(raw, metadata)
    apple = info.xmp is not None and bool(
        xmp_properties(info.xmp, APPLE_PIXEL_NS) or xmp_properties(info.xmp, APPLE_DEPTH_NS)
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
