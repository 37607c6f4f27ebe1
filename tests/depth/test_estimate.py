"""Depth estimation: tiny random models loaded through the user's code path, the HF cache, the depth cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from photo3d.depth.cache import DepthCache
from photo3d.depth.estimate import DepthEstimator, Prediction, prediction_to_depth, relative_disparity_to_depth
from photo3d.depth.models import resolve_model
from tests.support.helpers import raises_one_line
from tests.support.models import install_in_hub_cache, save_random_model


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        arch: save_random_model(root / arch, arch)
        for arch in ("tiny-depth-anything", "tiny-dpt", "tiny-depth-anything-metric")
    }


@pytest.fixture()
def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.full((90, 160, 3), 60, np.uint8)
    image[20:70, 40:100] = (200, 80, 40)
    return np.clip(image + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture()
def hf_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face hub cache, offline, as in CI."""
    from huggingface_hub import constants

    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


@pytest.mark.parametrize(
    ("arch", "kind"),
    [("tiny-depth-anything", "disparity"), ("tiny-dpt", "disparity"), ("tiny-depth-anything-metric", "depth")],
)
def test_local_model_folder_predicts_at_photo_size(models, photo, arch, kind):
    estimator = DepthEstimator(str(models[arch]))
    prediction = estimator.predict(photo)
    assert prediction.kind == kind
    assert prediction.values.shape == photo.shape[:2]
    assert prediction.values.dtype == np.float32
    assert np.isfinite(prediction.values).all()
    again = DepthEstimator(str(models[arch])).predict(photo)
    np.testing.assert_array_equal(prediction.values, again.values)  # same weights, same input, same output


def test_resolution_changes_the_network_input(models, photo, caplog):
    caplog.set_level("INFO", logger="photo3d.depth.estimate")
    DepthEstimator(str(models["tiny-depth-anything"]), resolution=112).predict(photo)
    # 160x90 photo, 112 px target, aspect kept and rounded to multiples of 14 by the model's processor
    assert any("depth estimated at 196x112" in r.getMessage() for r in caplog.records)


def test_weights_differ_between_seeds(tmp_path, photo):
    a = DepthEstimator(str(save_random_model(tmp_path / "a", seed=0))).predict(photo).values
    b = DepthEstimator(str(save_random_model(tmp_path / "b", seed=1))).predict(photo).values
    assert not np.allclose(a, b)


def test_cached_hub_model_loads_offline_by_id(models, hf_cache, photo):
    install_in_hub_cache(models["tiny-depth-anything"], hf_cache, "someone/tiny-depth", "a" * 40)
    folder, revision = resolve_model("someone/tiny-depth")
    assert folder.parent.name == "snapshots" and revision == "someone/tiny-depth@" + "a" * 40
    prediction = DepthEstimator("someone/tiny-depth").predict(photo)
    assert prediction.values.shape == photo.shape[:2]


def test_offline_cache_miss_fails_fast_with_instructions(hf_cache):
    start = time.perf_counter()
    message = raises_one_line(
        resolve_model, "depth-anything/Depth-Anything-V2-Small-hf", words=("--depth", "HF_HOME", "hf download")
    )
    assert time.perf_counter() - start < 5.0
    assert str(hf_cache.parent) in message


def test_hanging_hub_fails_within_five_seconds(hf_cache, monkeypatch):
    import socket

    from huggingface_hub import constants

    def black_hole(*args, **kwargs):  # a firewall that drops packets: connect() hangs, then times out
        time.sleep(10)
        raise TimeoutError("timed out")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "create_connection", black_hole)
    start = time.perf_counter()
    message = raises_one_line(
        resolve_model, "depth-anything/Depth-Anything-V2-Small-hf", words=("--depth", "HF_HOME", "no answer")
    )
    assert time.perf_counter() - start < 5.0, message


def test_the_probe_goes_through_a_configured_proxy(monkeypatch):
    import socket

    from photo3d.depth.models import _hub_reachable

    seen = []

    def connect(address, timeout=None):
        seen.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", connect)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert "proxy.example is unreachable" in _hub_reachable("https://huggingface.co")
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.delenv("https_proxy", raising=False)
    assert "huggingface.co is unreachable" in _hub_reachable("https://huggingface.co")
    assert seen == [("proxy.example", 3128), ("huggingface.co", 443)]


def test_refused_connection_fails_fast(hf_cache, monkeypatch):
    import socket

    from huggingface_hub import constants

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    start = time.perf_counter()
    raises_one_line(resolve_model, "depth-anything/Depth-Anything-V2-Small-hf", words=("--depth", "unreachable"))
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("not a valid id!!", ("neither a local folder nor",)),
        ("./no/such/folder", ("does not exist",)),
        ("/no/such/folder", ("does not exist",)),
    ],
)
def test_bad_model_ids(model, words, hf_cache):
    raises_one_line(resolve_model, model, words=words)


def test_folder_without_safetensors_is_refused(tmp_path, models):
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(models["tiny-dpt"] / "config.json", folder)
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    raises_one_line(resolve_model, str(folder), words=("safetensors",))


