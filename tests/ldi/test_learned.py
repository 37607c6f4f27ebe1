"""Learned inpainting: a tiny random TorchScript network loaded through the user's code path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from photo3d.ldi.learned import TorchScriptInpainter
from tests.support.helpers import raises_one_line
from tests.support.models import save_random_inpainter

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings(r"ignore:.*torch\.jit\..* is deprecated:DeprecationWarning")


class LeakyInpainter(torch.nn.Module):
    """Reads the image as given, masked pixels included: only the caller's zeroing keeps the fill context-only."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 3, 5, padding=2)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(torch.cat([image, mask], dim=1)) * 4)


class OneChannel(torch.nn.Module):
    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return image[:, :1]


class Halves(torch.nn.Module):
    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return image[:, :, ::2, ::2]


class PairOut(torch.nn.Module):
    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return image, mask


class ImageOnly(torch.nn.Module):
    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return image


def _save_scripted(module: torch.nn.Module, path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    torch.jit.script(module.eval()).save(str(path))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inpainters")
    torch.manual_seed(1)
    return {
        "random": save_random_inpainter(root / "random.pt"),
        "leaky": _save_scripted(LeakyInpainter(), root / "leaky.pt"),
    }


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """128x96 textured background, a foreground box (neither known nor hole) and a disocclusion band beside it."""
    rng = np.random.default_rng(seed)
    color = rng.uniform(0, 255, (96, 128, 3)).astype(np.float32)
    foreground = np.zeros((96, 128), bool)
    foreground[30:60, 40:80] = True
    hole = np.zeros((96, 128), bool)
    hole[28:62, 80:95] = True
    known = ~(foreground | hole)
    return color, known, hole


def test_name_and_device(models):
    inpainter = TorchScriptInpainter(models["random"], device="cpu")
    assert inpainter.name == "torchscript:random.pt"
    assert inpainter.device == "cpu"


@pytest.mark.parametrize("max_size", [1024, 32])
def test_known_pixels_unchanged_and_hole_in_range(models, max_size):
    color, known, hole = _scene()
    out = TorchScriptInpainter(models["random"], max_size=max_size).fill(color, known, hole)
    assert out.shape == color.shape and out.dtype == np.float32
    assert np.array_equal(out[known], color[known])
    assert np.all(np.isfinite(out[hole]))
    assert out[hole].min() >= 0 and out[hole].max() <= 255
    assert not np.allclose(out[hole], color[hole])


@pytest.mark.parametrize("model", ["random", "leaky"])
@pytest.mark.parametrize("max_size", [1024, 32])
def test_fill_reads_context_only(models, model, max_size):
    color, known, hole = _scene()
    inpainter = TorchScriptInpainter(models[model], max_size=max_size)
    first = inpainter.fill(color, known, hole)
    other = color.copy()
    rng = np.random.default_rng(5)
    other[~known] = rng.uniform(0, 255, (int((~known).sum()), 3))  # new foreground and hole colours
    second = inpainter.fill(other, known, hole)
    assert np.array_equal(first[hole], second[hole])
    assert np.array_equal(second[known], color[known])
    # NaN outside the context must not reach the fill either
    nan = color.copy()
    nan[~known] = np.nan
    third = inpainter.fill(nan, known, hole)
    assert np.array_equal(first[hole], third[hole])


def test_fill_depends_on_context(models):
    color, known, hole = _scene()
    inpainter = TorchScriptInpainter(models["random"])
    first = inpainter.fill(color, known, hole)
    changed = color.copy()
    changed[28:62, 95:99] = 255 - changed[28:62, 95:99]  # known pixels right beside the hole
    second = inpainter.fill(changed, known, hole)
    assert not np.allclose(first[hole], second[hole], atol=1e-3)


def test_crop_matches_network_on_whole_image(models):
    """Away from the image border, the cropped run equals the network run on the whole (zeroed, masked) image."""
    color, known, hole = _scene()
    out = TorchScriptInpainter(models["random"]).fill(color, known, hole)
    model = torch.jit.load(str(models["random"]))
    image = torch.from_numpy(np.where(known[..., None], color / 255, 0).astype(np.float32).transpose(2, 0, 1))[None]
    mask = torch.from_numpy((~known).astype(np.float32))[None, None]
    with torch.inference_mode():
        reference = model(image, mask)[0].permute(1, 2, 0).numpy() * 255
    np.testing.assert_allclose(out[hole], reference[hole], atol=1e-3)


@pytest.mark.parametrize("max_size", [1024, 32])
def test_many_holes_all_filled(models, max_size):
    """Holes at corners, edges, close together (one crop) and far apart (own crops); hole colours are NaN."""
    rng = np.random.default_rng(3)
    color = rng.uniform(0, 255, (150, 200, 3)).astype(np.float32)
    hole = np.zeros((150, 200), bool)
    for y0, y1, x0, x1 in [(0, 7, 0, 9), (143, 150, 190, 200), (70, 80, 0, 3), (60, 64, 100, 104), (60, 64, 110, 130)]:
        hole[y0:y1, x0:x1] = True
    hole[20:120:2, 160] = True  # a dotted line: many tiny components
    foreground = np.zeros_like(hole)
    foreground[40:50, 40:60] = True
    known = ~(hole | foreground)
    color[~known] = np.nan
    out = TorchScriptInpainter(models["random"], max_size=max_size).fill(color, known, hole)
    assert np.array_equal(out[known], color[known])
    assert np.all(np.isfinite(out[hole]))
    assert out[hole].min() >= 0 and out[hole].max() <= 255


def test_empty_hole_and_bad_arguments(models):
    color, known, hole = _scene()
    inpainter = TorchScriptInpainter(models["random"])
    out = inpainter.fill(color, known, np.zeros_like(hole))
    assert np.array_equal(out, color) and out is not color
    with pytest.raises(ValueError, match="disjoint"):
        inpainter.fill(color, known | hole, hole)
    with pytest.raises(ValueError, match="expects"):
        inpainter.fill(color[..., :2], known, hole)


def test_missing_file(tmp_path):
    raises_one_line(TorchScriptInpainter, tmp_path / "big-lama.pt", words=("big-lama.pt", "does not exist", "LaMa"))


def test_folder_is_not_a_model(tmp_path):
    raises_one_line(TorchScriptInpainter, tmp_path, words=(str(tmp_path), "not a file"))


@pytest.mark.parametrize("content", [b"\x00\x17random bytes\xff" * 50, b"not a model\nsecond line\n"])
def test_not_torchscript(tmp_path, content):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    raises_one_line(TorchScriptInpainter, path, words=(str(path), "TorchScript", "model(image, mask)"))


def test_state_dict_is_not_torchscript(tmp_path):
    """A checkpoint saved with torch.save (a zip like TorchScript, but no code) is refused."""
    path = tmp_path / "lama.pth"
    torch.save(LeakyInpainter().state_dict(), path)
    raises_one_line(TorchScriptInpainter, path, words=(str(path), "TorchScript"))


@pytest.mark.parametrize(
    ("module", "words"),
    [
        (OneChannel(), ("(1, 1, 16, 16)", "expected a (1, 3, 16, 16) tensor")),
        (Halves(), ("(1, 3, 8, 8)", "expected a (1, 3, 16, 16) tensor")),
        (PairOut(), ("tuple", "expected a (1, 3, 16, 16) tensor")),
        (ImageOnly(), ("fails on a (1, 3, 16, 16) image",)),
    ],
)
def test_wrong_interface(tmp_path, module, words):
    path = _save_scripted(module, tmp_path / "wrong.pt")
    raises_one_line(TorchScriptInpainter, path, words=(str(path), *words))


@pytest.mark.parametrize("kwargs", [{"max_size": 8}, {"margin": -1}])
def test_bad_settings(models, kwargs):
    raises_one_line(TorchScriptInpainter, models["random"], words=("inpainting",), **kwargs)


def test_bad_device(models):
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    raises_one_line(TorchScriptInpainter, models["random"], device="cuda", words=("CUDA",))


def test_import_does_not_load_torch():
    code = "import sys, photo3d.ldi.learned, tests.support.models; assert 'torch' not in sys.modules, 'torch loaded'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
