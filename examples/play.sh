#!/usr/bin/env bash
# Play a stream with gst-play-1.0 through the vdb:// URI. In a terminal,
# the arrow keys seek (left/right 10 s), space pauses, q quits.
#   examples/play.sh STORE [STREAM] [extra gst-play-1.0 options, e.g. --videosink=fakesink]
set -euo pipefail
source "$(dirname "$0")/env.sh"
STORE="$(realpath "$1")"; STREAM="${2:-default}"; shift $(( $# >= 2 ? 2 : 1 ))
exec gst-play-1.0 "$@" "vdb://$STORE?stream=$STREAM"
