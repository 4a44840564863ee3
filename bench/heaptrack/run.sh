#!/usr/bin/env bash
# Side by side with heaptrack (issue 15 point 5): three programs with a known
# answer each, run under heaptrack (Debian's, over our liballoc, so only the
# tracing differs) and under our liballoc's profiler at lg_prof_sample 14 and
# 19; the table gives each tool's answer and its run time against the same
# program on our liballoc with profiling off (wall-time medians of REPS).
#   leak.c   slow leak among churn    expected: leak_session
#            heaptrack: first entry of "MEMORY LEAKS" (heaptrack_print -l)
#            ours: jeprof-c --text --base=<first interval dump> <final dump>,
#            top row; and the rank-1 site of jeprof-c --growth over the
#            interval dumps and the final one
#   peak.c   200 MiB index built and freed    expected: build_index
#            heaptrack: first entry of "PEAK MEMORY CONSUMERS"
#            ours: prof_peak:true, jeprof-c --text on the .p<N>.heap that
#            prof_final writes at exit
#   churn.c  short-lived blocks      expected: format_message
#            heaptrack: first entry of "MOST TEMPORARY ALLOCATIONS"
#            ours: jeprof-c --temporary on the recent ring prof_final
#            writes at exit (<prefix>.<pid>.<seq>.f.recent.json), top row
# Environment: REPS (5), HT_SCALE (1: multiplies each program's work),
# OURS_SO, BENCH_OUT (where files go; build/bench by default).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${REPS:-5}
HT_SCALE=${HT_SCALE:-1}
OURS=${OURS_SO:-$ROOT/build/liballoc.so}
JEPROF_C=$ROOT/build/jeprof-c
OUT=${BENCH_OUT:-$ROOT/build/bench}/heaptrack
BIN=$ROOT/build/heaptrack
mkdir -p "$OUT" "$BIN"
[ -f "$OURS" ] && [ -x "$JEPROF_C" ] || { echo "heaptrack: build first (make)"; exit 1; }

# Built here with fixed flags: -O2 -g, frame pointers, no builtin malloc
# folding (a malloc/free pair the compiler removes is no allocation at all).
CFLAGS="-std=gnu11 -O2 -g -fno-omit-frame-pointer -fno-builtin-malloc -fno-builtin-free -Wall"
for p in leak peak churn; do
    if [ ! -x "$BIN/$p" ] || [ "$ROOT/bench/heaptrack/$p.c" -nt "$BIN/$p" ] ||
        [ "$ROOT/bench/heaptrack/ht_common.h" -nt "$BIN/$p" ]; then
        cc $CFLAGS "$ROOT/bench/heaptrack/$p.c" -o "$BIN/$p" -ldl || { echo "heaptrack: cannot build $p"; exit 1; }
    fi
done

have_ht=1
command -v heaptrack >/dev/null 2>&1 && command -v heaptrack_print >/dev/null 2>&1 || have_ht=0

# Per-program scale (the programs under our liballoc, profiling off, take
# about 0.2 s each) and the profiler options each needs for its answer.
scale() { awk -v a="$1" -v b="$HT_SCALE" 'BEGIN { print a * b }'; }
declare -A SCALE=([leak]=$(scale 10) [peak]=$(scale 1) [churn]=$(scale 5))
conf_for() { # prog lg dir
    local base="prof:true,lg_prof_sample:$2,prof_prefix:$3/p"
    case $1 in
    leak) echo "$base,prof_final:true,lg_prof_interval:28" ;; # about 8 interval dumps
    peak) echo "$base,prof_final:true,prof_peak:true" ;;
    churn) echo "$base,prof_final:true,prof_recent_alloc_max:20000,prof_time_resolution:high" ;;
    esac
}

median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print "nan"}'; }
now() { date +%s.%N; }

# run_ours PROG LG DIR: one run, its wall time in seconds on stdout; files in DIR.
run_ours() {
    local p=$1 lg=$2 d=$3 t0 t1
    rm -rf "$d" && mkdir -p "$d"
    t0=$(now)
    if [ "$lg" = off ]; then
        (cd "$d" && env LD_PRELOAD="$OURS" "$BIN/$p" "${SCALE[$p]}") >/dev/null 2>"$d/stderr" || return 1
    else
        (cd "$d" && env LD_PRELOAD="$OURS" MALLOC_CONF="$(conf_for "$p" "$lg" "$d")" \
            "$BIN/$p" "${SCALE[$p]}") >/dev/null 2>"$d/stderr" || return 1
    fi
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# run_ht PROG DIR: one heaptrack run (over our liballoc, profiling off).
run_ht() {
    local p=$1 d=$2 t0 t1
    rm -rf "$d" && mkdir -p "$d"
    t0=$(now)
    (cd "$d" && env LD_PRELOAD="$OURS" heaptrack -o "$d/ht" "$BIN/$p" "${SCALE[$p]}") \
        >"$d/stdout" 2>"$d/stderr" || return 1
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# The function heaptrack_print names first in a section.
ht_answer() { # prog dir
    local f section flags
    f=$(ls "$2"/ht.* 2>/dev/null | head -n 1)
    [ -n "$f" ] || { echo "n/a (no data)"; return; }
    case $1 in
    leak) section="MEMORY LEAKS" flags="-a 0 -p 0 -T 0 -l 1" ;;
    peak) section="PEAK MEMORY CONSUMERS" flags="-a 0 -p 1 -T 0 -l 0" ;;
    churn) section="MOST TEMPORARY ALLOCATIONS" flags="-a 0 -p 0 -T 1 -l 0" ;;
    esac
    # shellcheck disable=SC2086
    heaptrack_print $flags -n 3 "$f" 2>/dev/null |
        awk -v s="$section" '$0 == s {on = 1; next} on && / from$/ {getline; print $1; exit}' |
        grep . || echo "n/a (none)"
}

