#!/bin/sh
# Run the Python binding's suite (with numpy, then with numpy blocked) against the
# librecint of an AddressSanitizer + UBSan build:
#
#     sh tests/python-asan.sh build-asan
#
# DIR/librecint.so is loaded into Debian's ordinary (uninstrumented) CPython, so the
# sanitizer runtimes the library links against are preloaded: ASan must be the first
# library of the process, or it refuses to start. A use-after-free or overflow in the
# library, reached through any binding call, ends the run with the sanitizer's report.
# Exits non-zero when a test fails or a run dies; the last line is
# "python-asan: N passed, N failed" (tests; a run that dies counts one failure).
set -u
if [ $# -ne 1 ]; then
    echo "usage: sh tests/python-asan.sh BUILD_DIR (an ASan+UBSan build holding librecint.so)" >&2
    exit 2
fi
lib=$(cd "$1" 2>/dev/null && pwd)/librecint.so
cd "$(dirname "$0")/.."
root=$(pwd)
if [ ! -f "$lib" ]; then
    echo "python-asan: $1/librecint.so not found (meson compile -C $1)"
    echo "python-asan: 0 passed, 1 failed"
    exit 1
fi

if ! nm -D "$lib" 2>/dev/null | grep -q ' __asan_'; then
    echo "python-asan: $lib is not an AddressSanitizer build (configure with -Db_sanitize=address,undefined)"
    echo "python-asan: 0 passed, 1 failed"
    exit 1
fi

# The runtimes the library itself was linked with (gcc: libasan.so.N, libubsan.so.N);
# the compiler's own are the fallback (a library that expects the runtime in the
# executable, as clang builds without -shared-libasan do).
runtime() {
    found=$(ldd "$lib" | awk -v n="$1" 'index($1, n ".so") == 1 && $3 ~ /^\// {print $3; exit}')
    if [ -z "$found" ] && nm -D "$lib" 2>/dev/null | grep -q " __${1#lib}_"; then
        found=$(${CC:-gcc} -print-file-name="$1.so" 2>/dev/null)
        case "$found" in /*) ;; *) found="" ;; esac
    fi
    echo "$found"
}
asan=$(runtime libasan)
ubsan=$(runtime libubsan)
if [ -z "$asan" ]; then
    echo "python-asan: no libasan runtime found for $lib (set CC to the compiler that built it)"
    echo "python-asan: 0 passed, 1 failed"
    exit 1
fi
preload=$asan${ubsan:+:$ubsan}

# detect_leaks=0: CPython keeps its interned objects and caches at exit, which
# LeakSanitizer would report. allocator_may_return_null=1: the suite checks that
# absurd sizes fail with ENOMEM, which ASan would otherwise turn into an abort.
# verify_asan_link_order=0: the interpreter itself is not instrumented.
# The caller's options come first, so these win (run-all.sh exports detect_leaks=1).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:allocator_may_return_null=1:verify_asan_link_order=0:halt_on_error=1:exitcode=86
UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1
# Python objects in malloc'ed memory, where ASan sees every block (pymalloc arenas hide them).
PYTHONMALLOC=malloc
RECINT_LIBRARY=$lib
PYTHONPATH=$root/bindings/python
RECINT_DATASETS=${RECINT_DATASETS:-$root/../shared/datasets}
export ASAN_OPTIONS UBSAN_OPTIONS PYTHONMALLOC RECINT_LIBRARY PYTHONPATH RECINT_DATASETS

passed=0
failed=0
status=0
log=$(mktemp "${TMPDIR:-/tmp}/python-asan.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM

# run LABEL BLOCK_NUMPY: one run of the suite; adds its counts.
run() {
    label=$1
    echo "== python-asan: $label ($lib)"
    if RECINT_TEST_BLOCK_NUMPY=$2 LD_PRELOAD=$preload \
        /usr/bin/python3 "$root/bindings/python/tests/run_tests.py" >"$log" 2>&1; then
        rc=0
    else
        rc=$?
        status=1
    fi
    cat "$log"
    # unittest's summary: "Ran N tests" then "OK (skipped=S)" or
    # "FAILED (failures=F, errors=E, skipped=S)"; a run killed by the sanitizer has
    # none: then the tests reported ok before it count as passed, the run as 1 failure.
    set -- $(awk '
        /^Ran [0-9]+ tests? in / {ran = $2; summary = 1}
        summary && /^(OK|FAILED)/ {
            s = $0
            gsub(/unexpected successes/, "unexpected_successes", s)
            gsub(/expected failures/, "expected_failures", s)
            gsub(/[(),]/, " ", s); n = split(s, w, " ")
            for (j = 2; j <= n; j++) {
                split(w[j], kv, "=")
                if (kv[1] == "failures" || kv[1] == "errors" || kv[1] == "unexpected_successes")
                    bad += kv[2]
                else if (kv[1] == "skipped" || kv[1] == "expected_failures")
                    skip += kv[2]
            }
            done = 1
        }
        / \.\.\. ok$/ {ok++}
        END {
            if (done) print ran - bad - skip, bad + 0, skip + 0
            else print ok + 0, 1, 0
        }' "$log")
    run_passed=$1 run_failed=$2 run_skipped=$3
    if [ "$rc" -ne 0 ] && [ "$run_failed" -eq 0 ]; then
        run_failed=1  # e.g. a sanitizer report at interpreter exit
    fi
    [ "$rc" -ne 86 ] || echo "python-asan: $label: stopped by the sanitizer (report above)"
    echo "python-asan: $label: exit status $rc; $run_passed passed, $run_failed failed, $run_skipped skipped"
    passed=$((passed + run_passed))
    failed=$((failed + run_failed))
}

run "with numpy" 0
run "numpy blocked" 1

[ "$failed" -eq 0 ] || status=1
echo "python-asan: $passed passed, $failed failed"
exit "$status"
