#!/usr/bin/env bash
# jeprof-c/callgraph.c: --dot text (nodes, labels, sizes, pruning by
# nodecount/nodefraction/edgefraction, C++ name shortening, escaping) and
# rendering through Graphviz's dot (SVG parsed, PDF checked and rasterised),
# plus the error when dot is missing. Skips (77) the rendering part when
# Graphviz is not installed, after the text checks passed.
set -u
cd "$(dirname "$0")/../.."
source tests/cli/pictures/build_driver.sh
D=tests/cli/pictures
fail=0
bad() { echo "FAIL: $*"; fail=1; }
has() { grep -qF -- "$2" "$1" || bad "$1 lacks: $2"; }
count() { # file regex expected what
    local n; n=$(grep -c -- "$2" "$1"); [ "$n" = "$3" ] || bad "$1: $4: want $3, got $n"
}

# 1. Defaults: 80 nodes, .005, .001. "tiny" (1 byte) is under .005 of the total.
$DRIVER dot $D/stacks.txt $PICDIR/cg.dot --title prog 2>/dev/null || bad "driver dot failed"
has $PICDIR/cg.dot 'digraph "prog" {'
has $PICDIR/cg.dot 'Legend [shape=box,fontsize=24,shape=plaintext,label="prog\lTotal MB: 3.8\lShowing 8 of 9 nodes, 8 of 9 edges\lDropped 1 nodes with cum < 0.019 MB\lDropped 1 edges of dropped nodes\l"];'
has $PICDIR/cg.dot 'N1 [label="main\n0.0 MB (0.0%)\rof 3.8 MB (100.0%)\r",tooltip="main",shape=box,fontsize=8.0];'
has $PICDIR/cg.dot 'N2 [label="xmalloc\n2.0 MB (53.4%)\r",tooltip="xmalloc",shape=box,fontsize=48.0];'
has $PICDIR/cg.dot 'N7 [label="compute\n0.5 MB (13.3%)\rof 0.8 MB (20.0%)\r",tooltip="compute<A&B>",shape=box,fontsize=28.0];'
has $PICDIR/cg.dot 'N8 [label="\"quoted\" '"'x'"'\n0.2 MB (6.7%)\r",tooltip="\"quoted\" '"'x'"'",shape=box,fontsize=22.1];'
has $PICDIR/cg.dot 'N6 [label="std::vector::push_back\n0.0 MB (0.0%)\rof 1.0 MB (26.6%)\r"'
has $PICDIR/cg.dot 'N1 -> N3 [label=" 2.0 MB",weight=54,penwidth=3.7,arrowsize=1.4];'
has $PICDIR/cg.dot 'N1 -> N2 [label=" 0.0 MB",weight=1,penwidth=1.0,arrowsize=0.8];'
count $PICDIR/cg.dot '^N[0-9]* \[' 8 "node lines"
count $PICDIR/cg.dot '^N[0-9]* -> N[0-9]* \[' 8 "edge lines"
grep -q tiny $PICDIR/cg.dot && bad "node 'tiny' (cum 1 byte) not dropped"

# 2. --nodecount 3 keeps the 3 largest by cum; edges only between kept nodes.
$DRIVER dot $D/stacks.txt $PICDIR/cg3.dot --nodecount 3 2>/dev/null || bad "driver dot failed"
has $PICDIR/cg3.dot 'label="Total MB: 3.8\lShowing 3 of 9 nodes, 3 of 9 edges\lDropped 1 nodes with cum < 0.019 MB\lDropped 5 nodes beyond the largest 3\lDropped 6 edges of dropped nodes\l"'
count $PICDIR/cg3.dot '^N[0-9]* \[' 3 "node lines with --nodecount 3"
[ "$(grep -o '^N[0-9]* \[label="[a-z_]*' $PICDIR/cg3.dot | sed 's/.*"//' | tr '\n' ' ')" = "main xmalloc parse_config " ] \
    || bad "--nodecount 3 keeps main xmalloc parse_config"
grep -E -- '-> N([4-9]|[1-9][0-9])' $PICDIR/cg3.dot && bad "edge to a dropped node"
count $PICDIR/cg3.dot '^N[0-9]* -> N[0-9]* \[' 3 "edge lines with --nodecount 3"

# 3. --nodefraction with objects: bare integers.
$DRIVER dot $D/stacks.txt $PICDIR/cgobj.dot --unit objects --nodefraction 0.25 2>/dev/null || bad "driver dot failed"
has $PICDIR/cgobj.dot 'label="Total objects: 3936557\lShowing 6 of 9 nodes, 6 of 9 edges\lDropped 3 nodes with cum < 984140\lDropped 3 edges of dropped nodes\l"'
has $PICDIR/cgobj.dot 'N2 [label="xmalloc\n2101548 (53.4%)\r"'
count $PICDIR/cgobj.dot '^N[0-9]* \[' 6 "node lines with --nodefraction 0.25"
grep -q compute $PICDIR/cgobj.dot && bad "compute (20%) kept with --nodefraction 0.25"

# 4. --show_bytes and --edgefraction.
$DRIVER dot $D/stacks.txt $PICDIR/cgb.dot --show-bytes --edgefraction 0.1 2>/dev/null || bad "driver dot failed"
has $PICDIR/cgb.dot 'Dropped 2 edges with weight < 393656 B\l'
has $PICDIR/cgb.dot 'N1 -> N4 [label=" 1835009 B",weight=47,penwidth=3.3,arrowsize=1.4];'
has $PICDIR/cgb.dot 'N2 [label="xmalloc\n2101548 B (53.4%)\r"'
count $PICDIR/cgb.dot '^N[0-9]* -> N[0-9]* \[' 6 "edge lines with --edgefraction 0.1"

