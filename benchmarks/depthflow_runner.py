"""Installs and runs BrokenSource's DepthFlow (PyPI ``depthflow``) for side-by-side render timings.

DepthFlow is AGPL and pulls its own stack (shaderflow, moderngl, imgui-bundle, ...), so it lives in a
throw-away virtual environment (default ``$TMPDIR/photo3d-bench-depthflow``, reused when it already works)
and is only ever run as a subprocess; nothing of it is imported here.

How it is driven (DepthFlow 1.0.1 / shaderflow 0.12.0):

* Depth estimation is never used: the given depth map is loaded by a small driver script (written into the
  venv) and handed to ``DepthScene.input(image=..., depth=...)`` as float32 in [0, 1], white = near.
  This matters: DepthFlow's own ``input -d file.png`` uploads a 16-bit PNG as an *integer* texture
  (moderngl ``u2``) that its ``sampler2D`` reads as zero, i.e. the clip renders with a flat depth map.
* Integer depth images (8/16-bit PNG) are taken as disparity (larger = nearer), as photo3d's ``--depth-kind
  auto`` does; float arrays (``.npy``, float TIFF/EXR) are taken as planar depth and inverted.
* The camera motion is one of DepthFlow's own presets (``depthflow.examples.presets``: ``circle`` by default,
  or ``horizontal``, ``vertical``, ``dolly``, ``orbital``, ``zoom``), one full loop over the clip;
  ``none`` is the plain CLI scene, whose camera stands still (1.0.1's ``DepthScene.update`` is empty), hence
  the presets. Motion barely changes the cost (540x960 at SSAA 2: 8.3 CPU s for 4 frames either way).
* Frame count and size are exact (DepthFlow renders round(time * fps) frames; ``-t frames/fps``), except that
  odd widths/heights are rounded down to even. Any SSAA > 0 is accepted, fractional too (< 1 renders
  smaller and lets ffmpeg upscale).
* The rest of the command line is DepthFlow's own CLI chain, e.g.
  ``h264 --preset veryfast --crf 18 main -o out.mp4 -w 1080 -h 1920 -f 30 -t 4.0 --ssaa 2``,
  headless on EGL (``backend="headless"``; shaderflow uses EGL on Linux by default), encoding with the
  ``ffmpeg`` that imageio-ffmpeg bundles (symlinked into the venv's ``bin``, which goes first on PATH).
  libx264 ``veryfast`` / CRF 18 / yuv420p matches photo3d's own mp4 writer.

    .venv/bin/python benchmarks/depthflow_runner.py                     # install + 320x568, 10 frames
    .venv/bin/python benchmarks/depthflow_runner.py --size 1080x1920 --frames 12 --ssaa 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_VERSION = "1.0.1"
DEFAULT_VENV = Path(tempfile.gettempdir()) / "photo3d-bench-depthflow"
TORCH_VERSION = "2.13.0"  # the CPU wheel pip finds locally; an unpinned torch pulls gigabytes of CUDA
MOTIONS = ("circle", "horizontal", "vertical", "dolly", "orbital", "zoom", "none")
DRIVER_NAME = "photo3d_depthflow_driver.py"
MARKER_NAME = "photo3d-depthflow.json"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

# What depthflow 1.0.1 declares, less the depth-estimation stack (torch, torchvision, transformers) that is
# never imported when a depth map is given, plus imageio-ffmpeg for an ffmpeg binary.
RUNTIME_DEPS = [
    "attrs",
    "cyclopts",
    "diskcache",
    "imageio",
    "numpy",
    "pillow",
    "platformdirs",
    "pooch",
    "pydantic",
    "scipy",
    "shaderflow",
    "xxhash",
    "imageio-ffmpeg",
]

DRIVER_SOURCE = '''\
"""Renders one DepthFlow clip from a given image and depth map (written by photo3d benchmarks/depthflow_runner.py).

    python photo3d_depthflow_driver.py --motion circle --image IMG --depth DEPTH  <DepthFlow CLI chain>
