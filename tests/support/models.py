"""Randomly initialised depth and inpainting models for tests and benchmarks.

No weights can be downloaded in CI, so tests build models from a config with
random weights, save them as a Hugging Face model folder (``config.json``,
``model.safetensors``, ``preprocessor_config.json``) and load that folder
through exactly the path users take (:class:`photo3d.depth.estimate.DepthEstimator`
with a local directory as the model id). Random weights cost the same time as
trained ones, so ``"depth-anything-v2-small"`` also serves the CPU-time benchmark.

Architectures:

* ``"tiny-depth-anything"``: Depth Anything (DINOv2 backbone + DPT head), a few
  hundred thousand parameters, 56 px input; relative inverse depth.
* ``"tiny-dpt"``: DPT/MiDaS (ViT backbone), 32 px input; relative inverse depth.
* ``"tiny-depth-anything-metric"``: as the first with ``depth_estimation_type="metric"``
  and ``max_depth=20``: metric depth in metres.
* ``"depth-anything-v2-small"``: the architecture of
  ``depth-anything/Depth-Anything-V2-Small-hf`` (24.8 M parameters, 518 px input).

:func:`save_random_inpainter` does the same for inpainting: a tiny TorchScript
network with LaMa's ``model(image, mask)`` interface.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["ARCHITECTURES", "install_in_hub_cache", "save_random_inpainter", "save_random_model"]

ARCHITECTURES = ("tiny-depth-anything", "tiny-dpt", "tiny-depth-anything-metric", "depth-anything-v2-small")

_IMAGENET_MEAN = [0.485, 0.456, 0.406]
_IMAGENET_STD = [0.229, 0.224, 0.225]


def _depth_anything(
    width: int, mlp: int, layers: int, heads: int, size: int, out_indices, neck, fusion: int, head: int, **extra
):
    """A Depth Anything config: DINOv2 backbone ``width`` wide, DPT neck and head."""
    from transformers import DepthAnythingConfig, Dinov2Config

    backbone = Dinov2Config(
        hidden_size=width,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=mlp,
        patch_size=14,
        image_size=size,
        out_indices=out_indices,
        reshape_hidden_states=False,
    )
    return DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=width,
        patch_size=14,
        neck_hidden_sizes=neck,
        fusion_hidden_size=fusion,
        head_hidden_size=head,
        **extra,
    )


def _config(architecture: str):
    """``(config, processor input size, size multiple, keep aspect ratio)`` of an architecture."""
    from transformers import DPTConfig

    if architecture in ("tiny-depth-anything", "tiny-depth-anything-metric"):
        extra = {"depth_estimation_type": "metric", "max_depth": 20} if architecture.endswith("metric") else {}
        return _depth_anything(32, 64, 4, 2, 56, [1, 2, 3, 4], [8, 16, 32, 32], 16, 8, **extra), 56, 14, True
    if architecture == "depth-anything-v2-small":
        return _depth_anything(384, 1536, 12, 6, 518, [3, 6, 9, 12], [48, 96, 192, 384], 64, 32), 518, 14, True
    if architecture == "tiny-dpt":
        config = DPTConfig(
            hidden_size=32,
            num_hidden_layers=4,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=32,
            patch_size=16,
            neck_hidden_sizes=[8, 16, 32, 32],
            fusion_hidden_size=16,
            backbone_out_indices=[0, 1, 2, 3],
            reassemble_factors=[4, 2, 1, 0.5],
            head_in_index=-1,
        )
        return config, 32, 1, False  # ViT DPT takes square inputs, like Intel/dpt-large
    raise ValueError(f"unknown architecture {architecture!r}; expected one of {', '.join(ARCHITECTURES)}")


def save_random_model(folder: str | os.PathLike[str], architecture: str = "tiny-depth-anything", seed: int = 0) -> Path:
    """Builds a depth model with random weights and saves it as a Hugging Face model folder.

    Args:
        folder: Where to write ``config.json``, ``model.safetensors`` and
            ``preprocessor_config.json`` (created if missing).
        architecture: One of :data:`ARCHITECTURES`.
        seed: Seed of the random initialisation (same seed, same weights).

    Returns:
        ``folder`` as a Path: pass it as the model id (``--depth-model FOLDER``).

    Raises:
        ValueError: For an unknown architecture.

    """
    import torch
    from transformers import AutoModelForDepthEstimation, DPTImageProcessor

    config, size, multiple, keep_aspect = _config(architecture)
    torch.manual_seed(seed)
    model = AutoModelForDepthEstimation.from_config(config).eval()
    processor = DPTImageProcessor(
        do_resize=True,
        size={"height": size, "width": size},
        keep_aspect_ratio=keep_aspect,
        ensure_multiple_of=multiple,
        resample=3,  # bicubic
        do_rescale=True,
        do_normalize=True,
        image_mean=_IMAGENET_MEAN,
        image_std=_IMAGENET_STD,
        do_pad=False,
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    return folder


def save_random_inpainter(path: str | os.PathLike[str], seed: int = 0) -> Path:
    """Builds a tiny inpainting network with random weights and saves it as TorchScript.

    The module has the call convention of the LaMa TorchScript file used by
    lama-cleaner/IOPaint (``big-lama.pt``), so it loads through exactly the path
    users take (:class:`photo3d.ldi.learned.TorchScriptInpainter`): ``forward(image, mask)``
    with image (1, 3, H, W) float32 in [0, 1] and mask (1, 1, H, W) float32, 1 = to
    fill; it returns (1, 3, H, W) in [0, 1], equal to ``image`` where ``mask`` is 0.
    Three 3x3 convolutions (the middle one dilated; receptive field 9x9 px) read the
    masked image and the mask; a sigmoid gives the colour that is composited into the hole.

    Args:
        path: The ``.pt`` file to write (its folder is created if missing).
        seed: Seed of the random initialisation (same seed, same weights).

    Returns:
        ``path`` as a Path.

    """
    import warnings

    import torch

    class RandomInpainter(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = torch.nn.Conv2d(4, 8, 3, padding=1)
            self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=2, dilation=2)
            self.conv3 = torch.nn.Conv2d(8, 3, 3, padding=1)

        def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            masked = image * (1 - mask)
            x = torch.relu(self.conv1(torch.cat([masked, mask], dim=1)))
            x = torch.relu(self.conv2(x))
            return masked + torch.sigmoid(self.conv3(x)) * mask

    torch.manual_seed(seed)
    with warnings.catch_warnings():  # torch >= 2.10 deprecates TorchScript, the format of LaMa's big-lama.pt
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.* is deprecated", category=DeprecationWarning)
        module = torch.jit.script(RandomInpainter().eval())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module.save(str(path))
    return path


def install_in_hub_cache(folder: Path, cache: Path, repo_id: str, commit: str = "0" * 40) -> None:
    """Lays out a model the way huggingface_hub's cache stores a downloaded snapshot."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
