#!/usr/bin/env bash
# jeprof-c record runs a command under a profiling allocator and reports:
# here Debian's jemalloc via JEPROF_C_PRELOAD (our liballoc's profiler is
# exercised the same way once it writes dumps). Checks the command's exit
# status is passed through, the top sites are printed and the flame graph
# is written; a missing allocator is an error.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
[ -f "$JEMALLOC_SO" ] || skip "no $JEMALLOC_SO"
build_progs c
cd "$WORK"
JEPROF_C_PRELOAD=$JEMALLOC_SO "$JEPROF_C" record -o rec --lg-sample=12 -- ./prog >out.txt 2>err.txt
rc=$?
[ $rc -eq 0 ] || { cat err.txt; fail "record exited $rc"; }
grep -q "^Total: " out.txt || fail "no report: $(cat out.txt err.txt)"
grep -q " path_two$" out.txt || fail "path_two missing from the report"
ls rec/heap.*.f.heap >/dev/null 2>&1 || fail "no dump in rec/"
if grep -q "flame graph in" err.txt; then
    grep -q "path_two" rec/flamegraph.svg || fail "flame graph lacks path_two"
fi
# The command's own failure is passed through.
JEPROF_C_PRELOAD=$JEMALLOC_SO "$JEPROF_C" record -o rec2 -- sh -c 'exit 3' >/dev/null 2>&1
[ $? -eq 3 ] || fail "exit status not passed through"
JEPROF_C_PRELOAD=$WORK/nope.so "$JEPROF_C" record -o rec3 -- true 2>err.txt
[ $? -eq 1 ] && grep -q "^error: cannot find the allocator" err.txt || fail "missing allocator not reported"
"$JEPROF_C" record >/dev/null 2>&1
[ $? -eq 2 ] || fail "record without a command is not a usage error"
echo ok
