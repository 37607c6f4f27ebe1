"""Learned inpainting of back layers: a TorchScript network from user-supplied weights.

:class:`TorchScriptInpainter` runs an inpainting network saved with ``torch.jit.save``
under the call convention of LaMa (Suvorov et al., "Resolution-robust Large Mask
Inpainting with Fourier Convolutions", WACV 2022) as packaged by lama-cleaner/IOPaint
(``big-lama.pt``): ``model(image, mask)`` with image (1, 3, H, W) float32 in [0, 1],
mask (1, 1, H, W) float32 with 1 = to fill, H and W multiples of 8, returning the
inpainted image (1, 3, H, W) in [0, 1]. No weights ship with photo3d; the user passes
the file. Tests use :func:`tests.support.models.save_random_inpainter`, a tiny random network
with the same interface.

Like the classical fill in :mod:`photo3d.ldi.inpaint`, the network reads nothing but the
context: every pixel that is not ``known`` (the hole, and any foreground in the crop)
is set to 0 and masked before the network sees it, so it can never leak into the fill.

``torch`` is imported inside the functions: importing this module does not load it.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ..errors import Photo3DError
from ..runtime import select_device

__all__ = ["TorchScriptInpainter"]

log = logging.getLogger(__name__)

_MULTIPLE = 8  # LaMa downsamples three times; IOPaint pads to a multiple of 8
_PROBE = 16  # side of the dummy input that checks the network at construction
_EXPECTED = "a TorchScript inpainting network (torch.jit.save) called as model(image, mask), like LaMa's big-lama.pt"


def _first_line(error: BaseException) -> str:
    """The first non-empty line of an exception's message (at most 200 characters), else its type."""
    for line in str(error).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 200 else line[:197] + "..."
    return type(error).__name__


