#!/usr/bin/env bash
# The main job in one command: installs what is missing (Debian 12, as root),
# builds vdb, records ~10 s of test video with vdbsink, prints what the store
# holds, plays it back with vdbsrc (full decode, then a seek).
#   examples/quickstart.sh [STORE_DIR]     (default: ./demo-store)
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
STORE="${1:-$VDB_ROOT/demo-store}"
rm -rf "$STORE"

echo "== recording 10 s of H.264 into $STORE (stream 'demo', 4 s segments)"
gst-launch-1.0 -q -e \
  videotestsrc num-buffers=300 pattern=ball ! \
  video/x-raw,format=I420,width=640,height=360,framerate=30/1 ! \
  x264enc speed-preset=ultrafast key-int-max=30 ! h264parse ! \
  vdbsink location="$STORE" stream=demo max-segment-time=4000000000

echo "== what the store holds"
vdb info "$STORE"
vdb verify "$STORE"

echo "== playing it all back in real time: decodebin and a clock-synced sink (about 10 s)"
time gst-launch-1.0 -q vdbsrc location="$STORE" stream=demo ! decodebin ! videoconvert ! \
  fakesink sync=true
echo "decoded to the end without errors (use autovideosink instead of fakesink to watch it)"

echo "== seeking 6.5 s in (accurate: decoding starts at the keyframe before) and playing from there"
"$VDB_BUILD/examples/vdb_app" seek "$STORE" demo +6.5
