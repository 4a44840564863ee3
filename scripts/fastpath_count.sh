#!/usr/bin/env bash
# Prints how many instructions the allocator's entry points execute on
# their common path in a built allocator, measured by single-stepping them
# under gdb:
#   malloc: thread-cache hit (the class's current page has a free block),
#           no sampling or decay-tick event;
#   realloc: a small block resized within its size class (64 -> 56 bytes);
#   free:   the calling thread's own unsampled small block, its page stays
#           in use (no retire);
#   operator new, operator delete (sized): the same malloc and free through
#           the C++ operators (when the library defines them).
# Counted from the entry point's first instruction to its return into the
# caller, tail-called functions included; the minimum over several rounds
# (see scripts/fastpath_count.c). liballoc/heap.h (malloc, free) and
# liballoc/malloc.c (realloc, the C++ operators) quote these numbers and
# tests/apps/fastpath_count.sh checks that they still hold.
#
# Usage: scripts/fastpath_count.sh [-v] [library.so]
#   library.so  the allocator to preload (default build/liballoc.so; any
#               malloc library works, e.g. a peer for comparison)
#   -v          also print the instructions of each path
# Needs gdb, and build/scripts/fastpath_count (`make test` or
# `make build/scripts/fastpath_count` builds it).
# Exit 0 with the lines "malloc: N instructions ...", "realloc: N ...",
# "free: N ..." and, for a library with C++ operators, "operator new: N ..."
# and "operator delete (sized): N ...";
# 1 on error; 77 when gdb is missing or may not trace (ptrace refused).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
trace=0
if [ "${1:-}" = -v ]; then trace=1; shift; fi
LIB=${1:-$ROOT/build/liballoc.so}
PROG=$ROOT/build/scripts/fastpath_count

command -v gdb >/dev/null 2>&1 || { echo "fastpath_count: gdb not installed" >&2; exit 77; }
[ -f "$LIB" ] || { echo "fastpath_count: '$LIB' not found (run make)" >&2; exit 1; }
[ -x "$PROG" ] || { echo "fastpath_count: '$PROG' not built (run make build/scripts/fastpath_count)" >&2; exit 1; }

out=$(mktemp "${TMPDIR:-/tmp}/fastpath.XXXXXX") || exit 1
log=$(mktemp "${TMPDIR:-/tmp}/fastpath-gdb.XXXXXX") || exit 1
trap 'rm -f "$out" "$log"' EXIT
FASTPATH_LIB=$(realpath "$LIB") FASTPATH_OUT=$out FASTPATH_TRACE=$trace FASTPATH_ROUNDS=5 \
    timeout 120 gdb -nx -batch -x "$ROOT/scripts/fastpath_count.py" "$PROG" >"$log" 2>&1
if [ ! -s "$out" ]; then
    if grep -qiE "ptrace|Operation not permitted" "$log"; then
        echo "fastpath_count: gdb may not trace here (ptrace refused)" >&2
        exit 77
    fi
    echo "fastpath_count: measurement failed; gdb said:" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
echo "library: $LIB ($(uname -m))"
# The compiler and flags matter: an instruction count belongs to a build.
prod=$(readelf --debug-dump=info "$LIB" 2>/dev/null | grep -m1 DW_AT_producer | sed 's/.*): //')
[ -n "$prod" ] && echo "built by: $prod"
cat "$out"
