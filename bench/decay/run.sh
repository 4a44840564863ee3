#!/usr/bin/env bash
# RSS over time for examples/decay-burst under ours and jemalloc at the same
# decay settings (dirty_decay_ms: 10000, 3000, 0, -1; muzzy 0), drawn as one
# PNG with gnuplot: build/bench/decay.png, data in build/bench/decay/.
#
# DECAY_RUNS=N (default 1) runs every setting N times (the plot shows the
# last run) and prints, per allocator, the RSS at the end of each run: a
# burst kept only now and then (once one run in four at 10000 ms, when the
# quiet thread stopped ticking: liballoc/decay.h) shows as an outlier there.
# DECAY_SECS (default 12): length of one run; two 256 MiB bursts, at 0.5 s
# and DECAY_SECS/3 later.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$ROOT/build/bench/decay
mkdir -p "$out"
BIN=$ROOT/build/examples/decay-burst
[ -x "$BIN" ] || make -C "$ROOT" --no-print-directory build/examples/decay-burst >/dev/null
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
SECS=${DECAY_SECS:-12}
RUNS=${DECAY_RUNS:-1}
OURS_SO=${OURS_SO:-$ROOT/build/liballoc.so}
for ms in 10000 3000 0 -1; do
    conf="dirty_decay_ms:$ms,muzzy_decay_ms:0"
    ends_o="" ends_j=""
    for r in $(seq 1 "$RUNS"); do
        MALLOC_CONF=$conf LD_PRELOAD=$OURS_SO "$BIN" "$SECS" 2 > "$out/ours_$ms.dat"
        ends_o="$ends_o $(tail -n 1 "$out/ours_$ms.dat" | awk '{print $2}')"
        if [ -f "$JE" ]; then
            MALLOC_CONF=$conf LD_PRELOAD=$JE "$BIN" "$SECS" 2 > "$out/jemalloc_$ms.dat"
            ends_j="$ends_j $(tail -n 1 "$out/jemalloc_$ms.dat" | awk '{print $2}')"
        fi
    done
    printf "decay %6s ms: RSS at the end (MiB) ours%s, jemalloc%s\n" "$ms" "$ends_o" "${ends_j:- n/a}"
done
if command -v gnuplot >/dev/null; then
    {
        echo "set terminal png size 1200,800; set output '$ROOT/build/bench/decay.png'"
        echo "set multiplot layout 2,2 title 'RSS over time: two 256 MiB bursts (ours solid, jemalloc dashed)'"
        for ms in 10000 3000 0 -1; do
            echo "set title 'dirty\\_decay\\_ms=$ms'; set xlabel 's'; set ylabel 'RSS MiB'; set key top right"
            echo "plot '$out/ours_$ms.dat' with lines lw 2 title 'liballoc', '$out/jemalloc_$ms.dat' with lines dt 2 lw 2 title 'jemalloc'"
        done
        echo "unset multiplot"
    } | gnuplot
    echo "plot: build/bench/decay.png"
fi
