#!/usr/bin/env bash
# jeprof-c --temporary ranks by lifetime (freed within --max-lifetime);
# heaptrack ranks by its own test (nothing allocated between the allocation
# and its free). When the two put different sites first, the report names
# heaptrack's top too. Hand-made ring (our fields, counters on every entry):
#  - 0x1000: 30 entries of weight 10, freed after 100 us, the thread's
#    thread.allocated changed in between (a container built and dropped);
#  - 0x3000: 10 entries of weight 10, freed after 50 us, counters equal;
#  - 0x4000: one live entry (no free, so no free counter: not a reason to
#    give up the comparison).
# The listing puts 0x1000 first (300 estimated); the footer names 0x3000
# (100 such allocations, against 0 for 0x1000). With 0x1000's counters
# equal too, both tests agree and there is no footer; with one entry
# lacking counters (a jemalloc-style entry) the test cannot be applied to
# every site and there is no footer either.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need python3
st=0
bad() { echo "FAIL $*"; st=1; }
python3 - "$WORK" <<'PY'
import json, sys
def ent(i, site, life, same, counters=True):
    a = 1_000_000_000 + i * 1_000_003
    e = {"size": 64, "usize": 64, "released": True, "alloc_thread_uid": 0,
         "alloc_time": a, "alloc_trace": [site, "0x2000"], "dalloc_thread_uid": 0,
         "dalloc_time": a + life, "dalloc_trace": [site]}
    if counters:
        e.update({"weight": 10.0, "alloc_thread_allocated": 5000 + i * 64,
                  "dalloc_thread_allocated": 5000 + i * 64 + (0 if same else 128)})
    return e
def live(i, site):
    return {"size": 64, "usize": 64, "released": False, "alloc_thread_uid": 0,
            "alloc_time": 1_000_000_000 + i * 1_000_003, "alloc_trace": [site, "0x2000"],
            "weight": 10.0, "alloc_thread_allocated": 5000 + i * 64}
def ring(ents):
    return {"sample_interval": 640, "recent_alloc_max": 100, "recent_alloc": ents}
d = sys.argv[1]
json.dump(ring([ent(i, "0x1000", 100_000, False) for i in range(30)] +
               [ent(30 + i, "0x3000", 50_000, True) for i in range(10)] +
               [live(40, "0x4000")]), open(d + "/differ.json", "w"))
json.dump(ring([ent(i, "0x1000", 100_000, True) for i in range(30)] +
               [ent(30 + i, "0x3000", 50_000, True) for i in range(10)]), open(d + "/agree.json", "w"))
json.dump(ring([ent(i, "0x1000", 100_000, False) for i in range(30)] +
               [ent(30 + i, "0x3000", 50_000, True) for i in range(10)] +
               [ent(40, "0x5000", 10_000, False, counters=False)]), open(d + "/mixed.json", "w"))
PY
out=$("$JEPROF_C" --quiet --temporary "$WORK/differ.json" 2>/dev/null) || bad "differ: exit $?"
echo "$out"
sed -n 4p <<<"$out" | grep -q ' 0x1000 ' && echo "ok   listing ranked by lifetime: 0x1000 first" || bad "ranking"
grep -qx "By heaptrack's test (freed by the allocating thread with nothing allocated in between) the top site is 0x3000: estimated 100 such allocations, against 0 for 0x1000" <<<"$out" &&
    echo "ok   footer names heaptrack's top" || bad "no footer naming 0x3000"
out=$("$JEPROF_C" --quiet --temporary "$WORK/agree.json" 2>/dev/null) || bad "agree: exit $?"
grep -q "By heaptrack's test" <<<"$out" && bad "footer when both agree" || echo "ok   no footer when both agree"
out=$("$JEPROF_C" --quiet --temporary "$WORK/mixed.json" 2>/dev/null) || bad "mixed: exit $?"
grep -q "By heaptrack's test" <<<"$out" && bad "footer with an entry lacking counters" ||
    echo "ok   no footer when some entry lacks the counters"
exit $st
