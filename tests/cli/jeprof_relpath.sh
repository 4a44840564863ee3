#!/usr/bin/env bash
# Source paths that the debug information gives relative to the compilation
# directory (DW_AT_comp_dir): a program built as "gcc -g src/rel.c" in
# $WORK/build, DWARF 4 (Rust's standard library looks the same: comp_dir
# /rustc/<hash>, files library/std/src/...). After the sources move away:
#  - --lines names $WORK/build/src/rel.c, the path joined with comp_dir, as
#    addr2line (so Debian's jeprof) does; it gave "src/rel.c" when the
#    joined path did not exist, and a function whose inlined copies came
#    from a table with absolute directories showed under two spellings;
#  - --list, run where another src/rel.c lies (other sources: here a copy
#    with its lines renamed), still shows those lines (found by suffix, as
#    pprof's source lookup does) but warns on stderr which file they come
#    from, instead of printing them silently under the original's name.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
mkdir -p "$WORK/build/src" "$WORK/other/src"
cat >"$WORK/build/src/rel.c" <<'X'
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) void *rel_alloc(size_t n)
{
    void *p = malloc(n); /* @ALLOC */
    memset(p, 1, n);
    return p;
}
int main(void)
{
    void *volatile keep = rel_alloc(1 << 20);
    (void)keep;
    return 0;
}
X
LINE=$(mark "$WORK/build/src/rel.c" ALLOC)
(cd "$WORK/build" && gcc -O1 -g -gdwarf-4 -o rel src/rel.c) || fail "cannot build rel.c"
ours "$WORK/build/rel" rel
sed 's/malloc/MALLOC_OF_ANOTHER_FILE/' "$WORK/build/src/rel.c" >"$WORK/other/src/rel.c"
rm -r "$WORK/build/src"
"$JEPROF_C" --quiet --text --lines "$WORK/build/rel" "$HEAP" >"$WORK/lines.txt" || fail "jeprof-c --lines failed"
has_flat "jeprof-c --lines, sources gone" "$WORK/lines.txt" "$WORK/build/src/rel.c:$LINE" rel_alloc
if command -v addr2line >/dev/null; then
    pc=$(nm "$WORK/build/rel" | awk '$3 == "rel_alloc" { print $1 }')
    a2l=$(addr2line -e "$WORK/build/rel" "0x$pc" | cut -d: -f1)
    [ "$a2l" = "$WORK/build/src/rel.c" ] || fail "addr2line names '$a2l' (the test's premise)"
    echo "ok   addr2line names the same path"
fi
(cd "$WORK/other" && "$JEPROF_C" --list=rel_alloc "$WORK/build/rel" "$HEAP" >"$WORK/list.txt" 2>"$WORK/list.err") ||
    fail "jeprof-c --list failed"
grep -q "MALLOC_OF_ANOTHER_FILE" "$WORK/list.txt" || { cat "$WORK/list.txt"; fail "--list did not find src/rel.c by suffix"; }
grep -q "warning: $WORK/build/src/rel.c: not found; showing the lines of src/rel.c" "$WORK/list.err" ||
    { cat "$WORK/list.err"; fail "--list showed another file's lines without a warning"; }
echo "ok   --list by suffix, with a warning"
[ "$NFAIL" = 0 ] || fail "$NFAIL checks failed"
echo "ok"
