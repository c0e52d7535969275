#!/bin/sh
# librecint.so may hold BLIS's sgemm micro-kernels and nothing else of BLIS: no
# framework function (bli_init, the kernel registry, memory pools, bli_abort)
# that reads the environment, prints or aborts (docs/threading.md).
# usage: check_blis_leaf.sh LIBRECINT_SO
set -eu
lib="$1"
all=$(nm "$lib" | awk '$3 ~ /^bli_/ {print $3}' | sort -u)
other=$(printf '%s\n' "$all" | grep -v '^$' | grep -Ev '^bli_[sdcz]gemm_[a-z0-9]+_asm_[0-9x]+(_l2)?$' || true)
if [ -n "$other" ]; then
    echo "check_blis_leaf: BLIS framework symbols in $lib:"
    printf '%s\n' "$other" | head -20
    exit 1
fi
echo "check_blis_leaf: $(printf '%s\n' "$all" | grep -c . || true) BLIS kernel symbols, no framework"
