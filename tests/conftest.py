"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never download models

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The team's real test data (``../shared/data/real``); skips the test when absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real test data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def gl_context():
    """One headless EGL context for the whole session (Mesa llvmpipe where there is no GPU)."""
    from photo3d.render.renderer import create_context

    ctx = create_context()
    yield ctx
    ctx.release()


@pytest.fixture()
def gl(gl_context):
    """The session's context, with no GL error pending before or after the test."""
    assert gl_context.error == "GL_NO_ERROR"
    yield gl_context
    assert gl_context.error == "GL_NO_ERROR"
