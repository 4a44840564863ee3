#!/usr/bin/env bash
# The site table (libprof/site.c) and the peak-heap snapshot (peak.c) under
# ThreadSanitizer, built as units without the allocator interposed (test
# doubles: tests/prof/site_tsan.h). Writers sample and free their own and
# each other's samples while a reader reads and prof.reset runs, all at once:
#   peak_tsan: prof_peak on (snapshots taken on the writers' paths); every
#     site of the snapshot must equal the sum of its per-thread shares, and a
#     quiescent peak must hold 91..100 of 100 objects (the 10% rule);
#   site_owner_tsan: prof_peak off, where a thread updates its own shares
#     without a lock (other threads' frees count under it); every share read
#     must be whole (weights of 1: ucount == count, ubytes == bytes), the
#     table must read empty once all is freed, and a known heap exactly.
# TSan's deadlock detector is off: prof.reset holds all 256 site stripes at
# once, more locks than it can track.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
for t in peak_tsan site_owner_tsan; do
    bin=$ROOT/build/tests/prof/$t
    # Built by tests/tests.mk when the compiler has a ThreadSanitizer runtime.
    if [ ! -x "$bin" ]; then
        if ! echo 'int main(void){return 0;}' | ${CC:-cc} -fsanitize=thread -x c - -o /dev/null 2>/dev/null; then
            echo "no ThreadSanitizer runtime for ${CC:-cc}"
            exit 77
        fi
        echo "FAIL: $bin is not built (run make test)"
        exit 1
    fi
    for i in 1 2 3; do
        TSAN_OPTIONS="halt_on_error=1 exitcode=66 detect_deadlocks=0" "$bin"
    done
done
echo PASS
