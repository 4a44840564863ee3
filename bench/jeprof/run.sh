#!/usr/bin/env bash
# jeprof-c vs Debian's jeprof on a large heap profile. Generates a program
# with FANOUT^DEPTH distinct call paths (default 7^6 = 117649), runs it
# under Debian's jemalloc with lg_prof_sample:0 (every allocation sampled),
# then times `--text` of both tools on the same dump and prints wall time,
# peak RSS (/usr/bin/time -v) and the ratio. Standalone:
#   bash bench/jeprof/run.sh            (make first: needs build/jeprof-c)
# Env: FANOUT, DEPTH, JEPROF_BENCH_DIR (keep files there), SKIP_JEPROF=1.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JEPROF_C=${JEPROF_C:-$ROOT/build/jeprof-c}
JEMALLOC_SO=${JEMALLOC_SO:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
FANOUT=${FANOUT:-7}
DEPTH=${DEPTH:-6}
for t in gcc python3 jeprof /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench/jeprof: '$t' is missing, skipped"; exit 0; }
done
[ -x "$JEPROF_C" ] || { echo "bench/jeprof: build $JEPROF_C first (make)"; exit 1; }
[ -f "$JEMALLOC_SO" ] || { echo "bench/jeprof: no $JEMALLOC_SO, skipped"; exit 0; }
DIR=${JEPROF_BENCH_DIR:-$(mktemp -d /tmp/jeprof-bench.XXXXXX)}
[ -n "${JEPROF_BENCH_DIR:-}" ] || trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR"
cd "$DIR"

python3 "$ROOT/bench/jeprof/gen_tree.py" "$FANOUT" "$DEPTH" >tree.c
gcc -O2 -g -fomit-frame-pointer -o tree tree.c
rm -f prof.*.heap
LD_PRELOAD=$JEMALLOC_SO MALLOC_CONF=prof:true,prof_final:true,prof_prefix:$DIR/prof,lg_prof_sample:0 ./tree >/dev/null
DUMP=$(ls prof.*.f.heap | head -n 1)
stacks=$(grep -c '^@' "$DUMP")
size=$(du -h "$DUMP" | cut -f1)
echo "profile: $stacks distinct stacks, $size ($FANOUT^$DEPTH paths, lg_prof_sample:0)"

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

measure() { # name output-file cmd...
    local name=$1 out=$2; shift 2
    /usr/bin/time -v "$@" >"$out" 2>"$name.time" || { echo "$name failed:"; tail -5 "$name.time"; exit 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$name.time" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$name.time")
    echo "$wall $rss"
}

read -r c_wall c_rss < <(measure jeprof-c mine.txt "$JEPROF_C" --quiet --text ./tree "$DUMP")
if [ "${SKIP_JEPROF:-0}" = 1 ]; then
    printf '%-10s %10s %14s\n' tool "wall (s)" "peak RSS (MB)"
    printf '%-10s %10.2f %14.1f\n' jeprof-c "$c_wall" "$(mb "$c_rss")"
    exit 0
fi
read -r p_wall p_rss < <(measure jeprof theirs.txt jeprof --text ./tree "$DUMP")

printf '\n%-10s %10s %14s\n' tool "wall (s)" "peak RSS (MB)"
printf '%-10s %10.2f %14.1f\n' jeprof "$p_wall" "$(mb "$p_rss")"
printf '%-10s %10.2f %14.1f\n' jeprof-c "$c_wall" "$(mb "$c_rss")"
awk -v a="$p_wall" -v b="$c_wall" 'BEGIN { if (b < 0.01) b = 0.01; printf "speedup: %.0fx (jeprof / jeprof-c wall time)\n", a / b }'
if [ "$(head -n 1 mine.txt)" = "$(head -n 1 theirs.txt)" ]; then
    echo "same Total line: $(head -n 1 mine.txt)"
else
    echo "Total lines differ: '$(head -n 1 mine.txt)' vs jeprof '$(head -n 1 theirs.txt)'"
fi
