#!/usr/bin/env bash
# The allocating line, in every reader (issue 12, point 1): stacks hold
# return addresses, so the caller of malloc must be moved back into its
# call, or --lines names the statement after it. tests/cli/callsite/leaf.c,
# built with gcc at -O1 and -O2 and with clang -O2 (DWARF 5 without
# .debug_aranges: CUs found by their own ranges), allocates with malloc, calloc and realloc
# as the last call before a line change or of a function, and with malloc
# as the last call of an always-inlined function (whose inlined frame must
# stay). Each marked line must carry the bytes in: jeprof-c --lines on our
# heap_v2 and our .pb.gz, Debian's jeprof --lines on our heap_v2, go tool
# pprof -lines on our .pb.gz and on jeprof-c --pprof output, and jeprof-c
# on a dump of Debian's jemalloc. A reader that is not installed is skipped.
# The subject is compiled here on purpose: the test is about the compilers
# and optimisation levels it is built with.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
SRC=$CS/leaf.c
REC=leaf.c:$(mark "$SRC" REC)
ZERO=leaf.c:$(mark "$SRC" ZERO)
GROW=leaf.c:$(mark "$SRC" GROW)
INL=leaf.c:$(mark "$SRC" INL)
CALLINL=leaf.c:$(mark "$SRC" CALLINL)
SPLIT=$(mark "$SRC" SPLIT)
have_jeprof=0; command -v jeprof >/dev/null && have_jeprof=1
have_go=0; command -v go >/dev/null && have_go=1

check_all() { # label output [with names]
    has_flat "$1" "$2" "$REC" ${3:+make_record}
    has_flat "$1" "$2" "$ZERO" ${3:+make_zeroed}
    has_flat "$1" "$2" "$GROW" ${3:+grow}
    has_flat "$1" "$2" "$INL" ${3:+'inl_alloc \(inline\)'}
}

# --list with a source file shorter than the function's lines (edited
# since the build, or another file of that name found): the lines it has,
# no crash.
cp "$SRC" "$WORK/short.c"
gcc -O2 -g -o "$WORK/short" "$WORK/short.c" || fail "cannot build short.c"
ours "$WORK/short" short
head -n 20 "$SRC" >"$WORK/short.c"
"$JEPROF_C" --quiet --list=split_args --show_bytes "$WORK/short" "$HEAP" >"$WORK/short.txt" 2>&1 ||
    { rc=$?; cat "$WORK/short.txt"; fail "--list with a short source file: exit $rc"; }
grep -q "^ROUTINE .* split_args" "$WORK/short.txt" || { cat "$WORK/short.txt"; fail "--list with a short source file: no routine"; }
echo "ok   --list with a source file shorter than the function"

ccs="gcc:-O1 gcc:-O2"
command -v clang >/dev/null && ccs="$ccs clang:-O2"
for cc_opt in $ccs; do
    cc=${cc_opt%%:*} opt=${cc_opt#*:}
    $cc $opt -g -o "$WORK/leaf" "$SRC" || fail "cannot build leaf.c with $cc $opt"
    opt="$cc $opt"
    ours "$WORK/leaf" leaf
    "$JEPROF_C" --quiet --text --lines "$WORK/leaf" "$HEAP" >"$WORK/hv2.txt" || fail "jeprof-c failed"
    check_all "$opt jeprof-c heap_v2" "$WORK/hv2.txt" names
    # The caller of the inlined function keeps its own line (cum only).
    grep -q "user_of_inl.* [^ ]*/$CALLINL\$" "$WORK/hv2.txt" ||
        { cat "$WORK/hv2.txt"; fail "$opt: user_of_inl is not shown at $CALLINL"; }
    # --list: the bytes of a call whose argument is on the next line stay
    # on the call's line (the function's span starts at its smallest line).
    "$JEPROF_C" --quiet --list=split_args --show_bytes "$WORK/leaf" "$HEAP" >"$WORK/list.txt" ||
        fail "jeprof-c --list failed"
    awk -v l="$SPLIT:" '$3 == l && $1 != "." { ok = 1 } END { exit !ok }' "$WORK/list.txt" ||
        { cat "$WORK/list.txt"; fail "$opt: --list does not put split_args's bytes on line $SPLIT"; }
    echo "ok   $opt jeprof-c --list: leaf.c:$SPLIT"
    "$JEPROF_C" --quiet --text --lines "$WORK/leaf" "$PB" >"$WORK/pb.txt" || fail "jeprof-c failed on .pb.gz"
    check_all "$opt jeprof-c pprof" "$WORK/pb.txt" names
    "$JEPROF_C" --quiet --pprof="$WORK/sym.pb.gz" "$WORK/leaf" "$HEAP" || fail "jeprof-c --pprof failed"
    if [ $have_jeprof = 1 ]; then
        jeprof --text --lines "$WORK/leaf" "$HEAP" >"$WORK/jeprof.txt" 2>/dev/null || fail "jeprof failed"
        check_all "$opt Debian jeprof heap_v2" "$WORK/jeprof.txt"
    else
        echo "skip Debian jeprof: not installed"
    fi
    if [ $have_go = 1 ]; then
        go_top "$opt go pprof" "$PB" "$WORK/go.txt" "$WORK/leaf"
        check_all "$opt go tool pprof our .pb.gz" "$WORK/go.txt"
        go_top "$opt go pprof" "$WORK/sym.pb.gz" "$WORK/gosym.txt"
        check_all "$opt go tool pprof jeprof-c --pprof" "$WORK/gosym.txt"
    else
        echo "skip go tool pprof: not installed"
    fi
    if [ -f "$JEMALLOC_SO" ] && J=$(jemalloc_dump "$WORK/leaf" 0 je); then
        "$JEPROF_C" --quiet --text --lines "$WORK/leaf" "$J" >"$WORK/je.txt" || fail "jeprof-c failed on jemalloc's dump"
        check_all "$opt jeprof-c jemalloc heap_v2" "$WORK/je.txt" names
    else
        echo "skip jemalloc's dump: no $JEMALLOC_SO or no profiling in it"
    fi
done
[ $NFAIL -eq 0 ] || fail "$NFAIL checks failed"
echo "ok"
