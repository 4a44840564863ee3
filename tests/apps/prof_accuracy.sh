#!/usr/bin/env bash
# prof_accuracy: the sampled heap profile estimates what each allocation
# site retains. tests/prof/accuracy.c (built -O2 -fomit-frame-pointer, so
# stacks come from DWARF unwinding) has noinline sites that retain known
# bytes (16 B .. 16 MiB, 4 threads, calloc, posix_memalign, realloc that
# moves, grows in place and grows a huge mapping) and churn sites that
# retain nothing; it prints the truth. Under LD_PRELOAD=liballoc.so with
# prof_final, Debian's jeprof --text --show_bytes on the final dump must
# give, per function (flat):
#   lg_prof_sample:14 (R = 16 KiB): every site within 15% of the truth,
#     sites that retain nothing (churn, realloc seeds) under 1% of the
#     total, Total within 5%; jeprof-c --text --show_bytes prints the same
#     Total and the same non-zero flat values as jeprof.
#   lg_prof_sample:19 (R = 512 KiB): sites of 64 MiB or more within 25%.
# Expected spread (relative SD of a site's estimate, B bytes in blocks of
# s bytes, p = 1-e^(-s/R)): sqrt(R/B) for s << R, sqrt((1-p)/p/N) in
# general. At R=2^14 the 24 MiB small-block sites have SD 2.6% (15% is 5.8
# SD), blocks of 40 KiB and more are sampled with p >= 0.92 (SD <= 1%). At
# R=2^19 the 192 MiB site of 4 KiB blocks has SD 5.1% and the 80 x 1 MiB
# site 4.4% (observed over 40 runs: 5.1% and 4.7%); their limit is 25%, 4.9
# and 5.7 SD (a false failure about 1 in 10^6 each; 20% was 3.9 SD, 1 in
# 10^4), which still fails a weight off by 2x or a site's bytes given to
# another site.
# PROF_TEST_LIB=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 runs the same
# checks against Debian's jemalloc 5.3, which passes them.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
need jeprof
need addr2line
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"

prof_need accuracy
BIN=$PROF_OUT/accuracy

# Run the workload at lg; sets DUMP (the final dump) and TRUTH.
run_workload() { # lg
    local lg=$1 dir=$TMP/lg$1
    mkdir -p "$dir"
    TRUTH=$dir/truth
    timeout 300 env LD_PRELOAD="$LIB" \
        MALLOC_CONF="prof:true,prof_final:true,prof_prefix:$dir/acc,lg_prof_sample:$lg" \
        "$BIN" >"$TRUTH" 2>"$dir/stderr"
    local rc=$?
    cat "$dir/stderr"
    [ $rc -eq 0 ] || fail "accuracy workload (lg $lg) exited $rc"
    grep -q '^total ' "$TRUTH" || fail "accuracy workload printed no truth"
    DUMP=$(one_file "final dump (lg $lg)" "$dir"/acc.*.f.heap) || exit 1
    head -1 "$DUMP" | grep -qx "heap_v2/$((1 << lg))" || fail "$DUMP: first line $(head -1 "$DUMP")"
}

jeprof_text() { # tool dump out
    "$1" --text --show_bytes "$BIN" "$2" >"$3" 2>"$3.err" || {
        cat "$3.err"
        fail "$1 --text --show_bytes $BIN $2 failed"
    }
}

status=0

# --- lg_prof_sample:14: every site ---
run_workload 14
jeprof_text jeprof "$DUMP" "$TMP/j14.txt"
text_values "$TMP/j14.txt" >"$TMP/j14.vals"
grep -q '^Total ' "$TMP/j14.vals" || { cat "$TMP/j14.txt"; fail "no Total line from jeprof"; }
check_truth "jeprof, lg_prof_sample:14 (limit 15%)" "$TRUTH" "$TMP/j14.vals" 0.15 0 0.01 || status=1

# The checker itself must reject a wrong truth (site_small16 claimed twice
# as large as it is).
awk '$2 == "site_small16" { $3 = $3 * 2 } { print }' "$TRUTH" >"$TMP/wrong_truth"
if check_truth "negative control (wrong truth, must FAIL)" "$TMP/wrong_truth" "$TMP/j14.vals" 0.15 0 0.01 >/dev/null; then
    fail "the accuracy check accepted a wrong truth"
fi

# jeprof-c agrees with jeprof: the Total and the flat value of every
# function of the workload (non-zero in either). Frames of libraries
# reached from inside liballoc.so (libnuma at start-up) are left out:
# jeprof-c deliberately counts every liballoc.so frame as an allocator
# frame (jeprof-c/README.md), jeprof does not.
jeprof_text "$JEPROF_C" "$DUMP" "$TMP/c14.txt"
text_values "$TMP/c14.txt" >"$TMP/c14.vals"
nm --defined-only "$BIN" | awk '$2 ~ /^[tT]$/ { print $3 }' | sort -u >"$TMP/bin.syms"
prog_values() { # vals
    awk 'FNR == NR { sym[$1] = 1; next }
         $1 == "Total" || ((($1 in sym) || $2 == "(inline)") && $NF != 0)' "$TMP/bin.syms" "$1" | sort
}
prog_values "$TMP/j14.vals" >"$TMP/j14.prog"
prog_values "$TMP/c14.vals" >"$TMP/c14.prog"
if ! cmp -s "$TMP/j14.prog" "$TMP/c14.prog"; then
    echo "FAIL: jeprof-c --text --show_bytes differs from jeprof (Total / workload functions; < jeprof, > jeprof-c):"
    diff "$TMP/j14.prog" "$TMP/c14.prog"
    status=1
else
    echo "jeprof-c: same Total and flat values as jeprof for the workload's functions ($(wc -l <"$TMP/j14.prog") lines)"
fi
[ $status -eq 0 ] || { echo "--- jeprof --text (lg 14)"; cat "$TMP/j14.txt"; }

# --- lg_prof_sample:19: the sites of 64 MiB or more ---
run_workload 19
jeprof_text jeprof "$DUMP" "$TMP/j19.txt"
text_values "$TMP/j19.txt" >"$TMP/j19.vals"
check_truth "jeprof, lg_prof_sample:19, sites >= 64 MiB (limit 25%)" "$TRUTH" "$TMP/j19.vals" 0.25 $((64 << 20)) 0 ||
    { status=1; echo "--- jeprof --text (lg 19)"; cat "$TMP/j19.txt"; }

[ $status -eq 0 ] || fail "profile does not match the truth (see above)"
echo "PASS"
