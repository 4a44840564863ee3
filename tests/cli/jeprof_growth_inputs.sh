#!/usr/bin/env bash
# jeprof-c --growth over what a glob of one run's prefix gives: a real run of
# tests/cli/growth/leaky.c (lg_prof_sample:0, 12 manual dumps, prof_peak,
# prof_final, a recent ring, prof_format:both) leaves .m<N>. dumps, the
# .p0. peak snapshot (taken at the 8 MiB spike in the middle), the .f. dump,
# each with its .pb.gz twin, and the .f.recent.json ring under one prefix.
#  - `--growth prefix.*` ranks the 12 .m dumps: the final dump (written
#    after teardown), the peak dump and the ring are skipped with a warning
#    naming each, so the spike freed
#    again keeps trend 0 and share 0.0% (the peak snapshot, taken as a point
#    at exit time, would make it grow) and leak_step ranks first; the 14
#    .pb.gz twins are skipped with one warning (each dump read once);
#  - a peak dump renamed out of the .p<N>. pattern is still skipped (its
#    "# peak_time_ns" line; in pprof, its "peak_time_ns N" comment);
#  - a glob's byte order (seq 10 before seq 2) is not warned about as "not
#    in time order"; a shuffled command line still is (jeprof_growth.sh);
#  - a peak dump, a ring and one heap dump: "needs two or more heap dumps";
#  - dumps of two processes under one prefix (a program that forks; here
#    the run's dumps copied under another pid): a clear error naming both
#    pids and how to pick one, not a series that interleaves two heaps;
#  - a constant site whose unsampled values are not integers (R 524288):
#    its slope and trend print as 0, not "-0" from rounding noise.
. "$(dirname "$0")/lib_jeprof.sh"
LIBALLOC=$ROOT/build/liballoc.so
[ -f "$LIBALLOC" ] || fail "no $LIBALLOC (run make)"
need gcc
st=0
bad() { echo "FAIL: $*"; st=1; }
gcc -O2 -g -o "$WORK/leaky" "$ROOT/tests/cli/growth/leaky.c" -ldl || fail "cannot build leaky"
D=$WORK/d
mkdir -p "$D"
LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:0,prof_format:both,prof_peak:true,prof_final:true,prof_recent_alloc_max:64,prof_prefix:$D/lk \
    "$WORK/leaky" 12 30 || fail "leaky failed"
P=$(ls "$D"/lk.*.p0.heap 2>/dev/null)
R=$(ls "$D"/lk.*.f.recent.json 2>/dev/null)
[ -n "$P" ] && [ -n "$R" ] || fail "no peak dump or ring: $(ls "$D")"
nheap=$(ls "$D"/lk.*.heap | grep -vc '\.p0\.heap$')
[ "$nheap" = 13 ] || fail "expected 12 .m and one .f dump, got $nheap"

"$JEPROF_C" --growth --show_bytes "$WORK/leaky" "$D"/lk.* >"$WORK/g.txt" 2>"$WORK/g.err" ||
    { bad "--growth over the glob exited $?"; cat "$WORK/g.err"; }
cat "$WORK/g.err"
grep -qF "'$P': skipped: a peak-heap snapshot" "$WORK/g.err" && echo "ok   peak dump skipped with a warning" ||
    bad "no warning naming the peak dump"
grep -qF "'$R': skipped: a recent-allocation ring" "$WORK/g.err" && echo "ok   ring skipped with a warning" ||
    bad "no warning naming the ring"
grep -q 'not given in time order' "$WORK/g.err" && bad "warned about the glob's byte order" ||
    echo "ok   no order warning for a glob"
grep -qF "warning: 14 .pb.gz files skipped: the pprof twin of a .heap dump given too" "$WORK/g.err" &&
    echo "ok   pprof twins skipped" || bad "no warning about the 14 pprof twins"
F=$(ls "$D"/lk.*.f.heap)
grep -qF "'$F': skipped: the final dump is written at exit" "$WORK/g.err" && echo "ok   final dump skipped with a warning" ||
    bad "no warning naming the final dump"
grep -q '^Growth over 12 dumps' "$WORK/g.txt" && echo "ok   12 dumps in the series" ||
    bad "series: $(head -n 1 "$WORK/g.txt")"
awk '$1 == 1 {print $NF}' "$WORK/g.txt" | grep -qx leak_step && echo "ok   leak_step ranked first" ||
    { bad "rank 1 is not leak_step"; cat "$WORK/g.txt"; }
awk '$NF == "spike_alloc" && $1 > 1 && $5 == 0 && $6 == 0 && $7 == "0.0%" && $2 <= 0 {f = 1} END {exit !f}' \
    "$WORK/g.txt" && echo "ok   spike_alloc: not growth, ends at 0, share 0.0%" || { bad "spike_alloc row"; cat "$WORK/g.txt"; }

