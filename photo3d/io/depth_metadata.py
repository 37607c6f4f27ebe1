"""What the readers of depth embedded in photos share: the result, the error, XMP parsing and stored values."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml.ElementTree as DefusedET
import numpy as np
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from ..camera.intrinsics import aspect_ratios_differ
from ..errors import one_line

__all__ = [
    "RDF_NS",
    "CorruptMetadata",
    "EmbeddedDepth",
    "check_depth_aspect",
    "normalised",
    "parse_xml",
    "stored_depth_values",
    "xmp_properties",
    "xmp_sequence",
]

logger = logging.getLogger(__name__)

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


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


class CorruptMetadata(Exception):
    """Raised inside the parsers; turned into a Photo3DError naming the file."""


def parse_xml(text: bytes, what: str) -> ET.Element:
    """Parse an XMP packet with defusedxml, refusing DOCTYPE/ENTITY declarations (entity expansion attacks).

    Raises:
        CorruptMetadata: If the XML declares a DOCTYPE or ENTITY, or is malformed.

    """
    text = text.rstrip(b"\x00 \t\r\n")
    try:
        return DefusedET.fromstring(text, forbid_dtd=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise CorruptMetadata(f"{what} contains a DOCTYPE or ENTITY declaration, which XMP never needs") from None
    except ET.ParseError as e:
        raise CorruptMetadata(f"{what} is not well-formed XML ({one_line(e)})") from None
    except (ValueError, LookupError) as e:  # bad encoding declarations
        raise CorruptMetadata(f"{what} cannot be read as XML ({one_line(e)})") from None


def xmp_properties(root: ET.Element, namespace: str) -> dict[str, str]:
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


def xmp_sequence(root: ET.Element, namespace: str, local: str) -> list[str] | None:
    """Items of an ``rdf:Seq`` (or ``rdf:Bag``) property.

    Args:
        root: The parsed XMP tree.
        namespace: The property's namespace URI.
        local: The property's local name.

    Returns:
        The ``rdf:li`` texts, stripped, in order; None if the property is absent.

    """
    for element in root.iter("{" + namespace + "}" + local):
        return [(li.text or "").strip() for li in element.iter("{" + RDF_NS + "}li")]
    return None


def stored_depth_values(pixels: np.ndarray, label: str) -> np.ndarray:
    """The stored values of a decoded depth-map image (channel 0 of a colour one, with a warning if they differ).

    Args:
        pixels: (h, w) or (h, w, C) decoded pixels, uint8, uint16 or int32 (Pillow mode "I", 16-bit range).
        label: What the image is, for messages.

    Returns:
        (h, w) uint8 or uint16, C-contiguous.

    Raises:
        CorruptMetadata: If the values are 32-bit or not integers.

    """
    if pixels.ndim == 3:
        if pixels.shape[2] >= 3 and not (
            np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])
        ):
            logger.warning("%s has different colour channels; using channel 0 (red)", label)
        pixels = pixels[..., 0]
    if pixels.dtype == np.int32:  # Pillow mode "I"
        if pixels.min() < 0 or pixels.max() > 65535:
            raise CorruptMetadata(f"{label} has 32-bit values; expected 8 or 16 bits")
        pixels = pixels.astype(np.uint16)
    if pixels.dtype not in (np.uint8, np.uint16):
        raise CorruptMetadata(f"{label} has {pixels.dtype} values; expected 8 or 16 bits")
    return np.ascontiguousarray(pixels)


def normalised(raw: np.ndarray) -> np.ndarray:
    """Stored values as fractions of their range.

    Args:
        raw: uint8 or uint16 array of any shape.

    Returns:
        ``raw / max`` as float64 in [0, 1], max = 255 (uint8) or 65535 (uint16).

    """
    return raw.astype(np.float64) / float(np.iinfo(raw.dtype).max)


def check_depth_aspect(depth_size: tuple[int, int], photo_size: tuple[int, int], what: str) -> None:
    """Refuses a depth map whose aspect ratio differs from the photo's by more than 1 %.

    Args:
        depth_size: The depth map's ``(width, height)`` in pixels.
        photo_size: The photo's ``(width, height)`` in pixels.
        what: What the photo is, for messages.

    Raises:
        CorruptMetadata: If the aspect ratios differ.

    """
    (w, h), (pw, ph) = depth_size, photo_size
    if aspect_ratios_differ(w, h, pw, ph):
        raise CorruptMetadata(f"the depth map is {w}x{h} but {what} is {pw}x{ph}: their aspect ratios differ")
