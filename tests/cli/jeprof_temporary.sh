#!/usr/bin/env bash
# jeprof-c --temporary on a hand-made recent-ring dump (golden/temporary.json,
# sample_interval 4096, allocation times spanning 0.5 s):
#  - 0x1000: 4 entries of weight 10, freed after 100 us, 3 of them with the
#    thread's thread.allocated unchanged between allocation and free;
#  - 0x3000: 2 entries of weight 2, freed after 50 ms, counters changed;
#  - 0x4000: 1 live entry;
#  - 0x5000: 1 entry as jemalloc writes it (no weight, no counters), usize
#    4096, freed after 10 us: weight 1/(1-e^-1) = 1.58 from sample_interval.
# At the default 1 ms, 0x1000 and 0x5000 are listed with exact counts,
# shares, no-alloc counts ("-" without counters), estimates (sum of
# weights) and rates (per 0.5 s); 0x3000 only from --max-lifetime=100ms.
# Bad durations, --max-lifetime without --temporary, --temporary with --base
# and --temporary on a heap_v2 dump are refused.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
status=0
bad() { echo "FAIL $*"; status=1; }
ok() { echo "ok   $*"; }

out=$("$JEPROF_C" --quiet --temporary "$G/temporary.json" 2>/dev/null) || bad "exit $?"
echo "$out"
grep -qx 'Temporary allocations (freed within 1 ms): 5 of 8 sampled allocations (62.5%)' <<<"$out" &&
    ok "summary line" || bad "summary line"
grep -q '^Ring: 8 entries, 7 freed, allocated over 0.500 s; sample interval 4096 B; estimated 42 temporary allocations (83/s)$' <<<"$out" &&
    ok "ring line: estimate 10*4 + 1.58, rate per 0.5 s" || bad "ring line"
grep -Eq '^ +4 100\.0% +3 +4 +40 +80 +100\.000  0x1000  \[1: ' <<<"$out" && ok "short-lived site: 4 of 4, 3 no-alloc, 40 est, 80/s" ||
    bad "short-lived site row"
grep -Eq '^ +1 100\.0% +- +1 +2 +3 +10\.000  0x5000  ' <<<"$out" && ok "jemalloc-style entry: weight from sample_interval, no-alloc unknown" ||
    bad "jemalloc-style row"
grep -q '0x3000' <<<"$out" && bad "the 50 ms site is listed at 1 ms" || ok "the 50 ms site is not listed at 1 ms"
sed -n 4p <<<"$out" | grep -q ' 0x1000 ' &&
    ok "ranked by estimated temporaries" || bad "ranking"

out=$("$JEPROF_C" --quiet --temporary --max-lifetime=100ms "$G/temporary.json" 2>/dev/null) || bad "exit $?"
grep -Eq '^ +2 100\.0% +0 +2 +4 +8 +50000\.000  0x3000  ' <<<"$out" && ok "--max-lifetime=100ms lists the 50 ms site" ||
    { bad "--max-lifetime=100ms"; echo "$out"; }
grep -qx 'Temporary allocations (freed within 100 ms): 7 of 8 sampled allocations (87.5%)' <<<"$out" &&
    ok "--max-lifetime summary" || bad "--max-lifetime summary"
out=$("$JEPROF_C" --quiet --temporary --max-lifetime=50us "$G/temporary.json" 2>/dev/null)
grep -q '0x1000' <<<"$out" && bad "50us lists the 100 us site" || ok "--max-lifetime=50us drops the 100 us site"
grep -q ' 0x5000 ' <<<"$out" && ok "--max-lifetime=50us keeps the 10 us site" || bad "50us dropped the 10 us site"

out=$("$JEPROF_C" --quiet --temporary --focus=0x5000 "$G/temporary.json" 2>/dev/null)
grep -qx 'Temporary allocations (freed within 1 ms): 1 of 1 sampled allocations (100.0%)' <<<"$out" &&
    ! grep -q ' 0x1000 ' <<<"$out" && ok "--focus keeps one site" || { bad "--focus"; echo "$out"; }

for arg in "--max-lifetime=5" "--max-lifetime=1fortnight" "--max-lifetime=-1ms"; do
    err=$("$JEPROF_C" --temporary $arg "$G/temporary.json" 2>&1 >/dev/null)
    [ $? = 2 ] && grep -q "^error: --max-lifetime expects a duration" <<<"$err" && ok "$arg refused" || bad "$arg accepted"
done
err=$("$JEPROF_C" --text --max-lifetime=1ms "$G/temporary.json" 2>&1 >/dev/null)
[ $? = 2 ] && grep -q "^error: --max-lifetime goes with --temporary" <<<"$err" && ok "--max-lifetime alone refused" ||
    bad "--max-lifetime without --temporary accepted"
err=$("$JEPROF_C" --temporary --base="$G/temporary.json" "$G/temporary.json" 2>&1 >/dev/null)
[ $? = 2 ] && grep -q "^error: --temporary .* no --base" <<<"$err" && ok "--base refused" || bad "--temporary --base accepted"
err=$("$JEPROF_C" --quiet --temporary "$G/prog" "$G/prog.heap" 2>&1 >/dev/null)
[ $? = 1 ] && grep -q "^error: --temporary reads a recent-allocation dump" <<<"$err" && ok "heap_v2 refused" ||
    bad "--temporary on heap_v2 accepted"
exit $status