# Renamed peak dump: recognised from inside.
cp "$P" "$WORK/snapshot.heap"
"$JEPROF_C" --growth --show_bytes "$WORK/leaky" "$D"/lk.*.m*.heap "$WORK/snapshot.heap" \
    >"$WORK/r.txt" 2>"$WORK/r.err" || bad "--growth with a renamed peak exited $?"
grep -qF "'$WORK/snapshot.heap': skipped: a peak-heap snapshot (it says so inside)" "$WORK/r.err" &&
    echo "ok   renamed peak dump skipped" || { bad "renamed peak dump not skipped"; cat "$WORK/r.err"; }
grep -q '^Growth over 12 dumps' "$WORK/r.txt" || bad "renamed: $(head -n 1 "$WORK/r.txt")"
# The same for the pprof twin of the peak dump (its "peak_time_ns" comment).
cp "${P%.heap}.pb.gz" "$WORK/snapshot.pb.gz"
"$JEPROF_C" --growth --show_bytes "$WORK/leaky" "$D"/lk.*.m*.pb.gz "$WORK/snapshot.pb.gz" \
    >"$WORK/r2.txt" 2>"$WORK/r2.err" || bad "--growth with a renamed pprof peak exited $?"
grep -qF "'$WORK/snapshot.pb.gz': skipped: a peak-heap snapshot (it says so inside)" "$WORK/r2.err" &&
    grep -q '^Growth over 12 dumps' "$WORK/r2.txt" &&
    echo "ok   renamed pprof peak dump skipped" || { bad "renamed pprof peak dump not skipped"; cat "$WORK/r2.err"; }

# Too little left after skipping.
one=$(ls "$D"/lk.*.f.heap)
err=$("$JEPROF_C" --growth "$WORK/leaky" "$P" "$R" "$one" 2>&1 >/dev/null)
rc=$?
[ $rc = 1 ] && grep -q 'error: --growth needs two or more heap dumps (3 given, 2 of them skipped)' <<<"$err" &&
    echo "ok   one heap dump left: clear error" || bad "one heap dump left: rc $rc: $err"
# With a single other dump, the final dump stays in the series.
"$JEPROF_C" --growth "$WORK/leaky" "$(ls "$D"/lk.*.m0.heap)" "$one" >"$WORK/two.txt" 2>&1 &&
    grep -q '^Growth over 2 dumps' "$WORK/two.txt" && echo "ok   .m0 and .f: the final dump kept" ||
    bad "one .m and the .f: $(head -n 3 "$WORK/two.txt")"

# Two processes' dumps in one glob.
pid=$(basename "$one" | cut -d. -f2)
mkdir -p "$WORK/two"
for f in "$D"/lk.*.m*.heap; do
    b=$(basename "$f")
    cp "$f" "$WORK/two/$b"
    cp "$f" "$WORK/two/${b/.$pid./.99999.}"
done
err=$("$JEPROF_C" --growth "$WORK/leaky" "$WORK"/two/lk.* 2>&1 >/dev/null)
rc=$?
[ $rc = 1 ] && grep -qF "error: the dumps come from 2 processes (pid (dumps): " <<<"$err" &&
    grep -qF "$pid (12)" <<<"$err" && grep -qF "99999 (12)" <<<"$err" &&
    grep -qF "give one pid's dumps, e.g. '$WORK/two/lk.$pid.*'" <<<"$err" &&
    echo "ok   two processes: clear error" || bad "two processes: rc $rc: $err"
"$JEPROF_C" --growth "$WORK/leaky" "$WORK"/two/lk.99999.* >/dev/null 2>&1 && echo "ok   one pid's dumps of the two" ||
    bad "one pid's dumps refused"

# Rounding noise of a constant series.
mkdir -p "$WORK/nz"
for i in 0 1 2 3 4 5 6; do
    {
        echo "heap_v2/524288"; echo "  t*: 4: 1300 [0: 0]"
        echo "@ 0x1000 0x2000"; echo "  t*: 3: 300 [0: 0]"
        echo "@ 0x1100 0x2000"; echo "  t*: 1: 1000 [0: 0]"
        echo; echo "MAPPED_LIBRARIES:"; echo "# time_ns $((1700000000000000000 + i * 1234567891))"
    } >"$WORK/nz/x.1.$i.m$i.heap"
done
for flag in --show_bytes --text; do
    out=$("$JEPROF_C" --growth $flag "$WORK"/nz/*.heap 2>/dev/null)
    grep -q -- ' -0 ' <<<"$out" && { bad "$flag: a '-0' value"; echo "$out"; } ||
        echo "ok   $flag: constant sites print 0, not -0"
done
exit $st
