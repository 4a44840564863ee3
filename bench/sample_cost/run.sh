#!/usr/bin/env bash
# The cost of one heap-profile sample and of its parts (ns, medians; see
# sample_cost.c), with the default options and with the recent ring and the
# peak snapshot on. REPS runs of the program; each line is the median of
# their medians.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${REPS:-3}
BIN=$ROOT/build/bench/sample_cost
[ -x "$BIN" ] || make -C "$ROOT" --no-print-directory -s build/bench/sample_cost >/dev/null
run() { # conf
	for r in $(seq "$REPS"); do
		MALLOC_CONF="$1" "$BIN" 41
	done | awk '{v[$1] = v[$1] " " $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
		END { for (i = 1; i <= n; i++) { k = split(v[order[i]], a, " ");
			for (x = 1; x <= k; x++) for (y = x + 1; y <= k; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
			printf "%s %s\n", order[i], a[int((k + 1) / 2)] } }'
}
echo "per-sample cost, ns (median of $REPS runs of 41-round medians)"
paste <(run "prof:true,prof_prefix:") \
      <(run "prof:true,prof_prefix:,prof_recent_alloc_max:1000,prof_peak:true" | cut -d' ' -f2) |
	awk 'BEGIN { printf "%-18s %10s %14s\n", "part", "default", "+recent+peak" }
	     { printf "%-18s %10s %14s\n", $1, $2, $3 }'
