#!/usr/bin/env bash
# prof_pprof: pprof-format dumps (prof_format) are valid profile.proto that
# Go's pprof and npm pprof-format read, and attribute the right bytes.
#  1. tests/prof/accuracy.c under prof_format:both, lg_prof_sample:14: the
#     final dump is written twice (.f.heap and .f.pb.gz); `go tool pprof -top
#     -sample_index=inuse_space` on the .pb.gz gives every site within 15% of
#     the truth (flat column, units B/kB/MB/GB), sites that retain nothing
#     under 1% of the total, Total within 5% (expected SD: see
#     prof_accuracy.sh); with -unit=B its per-site bytes equal jeprof's on
#     the .heap of the same dump (within 0.1%).
#  2. tests/prof/pprof_check.mjs (npm pprof-format, installed into build/npm
#     on first use; without it the rest still runs and the test ends 77)
#     validates the .pb.gz:
#     sample types alloc_objects/count, alloc_space/bytes, inuse_objects/count,
#     inuse_space/bytes; period_type space/bytes, period 2^14; string_table[0]
#     ''; ids 1..n in order; every location/function id resolves; 4 values
#     per sample; time_nanos set. Its --self-test shows it rejects profiles
#     broken in each of these ways.
#  3. tests/prof/dumpload.c: 20 prof.dump calls (prof_format:pprof) while 8
#     threads allocate and free; each returns 0 and writes only the .pb.gz,
#     and each file passes pprof_check and `go tool pprof -top` and shows the
#     workers' load_site.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
need go
need jeprof
NODE=1
have_pprof_format || NODE=0
# Runs the Node checker, or notes that it was skipped.
pprof_check() {
    if [ $NODE = 1 ]; then
        node "$CHECK" "$@"
    else
        echo "skipped (no pprof-format): pprof_check.mjs $*"
    fi
}
mkdir -p "$TMP/home"
export HOME=$TMP/home # go tool pprof keeps state in $HOME/pprof

prof_need accuracy
prof_need dumpload
BIN=$PROF_OUT/accuracy
LOADBIN=$PROF_OUT/dumpload
CHECK=$ROOT/tests/prof/pprof_check.mjs
status=0

# go tool pprof -top -> "NAME BYTES" lines plus "Total BYTES".
gopprof_values() { # top-output
    awk 'function bytes(s,   u, n) {
             if (s == "0") return 0
             n = s; sub(/[A-Za-z]+$/, "", n); u = substr(s, length(n) + 1)
             if (u == "B") return n; if (u == "kB") return n * 1024; if (u == "MB") return n * 1048576
             if (u == "GB") return n * 1073741824; if (u == "TB") return n * 1099511627776
             print "bad unit in " s > "/dev/stderr"; exit 2 }
         /^Showing nodes accounting for/ { t = $NF == "total" ? $(NF - 1) : ""; printf "Total %.0f\n", bytes(t); next }
         /^ *flat +flat%/ { table = 1; next }
         table && NF >= 6 { name = $6; for (i = 7; i <= NF; i++) name = name " " $i; printf "%s %.0f\n", name, bytes($1) }' "$1"
}

gopprof_top() { # out extra-args... binary profile
    local out=$1
    shift
    timeout 300 go tool pprof -top -nodefraction=0 -sample_index=inuse_space "$@" >"$out" 2>"$out.err" || {
        cat "$out.err"
        fail "go tool pprof -top $* failed"
    }
}

# --- 1. accuracy through go tool pprof ---
dir=$TMP/acc
mkdir -p "$dir"
timeout 300 env LD_PRELOAD="$LIB" \
    MALLOC_CONF="prof:true,prof_final:true,prof_prefix:$dir/acc,lg_prof_sample:14,prof_format:both" \
    "$BIN" >"$dir/truth" 2>"$dir/stderr" || { cat "$dir/stderr"; fail "accuracy workload failed"; }
