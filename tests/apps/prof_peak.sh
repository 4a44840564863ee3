#!/usr/bin/env bash
# prof_peak: the peak-heap snapshot (MALLOC_CONF=prof_peak:true,
# prof.dump_peak, the .p<N>. dump at exit). Scenarios come from
# tests/prof/peak.c (64 KiB blocks, one function per site):
#  - phases at lg_prof_sample:14 (a 64 KiB block is sampled with p = 0.98,
#    so estimates are within a few %; the 10% rule can cost up to 9%):
#    a 60 MiB peak at site_peak_b, freed, then
#    a 200 MiB peak at site_peak_a, freed, then 10 MiB held at site_hold.
#    The peak dump shows site_peak_a within 15% of 200 MiB and nothing of
#    site_peak_b or site_hold, in jeprof (Debian's) and jeprof-c; the peak
#    dump taken after phase 1 shows site_peak_b within 15% of 60 MiB; the
#    live dump at the end shows site_hold and not site_peak_a; after
#    prof.reset the peak dump is empty ("t*: 0: 0"), and a new 4 MiB peak
#    (site_after_reset) is all the next one shows;
#  - the same at lg_prof_sample:0 (weights of 1, exact counts): every dump
#    is well-formed heap_v2 whose totals add up (header = blocks = thread
#    lines), and the peak holds site_peak_a with between 200 MiB / 1.1
#    (the 10% re-take rule) and 200 MiB, in whole 64 KiB blocks;
#  - the 10% rule (lg_prof_sample:0): after a single 10 MiB block, 512 KiB
#    more (+5%) takes no new snapshot (the peak shows site_rule_x's
#    10485760 bytes and no site_rule_y), 1 MiB more does (site_rule_y in
#    [1 MiB, 1.5 MiB]: the snapshot is taken by the block that crosses +10%);
#  - prof_final: <prefix>.<pid>.0.p0.heap (the peak) before
#    <prefix>.<pid>.1.f.heap (live at exit); with prof_format:both the
#    peak's .pb.gz twin read by jeprof-c shows the same peak owner;
#  - argument errors: wrong newlen EINVAL, oldp EPERM, a missing directory
#    EFAULT (no file), NULL and no argument write .p0. and .p1. auto names;
#  - without prof:true, and with prof:true but no prof_peak: ENOENT, no file.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
need jeprof
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
prof_need peak
P=$PROF_OUT/peak
AWKCHECK=$ROOT/tests/prof/heapv2_check.awk
MIB=1048576
status=0
bad() { echo "FAIL: $*"; status=1; }

scenario() { # name conf mode
    D=$TMP/$1
    mkdir -p "$D"
    OUT=$D/.stdout ERR=$D/.stderr
    (cd "$D" && timeout 300 env LD_PRELOAD="$LIB" MALLOC_CONF="$2" "$P" "$3" "$D") >"$OUT" 2>"$ERR"
    RC=$?
    echo "--- $1 [$2] $3: exit $RC"
    grep -v '^pid ' "$OUT"
    [ -s "$ERR" ] && sed 's/^/  stderr: /' "$ERR"
    return 0
}
expect_ok() { # mode
    [ $RC -eq 0 ] && grep -qx "ok $1" "$OUT" || bad "scenario $1: exit $RC, no 'ok $1'"
}
# Flat bytes of a function from jeprof --text --show_bytes ("absent" if
# none); each tool reads each file once (jeprof is slow to start).
flat_of() { # tool file function
    local cache
    cache=$2.$(basename "$1").txt
    if [ ! -f "$cache" ]; then
        "$1" --text --show_bytes "$P" "$2" >"$cache.tmp" 2>&1 || {
            echo "(failed: $(tail -1 "$cache.tmp"))"
            return
        }
        mv "$cache.tmp" "$cache"
    fi
    awk -v f="$3" '$6 == f && NF == 6 { print $1; found = 1 } END { if (!found) print "absent" }' "$cache"
}
# Both readers see function's flat bytes within 15% of want MiB (or absent).
expect_near() { # file function MiB|absent [tools]
    local t v tools=${4:-"jeprof $JEPROF_C"}
    for t in $tools; do
        v=$(flat_of "$t" "$1" "$2")
        if [ "$3" = absent ]; then
            [ "$v" = absent ] || bad "$(basename "$t") on $(basename "$1"): $2 is $v, want absent"
            continue
        fi
        awk -v v="$v" -v w="$(($3 * MIB))" 'BEGIN { exit !(v ~ /^[0-9]+$/ && v >= 0.85 * w && v <= 1.15 * w) }' ||
            bad "$(basename "$t") on $(basename "$1"): $2 is $v, want $3 MiB +-15%"
        echo "  $(basename "$t") $(basename "$1"): $2 $v B (want $3 MiB +-15%)"
    done
}

# --- phases, sampled ---
scenario phases "prof:true,prof_peak:true,lg_prof_sample:14" phases
expect_ok phases
for f in b peak live reset after; do
    [ -f "$D/$f.heap" ] || { bad "no $f.heap"; continue; }
    awk -f "$AWKCHECK" "$D/$f.heap" >/dev/null || { awk -f "$AWKCHECK" "$D/$f.heap"; bad "$f.heap is not well-formed"; }
