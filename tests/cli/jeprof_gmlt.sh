#!/usr/bin/env bash
# Line tables only (clang -gline-tables-only): the DWARF names inlined
# functions without their scopes ("allocate", "basic_string",
# "_M_realloc_insert"), and out-of-line ones too ("_M_emplace_hint_unique").
# jeprof-c must still charge the bytes to the user's function, as with full
# debug information: an unscoped inlined function whose source is a C++
# standard library header counts as the library code it is, and an
# out-of-line function is named (and matched) by its symbol. Before, the top
# rows were "allocate (inline)", "basic_string (inline)" and
# "std::_Rb_tree::_M_emplace_hint_unique".
# The subject is compiled here on purpose: the test is about its debug info.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need clang++
cat >"$WORK/g.cc" <<'C'
#include <map>
#include <string>
#include <vector>
/* Never destroyed: the final dump (after static destructors) sees them. */
std::vector<long> &v = *new std::vector<long>;
std::map<int, long> &m = *new std::map<int, long>;
std::vector<std::string> &keep = *new std::vector<std::string>;
__attribute__((noinline)) void grow_vector() { for (long i = 0; i < 2000; i++) v.push_back(i); }
__attribute__((noinline)) void fill_map() { for (int i = 0; i < 100; i++) m[i] = i; }
__attribute__((noinline)) std::string make_string(int n) { return std::string(n, 'x'); }
int main()
{
    grow_vector();
    fill_map();
    for (int i = 0; i < 10; i++)
        keep.push_back(make_string(300));
    return 0;
}
C
clang++ -O2 -gline-tables-only -o "$WORK/g" "$WORK/g.cc" || skip "clang++ cannot build with -gline-tables-only"
ours "$WORK/g" gmlt
"$JEPROF_C" --quiet --text --show_bytes "$WORK/g" "$HEAP" >"$WORK/out.txt" || fail "jeprof-c failed"
# (in use: the vector's last buffer of 2048 longs, 100 map nodes of 48 B,
# 10 strings of 301 -> 320 B)
flat() { awk -v n="$1" '$6 == n { print $1; exit }' "$WORK/out.txt"; }
[ "$(flat grow_vector)" = 16384 ] || { cat "$WORK/out.txt"; fail "grow_vector: '$(flat grow_vector)' B flat, want 16384"; }
[ "$(flat fill_map)" = 4800 ] || { cat "$WORK/out.txt"; fail "fill_map: '$(flat fill_map)' B flat, want 4800"; }
ms=$(awk '$6 ~ /^make_string/ { print $1; exit }' "$WORK/out.txt")
[ "$ms" = 3200 ] || { cat "$WORK/out.txt"; fail "make_string: '$ms' B flat, want 3200"; }
if awk '$1 > 0 && ($6 ~ /^(allocate|basic_string|_M_|std::)/)' "$WORK/out.txt" | grep -q .; then
    cat "$WORK/out.txt"; fail "a standard library frame holds bytes"
fi
echo "ok   grow_vector 16384, fill_map 4800, make_string 3200; no library frame on top"

# The rule is for inlined frames of a standard library include directory:
# a user's functions in a directory named c++ (full debug info, an inlined
# helper and an out-of-line one) keep their bytes.
mkdir -p "$WORK/c++/app"
cat >"$WORK/c++/app/u.c" <<'C'
#include <stdlib.h>
void *keep[8];
static inline __attribute__((always_inline)) void *helper(size_t n) { return malloc(n); }
__attribute__((noinline)) void make_record(int i) { keep[i] = helper(10000); }
int main(void)
{
    for (int i = 0; i < 8; i++)
        make_record(i);
    return 0;
}
C
gcc -O1 -g -o "$WORK/c++/app/u" "$WORK/c++/app/u.c" || fail "cannot build u.c"
ours "$WORK/c++/app/u" user
"$JEPROF_C" --quiet --text --show_bytes "$WORK/c++/app/u" "$HEAP" >"$WORK/out.txt" || fail "jeprof-c failed"
awk '$6 == "helper" && $1 == 81920 { ok = 1 } END { exit !ok }' "$WORK/out.txt" ||
    { cat "$WORK/out.txt"; fail "a user's inlined helper under a c++ directory lost its bytes"; }
echo "ok   a user's code under .../c++/app keeps its names"
echo ok
