#!/usr/bin/env bash
# Sampled-allocation throughput with the recent ring off and on (1000
# entries), every allocation sampled (lg_prof_sample:0), at 1, 2 and 8
# threads, ours side by side with jemalloc 5.3's prof_recent. Medians of
# REPS runs; ratios are ours / jemalloc.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${REPS:-5}
SECS=${SECS:-1}
out=$ROOT/build/bench
mkdir -p "$out"
cc -O2 -g "$ROOT/bench/recent/recent_bench.c" -o "$out/recent_bench" -lpthread
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
OURS=$ROOT/build/liballoc.so
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # lib conf threads
    for r in $(seq "$REPS"); do
        MALLOC_CONF="$2" LD_PRELOAD="$1" "$out/recent_bench" "$3" "$SECS"
    done | median
}
printf "%-8s %-6s %14s %14s %8s\n" threads ring "ours ops/s" "jemalloc ops/s" ratio
for th in 1 2 8; do
    for ring in 0 1000; do
        conf="prof:true,lg_prof_sample:0,prof_recent_alloc_max:$ring,prof_prefix:"
        o=$(measure "$OURS" "$conf" "$th")
        j=$(measure "$JE" "$conf" "$th")
        printf "%-8s %-6s %14s %14s %8.2f\n" "$th" "$ring" "$o" "$j" "$(echo "$o / $j" | bc -l)"
    done
done
