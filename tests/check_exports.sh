#!/bin/sh
# Fails when the shared library exports anything but recint_* symbols (and the
# version nodes of lib/recint.map), or when a function lib/recint.map names in a
# later node is not exported under that node.
set -eu
lib="$1"
here=$(dirname "$0")
bad=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^recint_' | grep -Ev '^RECINT_0(\.[0-9]+)*$' || true)
if [ -n "$bad" ]; then
    echo "non-recint symbols exported by $lib:"
    echo "$bad"
    exit 1
fi
# "node {" opens a node, "name;" inside one lists a function: each must carry it.
missing=$(awk '/^RECINT_[0-9.]+ *\{/ {node = $1} /^ *recint_[a-z0-9_]+;/ {sub(/;/, ""); print $1 "@@" node}' \
              "$here/../lib/recint.map" | while read -r want; do
              nm -D --defined-only --with-symbol-versions "$lib" | awk '{print $NF}' |
                  grep -qx "$want" || echo "$want"
          done)
if [ -n "$missing" ]; then
    echo "functions not exported under their version node by $lib:"
    echo "$missing"
    exit 1
fi
n=$(nm -D --defined-only "$lib" | grep -c ' recint_')
echo "exports ok: $n recint_* symbols"
