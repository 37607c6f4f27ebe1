"""The contact-sheet script: one grid PNG of the real photos' look frames, each the CLI's own frame.

Runs ``benchmarks/contact_sheet.py`` at a tiny size (90x160 tiles); the full sheet comes from
running the script itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import contact_sheet  # noqa: E402

pytestmark = [pytest.mark.gl, pytest.mark.slow, pytest.mark.real]


def test_sheet_has_the_expected_grid(real_data, gl, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    args = ["--out", str(out), "--real", str(real_data), "--size", "90x160", "--crop"]
    assert contact_sheet.main(args, context=gl) == 0
    assert sorted(tmp_path.iterdir()) == [out]  # no temporary left behind
    sheet = np.asarray(Image.open(out))

    gap, strip = contact_sheet.GAP, contact_sheet.label_height(160)
    # Rows (each followed by its 2x crops): moon orbit + swing (4 tiles of 90x160, the TikTok size),
    # pug (2 tiles, 4:3 with the longer side 160), Lens Blur (2 tiles, 580x1024 made 90x160).
    rows = [(4, 90, 160), (2, 160, 120), (2, 90, 160)]
    width = max(n * w + (n + 1) * gap for n, w, _ in rows)
    height = 2 * sum(h + strip for _, _, h in rows) + (2 * len(rows) + 1) * gap
    assert sheet.shape == (height, width, 3)

    # Every tile of every row holds a picture, not the background.
    y = gap
    for n, w, h in rows:
        for _ in range(2):  # the frames, then their crops
            for j in range(n):
                x = gap + j * (w + gap)
                assert sheet[y + strip : y + strip + h, x : x + w].std() > 10.0
            y += strip + h + gap

    printed = capsys.readouterr().out
    table = [line for line in printed.splitlines() if " frame " in line and "/120" in line]
    assert len(table) == 8
    assert f"{width}x{height}" in printed


def test_tiles_are_the_cli_frames(real_data, gl, tmp_path):
    shot = next(s for s in contact_sheet.SHOTS if s.photo == "lensblur")
    import photo3d

    scene = photo3d.load_scene(real_data / shot.image)
    size = contact_sheet.shot_size(shot, (scene.intrinsics.width, scene.intrinsics.height), (90, 160))
    assert size == (90, 160)
    settings = contact_sheet.shot_settings(shot, size)
    indices = contact_sheet.frame_indices(shot, settings.num_frames())
    assert indices == [30, 90]
    frames = contact_sheet.render_shot(scene, settings, indices, context=gl)[0]

    out = tmp_path / "frames"
    cli = contact_sheet.cli_args(shot, real_data, size, f"{out}/")
    subprocess.run([sys.executable, "-m", "photo3d", "-q", *cli], check=True, capture_output=True)
    for i, frame in zip(indices, frames, strict=True):
        np.testing.assert_array_equal(frame, np.asarray(Image.open(out / f"{i:05d}.png")))


def test_no_real_data_no_sheet(tmp_path, capsys):
    out = tmp_path / "sheet.png"
    assert contact_sheet.main(["--out", str(out), "--real", str(tmp_path / "absent")]) == 0
    assert not out.exists()
    assert "not found" in capsys.readouterr().out
