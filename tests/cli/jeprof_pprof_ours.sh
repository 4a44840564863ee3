#!/usr/bin/env bash
# An unsymbolized pprof profile, as our allocator's writer produces it
# (mapping with file name and build id, bare addresses): jeprof-c finds the
# binary by build id (the program argument, or $PPROF_BINARY_PATH/<id>/<name>)
# although the recorded path does not exist, and shows module+0xoffset when
# nothing matches. The profile is made from golden/prog.heap by mkpprof.py.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need python3 readelf
G=$ROOT/tests/cli/golden
bid=$(readelf -n "$G/prog" | awk '/Build ID/ {print $3}')
[ -n "$bid" ] || skip "no build id in golden/prog"
python3 "$TESTDIR/mkpprof.py" "$G/prog.heap" "$bid" "$WORK/u.pb" || fail "mkpprof.py"
gzip -c "$WORK/u.pb" >"$WORK/u.pb.gz"
# Values are rounded per sample, so compare function names and Total.
names() { awk 'NR > 1 {print $6, $7}' "$1" | sort; }
"$JEPROF_C" --quiet --text --show_bytes "$G/prog" "$WORK/u.pb.gz" >"$WORK/byprog.txt" || fail "run 1"
[ "$(names "$WORK/byprog.txt")" = "$(names "$G/text_bytes.expected")" ] ||
    { diff "$WORK/byprog.txt" "$G/text_bytes.expected"; fail "program matched by build id: functions differ"; }
head -n 1 "$WORK/byprog.txt" | grep -q "^Total: 488058[45] B$" || fail "total: $(head -n 1 "$WORK/byprog.txt")"
echo "ok   program matched by build id"
mkdir -p "$WORK/bins/$bid" && cp "$G/prog" "$WORK/bins/$bid/gprog"
PPROF_BINARY_PATH=$WORK/bins "$JEPROF_C" --quiet --text --show_bytes "$WORK/u.pb" >"$WORK/bypath.txt" || fail "run 2"
[ "$(names "$WORK/bypath.txt")" = "$(names "$G/text_bytes.expected")" ] || fail "PPROF_BINARY_PATH: functions differ"
echo "ok   binary found in \$PPROF_BINARY_PATH/<build id>/"
"$JEPROF_C" --quiet --text --show_bytes "$WORK/u.pb" >"$WORK/none.txt" || fail "run 3"
grep -q " gprog+0x141e$" "$WORK/none.txt" || { cat "$WORK/none.txt"; fail "no module+0xoffset"; }
echo "ok   unresolved: module+0xoffset"
