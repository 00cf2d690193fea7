#!/usr/bin/env bash
# The web page of `vdb serve` in headless Chromium (browser_test.py), against
# 15 s of H.264 with AAC recorded here. Called by `meson test --suite
# clients` with the build directory as $1. Skipped, with the reason printed
# and logged, only where Chromium is missing or cannot start.
set -euo pipefail
BUILD="$1"
skip() {
  echo "SKIP browser_test: $1"
  [ -n "${VDB_SKIP_LOG:-}" ] && echo "SKIP browser_test: $1" >> "$VDB_SKIP_LOG"
  exit 77
}
command -v chromium > /dev/null || skip "chromium not installed (Debian package chromium)"
/usr/bin/python3 -c "import websocket" 2> /dev/null ||
  skip "python3-websocket not installed (Debian package python3-websocket)"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
GST_PLUGIN_PATH="$BUILD/gst" gst-launch-1.0 -q videotestsrc num-buffers=450 pattern=ball ! \
  video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! \
  x264enc key-int-max=30 speed-preset=ultrafast ! h264parse ! \
  vdbsink name=rec location="$WORK/store" stream=cam max-segment-time=2000000000 \
  audiotestsrc num-buffers=700 samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=1 ! \
  avenc_aac ! rec.audio_0
rc=0
GST_PLUGIN_PATH="$BUILD/gst" /usr/bin/python3 "$(dirname "$0")/browser_test.py" \
  --vdb "$BUILD/tools/vdb" --store "$WORK/store" --stream cam || rc=$?
[ "$rc" = 77 ] && skip "Chromium could not start (its output is above)"
exit "$rc"
