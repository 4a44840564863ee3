#!/usr/bin/env bash
# Split DWARF (gcc -gsplit-dwarf): the skeleton's line table gives source
# paths relative to the build directory ("../sd.c"); jeprof-c --lines joins
# them with the CU's DW_AT_comp_dir when the joined file exists, so the
# allocating line names a file that can be opened from any directory.
# Built from a subdirectory with a relative source path; read from /.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
mkdir -p "$WORK/build"
cat >"$WORK/sd.c" <<'C'
#include <stdlib.h>
void *keep[32];
static volatile int s;
__attribute__((noinline)) void *make(size_t n)
{
    void *p = malloc(n); /* @MAKE */
    s++;
    return p;
}
int main(void)
{
    for (int i = 0; i < 32; i++)
        keep[i] = make(20000);
    return 0;
}
C
(cd "$WORK/build" && gcc -O2 -g -gsplit-dwarf -o sd ../sd.c) || fail "cannot build sd.c with -gsplit-dwarf"
[ -f "$WORK/build/sd.dwo" ] || skip "gcc wrote no .dwo file"
ours "$WORK/build/sd" sdprof
LINE=$(mark "$WORK/sd.c" MAKE)
(cd / && "$JEPROF_C" --quiet --text --lines "$WORK/build/sd" "$HEAP") >"$WORK/out.txt" ||
    fail "jeprof-c failed"
f=$(awk -v l=":$LINE" '$1 != "0.0" && /make/ && index($NF, l) { print $NF; exit }' "$WORK/out.txt")
[ -n "$f" ] || { cat "$WORK/out.txt"; fail "no row with bytes on sd.c:$LINE"; }
case $f in /*) ;; *) cat "$WORK/out.txt"; fail "the file is relative: $f" ;; esac
[ -f "${f%:*}" ] || fail "'${f%:*}' does not exist"
echo "ok   make at $f"
echo "ok"
