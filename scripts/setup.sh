#!/usr/bin/env bash
# Sets up photo3d from a fresh checkout on Debian/Ubuntu: the system libraries for
# headless OpenGL (EGL with Mesa, which falls back to the llvmpipe CPU renderer
# when there is no GPU) and for open3d, then a virtual environment in .venv with
# photo3d and its test dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri libusb-1.0-0)
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  installed=$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -c "install ok installed" || true)
  if [ "$installed" = "${#packages[@]}" ]; then
    echo "setup: system libraries already installed"
  else
    echo "setup: installing ${packages[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  fi
else
  echo "setup: not a Debian/Ubuntu system; make sure EGL/Mesa (libEGL, libGL) are installed" >&2
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned: an unpinned "torch" pulled in by the dependencies would fetch gigabytes of
# CUDA packages. Keep a torch you installed yourself (e.g. a CUDA build), or set TORCH_SPEC.
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
fi
.venv/bin/python -m pip install -q -e ".[test]"
echo "setup: done; the command is .venv/bin/photo3d"
