#!/usr/bin/env bash
# Runs every example headless and briefly, and checks what it left behind.
# Called by `meson test --suite examples` with the build directory as $1.
set -euo pipefail
BUILD="$1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export VDB_BUILD="$BUILD" VDB_SKIP_SETUP=1
export GST_PLUGIN_PATH="$BUILD/gst" PATH="$BUILD/tools:$BUILD/examples:$PATH"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
S="$WORK/store"
pass=0; fail=0
check() {  # check NAME COMMAND...: runs it, counts the result
  local name="$1"; shift
  if "$@" > "$WORK/$name.log" 2>&1; then pass=$((pass + 1)); echo "ok   $name"
  else fail=$((fail + 1)); echo "FAIL $name"; tail -20 "$WORK/$name.log"; fi
}
# A stream's frame count from `vdb info --json`, read as JSON (python3).
frames() {
  vdb info "$S" --json | python3 -c 'import json, sys
print(next((s["frames"] for s in json.load(sys.stdin) if s["stream"] == sys.argv[1]), ""))' "$1"
}
has_frames() { local n; n="$(frames "$1")"; [ -n "$n" ] && [ "$n" -gt "$2" ]; }

if command -v rtsp_camera_server > /dev/null; then
  check rtsp_camera bash -c "'$ROOT/examples/record_rtsp_camera.sh' '$S' 4 && vdb verify '$S'"
  check rtsp_frames has_frames cam1 30
else
  echo "skip rtsp_camera: rtsp_camera_server was not built (libgstrtspserver-1.0-dev missing)"
fi
check screen bash -c "env -u DISPLAY '$ROOT/examples/record_screen.sh' '$S' 4"
check screen_frames has_frames screen 10
check vp9 "$ROOT/examples/record_vp9.sh" "$S" 2
check vp9_frames has_frames vp9 50
check play "$ROOT/examples/play.sh" "$S" vp9 --videosink=fakesink --audiosink=fakesink -q
check av "$ROOT/examples/record_av.sh" "$S" 2
check av_frames has_frames av 50
check av_tracks bash -c "vdb info '$S' | grep -q 'track audio_0: opus' && [ -s '$WORK/store-av.mp4' ]"
check play_av "$ROOT/examples/play.sh" "$S" av --videosink=fakesink --audiosink=fakesink -q
check app_record vdb_app record "$S" app 3
check app_ranges bash -c "vdb_app ranges '$S' app | grep -q ' .. '"
UTC="$(vdb_app ranges "$S" app | head -1 | cut -d' ' -f1)"
check app_seek_utc vdb_app seek "$S" app "$UTC"
check app_seek_offset vdb_app seek "$S" app +1.5
FROM_NS="$(vdb info "$S" --json | python3 -c 'import json, sys
print(next(s["ranges"][0]["utc_start"] for s in json.load(sys.stdin) if s["stream"] == "app"))')"
check export_range "$ROOT/examples/export_range.sh" "$S" app "$FROM_NS" "$((FROM_NS + 2000000000))" "$WORK/clip.mp4"
check export_readable bash -c "gst-discoverer-1.0 '$WORK/clip.mp4' | grep -q 'Duration: 0:00:0[12]'"
check export_webm vdb export "$S" --stream vp9 "$WORK/clip.webm"
check verify vdb verify "$S"
check rm_json bash -c "vdb rm '$S' --stream vp9 --json | grep -q '\"deleted\"'"
check prune vdb prune "$S" --older-than 1d
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
