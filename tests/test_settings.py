"""Settings check themselves when made, name the setting in one line, and round-trip through JSON and TOML."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import photo3d
from photo3d.cli.app import option_name
from photo3d.errors import SettingsError
from photo3d.ldi.inpaint import ClassicalInpainter
from photo3d.ldi.structure import LDIParams
from photo3d.settings import DepthSettings, RenderSettings


@pytest.mark.parametrize(
    ("values", "setting", "problem"),
    [
        ({"ssaa": 9}, "ssaa", "must be from 1 to 4, got 9"),
        ({"ssaa": 0.5}, "ssaa", "must be from 1 to 4, got 0.5"),
        ({"msaa": 3}, "msaa", "must be one of 0, 2, 4, 8, got 3"),
        ({"framing": "fill"}, "framing", "must be one of cover, contain, none, got 'fill'"),
        ({"easing": "bounce"}, "easing", "must be one of linear, smooth, smoother, ease-in, ease-out, sine"),
        ({"stereo": "vr"}, "stereo", "must be one of sbs, tb, anaglyph, got 'vr'"),
        ({"playback": "twice"}, "playback", "must be one of once, loop, pingpong, got 'twice'"),
        ({"frames": 0}, "frames", "must be at least 1, got 0"),
        ({"fps": 0}, "fps", "must be from 0.01 to 1000 frames per second, got 0"),
        ({"fps": 1e-9}, "fps", "must be from 0.01 to 1000 frames per second, got 1e-09"),
        ({"duration": math.inf}, "duration", "must be a positive number, got inf"),
        ({"size": (1, 8)}, "size", "must be at least 2x2, got (1, 8)"),
        ({"size": (95, 60), "stereo": "sbs"}, "stereo", "needs a frame of even width (size is 95x60), got 'sbs'"),
        ({"intensity": -1}, "intensity", "must be a number of at least 0, got -1"),
        ({"simplify": math.nan}, "simplify", "must be a number of at least 0, got nan"),
        ({"focus": 0}, "focus", "must be a positive depth (or inf for no lens shift), got 0"),
        ({"device": "gpu"}, "device", "must be cpu, cuda, cuda:N or mps, got 'gpu'"),
        ({"trajectory": " "}, "trajectory", "must name a preset or a TOML file, got ' '"),
        ({"ldi": {"max_layers": "two"}}, "ldi.max_layers", "must be a valid integer"),
        ({"colour": "red"}, "colour", "is not a setting"),
        ({"fps": "fast"}, "fps", "must be a valid number"),
        ({"ldi": {"layers": 2}}, "ldi.layers", "is not a setting"),
        ({"trajectory": 5}, "trajectory", "must be a valid string, got 5"),
        ({"frames": 2.5}, "frames", "must be a valid integer, got 2.5"),
        ({"size": (4,)}, "size", "lacks a value, got (4,)"),
    ],
)
def test_render_settings_name_the_setting_and_what_it_allows(values, setting, problem):
    with pytest.raises(SettingsError) as info:
        RenderSettings(**values)
    assert info.value.setting == setting
    assert info.value.problem.startswith(problem), info.value.problem
    assert str(info.value) == f"{setting} {info.value.problem}" and "\n" not in str(info.value)


def test_valid_settings_keep_their_values():
    s = RenderSettings(trajectory="swing", size=(1080, 1920), ssaa=1.5, msaa=4, focus=math.inf, device="cuda:1")
    assert (s.trajectory, s.size, s.ssaa, s.msaa, s.focus, s.device) == (
        "swing",
        (1080, 1920),
        1.5,
        4,
        math.inf,
        "cuda:1",
    )
    assert s.num_frames() == 120 and RenderSettings(frames=7).num_frames() == 7
    assert RenderSettings(duration=0.01).num_frames() == 1


def test_replace_checks_the_copy_and_keeps_the_original():
    s = RenderSettings(frames=10)
    assert s.replace(frames=1).frames == 1 and s.frames == 10
    with pytest.raises(SettingsError, match="frames must be at least 1"):
        s.replace(frames=0)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        s.frames = 3


def test_depth_settings_check_their_range_and_device():
    assert DepthSettings(near=0.5, far=20).far == 20
    with pytest.raises(SettingsError) as info:
        DepthSettings(near=5, far=2)
    assert str(info.value) == "far must be above near (5), got 2"
    with pytest.raises(SettingsError, match="resolution must be at least 14 pixels"):
        DepthSettings(resolution=8)
    with pytest.raises(SettingsError, match="device must be"):
        DepthSettings(device="tpu")


def test_json_round_trip():
    s = RenderSettings(
        trajectory="orbit", size=(540, 960), focus=math.inf, stereo="tb", ldi=LDIParams(max_layers=2, band_px=12)
    )
    text = s.to_json()
    assert '"focus":Infinity' in text
    back = RenderSettings.from_json(text)
    assert back == s and back.ldi == LDIParams(max_layers=2, band_px=12) and isinstance(back.size, tuple)
    d = DepthSettings(path=Path("d.exr"), options=photo3d.DepthOptions(kind="distance", scale=0.001), near=2, far=9)
    assert DepthSettings.from_json(d.to_json()) == d


def test_toml_round_trip_and_partial_documents():
    s = RenderSettings(trajectory="swing", frames=90, size=(1080, 1920), codec="h265", focus=math.inf)
    text = s.to_toml()
    assert 'trajectory = "swing"' in text and "focus = inf" in text and "[ldi]" in text
    assert RenderSettings.from_toml(text) == s
    partial = RenderSettings.from_toml('trajectory = "circle"\nssaa = 1\n[ldi]\nmax_layers = 3\n')
    assert (partial.trajectory, partial.ssaa, partial.ldi.max_layers, partial.fps) == ("circle", 1.0, 3, 30.0)
    with pytest.raises(SettingsError, match="ssaa must be from 1 to 4"):
        RenderSettings.from_toml("ssaa = 8\n")
    with pytest.raises(SettingsError, match="are not valid TOML"):
        RenderSettings.from_toml("ssaa = \n")
    with pytest.raises(SettingsError, match="must be a JSON object"):
        RenderSettings.from_json("[1, 2]")


def test_objects_in_place_of_names_are_accepted_but_not_written():
    s = RenderSettings(trajectory=photo3d.load_trajectory("swing"), inpainter=ClassicalInpainter())
    assert s.trajectory.name == "swing"
    with pytest.raises(SettingsError, match="cannot be written as JSON"):
        s.to_json()
    with pytest.raises(SettingsError, match="cannot be written as TOML"):
        s.to_toml()


def test_the_cli_takes_its_help_from_the_settings():
    out = subprocess.run(
        [sys.executable, "-m", "photo3d", "render", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(out.replace("│", " ").split())
    for name in ("ssaa", "framing", "simplify", "baseline"):
        assert " ".join(RenderSettings.help(name).split()[:6]) in flat, name
    with pytest.raises(KeyError):
        RenderSettings.help("colour")


@pytest.mark.parametrize(
    ("setting", "option"),
    [("ssaa", "--ssaa"), ("encoder_preset", "--preset"), ("ldi.max_layers", "--layers"), ("near", "--depth-range")],
)
def test_setting_names_map_to_options(setting, option):
    assert option_name(setting) == option


def test_the_cli_reports_a_bad_setting_under_its_option(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "photo3d", "render", str(tmp_path / "p.png"), "--ssaa", "9"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "photo3d: error: --ssaa must be from 1 to 4, got 9.0"
