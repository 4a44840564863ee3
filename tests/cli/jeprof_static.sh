#!/usr/bin/env bash
# A program linked statically with jemalloc (libjemalloc_pic.a): there is no
# libjemalloc.so module, so jemalloc's frames are recognised by name (je_*,
# its realloc helpers) and trimmed; the bytes land on the program's own
# functions (jeprof charges them to prof_backtrace_impl here).
# The subject is compiled here on purpose: the test is about a -static
# program without frame pointers.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need gcc
A=/usr/lib/x86_64-linux-gnu/libjemalloc_pic.a
[ -f "$A" ] || skip "no $A (libjemalloc-dev)"
cd "$WORK"
gcc -O2 -g -fomit-frame-pointer -o sprog "$TESTDIR/prog_a.c" "$TESTDIR/prog_b.c" "$A" \
    -lstdc++ -lpthread -lm -ldl || skip "cannot link statically with jemalloc"
MALLOC_CONF=prof:true,prof_final:true,prof_prefix:$WORK/sp,lg_prof_sample:12 ./sprog >/dev/null ||
    fail "sprog failed"
d=$(ls sp.*.f.heap 2>/dev/null | head -n 1)
[ -n "$d" ] || skip "static jemalloc wrote no profile"
"$JEPROF_C" --quiet --text --show_bytes ./sprog "$d" >out.txt || fail "jeprof-c failed"
cat out.txt
if grep -Eq ' (je_|prof_|do_rallocx|malloc|realloc|calloc)' out.txt; then
    fail "allocator frames left in the report"
fi
for f in recurse path_two; do
    awk -v f="$f" '$6 == f && $1 > 0 {ok=1} END {exit !ok}' out.txt || fail "$f has no flat bytes"
done
echo ok
