#!/usr/bin/env bash
# The three programs of bench/heaptrack (run briefly) give the answers their
# code makes true, under our liballoc's profiler at lg_prof_sample 14:
#  - leak: jeprof-c --text --base=<first interval dump> on the final dump
#    names leak_session first (it leaks 256 B per iteration among churn);
#  - churn: jeprof-c --temporary on the recent ring (written at exit by
#    prof_final) names format_message
#    first, with every one of its sampled blocks freed with nothing
#    allocated in between; reuse_buffer (blocks kept 64 iterations) has none
#    freed so, and store_record (kept to the end) is not listed;
#  - peak: with prof_peak:true, the .p<N>.heap written at exit names
#    build_index first with 44-55 MB (the 50 MiB index, held briefly and
#    freed before exit: the final dump does not list it);
#  - leak by trend: jeprof-c --growth over the interval and final dumps
#    (as a glob lists them) ranks leak_session first;
# and, when heaptrack is installed, heaptrack_print names the same three
# functions (leaks, peak consumers, temporary allocations).
. "$(dirname "$0")/lib.sh"
[ -x "$ROOT/build/jeprof-c" ] || fail "jeprof-c not built (run make)"
JEPROF_C=$ROOT/build/jeprof-c
LEAK=$(app_bin heaptrack/leak) || exit 1
PEAK=$(app_bin heaptrack/peak) || exit 1
CHURN=$(app_bin heaptrack/churn) || exit 1
status=0
bad() { echo "FAIL: $*"; status=1; }

run() { # dir conf prog scale [env...]
    local d=$TMP/$1 conf=$2 prog=$3 scale=$4
    shift 4
    mkdir -p "$d"
    (cd "$d" && timeout 300 env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,lg_prof_sample:14,prof_prefix:$d/p,$conf" \
        "$@" "$prog" "$scale") >"$d/stdout" 2>"$d/stderr"
}

# Leak: 20000 iterations (about 100 MB allocated, 5 MB leaked).
run leak prof_final:true,lg_prof_interval:24 "$LEAK" 0.5 || bad "leak exited $?"
first=$(ls -v "$TMP"/leak/p.*.i*.heap 2>/dev/null | head -n 1)
last=$(ls "$TMP"/leak/p.*.f.heap 2>/dev/null | head -n 1)
if [ -n "$first" ] && [ -n "$last" ]; then
    out=$("$JEPROF_C" --quiet --text --base="$first" "$LEAK" "$last")
    top=$(awk 'NR == 2 {print $NF}' <<<"$out")
    [ "$top" = leak_session ] && echo "ok: leak: top of --base first-interval..final is leak_session" ||
        { bad "leak: top is '$top'"; echo "$out" | head -5; }
else
    bad "leak: no interval or final dump in $(ls "$TMP/leak")"
fi

top=$("$JEPROF_C" --quiet --growth "$LEAK" "$TMP"/leak/p.*.heap 2>/dev/null | awk '$1 == 1 {print $NF; exit}')
[ "$top" = leak_session ] && echo "ok: leak: --growth ranks leak_session first" || bad "leak: --growth rank 1 is '$top'"

# Churn: 200000 iterations.
run churn prof_final:true,prof_recent_alloc_max:20000,prof_time_resolution:high "$CHURN" 0.2 || bad "churn exited $?"
ring=$(ls "$TMP"/churn/p.*.f.recent.json 2>/dev/null | head -n 1)
[ -n "$ring" ] || fail "churn: no ring written at exit: $(ls "$TMP/churn")"
out=$("$JEPROF_C" --quiet --temporary "$CHURN" "$ring" 2>/dev/null)
echo "$out"
top=$(awk 'NR == 4 {print $8}' <<<"$out")
[ "$top" = format_message ] && echo "ok: churn: top temporary site is format_message" || bad "churn: top is '$top'"
read -r t _ na s _ < <(grep -E '  format_message  \[' <<<"$out")
[ -n "${s:-}" ] && [ "$na" = "$s" ] && [ "$s" -ge 50 ] &&
    echo "ok: churn: all $s sampled format_message blocks freed with nothing allocated in between" ||
    bad "churn: format_message no-alloc '$na' of '$s'"
read -r _ _ na _ < <(grep -E '  reuse_buffer  \[' <<<"$out")
[ "${na:-x}" = 0 ] && echo "ok: churn: reuse_buffer has no heaptrack-style temporary" ||
    bad "churn: reuse_buffer no-alloc '${na:-missing}'"
grep -q 'store_record' <<<"$out" && bad "churn: store_record listed" || echo "ok: churn: store_record not listed"

# Peak: 50 MiB index held briefly, freed before exit.
run peak prof_final:true,prof_peak:true "$PEAK" 0.25 || bad "peak exited $?"
f=$(ls "$TMP"/peak/p.*.p*.heap 2>/dev/null | tail -n 1)
if [ -n "$f" ]; then
    out=$("$JEPROF_C" --quiet --text --show_bytes "$PEAK" "$f")
    top=$(awk 'NR == 2 {print $NF}' <<<"$out")
    [ "$top" = build_index ] && echo "ok: peak: top of the peak profile is build_index" || bad "peak: top is '$top'"
    # 50 MiB (52428800 B), less the 10% re-take rule, plus sampling error.
    b=$(awk 'NR == 2 {print $1}' <<<"$out")
    [ "${b:-0}" -ge 44000000 ] && [ "${b:-0}" -le 55000000 ] &&
        echo "ok: peak: build_index held $b B at the peak (50 MiB index)" || bad "peak: build_index holds '${b:-}' B"
    last=$(ls "$TMP"/peak/p.*.f.heap 2>/dev/null | head -n 1)
    "$JEPROF_C" --quiet --text "$PEAK" "$last" | grep -q build_index &&
        bad "peak: build_index still in the final dump" || echo "ok: peak: gone from the final dump"
else
    bad "peak: no .p<N>.heap at exit: $(ls "$TMP/peak"); $(head -n 2 "$TMP/peak/stderr")"
fi

# heaptrack names the same functions.
if command -v heaptrack >/dev/null 2>&1 && command -v heaptrack_print >/dev/null 2>&1; then
    ht() { # name prog scale section flags...
        local name=$1 prog=$2 scale=$3 section=$4
        shift 4
        (cd "$TMP" && timeout 120 heaptrack -o "$TMP/ht-$name" "$prog" "$scale") >/dev/null 2>&1 ||
            { echo "FAIL: heaptrack $name"; return; }
        heaptrack_print "$@" -n 3 "$TMP"/ht-"$name".* 2>/dev/null |
            awk -v s="$section" '$0 == s {on = 1; next} on && / from$/ {getline; print $1; exit}'
    }
    a=$(ht leak "$LEAK" 0.5 "MEMORY LEAKS" -a 0 -p 0 -T 0 -l 1)
    [ "$a" = leak_session ] && echo "ok: heaptrack: top leak leak_session" || bad "heaptrack leak: '$a'"
    a=$(ht peak "$PEAK" 0.25 "PEAK MEMORY CONSUMERS" -a 0 -p 1 -T 0 -l 0)
    [ "$a" = build_index ] && echo "ok: heaptrack: peak owner build_index" || bad "heaptrack peak: '$a'"
    a=$(ht churn "$CHURN" 0.2 "MOST TEMPORARY ALLOCATIONS" -a 0 -p 0 -T 1 -l 0)
    [ "$a" = format_message ] && echo "ok: heaptrack: top temporary format_message" || bad "heaptrack churn: '$a'"
else
    echo "note: heaptrack not installed: its part not run"
fi
exit $status