"""

import argparse
import sys

import imageio.v3 as iio
import numpy as np

PRESETS = {
    "circle": "Circle",
    "horizontal": "Horizontal",
    "vertical": "Vertical",
    "dolly": "Dolly",
    "orbital": "Orbital",
    "zoom": "Zoom",
    "none": None,
}


def load_depth(path):
    if path.lower().endswith(".npy"):
        depth = np.load(path)
    else:
        depth = iio.imread(path)
    depth = np.asarray(depth)
    if depth.ndim == 3:
        depth = depth[..., 0]
    if np.issubdtype(depth.dtype, np.floating):
        depth = depth.astype(np.float64)
        ok = np.isfinite(depth) & (depth > 0)
        disparity = np.zeros_like(depth)
        disparity[ok] = 1.0 / depth[ok]
    else:
        disparity = depth.astype(np.float64)
    lo, hi = float(disparity.min()), float(disparity.max())
    return ((disparity - lo) / max(hi - lo, 1e-12)).astype(np.float32)


def main():
    # No -h here (DepthFlow's "main -h" is the height), no abbreviations (its options pass through).
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--motion", default="circle", choices=sorted(PRESETS))
    parser.add_argument("--image", required=True)
    parser.add_argument("--depth", required=True)
    args, rest = parser.parse_known_args()

    from depthflow.examples import presets

    image = np.asarray(iio.imread(args.image))
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = np.ascontiguousarray(image[..., :3])
    if image.dtype != np.uint8:
        top = 1.0 if np.issubdtype(image.dtype, np.floating) else float(np.iinfo(image.dtype).max)
        image = (np.clip(image.astype(np.float64) / top, 0.0, 1.0) * 255.0).round().astype(np.uint8)

    if PRESETS[args.motion] is None:  # DepthFlow's plain CLI scene: a still camera
        from depthflow.scene import DepthScene as scene_class
    else:
        scene_class = getattr(presets, PRESETS[args.motion])
    scene = scene_class(backend="headless")
    scene.input(image=image, depth=load_depth(args.depth))
    scene.cli.meta(rest)


if __name__ == "__main__":
    sys.exit(main())
'''


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _tail(text: str, n: int = 1) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:]) if lines else "(no output)"


def _write_driver(venv: Path) -> Path:
    driver = venv / DRIVER_NAME
    if not driver.is_file() or driver.read_text() != DRIVER_SOURCE:
        driver.write_text(DRIVER_SOURCE)
    return driver


def _check(python: Path, version: str) -> str | None:
    """Returns None if the venv has DepthFlow ``version`` and the bundled ffmpeg on its bin, else why not."""
    if not python.exists():
        return f"{python} does not exist"
    code = (
        "import depthflow, shaderflow, imageio_ffmpeg, moderngl, turbopipe; "
        "print(depthflow.__version__); print(imageio_ffmpeg.get_ffmpeg_exe())"
    )
    try:
        r = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot run {python}: {e}"
    if r.returncode != 0:
        return f"import check failed: {_tail(r.stderr)}"
    found, ffmpeg_exe = r.stdout.split()[:2]
    if found != version:
        return f"has depthflow {found}, not {version}"
    link = python.parent / "ffmpeg"
    if not link.exists():
        link.unlink(missing_ok=True)
        link.symlink_to(ffmpeg_exe)
    return None


def _pip(python: Path, *args: str, timeout: float = 1800) -> str | None:
    """Runs ``python -m pip install ARGS``; returns None on success, else a one-line reason."""
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"`pip install {' '.join(args)}` timed out after {timeout:.0f}s"
    if r.returncode != 0:
        errors = [line for line in r.stderr.splitlines() if line.startswith("ERROR")] or r.stderr.splitlines()
        return f"`pip install {' '.join(args)}` failed: {_tail(chr(10).join(errors))}"
    return None


def _no_cuda(python: Path, wanted: tuple[str, ...]) -> str | None:
    """None if ``pip install WANTED`` would pull no nvidia-* (CUDA) package, else a one-line reason."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        if (reason := _pip(python, "--dry-run", "--quiet", "--report", str(report), *wanted)) is not None:
            return reason
        names = [item["metadata"]["name"] for item in json.loads(report.read_text()).get("install", [])]
    cuda = [name for name in names if name.lower().startswith("nvidia")]
    if cuda:
        return f"`pip install {' '.join(wanted)}` would pull CUDA packages ({', '.join(cuda[:3])}, ...)"
    return None


