"""The built wheel carries the shaders and trajectory presets, and the installed package finds them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Every shader and trajectory preset of the repository must be in the wheel.
RESOURCES = sorted(
    f"photo3d/_resources/{p.parent.name}/{p.name}"
    for p in [*(REPO_ROOT / "shaders").glob("*.glsl"), *(REPO_ROOT / "trajectories").glob("*.toml")]
)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO_ROOT)])
    wheels = list(out.glob("photo3d-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.slow
def test_wheel_contains_resources(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = [name for name in RESOURCES if name not in names]
    assert not missing, f"missing from {wheel.name}: {missing}"
    assert "photo3d/resources.py" in names


@pytest.mark.slow
def test_installed_wheel_finds_its_resources(wheel, tmp_path):
    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)])
    code = (
        "import json, photo3d, photo3d.resources, photo3d.camera.trajectory_files; "
        "print(json.dumps({'package': photo3d.__file__, "
        "'shaders': str(photo3d.resources.resource_dir('shaders')), "
        "'presets': photo3d.camera.trajectory_files.preset_names()}))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = _run([sys.executable, "-c", code], cwd=tmp_path, env=env)
    info = json.loads(result.stdout.strip().splitlines()[-1])
    site = site.resolve()
    assert Path(info["package"]).resolve().is_relative_to(site), info  # not the editable checkout
    shaders = Path(info["shaders"]).resolve()
    assert shaders.is_relative_to(site), info
    assert shaders == site / "photo3d" / "_resources" / "shaders"
    assert (shaders / "mesh.glsl").is_file()
    assert {"dolly", "swing", "circle"} <= set(info["presets"]), info
