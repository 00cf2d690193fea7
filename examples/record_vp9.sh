#!/usr/bin/env bash
# Record VP9.
#   examples/record_vp9.sh [STORE] [SECONDS]
set -euo pipefail
source "$(dirname "$0")/env.sh"
STORE="${1:-$VDB_ROOT/demo-store}"; SECONDS_TO_RECORD="${2:-5}"
echo "recording $SECONDS_TO_RECORD s of VP9 into $STORE (stream vp9)"
gst-launch-1.0 -e -q videotestsrc num-buffers=$((SECONDS_TO_RECORD * 30)) pattern=ball ! \
  video/x-raw,format=I420,width=640,height=360,framerate=30/1 ! vp9enc deadline=1 cpu-used=8 keyframe-max-dist=60 ! \
  vdbsink location="$STORE" stream=vp9
vdb info "$STORE"
