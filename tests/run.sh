#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12, as root), builds,
# runs every test:
#   1. all suites in ./build (engine, elements, crash/kill, quick benchmarks);
#   2. the element tests again under valgrind (memory errors, definite leaks);
#   3. a clang build with AddressSanitizer + UndefinedBehaviorSanitizer in
#      ./build-asan: engine and element tests, and each libFuzzer target for
#      VDB_FUZZ_SECONDS (default 30).
# Usage: tests/run.sh [--quick]   (--quick: step 1 only)
set -euo pipefail
VDB_EXTRA_PACKAGES="valgrind clang libclang-rt-14-dev libgstrtspserver-1.0-dev gstreamer1.0-plugins-base-apps xvfb"
source "$(dirname "$0")/../scripts/setup.sh"
cd "$VDB_ROOT"

echo "== 1/3 tests"
meson test -C "$VDB_BUILD" --print-errorlogs --num-processes 2
[ "${1:-}" = "--quick" ] && exit 0

echo "== 2/3 element tests under valgrind"
meson test -C "$VDB_BUILD" --suite gst --print-errorlogs --timeout-multiplier 10 \
  --wrap "valgrind --quiet --error-exitcode=3 --leak-check=full --show-leak-kinds=definite \
--errors-for-leak-kinds=definite --num-callers=30 --suppressions=$VDB_ROOT/tests/valgrind.supp"

echo "== 3/3 sanitizers (ASan + UBSan) and fuzzers"
ASAN_BUILD="$VDB_ROOT/build-asan"
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dfuzz=true -Dfuzz_seconds="${VDB_FUZZ_SECONDS:-30}" >/dev/null
fi
meson compile -C "$ASAN_BUILD" -j 2 >/dev/null || meson compile -C "$ASAN_BUILD" -j 2
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1 meson test -C "$ASAN_BUILD" --suite engine --suite fuzz \
  --print-errorlogs --num-processes 2
# GStreamer's plugin scanner cannot load an instrumented plugin: scan in
# process. Leaks in the many libraries a full scan loads are valgrind's job.
GST_REGISTRY_FORK=no ASAN_OPTIONS=detect_leaks=0 meson test -C "$ASAN_BUILD" --suite gst \
  --print-errorlogs --timeout-multiplier 3
echo "all test steps passed"
