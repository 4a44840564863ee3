#!/usr/bin/env bash
# With the profiler on, liballoc looks for other jemalloc-API allocators in
# the process (libprof/foreign.c) and asks them about their profiling
# through their mallctl. A library that merely exports a function named
# mallctl (here one that aborts) is not one: it is never called. Before,
# any exported mallctl was, from liballoc's start-up, so this process died
# before main. The dual-allocator tests (prof_dual_*) check that a real
# jemalloc is still found.
. "$(dirname "$0")/lib.sh"
SHIM=$ROOT/build/tests/apps/libmallctl_shim.so
[ -f "$SHIM" ] || fail "$SHIM not built (run make test)"
for conf in "prof:true" "prof:true,prof_final:true,prof_prefix:$TMP/h"; do
	out=$(MALLOC_CONF=$conf LD_PRELOAD="$LIB $SHIM" /bin/echo alive 2>&1) ||
		fail "MALLOC_CONF=$conf: the process died: $out"
	[ "$out" = alive ] || fail "MALLOC_CONF=$conf: output: $out"
done
ls "$TMP"/h.*.heap >/dev/null 2>&1 || fail "no final dump written"
echo "PASS: an exported mallctl that is no allocator's is left alone"
