#!/usr/bin/env bash
# jeprof-c vs Debian's jeprof on a large heap profile. Generates a program
# with FANOUT^DEPTH distinct call paths (default 7^6 = 117649: the
# "100k-stack profile"), runs it under Debian's jemalloc with
# lg_prof_sample:0 (every allocation sampled), then times, on the same
# dump, REPS runs each of jeprof-c --text, --svg and --flamegraph and
# JEPROF_REPS runs of jeprof --text, interleaved so both see the same load.
# Prints the median wall time, CPU time (user+sys, children included: dot
# for --svg) and peak RSS (/usr/bin/time -v) of each, the speedup of
# --text (median against median), and checks the goals: --text at least
# 100 times faster than jeprof, --svg and --flamegraph under 1 s.
# Standalone:
#   bash bench/jeprof/run.sh            (make first: needs build/jeprof-c)
# Env: FANOUT, DEPTH, REPS (5), JEPROF_REPS (REPS), JEPROF_BENCH_DIR (keep
# files there), SKIP_JEPROF=1 (jeprof-c only), JEPROF_C_BASE=<another
# jeprof-c build> (an older one: its --text is timed in the same loop too,
# for before/after figures; its output must be the same).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JEPROF_C=${JEPROF_C:-$ROOT/build/jeprof-c}
JEPROF_C_BASE=${JEPROF_C_BASE:-}
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

# measure name output-file cmd...: prints "wall cpu rss" (s, s, KiB); wall
# from the clock in ns (time -v rounds it to 10 ms), the rest from time -v.
measure() {
    local name=$1 out=$2; shift 2
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -v "$@" >"$out" 2>"$name.time" || { echo "$name failed:" >&2; tail -5 "$name.time" >&2; exit 1; }
    t1=$(date +%s%N)
    local wall rss cpu
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$name.time")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$name.time")
    echo "$wall $cpu $rss"
}

REPS=${REPS:-5}
JEPROF_REPS=${JEPROF_REPS:-$REPS}
[ "${SKIP_JEPROF:-0}" = 1 ] && JEPROF_REPS=0

