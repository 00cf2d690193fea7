#!/usr/bin/env bash
# Record live video with its audio beside it (H.264 + Opus), then export it.
#   examples/record_av.sh [STORE] [SECONDS]
# A camera's audio comes the same way: rtspsrc name=r  r. ! rtph264depay !
# h264parse ! vdbsink name=rec ...  r. ! rtppcmadepay ! rec.audio_0
set -euo pipefail
source "$(dirname "$0")/env.sh"
STORE="${1:-$VDB_ROOT/demo-store}"; SECONDS_TO_RECORD="${2:-5}"
echo "recording $SECONDS_TO_RECORD s of H.264 with Opus audio into $STORE (stream av)"
gst-launch-1.0 -e -q \
  videotestsrc is-live=true num-buffers=$((SECONDS_TO_RECORD * 30)) pattern=ball ! \
  video/x-raw,format=I420,width=640,height=360,framerate=30/1 ! \
  x264enc tune=zerolatency key-int-max=60 ! h264parse ! vdbsink name=rec location="$STORE" stream=av \
  audiotestsrc is-live=true num-buffers=$((SECONDS_TO_RECORD * 50)) samplesperbuffer=960 ! \
  audio/x-raw,rate=48000,channels=2 ! opusenc ! rec.audio_0
vdb info "$STORE"
vdb export "$STORE" --stream av --quiet "${STORE%/}-av.mp4"
echo "exported video and audio to ${STORE%/}-av.mp4; play the store: examples/play.sh $STORE av"
