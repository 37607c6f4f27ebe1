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

Weights come through the Hugging Face cache (``HF_HOME``): a first use downloads
them (safetensors only, never ``trust_remote_code``) with a progress bar; a cached
model is loaded without touching the network. With no network and nothing cached,
:func:`resolve_model` fails within a few seconds instead of retrying.

Results are cached on disk (:class:`DepthCache`), keyed by the decoded pixels, the
model's exact revision and the settings, so rendering the same photo again
(another trajectory, other near/far) does not run the network again.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import getproxies, proxy_bypass

import numpy as np

from ..errors import Photo3DError
from ..runtime import select_device

__all__ = [
    "DEFAULT_FAR",
    "DEFAULT_MODEL",
    "DEFAULT_NEAR",
    "METRIC_MODEL_TYPES",
    "DepthCache",
    "DepthEstimator",
    "Prediction",
    "default_cache_dir",
    "prediction_to_depth",
    "relative_disparity_to_depth",
    "resolve_model",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"
"""The default depth model (Apache-2.0, 24.8 M parameters, relative inverse depth)."""

DEFAULT_NEAR: float = 1.0
"""Depth given to the nearest pixel of a relative (inverse-depth) prediction."""

DEFAULT_FAR: float = 60.0
"""Depth given to the farthest pixel of a relative prediction: 60 x near, 3d-photo-inpainting's ratio."""

METRIC_MODEL_TYPES = frozenset({"zoedepth", "depth_pro", "glpn", "prompt_depth_anything", "chmv2"})
"""``config.model_type`` values whose output is metric planar depth in metres (Depth Anything
is metric when its ``config.depth_estimation_type`` is ``"metric"``); every other model
type is taken to predict relative inverse depth."""

_PROBE_TIMEOUT_S = 3.0
_WEIGHT_PATTERNS = ["*.json", "*.safetensors"]
_CACHE_VERSION = "2"


def _offline_message(model: str, reason: str) -> str:
    return (
        f"depth model {model} is not in the Hugging Face cache and cannot be downloaded ({reason}); "
        f"pass --depth PATH to use a depth map you have, or download the weights ahead of time on a "
        f"machine with internet access (hf download {model}) into the cache that HF_HOME points to "
        f"(now {_hf_home()}), or give --depth-model a local model folder"
    )


def _hf_home() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HOME)


def _hub_reachable(endpoint: str, timeout: float = _PROBE_TIMEOUT_S) -> str | None:
    """None if a TCP connection to the hub opens within ``timeout`` seconds, else the reason.

    The probe runs in a thread so that a hanging DNS lookup cannot hold the caller. When a
    proxy is configured for the endpoint (``HTTPS_PROXY``, ``NO_PROXY``, ...), the proxy is probed.
    """
    url = urlparse(endpoint)
    proxy = None if proxy_bypass(url.hostname or "") else getproxies().get(url.scheme)
    if proxy:
        url = urlparse(proxy if "://" in proxy else f"http://{proxy}")
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    result: list[str | None] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(None)
        except OSError as e:
            result.append(f"{host} is unreachable: {e.strerror or e}")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else f"no answer from {host} within {timeout:g} s"


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model