HEAP=$(one_file "final heap_v2 dump" "$dir"/acc.*.f.heap) || exit 1
PB=$(one_file "final pprof dump" "$dir"/acc.*.f.pb.gz) || exit 1
[ "${PB%.pb.gz}" = "${HEAP%.heap}" ] || fail "pprof dump $PB is not named after $HEAP"

gopprof_top "$TMP/top.txt" "$BIN" "$PB"
gopprof_values "$TMP/top.txt" >"$TMP/top.vals" || fail "cannot parse go tool pprof -top output"
check_truth "go tool pprof -top -sample_index=inuse_space, lg_prof_sample:14 (limit 15%)" \
    "$dir/truth" "$TMP/top.vals" 0.15 0 0.01 || { status=1; cat "$TMP/top.txt"; }

# The same dump in both formats: per-site bytes agree.
gopprof_top "$TMP/topB.txt" -unit=B "$BIN" "$PB"
gopprof_values "$TMP/topB.txt" >"$TMP/topB.vals"
jeprof --text --show_bytes "$BIN" "$HEAP" >"$TMP/j.txt" 2>"$TMP/j.err" || { cat "$TMP/j.err"; fail "jeprof failed on $HEAP"; }
text_values "$TMP/j.txt" >"$TMP/j.vals"
awk 'FNR == NR { if ($1 == "site") want[$2] = 1; next }
     { v = $NF; $NF = ""; sub(/ +$/, "") }
     FILENAME == ARGV[2] && ($0 in want) { j[$0] = v }
     FILENAME == ARGV[3] && ($0 in want) { g[$0] = v }
     END {
         bad = 0
         for (s in want) {
             d = g[s] - j[s]; if (d < 0) d = -d
             if (d > 2 + 0.001 * j[s]) { printf "FAIL: %s: pprof %d bytes, heap_v2 (jeprof) %d bytes\n", s, g[s], j[s]; bad = 1 }
         }
         exit bad
     }' "$dir/truth" "$TMP/j.vals" "$TMP/topB.vals" && echo "pprof and heap_v2 dumps agree per site (within 0.1%)" || status=1

# --- 2. structure (npm pprof-format) ---
pprof_check --period 16384 --expect-function site_small16 --expect-function site_big4096 \
    --expect-function site_thread1024 "$PB" || status=1
pprof_check --period 16384 --self-test "$PB" || { echo "FAIL: pprof_check.mjs --self-test"; status=1; }

# --- 3. dumps while 8 threads allocate ---
ld=$TMP/load
mkdir -p "$ld"
timeout 120 env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,lg_prof_sample:14,prof_format:pprof" \
    "$LOADBIN" "$ld" 20 >"$ld.out" 2>&1
rc=$?
cat "$ld.out"
[ $rc -ne 124 ] || fail "dumpload: timed out (deadlock?) after 120 s"
[ $rc -eq 0 ] || fail "dumpload exited $rc"
n=$(ls "$ld" | grep -c '^load\.[0-9]*\.pb\.gz$')
[ "$n" -eq 20 ] || { ls -la "$ld"; fail "expected 20 load.N.pb.gz files, found $n"; }
[ -z "$(ls "$ld" | grep -v '^load\.[0-9]*\.pb\.gz$')" ] ||
    { ls -la "$ld"; fail "prof_format:pprof left other files (heap_v2 or temporary) in $ld"; }
pprof_check --period 16384 --expect-function load_site "$ld"/load.*.pb.gz || status=1
for f in "$ld"/load.*.pb.gz; do
    gopprof_top "$TMP/load.top" "$LOADBIN" "$f"
    grep -q ' load_site$' "$TMP/load.top" || { echo "FAIL: go tool pprof -top $f: no load_site"; cat "$TMP/load.top"; status=1; }
done

[ $status -eq 0 ] || fail "see above"
[ $NODE = 1 ] || skip "go tool pprof checks passed; npm pprof-format unavailable, structure checks not run"
echo "PASS"