class TorchScriptInpainter:
    """Fills holes with a TorchScript inpainting network (LaMa call convention).

    The network is loaded and checked at construction: it must take a (1, 3, 16, 16)
    image and a (1, 1, 16, 16) mask and return a (1, 3, 16, 16) tensor.

    :meth:`fill` works on crops: each connected component of the hole is grown by a
    margin (``max(margin, longer side of its bounding box // 2)`` pixels, clipped to the
    image) so the network sees context around it; components whose grown boxes overlap
    share one crop, so a hole is never split between network calls and nearby small
    holes cost one call. A crop whose longer side exceeds ``max_size`` is downscaled
    (``cv2.INTER_AREA``) to fit, inpainted, and the result upscaled (``cv2.INTER_LINEAR``)
    before it is pasted into the hole pixels.

    Attributes:
        name: Label for logs, ``"torchscript:<file name>"``.
        path: The TorchScript file.
        device: The torch device the network runs on (``"cpu"``, ``"cuda"``, ...).
        max_size: Longest crop side, in pixels, that the network is run at.
        margin: Least context margin around each hole component, in pixels.

    Args:
        path: A TorchScript file, e.g. ``big-lama.pt`` from lama-cleaner/IOPaint.
        device: Torch device; None picks CUDA, then MPS, then CPU
            (:func:`photo3d.runtime.select_device`).
        max_size: Longest crop side the network is run at (at least 16); larger crops are
            downscaled. LaMa was trained at 256 px and generalises to about 2k px.
        margin: Least context margin around each hole component, in pixels (at least 0).

    Raises:
        Photo3DError: If ``max_size`` or ``margin`` is out of range, the device is not
            available, the file is missing, is not TorchScript, or its module fails on
            the dummy input or returns something other than a (1, 3, 16, 16) tensor.
            The one-line message names the file and what was expected.

    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        device: str | None = None,
        max_size: int = 1024,
        margin: int = 32,
    ):
        self.path = Path(path).expanduser()
        self.name = f"torchscript:{self.path.name}"
        if not isinstance(max_size, int) or max_size < _PROBE:
            raise Photo3DError(f"inpainting max size must be an integer of at least {_PROBE} pixels, got {max_size!r}")
        if not isinstance(margin, int) or margin < 0:
            raise Photo3DError(f"inpainting margin must be a non-negative integer of pixels, got {margin!r}")
        self.max_size = max_size
        self.margin = margin
        if not self.path.is_file():
            raise Photo3DError(f"inpainting model {self.path} does not exist or is not a file; expected {_EXPECTED}")
        self.device = select_device(device)
        start = time.perf_counter()
        self._model = self._load()
        self._check()
        log.info("inpainting model %s loaded on %s in %.2f s", self.path, self.device, time.perf_counter() - start)

    def _load(self):
        import torch

        try:
            with warnings.catch_warnings():  # torch >= 2.10 deprecates TorchScript; big-lama.pt is TorchScript
                warnings.filterwarnings(
                    "ignore", message=r".*torch\.jit\.load.* is deprecated", category=DeprecationWarning
                )
                model = torch.jit.load(str(self.path), map_location=self.device)
        except Exception as e:  # torch raises RuntimeError, ValueError, pickle errors, ... for a bad file
            raise Photo3DError(
                f"inpainting model {self.path} cannot be loaded as TorchScript ({_first_line(e)}); expected {_EXPECTED}"
            ) from None
        if not isinstance(model, torch.jit.ScriptModule):
            raise Photo3DError(f"inpainting model {self.path} is not a TorchScript module; expected {_EXPECTED}")
        return model.eval()

    def _check(self) -> None:
        """Runs the network on a dummy (1, 3, 16, 16) image with a square hole."""
        import torch

        shape = f"(1, 3, {_PROBE}, {_PROBE})"
        image = torch.linspace(0, 1, 3 * _PROBE * _PROBE).reshape(1, 3, _PROBE, _PROBE)
        mask = torch.zeros(1, 1, _PROBE, _PROBE)
        mask[..., 4:12, 4:12] = 1
        try:
            with torch.inference_mode():
                out = self._model(image.to(self.device), mask.to(self.device))
        except Exception as e:
            raise Photo3DError(
                f"inpainting model {self.path} fails on a {shape} image and (1, 1, {_PROBE}, {_PROBE}) mask "
                f"({_first_line(e)}); expected {_EXPECTED}"
            ) from None
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        if got != (1, 3, _PROBE, _PROBE):
            raise Photo3DError(
                f"inpainting model {self.path} returns {got} for a {shape} image; expected a {shape} tensor from "
                f"{_EXPECTED}"
            )

    def fill(self, color: np.ndarray, known: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """Synthesises the hole pixels from the known pixels only.

        Args:
            color: (H, W, 3) float32 sRGB, 0-255.
            known: (H, W) bool; the context pixels that may be read.
            hole: (H, W) bool; the pixels to synthesise, disjoint from ``known``.

        Returns:
            (H, W, 3) float32, 0-255: equal to ``color`` on ``known`` (and on pixels in
            neither mask, which are don't-care), the network's fill on ``hole``. Pixels
            outside ``known`` never influence the result. With no known pixel the network
            fills from nothing (what it makes of an all-masked input).

        Raises:
            ValueError: If the shapes do not match or ``hole`` overlaps ``known``.
            Photo3DError: If the network fails on a crop (e.g. out of memory: lower
                ``max_size``), returns the wrong shape, or returns non-finite values.

        """
        color = np.asarray(color, dtype=np.float32)
        known = np.asarray(known, dtype=bool)
        hole = np.asarray(hole, dtype=bool)
        if color.ndim != 3 or color.shape[2] != 3 or known.shape != color.shape[:2] or hole.shape != known.shape:
            raise ValueError(
                f"fill expects color (H, W, 3) and known, hole (H, W); got {color.shape}, {known.shape}, {hole.shape}"
            )
        if np.any(hole & known):
            raise ValueError("fill: hole and known overlap; they must be disjoint")
        out = color.copy()
        for (y0, y1, x0, x1), region in self._crops(hole):
            filled = self._run(color[y0:y1, x0:x1], known[y0:y1, x0:x1])
            out[y0:y1, x0:x1][region] = filled[region]
        return out

    def _crops(self, hole: np.ndarray) -> Iterator[tuple[tuple[int, int, int, int], np.ndarray]]:
        """``((y0, y1, x0, x1), hole pixels to paste inside that crop)`` for each group of hole components."""
        h, w = hole.shape
        count, _, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8), connectivity=8)
        boxes = []
        for x, y, bw, bh, _ in stats[1:count]:
            m = max(self.margin, int(max(bw, bh)) // 2)
            boxes.append((max(0, y - m), min(h, y + bh + m), max(0, x - m), min(w, x + bw + m)))
        if len(boxes) <= 1:
            for y0, y1, x0, x1 in boxes:
                yield (y0, y1, x0, x1), hole[y0:y1, x0:x1]
            return
        # overlapping grown boxes share a crop: connected components of their union
        cover = np.zeros((h, w), np.uint8)
        for y0, y1, x0, x1 in boxes:
            cover[y0:y1, x0:x1] = 1
        groups, labels, gstats, _ = cv2.connectedComponentsWithStats(cover, connectivity=4)
        for g in range(1, groups):
            x, y, bw, bh = (int(v) for v in gstats[g, :4])
            y0, y1, x0, x1 = y, y + bh, x, x + bw
            yield (y0, y1, x0, x1), hole[y0:y1, x0:x1] & (labels[y0:y1, x0:x1] == g)

    def _run(self, color: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Inpaints one crop: (h, w, 3) float32 0-255 and (h, w) bool context -> (h, w, 3) float32 0-255."""
        import torch

        h, w = known.shape
        image: np.ndarray = np.where(known[..., None], color, 0.0).astype(np.float32) * np.float32(1 / 255)
        mask = (~known).astype(np.float32)
        scale = self.max_size / max(h, w)
        if scale < 1:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            # a small pixel is context only if all of it was: anything else is masked and zeroed
            mask = (cv2.resize(mask, size, interpolation=cv2.INTER_AREA) > 0).astype(np.float32)
            image[mask > 0] = 0
        sh, sw = mask.shape
        pad = ((0, -sh % _MULTIPLE), (0, -sw % _MULTIPLE))
        image = np.pad(image, (*pad, (0, 0)), mode="symmetric")
        mask = np.pad(mask, pad, mode="symmetric")
        image_t = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))[None]).to(self.device)
        mask_t = torch.from_numpy(mask[None, None]).to(self.device)
        try:
            with torch.inference_mode():
                out = self._model(image_t, mask_t)
        except Exception as e:  # e.g. torch.OutOfMemoryError
            raise Photo3DError(
                f"inpainting model {self.path} failed on a {image.shape[1]}x{image.shape[0]} crop "
                f"({_first_line(e)}); try a smaller inpainting max size"
            ) from None
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, 3, *mask.shape):
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise Photo3DError(f"inpainting model {self.path} returned {got} for a {tuple(image_t.shape)} image")
        out = out[0, :, :sh, :sw].float()
        if not bool(torch.isfinite(out).all()):
            raise Photo3DError(f"inpainting model {self.path} produced non-finite values (NaN or infinity)")
        result: np.ndarray = out.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * np.float32(255)
        if (sh, sw) != (h, w):
            result = cv2.resize(result, (w, h), interpolation=cv2.INTER_LINEAR)
        return result
