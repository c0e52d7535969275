#!/bin/sh
# Run every libFuzzer target (docs/fuzzing.md) for SECONDS each, one after the
# other on one core:  sh tests/fuzz/run.sh SECONDS [TARGET...]
#
# Sets up and builds build-fuzz (clang; ASan, UBSan, libFuzzer coverage in the
# library) when needed, makes the seed corpora from the library's synthetic data,
# first replays every saved reproducer under tests/fuzz/regressions/TARGET/ (they
# must pass, except open-* ones: defects not fixed yet, expected to fail), then
# fuzzes. New corpus entries stay in build-fuzz/fuzz-corpus/
# and crash inputs go to build-fuzz/fuzz-artifacts/TARGET/. SECONDS 0 only runs
# the seeds and the reproducers once. Prints, per target, the executions and
# crashes, and last "fuzz: N passed, N failed"; exits non-zero on any crash or
# sanitizer report. FUZZ_BUILD names another build dir.
set -eu
cd "$(dirname "$0")/../.."

[ $# -ge 1 ] || { echo "usage: $0 SECONDS [TARGET...]" >&2; exit 2; }
seconds=$1
shift
build=${FUZZ_BUILD:-build-fuzz}
all="dataset_load model_load features_sparse features_dense explorer_log config_set"
targets=${*:-$all}

if [ ! -f "$build/build.ninja" ]; then
    # c_args reach every object of the build dir, so the library's own code
    # reports coverage to libFuzzer; UBSan findings abort instead of printing.
    CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dpython_tests=false -Dbuildtype=debugoptimized \
        "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" >/dev/null
fi
ninja_targets="tests/fuzz/make_corpus"
for t in $targets; do ninja_targets="$ninja_targets tests/fuzz/fuzz_$t"; done
# shellcheck disable=SC2086 # a list of targets
ninja -C "$build" $ninja_targets >/dev/null

UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS ASAN_OPTIONS

seeds="$build/fuzz-seeds"
rm -rf "$seeds"
"$build/tests/fuzz/make_corpus" "$seeds" >/dev/null

passed=0
failed=0
open=0
logs="$build/fuzz-logs"
mkdir -p "$logs"

# A log with a sanitizer report fails even when the process exited 0.
reported() {
    grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz check failed' "$1"
}

dict_of() {
    case $1 in
        config_set) echo "$seeds/config.dict" ;;
        model_load) echo "$seeds/model.dict" ;;
        *) [ -f "tests/fuzz/dict/$1.dict" ] && echo "tests/fuzz/dict/$1.dict" || echo "" ;;
    esac
}

for t in $targets; do
    exe="$build/tests/fuzz/fuzz_$t"
    # Saved reproducers run once each. One named open-* reproduces a defect not
    # fixed yet: it is expected to fail (and reported), and once it passes it
    # must lose its open- prefix, so that it guards the fix from then on.
    reg="tests/fuzz/regressions/$t"
    if [ -d "$reg" ] && [ -n "$(ls "$reg")" ]; then
        bad=0
        for f in "$reg"/*; do
            name=$(basename "$f")
            log="$logs/$t-regression-$name.log"
            if "$exe" "$f" >"$log" 2>&1 && ! reported "$log"; then ok=1; else ok=0; fi
            case $name in
                open-*)
                    if [ "$ok" -eq 1 ]; then
                        echo "fuzz $t: $name passes now: rename it without open- (log: $log)"
                        bad=$((bad + 1))
                    else
                        echo "fuzz $t: $name still fails (open defect, expected; log: $log)"
                        open=$((open + 1))
                    fi ;;
                *)
                    if [ "$ok" -eq 0 ]; then
                        echo "fuzz $t: reproducer $name fails (log: $log)"
                        grep -m 2 -E 'ERROR:|runtime error:|fuzz check failed' "$log" | sed 's/^/    /' || true
                        bad=$((bad + 1))
                    fi ;;
            esac
        done
        if [ "$bad" -eq 0 ]; then
            echo "fuzz $t: $(ls "$reg" | wc -l) saved reproducers behave as expected"
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
    fi

    corpus="$build/fuzz-corpus/$t"
    artifacts="$build/fuzz-artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    dict=$(dict_of "$t")
    log="$logs/$t.log"
    if [ "$seconds" -gt 0 ]; then
        limit="-max_total_time=$seconds"
    else
        limit="-runs=0"
    fi
    stamp="$logs/$t.stamp"
    touch "$stamp"
    rc=0
    "$exe" $limit -print_final_stats=1 -timeout=60 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" ${dict:+-dict="$dict"} \
        "$corpus" "$seeds/$t" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=$(find "$artifacts" -type f -newer "$stamp" | wc -l)
    if [ "$rc" -eq 0 ] && ! reported "$log"; then
        echo "fuzz $t: ${execs:-0} executions in ${seconds}s, 0 crashes, corpus $(ls "$corpus" | wc -l)"
        passed=$((passed + 1))
    else
        echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions, $crashes crashes in $artifacts"
        grep -m 3 -E 'ERROR:|runtime error:|fuzz check failed|SUMMARY' "$log" | sed 's/^/    /' || true
        echo "    log: $log"
        failed=$((failed + 1))
    fi
done

[ "$open" -eq 0 ] || echo "fuzz: $open saved reproducers of open defects still fail (expected)"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
