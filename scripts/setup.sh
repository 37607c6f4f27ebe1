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
.venv/bin/python -m pip install -q -e ".[test]"
echo "setup: done; the command is .venv/bin/photo3d"
