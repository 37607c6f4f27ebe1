"""Monocular depth estimation with Hugging Face ``transformers`` depth models.

Any model that ``transformers.AutoModelForDepthEstimation`` loads works: Depth
Anything V1/V2 (the default is ``depth-anything/Depth-Anything-V2-Small-hf``,
Apache-2.0; Yang et al., "Depth Anything V2", NeurIPS 2024), DPT/MiDaS
(Ranftl et al., ICCV 2021), ZoeDepth, Depth Pro, GLPN, Prompt Depth Anything.

What the models return (:data:`METRIC_MODEL_TYPES` lists the metric ones):

* **Relative inverse depth** (Depth Anything relative, DPT/MiDaS): disparity up to an
  unknown scale *and shift*, larger = nearer. :func:`relative_disparity_to_depth`
  turns it into planar depth with a documented normalisation: the prediction is
  stretched linearly to ``[1 / far, 1 / near]`` in disparity and inverted,
  so the nearest pixel sits at ``near`` and the farthest at ``far``. The default
  ``near = 1, far = 60`` keeps 3d-photo-inpainting's depth ratio (its disparity
  in ``[0.05, 3]``, i.e. depth 1/3 to 20).
* **Metric depth** (Depth Anything metric, ZoeDepth, Depth Pro, GLPN): planar
  depth in metres, used as it is.

Weights come through the Hugging Face cache (``HF_HOME``, see :mod:`photo3d.depth.models`).
Results are cached on disk (:class:`~photo3d.depth.cache.DepthCache`), keyed by the decoded pixels, the
model's exact revision and the settings, so rendering the same photo again
(another trajectory, other near/far) does not run the network again.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Photo3DError, SettingsError
from ..runtime import select_device
from .models import DEFAULT_MODEL, resolve_model

if TYPE_CHECKING:
    from transformers import PreTrainedModel

__all__ = [
    "DEFAULT_FAR",
    "DEFAULT_NEAR",
    "METRIC_MODEL_TYPES",
    "DepthEstimator",
    "Prediction",
    "prediction_to_depth",
    "relative_disparity_to_depth",
]

log = logging.getLogger(__name__)


DEFAULT_NEAR: float = 1.0
"""Depth given to the nearest pixel of a relative (inverse-depth) prediction."""

DEFAULT_FAR: float = 60.0
"""Depth given to the farthest pixel of a relative prediction: 60 x near, 3d-photo-inpainting's ratio."""

METRIC_MODEL_TYPES = frozenset({"zoedepth", "depth_pro", "glpn", "prompt_depth_anything", "chmv2"})
"""``config.model_type`` values whose output is metric planar depth in metres (Depth Anything
is metric when its ``config.depth_estimation_type`` is ``"metric"``); every other model
type is taken to predict relative inverse depth."""

_CACHE_VERSION = "2"


@dataclass
class Prediction:
    """A depth network's output for one photo.

    Attributes:
        values: (H, W) float32 at the photo's size: relative inverse depth (any
            scale and shift, larger = nearer) when ``kind == "disparity"``, planar
            depth in metres when ``kind == "depth"``.
        kind: ``"disparity"`` or ``"depth"``.
        model: The model id or folder it came from.
        focal_px: Focal length in pixels at the photo's size, if the model
            estimates it (Depth Pro), else None.
        seconds: Time spent in the network (0 for a cached result).

    """

    values: np.ndarray
    kind: str
    model: str
    focal_px: float | None = None
    seconds: float = 0.0