# 5. C++ names shortened, backslashes escaped.
$DRIVER dot $D/cpp.txt $PICDIR/cpp.dot --nodefraction 0 --edgefraction 0 || bad "driver dot failed (cpp)"
got=$(grep -o '^N[0-9]* \[label="[^\\]*\(\\\\[^n][^\\]*\)*' $PICDIR/cpp.dot | sed 's/^[^"]*"//' | tr '\n' '|')
want='main|...yet_another_namespace::ClassName::method_name|ns::Foo::operator()|ns::Foo::operator<<|ns::process|(anonymous namespace)::Worker::run|operator new[]|std::_Function_handler::_M_invoke|path\\with\\backslash|hold (inline)|ns::dup [clone .constprop.0]|'
[ "$got" = "$want" ] || bad "short C++ names: want $want got $got"

# 5b. At most 8 edges per node and direction, the heaviest (jeprof's --maxdegree).
for i in 1 2 3 4 5 6 7 8 9 10; do echo "main;callee$i $((i * 100))"; done > $PICDIR/fan.txt
$DRIVER dot $PICDIR/fan.txt $PICDIR/fan.dot --show-bytes || bad "driver dot failed (fan)"
has $PICDIR/fan.dot 'Showing 11 of 11 nodes, 8 of 10 edges\lDropped 2 edges beyond 8 per node\l'
count $PICDIR/fan.dot '^N[0-9]* -> N[0-9]* \[' 8 "edge lines with 10 callees"
grep -q 'label=" 200 B"' $PICDIR/fan.dot && bad "the 2nd lightest edge is drawn"
has $PICDIR/fan.dot 'label=" 300 B"'

# 6. Rendering through Graphviz.
if ! command -v dot >/dev/null; then
    [ $fail = 0 ] && echo "skip: Graphviz 'dot' is not installed (text checks passed)" && exit 77
    exit 1
fi
$DRIVER svg $D/stacks.txt $PICDIR/cg.svg --title prog 2>/dev/null || bad "svg render failed"
python3 - $PICDIR/cg.svg <<'PY' || fail=1
import sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
nodes = [g for g in root.iter(ns + 'g') if g.get('class') == 'node']
edges = [g for g in root.iter(ns + 'g') if g.get('class') == 'edge']
texts = [t.text for t in root.iter(ns + 'text')]
errs = []
if len(nodes) != 9: errs.append(f'9 nodes (8 + legend), got {len(nodes)}')
if len(edges) != 8: errs.append(f'8 edges, got {len(edges)}')
for want in ('xmalloc', '2.0 MB (53.4%)', 'Total MB: 3.8', 'std::vector::push_back', '"quoted" \'x\''):
    if want not in texts: errs.append(f'text {want!r} missing')
for e in errs: print('FAIL: dot -Tsvg:', e)
sys.exit(1 if errs else 0)
PY
$DRIVER svg $D/cpp.txt $PICDIR/cpp.svg --nodefraction 0 2>/dev/null || bad "svg render of C++ names failed"
python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" $PICDIR/cpp.svg || bad "cpp.svg is not XML"
grep -qF 'path\with\backslash' $PICDIR/cpp.svg || bad "backslash name not rendered"

$DRIVER pdf $D/stacks.txt $PICDIR/cg.pdf --title prog 2>/dev/null || bad "pdf render failed"
[ "$(head -c 5 $PICDIR/cg.pdf)" = "%PDF-" ] || bad "pdf does not start with %PDF-"
tail -c 8 $PICDIR/cg.pdf | grep -q '%%EOF' || bad "pdf does not end with %%EOF"
if command -v pdftoppm >/dev/null; then
    rm -f $PICDIR/cg-pdf-1.png
    pdftoppm -png -r 60 -f 1 -l 1 $PICDIR/cg.pdf $PICDIR/cg-pdf || bad "pdftoppm failed"
    python3 - $PICDIR/cg-pdf-1.png <<'PY' || fail=1
import struct, sys
b = open(sys.argv[1], 'rb').read()
w, h = struct.unpack('>II', b[16:24])
ok = b[:8] == b'\x89PNG\r\n\x1a\n' and w > 300 and h > 150
print(f'pdf page rasterised: {w}x{h}')
sys.exit(0 if ok else 1)
PY
else
    echo "note: pdftoppm (poppler-utils) missing, PDF not rasterised"
fi

# 7. Errors: dot missing, dot failing.
JEPROF_DOT=/nonexistent/dot $DRIVER svg $D/stacks.txt $PICDIR/none.svg 2>$PICDIR/err.txt && bad "missing dot: exit 0"
grep -qF "error: cannot run Graphviz '/nonexistent/dot': No such file or directory (install the graphviz package)" $PICDIR/err.txt \
    || bad "missing dot: message: $(cat $PICDIR/err.txt)"
JEPROF_DOT=false $DRIVER pdf $D/stacks.txt $PICDIR/none.pdf 2>$PICDIR/err.txt && bad "failing dot: exit 0"
grep -qF "error: Graphviz 'false -Tpdf' failed (exit status 1)" $PICDIR/err.txt || bad "failing dot: message: $(cat $PICDIR/err.txt)"
$DRIVER gif $D/stacks.txt $PICDIR/none.gif 2>/dev/null; [ $? = 2 ] || bad "driver accepts unknown mode"

[ $fail = 0 ] && echo "callgraph_render: all checks passed"
exit $fail
