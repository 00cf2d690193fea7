#!/usr/bin/env bash
# Record an RTSP camera. A local test server stands in for the camera.
#   examples/record_rtsp_camera.sh [STORE] [SECONDS] [rtsp://camera/url]
# With a URL, records that camera instead of starting the test server.
set -euo pipefail
source "$(dirname "$0")/env.sh"
STORE="${1:-$VDB_ROOT/demo-store}"; SECONDS_TO_RECORD="${2:-5}"; URL="${3:-}"
if [ -z "$URL" ]; then
  PORT=$((20000 + RANDOM % 20000))
  rtsp_camera_server "$PORT" & SERVER=$!
  trap 'kill $SERVER 2>/dev/null' EXIT
  URL="rtsp://127.0.0.1:$PORT/cam"
  sleep 1
fi
echo "recording $URL for $SECONDS_TO_RECORD s into $STORE (stream cam1)"
# -e: Ctrl-C (here: timeout's SIGINT) sends EOS, the last segment is sealed.
timeout -s INT "$SECONDS_TO_RECORD" gst-launch-1.0 -e -q \
  rtspsrc location="$URL" latency=200 protocols=tcp ! rtph264depay ! h264parse ! \
  vdbsink location="$STORE" stream=cam1 max-segment-time=60000000000 || [ $? = 124 ]
vdb info "$STORE"
