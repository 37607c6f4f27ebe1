"""Small assertions shared by the tests."""

from __future__ import annotations

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
