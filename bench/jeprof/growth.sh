#!/usr/bin/env bash
# jeprof-c --growth over a long series: NDUMPS (100) heap_v2 dumps of NSITES
# (10000) stacks each, addresses in build/jeprof-c's own text so they are
# symbolized for real (bench/jeprof/gen_series.py). Prints the median wall
# time and peak RSS of REPS (3) runs of the text table and of the SVG chart.
#   bash bench/jeprof/growth.sh          (make first)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JEPROF_C=${JEPROF_C:-$ROOT/build/jeprof-c}
NDUMPS=${NDUMPS:-100} NSITES=${NSITES:-10000} REPS=${REPS:-3}
for t in python3 readelf /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench/jeprof/growth: '$t' is missing, skipped"; exit 0; }
done
[ -x "$JEPROF_C" ] || { echo "bench/jeprof/growth: build $JEPROF_C first (make)"; exit 1; }
DIR=$(mktemp -d /tmp/jeprof-growth.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
python3 "$ROOT/bench/jeprof/gen_series.py" "$DIR" "$NDUMPS" "$NSITES" "$JEPROF_C"
echo "series: $NDUMPS dumps x $NSITES stacks, $(du -sh "$DIR" | cut -f1)"
run() { # label args...
    local label=$1; shift
    for ((i = 0; i < REPS; i++)); do
        /usr/bin/time -f '%e %M' "$JEPROF_C" --growth --quiet "$@" "$DIR"/series.*.heap \
            >"$DIR/out" 2>"$DIR/time" || { tail -3 "$DIR/time"; exit 1; }
        tail -n 1 "$DIR/time"
    done | sort -n | awk -v l="$label" -v n="$REPS" '{ w[NR] = $1; m[NR] = $2 }
        END { k = int((n + 1) / 2); printf "%-18s median %.2f s wall, %.0f MB peak RSS (%d runs)\n", l, w[k], m[k] / 1024, n }'
}
run "--growth (text)"
run "--growth --svg" --svg
