#!/usr/bin/env bash
# jeprof-c's --dot/--svg/--pdf and --flamegraph reach callgraph.c and
# flamegraph.c with the profile's functions and values (the pictures
# themselves are tested by callgraph_render.sh and flamegraph_svg.sh).
# Skips when those modules are not in this build.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
cd "$G"
if ! "$JEPROF_C" --quiet --dot prog prog.heap >"$WORK/g.dot" 2>"$WORK/err"; then
    grep -q "not available" "$WORK/err" && skip "no callgraph.c in this build"
    fail "--dot: $(cat "$WORK/err")"
fi
grep -q "digraph" "$WORK/g.dot" || fail "--dot wrote no digraph"
grep -q 'path_two' "$WORK/g.dot" || fail "--dot lacks path_two"
grep -q 'tooltip="helper@12a0"' "$WORK/g.dot" || fail "--dot lacks helper@12a0"
if command -v dot >/dev/null; then
    "$JEPROF_C" --quiet --svg prog prog.heap >"$WORK/g.svg" || fail "--svg failed"
    grep -q "<svg" "$WORK/g.svg" || fail "--svg wrote no SVG"
    "$JEPROF_C" --quiet --pdf prog prog.heap >"$WORK/g.pdf" || fail "--pdf failed"
    [ "$(head -c 4 "$WORK/g.pdf")" = "%PDF" ] || fail "--pdf wrote no PDF"
fi
"$JEPROF_C" --quiet --flamegraph="$WORK/f.svg" --text --show_bytes prog prog.heap >"$WORK/t.txt" ||
    fail "--flamegraph failed"
grep -q "path_two" "$WORK/f.svg" || fail "flamegraph lacks path_two"
grep -q "Total: 4880585 B" "$WORK/t.txt" || fail "--flamegraph did not keep the text report"
"$JEPROF_C" --quiet --flamegraph="$WORK/nosuchdir/f.svg" prog prog.heap >/dev/null 2>"$WORK/err" &&
    fail "unwritable --flamegraph path succeeded"
grep -q "^error: cannot create '.*nosuchdir/f.svg'" "$WORK/err" || fail "bad error: $(cat "$WORK/err")"
echo ok
