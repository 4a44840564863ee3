#!/usr/bin/env bash
# The site table and the peak-heap snapshot (libprof/site.c, peak.c) under
# ThreadSanitizer: writers sampling and freeing across threads (snapshots
# taken on their paths), a reader of the kept peak as a peak dump reads it,
# and prof.reset, all at once; every site of the snapshot must equal the sum
# of its per-thread shares, and a quiescent peak must hold 91..100 of 100
# objects (the 10% rule). Built as a unit without the allocator interposed
# (tests/prof/peak_tsan.c). TSan's deadlock detector is off: prof.reset
# holds all 256 site stripes at once, more locks than it can track.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$ROOT/build/tests/prof/peak_tsan
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
echo PASS
