#!/usr/bin/env bash
# jeprof-c against Debian's jeprof, live, on dumps from Debian's jemalloc of
# test programs built here (-O2, no frame pointers): the same Total and the
# same per-function flat and cum values in several modes, and --collapsed
# sums equal. Rows where jeprof guesses a name from the nearest exported
# symbol (libstdc++'s init frames) may be named module+0xoffset by us; see
# jeprof/compare.py for the exact rule.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need jeprof python3
build_progs
cd "$WORK"
d12=$(jemalloc_dump ./prog 12 p12) || exit $?
# Several dumps of one process (jeprof symbolizes all inputs with one
# address map, so only same-process dumps can be summed or subtracted).
d12b=$(EXTRA_CONF=lg_prof_interval:22 jemalloc_dump ./prog 12 p12b 3) || exit $?
i12b=$(ls "$WORK"/p12b.*.i0.heap 2>/dev/null | head -n 1)
[ -n "$i12b" ] || fail "no interval dump"
d0=$(jemalloc_dump ./prog 0 p0) || exit $?
dxx=$(jemalloc_dump ./progxx 10 pxx) || exit $?

status=0
check() { # label compare-flags args...
    local label=$1 flags=$2; shift 2
    "$JEPROF_C" --quiet "$@" >mine.txt 2>mine.err || { echo "jeprof-c failed: $label"; cat mine.err; status=1; return; }
    jeprof "$@" >theirs.txt 2>/dev/null || { echo "jeprof failed: $label"; status=1; return; }
    printf '%-34s ' "$label"
    python3 "$TESTDIR/compare.py" $flags mine.txt theirs.txt || { status=1; diff mine.txt theirs.txt | head -20; }
}
check "text show_bytes lg12" "" --text --show_bytes ./prog "$d12"
check "text inuse_objects lg12" "" --text --inuse_objects ./prog "$d12"
check "text show_bytes lg0" "" --text --show_bytes ./prog "$d0"
check "text MB cum" "" --text --cum ./prog "$d12"
check "two profiles summed" "" --text --show_bytes ./prog "$i12b" "$d12b"
check "base subtracted" "" --text --show_bytes --base="$i12b" ./prog "$d12b"
check "focus ignore" "" --text --show_bytes --focus=main --ignore=path_two ./prog "$d12"
check "c++ lg10 (lenient)" --lenient --text --show_bytes ./progxx "$dxx"

for d in "$d12" "$dxx"; do
    prog=./prog; [ "$d" = "$dxx" ] && prog=./progxx
    a=$("$JEPROF_C" --quiet --collapsed $prog "$d" | awk '{s += $NF} END {printf "%d", s}')
    b=$(jeprof --collapsed $prog "$d" 2>/dev/null | awk '{s += $NF} END {printf "%d", s}')
    printf '%-34s %s vs jeprof %s\n' "collapsed sum $(basename "$d")" "$a" "$b"
    [ "$a" = "$b" ] || status=1
done

# A relative, renamed copy of the program still symbolizes by basename/build id.
mkdir -p moved && cp prog moved/renamed
"$JEPROF_C" --quiet --text --show_bytes moved/renamed "$d12" >renamed.txt
"$JEPROF_C" --quiet --text --show_bytes ./prog "$d12" >direct.txt
cmp -s renamed.txt direct.txt || { echo "renamed program symbolizes differently"; diff renamed.txt direct.txt | head; status=1; }
exit $status
