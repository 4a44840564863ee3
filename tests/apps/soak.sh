#!/usr/bin/env bash
# The soak (issue 17 point 4, tests/soak/soak.c): 8 threads, mixed sizes,
# cross-thread frees, fork, dlopen/dlclose, profiling with a prof.dump every
# second, RSS sampled every second to rss.csv. Passes when the program's
# content checks all pass, its RSS is flat after warm-up (median of the last
# third <= median of the second third + max(10%, 4 MiB); 20% in runs under
# 5 minutes, tests/soak/soak.c says why), and every dump is
# read by jeprof-c. 20 s in `make test`, 30 minutes with TEST_LONG=1
# (`make check-long`); SOAK_SECONDS overrides. The run also writes
# stats.csv, the allocator's own figures every second (tests/soak/soak.c,
# SOAK_STATS), checked for one line a second with live bytes, resident
# bytes and operations counted. SOAK_KEEP=DIR keeps the CSVs (and an
# rss.png when gnuplot is installed) in DIR.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$ROOT/build/tests/soak/soak
LIB=$ROOT/build/tests/soak/libsoak_lib.so
JEPROF=$ROOT/build/jeprof-c
for f in "$BIN" "$LIB" "$JEPROF"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "FAIL: $f is not built (make test builds it)"; exit 1; }
done
SECS=${SOAK_SECONDS:-20}
[ "${TEST_LONG:-0}" = 1 ] && SECS=${SOAK_SECONDS:-1800}
work=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Frequent samples (1 in 64 KiB) so every dump has many sites.
conf="prof:true,lg_prof_sample:16${MALLOC_CONF:+,$MALLOC_CONF}"
SOAK_STATS=$work/stats.csv MALLOC_CONF=$conf "$BIN" "$work" "$SECS" "$LIB" >"$work/out" 2>&1
rc=$?
cat "$work/out"
ndumps=$(ls "$work"/soak.*.heap 2>/dev/null | wc -l)
bad=0
for d in "$work"/soak.*.heap; do
    [ -f "$d" ] || continue
    # Every dump must parse, hold the header and at least one sample.
    if ! out=$("$JEPROF" --text --show_bytes "$BIN" "$d" 2>&1) ||
        ! grep -q '^heap_v2/' "$d" || ! grep -q '^@ 0x' "$d"; then
        echo "FAIL: jeprof-c cannot read $d:"; echo "$out" | tail -n 5; bad=$((bad+1))
    fi
done
ls "$work"/*.tmp.* 2>/dev/null && { echo "FAIL: temporary dump files left behind"; bad=$((bad+1)); }
echo "soak: $ndumps dumps read by jeprof-c, $bad unreadable"
# SOAK_STATS: a header, then one line a second whose allocated (3),
# resident (6) and ops (13) columns are positive, ops never going down.
nstats=$(awk -F, 'NR == 1 { ok = $3 == "allocated" && $6 == "resident" && $13 == "ops"; next }
    ok && NF == 14 && $3 > 0 && $6 > 0 && $13 >= prev { n++; prev = $13 } END { print n + 0 }' \
    "$work/stats.csv" 2>/dev/null)
echo "soak: $nstats lines of allocator figures"
[ "${nstats:-0}" -ge $((SECS - 2)) ] || { echo "FAIL: stats.csv has $nstats good lines for $SECS s"; bad=$((bad+1)); }
if [ -n "${SOAK_KEEP:-}" ]; then
    mkdir -p "$SOAK_KEEP" && cp "$work/rss.csv" "$work/stats.csv" "$work/out" "$SOAK_KEEP/"
    if command -v gnuplot >/dev/null; then
        gnuplot -e "set terminal png size 640,360; set output '$SOAK_KEEP/rss.png'; set datafile separator ',';
            set xlabel 'seconds'; set ylabel 'RSS (MiB)'; set key off; set yrange [0:*];
            set title 'soak: RSS, 8 threads, fork, dlopen, prof.dump every second';
            plot '$SOAK_KEEP/rss.csv' every ::1 using 1:(\$2/1024) with lines lw 2"
    fi
fi
[ $rc -eq 0 ] || { echo "FAIL: soak exited with $rc"; exit 1; }
[ "$ndumps" -ge $((SECS - 2)) ] || { echo "FAIL: only $ndumps dumps in $SECS s"; exit 1; }
[ $bad -eq 0 ] || exit 1
echo "PASS"
