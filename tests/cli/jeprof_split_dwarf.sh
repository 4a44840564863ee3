#!/usr/bin/env bash
# Split DWARF (gcc -gsplit-dwarf, DWARF 5 and GNU's DWARF 4 form): the
# functions and inlined calls live in the .dwo file, the binary keeps a
# skeleton unit whose line table gives the innermost inlined call's line.
#  - With the .dwo, frames are named from it: an allocation in a function
#    inlined into its caller shows as "leaf (inline)" on the allocating line
#    with the caller on the call's line, as without split DWARF.
#  - Without it, the line is left out (the skeleton's line belongs to the
#    inlined function, the symbol table's name to its caller: together they
#    name a line that is not in that function) and a warning names the
#    missing unit.
#  - Source paths relative to the build directory ("../sd.c") are joined
#    with the CU's DW_AT_comp_dir, so the line names a file that can be
#    opened from any directory (built from a subdirectory, read from /).
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
mkdir -p "$WORK/build"
cat >"$WORK/sd.c" <<'C'
#include <stdlib.h>
void *keep[64];
static volatile int s;
static inline __attribute__((always_inline)) void *leaf(size_t n)
{
    s++;
    return malloc(n); /* @LEAF */
}
__attribute__((noinline)) void *make(size_t n)
{
    void *p = malloc(n); /* @MAKE */
    s++;
    return p;
}
__attribute__((noinline)) void *outer(size_t n)
{
    void *p = leaf(n + s); /* @CALL */
    s++;
    return p;
}
int main(void)
{
    for (int i = 0; i < 32; i++)
        keep[i] = make(20000);
    for (int i = 0; i < 16; i++)
        keep[32 + i] = outer(30000);
    return 0;
}
C
MAKE=$(mark "$WORK/sd.c" MAKE)
LEAF=$(mark "$WORK/sd.c" LEAF)
CALL=$(mark "$WORK/sd.c" CALL)
for dw in 5 4; do
    b=$WORK/build/sd$dw
    (cd "$WORK/build" && gcc -O2 -g -gdwarf-$dw -gsplit-dwarf -o "sd$dw" ../sd.c) ||
        fail "cannot build sd.c with -gdwarf-$dw -gsplit-dwarf"
    ls "$WORK/build/"*.dwo >/dev/null 2>&1 || skip "gcc wrote no .dwo file"
    objdump -h "$b" | grep -q '\.debug_info' || fail "no skeleton in sd$dw"
    objdump -h "$b" | grep -q '\.debug_info\.dwo' && fail "sd$dw holds its .dwo sections itself"
    ours "$b" "sdprof$dw"
    (cd / && "$JEPROF_C" --quiet --text --lines "$b" "$HEAP") >"$WORK/out.txt" 2>"$WORK/err.txt" ||
        fail "jeprof-c failed"
    # make's line, as an absolute path that exists.
    f=$(awk -v l=":$MAKE" '$1 != "0.0" && $6 == "make" && index($NF, l) { print $NF; exit }' "$WORK/out.txt")
    [ -n "$f" ] || { cat "$WORK/out.txt"; fail "DWARF $dw: no row with bytes in make on sd.c:$MAKE"; }
    case $f in /*) ;; *) cat "$WORK/out.txt"; fail "the file is relative: $f" ;; esac
    [ -f "${f%:*}" ] || fail "'${f%:*}' does not exist"
    # The inlined leaf on its line (flat), outer on the call's line (cumulative).
    grep -qE "^ +[0-9.]+ .* leaf \(inline\) /[^ ]*sd\.c:$LEAF\$" "$WORK/out.txt" ||
        { cat "$WORK/out.txt"; fail "DWARF $dw: no 'leaf (inline)' row on sd.c:$LEAF"; }
    grep -qE " outer /[^ ]*sd\.c:$CALL\$" "$WORK/out.txt" ||
        { cat "$WORK/out.txt"; fail "DWARF $dw: no 'outer' row on the call's line sd.c:$CALL"; }
    grep -qE " outer /[^ ]*sd\.c:$LEAF\$" "$WORK/out.txt" &&
        { cat "$WORK/out.txt"; fail "DWARF $dw: outer named with leaf's line $LEAF"; }
    [ -s "$WORK/err.txt" ] && { cat "$WORK/err.txt"; fail "DWARF $dw: warnings with the .dwo present"; }
    echo "ok   DWARF $dw: make at $f, leaf (inline) at :$LEAF, outer at :$CALL"

    # The .dwo gone: no line from the skeleton next to outer's name, a warning.
    mkdir -p "$WORK/away"
    mv "$WORK/build/"*.dwo "$WORK/away/"
    "$JEPROF_C" --text --lines "$b" "$HEAP" >"$WORK/out.txt" 2>"$WORK/err.txt" || fail "jeprof-c failed"
    grep -q "split DWARF.*dwo.*cannot be read" "$WORK/err.txt" ||
        { cat "$WORK/err.txt"; fail "DWARF $dw: no warning about the missing .dwo"; }
    [ "$(grep -c 'split DWARF' "$WORK/err.txt")" = 1 ] || fail "the warning is not printed once"
    grep -qE " outer( |\$)" "$WORK/out.txt" ||
        { cat "$WORK/out.txt"; fail "DWARF $dw: outer not named from the symbol table"; }
    grep -qE "sd\.c:$LEAF" "$WORK/out.txt" &&
        { cat "$WORK/out.txt"; fail "DWARF $dw: the skeleton's line $LEAF shown without the .dwo"; }
    rm -f "$WORK/away/"*.dwo
    echo "ok   DWARF $dw without its .dwo: a warning, outer without a line"
done
echo "ok"
