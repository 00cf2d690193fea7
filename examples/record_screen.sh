#!/usr/bin/env bash
# Record the screen (X11). Without a display, starts a virtual one (Xvfb)
# with something moving on it.
#   examples/record_screen.sh [STORE] [SECONDS]
set -euo pipefail
source "$(dirname "$0")/env.sh"
STORE="${1:-$VDB_ROOT/demo-store}"; SECONDS_TO_RECORD="${2:-5}"
if [ -z "${DISPLAY:-}" ]; then
  export DISPLAY=":$((90 + RANDOM % 9))"
  Xvfb "$DISPLAY" -screen 0 640x360x24 -nolisten tcp & XVFB=$!
  sleep 1
  # Something to look at: a test pattern in a window on the virtual screen.
  gst-launch-1.0 -q videotestsrc pattern=ball ! ximagesink & DRAW=$!
  trap 'kill $DRAW $XVFB 2>/dev/null' EXIT
  sleep 1
fi
echo "recording display $DISPLAY for $SECONDS_TO_RECORD s into $STORE (stream screen)"
timeout -s INT "$SECONDS_TO_RECORD" gst-launch-1.0 -e -q \
  ximagesrc use-damage=false ! video/x-raw,framerate=15/1 ! videoconvert ! \
  x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse ! \
  vdbsink location="$STORE" stream=screen || [ $? = 124 ]
vdb info "$STORE"
