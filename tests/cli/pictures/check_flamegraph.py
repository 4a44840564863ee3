"""Checks a flame graph SVG against an independent model of the same input.

usage: check_flamegraph.py STACKS SVG [--title T] [--unit U] [--width W]
Rebuilds the merged tree from the collapsed stacks in Python and requires that
the SVG is well-formed XML and draws exactly the frames at least 0.1 px wide,
with the expected titles, x positions and widths (proportional to value,
children in name order), labels that fit, one colour per function name and
the controls the viewer needs. Prints every failure; exit 1 if any.
"""
import re
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
args = sys.argv[1:]
stacks_path, svg_path = args[0], args[1]
opts = dict(zip(args[2::2], args[3::2]))
title = opts.get('--title', 'Flame Graph')
unit = opts.get('--unit', 'bytes')
width = int(opts.get('--width', '1200'))
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def thousands(v):
    return f'{v:,}'


# Independent model: nested dicts keyed by name, children in sorted order.
class Node:
    def __init__(self, name, depth):
        self.name, self.depth, self.value, self.kids = name, depth, 0, {}


root = Node('all', 0)
for line in open(stacks_path, encoding='utf-8', errors='surrogateescape'):
    m = re.match(r'^(.*) (\d+)$', line.rstrip('\n'))
    if not m or int(m.group(2)) == 0:
        continue
    v = int(m.group(2))
    node = root
    node.value += v
    for i, fr in enumerate(m.group(1).split(';')):
        node = node.kids.setdefault(fr, Node(fr, i + 1))
        node.value += v

total = root.value
expected = []  # (name, value, x, w, depth) in pre-order


def walk(node, start):
    wpt = (width - 20) / total
    w = node.value * wpt
    if w < 0.1:
        return
    expected.append((node.name, node.value, 10 + start * wpt, w, node.depth))
    off = start
    for name in sorted(node.kids, key=lambda s: s.encode('utf-8', 'surrogateescape')):
        walk(node.kids[name], off)
        off += node.kids[name].value


try:
    doc = ET.parse(svg_path).getroot()
except ET.ParseError as e:
    print(f'FAIL: {svg_path} is not well-formed XML: {e}')
    sys.exit(1)

check(doc.tag == NS + 'svg' and doc.get('version') == '1.1', 'root is <svg version="1.1">')
check(doc.get('onload') == 'init(evt)', 'svg onload="init(evt)"')
check(doc.get('width') == str(width), f'svg width {width} (got {doc.get("width")})')
scripts = doc.findall(NS + 'script')
check(len(scripts) == 1 and scripts[0].get('type') == 'text/ecmascript'
      and 'function init(evt)' in scripts[0].text and 'function fg_search' in scripts[0].text,
      'one embedded ECMAScript with init and fg_search')
byid = {e.get('id'): e for e in doc.iter() if e.get('id')}
for ctl in ('title', 'details', 'unzoom', 'search', 'ignorecase', 'matched', 'frames', 'background'):
    check(ctl in byid, f'element #{ctl} exists')
want_title = f'{title} ({unit})'
check(byid.get('title') is not None and byid['title'].text == want_title,
      f'title text {want_title!r} (got {byid["title"].text if "title" in byid else None!r})')
check(byid.get('unzoom') is not None and byid['unzoom'].text == 'Reset Zoom'
      and byid['unzoom'].get('class') == 'hide', '"Reset Zoom" present and hidden')

frames = byid['frames'].findall(NS + 'g') if 'frames' in byid else []
if total == 0:
    check(len(frames) == 0, f'no frames for an empty profile (got {len(frames)})')
    check('empty' in byid and 'empty' in byid['empty'].text, 'empty-profile message shown')
else:
    walk(root, 0)
    check(len(frames) == len(expected), f'{len(expected)} frames drawn (got {len(frames)})')
    height = int(doc.get('height'))
    maxdepth = max(e[4] for e in expected)
    check(height == (maxdepth + 1) * 16 + 36 + 34, f'height fits {maxdepth + 1} levels (got {height})')
    colour = {}
    for g, (name, value, x, w, depth) in zip(frames, expected):
        t = g.find(NS + 'title').text
        pct = '100%' if value == total else f'{100 * value / total:.2f}%'
        want = f'{name} ({thousands(value)} {unit}, {pct})'
        check(t == want, f'frame title {want!r} (got {t!r})')
        r = g.find(NS + 'rect')
        rx, rw, ry = float(r.get('x')), float(r.get('width')), float(r.get('y'))
        check(abs(rx - x) < 0.006 and abs(rw - w) < 0.006,
              f'{name}: x={x:.2f} width={w:.2f} (got x={rx} width={rw})')
        check(ry == height - 34 - (depth + 1) * 16 + 1, f'{name}: y for depth {depth} (got {ry})')
        fill = r.get('fill')
        m = re.fullmatch(r'rgb\((\d+),(\d+),(\d+)\)', fill or '')
        check(m and m.group(1) == '0' and 190 <= int(m.group(2)) <= 240 and int(m.group(3)) <= 210,
              f'{name}: memory palette colour (got {fill})')
        check(colour.setdefault(name, fill) == fill, f'{name}: same colour everywhere')
        label = g.find(NS + 'text').text or ''
        fit = int(w / (12 * 0.59))
        if fit < 3:
            check(label == '', f'{name}: no label in {w:.2f} px (got {label!r})')
        elif len(name) <= fit:
            check(label == name, f'{name}: full label (got {label!r})')
        else:
            check(label == name[:fit - 2] + '..', f'{name}: label cut to {fit} chars with .. (got {label!r})')

for f in failures:
    print('FAIL:', f)
print(f'{svg_path}: {len(frames)} frames, {len(failures)} failures')
sys.exit(1 if failures else 0)
