"""Small assertions shared by the tests."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

from photo3d.errors import Photo3DError


def raises_one_line(func, *args, words=(), **kwargs) -> str:
    """Calls ``func`` and checks that it raises a one-line Photo3DError containing every word."""
    with pytest.raises(Photo3DError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


def write_exr(path, channels: dict[str, np.ndarray], **header) -> None:
    """Writes an OpenEXR scanline file (ZIP) with the given channels and extra header entries."""
    head = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **header}
    OpenEXR.File(head, channels).write(str(path))