def relative_disparity_to_depth(
    disparity: np.ndarray, near: float = DEFAULT_NEAR, far: float = DEFAULT_FAR
) -> np.ndarray:
    """Planar depth from relative inverse depth (disparity up to scale and shift).

    ``dn = (d - d.min()) / (d.max() - d.min())``, then ``depth = 1 / (1/far + dn * (1/near - 1/far))``:
    linear in disparity, so the nearest pixel is at ``near`` and the farthest at ``far``.

    Args:
        disparity: (H, W) real array, larger = nearer, every value finite.
        near: Depth of the nearest pixel, > 0.
        far: Depth of the farthest pixel, > ``near``.

    Returns:
        (H, W) float32 planar depth in ``[near, far]`` (relative units).

    Raises:
        Photo3DError: For non-finite values, a constant map, or a bad near/far.

    """
    if not (0 < near < far) or not np.isfinite(far):
        raise Photo3DError(f"depth range must satisfy 0 < near < far, got near={near}, far={far}")
    d = np.asarray(disparity, dtype=np.float64)
    if not np.isfinite(d).all():
        raise Photo3DError("the depth model returned NaN or infinite values")
    lo, hi = float(d.min()), float(d.max())
    if not hi > lo:
        raise Photo3DError("the depth model returned a constant map: it carries no depth")
    dn = (d - lo) / (hi - lo)
    return (1.0 / (1.0 / far + dn * (1.0 / near - 1.0 / far))).astype(np.float32)


def prediction_to_depth(prediction: Prediction, near: float = DEFAULT_NEAR, far: float = DEFAULT_FAR) -> np.ndarray:
    """The engine's planar depth from a network prediction.

    Relative inverse depth goes through :func:`relative_disparity_to_depth`;
    metric depth is kept in metres, with non-positive or non-finite values
    replaced by the nearest valid pixel (:func:`photo3d.depth.conversions.fill_invalid`).

    Args:
        prediction: The network's output (``values`` (H, W) float32, ``kind``).
        near: Depth of the nearest pixel of a relative prediction, > 0.
        far: Depth of the farthest pixel of a relative prediction, > ``near``.

    Returns:
        (H, W) float32 planar depth, finite and > 0.

    Raises:
        Photo3DError: See :func:`relative_disparity_to_depth`; a metric map with no valid pixel.

    """
    if prediction.kind == "disparity":
        return relative_disparity_to_depth(prediction.values, near, far)
    from .conversions import fill_invalid

    return fill_invalid(prediction.values, f"predicted by {prediction.model}")


def _output_kind(config: dict) -> str:
    """``"depth"`` for metric models, ``"disparity"`` for relative inverse depth, from a config.json dict."""
    if config.get("model_type") in METRIC_MODEL_TYPES or config.get("depth_estimation_type") == "metric":
        return "depth"
    return "disparity"


