#!/usr/bin/env bash
# fork_preload: tests/apps/fork_preload.c, a program not linked with
# liballoc, run preloaded: the main thread forks 20 times while 4 threads
# allocate, each child allocates, frees and exits. Run 5 times per
# configuration (MALLOC_CONF unset, the matrix's set one, and profiling
# with a background thread), with stdio in the threads and the children
# (open_memstream, fflush(NULL)) and without; 100 times each with
# TEST_LONG=1. A hang (a child after 20 s, or the parent in fork after
# 60 s) or a failed child fails the test.
. "$(dirname "$0")/lib.sh"
P=$(app_bin apps/fork_preload) || exit 1
readelf -d "$P" | grep -q 'NEEDED.*liballoc' && fail "fork_preload is linked with liballoc"
check_preload_maps
runs=5
[ "${TEST_LONG:-0}" = 1 ] && runs=100
for conf in "" "$CONF_SET" "prof:true,lg_prof_sample:12,background_thread:true"; do
    for mode in stdio plain; do
        for i in $(seq 1 $runs); do
            out=$(env MALLOC_CONF="$conf" LD_PRELOAD="$LIB" timeout -k 5 60 "$P" 4 20 "$mode" 2>&1)
            rc=$?
            [ $rc -eq 0 ] || fail "run $i ($mode, MALLOC_CONF='$conf'): exit $rc (124: hung): $(head -c 400 <<<"$out")"
        done
        echo "pass: $runs runs x 20 forks, $mode, MALLOC_CONF='$conf'"
    done
done
