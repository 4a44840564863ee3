#!/usr/bin/env bash
# A recent-allocation JSON from Debian's jemalloc (prof_recent_alloc_max),
# symbolized with --maps: the live objects are charged to make_live, the
# freed ones to make_freed with a lifetime of about 20 ms (checked >= 5 ms:
# jemalloc's default clock is coarse).
# The subject is compiled here on purpose: a profiling subject with
# deliberate flags (-O2 -fomit-frame-pointer).
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need gcc
[ -f "$JEMALLOC_SO" ] || skip "no $JEMALLOC_SO"
gcc -O2 -g -fomit-frame-pointer -o "$WORK/rprog" "$TESTDIR/recent_prog.c" -ldl || fail "build"
cd "$WORK"
LD_PRELOAD=$JEMALLOC_SO MALLOC_CONF=prof:true,prof_recent_alloc_max:100,lg_prof_sample:0 \
    ./rprog recent.json maps.txt || skip "jemalloc without prof_recent (exit $?)"
"$JEPROF_C" --quiet --maps=maps.txt ./rprog recent.json >out.txt || fail "jeprof-c failed"
cat out.txt
grep -Eq '^ +40960 +8 +0 +- .*;make_live$' out.txt || fail "make_live: 8 live objects of 5000 B (usize 5120) expected"
"$JEPROF_C" --quiet --alloc_objects --maps=maps.txt ./rprog recent.json >alloc.txt
awk '$NF ~ /;make_freed$/ && $1 == 4 && $2 == 4 && $3 == 4 && $4 >= 5.0 {ok=1} END {exit !ok}' alloc.txt ||
    { cat alloc.txt; fail "make_freed: 4 freed objects living about 20 ms expected"; }
"$JEPROF_C" --quiet --json --maps=maps.txt ./rprog recent.json | grep -q '"mean_lifetime_ns"' ||
    fail "--json lacks lifetimes"
echo ok