# First row's function of a jeprof-c --text report.
text_top() { awk 'NR == 2 {print $NF; exit}'; }

ours_answer() { # prog dir
    local p=$1 d=$2 first last f
    case $p in
    leak)
        first=$(ls -v "$d"/p.*.i*.heap 2>/dev/null | head -n 1)
        last=$(ls "$d"/p.*.f.heap 2>/dev/null | head -n 1)
        [ -n "$first" ] && [ -n "$last" ] || { echo "n/a (no dumps)"; return; }
        "$JEPROF_C" --quiet --text --base="$first" "$BIN/leak" "$last" 2>/dev/null | text_top
        ;;
    peak)
        f=$(ls "$d"/p.*.p*.heap 2>/dev/null | tail -n 1)
        [ -n "$f" ] || { echo "n/a (no .p dump)"; return; }
        "$JEPROF_C" --quiet --text "$BIN/peak" "$f" 2>/dev/null | text_top
        ;;
    churn)
        f=$(ls "$d"/p.*.f.recent.json 2>/dev/null | head -n 1)
        [ -n "$f" ] || { echo "n/a (no ring)"; return; }
        "$JEPROF_C" --quiet --temporary "$BIN/churn" "$f" 2>/dev/null |
            awk 'NR == 4 {print $8; exit}'
        ;;
    esac
}

# The leak by trend: the rank-1 site of jeprof-c --growth over the interval
# dumps and the final one (in the order a glob gives).
growth_answer() { # dir
    local dumps
    dumps=$(ls "$1"/p.*.i*.heap "$1"/p.*.f.heap 2>/dev/null)
    [ -n "$dumps" ] || { echo "n/a (no dumps)"; return; }
    # shellcheck disable=SC2086
    "$JEPROF_C" --quiet --growth "$BIN/leak" $dumps 2>/dev/null |
        awk '$1 == 1 {print $NF; exit}' | grep . || echo "n/a (no answer)"
}

declare -A EXPECT=([leak]=leak_session [peak]=build_index [churn]=format_message)
declare -A QUESTION=([leak]="top leak" [peak]="peak owner" [churn]="top temporary")
declare -A T_OFF T14 T19 THT A14 A19 AHT
GROWTH14="" GROWTH19=""
for p in leak peak churn; do
    ts_off="" ts14="" ts19="" tsht=""
    for r in $(seq "$REPS"); do
        ts_off+="$(run_ours "$p" off "$OUT/$p-off")"$'\n'
        ts14+="$(run_ours "$p" 14 "$OUT/$p-14")"$'\n'
        [ "$r" = 1 ] && A14[$p]=$(ours_answer "$p" "$OUT/$p-14") &&
            [ "$p" = leak ] && GROWTH14=$(growth_answer "$OUT/$p-14")
        ts19+="$(run_ours "$p" 19 "$OUT/$p-19")"$'\n'
        [ "$r" = 1 ] && A19[$p]=$(ours_answer "$p" "$OUT/$p-19") &&
            [ "$p" = leak ] && GROWTH19=$(growth_answer "$OUT/$p-19")
        if [ $have_ht = 1 ]; then
            tsht+="$(run_ht "$p" "$OUT/$p-ht")"$'\n'
            [ "$r" = 1 ] && AHT[$p]=$(ht_answer "$p" "$OUT/$p-ht")
        fi
    done
    T_OFF[$p]=$(grep . <<<"$ts_off" | median)
    T14[$p]=$(grep . <<<"$ts14" | median)
    T19[$p]=$(grep . <<<"$ts19" | median)
    THT[$p]=$(grep . <<<"$tsht" | median)
    [ $have_ht = 1 ] || AHT[$p]="n/a (no heaptrack)"
done

mark() { case $1 in "$2" | n/a*) echo "$1" ;; *) echo "$1 (!)" ;; esac; }
echo "Answers (expected = the function the program makes responsible; (!) = another answer)"
printf "%-6s %-14s %-16s %-24s %-24s %-24s\n" program question expected heaptrack "ours lg14" "ours lg19"
for p in leak peak churn; do
    printf "%-6s %-14s %-16s %-24s %-24s %-24s\n" "$p" "${QUESTION[$p]}" "${EXPECT[$p]}" \
        "$(mark "${AHT[$p]}" "${EXPECT[$p]}")" "$(mark "${A14[$p]}" "${EXPECT[$p]}")" "$(mark "${A19[$p]}" "${EXPECT[$p]}")"
done
printf "%-6s %-14s %-16s %-24s %-24s %-24s\n" leak "by --growth" leak_session "-" \
    "$(mark "$GROWTH14" leak_session)" "$(mark "$GROWTH19" leak_session)"
echo
echo "Run time: wall-time medians of $REPS runs (s), ratio to our liballoc with profiling off"
printf "%-6s %10s %18s %18s %18s\n" program off "ours lg14" "ours lg19" heaptrack
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a == a + 0) printf "%.3f (%.2fx)", a, a / b; else print "n/a" }'; }
for p in leak peak churn; do
    printf "%-6s %10s %18s %18s %18s\n" "$p" "${T_OFF[$p]}" "$(ratio "${T14[$p]}" "${T_OFF[$p]}")" \
        "$(ratio "${T19[$p]}" "${T_OFF[$p]}")" "$(ratio "${THT[$p]}" "${T_OFF[$p]}")"
done
echo "(heaptrack runs over our liballoc; its time includes heaptrack_interpret and compression, as a user waits for them)"
