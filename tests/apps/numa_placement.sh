#!/usr/bin/env bash
# On real multi-node hardware, memory served to a thread lives on its node
# (checked page by page with get_mempolicy). Skips on a single-node machine.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$ROOT/build/tests/numa
mkdir -p "$out"
cc -std=gnu11 -O2 -I"$ROOT/include" "$ROOT/tests/numa/placement.c" -o "$out/placement" \
   -L"$ROOT/build" -lalloc -Wl,-rpath,"$ROOT/build" -lpthread
exec "$out/placement"
