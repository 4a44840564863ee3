#!/usr/bin/env bash
# Temporary allocations end to end: tests/prof/temporary.c allocates 20000
# blocks in short_lived() (each freed at once) and 2000 in long_lived()
# (freed 30 ms later), then writes the recent ring. Under liballoc:
#  - the ring's JSON carries our extra fields: a weight per entry and the
#    threads' thread.allocated at allocation and free;
#  - lg_prof_sample:0 (every block sampled, weight 1): --temporary lists
#    short_lived with exactly 20000 no-alloc-in-between frees, and at least
#    99% of them within 1 ms (a preempted free may take longer); long_lived
#    is not listed;
#  - lg_prof_sample:12 (about 1 block in 20 sampled): the estimate of
#    short_lived's temporary allocations is 20000 within 15% (sampling
#    noise is ~3%); long_lived is still not listed;
#  - with prof_final:true the ring is also written at exit, as
#    <prefix>.<pid>.<seq>.f.recent.json after the .f.heap, with the maps
#    inside: --temporary names short_lived from it without --maps.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
prof_need temporary
T=$PROF_OUT/temporary
status=0
bad() { echo "FAIL: $*"; status=1; }

run() { # lg
    (cd "$TMP" && timeout 60 env LD_PRELOAD="$LIB" \
        MALLOC_CONF=prof:true,prof_prefix:,lg_prof_sample:$1,prof_recent_alloc_max:-1,prof_time_resolution:high \
        "$T" "r$1.json" "m$1.txt") || fail "temporary (lg $1) exited $?"
    "$JEPROF_C" --quiet --temporary --maps="$TMP/m$1.txt" "$T" "$TMP/r$1.json" 2>/dev/null
}

out=$(run 0) || fail "jeprof-c --temporary failed"
echo "$out"
grep -q '"weight":1\.000000,"alloc_thread_allocated":[0-9]*' "$TMP/r0.json" &&
    grep -q '"dalloc_thread_allocated":[0-9]' "$TMP/r0.json" && echo "ok: ring carries weight and thread.allocated" ||
    bad "ring JSON lacks weight/thread.allocated"
row=$(grep -E '  short_lived  \[' <<<"$out")
read -r temp share noalloc sampled _ <<<"$row"
[ "${noalloc:-}" = 20000 ] && [ "${sampled:-}" = 20000 ] && [ "${temp:-0}" -ge 19800 ] &&
    echo "ok: short_lived: $temp of 20000 within 1 ms, $noalloc with nothing allocated in between" ||
    bad "short_lived row at lg 0: '$row'"
grep -q 'long_lived' <<<"$out" && bad "long_lived listed at lg 0" || echo "ok: long_lived not listed"

out=$(run 12) || fail "jeprof-c --temporary failed"
echo "$out"
row=$(grep -E '  short_lived  \[' <<<"$out")
est=$(awk '{print $5}' <<<"$row")
awk -v e="$est" 'BEGIN { if (e ~ /k$/) e = substr(e, 1, length(e) - 1) * 1000; exit !(e >= 17000 && e <= 23000) }' &&
    echo "ok: lg 12: estimated $est temporary allocations in short_lived (20000 made)" ||
    bad "lg 12: short_lived estimate '$est' not within 15% of 20000"
grep -q 'long_lived' <<<"$out" && bad "long_lived listed at lg 12" || echo "ok: long_lived not listed at lg 12"

mkdir -p "$TMP/fin"
(cd "$TMP/fin" && timeout 60 env LD_PRELOAD="$LIB" \
    MALLOC_CONF=prof:true,prof_final:true,prof_prefix:$TMP/fin/t,lg_prof_sample:12,prof_recent_alloc_max:-1 \
    "$T" r.json m.txt) || fail "temporary (prof_final) exited $?"
heap=$(ls "$TMP"/fin/t.*.0.f.heap 2>/dev/null)
ring=$(ls "$TMP"/fin/t.*.1.f.recent.json 2>/dev/null)
if [ -n "$heap" ] && [ -n "$ring" ]; then
    echo "ok: prof_final wrote $(basename "$heap") and $(basename "$ring")"
    grep -q '"maps":"[0-9a-f]*-[0-9a-f]* r' "$ring" && echo "ok: the ring carries the maps" || bad "no maps in $ring"
    out=$("$JEPROF_C" --quiet --temporary "$T" "$ring" 2>/dev/null)
    sed -n 4p <<<"$out" | grep -q '  short_lived  \[' && echo "ok: --temporary without --maps names short_lived" ||
        { bad "--temporary on the exit ring"; echo "$out"; }
else
    bad "prof_final with the ring: $(ls "$TMP/fin")"
fi
exit $status