def ensure_depthflow(
    venv: Path | None = None, version: str = DEFAULT_VERSION, *, with_torch: bool = False
) -> Path | None:
    """Creates (or reuses) a venv with DepthFlow installed; returns its python, or None (with a printed one-line reason) if it cannot be installed.

    By default only DepthFlow's rendering dependencies are installed (``depthflow --no-deps`` plus
    ``RUNTIME_DEPS``): the depth-estimation stack (torch, torchvision, transformers, ~1.2 GB) is never used
    when a depth map is given. ``with_torch=True`` installs DepthFlow with all its declared dependencies in one
    resolve with torch pinned to the local CPU wheel ``torch==2.13.0`` (~1.5 GB venv), after a dry run has
    shown that no CUDA (nvidia-*) package would come with it.
    """  # noqa: E501
    venv = Path(venv) if venv is not None else DEFAULT_VENV
    python = _venv_python(venv)
    if python.exists() and _check(python, version) is None:
        _write_driver(venv)
        return python

    if venv.exists():
        if not (venv / "pyvenv.cfg").is_file():
            print(f"depthflow: skipped: {venv} exists and is not a virtual environment")
            return None
        shutil.rmtree(venv)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"depthflow: skipped: cannot create a venv at {venv}: {_tail(getattr(e, 'stderr', '') or str(e))}")
        return None

    print(f"depthflow: installing depthflow=={version} into {venv} ...", flush=True)
    if with_torch:
        # One resolve with torch pinned: installed in two steps, pip upgrades torch to what the newest
        # torchvision wants, CUDA packages and all. A dry run first refuses any nvidia-* package.
        wanted = (f"torch=={TORCH_VERSION}", f"depthflow=={version}", "imageio-ffmpeg")
        if (reason := _no_cuda(python, wanted)) is not None:
            print(f"depthflow: skipped: {reason}")
            return None
        steps = [wanted]
    else:
        steps = [("--no-deps", f"depthflow=={version}"), tuple(RUNTIME_DEPS)]
    for args in steps:
        if (reason := _pip(python, *args)) is not None:
            print(f"depthflow: skipped: {reason}")
            return None
    if (reason := _check(python, version)) is not None:
        print(f"depthflow: skipped: installed but unusable: {reason}")
        return None
    _write_driver(venv)
    (venv / MARKER_NAME).write_text(json.dumps({"depthflow": version, "with_torch": with_torch}) + "\n")
    return python


def _count_frames(python: Path, video: Path) -> tuple[int, tuple[int, int]]:
    """(frames, (width, height)) of ``video``, decoded by imageio-ffmpeg (here, or in the DepthFlow venv)."""
    code = (
        "import imageio_ffmpeg as f, sys, json; p = sys.argv[1]; g = f.read_frames(p); m = next(g); g.close(); "
        "print(json.dumps([f.count_frames_and_secs(p)[0], list(m['size'])]))"
    )
    try:
        import imageio_ffmpeg  # noqa: F401

        exe = sys.executable
    except ImportError:
        exe = str(python)
    r = subprocess.run([exe, "-c", code, str(video)], capture_output=True, text=True, timeout=600, check=True)
    n, size = json.loads(r.stdout)
    return int(n), (int(size[0]), int(size[1]))


