#!/usr/bin/env bash
# Export a wall-clock time range to MP4 without re-encoding.
#   examples/export_range.sh STORE STREAM FROM TO OUT.mp4
# FROM and TO: ISO 8601 UTC (2026-11-23T10:00:00Z) or ns since 1970.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ $# = 5 ] || { echo "usage: $0 STORE STREAM FROM TO OUT.mp4" >&2; exit 2; }
exec vdb export "$1" --stream "$2" --from "$3" --to "$4" "$5"
