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
