#!/usr/bin/env bash
# jeprof-c vs Debian's jeprof on a large heap profile. Generates a program
# with FANOUT^DEPTH distinct call paths (default 7^6 = 117649), runs it
# under Debian's jemalloc with lg_prof_sample:0 (every allocation sampled),
# then times `--text` of both tools on the same dump and prints wall time,
# CPU time (user+sys), peak RSS (/usr/bin/time -v) and the ratios. jeprof-c
# runs three times and its fastest run counts (the machine may be shared);
# jeprof runs once. Standalone:
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
    local wall rss cpu
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$name.time" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$name.time")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$name.time")
    echo "$wall $cpu $rss"
}

# best_of N name output cmd...: the run with the least wall time.
best_of() {
    local n=$1 name=$2 out=$3 best="" line; shift 3
    for ((k = 0; k < n; k++)); do
        line=$(measure "$name" "$out" "$@")
        if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN {exit !(a < b)}'; then
            best=$line
        fi
    done
    echo "$best"
}

read -r c_wall c_cpu c_rss < <(best_of 3 jeprof-c mine.txt "$JEPROF_C" --quiet --text ./tree "$DUMP")
if [ "${SKIP_JEPROF:-0}" = 1 ]; then
    printf '%-10s %10s %10s %14s\n' tool "wall (s)" "cpu (s)" "peak RSS (MB)"
    printf '%-10s %10.2f %10.2f %14.1f\n' jeprof-c "$c_wall" "$c_cpu" "$(mb "$c_rss")"
    exit 0
fi
read -r p_wall p_cpu p_rss < <(measure jeprof theirs.txt jeprof --text ./tree "$DUMP")

printf '\n%-10s %10s %10s %14s\n' tool "wall (s)" "cpu (s)" "peak RSS (MB)"
printf '%-10s %10.2f %10.2f %14.1f\n' jeprof "$p_wall" "$p_cpu" "$(mb "$p_rss")"
printf '%-10s %10.2f %10.2f %14.1f\n' jeprof-c "$c_wall" "$c_cpu" "$(mb "$c_rss")"
awk -v a="$p_wall" -v b="$c_wall" -v c="$p_cpu" -v d="$c_cpu" 'BEGIN {
    if (b < 0.01) b = 0.01; if (d < 0.01) d = 0.01
    printf "speedup: %.0fx wall, %.0fx cpu (jeprof / jeprof-c)\n", a / b, c / d }'
if [ "$(head -n 1 mine.txt)" = "$(head -n 1 theirs.txt)" ]; then
    echo "same Total line: $(head -n 1 mine.txt)"
else
    echo "Total lines differ: '$(head -n 1 mine.txt)' vs jeprof '$(head -n 1 theirs.txt)'"
fi
