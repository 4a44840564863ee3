#!/usr/bin/env bash
# Fault injection (issue 17 point 3; liballoc/fault.h, tests/faults/):
#  - fault_api: every C allocation API under mmap failures, and calloc after
#    failed madvise purges;
#  - fault_cxx: operator new throws std::bad_alloc, new(nothrow) gives NULL;
#  - fault_dump: dumps under write failures leave no partial file;
#  - fault_prof_norec: a sample taken when the profiler's records ran out
#    (every mmap failing) is not counted, so freeing every block brings the
#    dump's in-use totals back to where they were;
#  - a real full filesystem: a 64 KiB tmpfs nearly filled, prof.dump into it
#    fails and leaves it unchanged (needs root and mount; skipped otherwise,
#    the rest still runs);
#  - fault_random: randomised mmap/madvise failures with content checks:
#    2 seeds x 10000 operations per thread here (one with profiling on); with TEST_LONG=1
#    (`make check-long`) FAULT_RUNS seeds (default 200) x 20000 operations,
#    probabilities 1/2 to 1/64.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
B=$ROOT/build/tests/faults
for t in fault_api fault_cxx fault_dump fault_prof_norec fault_random; do
    [ -x "$B/$t" ] || { echo "FAIL: $B/$t is not built (make test builds it)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/faults.XXXXXX")
mnt=""
cleanup() {
    [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail=0
run() { # name cmd...
    local name=$1; shift
    if "$@" >"$work/$name.log" 2>&1; then
        echo "ok   $name: $(grep -v '^<jemalloc>' "$work/$name.log" | tail -n 1)"
    else
        echo "FAIL $name:"; grep -v '^<jemalloc>: failed to write' "$work/$name.log" | tail -n 15; fail=1
    fi
}
# MALLOC_CONF from the test matrix must not change what these tests set up.
unset MALLOC_CONF
run fault_api "$B/fault_api"
run fault_cxx "$B/fault_cxx"
mkdir -p "$work/dumps"
run fault_dump "$B/fault_dump" "$work/dumps"
mkdir -p "$work/norec"
run fault_prof_norec "$B/fault_prof_norec" "$work/norec"

# A real full filesystem.
mnt=$work/tmpfs
mkdir -p "$mnt"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null; then
    # Full to the last block: every dump write gets ENOSPC.
    dd if=/dev/zero of="$mnt/filler" bs=1k 2>/dev/null
    run fault_dump_full "$B/fault_dump" --full "$mnt"
    umount "$mnt"
else
    echo "skip full filesystem: cannot mount a tmpfs here (not root or no mount permission)"
fi
mnt=""

if [ "${TEST_LONG:-0}" = 1 ]; then
    runs=${FAULT_RUNS:-200} probs=(2 4 8 16 64)
    n=0 bad=0
    for ((s = 1; s <= runs; s++)); do
        p=${probs[$((s % 5))]}
        # Every other seed with profiling on (its metadata allocations fail too).
        conf=""; [ $((s % 2)) = 0 ] && conf="prof:true,lg_prof_sample:12,prof_recent_alloc_max:500"
        if env ${conf:+MALLOC_CONF=$conf} "$B/fault_random" "$s" 20000 "$p" >"$work/random.log" 2>&1; then
            n=$((n+1))
        else
            echo "FAIL fault_random seed $s (1 in $p):"; tail -n 5 "$work/random.log"; bad=$((bad+1))
        fi
    done
    echo "fault_random: $n of $runs randomised runs passed, $bad failed"
    [ $bad -eq 0 ] || fail=1
else
    run fault_random_1 "$B/fault_random" 1 10000 4
    run fault_random_2 env MALLOC_CONF=prof:true,lg_prof_sample:12,prof_recent_alloc_max:500 \
        "$B/fault_random" 2 10000 16
fi
[ $fail -eq 0 ] && echo PASS
exit $fail
