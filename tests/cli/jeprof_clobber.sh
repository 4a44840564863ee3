#!/usr/bin/env bash
# An output FILE never replaces an input: "jeprof-c --flamegraph prog
# prog.heap" (the separate-argument form) takes prog as the SVG's FILE; it
# used to overwrite the program binary with the SVG (found by running it on
# a compiler's cc1). Each output option aimed at the program, a profile,
# --base or any ELF file is refused (exit 2, one "error:" line naming it)
# and the file is left as it was; a new file name still gets the report.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
cd "$WORK"
cp "$G/prog" "$G/prog.heap" . || fail "no golden prog/prog.heap"
cp prog prog.orig
cp prog.heap prog.heap.orig
cp prog other_elf
status=0
refuse() { # option-args...: must exit 2 and leave every input unchanged
    "$JEPROF_C" --quiet "$@" >out 2>err
    local rc=$?
    if [ $rc -ne 2 ] || ! grep -Eq "^error: --[a-z]+: refusing to write over" err; then
        echo "FAIL: jeprof-c $*: exit $rc (want 2), stderr:"; cat err; status=1
    elif ! cmp -s prog prog.orig || ! cmp -s prog.heap prog.heap.orig || ! cmp -s other_elf prog.orig; then
        echo "FAIL: jeprof-c $*: an input was overwritten"; status=1
        cp prog.orig prog; cp prog.orig other_elf; cp prog.heap.orig prog.heap
    else
        echo "ok   refused: $*"
    fi
}
refuse --text --flamegraph prog prog.heap
refuse --text --flamegraph=prog prog prog.heap
refuse --text --pprof prog.heap prog prog.heap
refuse --text --pprof=./prog.heap prog prog.heap
refuse --text --flamegraph=other_elf prog prog.heap
refuse --text --base=prog.heap --flamegraph=prog.heap prog prog.heap
refuse --growth --output=prog.heap prog prog.heap prog.heap
# a new file is written as before
"$JEPROF_C" --quiet --text --flamegraph=flame.svg --pprof=p.pb.gz prog prog.heap >out 2>err ||
    { echo "FAIL: a new output file was refused:"; cat err; status=1; }
grep -q "<svg" flame.svg 2>/dev/null || { echo "FAIL: flame.svg not written"; status=1; }
[ -s p.pb.gz ] || { echo "FAIL: p.pb.gz not written"; status=1; }
grep -q "Total" out || { echo "FAIL: no text report with new output files"; status=1; }
exit $status