done
if [ -f "$D/after.heap" ]; then
    expect_near "$D/b.heap" site_peak_b 60
    expect_near "$D/b.heap" site_peak_a absent
    expect_near "$D/peak.heap" site_peak_a 200
    expect_near "$D/peak.heap" site_peak_b absent
    expect_near "$D/peak.heap" site_hold absent
    expect_near "$D/live.heap" site_hold 10
    expect_near "$D/live.heap" site_peak_a absent
    [ "$(head -2 "$D/reset.heap" | tr '\n' '|')" = "heap_v2/16384|  t*: 0: 0 [0: 0]|" ] ||
        bad "peak after prof.reset: $(head -2 "$D/reset.heap" | tr '\n' '|')"
    [ "$(grep -c '^@' "$D/reset.heap")" -eq 0 ] || bad "peak after prof.reset still has stacks"
    expect_near "$D/after.heap" site_after_reset 4
    expect_near "$D/after.heap" site_peak_a absent
fi

# --- phases, exact (every allocation sampled with weight 1) ---
scenario exact "prof:true,prof_peak:true,lg_prof_sample:0" phases
expect_ok phases
for f in b peak live reset after; do
    [ -f "$D/$f.heap" ] || { bad "exact: no $f.heap"; continue; }
    awk -v exact=1 -f "$AWKCHECK" "$D/$f.heap" >/dev/null ||
        { awk -v exact=1 -f "$AWKCHECK" "$D/$f.heap"; bad "exact: $f.heap is not well-formed or its totals do not add up"; }
done
if [ -f "$D/peak.heap" ]; then
    v=$(flat_of jeprof "$D/peak.heap" site_peak_a)
    echo "  exact peak: site_peak_a $v B; header $(sed -n 2p "$D/peak.heap")"
    awk -v v="$v" -v w="$((200 * MIB))" 'BEGIN { exit !(v ~ /^[0-9]+$/ && v * 1.1 >= w && v <= w && v % 65536 == 0) }' ||
        bad "exact: site_peak_a at the peak is $v, want 64 KiB blocks in [200 MiB / 1.1, 200 MiB]"
    h=$(sed -n 2p "$D/peak.heap" | awk '{ print $3 }')
    awk -v h="$h" -v w="$((200 * MIB))" 'BEGIN { exit !(h * 1.1 >= w && h <= w + 1048576) }' ||
        bad "exact: the peak's header total is $h bytes, want about 200 MiB"
    [ "$(flat_of jeprof "$D/peak.heap" site_hold)" = absent ] || bad "exact: site_hold in the peak"
    [ "$(flat_of jeprof "$D/live.heap" site_hold)" = $((10 * MIB)) ] || bad "exact: live site_hold is not 10 MiB"
fi

# --- the 10% rule ---
scenario rule "prof:true,prof_peak:true,lg_prof_sample:0" rule
expect_ok rule
if [ -f "$D/r2.heap" ]; then
    for f in r1 r2; do
        x=$(flat_of jeprof "$D/$f.heap" site_rule_x) y=$(flat_of jeprof "$D/$f.heap" site_rule_y)
        echo "  $f.heap: site_rule_x $x, site_rule_y $y"
        [ "$x" = $((10 * MIB)) ] || bad "rule: $f.heap site_rule_x is $x, want $((10 * MIB))"
    done
    [ "$(flat_of jeprof "$D/r1.heap" site_rule_y)" = absent ] ||
        bad "rule: +5% over the kept peak took a new snapshot (site_rule_y in r1.heap)"
    y=$(flat_of jeprof "$D/r2.heap" site_rule_y)
    awk -v y="$y" -v m=$MIB 'BEGIN { exit !(y ~ /^[0-9]+$/ && y >= m && y <= 1.5 * m) }' ||
        bad "rule: +15% gave site_rule_y $y in the peak, want [1 MiB, 1.5 MiB]"
else
    bad "rule: no r2.heap"
fi

# --- prof_final: .p0. then .f., with the pprof twin ---
scenario final "prof:true,prof_peak:true,lg_prof_sample:14,prof_final:true,prof_format:both,prof_prefix:$TMP/final/x" final
expect_ok final
pid=$(awk '$1 == "pid" { print $2 }' "$OUT")
got=$(ls "$D" | tr '\n' ' ')
want="x.$pid.0.p0.heap x.$pid.0.p0.pb.gz x.$pid.1.f.heap x.$pid.1.f.pb.gz "
[ "$got" = "$want" ] || bad "prof_final with prof_peak: files '$got', want '$want'"
if [ -f "$D/x.$pid.0.p0.heap" ] && [ -f "$D/x.$pid.1.f.heap" ]; then
    expect_near "$D/x.$pid.0.p0.heap" site_peak_a 200
    expect_near "$D/x.$pid.0.p0.heap" site_hold absent
    expect_near "$D/x.$pid.1.f.heap" site_hold 10
    expect_near "$D/x.$pid.1.f.heap" site_peak_a absent
    expect_near "$D/x.$pid.0.p0.pb.gz" site_peak_a 200 "$JEPROF_C"
    expect_near "$D/x.$pid.0.p0.pb.gz" site_hold absent "$JEPROF_C"
fi

# --- argument errors ---
scenario errors "prof:true,prof_peak:true,prof_prefix:$TMP/errors/e" errors
expect_ok errors
pid=$(awk '$1 == "pid" { print $2 }' "$OUT")
got=$(ls "$D" | tr '\n' ' ')
[ "$got" = "e.$pid.0.p0.heap e.$pid.1.p1.heap " ] || bad "prof.dump_peak(NULL) twice: files '$got', want e.$pid.0.p0.heap e.$pid.1.p1.heap"

# --- off: ENOENT without prof, and without prof_peak ---
scenario off_noprof "" off
expect_ok off
scenario off_nopeak "prof:true" off
expect_ok off

tmps=$(find "$TMP" -name '*.tmp.*')
[ -z "$tmps" ] || bad "temporary dump files left behind: $tmps"
[ $status -eq 0 ] || fail "see above"
echo "PASS"