def resolve_model(model: str = DEFAULT_MODEL) -> tuple[Path, str]:
    """Finds a depth model's files on disk, downloading them on first use.

    Args:
        model: A Hugging Face model id (``owner/name``, optionally ``owner/name@revision``)
            or a local folder holding ``config.json`` and ``*.safetensors`` weights.

    Returns:
        ``(folder, revision)``: the folder to load from, and a string that changes
        whenever the weights change (the hub commit hash, or for a local folder the
        sizes and modification times of its files); it keys the depth cache.

    Raises:
        Photo3DError: For a missing local folder or one without config/safetensors,
            an unknown model id, a model without safetensors weights, or no network
            with nothing cached (within about 3 seconds; the message names
            ``--depth``, how to download ahead of time, and ``HF_HOME``).

    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    path = Path(model).expanduser()
    if path.is_dir():
        return _check_folder(path, model), _folder_revision(path)
    if path.exists() or _looks_like_path(model):
        raise Photo3DError(f"depth model folder {model} does not exist or is not a folder")
    repo_id, _, revision = model.partition("@")
    revision = revision or None
    try:
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=_WEIGHT_PATTERNS, local_files_only=True)
        return _check_folder(Path(folder), model), f"{repo_id}@{Path(folder).name}"
    except HFValidationError:
        raise Photo3DError(
            f"--depth-model {model!r} is neither a local folder nor a Hugging Face model id (owner/name)"
        ) from None
    except (LocalEntryNotFoundError, FileNotFoundError, Photo3DError):
        pass  # not (completely) cached: download
    if constants.HF_HUB_OFFLINE:
        raise Photo3DError(_offline_message(model, "HF_HUB_OFFLINE is set"))
    reason = _hub_reachable(constants.ENDPOINT)
    if reason is not None:
        raise Photo3DError(_offline_message(model, reason))
    log.info("downloading depth model %s into %s (first use)", model, constants.HF_HUB_CACHE)
    try:
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=_WEIGHT_PATTERNS, etag_timeout=5)
    except (RepositoryNotFoundError, GatedRepoError):
        raise Photo3DError(
            f"depth model {model} was not found on the Hugging Face hub (or needs a login: hf auth login); "
            "check the id, e.g. depth-anything/Depth-Anything-V2-Small-hf"
        ) from None
    except RevisionNotFoundError:
        raise Photo3DError(f"depth model {repo_id} has no revision {revision!r}") from None
    except (OSError, ValueError) as e:
        raise Photo3DError(f"cannot download depth model {model}: {str(e).splitlines()[0] if str(e) else e}") from None
    return _check_folder(Path(folder), model), f"{repo_id}@{Path(folder).name}"


def _check_folder(folder: Path, model: str) -> Path:
    if not (folder / "config.json").is_file():
        raise Photo3DError(f"depth model {model} has no config.json in {folder}: not a Hugging Face model folder")
    if not any(folder.glob("*.safetensors")):
        raise Photo3DError(
            f"depth model {model} has no .safetensors weights in {folder}; photo3d loads safetensors only "
            "(pickled .bin weights can run arbitrary code)"
        )
    return folder


def _folder_revision(folder: Path) -> str:
    parts = []
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.suffix in (".json", ".safetensors"):
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return f"{folder.resolve()}|" + ",".join(parts)


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
            raise Photo3DError(f"--depth-resolution must be between 14 and 4096 pixels, got {resolution}")
        self.resolution = resolution
        self._device_request = device
        self._device: str | None = None
        self._model = None
        self._processor = None
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


def default_cache_dir() -> Path:
    """Where depth results are cached.

    ``$PHOTO3D_CACHE``, else ``$XDG_CACHE_HOME/photo3d``, else ``~/.cache/photo3d``.
    """
    if os.environ.get("PHOTO3D_CACHE"):
        return Path(os.environ["PHOTO3D_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "photo3d"


class DepthCache:
    """On-disk cache of predictions, one ``.npz`` file per (photo pixels, model revision, settings).

    The key hashes the decoded pixels (so a renamed or re-saved copy of a photo
    hits, a retouched one misses), the model's revision (:func:`resolve_model`)
    and the estimator's settings. Files are written under a temporary name and
    renamed, so an interrupted run never leaves a truncated entry; an unreadable
    entry is treated as a miss.

    Args:
        folder: The cache folder (default :func:`default_cache_dir` ``/ "depth"``).

    """

    def __init__(self, folder: str | os.PathLike[str] | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir() / "depth"

    @staticmethod
    def key(image: np.ndarray, settings: str) -> str:
        """Hex SHA-256 of the (H, W, 3) uint8 pixels, their shape and the settings string."""
        digest = hashlib.sha256()
        digest.update(f"{image.shape}|{image.dtype}|{settings}|".encode())
        digest.update(np.ascontiguousarray(image).data)
        return digest.hexdigest()

    def path(self, key: str) -> Path:
        """The file of one entry."""
        return self.folder / f"{key}.npz"

    def load(self, key: str) -> Prediction | None:
        """The cached prediction, or None on a miss or an unreadable entry."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                focal = float(data["focal_px"])
                return Prediction(
                    values=data["values"].astype(np.float32),
                    kind=str(data["kind"]),
                    model=str(data["model"]),
                    focal_px=focal if np.isfinite(focal) else None,
                )
        except (OSError, ValueError, KeyError, EOFError) as e:
            log.warning("ignoring unreadable depth cache entry %s (%s)", path, e)
            return None

    def store(self, key: str, prediction: Prediction) -> None:
        """Saves a prediction; a failure to write only logs a warning."""
        from ..io.outputs import atomic_output

        buffer = io.BytesIO()
        np.savez(
            buffer,
            values=prediction.values.astype(np.float32),
            kind=np.str_(prediction.kind),
            model=np.str_(prediction.model),
            focal_px=np.float64(np.nan if prediction.focal_px is None else prediction.focal_px),
        )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_output(self.path(key)) as tmp:
                tmp.write_bytes(buffer.getvalue())
        except (OSError, Photo3DError) as e:
            log.warning("cannot write the depth cache %s (%s); continuing without it", self.folder, e)

    def predict(self, estimator: DepthEstimator, image: np.ndarray) -> tuple[Prediction, bool]:
        """``estimator.predict(image)`` through the cache.

        Returns:
            ``(prediction, hit)``: hit is True when the network did not run.

        """
        key = self.key(image, estimator.settings_key())
        cached = self.load(key)
        if cached is not None and cached.values.shape == image.shape[:2]:
            log.info("depth from the cache (%s)", self.path(key))
            return cached, True
        prediction = estimator.predict(image)
        self.store(key, prediction)
        return prediction, False
