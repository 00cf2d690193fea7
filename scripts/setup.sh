#!/usr/bin/env bash
# Installs what vdb needs on Debian 12 (only what is missing; apt-get update
# once, as root) and builds it into ./build. Sourced by the README's commands.
set -euo pipefail
VDB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VDB_BUILD="${VDB_BUILD:-$VDB_ROOT/build}"

VDB_PACKAGES=(
  g++ meson ninja-build pkg-config
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  nlohmann-json3-dev libgtest-dev libsoup-3.0-dev
  libcurl4-openssl-dev
  ${VDB_EXTRA_PACKAGES:-}
)

vdb_install_missing() {
  local missing=() p
  for p in "${VDB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "vdb: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Optional parts are enabled by what pkg-config finds at configure time
# (gstreamer-rtsp-server-1.0: the stand-in RTSP camera). When one appears or
# changes after the first build, the build is configured again.
VDB_OPTIONAL_PC=(gstreamer-rtsp-server-1.0)

vdb_optional_deps() {
  local pc
  for pc in "${VDB_OPTIONAL_PC[@]}"; do
    echo "$pc $(pkg-config --modversion "$pc" 2>/dev/null || echo absent)"
  done
}

vdb_build() {
  local stamp="$VDB_BUILD/vdb-optional-deps.txt" deps
  deps="$(vdb_optional_deps)"
  if [ ! -f "$VDB_BUILD/build.ninja" ]; then
    meson setup "$VDB_BUILD" "$VDB_ROOT" ${VDB_MESON_ARGS:-} >/dev/null
  elif [ "$(cat "$stamp" 2>/dev/null)" != "$deps" ]; then
    echo "vdb: optional dependencies changed, configuring the build again"
    meson setup --reconfigure "$VDB_BUILD" "$VDB_ROOT" ${VDB_MESON_ARGS:-} >/dev/null
  fi
  echo "$deps" > "$stamp"
  meson compile -C "$VDB_BUILD" -j 2 >/dev/null || meson compile -C "$VDB_BUILD" -j 2
}

if [ "${VDB_SKIP_SETUP:-}" != 1 ]; then  # set by the test runner: already done
  vdb_install_missing
  vdb_build
fi
export GST_PLUGIN_PATH="$VDB_BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export PATH="$VDB_BUILD/tools:$PATH"
