#!/usr/bin/env bash
# rlimit_as_start: a preloaded program started under an address-space limit
# (ulimit -v) too small for the allocator to start (its first arena cannot
# be mapped; malloc_init fails) must get NULL from malloc and stop with its
# own "memory exhausted", never crash: before the fix, the constructor's
# first allocation (a dlopen's) went to arena 0, which did not exist
# (SIGSEGV at 6-7 MB for /bin/echo). The limit sweeps 4-16 MB, through
# "the loader cannot map libc", "the allocator cannot start" and "runs",
# for a small program (echo), one that allocates large buffers (sort) and
# with prof:true (which loads libunwind at start).
. "$(dirname "$0")/lib.sh"
need sort
check_preload_maps
printf 'b\na\nc\n' >"$TMP/in"
ran=0
for kb in $(seq 4000 250 16000); do
    for conf in "" "prof:true"; do
        for cmd in "echo hi" "sort $TMP/in"; do
            out=$(bash -c "ulimit -v $kb; MALLOC_CONF='$conf' LD_PRELOAD='$LIB' exec $cmd" 2>&1)
            rc=$?
            [ $rc -ge 128 ] &&
                fail "ulimit -v $kb, MALLOC_CONF='$conf', $cmd: killed by signal $((rc - 128)): $(head -c 300 <<<"$out")"
            [ $rc = 0 ] && ran=$((ran + 1))
        done
    done
done
# The sweep must reach limits where the programs run (else it tested nothing).
[ $ran -gt 0 ] || fail "no program ran under any limit up to 16 MB"
echo "pass: no crash under ulimit -v 4-16 MB ($ran runs completed)"
exit 0