def run_depthflow(
    python: Path,
    image: Path,
    depth: Path,
    out: Path,
    width: int,
    height: int,
    frames: int,
    fps: float,
    ssaa: float,
    timeout: float = 1800,
    *,
    motion: str = "circle",
    crf: int = 18,
    x264_preset: str = "veryfast",
) -> dict | None:
    """Renders one clip with DepthFlow given an image and its depth map (no depth estimation!). Returns {"seconds": wall time of the render+encode subprocess, "peak_rss_mb": ..., "frames": frames actually written (check the output with imageio_ffmpeg), "command": [...]} or None with a printed reason.

    ``peak_rss_mb`` is the largest resident set of the DepthFlow process or its ffmpeg child (``wait4``).
    The dict also holds ``size`` (the video's width, height), ``depthflow_seconds`` (DepthFlow's own
    render-loop time from its log, without interpreter start-up, imports and shader compile), ``cpu_seconds``
    (user + system time of the process and its ffmpeg child; far below ``seconds`` x cores means a busy machine)
    and ``motion``.
    """  # noqa: E501
    python, image, depth, out = Path(python), Path(image), Path(depth), Path(out)
    if motion not in MOTIONS:
        print(f"depthflow: skipped: unknown motion {motion!r} (one of {', '.join(MOTIONS)})")
        return None
    if frames < 1 or fps <= 0 or ssaa <= 0 or width < 2 or height < 2:
        print(f"depthflow: skipped: bad settings {width}x{height}, {frames} frames, {fps} fps, SSAA {ssaa}")
        return None
    for p in (python, image, depth):
        if not p.exists():
            print(f"depthflow: skipped: {p} does not exist")
            return None
    driver = _write_driver(python.parent.parent)
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)

    # DepthFlow renders round(time * fps) frames and ffmpeg cuts at -t = time, so time = frames / fps is exact.
    command = [
        str(python), str(driver), "--motion", motion, "--image", str(image.absolute()),
        "--depth", str(depth.absolute()),
        "h264", "--preset", x264_preset, "--crf", str(crf),
        "main", "-o", str(out), "-w", str(width), "-h", str(height),
        "-f", repr(float(fps)), "-t", repr(frames / float(fps)), "--ssaa", repr(float(ssaa)),
    ]  # fmt: skip
    env = dict(os.environ)
    env.update(
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        WINDOW_BACKEND="headless",
        HF_HUB_OFFLINE="1",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)

    with tempfile.TemporaryFile(mode="w+b") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = t0 + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")

    if timed_out:
        print(f"depthflow: no result: timed out after {timeout:.0f}s")
        return None
    if proc.returncode != 0:
        errors = [line for line in text.splitlines() if "Error" in line or "error" in line]
        print(f"depthflow: failed (exit {proc.returncode}): {_tail(chr(10).join(errors) or text)}")
        return None
    if not out.is_file() or out.stat().st_size == 0:
        print(f"depthflow: failed: no video at {out}: {_tail(text)}")
        return None
    try:
        written, size = _count_frames(python, out)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        print(f"depthflow: failed: cannot read back {out}: {e}")
        return None
    if written != frames or size != (width, height):
        print(f"depthflow: note: asked for {frames} frames of {width}x{height}, got {written} of {size[0]}x{size[1]}")
    took = re.search(r"Took\s+([0-9.]+)s", re.sub(r"\s+", " ", text))
    return {
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "frames": written,
        "command": command,
        "size": size,
        "depthflow_seconds": float(took.group(1)) if took else None,
        "motion": motion,
    }


def _du_mb(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            p = Path(root) / name
            if not p.is_symlink():
                total += p.stat().st_size
    return total / 1e6


def main() -> int:
    moon = REAL / "peer_3dphoto_moon"
    parser = argparse.ArgumentParser(description="Install DepthFlow into a venv and time one clip.")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--with-torch", action="store_true", help="install DepthFlow's full declared dependencies")
    parser.add_argument("--image", type=Path, default=moon / "image" / "moon.jpg")
    parser.add_argument("--depth", type=Path, default=moon / "depth" / "moon.png")
    parser.add_argument("--size", default="320x568", help="WIDTHxHEIGHT")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--ssaa", type=float, default=1.0)
    parser.add_argument("--motion", default="circle", choices=MOTIONS)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "photo3d-depthflow-smoke.mp4")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    t0 = time.perf_counter()
    python = ensure_depthflow(args.venv, args.version, with_torch=args.with_torch)
    if python is None:
        return 1
    print(f"depthflow {args.version} ready in {time.perf_counter() - t0:.1f}s: {python}")
    row = run_depthflow(
        python,
        args.image,
        args.depth,
        args.out,
        width,
        height,
        args.frames,
        args.fps,
        args.ssaa,
        motion=args.motion,
    )
    if row is None:
        return 1
    print("command:", " ".join(row["command"]))
    print(
        f"{row['frames']} frames of {row['size'][0]}x{row['size'][1]} at SSAA {args.ssaa:g} ({row['motion']}): "
        f"{row['seconds']:.2f}s wall, {row['seconds'] / max(row['frames'], 1):.3f} s/frame "
        f"(DepthFlow's own loop {row['depthflow_seconds']}s, {row['cpu_seconds']:.1f} CPU s), "
        f"peak RSS {row['peak_rss_mb']:.0f} MB"
    )
    print(f"video: {args.out}; venv: {_du_mb(args.venv):.0f} MB on disk")
    return 0


if __name__ == "__main__":
    sys.exit(main())
