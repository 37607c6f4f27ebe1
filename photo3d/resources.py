"""The one loader for the files that ship beside the code: GLSL shaders and trajectory presets.

In a source checkout (or an editable install) they are the top-level
``shaders/`` and ``trajectories/`` folders; a built wheel carries them as
``photo3d/_resources/shaders`` and ``photo3d/_resources/trajectories``.
"""

from __future__ import annotations

from pathlib import Path

from .errors import Photo3DError

__all__ = ["RESOURCE_KINDS", "resource_dir", "resource_path"]

RESOURCE_KINDS = ("shaders", "trajectories")
_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(kind: str) -> Path:
    """The folder that holds one kind of resource.

    Args:
        kind: ``"shaders"`` or ``"trajectories"``.

    Returns:
        An existing directory: the installed copy inside the package if there is
        one, else the folder at the top of the source checkout.

    Raises:
        ValueError: If ``kind`` is not one of :data:`RESOURCE_KINDS`.
        Photo3DError: If neither location exists (a broken installation).

    """
    if kind not in RESOURCE_KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {RESOURCE_KINDS}")
    for candidate in (_PACKAGE_DIR / "_resources" / kind, _PACKAGE_DIR.parent / kind):
        if candidate.is_dir():
            return candidate
    raise Photo3DError(f"photo3d's {kind}/ folder is missing from the installation; reinstall photo3d")


def resource_path(kind: str, name: str) -> Path:
    """Path of the resource file ``name`` (for example ``"mesh.glsl"`` or ``"dolly.toml"``).

    Raises:
        Photo3DError: If the file does not exist.

    """
    path = resource_dir(kind) / name
    if not path.is_file():
        raise Photo3DError(f"photo3d resource {kind}/{name} not found in {path.parent}")
    return path
