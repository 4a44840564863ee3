#!/usr/bin/env bash
# The public headers compile in the languages and standards programs use:
# C11/C17 with no feature-test macros (strict: -pedantic-errors, implicit
# declarations are errors), gnu11, and C++11/17/20; through both
# <alloc.h> and <jemalloc/jemalloc.h>. The program also checks the MALLOCX_*
# encodings and runs against the built library. This test is about the
# compiler's flags, so it compiles its program itself (not through the
# Makefile's rules).
. "$(dirname "$0")/lib.sh"
need cc
need c++
cat >"$TMP/h.c" <<'C'
#include HEADER
#include <stdint.h>
#include <stdio.h>
int main(void)
{
    int bad = 0;
    /* The encodings jemalloc 5.3 uses (its public header). */
    bad |= MALLOCX_ALIGN(64) != 6 || MALLOCX_LG_ALIGN(6) != 6;
    bad |= MALLOCX_ALIGN((size_t)1 << 40) != 40;
    bad |= MALLOCX_ZERO != 0x40;
    bad |= MALLOCX_TCACHE(0) != 0x200 || MALLOCX_TCACHE_NONE != 0x100;
    bad |= MALLOCX_ARENA(0) != (1 << 20) || MALLOCX_ARENA(3) != (4 << 20);
    bad |= MALLCTL_ARENAS_ALL != 4096 || MALLCTL_ARENAS_DESTROYED != 4097;
    void *p = mallocx(100, MALLOCX_ALIGN(256) | MALLOCX_ZERO);
    bad |= p == NULL || ((uintptr_t)p & 255) != 0 || ((unsigned char *)p)[99] != 0;
    bad |= sallocx(p, 0) < 100;
    dallocx(p, 0);
    if (bad)
        printf("FAIL: a MALLOCX_* encoding or mallocx result is wrong\n");
    return bad;
}
C
cp "$TMP/h.c" "$TMP/h.cc"
n=0
for hdr in '<alloc.h>' '<jemalloc/jemalloc.h>'; do
    for lang in "cc -std=c11 -pedantic-errors" "cc -std=c17 -pedantic-errors" "cc -std=gnu11" \
                "c++ -std=c++11" "c++ -std=c++17" "c++ -std=c++20"; do
        src=$TMP/h.c extra=-Werror=implicit-function-declaration
        case "$lang" in c++*) src=$TMP/h.cc extra= ;; esac
        n=$((n + 1))
        exe=$TMP/h$n
        $lang -Wall -Wextra $extra -DHEADER="$hdr" \
            -I"$ROOT/include" "$src" -o "$exe" -L"$ROOT/build" -lalloc \
            -Wl,-rpath,"$ROOT/build" 2>"$TMP/err" ||
            fail "$hdr does not compile with '$lang': $(head -5 "$TMP/err")"
        [ -s "$TMP/err" ] && fail "$hdr gives warnings with '$lang': $(head -5 "$TMP/err")"
        "$exe" || fail "$hdr, '$lang': the program failed"
        echo "ok: $hdr with $lang"
    done
done
exit 0
