#!/usr/bin/env bash
# jeprof-c --growth on a C++ leak into a global container
# (tests/cli/growth/global_cache.cc: 100000 strings of 200 B kept in a static
# unordered_map, about 25 MiB, freed by its static destructor at exit),
# profiled as an operator would: lg_prof_sample:16, lg_prof_interval:24,
# prof_final, then `--growth program prefix.*`:
#  - the final dump (written after the destructor, the map's site at 0) is
#    skipped with a warning, so remember() ranks first with R2 above 0.8,
#    ending at 19-33 MiB, with the whole growth (share 95-105%). The map
#    holds about 26 MiB; at 2^16 that is ~430 samples, a relative standard
#    deviation of ~5.5% (12 runs: 23.5-27.8 MiB, one CI run 30.2), so the
#    band is about +-4.5 sigma;
#  - work() (vectors built and dropped each step) is not growth.
. "$(dirname "$0")/lib_jeprof.sh"
LIBALLOC=$ROOT/build/liballoc.so
[ -f "$LIBALLOC" ] || fail "no $LIBALLOC (run make)"
need g++
st=0
bad() { echo "FAIL: $*"; st=1; }
g++ -O2 -g -o "$WORK/gc" "$ROOT/tests/cli/growth/global_cache.cc" || fail "cannot build global_cache"
mkdir -p "$WORK/d"
LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:16,lg_prof_interval:24,prof_final:true,prof_prefix:$WORK/d/gc \
    "$WORK/gc" 200000 || fail "global_cache failed"
n=$(ls "$WORK"/d/gc.*.i*.heap 2>/dev/null | wc -l)
[ "$n" -ge 8 ] || fail "expected 8 or more interval dumps, got $n"
"$JEPROF_C" --growth --show_bytes "$WORK/gc" "$WORK"/d/gc.* >"$WORK/g.txt" 2>"$WORK/g.err" || bad "--growth exited $?"
cat "$WORK/g.err" "$WORK/g.txt"
grep -q "f.heap': skipped: the final dump is written at exit" "$WORK/g.err" && echo "ok   final dump skipped" ||
    bad "final dump not skipped"
awk '$1 == 1 && $NF == "remember" && $4 >= 0.8 && $6 >= 19 * 1048576 && $6 <= 33 * 1048576 {
        s = $7; sub("%", "", s); s += 0; if (s >= 95 && s <= 105) f = 1 } END {exit !f}' "$WORK/g.txt" &&
    echo "ok   remember ranked first, R2 >= 0.8, 19-33 MiB, ~100% of the growth" || bad "remember row"
# work churns: its sampled value wobbles from dump to dump, so its fitted
# trend need not be exactly 0, but it is noise next to the leak's.
awk '$1 == 1 {lead = $2} $NF == "work" {w = $2; s = $7; sub("%", "", s); sh = s + 0}
     END {exit !(lead > 0 && w < 0.01 * lead && sh < 1 && sh > -1)}' "$WORK/g.txt" &&
    echo "ok   work is not growth (trend < 1% of the leak's, share ~0)" || bad "work has a trend above noise"
exit $st
