#!/usr/bin/env bash
# The flame graph SVG in headless Chromium: loads with no script errors, and
# search (test hook and a real Ctrl-F prompt), Ctrl-I, hover, click-to-zoom
# and Reset Zoom behave (tests/cli/pictures/browser.js speaks the DevTools
# protocol over --remote-debugging-pipe: no npm package needed).
# Skips (77) without chromium or node. Leaves screenshots in
# build/tests/pictures/browser*.png.
set -u
cd "$(dirname "$0")/../.."
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || { echo "skip: chromium is not installed"; exit 77; }
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
export CHROMIUM
source tests/cli/pictures/build_driver.sh
$DRIVER flame tests/cli/pictures/browser.txt $PICDIR/browser.svg --title "Heap: inuse_space" \
    || { echo "FAIL: driver failed"; exit 1; }
node tests/cli/pictures/browser.js flame $PICDIR/browser.svg $PICDIR/browser.png || exit 1
# A big graph (20k stacks) must load without errors too.
python3 -c "
import random
r = random.Random(3)
for i in range(20000):
    print(';'.join(['main'] + ['f%d' % r.randrange(60) for d in range(r.randint(3, 25))]), r.randint(1, 5000))
" > $PICDIR/browser-big.txt
$DRIVER flame $PICDIR/browser-big.txt $PICDIR/browser-big.svg || { echo "FAIL: driver failed (big)"; exit 1; }
node tests/cli/pictures/browser.js shot $PICDIR/browser-big.svg $PICDIR/browser-big.png 1200 600 || exit 1
# An empty profile: the message, and a script that copes with no frames.
: > $PICDIR/browser-empty.txt
$DRIVER flame $PICDIR/browser-empty.txt $PICDIR/browser-empty.svg || { echo "FAIL: driver failed (empty)"; exit 1; }
node tests/cli/pictures/browser.js shot $PICDIR/browser-empty.svg $PICDIR/browser-empty.png 1200 150 || exit 1
echo "flamegraph_browser: all checks passed"