def test_non_depth_model_is_refused(tmp_path, models):
    folder = tmp_path / "bert"
    shutil.copytree(models["tiny-dpt"], folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    estimator = DepthEstimator(str(folder))
    raises_one_line(estimator.predict, np.zeros((8, 8, 3), np.uint8), words=("not a depth-estimation model", "bert"))


def test_relative_disparity_normalisation_is_linear_in_disparity():
    d = np.array([[0.0, 1.0], [3.0, 4.0]], np.float32) * 7.0 - 5.0  # any scale and shift
    depth = relative_disparity_to_depth(d, near=2.0, far=50.0)
    assert depth[1, 1] == pytest.approx(2.0) and depth[0, 0] == pytest.approx(50.0)
    inv = 1.0 / depth.astype(np.float64)
    dn = np.array([[0, 0.25], [0.75, 1.0]])
    np.testing.assert_allclose(inv, 1 / 50 + dn * (1 / 2 - 1 / 50), rtol=1e-6)
    raises_one_line(relative_disparity_to_depth, np.ones((2, 2)), words=("constant",))
    raises_one_line(relative_disparity_to_depth, d, near=5.0, far=5.0, words=("near < far",))


def test_metric_predictions_stay_in_metres():
    values = np.array([[2.0, 0.0], [np.nan, 4.0]], np.float32)
    depth = prediction_to_depth(Prediction(values, "depth", "m"))
    assert depth[0, 0] == 2.0 and depth[1, 1] == 4.0 and (depth > 0).all()


class _Counting:
    def __init__(self, estimator):
        self.estimator, self.calls = estimator, 0

    def settings_key(self):
        return self.estimator.settings_key()

    def predict(self, image):
        self.calls += 1
        return self.estimator.predict(image)


def test_depth_cache_skips_the_network_on_the_same_pixels(models, photo, tmp_path):
    estimator = _Counting(DepthEstimator(str(models["tiny-depth-anything"])))
    cache = DepthCache(tmp_path / "cache")
    first, hit1 = cache.predict(estimator, photo)
    second, hit2 = cache.predict(estimator, photo.copy())
    assert (hit1, hit2, estimator.calls) == (False, True, 1)
    np.testing.assert_array_equal(first.values, second.values)
    changed = photo.copy()
    changed[0, 0, 0] ^= 1
    _, hit3 = cache.predict(estimator, changed)
    assert not hit3 and estimator.calls == 2
    other = _Counting(DepthEstimator(str(models["tiny-depth-anything"]), resolution=112))
    _, hit4 = cache.predict(other, photo)
    assert not hit4 and other.calls == 1
    assert not list((tmp_path / "cache").glob("*.tmp*"))


def test_corrupt_cache_entry_is_a_miss(models, photo, tmp_path):
    estimator = _Counting(DepthEstimator(str(models["tiny-depth-anything"])))
    cache = DepthCache(tmp_path)
    cache.predict(estimator, photo)
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(b"garbage")
    _, hit = cache.predict(estimator, photo)
    assert not hit and estimator.calls == 2


def _photo3d(*args, env_extra=None, cwd=None):
    import os

    env = dict(os.environ, HF_HUB_OFFLINE="1", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "photo3d", *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd
    )


@pytest.fixture()
def photo_file(tmp_path, photo) -> Path:
    import cv2

    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), photo[..., ::-1])
    return path


@pytest.mark.slow
def test_cli_render_estimates_once_then_uses_the_cache(models, photo_file, tmp_path):
    env = {"PHOTO3D_CACHE": str(tmp_path / "cache")}
    model = models["tiny-depth-anything"]
    first = _photo3d(
        "render", photo_file, "--depth-model", model, "--frames", "2", "-o", tmp_path / "a.mp4", env_extra=env
    )
    assert first.returncode == 0, first.stderr
    assert "estimated by" in first.stderr and "from the cache" not in first.stderr
    second = _photo3d(
        "render",
        photo_file,
        "--depth-model",
        model,
        "-t",
        "swing",
        "--frames",
        "2",
        "-o",
        tmp_path / "b.mp4",
        env_extra=env,
    )
    assert second.returncode == 0, second.stderr
    assert "from the cache" in second.stderr
    assert (tmp_path / "a.mp4").stat().st_size > 0 and (tmp_path / "b.mp4").stat().st_size > 0


def test_cli_offline_without_depth_fails_fast_in_one_line(photo_file, tmp_path):
    start = time.perf_counter()
    result = _photo3d("render", photo_file, "-o", tmp_path / "x.mp4", env_extra={"HF_HOME": str(tmp_path / "hf")})
    elapsed = time.perf_counter() - start
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("photo3d: error:"), result.stderr
    assert "--depth" in lines[0] and "HF_HOME" in lines[0]
    assert elapsed < 5.0
    assert not (tmp_path / "x.mp4").exists()


def test_cli_unknown_model_folder(photo_file, tmp_path):
    result = _photo3d("render", photo_file, "--depth-model", tmp_path / "missing", "-o", tmp_path / "x.mp4")
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_model_id_online_is_one_line(hf_cache, monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    import photo3d.depth.models as models

    def snapshot_download(repo_id, *, local_files_only=False, **kwargs):
        if local_files_only:
            raise LocalEntryNotFoundError("not cached")
        error = RepositoryNotFoundError.__new__(RepositoryNotFoundError)  # its __init__ wants an HTTP response
        Exception.__init__(error, "404 Repository Not Found")
        raise error

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(models, "_hub_reachable", lambda endpoint: None)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    raises_one_line(resolve_model, "nobody/no-such-depth-model", words=("not found on the Hugging Face hub",))
