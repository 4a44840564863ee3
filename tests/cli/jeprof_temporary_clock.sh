#!/usr/bin/env bash
# jeprof-c --temporary and the ring's clock. Two hand-made rings of 40
# entries at one site, allocated about 1.3 ms apart, each freed 0.5-0.53 ms
# later (all truly temporary at the default --max-lifetime=1ms):
#  - fine.json: ns times (prof_time_resolution:high): all 40 listed, no
#    clock warning;
#  - coarse.json: the same run as a 4 ms coarse clock stamps it (every time
#    rounded down to a tick): a lifetime reads 0 or 4 ms (4 ms for the
#    blocks a tick falls inside), so fewer than 40 are listed, and a
#    warning says the ring's times move in steps of 4 ms, too coarse for
#    1 ms; with --max-lifetime=100ms (steps under a tenth of it) no warning;
#  - sparse.json: a busy run's coarse ring that never shows two adjacent
#    ticks (gaps of 8 and 12 ms): the step found is 4 ms, not 8;
#  - a ring of fewer than 6 distinct times cannot tell: no warning (3
#    entries within one 4 ms tick here);
#  - a real run under the default clock (bench/heaptrack/churn.c, 0.1 s
#    or more, at least 6 ticks even at HZ 100): the warning.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need python3
st=0
bad() { echo "FAIL $*"; st=1; }
python3 - "$WORK" <<'PY'
import json, sys
def ring(tick, n=40):
    ents = []
    for i in range(n):
        a = 1_000_000_000 + i * 1_300_000 + (i * i * 7919) % 20_000
        f = a + 500_000 + (i * 104_729) % 30_000
        if tick:
            a -= a % tick; f -= f % tick
        ents.append({"size": 64, "usize": 64, "released": True, "alloc_thread_uid": 0,
                     "alloc_time": a, "alloc_trace": ["0x1000", "0x2000"], "weight": 1.0,
                     "dalloc_thread_uid": 0, "dalloc_time": f, "dalloc_trace": ["0x1000"]})
    return {"sample_interval": 1, "recent_alloc_max": 100, "recent_alloc": ents}
for name, tick, n in (("fine", 0, 40), ("coarse", 4_000_000, 40), ("few", 4_000_000, 3)):
    json.dump(ring(tick, n), open("%s/%s.json" % (sys.argv[1], name), "w"))
# A busy run's coarse ring that never shows two adjacent 4 ms ticks: times
# at ticks 0, 2, 5, 7, 10, ... (gaps of 8 and 12 ms), lifetimes 0.
r = ring(0, 20)
for i, e in enumerate(r["recent_alloc"]):
    e["alloc_time"] = e["dalloc_time"] = 1_000_000_000 + (i // 2 * 5 + i % 2 * 2) * 4_000_000 + 123
json.dump(r, open("%s/sparse.json" % sys.argv[1], "w"))
PY
out=$("$JEPROF_C" --temporary "$WORK/fine.json" 2>"$WORK/fine.err") || bad "fine: exit $?"
grep -q 'clock\|steps of' "$WORK/fine.err" && bad "fine: clock warning: $(cat "$WORK/fine.err")" || echo "ok   fine clock: no warning"
grep -qx 'Temporary allocations (freed within 1 ms): 40 of 40 sampled allocations (100.0%)' <<<"$out" &&
    echo "ok   fine clock: 40 of 40" || bad "fine: $out"

out=$("$JEPROF_C" --temporary "$WORK/coarse.json" 2>"$WORK/coarse.err") || bad "coarse: exit $?"
cat "$WORK/coarse.err"
grep -q "^warning: the ring's times move in steps of 4 ms (a coarse clock: prof_time_resolution:default), too coarse for --max-lifetime=1 ms" "$WORK/coarse.err" &&
    echo "ok   coarse clock: warned with its 4 ms step" || bad "coarse: no clock warning"
grep -Eq '\): 3[0-9] of 40 sampled' <<<"$out" && echo "ok   coarse clock: some short blocks read 4 ms (hence the warning)" ||
    bad "coarse: expected 30-39 of 40: $out"
"$JEPROF_C" --temporary --max-lifetime=100ms "$WORK/coarse.json" 2>&1 >/dev/null | grep -q 'steps of' &&
    bad "coarse: warned at --max-lifetime=100ms" || echo "ok   coarse clock, 100 ms threshold: no warning"
"$JEPROF_C" --temporary "$WORK/sparse.json" 2>&1 >/dev/null | grep -q "steps of 4 ms" &&
    echo "ok   gaps of 8 and 12 ms: a 4 ms step" || bad "sparse ticks: no 4 ms step found"
"$JEPROF_C" --temporary "$WORK/few.json" 2>&1 >/dev/null | grep -q 'steps of' &&
    bad "few: warned on 3 entries" || echo "ok   too few times to tell: no warning"
CHURN=$ROOT/build/tests/heaptrack/churn
[ -x "$CHURN" ] || fail "$CHURN not built (make test builds it)"
mkdir -p "$WORK/run"
LD_PRELOAD=$ROOT/build/liballoc.so MALLOC_CONF=prof:true,prof_final:true,lg_prof_sample:19,prof_recent_alloc_max:20000,prof_prefix:$WORK/run/c \
    "$CHURN" 2 || fail "churn failed"
"$JEPROF_C" --temporary "$CHURN" "$WORK"/run/c.*.f.recent.json 2>&1 >/dev/null |
    grep -q "^warning: the ring's times move in steps of [0-9.]* ms (a coarse clock" &&
    echo "ok   real run, default clock: warned" || bad "real run, default clock: no warning"
exit $st