# Each rep appends "wall cpu rss" to <name>.runs; jeprof runs in the same
# loop as jeprof-c so a busy machine weighs on both alike.
rm -f ./*.runs
for ((k = 0; k < REPS || k < JEPROF_REPS; k++)); do
    if ((k < REPS)); then
        measure text mine.txt "$JEPROF_C" --quiet --text ./tree "$DUMP" >>text.runs
        measure svg mine.svg "$JEPROF_C" --quiet --svg ./tree "$DUMP" >>svg.runs
        measure flame flame.out "$JEPROF_C" --quiet --flamegraph=flame.svg ./tree "$DUMP" >>flame.runs
        if [ -n "$JEPROF_C_BASE" ]; then
            measure base base.txt "$JEPROF_C_BASE" --quiet --text ./tree "$DUMP" >>base.runs
            cmp -s base.txt mine.txt || { echo "JEPROF_C_BASE's --text differs from jeprof-c's" >&2; exit 1; }
        fi
    fi
    if ((k < JEPROF_REPS)); then
        measure jeprof theirs.txt jeprof --text ./tree "$DUMP" >>jeprof.runs
    fi
done

# median FILE COLUMN
median() { sort -g -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '\n%-22s %5s %10s %10s %14s\n' "tool (median of runs)" runs "wall (s)" "cpu (s)" "peak RSS (MB)"
row() { # label file
    [ -s "$2" ] || return 0
    printf '%-22s %5d %10.3f %10.3f %14.1f\n' "$1" "$(wc -l <"$2")" "$(median "$2" 1)" \
        "$(median "$2" 2)" "$(mb "$(median "$2" 3)")"
}
row "jeprof --text" jeprof.runs
row "jeprof-c --text" text.runs
row "base jeprof-c --text" base.runs
row "jeprof-c --svg" svg.runs
row "jeprof-c --flamegraph" flame.runs
c_wall=$(median text.runs 1)
c_cpu=$(median text.runs 2)
for f in svg flame; do
    w=$(median $f.runs 1)
    awk -v w="$w" -v f="$f" 'BEGIN { printf "%s: median %.3f s %s 1 s\n", f, w, (w < 1 ? "under" : "NOT under") }'
done
if [ -s jeprof.runs ]; then
    p_wall=$(median jeprof.runs 1)
    p_cpu=$(median jeprof.runs 2)
    awk -v a="$p_wall" -v b="$c_wall" -v c="$p_cpu" -v d="$c_cpu" 'BEGIN {
        if (b < 0.001) b = 0.001; if (d < 0.001) d = 0.001
        printf "speedup of --text: %.0fx wall, %.0fx cpu (jeprof / jeprof-c, medians)%s\n", a / b, c / d,
            (a / b >= 100 ? "" : "  (goal: 100x wall)") }'
    if [ -s base.runs ]; then
        awk -v a="$p_wall" -v b="$(median base.runs 1)" -v c="$p_cpu" -v d="$(median base.runs 2)" 'BEGIN {
            if (b < 0.001) b = 0.001; if (d < 0.001) d = 0.001
            printf "speedup of the base jeprof-c --text: %.0fx wall, %.0fx cpu (jeprof / base, medians)\n", a / b, c / d }'
    fi
    if [ "$(head -n 1 mine.txt)" = "$(head -n 1 theirs.txt)" ]; then
        echo "same Total line: $(head -n 1 mine.txt)"
    else
        echo "Total lines differ: '$(head -n 1 mine.txt)' vs jeprof '$(head -n 1 theirs.txt)'"
    fi
fi

# Second case: symbolization-bound. MANY_FUNCS (3000) C++ functions in one
# unit, called MANY_ROUNDS (2) times from main: thousands of distinct
# addresses in one big CU and in one function with thousands of call sites.
command -v g++ >/dev/null || { echo "many addresses: no g++, skipped"; exit 0; }
MANY_FUNCS=${MANY_FUNCS:-3000}
MANY_ROUNDS=${MANY_ROUNDS:-2}
python3 "$ROOT/bench/jeprof/gen_many.py" "$MANY_FUNCS" "$MANY_ROUNDS" >many.cc
g++ -O2 -g -o many many.cc
rm -f many.*.heap
LD_PRELOAD=$JEMALLOC_SO MALLOC_CONF=prof:true,prof_final:true,prof_prefix:$DIR/many,lg_prof_sample:0 ./many >/dev/null
MDUMP=$(ls many.*.f.heap | head -n 1)
echo
echo "many addresses: $(grep -c '^@' "$MDUMP") stacks, $MANY_FUNCS functions x $MANY_ROUNDS call sites each in main"
rm -f many_*.runs
for ((k = 0; k < REPS || k < JEPROF_REPS; k++)); do
    if ((k < REPS)); then
        measure mtext many_mine.txt "$JEPROF_C" --quiet --text ./many "$MDUMP" >>many_c.runs
        if [ -n "$JEPROF_C_BASE" ]; then
            measure mbase many_base.txt "$JEPROF_C_BASE" --quiet --text ./many "$MDUMP" >>many_b.runs
            cmp -s many_base.txt many_mine.txt || { echo "JEPROF_C_BASE's --text differs (many)" >&2; exit 1; }
        fi
    fi
    if ((k < JEPROF_REPS)); then
        measure mjeprof many_theirs.txt jeprof --text ./many "$MDUMP" >>many_p.runs
    fi
done
row "jeprof --text" many_p.runs
row "jeprof-c --text" many_c.runs
row "base jeprof-c --text" many_b.runs
if [ -s many_p.runs ]; then
    awk -v a="$(median many_p.runs 1)" -v b="$(median many_c.runs 1)" -v c="$(median many_p.runs 2)" \
        -v d="$(median many_c.runs 2)" 'BEGIN { if (b < 0.001) b = 0.001; if (d < 0.001) d = 0.001
        printf "speedup: %.0fx wall, %.0fx cpu (medians)\n", a / b, c / d }'
fi
