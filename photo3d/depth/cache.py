"""The on-disk cache of depth predictions, so rendering a photo again does not run the network again."""

from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path

import numpy as np

from ..errors import Photo3DError
from .estimate import DepthEstimator, Prediction

__all__ = ["DepthCache", "default_cache_dir"]

log = logging.getLogger(__name__)


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
