#!/bin/sh
# Build librecint and run every test twice: a normal release build (`build`, once
# more under BLIS_ARCH_TYPE=99 BLIS_ARCH_DEBUG=1), then
# an AddressSanitizer + UndefinedBehaviorSanitizer build (`build-asan`, with the
# allocation-failure sweep, and the Python suite against it); then the
# serving and explore suites (concurrent calls on one model / explorer) under
# ThreadSanitizer (`build-tsan`); then the whole suite again built by clang with its
# UndefinedBehaviorSanitizer, pointer-overflow included (`build-clang`); last, every
# libFuzzer target for a short while (tests/fuzz/run.sh, `build-fuzz`).
# Exits non-zero when any build or test fails. MovieLens-based tests read
# ../shared/datasets (meson option datasets_dir) and skip when it is absent.
set -eu
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
data_skips=0
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
    # Checks inside a suite that need MovieLens print "SKIP: ..." and return early
    # when the data is absent; the suite still passes, so count them separately.
    data_skips=$((data_skips + $(grep -c '^SKIP: ' "$log" || true)))
}

# run_suite DIR [meson setup options...]; TESTS (default: all) and WRAPPER
# (a command to run each test under) come from the environment.
run_suite() {
    dir="$1"
    shift
    [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"
    meson compile -C "$dir"
    rm -f "$dir/meson-logs/testlog.txt"
    if meson test -C "$dir" --print-errorlogs ${WRAPPER:+--wrapper "$WRAPPER"} ${TESTS:-}; then :
    else status=1; fi
    count "$dir"
}

# ThreadSanitizer needs its fixed shadow-memory layout. Kernels that randomise
# mmap with more entropy (vm.mmap_rnd_bits above 28, the default of recent
# kernels) make it abort at start-up ("unexpected memory mapping"); running the
# process with address randomisation off (setarch -R) avoids that without
# changing the system (the alternative, `sysctl vm.mmap_rnd_bits=28`, needs root
# and changes every process). Prints the wrapper to use ("" for none), or fails
# when TSan cannot start either way. CK_RUN_SUITE=none runs no test: only the
# start-up is probed.
tsan_wrapper() {
    probe="$1"
    if CK_RUN_SUITE=none "$probe" >/dev/null 2>&1; then
        echo ""
    elif CK_RUN_SUITE=none setarch "$(uname -m)" -R "$probe" >/dev/null 2>&1; then
        echo "setarch $(uname -m) -R"
    else
        return 1
    fi
}

echo "== release build: build/"
run_suite build

echo "== release build under BLIS_ARCH_TYPE=99 BLIS_ARCH_DEBUG=1 (BLIS's framework would abort and print)"
# The library runs no BLIS framework code (docs/threading.md), so every test passes
# and nothing says "libblis". The 'python' test is left out: numpy's own BLAS (the
# system's libblas.so.3 is BLIS) aborts at `import numpy` under these variables,
# before librecint is loaded; python-no-numpy runs the binding's suite.
blis_tests=$(meson test -C build --list 2>/dev/null | grep -vx 'python' | tr '\n' ' ')
BLIS_ARCH_TYPE=99
BLIS_ARCH_DEBUG=1
TESTS="$blis_tests"
export BLIS_ARCH_TYPE BLIS_ARCH_DEBUG TESTS
run_suite build
unset BLIS_ARCH_TYPE BLIS_ARCH_DEBUG TESTS
if grep -q 'libblis' build/meson-logs/testlog.txt; then
    echo "BLIS printed under the hostile environment:"
    grep -m 5 'libblis' build/meson-logs/testlog.txt
    failed=$((failed + 1))
    status=1
fi

echo "== sanitizer build: build-asan/ (address, undefined)"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS ASAN_OPTIONS
# With the allocation-failure hook (inert until a test arms it): the allocfail
# suite sweeps the failure of allocations across every flow (a stride of the
# expensive ones; tests/allocfail-full.sh sweeps all).
run_suite build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    -Dpython_tests=false -Dalloc_failpoints=true

echo "== python binding under ASan against build-asan/"
py_log=$(mktemp)
if sh tests/python-asan.sh build-asan | tee "$py_log"; then :; else status=1; fi
set -- $(sed -n 's/^python-asan: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$py_log")
rm -f "$py_log"
if [ $# -eq 2 ]; then
    passed=$((passed + $1))
    failed=$((failed + $2))
else
    echo "python-asan: no summary line: counted as a failure"
    failed=$((failed + 1))
fi

echo "== thread sanitizer build: build-tsan/ (serving and explore suites)"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
export TSAN_OPTIONS
[ -f build-tsan/build.ninja ] ||
    meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dpython_tests=false
ninja -C build-tsan tests/test_serving tests/test_explore
if wrap=$(tsan_wrapper build-tsan/tests/test_serving); then
    [ -z "$wrap" ] || echo "ThreadSanitizer runs under '$wrap' on this kernel"
    TESTS="serving explore" WRAPPER="$wrap" run_suite build-tsan
else
    echo "ThreadSanitizer cannot start here, even with setarch -R: counted as a failure"
    echo "(try: sudo sysctl vm.mmap_rnd_bits=28)"
    failed=$((failed + 1))
    status=1
fi

echo "== clang undefined-behaviour build: build-clang/ (undefined, pointer-overflow)"
# A second compiler's UBSan: clang's checks are not GCC's, and its pointer-overflow
# check (named explicitly) flags p + n wrapping and NULL plus a non-zero offset.
# -fno-sanitize-recover=all makes any report fail its test.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export UBSAN_OPTIONS
# clang leaves the UBSan runtime out of shared objects, which the library's
# -Wl,--no-undefined refuses: every binary links clang's shared runtime instead,
# found through an rpath to clang's own folder.
ubsan_dir=$(dirname "$(clang -print-file-name=libclang_rt.ubsan_standalone-x86_64.so)")
[ -f build-clang/build.ninja ] ||
    CC=clang meson setup build-clang -Dbuildtype=debugoptimized -Db_sanitize=undefined \
        -Db_lundef=false -Dpython_tests=false \
        "-Dc_args=-fsanitize=pointer-overflow -fno-sanitize-recover=all" \
        "-Dc_link_args=-shared-libsan -Wl,-rpath,$ubsan_dir"
run_suite build-clang

echo "== fuzz targets: build-fuzz/ (libFuzzer, address, undefined; ${FUZZ_SECONDS:=15} s each)"
# Each target passes or fails as a whole (and the saved reproducers of each as
# one more check); the counts come from run.sh's last line.
fuzz_log=$(mktemp)
if sh tests/fuzz/run.sh "$FUZZ_SECONDS" | tee "$fuzz_log"; then :; else status=1; fi
set -- $(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$fuzz_log")
rm -f "$fuzz_log"
if [ $# -eq 2 ]; then
    passed=$((passed + $1))
    failed=$((failed + $2))
else
    echo "fuzz: no summary line (the build or the corpus generator failed): counted as a failure"
    failed=$((failed + 1))
fi

[ "$failed" -eq 0 ] || status=1
echo "run-all: checks skipped inside passing suites (MovieLens data or a comma-decimal locale absent; see SKIP: lines in the logs): $data_skips"
echo "run-all: $passed passed, $failed failed, $skipped skipped"
exit "$status"
