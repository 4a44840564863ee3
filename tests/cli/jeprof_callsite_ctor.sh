#!/usr/bin/env bash
# Allocations made before liballoc's constructor: a library's constructor
# (tests/cli/callsite/ctor_lib.c, no frame pointers) allocates, and under
# LD_PRELOAD the program's libraries are initialised before liballoc, so
# before the profiler loads libunwind. The cached-rule walk follows the
# library's frames but not the loader's entry code, which it leaves to
# libunwind; with no libunwind yet the stack fell back to frame pointers:
# one frame, ctor_alloc, the two call sites merged into one. Now the frames
# the walk followed are kept: each call line carries its own bytes
# (cumulative) under ctor_init, and _dl_init is on the stack.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
[ "$(uname -m)" = x86_64 ] || skip "the cached-rule walk is x86-64 only"
LIB=$CS/ctor_lib.c
gcc -O1 -g -fomit-frame-pointer -shared -fPIC -o "$WORK/libctorlib.so" "$LIB" || fail "cannot build ctor_lib.c"
gcc -O1 -g -o "$WORK/ctor_main" "$CS/ctor_main.c" -L"$WORK" -lctorlib -Wl,-rpath,"$WORK" || fail "cannot build ctor_main.c"
ours "$WORK/ctor_main" ctor
"$JEPROF_C" --quiet --traces --show_bytes "$WORK/ctor_main" "$HEAP" >"$WORK/traces.txt" || fail "jeprof-c --traces failed"
awk '$2 == "ctor_alloc" { a = NR } a && NR == a + 1 && $1 == "ctor_init" { c++ } $1 == "_dl_init" && a { d = 1 }
     END { exit !(c == 2 && d) }' "$WORK/traces.txt" ||
    { cat "$WORK/traces.txt"; fail "ctor_alloc's stacks do not go through ctor_init (twice) and _dl_init"; }
echo "ok   two stacks ctor_alloc <- ctor_init <- ... <- _dl_init"
"$JEPROF_C" --quiet --text --lines --cum --show_bytes "$WORK/ctor_main" "$HEAP" >"$WORK/lines.txt" || fail "jeprof-c --lines failed"
has_flat "jeprof-c heap_v2" "$WORK/lines.txt" "ctor_lib.c:$(mark "$LIB" CTOR_ALLOC)" ctor_alloc
has_cum "jeprof-c heap_v2" "$WORK/lines.txt" "ctor_lib.c:$(mark "$LIB" CTOR_CALL_A)" ctor_init
has_cum "jeprof-c heap_v2" "$WORK/lines.txt" "ctor_lib.c:$(mark "$LIB" CTOR_CALL_B)" ctor_init
[ "$NFAIL" = 0 ] || fail "$NFAIL checks failed"
echo "ok"
