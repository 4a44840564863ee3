#!/usr/bin/env bash
# RSS over time for examples/decay-burst under ours and jemalloc at the same
# decay settings (dirty_decay_ms: 10000, 3000, 0, -1; muzzy 0), drawn as one
# PNG with gnuplot: build/bench/decay.png, data in build/bench/decay/.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$ROOT/build/bench/decay
mkdir -p "$out"
BIN=$ROOT/build/examples/decay-burst
[ -x "$BIN" ] || make -C "$ROOT" --no-print-directory build/examples/decay-burst >/dev/null
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
SECS=${DECAY_SECS:-12}
plots=""
for ms in 10000 3000 0 -1; do
    conf="dirty_decay_ms:$ms,muzzy_decay_ms:0"
    MALLOC_CONF=$conf LD_PRELOAD=$ROOT/build/liballoc.so "$BIN" "$SECS" 2 > "$out/ours_$ms.dat"
    if [ -f "$JE" ]; then
        MALLOC_CONF=$conf LD_PRELOAD=$JE "$BIN" "$SECS" 2 > "$out/jemalloc_$ms.dat"
    fi
    held_o=$(tail -n 1 "$out/ours_$ms.dat" | awk '{print $2}')
    held_j=$( [ -f "$out/jemalloc_$ms.dat" ] && tail -n 1 "$out/jemalloc_$ms.dat" | awk '{print $2}' || echo n/a)
    printf "decay %6s ms: RSS at the end ours %5s MiB, jemalloc %5s MiB\n" "$ms" "$held_o" "$held_j"
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
