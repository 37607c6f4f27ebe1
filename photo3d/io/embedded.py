"""Depth maps that phones store inside the photo file.

Two kinds are read:

* **Google Camera "Lens Blur" JPEG**, the GDepth/GImage XMP format (:mod:`photo3d.io.gdepth`).
* **HEIC/HEIF with an auxiliary depth image**, e.g. iPhone portrait photos (:mod:`photo3d.io.heif_depth`).

The depth returned is **planar** depth (see :mod:`photo3d.depth.conversions`), finite and
> 0, at the depth map's own resolution: resample it to the photo with
:func:`photo3d.depth.conversions.resample_depth`.

Every problem with metadata that is present raises
:class:`~photo3d.errors.Photo3DError` with one line that names the file; a
file that simply carries no depth gives None.
"""

from __future__ import annotations

import os

from ..errors import Photo3DError
from .depth_metadata import CorruptMetadata, EmbeddedDepth
from .gdepth import read_google_depth
from .heif_depth import read_heif_depth
from .image import is_heif, read_file

__all__ = ["EmbeddedDepth", "read_embedded_depth"]


_HINT = "pass --depth or --depth-model instead"


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
            return read_google_depth(data, name)
        if is_heif(data):
            return read_heif_depth(data, name)
    except CorruptMetadata as e:
        raise Photo3DError(f"embedded depth in {name} is unusable: {e}; {_HINT}") from None
    return None
