#!/usr/bin/env bash
# The recent ring through mallctl in a real process: jemalloc's names and
# ours, strict JSON, exact entry counts, released entries with free stacks,
# and the filtered and summary queries.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$ROOT/build/tests/recent
mkdir -p "$out"
# queries is built by tests/tests.mk with the project's flags.
[ -x "$out/queries" ] || { echo "FAIL: $out/queries is not built (run make test)"; exit 1; }
MALLOC_CONF=prof:true,lg_prof_sample:0,prof_prefix: "$out/queries" "$out"
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
def load(n): return json.load(open(f"{d}/{n}.json"))
full = load("full")
assert full["recent_alloc_max"] == 50 and full["sample_interval"] == 1, full.keys()
e = full["recent_alloc"]
assert len(e) == 50, len(e)                                  # exactly the ring size
# The workload's blocks: 100 B ones were freed, 2000 B ones are live.
ours = [x for x in e if x["size"] in (100, 2000)]
assert len(ours) == 50, len(ours)
assert all(x["released"] == (x["size"] == 100) for x in ours), ours
rel = [x for x in e if x["released"]]
for x in e:
    assert x["usize"] >= x["size"] and x["alloc_trace"], x
    assert x["alloc_thread_name"] == 'q"uo\\te', x["alloc_thread_name"]
for x in rel:
    assert x["dalloc_time"] >= x["alloc_time"] and x["dalloc_trace"], x
live_only = load("live")["recent_alloc"]
assert len(live_only) == len(e) - len(rel) and not any(x["released"] for x in live_only)
big = load("big")["recent_alloc"]
assert big and all(x["usize"] >= 1024 for x in big) and len(big) < 50, len(big)
summ = load("summary")["recent_alloc_summary"]
assert sum(s["count"] for s in summ) == len(rel), summ           # released entries only
assert all(s["lifetime_max_ns"] >= s["lifetime_mean_ns"] for s in summ)
je = load("jemalloc_name")
assert len(je["recent_alloc"]) == 50
print("recent queries ok")
PY
