#!/usr/bin/env bash
# jeprof-c --growth: ranks sites by steady growth over a dump series.
#  - a live run (tests/cli/growth/leaky.c under liballoc, lg_prof_sample:0,
#    12 manual dumps 100 ms apart): every heap_v2 dump ends in "# time_ns";
#    the leak ranks first with the least-squares slope and R2 of its true
#    series (256 KiB per step, exact at lg_prof_sample:0) over the dumps' own
#    times (from --json), to the printed digits: the dumps of a loaded
#    machine are unevenly spaced (one run drew R2 0.97), so the fit is
#    compared with the exact fit of those times, not with a fixed bound;
#    the spike freed again has trend 0
#    and share 0, the shrinking site a negative trend and share, shares sum
#    to 100%; a shuffled command line gives the same table (and a warning);
#    the pprof dumps (time_nanos) give the same ranking and slope; --json
#    holds each site's exact series with the dumps in time order;
#  - hand-made heap_v2 dumps with exact numbers: 1 MiB per 10 min is
#    6291456 B/h with R2 1.000; without time lines the file mtimes order
#    them; with equal times, the names' sequence numbers (slopes per dump);
#    ties warn; --nodecount; errors and refused combinations.
. "$(dirname "$0")/lib_jeprof.sh"
. "$ROOT/tests/cli/growth/lib_growth.sh"
need python3
st=0
bad() { echo "FAIL: $*"; st=1; }

