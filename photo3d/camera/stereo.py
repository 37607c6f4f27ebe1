"""Stereo output: left and right eye cameras and the composed stereo frame.

Modes (``--stereo``), as stable-diffusion-webui-depthmap-script offers them:

* ``sbs``: full side by side, left eye on the left, ``2w x h``.
* ``tb``: top and bottom, left eye on top, ``w x 2h``.
* ``anaglyph``: red-cyan anaglyph (red filter on the left eye), ``w x h``, with the least-squares matrices of
  E. Dubois, "A projection method to generate anaglyph stereo images", ICASSP 2001, applied in linear light.

The eyes are parallel cameras on the camera's own x axis with shifted principal points (the "lens shift"
or off-axis method), so there is no keystone distortion and points at the convergence depth sit at screen
depth (zero disparity); nearer points come out of the screen.

To keep the photo's edge out of view, compute one zoom for both eyes together and apply it to both about
the same image point, e.g. ``edge_zoom(depth, source, lefts + rights, center=(w / 2, h / 2))`` then
:func:`photo3d.camera.framing.zoom_about` with that centre: the same 2-D zoom of both images keeps the zero-disparity
plane (see :func:`eye_cameras`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import Photo3DError, SettingsError
from .intrinsics import Intrinsics, Pose

__all__ = [
    "DUBOIS_LEFT",
    "DUBOIS_RIGHT",
    "STEREO_MODES",
    "compose_stereo",
    "eye_cameras",
    "stereo_cameras",
    "stereo_frame_size",
]

STEREO_MODES = ("sbs", "tb", "anaglyph")

DUBOIS_LEFT = np.array(
    [
        [0.4561, 0.500484, 0.176381],
        [-0.0400822, -0.0378246, -0.0157589],
        [-0.0152161, -0.0205971, -0.00546856],
    ]
)
"""Dubois (ICASSP 2001) red-cyan matrix for the left eye: linear RGB of the left view -> output linear RGB."""

DUBOIS_RIGHT = np.array(
    [
        [-0.0434706, -0.0879388, -0.00155529],
        [0.378476, 0.73364, -0.0184503],
        [-0.0721527, -0.112961, 1.2264],
    ]
)
"""Dubois (ICASSP 2001) red-cyan matrix for the right eye: linear RGB of the right view -> output linear RGB."""


def _check_mode(mode: str) -> None:
    if mode not in STEREO_MODES:
        raise SettingsError("stereo", f"must be one of {', '.join(STEREO_MODES)}, got {mode!r}")


def eye_cameras(
    pose: Pose, intrinsics: Intrinsics, baseline: float, convergence: float
) -> tuple[tuple[Pose, Intrinsics], tuple[Pose, Intrinsics]]:
    """Left and right eye cameras of a parallel (off-axis) stereo rig centred on a camera.

    The eyes keep the camera's orientation (parallel optical axes) and sit at ``-baseline / 2`` (left) and
    ``+baseline / 2`` (right) along the camera's own x axis (to its right). Their principal points are
    shifted by ``-/+ fx * baseline / (2 * convergence)`` pixels, so a point at planar depth ``Z`` (in the
    centre camera's frame) and camera-frame x projects to::

        u_left  = fx * x / Z + cx + fx * baseline / 2 * (1 / Z - 1 / convergence)
        u_right = fx * x / Z + cx - fx * baseline / 2 * (1 / Z - 1 / convergence)

    so the disparity ``d = u_left - u_right = fx * baseline * (1 / Z - 1 / convergence)`` is zero at the
    convergence depth (screen depth), positive (crossed: in front of the screen) for nearer points and
    negative behind. ``v`` is the same in both eyes. This is the standard parallel-camera "lens shift"
    method (P. Bourke, "Calculating stereo pairs", 1999; Blender's "Off-Axis" stereo convergence mode), which
    avoids the vertical parallax of toed-in cameras.

    Args:
        pose: The centre camera's pose (camera-to-source).
        intrinsics: The centre camera's intrinsics.
        baseline: Distance between the eyes in depth units, >= 0 (0 gives two copies of the camera).
        convergence: Planar depth of the zero-disparity plane in depth units, > 0 (e.g. the subject's depth).

    Returns:
        ``((pose_left, intrinsics_left), (pose_right, intrinsics_right))``.

    Raises:
        Photo3DError: If ``baseline`` is negative or not finite, or ``convergence`` is not a positive number.

    """
    if not (math.isfinite(baseline) and baseline >= 0.0):
        raise Photo3DError(f"the stereo baseline must be a number >= 0, got {baseline}")
    if not (math.isfinite(convergence) and convergence > 0.0):
        raise Photo3DError(f"the stereo convergence depth must be a positive number, got {convergence}")
    axis_x = np.asarray(pose.rotation, dtype=np.float64)[:, 0]
    position = np.asarray(pose.position, dtype=np.float64)
    shift = intrinsics.fx * baseline / (2.0 * convergence)
    rotation = np.array(pose.rotation, dtype=np.float64, copy=True)
    left = (Pose(rotation, position - 0.5 * baseline * axis_x), replace(intrinsics, cx=intrinsics.cx - shift))
    right = (Pose(rotation.copy(), position + 0.5 * baseline * axis_x), replace(intrinsics, cx=intrinsics.cx + shift))
    return left, right


def stereo_cameras(
    cameras: list[tuple[Pose, Intrinsics]], baseline: float, convergence: float
) -> tuple[list[tuple[Pose, Intrinsics]], list[tuple[Pose, Intrinsics]]]:
    """:func:`eye_cameras` of every frame's camera.

    Args:
        cameras: ``(pose, intrinsics)`` of every frame.
        baseline: Distance between the eyes in depth units, >= 0.
        convergence: Planar depth of the zero-disparity plane, > 0.

    Returns:
        ``(lefts, rights)``, lists as long as ``cameras``.

    Raises:
        Photo3DError: As :func:`eye_cameras`.

    """
    pairs = [eye_cameras(pose, k, baseline, convergence) for pose, k in cameras]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def stereo_frame_size(width: int, height: int, mode: str) -> tuple[int, int]:
    """Size of the composed stereo frame for eye views of ``width`` x ``height``.

    ``sbs``: ``(2 * width, height)``, full-resolution side by side (not the squeezed "half SBS" of 3D TVs);
    ``tb``: ``(width, 2 * height)``; ``anaglyph``: ``(width, height)``.

    Raises:
        Photo3DError: For an unknown mode.

    """
    _check_mode(mode)
    if mode == "sbs":
        return 2 * width, height
    if mode == "tb":
        return width, 2 * height
    return width, height


def _srgb_to_linear_lut() -> np.ndarray:
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


_ENCODE_LEVELS = 16384


def _linear_to_srgb_lut() -> np.ndarray:
    x = np.arange(_ENCODE_LEVELS, dtype=np.float64) / (_ENCODE_LEVELS - 1)
    c = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1.0 / 2.4) - 0.055)
    return np.clip(np.round(c * 255.0), 0, 255).astype(np.uint8)


_DECODE = _srgb_to_linear_lut()
_ENCODE = _linear_to_srgb_lut()


def compose_stereo(left: np.ndarray, right: np.ndarray, mode: str) -> np.ndarray:
    """One stereo frame from the two eye views.

    ``sbs``: ``left | right``; ``tb``: left above right; ``anaglyph``: red-cyan, ``out = L_D @ left + R_D @
    right`` per pixel with the Dubois matrices :data:`DUBOIS_LEFT` and :data:`DUBOIS_RIGHT`, computed in
    linear light (sRGB decoded, combined, clipped to [0, 1], encoded; as Dubois prescribes, since the
    least-squares fit is of linear colour). The red channel then comes almost only from the left view and
    green and blue from the right, and a grey or white scene stays neutral (each output row of
    ``L_D + R_D`` sums to 1 within 2e-4).

    Args:
        left: (h, w, 3) uint8 sRGB left-eye view (an alpha channel, if any, is dropped for anaglyph and kept
            otherwise).
        right: Right-eye view of the same shape and dtype.
        mode: ``"sbs"``, ``"tb"`` or ``"anaglyph"``.

    Returns:
        uint8 frame of :func:`stereo_frame_size` (``(h, 2w, C)``, ``(2h, w, C)`` or ``(h, w, 3)``).

    Raises:
        Photo3DError: For an unknown mode.
        ValueError: If the views differ in shape, are not uint8, or have fewer than 3 channels.

    """
    _check_mode(mode)
    left, right = np.asarray(left), np.asarray(right)
    if left.shape != right.shape:
        raise ValueError(f"left and right views differ in shape: {left.shape} and {right.shape}")
    if left.dtype != np.uint8 or right.dtype != np.uint8 or left.ndim != 3 or left.shape[2] < 3:
        raise ValueError(f"views must be (h, w, 3 or 4) uint8, got {left.shape} {left.dtype}")
    if mode == "sbs":
        return np.concatenate([left, right], axis=1)
    if mode == "tb":
        return np.concatenate([left, right], axis=0)
    lin_left = _DECODE[left[..., :3]]
    lin_right = _DECODE[right[..., :3]]
    out = lin_left @ DUBOIS_LEFT.T.astype(np.float32) + lin_right @ DUBOIS_RIGHT.T.astype(np.float32)
    index = np.rint(np.clip(out, 0.0, 1.0) * (_ENCODE_LEVELS - 1)).astype(np.intp)
    return _ENCODE[index]
