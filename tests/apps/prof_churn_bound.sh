#!/usr/bin/env bash
# Profiler memory is bounded under thread churn (per-thread shares of exited
# threads are recycled) and cumulative counts survive the recycling.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$ROOT/build/tests/prof
mkdir -p "$out"
# churn_bound is built by tests/tests.mk with the project's flags.
[ -x "$out/churn_bound" ] || { echo "FAIL: $out/churn_bound is not built (run make test)"; exit 1; }
cd "$out"
rm -f churn_bound.heap
res=$(MALLOC_CONF=prof:true,lg_prof_sample:0,prof_accum:true,prof_prefix: ./churn_bound)
echo "$res"
kb=$(echo "$res" | sed -n 's/metadata_growth_kb \([0-9]*\)/\1/p')
# 20000 threads x one share each would be > 1.5 MiB without recycling.
[ "$kb" -le 512 ] || { echo "FAIL: profiler metadata grew $kb KiB over 20000 threads"; exit 1; }
# The site's cumulative objects count every one of the 22000 allocations.
accum=$(awk '/^@/ {at=1; next} at && /t\*:/ {gsub(/[\[\]:]/, " "); print $4; at=0}' churn_bound.heap | sort -n | tail -1)
echo "largest site accum objects: $accum"
[ "${accum:-0}" -ge 22000 ] || { echo "FAIL: cumulative count $accum < 22000"; exit 1; }
echo ok
