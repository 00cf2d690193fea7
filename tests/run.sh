#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12, as root), builds,
# runs every test. Usage: tests/run.sh [meson test args...]
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
meson test -C "$VDB_BUILD" --print-errorlogs --num-processes 2 "$@"
