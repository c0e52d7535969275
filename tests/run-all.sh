#!/bin/sh
# Build librecint and run every test twice: a normal release build (`build`), then
# an AddressSanitizer + UndefinedBehaviorSanitizer build (`build-asan`).
# Exits non-zero when any build or test fails. MovieLens-based tests read
# ../shared/datasets (meson option datasets_dir) and skip when it is absent.
set -eu
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
status=0

# Add a run's counts from meson's test log (Ok / Fail / Skipped ... lines).
count() {
    log="$1/meson-logs/testlog.txt"
    [ -f "$log" ] || return 0
    set -- $(awk '/^Ok:/ {o=$2} /^Expected Fail:/ {x=$3} /^Fail:/ {f=$2}
                  /^Unexpected Pass:/ {u=$3} /^Skipped:/ {s=$2} /^Timeout:/ {t=$2}
                  END {print o+x+0, f+u+t+0, s+0}' "$log")
    passed=$((passed + $1))
    failed=$((failed + $2))
    skipped=$((skipped + $3))
}

run_suite() {
    dir="$1"
    shift
    [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"
    meson compile -C "$dir"
    rm -f "$dir/meson-logs/testlog.txt"
    if meson test -C "$dir" --print-errorlogs; then :; else status=1; fi
    count "$dir"
}

echo "== release build: build/"
run_suite build

echo "== sanitizer build: build-asan/ (address, undefined)"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS ASAN_OPTIONS
run_suite build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    -Dpython_tests=false

[ "$failed" -eq 0 ] || status=1
echo "run-all: $passed passed, $failed failed, $skipped skipped"
exit "$status"
