"""Every Python block of the README runs as written, in the folder ``photo3d sample`` fills."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.models import install_in_hub_cache, save_random_model

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = [pytest.mark.gl, pytest.mark.slow]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_readme_has_python_blocks():
    blocks = python_blocks(README.read_text())
    assert len(blocks) >= 4
    assert any("render_frames" in b for b in blocks) and any("Studio" in b for b in blocks)


def test_readme_python_blocks_run_as_written(tmp_path, monkeypatch):
    from huggingface_hub import constants

    # The default depth network, as a tiny random model in an offline Hugging Face cache (no download in CI).
    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    install_in_hub_cache(save_random_model(tmp_path / "model"), cache, "depth-anything/Depth-Anything-V2-Small-hf")
    monkeypatch.setenv("PHOTO3D_CACHE", str(tmp_path / "depth-cache"))
    work = tmp_path / "work"
    subprocess.run([sys.executable, "-m", "photo3d", "--quiet", "sample", str(work)], check=True)
    monkeypatch.chdir(work)
    namespace: dict = {}
    for block in python_blocks(README.read_text()):
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    assert namespace["report"].frames == 60 and Path("dolly.mp4").stat().st_size > 0
    frames = namespace["frames"]
    assert len(frames) == 30 and all(f.shape == (960, 540, 3) and f.dtype == np.uint8 for f in frames)
    assert Path("photo_swing.mp4").stat().st_size > 0 and Path("photo.ply").stat().st_size > 0
    assert "estimated by depth-anything/Depth-Anything-V2-Small-hf" in namespace["scene"].depth_source
    assert namespace["frame"].shape == (640, 960, 3)
