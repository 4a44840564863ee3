#!/usr/bin/env bash
# examples/leaky as the README's walkthrough uses it: every allocation sampled
# (lg_prof_sample:0, weight 1) with prof_accum, so the counts are exact.
#  - churn() allocates 400 x 1000 blocks and frees them all: --alloc_objects
#    names it with exactly 400000 objects, --inuse_objects not at all (gcc -O2
#    removed its malloc/free pair once, and the --alloc_* and --growth steps
#    of the walkthrough then showed nothing churned);
#  - open_session() keeps 2 blocks per session, 40000 sessions: 80000 live;
#  - fill_block_cache() keeps a calloc'd table and 64 buffers: 65 live.
. "$(dirname "$0")/lib.sh"
JEPROF_C=$ROOT/build/jeprof-c
LEAKY=$ROOT/build/examples/leaky
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
[ -x "$LEAKY" ] || fail "$LEAKY not built (run make)"
(cd "$TMP" && timeout 120 env LD_PRELOAD="$LIB" \
    MALLOC_CONF=prof:true,prof_final:true,prof_accum:true,prof_prefix:lk,lg_prof_sample:0 \
    "$LEAKY" >/dev/null) || fail "leaky exited $?"
dump=$(ls "$TMP"/lk.*.f.heap 2>/dev/null | head -n 1)
[ -n "$dump" ] || fail "no final dump"
flat() { # mode function: that function's flat count
    "$JEPROF_C" --quiet --text "$1" "$LEAKY" "$dump" | awk -v f="$2" '$6 ~ "^"f {print $1}'
}
status=0
check() { # mode function want
    local got
    got=$(flat "$1" "$2")
    if [ "$got" = "$3" ]; then echo "ok   $1 $2: $got"
    else echo "FAIL: $1 $2: got '${got}', want '$3'"; status=1; fi
}
check --alloc_objects churn 400000
check --inuse_objects churn ""
check --inuse_objects open_session 80000
check --inuse_objects fill_block_cache 65
exit $status
