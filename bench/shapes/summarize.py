#!/usr/bin/env python3
"""bench/shapes/summarize.py: table of medians from run.sh's CSV (stdin):
per shape and thread count, wall time and peak RSS of ours, mimalloc and
jemalloc (and "new" when run.sh ran NEW_SO), and ratios to mimalloc, of
wall time, peak RSS and user CPU time (steadier than wall time on a loaded
machine); '!' marks a ratio over 1.05."""
import csv, statistics, sys
from collections import defaultdict

runs = defaultdict(list)
for row in csv.DictReader(sys.stdin):
    runs[(row["shape"], int(row["threads"]), row["alloc"])].append(
        (float(row["wall_s"]), int(row["maxrss_kb"]) / 1024, float(row["user_s"])))
allocs = [a for a in ("ours", "mi", "je", "new") if any(k[2] == a for k in runs)]
others = [a for a in allocs if a in ("ours", "new")]


def med(s, t, a, i):
    v = runs.get((s, t, a))
    return statistics.median(x[i] for x in v) if v else float("nan")


def ratio(x, y):
    r = x / y
    return f"{r:5.2f}{'!' if r > 1.05 else ' '}"


head = f"{'shape':14}{'t':>2} |" + "".join(f" {a + ' s':>7}" for a in allocs)
head += "".join(f" {a + '/mi':>7}" for a in others) + " |"
head += "".join(f" {a + ' MB':>7}" for a in allocs) + "".join(f" {a + '/mi':>7}" for a in others)
head += " | cpu" + "".join(f" {a + '/mi':>7}" for a in others)
print(head)
for s, t in sorted({(s, t) for s, t, _ in runs}):
    line = f"{s:14}{t:>2} |" + "".join(f" {med(s, t, a, 0):7.3f}" for a in allocs)
    line += "".join(f" {ratio(med(s, t, a, 0), med(s, t, 'mi', 0)):>7}" for a in others) + " |"
    line += "".join(f" {med(s, t, a, 1):7.1f}" for a in allocs)
    line += "".join(f" {ratio(med(s, t, a, 1), med(s, t, 'mi', 1)):>7}" for a in others)
    line += " |    " + "".join(f" {ratio(med(s, t, a, 2), med(s, t, 'mi', 2)):>7}" for a in others)
    print(line)