class DepthEstimator:
    """A loaded depth network: photo in, :class:`Prediction` out.

    Args:
        model: Hugging Face model id or local model folder (see :func:`resolve_model`).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``; None picks CUDA, then MPS, then CPU.
            CUDA runs in half precision. Resolved when the network first runs, so a depth-cache
            hit never imports torch.
        resolution: The network's input size in pixels (the processor's target
            height and width; aspect-preserving models round it to their patch
            multiple); None keeps the model's own (518 for Depth Anything).

    Raises:
        Photo3DError: If the model cannot be found or downloaded. (A model that is
            not a depth-estimation model, or fails to load, raises on the first
            :meth:`predict`, which loads the network lazily.)

    """

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None, resolution: int | None = None):
        self.model_id = model
        self.folder, self.revision = resolve_model(model)
        config_path = self.folder / "config.json"
        try:
            config = json.loads(config_path.read_text())
        except (OSError, ValueError) as e:
            raise Photo3DError(f"depth model {model}: cannot read {config_path} ({e})") from None
        if not isinstance(config, dict):
            raise Photo3DError(f"depth model {model}: {config_path} does not hold a JSON object")
        self._model_type = config.get("model_type")
        if resolution is not None and not 14 <= resolution <= 4096:
            raise SettingsError("resolution", f"must be between 14 and 4096 pixels, got {resolution}")
        self.resolution = resolution
        self._device_request = device
        self._device: str | None = None
        self._model: PreTrainedModel | None = None
        # the model's own image processor, whose class (and so its call and post-processing) AutoImageProcessor picks
        self._processor: Any = None
        self.kind = _output_kind(config)

    @property
    def device(self) -> str:
        """The torch device the network runs on, chosen (and torch imported) on first use.

        Raises:
            Photo3DError: If the asked device is not available (see :func:`select_device`).

        """
        if self._device is None:
            self._device = select_device(self._device_request)
        return self._device

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        from transformers.models.auto.modeling_auto import MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES
        from transformers.utils import is_torchvision_available

        # checked here rather than in __init__: importing transformers takes seconds, and a cache hit needs none
        if self._model_type not in MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES:
            known = ", ".join(sorted(MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES))
            raise Photo3DError(
                f"{self.model_id} is not a depth-estimation model "
                f"(model_type {self._model_type!r}; transformers knows {known})"
            )
        start = time.perf_counter()
        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        try:
            model = AutoModelForDepthEstimation.from_pretrained(
                self.folder, use_safetensors=True, trust_remote_code=False, dtype=dtype
            )
            backend = "torchvision" if is_torchvision_available() else "pil"
            processor = AutoImageProcessor.from_pretrained(self.folder, trust_remote_code=False, backend=backend)
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise Photo3DError(f"cannot load depth model {self.model_id} from {self.folder}: {first}") from None
        self._model = model.to(self.device).eval()
        self._processor = processor
        log.info(
            "depth model %s (%s, %s) loaded on %s in %.2f s",
            self.model_id,
            model.config.model_type,
            "metric depth" if self.kind == "depth" else "relative inverse depth",
            self.device,
            time.perf_counter() - start,
        )

    def settings_key(self) -> str:
        """A string that identifies the model revision and the settings that change predictions."""
        return f"{self.revision}|resolution={self.resolution}|{_CACHE_VERSION}"

    def predict(self, image: np.ndarray) -> Prediction:
        """Runs the network on one photo.

        The network's output (at its own resolution) is brought to the photo's
        size with :func:`photo3d.depth.upsample.upsample_disparity` (or ``upsample_depth``), so depth edges
        land on the photo's colour edges.

        Args:
            image: (H, W, 3) uint8 RGB photo.

        Returns:
            The prediction at the photo's size (see :class:`Prediction`).

        Raises:
            Photo3DError: For an image of the wrong shape or dtype, a model that is not a
                depth-estimation model or cannot be loaded, or one that fails on the image.

        """
        import torch

        from .upsample import upsample_depth, upsample_disparity

        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise Photo3DError(f"the photo must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
        self._load()
        assert self._model is not None and self._processor is not None  # loaded by _load
        h, w = image.shape[:2]
        kwargs = {}
        if self.resolution is not None:
            kwargs["size"] = {"height": int(self.resolution), "width": int(self.resolution)}
        start = time.perf_counter()
        inputs = self._processor(images=image, return_tensors="pt", **kwargs)
        net_h, net_w = (int(s) for s in inputs["pixel_values"].shape[-2:])
        inputs = {
            k: v.to(self.device, dtype=self._model.dtype) if v.is_floating_point() else v.to(self.device)
            for k, v in inputs.items()
        }
        with torch.inference_mode():
            outputs = self._model(**inputs)
        # The network's grid resampled to the photo's aspect ratio (the processor may stretch by a
        # patch multiple, pad, or flip); the model's own post-processing undoes that.
        scale = max(net_h, net_w) / max(h, w)
        target = (max(1, round(h * scale)), max(1, round(w * scale)))
        post = self._processor.post_process_depth_estimation
        params = inspect.signature(post).parameters
        post_kwargs = {"target_sizes": [target]}
        if "source_sizes" in params:
            post_kwargs["source_sizes"] = [(h, w)]
        result = post(outputs, **post_kwargs)[0]
        low = result["predicted_depth"].float().cpu().numpy().astype(np.float32)
        seconds = time.perf_counter() - start
        focal = result.get("focal_length")
        focal_px = float(focal) * w / target[1] if focal is not None else None
        if self.kind == "disparity":
            values = upsample_disparity(low, image)
        else:  # metric depth; a zero (no return) would have no disparity
            values = upsample_depth(np.maximum(low, 1e-6), image)
        log.info("depth estimated at %dx%d in %.2f s (%s)", net_w, net_h, seconds, self.device)
        return Prediction(values=values, kind=self.kind, model=self.model_id, focal_px=focal_px, seconds=seconds)
