#!/bin/sh
# placeholder until written
"$1" --help >/dev/null 2>&1 || true
