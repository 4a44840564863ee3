#!/usr/bin/env bash
# What the default-mode misuse checks cost (issue 17's budget: at most 2%):
# every row of bench/run.sh under liballoc and under the same
# library built without the checks (build/nocheck/liballoc.so, see
# check_cost.mk), run in pairs. Prints, per row, the median CPU time
# (user+sys, bench/timeit: microseconds) of each and the cost: the median
# over the repetitions of ours / nocheck - 1, each pair run together
# (CHECK_PAIRED below, so a load that comes and goes on this shared machine
# hits both sides of a pair alike); and the min cost: the fastest run with
# the checks over the fastest without (on a VM a run is slowed, never sped up, by the
# host: page faults on memory the host took back, another guest's load;
# seen here as runs of the same program at 0.38 and 0.65 s, depending on
# the run before); then the geomean of each column. CPU rather
# than wall time: the multithreaded rows' wall time depends on scheduling
# on a shared machine.
#   CHECK_REPS=11   repetitions (default: at least 11; medians)
#   CHECK_ROWS      the rows (bench/run.sh's BENCH_ONLY; default all)
#   CHECK_SCALE=1   work multiplier (2: longer runs, finer CPU-time resolution)
#   CHECK_PAIRED=1  each pair at the same time, single-threaded rows on CPUs 0
#                   and 1 swapped run by run (bench/run.sh, BENCH_PAIRED): the
#                   host's load then hits both sides of a pair alike; 0 runs
#                   them back to back
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/bench # where bench/run.sh writes
REPS_IN=${REPS:-5}
CHECK_REPS=${CHECK_REPS:-$((REPS_IN > 11 ? REPS_IN : 11))}
ROWS=${CHECK_ROWS:-}
NOCHECK=${OURS_NOCHECK_SO:-$ROOT/build/nocheck/liballoc.so}
# Rebuilt whenever a library source changed (the two builds must be of the
# same code); an OURS_NOCHECK_SO given from outside is used as it is.
if [ -z "${OURS_NOCHECK_SO:-}" ]; then
	make -C "$ROOT" --no-print-directory -s build/nocheck/liballoc.so >/dev/null ||
		{ echo "check_cost: building $NOCHECK failed" >&2; exit 1; }
fi
[ -e "$NOCHECK" ] || { echo "check_cost: $NOCHECK is missing" >&2; exit 1; }
ALLOCATORS="ours ours-nocheck" BENCH_PAIRED=${CHECK_PAIRED:-1} BENCH_ONLY=$ROWS SCALE=${CHECK_SCALE:-1} REPS=$CHECK_REPS BENCH_EXTRA=0 BENCH_BUDGET=0 \
	BENCH_RESULTS=check_cost OURS_NOCHECK_SO=$NOCHECK bash "$ROOT/bench/run.sh" >/dev/null || exit 1
awk -F, '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n ? ((n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : ""
}
NR > 1 && $10 == "ok" {
	C[$1 SUBSEP $2] = C[$1 SUBSEP $2] " " $11; R[$1 SUBSEP $2 SUBSEP $3] = $11
	if (!($1 in seen)) { seen[$1] = 1; rows[++n] = $1 }
	if ($3 > nrep) nrep = $3
}
END {
	printf "default-mode misuse checks: CPU s (user+sys), medians of %s runs;\n", reps
	printf "cost: median over the runs of checks/none - 1, each pair run %s;\n", paired ? "together (CHECK_PAIRED)" : "back to back"
	printf "min cost: fastest run with checks / fastest without - 1 (a run slowed by\n"
	printf "the host only adds time, so the minima are the steadier figure on a VM)\n"
	printf "%-18s %9s %9s %8s %9s\n", "bench", "checks", "none", "cost", "min cost"
	for (i = 1; i <= n; i++) {
		a = median(C[rows[i] SUBSEP "ours"]); b = median(C[rows[i] SUBSEP "ours-nocheck"])
		q = ""; lo_a = ""; lo_b = ""
		for (r = 1; r <= nrep; r++) {
			x = R[rows[i] SUBSEP "ours" SUBSEP r]; y = R[rows[i] SUBSEP "ours-nocheck" SUBSEP r]
			if (x != "" && y != "" && y > 0) q = q " " x / y
			if (x != "" && (lo_a == "" || x + 0 < lo_a + 0)) lo_a = x
			if (y != "" && (lo_b == "" || y + 0 < lo_b + 0)) lo_b = y
		}
		m = median(q)
		if (m == "" || lo_b + 0 <= 0) { printf "%-18s %9s %9s %8s\n", rows[i], a, b, "-"; continue }
		mm = lo_a / lo_b
		printf "%-18s %9.3f %9.3f %+7.1f%% %+8.1f%%\n", rows[i], a, b, (m - 1) * 100, (mm - 1) * 100
		g += log(m); gm += log(mm); k++
	}
	if (k) printf "%-18s %9s %9s %+7.1f%% %+8.1f%%\n", "geomean", "", "", (exp(g / k) - 1) * 100, (exp(gm / k) - 1) * 100
}' reps="$CHECK_REPS" paired="$(cat "$OUT/check_cost.paired" 2>/dev/null || echo 0)" "$OUT/check_cost.csv"
