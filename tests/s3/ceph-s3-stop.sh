#!/bin/bash
# ceph-s3-stop.sh DIR : stops the daemons of ceph-s3-start.sh DIR by their pid files (SIGTERM, then
# SIGKILL after 3 s: radosgw takes ~6 s to exit on SIGTERM and memstore data is throwaway).
# From ../shared/reference/s3-test-server.md, section 1. Safe to run twice, or on a half-started DIR.
# Leaves DIR in place (logs); the caller removes it.
D=${1:?usage: $0 DIR}; pids=()
for n in client.rgw.a osd.0 mon.a; do
  f="$D/run/$n.pid"; [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null && pids+=("$(cat "$f")"); done
((${#pids[@]} == 0)) && exit 0
for i in $(seq 1 30); do alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && exit 0; sleep 0.1; done
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
for i in $(seq 1 30); do alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && exit 0; sleep 0.1; done
exit 0
