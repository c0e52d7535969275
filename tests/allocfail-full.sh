#!/bin/sh
# The full allocation-failure sweep: every allocation of every flow of
# tests/test_allocfail.c fails in turn (the suite run by `meson test` samples the
# expensive flows). Needs a build with the hook, by default build-alloc:
#   meson setup build-alloc -Dbuildtype=debug -Db_sanitize=address,undefined \
#       -Db_lundef=false -Dpython_tests=false -Dalloc_failpoints=true
# Usage: tests/allocfail-full.sh [BUILD_DIR] [FLOW_PREFIX]
# Prints each flow's number of allocation sites and its tally for both passes;
# exits non-zero when any site misbehaves.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-alloc}
exe=$build/tests/test_allocfail
if [ ! -x "$exe" ]; then
    echo "allocfail-full: $exe not found (build $build with -Dalloc_failpoints=true)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export RECINT_ALLOCFAIL_FULL=1
export RECINT_ALLOCFAIL_FLOW="${2:-}"
export RECINT_TEST_TMP="$tmp"
export CK_DEFAULT_TIMEOUT=3600
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# Two passes: the N-th allocation fails alone, then every one from the N-th on.
status=0
for sticky in 0 1; do
    export RECINT_ALLOCFAIL_STICKY=$sticky
    pass=$([ "$sticky" = 1 ] && echo "sticky (allocation N and all after it fail)" || echo "once (allocation N alone fails)")
    echo "=== pass: $pass"
    rc=0
    "$exe" >"$tmp/out.txt" 2>"$tmp/err.txt" || rc=$?
    grep -E '^allocfail: ' "$tmp/out.txt" | grep -v ' sites$' || true
    grep -E '^[0-9]+%: Checks' "$tmp/out.txt" || true
    if [ "$rc" -ne 0 ]; then
        status=$rc
        grep -E ':[EF]:' "$tmp/out.txt" || true
        echo "--- stderr (sanitizer reports) ---"
        cat "$tmp/err.txt"
    fi
done
echo
echo "sites per flow:"
grep -E '^allocfail: [^ ]+: [0-9]+ sites$' "$tmp/out.txt" | sed 's/^allocfail: /  /'
total=$(grep -E '^allocfail: [^ ]+: [0-9]+ sites$' "$tmp/out.txt" | awk '{s += $3} END {print s + 0}')
echo "  total: $total sites"
exit "$status"
