#!/usr/bin/env bash
# C++ operators new/delete under LD_PRELOAD and with liballoc.a:
#  - tests/integration/cxx_new_delete.cc built WITHOUT -lalloc and run with
#    liballoc preloaded: every operator form must resolve into liballoc and
#    behave as libstdc++'s (bad_alloc, new_handler loop, nothrow, alignment);
#  - a C++ program linked statically with liballoc.a gets our operators (the
#    new_delete.o member), runs, and its blocks are ours;
#  - a C program linked statically with liballoc.a needs no libstdc++.
. "$(dirname "$0")/lib.sh"
need g++
B=$ROOT/build
check_preload_maps

# cxx_new_delete_preload: tests/integration/cxx_new_delete.cc built by
# tests/tests.mk without -lalloc. The static programs below are built here on
# purpose: this test is about those link lines (liballoc.a with and without
# libstdc++).
CXX_PRELOAD=$(app_bin apps/cxx_new_delete_preload) || exit 1
readelf -d "$CXX_PRELOAD" | grep -q 'NEEDED.*liballoc' && fail "cxx_new_delete is linked with liballoc"
out=$(env -u MALLOC_CONF LD_PRELOAD="$LIB" timeout 300 "$CXX_PRELOAD" 2>&1)
[ $? -eq 0 ] && [ "$(tail -n 1 <<<"$out")" = ok ] || fail "preloaded cxx_new_delete: $(head -c 600 <<<"$out")"
echo "pass: preloaded operators"
out=$(env MALLOC_CONF="$CONF_SET" LD_PRELOAD="$LIB" timeout 300 "$CXX_PRELOAD" 2>&1)
[ $? -eq 0 ] && [ "$(tail -n 1 <<<"$out")" = ok ] || fail "preloaded cxx_new_delete ($CONF_SET): $(head -c 600 <<<"$out")"
echo "pass: preloaded operators, MALLOC_CONF=$CONF_SET"

# Static C++: the operators come from liballoc.a, blocks from new are ours.
cat >"$TMP/static.cc" <<'X'
#include <jemalloc/jemalloc.h>
#include <cstdio>
#include <map>
#include <new>
#include <string>
#include <vector>
int main()
{
    std::map<int, std::string> m;
    for (int i = 0; i < 20000; i++)
        m[i] = std::string(static_cast<size_t>(i % 200), 'x');
    std::vector<int *> v;
    for (int i = 0; i < 1000; i++)
        v.push_back(new int[i + 1]);
    for (int i = 0; i < 1000; i++)
        if (sallocx(v[i], 0) != nallocx(sizeof(int) * (i + 1), 0)) {
            std::printf("new[] block %d: sallocx %zu\n", i, sallocx(v[i], 0));
            return 1;
        }
    for (int *p : v)
        delete[] p;
    bool thrown = false;
    try {
        v.push_back(static_cast<int *>(::operator new(size_t(1) << 62)));
    } catch (const std::bad_alloc &) {
        thrown = true;
    }
    std::puts(thrown && m.size() == 20000 ? "ok" : "bad");
    return 0;
}
X
g++ -std=gnu++17 -O2 -I"$ROOT/include" -o "$TMP/static_cxx" "$TMP/static.cc" "$B/liballoc.a" \
    -lunwind -lprotobuf-c -lz -lpthread -ldl -lm || fail "static C++ link with liballoc.a"
nm "$TMP/static_cxx" | grep -q ' T _Znwm$' || fail "static C++ program: operator new is not liballoc's"
nm "$TMP/static_cxx" | grep -q ' T _ZdlPvm$' || fail "static C++ program: sized delete is not liballoc's"
out=$(env -u MALLOC_CONF -u LD_PRELOAD timeout 300 "$TMP/static_cxx" 2>&1)
[ "$out" = ok ] || fail "static C++ program: $(head -c 400 <<<"$out")"
echo "pass: static C++ program"

# Static C: no libstdc++ on the link line, none needed.
cat >"$TMP/static.c" <<'X'
#include <stdio.h>
#include <stdlib.h>
#include <jemalloc/jemalloc.h>
int main(void)
{
    char *p = malloc(100);
    printf("%s\n", p && sallocx(p, 0) == nallocx(100, 0) ? "ok" : "bad");
    free(p);
    return 0;
}
X
cc -O2 -I"$ROOT/include" -o "$TMP/static_c" "$TMP/static.c" "$B/liballoc.a" \
    -lunwind -lprotobuf-c -lz -lpthread -ldl -lm || fail "static C link with liballoc.a (without libstdc++)"
readelf -d "$TMP/static_c" | grep -q 'NEEDED.*libstdc++' && fail "static C program needs libstdc++"
out=$(env -u MALLOC_CONF -u LD_PRELOAD timeout 300 "$TMP/static_c" 2>&1)
[ "$out" = ok ] || fail "static C program: $(head -c 400 <<<"$out")"
echo "pass: static C program"
echo ok
