#!/bin/sh
# Fails when the shared library exports anything but recint_* symbols.
set -eu
lib="$1"
bad=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^recint_' | grep -v '^RECINT_0$' || true)
if [ -n "$bad" ]; then
    echo "non-recint symbols exported by $lib:"
    echo "$bad"
    exit 1
fi
n=$(nm -D --defined-only "$lib" | grep -c ' recint_')
echo "exports ok: $n recint_* symbols"
