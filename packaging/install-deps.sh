#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing Roomscope need.
# Skips the package database refresh and the install when every package is present.
# libqt6opengl6-dev is listed because Qt6Charts's CMake package needs Qt6OpenGL, and
# qt6-charts-dev does not depend on it in Debian 12. esbuild is for the tests: they bundle a
# TypeScript Worker with it, as a project's node_modules/.bin/esbuild would.
set -euo pipefail

packages=(
    qt6-base-dev qt6-websockets-dev qt6-httpserver-dev qt6-charts-dev qt6-svg-dev
    qt6-tools-dev qt6-l10n-tools libqt6sql6-sqlite qt6-qpa-plugins
    libqt6opengl6-dev libsqlite3-dev libmozjs-102-dev libtomlplusplus-dev
    cmake ninja-build g++ pkg-config
    xvfb xauth imagemagick
    esbuild
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages are installed"
    exit 0
fi

run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "install-deps: missing packages: ${missing[*]}" >&2
        echo "install-deps: run this script as root, or install sudo" >&2
        exit 1
    fi
    run_as_root=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
"${run_as_root[@]}" apt-get update -qq
"${run_as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
