"""Finding a Hugging Face depth model's weights: a local folder, the Hugging Face cache, or a download.

A first use downloads the weights (safetensors only, never ``trust_remote_code``) with a progress bar; a
cached model is loaded without touching the network. With no network and nothing cached,
:func:`resolve_model` fails within a few seconds instead of retrying.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import getproxies, proxy_bypass

from ..errors import Photo3DError, SettingsError

__all__ = ["DEFAULT_MODEL", "resolve_model"]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"
"""The default depth model (Apache-2.0, 24.8 M parameters, relative inverse depth)."""


_PROBE_TIMEOUT_S = 3.0


_WEIGHT_PATTERNS = ["*.json", "*.safetensors"]


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
    repo_id, _, pinned = model.partition("@")
    revision = pinned or None
    try:
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=_WEIGHT_PATTERNS, local_files_only=True)
        return _check_folder(Path(folder), model), f"{repo_id}@{Path(folder).name}"
    except HFValidationError:
        raise SettingsError(
            "model", f"{model!r} is neither a local folder nor a Hugging Face model id (owner/name)"
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
