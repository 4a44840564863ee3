#!/usr/bin/env bash
# jeprof-c --growth --svg / --html: the chart of the leaky.c series.
#  - the SVG parses (xmllint) and holds one polyline per site with one point
#    per dump, the leak (leak_step) as the "series leak" line with rank 1,
#    red, and the leak label; axes carry units and time labels;
#  - both documents are self-contained: no script, no external reference;
#  - --output writes the same bytes as stdout;
#  - headless Chromium renders both (not blank: >2% of the pixels differ from
#    the background, and the red leak line shows). Skips that part (77 at
#    the end if nothing else failed) without chromium or node.
. "$(dirname "$0")/lib_jeprof.sh"
. "$ROOT/tests/cli/growth/lib_growth.sh"
need python3
st=0
bad() { echo "FAIL: $*"; st=1; }
mapfile -t HEAPS < <(in_seq .heap)

"$JEPROF_C" --growth --svg "$LEAKY" "${HEAPS[@]}" > $WORK/g.svg 2>/dev/null || bad "--growth --svg failed"
"$JEPROF_C" --growth --svg --output=$WORK/g2.svg "$LEAKY" "${HEAPS[@]}" > $WORK/stdout 2>/dev/null || bad "--output failed"
cmp -s $WORK/g.svg $WORK/g2.svg && [ ! -s $WORK/stdout ] || bad "--output FILE differs from stdout"
"$JEPROF_C" --growth --html "$LEAKY" "${HEAPS[@]}" > $WORK/g.html 2>/dev/null || bad "--growth --html failed"
if command -v xmllint >/dev/null; then
    xmllint --noout $WORK/g.svg || bad "the SVG does not parse"
else
    echo "note: xmllint (libxml2-utils) missing: the SVG is parsed by python only"
fi
python3 - $WORK/g.svg $NSTEPS <<'PY' || st=1
import sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
n = int(sys.argv[2])
lines = {p.get('data-site'): p for p in root.iter(ns + 'polyline')}
err = []
want = {'leak_step', 'constant_alloc', 'shrink_alloc', 'spike_alloc'}
if not want <= set(lines): err.append('sites drawn: %s' % sorted(lines))
leak = lines.get('leak_step')
if leak is None or leak.get('class') != 'series leak' or leak.get('data-rank') != '1' or leak.get('stroke') != '#d62728':
    err.append('leak_step is not the highlighted rank-1 red line')
if [p for s, p in lines.items() if s != 'leak_step' and 'leak' in p.get('class')]:
    err.append('another line is highlighted')
for s, p in lines.items():
    pts = p.get('points').split()
    if len(pts) != n: err.append('%s has %d points, not %d' % (s, len(pts), n))
    xs = [float(q.split(',')[0]) for q in pts]
    if xs != sorted(xs): err.append('%s: x not increasing' % s)
if leak is not None:
    ys = [float(q.split(',')[1]) for q in leak.get('points').split()]
    if not all(b < a for a, b in zip(ys, ys[1:])): err.append('leak line does not rise at every dump')
texts = {t.get('id'): ''.join(t.itertext()) for t in root.iter(ns + 'text') if t.get('id')}
if 'leak? +' not in texts.get('leaklabel', ''): err.append('no leak label')
if 'time since the first dump' not in texts.get('xtitle', ''): err.append('x axis title')
if 'MiB' not in texts.get('ytitle', ''): err.append('y axis unit: %s' % texts.get('ytitle'))
ylab = [''.join(t.itertext()) for g in root.iter(ns + 'g') if g.get('id') == 'ylabels' for t in g]
xlab = [''.join(t.itertext()) for g in root.iter(ns + 'g') if g.get('id') == 'xlabels' for t in g]
if len(ylab) < 3 or not all(l.endswith(' MiB') for l in ylab): err.append('y labels %s' % ylab)
if len(xlab) < 3 or not xlab[0].startswith('+0') or not all(l.endswith('s') for l in xlab): err.append('x labels %s' % xlab)
for e in err: print('FAIL: svg:', e)
if not err: print('ok   svg: %d series, leak_step highlighted, %d y and %d x labels' % (len(lines), len(ylab), len(xlab)))
sys.exit(1 if err else 0)
PY
for f in $WORK/g.svg $WORK/g.html; do
    grep -Eiq '<script|xlink:href|href=|src=|@import|url\(' $f && bad "$(basename $f) refers to something outside itself"
done
grep -q '<svg ' $WORK/g.html && grep -q '<table id="ranking">' $WORK/g.html && grep -q '<tr class="leak"><td>1</td>' $WORK/g.html || bad "html: chart, ranking table, leak row"
python3 -c "import html.parser,sys; html.parser.HTMLParser().feed(open(sys.argv[1]).read())" $WORK/g.html || bad "html does not parse"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ] || ! command -v node >/dev/null; then
    [ $st = 0 ] && { echo "skip: chromium or node is not installed"; exit 77; }
    exit $st
fi
for f in g.svg g.html; do
    (cd $WORK && timeout 300 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir=$WORK/chromium --window-size=1000,800 --screenshot=$WORK/$f.png "file://$WORK/$f") \
        > $WORK/chromium.log 2>&1
    [ -s $WORK/$f.png ] || { bad "chromium wrote no screenshot of $f"; tail -5 $WORK/chromium.log; continue; }
    read -r all other red < <(node "$ROOT/tests/cli/growth/png_count.js" $WORK/$f.png)
    if [ -z "$all" ] || [ $((other * 50)) -lt "$all" ] || [ "$red" -lt 300 ]; then
        bad "$f renders blank or without the red leak line ($other of $all pixels drawn, $red red)"
    else
        echo "ok   chromium $f: $other of $all pixels drawn, $red red"
    fi
done
exit $st