mapfile -t HEAPS < <(in_seq .heap)
mapfile -t PBS < <(in_seq .pb.gz)
[ ${#HEAPS[@]} = $NSTEPS ] && [ ${#PBS[@]} = $NSTEPS ] || fail "expected $NSTEPS dumps of each kind"
for h in "${HEAPS[@]}"; do
    tail -n 1 "$h" | grep -Eq '^# time_ns [0-9]{19}$' || bad "$h: last line is not '# time_ns N'"
done

# check_table FILE JSON LABEL: the ranking checks on a --show_bytes table;
# JSON (--growth --json of the same dumps) gives the dumps' hours (x), over
# which the leak's true series 262144 * (i + 1) has an exact least-squares
# slope and R2.
check_table() {
    python3 - "$1" "$2" "$3" <<'PY' || st=1
import json, sys
lines = open(sys.argv[1]).read().splitlines()
xs = [d['x'] for d in json.load(open(sys.argv[2]))['dumps']]
label = sys.argv[3]
ys = [262144.0 * (i + 1) for i in range(len(xs))]
mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
sxx = sum((x - mx) ** 2 for x in xs)
sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
syy = sum((y - my) ** 2 for y in ys)
rate = sxy / sxx
r2 = sxy * sxy / (sxx * syy)
hdr = [i for i, l in enumerate(lines) if l.split()[:2] == ['rank', 'trend/h']]
if not hdr:
    print('FAIL %s: no table header' % label); sys.exit(1)
rows = {}
for l in lines[hdr[0] + 1:]:
    f = l.split(None, 7)
    rows[f[7]] = dict(rank=int(f[0]), trend=float(f[1]), slope=float(f[2]), r2=float(f[3]),
                      first=float(f[4]), last=float(f[5]), share=f[6])
ok = True
def bad(m):
    global ok; ok = False; print('FAIL %s: %s' % (label, m))
leak = rows.get('leak_step')
if not leak or leak['rank'] != 1: bad('leak_step is not ranked first: %s' % lines)
elif abs(leak['slope'] - rate) > 0.001 * rate: bad('leak slope %g, exact fit %g' % (leak['slope'], rate))
elif abs(leak['r2'] - r2) > 0.0011: bad('leak R2 %g, exact fit %.4f' % (leak['r2'], r2))
sp = rows.get('spike_alloc')
if not sp or sp['trend'] != 0 or sp['rank'] == 1 or sp['share'] != '0.0%':
    bad('spike_alloc should have trend 0, share 0.0%%: %s' % sp)
sh = rows.get('shrink_alloc')
if not sh or not (sh['trend'] < 0) or not sh['share'].startswith('-'):
    bad('shrink_alloc should have a negative trend and share: %s' % sh)
elif sh['rank'] != len(rows):
    bad('shrink_alloc should rank last (%d of %d)' % (sh['rank'], len(rows)))
co = rows.get('constant_alloc')
if not co or co['trend'] != 0 or co['first'] != 524288 or co['last'] != 524288:
    bad('constant_alloc should be 524288 throughout, trend 0: %s' % co)
total = sum(float(r['share'].rstrip('%')) for r in rows.values() if r['share'] != '-')
if abs(total - 100) > 0.5: bad('shares sum to %.1f%%' % total)
if ok: print('ok   %s: leak_step first, slope %.4g R2 %.3f vs exact fit %.4g R2 %.4f; spike 0; shrink last; shares %.1f%%' % (label, leak['slope'], leak['r2'], rate, r2, total))
sys.exit(0 if ok else 1)
PY
}

"$JEPROF_C" --growth --show_bytes "$LEAKY" "${HEAPS[@]}" > $WORK/sorted.txt 2> $WORK/sorted.err || bad "--growth failed"
"$JEPROF_C" --growth --json "$LEAKY" "${HEAPS[@]}" > $WORK/sorted.json 2>/dev/null || bad "--growth --json failed"
check_table $WORK/sorted.txt $WORK/sorted.json "heap_v2 series"
grep -q 'not given in time order' $WORK/sorted.err && bad "warned about order on a sorted series"
# Shuffled: a fixed permutation (reversed, then the middle two swapped).
SHUF=()
for ((i = NSTEPS - 1; i >= 0; i--)); do SHUF+=("${HEAPS[$i]}"); done
tmp=${SHUF[5]}; SHUF[5]=${SHUF[6]}; SHUF[6]=$tmp
"$JEPROF_C" --growth --show_bytes "$LEAKY" "${SHUF[@]}" > $WORK/shuf.txt 2> $WORK/shuf.err || bad "--growth (shuffled) failed"
cmp -s $WORK/sorted.txt $WORK/shuf.txt || { bad "shuffled command line gives another table"; diff $WORK/sorted.txt $WORK/shuf.txt | head; }
grep -q "not given in time order; sorted by time ('${HEAPS[0]}' first)" $WORK/shuf.err || bad "no out-of-order warning naming the first dump"
"$JEPROF_C" --growth --show_bytes "$LEAKY" "${PBS[@]}" > $WORK/pb.txt 2>/dev/null || bad "--growth on pprof failed"
"$JEPROF_C" --growth --json "$LEAKY" "${PBS[@]}" > $WORK/pb.json 2>/dev/null || bad "--growth --json on pprof failed"
check_table $WORK/pb.txt $WORK/pb.json "pprof series"
# --json: the series per site, exact at lg_prof_sample:0, dumps in time order.
"$JEPROF_C" --growth --json "$LEAKY" "${SHUF[@]}" > $WORK/g.json 2>/dev/null || bad "--growth --json failed"
python3 - $WORK/g.json $NSTEPS "${HEAPS[@]}" <<'PY' || st=1
import json, sys
g = json.load(open(sys.argv[1])); n = int(sys.argv[2]); heaps = sys.argv[3:]
s = {x['name']: x for x in g['sites']}
err = []
if [d['path'] for d in g['dumps']] != heaps: err.append('dumps not in time order')
if [d['time_source'] for d in g['dumps']] != ['embedded'] * n: err.append('time sources')
if [d['seq'] for d in g['dumps']] != list(range(n)): err.append('seq from names')
if s.get('leak_step', {}).get('rank') != 1: err.append('leak_step not rank 1')
elif s['leak_step']['values'] != [262144 * (i + 1) for i in range(n)]: err.append('leak values %s' % s['leak_step']['values'])
sp = s.get('spike_alloc', {}).get('values', [])
if len(sp) != n or sp[n // 2] < 8 * 1048576 or any(v for i, v in enumerate(sp) if i != n // 2): err.append('spike values %s' % sp)
if s.get('shrink_alloc', {}).get('values') != [65536 * (63 - i) for i in range(n)]: err.append('shrink values')
if g['x_unit'] != 'h' or g['by'] != 'flat' or g['unit'] != 'bytes': err.append('header fields')
for e in err: print('FAIL: json:', e)
if not err: print('ok   json: exact series per site, dumps in time order')
sys.exit(1 if err else 0)
PY
# Default units: human sizes.
"$JEPROF_C" --growth "$LEAKY" "${HEAPS[@]}" 2>/dev/null | grep -Eq '^ +1 .* 3\.0 MiB +[0-9.]+% +leak_step$' || bad "human units: leak_step last 3.0 MiB"
# --nodecount
n=$("$JEPROF_C" --growth --nodecount 2 "$LEAKY" "${HEAPS[@]}" 2>/dev/null | grep -cE '^ +[0-9]+ ')
[ "$n" = 2 ] || bad "--nodecount 2 printed $n rows"

# Hand-made dumps: site 0x1000 grows 1 MiB per 10 min, 0x1100 is constant,
# 0x1200 spikes in the middle dump. $1: with "# time_ns" lines or not.
handmade() {
    rm -rf $WORK/hm && mkdir $WORK/hm
    for i in 0 1 2 3 4; do
        local a=$(((i + 1) * 1048576)) sp=0
        [ $i = 2 ] && sp=4194304
        {
            echo "heap_v2/1"
            echo "  t*: 3: $((a + 524288 + sp)) [0: 0]"
            echo "@ 0x1000 0x2000"; echo "  t*: 1: $a [0: 0]"
            echo "@ 0x1100 0x2000"; echo "  t*: 1: 524288 [0: 0]"
            [ $sp != 0 ] && { echo "@ 0x1200 0x2000"; echo "  t*: 1: $sp [0: 0]"; }
            echo; echo "MAPPED_LIBRARIES:"
            [ "$1" = time ] && echo "# time_ns $((1700000000000000000 + i * 600000000000))"
        } > $WORK/hm/x.1.$i.m$i.heap
    done
}
row() { grep -E "  $1\$" "$2"; }
handmade time
"$JEPROF_C" --growth --show_bytes $WORK/hm/x.1.{3,0,4,1,2}.m*.heap > $WORK/hm.txt 2>/dev/null || bad "--growth on hand-made dumps failed"
row 0x1000 $WORK/hm.txt | grep -Eq '^ +1 +6291456 +6291456 1\.000 +1048576 +5242880 100\.0%' || { bad "hand-made: 0x1000 at 6291456 B/h"; cat $WORK/hm.txt; }
grep -q '^Growth over 5 dumps, 2023-11-14 22:13:20 UTC to 2023-11-14 22:53:20 UTC (40.0 min)' $WORK/hm.txt || bad "hand-made: time span line"
row 0x1200 $WORK/hm.txt | grep -Eq '^ +3 +0 +0 0\.000 +0 +0 +0\.0%' || bad "hand-made: the spike 0x1200 has no trend"
# No time lines: the files' mtimes order the dumps (given against the names).
handmade none
for i in 0 1 2 3 4; do touch -d "@$((1700000000 + (4 - i) * 600))" $WORK/hm/x.1.$i.m$i.heap; done
"$JEPROF_C" --growth --show_bytes $WORK/hm/x.1.*.heap > $WORK/mt.txt 2>/dev/null || bad "--growth (mtime) failed"
row 0x1000 $WORK/mt.txt | grep -Eq '^ +3 +-6291456 +-6291456 1\.000 +5242880 +1048576 ' || { bad "mtime order: 0x1000 shrinks at -6291456 B/h"; cat $WORK/mt.txt; }
# Same time everywhere: ordered by the names' sequence numbers, per dump.
for i in 0 1 2 3 4; do touch -d @1700000000 $WORK/hm/x.1.$i.m$i.heap; done
"$JEPROF_C" --growth --show_bytes $WORK/hm/x.1.{4,2,0,3,1}.m*.heap > $WORK/seq.txt 2> $WORK/seq.err || bad "--growth (seq) failed"
grep -q 'same time; ordered by the sequence number in their names, slopes are per dump' $WORK/seq.err || bad "no warning about equal times"
grep -q 'trend/dump' $WORK/seq.txt || bad "per-dump header"
row 0x1000 $WORK/seq.txt | grep -Eq '^ +1 +1048576 +1048576 1\.000 +1048576 +5242880 ' || { bad "seq order: 1048576 per dump"; cat $WORK/seq.txt; }
# A tie between two of five times warns.
handmade time
sed -i 's/^# time_ns .*/# time_ns 1700000000000000000/' $WORK/hm/x.1.1.m1.heap
"$JEPROF_C" --growth $WORK/hm/x.1.*.heap >/dev/null 2> $WORK/tie.err || bad "--growth (tie) failed"
grep -q "'$WORK/hm/x.1.0.m0.heap' and '$WORK/hm/x.1.1.m1.heap' have the same time" $WORK/tie.err || { bad "no tie warning"; cat $WORK/tie.err; }

# Errors and refused combinations.
"$JEPROF_C" --growth "${HEAPS[0]}" > /dev/null 2> $WORK/e1; [ $? = 1 ] && grep -q 'needs two or more dumps' $WORK/e1 || bad "one dump: exit 1 with a message"
"$JEPROF_C" --growth --dot "${HEAPS[@]}" > /dev/null 2>&1; [ $? = 2 ] || bad "--growth --dot: exit 2"
"$JEPROF_C" --growth --base="${HEAPS[0]}" "${HEAPS[@]}" > /dev/null 2>&1; [ $? = 2 ] || bad "--growth --base: exit 2"
"$JEPROF_C" --html "${HEAPS[0]}" > /dev/null 2>&1; [ $? = 2 ] || bad "--html without --growth: exit 2"
echo '{}' > $WORK/recent.json
"$JEPROF_C" --growth "${HEAPS[0]}" $WORK/recent.json > /dev/null 2> $WORK/e2; [ $? = 1 ] || bad "recent JSON: exit 1"
"$JEPROF_C" --growth "${HEAPS[0]}" $WORK/missing.heap > /dev/null 2> $WORK/e3; [ $? = 1 ] && grep -q "missing.heap" $WORK/e3 || bad "missing dump: exit 1 naming it"
exit $st
