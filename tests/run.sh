#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12, as root), builds,
# runs every test, printing the time each step took:
#   1. all suites in ./build (engine, elements, crash/kill, examples, quick
#      benchmarks);
#   2. the element tests again under valgrind (memory errors, definite leaks);
#      a case whose plugin cannot be loaded under valgrind on this CPU is
#      skipped there, with the reason printed (it ran in step 1);
#   3. a clang build with AddressSanitizer + UndefinedBehaviorSanitizer in
#      ./build-asan: engine and element tests, and each libFuzzer target for
#      VDB_FUZZ_SECONDS (default 30);
#   4. a clang build with ThreadSanitizer in ./build-tsan: the engine tests,
#      every concurrency test among them.
# Skipped cases are printed with their reasons and counted at the end.
# Usage: tests/run.sh [--quick]   (--quick: step 1 only)
set -euo pipefail
VDB_EXTRA_PACKAGES="valgrind clang libclang-rt-14-dev libgstrtspserver-1.0-dev gstreamer1.0-plugins-base-apps xvfb ffmpeg python3 chromium python3-websocket ceph-mon ceph-osd radosgw curl"
source "$(dirname "$0")/../scripts/setup.sh"
cd "$VDB_ROOT"

export VDB_SKIP_LOG="$VDB_BUILD/skipped.txt"
: > "$VDB_SKIP_LOG"
STEP_START=$SECONDS
TIMES=()
step() {  # step "N/4 title": closes the previous step's timing, opens this one
  [ -n "${STEP_NAME:-}" ] && TIMES+=("$(printf '%-46s %4d s' "$STEP_NAME" $((SECONDS - STEP_START)))")
  STEP_NAME="$1"; STEP_START=$SECONDS
  if [ -n "$1" ]; then echo "== $1"; fi
}
skips_since() {  # prints the skips logged since line $1 of the log
  tail -n +"$(($1 + 1))" "$VDB_SKIP_LOG" | sed 's/^/   /'
}
finish() {
  step ""
  echo "== step times"
  printf '   %s\n' "${TIMES[@]}"
  local n; n=$(wc -l < "$VDB_SKIP_LOG")
  echo "== $n skipped test case(s)"
  skips_since 0
}
trap finish EXIT

step "1/4 tests"
meson test -C "$VDB_BUILD" --print-errorlogs --num-processes 2
skips_since 0
[ "${1:-}" = "--quick" ] && exit 0

step "2/4 element tests under valgrind"
mark=$(wc -l < "$VDB_SKIP_LOG")
CK_TIMEOUT_MULTIPLIER=5 meson test -C "$VDB_BUILD" --suite gst --print-errorlogs --timeout-multiplier 10 \
  --wrap "valgrind --quiet --error-exitcode=3 --leak-check=full --show-leak-kinds=definite \
--errors-for-leak-kinds=definite --num-callers=30 --suppressions=$VDB_ROOT/tests/valgrind.supp"
skips_since "$mark"

step "3/4 sanitizers (ASan + UBSan) and fuzzers"
ASAN_BUILD="$VDB_ROOT/build-asan"
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dfuzz=true -Dfuzz_seconds="${VDB_FUZZ_SECONDS:-30}" >/dev/null
fi
meson compile -C "$ASAN_BUILD" -j 2 >/dev/null || meson compile -C "$ASAN_BUILD" -j 2
mark=$(wc -l < "$VDB_SKIP_LOG")
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C "$ASAN_BUILD" --suite engine --suite fuzz --suite remote --print-errorlogs --num-processes 2
# GStreamer's plugin scanner cannot load an instrumented plugin: scan in
# process. Leaks in the many libraries a full scan loads are valgrind's job.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 GST_REGISTRY_FORK=no ASAN_OPTIONS=detect_leaks=0 \
  meson test -C "$ASAN_BUILD" --suite gst --print-errorlogs --timeout-multiplier 3
skips_since "$mark"

step "4/4 ThreadSanitizer: engine tests"
# The engine only: GLib and GStreamer are not instrumented, and GLib's
# futex-based locks are invisible to TSan, so element tests would report
# races that are not there (README, "Tests").
TSAN_BUILD="$VDB_ROOT/build-tsan"
if [ ! -f "$TSAN_BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$TSAN_BUILD" -Db_sanitize=thread -Db_lundef=false \
    -Dgst=disabled >/dev/null
fi
meson compile -C "$TSAN_BUILD" -j 2 >/dev/null || meson compile -C "$TSAN_BUILD" -j 2
# setarch -R: clang 14's TSan cannot map its shadow memory under the address
# space randomisation of recent kernels.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  meson test -C "$TSAN_BUILD" --suite engine --print-errorlogs --num-processes 2 \
  --wrap "setarch $(uname -m) -R"
step ""
echo "all test steps passed"
