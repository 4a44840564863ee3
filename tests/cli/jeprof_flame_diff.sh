#!/usr/bin/env bash
# The differential flame graph and difffolded output of --base (leaky.c's
# dumps after step 2 and step 12, every byte sampled, so values are exact):
#  - --collapsed --base: "stack old new" lines, leak_step 524288 -> 3145728,
#    shrink_alloc 4063232 -> 3407872, constant_alloc 524288 both;
#  - --flamegraph with --base: the SVG parses; leak_step is red (r 255 >
#    g = b), shrink_alloc blue (b 255 > r = g), constant_alloc grey; widths
#    are the new profile's (leak_step / all = 3145728 / new total); the
#    tooltips read new, old and delta; the subtitle names the base;
#  - without --base the flame graph keeps its per-name palette.
. "$(dirname "$0")/lib_jeprof.sh"
. "$ROOT/tests/cli/growth/lib_growth.sh"
need python3
st=0
bad() { echo "FAIL: $*"; st=1; }
mapfile -t HEAPS < <(in_seq .heap)
OLD=${HEAPS[1]} NEW=${HEAPS[$((NSTEPS - 1))]}

"$JEPROF_C" --collapsed --base="$OLD" "$LEAKY" "$NEW" > $WORK/diff.folded 2>/dev/null || bad "--collapsed --base failed"
for want in 'main;leak_step 524288 3145728' 'main;shrink_alloc 4063232 3407872' 'main;constant_alloc 524288 524288'; do
    grep -q "$want\$" $WORK/diff.folded || { bad "difffolded: no line ending '$want'"; cat $WORK/diff.folded; }
done
awk 'NF < 3 || $(NF-1) !~ /^[0-9]+$/ || $NF !~ /^[0-9]+$/ { exit 1 }' $WORK/diff.folded || bad "difffolded: a line without two counts"

"$JEPROF_C" --base="$OLD" "$LEAKY" "$NEW" --flamegraph $WORK/diff.svg > /dev/null 2>&1 || bad "--flamegraph with --base failed"
command -v xmllint >/dev/null && { xmllint --noout $WORK/diff.svg || bad "diff.svg does not parse"; }
python3 - $WORK/diff.svg "$(basename "$OLD")" <<'PY' || st=1
import re, sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
frames = {}
for g in root.iter(ns + 'g'):
    t, r = g.find(ns + 'title'), g.find(ns + 'rect')
    if t is None or r is None: continue
    name = t.text.rsplit(' (', 1)[0]
    rgb = tuple(int(v) for v in re.match(r'rgb\((\d+),(\d+),(\d+)\)', r.get('fill')).groups())
    frames[name] = (t.text, rgb, float(r.get('width')))
err = []
def get(n):
    if n not in frames: err.append('no frame %s' % n); return None
    return frames[n]
leak, shrink, const, all_ = get('leak_step'), get('shrink_alloc'), get('constant_alloc'), get('all')
if leak:
    r, g, b = leak[1]
    if not (r == 255 and g == b and g < 200): err.append('leak_step not red: %s' % (leak[1],))
    if '(new 3,145,728 bytes' not in leak[0] or 'old 524,288 bytes' not in leak[0] or 'delta +2,621,440 bytes, +500.0%' not in leak[0]:
        err.append('leak_step tooltip: %s' % leak[0])
if shrink:
    r, g, b = shrink[1]
    if not (b == 255 and r == g and r < 255): err.append('shrink_alloc not blue: %s' % (shrink[1],))
    if 'old 4,063,232 bytes' not in shrink[0] or 'delta -655,360 bytes, -16.1%' not in shrink[0]:
        err.append('shrink_alloc tooltip: %s' % shrink[0])
if const and const[1] != (225, 225, 225): err.append('constant_alloc not grey: %s' % (const[1],))
if leak and all_:
    tot = int(re.search(r'\(new ([0-9,]+) bytes', all_[0]).group(1).replace(',', ''))
    want = 3145728 / tot
    if abs(leak[2] / all_[2] - want) > 0.002: err.append('leak width share %.4f, want %.4f' % (leak[2] / all_[2], want))
    if shrink and abs(shrink[2] / all_[2] - 3407872 / tot) > 0.002: err.append('shrink width share')
sub = [''.join(t.itertext()) for t in root.iter(ns + 'text') if t.get('id') == 'subtitle']
if not sub or sys.argv[2] not in sub[0] or 'red grew' not in sub[0]: err.append('subtitle %s' % sub)
for e in err: print('FAIL: diff flame graph:', e)
if not err: print('ok   diff flame graph: leak_step red %s, shrink_alloc blue %s, widths by the new profile' % (leak[1], shrink[1]))
sys.exit(1 if err else 0)
PY
# Without --base: the usual palette (green-blue, r = 0).
"$JEPROF_C" "$LEAKY" "$NEW" --flamegraph $WORK/plain.svg > /dev/null 2>&1 || bad "--flamegraph failed"
grep -A1 '<title>leak_step (3,145,728 bytes' $WORK/plain.svg | grep -q 'fill="rgb(0,' || bad "plain flame graph palette changed"
grep -q 'id="subtitle"' $WORK/plain.svg && bad "plain flame graph has a diff subtitle"
exit $st
