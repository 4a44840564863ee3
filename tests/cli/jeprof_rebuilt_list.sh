#!/usr/bin/env bash
# --list and --disasm never borrow code (issue 12, point 4): when the
# program named on the command line was rebuilt after the dump, the
# symbolizer refuses it, and --list/--disasm must refuse it too rather than
# annotate the new file's source lines and instructions with the old
# profile's bytes. The program (written here, its function
# renamed by -D for the rebuild) is profiled, rebuilt, and read back from
# our heap_v2 and .pb.gz (which carries the old names, so --list=RE finds
# the old function and must then find no code).
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
SRC=$WORK/rebuilt.c
cat >"$SRC" <<'C'
#include <stdlib.h>
void *keep[64];
__attribute__((noinline)) void *FN(size_t n)
{
    return keep[n % 64] = malloc(n * 1000);
}
int main(void)
{
    for (int i = 1; i < 50; i++)
        FN(i);
    return 0;
}
C
gcc -O2 -g -DFN=old_alloc -o "$WORK/rb" "$SRC" || fail "cannot build rebuilt.c"
ours "$WORK/rb" rb
gcc -O0 -g -DFN=new_alloc -DPAD -o "$WORK/rb" "$SRC" || fail "cannot rebuild rebuilt.c"
for input in "$HEAP" "$PB"; do
    for mode in --list=. --list=old_alloc --disasm=. --disasm=old_alloc; do
        "$JEPROF_C" --quiet $mode "$WORK/rb" "$input" >"$WORK/out.txt" 2>"$WORK/err.txt" ||
            { cat "$WORK/err.txt"; fail "jeprof-c $mode failed on ${input##*.}"; }
        grep -q "is not the file profiled" "$WORK/err.txt" ||
            { cat "$WORK/err.txt"; fail "$mode ${input##*.}: no warning about the rebuilt program"; }
        if grep -Eq 'new_alloc|rebuilt\.c' "$WORK/out.txt"; then
            cat "$WORK/out.txt"; fail "$mode ${input##*.}: the rebuilt program's code or lines were used"
        fi
        echo "ok   $mode ${input##*.}: nothing borrowed"
    done
done
echo "ok"
