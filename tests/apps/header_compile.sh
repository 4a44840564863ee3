#!/usr/bin/env bash
# The public headers compile in the languages and standards programs use:
# C11/C17 with no feature-test macros (strict: -pedantic-errors, implicit
# declarations are errors), gnu11, and C++11/17/20; through both
# <alloc.h> and <jemalloc/jemalloc.h>. The program also checks the MALLOCX_*
# encodings and runs against the built library. A second program uses what
# code written for jemalloc names besides the functions (the attribute and
# configuration macros, the je_* names under JEMALLOC_NO_DEMANGLE, the
# extent hooks types), compiled with -Werror as C and C++; it is first
# checked against Debian's <jemalloc/jemalloc.h> when that is installed, so
# it asks for nothing jemalloc 5.3 lacks. This test is about the
# compiler's flags, so it compiles its programs itself (not through the
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

# What jemalloc's header defines besides the functions.
cat >"$TMP/je.c" <<'C'
#define JEMALLOC_NO_DEMANGLE
#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <string.h>
#if !defined(JEMALLOC_H_) || !defined(JEMALLOC_HAVE_ATTR) || !defined(JEMALLOC_HAVE_ATTR_ALLOC_SIZE)
#error "a JEMALLOC_HAVE_* or JEMALLOC_H_ macro is missing"
#endif
#if !defined(JEMALLOC_HAVE_ATTR_FORMAT_GNU_PRINTF) || !defined(JEMALLOC_HAVE_ATTR_FORMAT_PRINTF)
#error "a JEMALLOC_HAVE_ATTR_FORMAT_* macro is missing"
#endif
#if !defined(JEMALLOC_OVERRIDE_MEMALIGN) || !defined(JEMALLOC_OVERRIDE_VALLOC) || LG_SIZEOF_PTR != 3
#error "a configuration macro is missing or wrong"
#endif
/* A program's own wrappers, declared with jemalloc's macros. */
JEMALLOC_EXPORT JEMALLOC_ALLOCATOR JEMALLOC_RESTRICT_RETURN void JEMALLOC_NOTHROW *
my_alloc(size_t n) JEMALLOC_ATTR(malloc) JEMALLOC_ALLOC_SIZE(1);
JEMALLOC_EXPORT JEMALLOC_ALLOCATOR JEMALLOC_RESTRICT_RETURN void JEMALLOC_NOTHROW *
my_alloc(size_t n) { return je_mallocx(n, 0); }
static size_t my_usable(JEMALLOC_USABLE_SIZE_CONST void *p) { return je_malloc_usable_size(p); }
static JEMALLOC_FORMAT_PRINTF(1, 2) int my_log(const char *fmt, ...) { return fmt[0] == 0; }
static void *hook_alloc(extent_hooks_t *h, void *addr, size_t size, size_t align, bool *zero,
                        bool *commit, unsigned ind)
{
    (void)h, (void)addr, (void)size, (void)align, (void)zero, (void)commit, (void)ind;
    return NULL;
}
static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned ind)
{
    (void)h, (void)addr, (void)size, (void)committed, (void)ind;
    return true;
}
/* Positional, in jemalloc's member order. */
static extent_hooks_t hooks = {hook_alloc, hook_dalloc, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
int main(void)
{
    int bad = 0;
    void *p = my_alloc(100), *q = je_malloc(10), *r = je_calloc(2, 8), *s = NULL;
    bad |= p == NULL || q == NULL || r == NULL || my_usable(p) < 100;
    bad |= je_sallocx(p, 0) < 100 || je_nallocx(100, 0) != 112;
    bad |= je_xallocx(p, 100, 0, 0) < 100;
    bad |= je_posix_memalign(&s, 64, 10) != 0;
    q = je_realloc(q, 20);
    je_sdallocx(p, 100, 0);
    p = je_rallocx(je_aligned_alloc(64, 64), 128, 0);
    je_dallocx(p, 0);
    je_free(q), je_free(r), je_free(s);
    je_free(je_memalign(64, 1)), je_free(je_valloc(1));
    size_t v = 0, len = sizeof(v), mib[4], miblen = 4;
    bad |= je_mallctl("arenas.page", &v, &len, NULL, 0) != 0 || v != 4096;
    bad |= je_mallctlnametomib("arenas.page", mib, &miblen) != 0;
    bad |= je_mallctlbymib(mib, miblen, &v, &len, NULL, 0) != 0 || v != 4096;
    bad |= je_malloc_message != NULL && je_malloc_conf != NULL && 0;
    (void)je_malloc_stats_print;
    bad |= hooks.alloc != hook_alloc || hooks.dalloc != hook_dalloc || hooks.merge != NULL;
    extent_alloc_t *fa = hooks.alloc;
    extent_purge_t *fp = hooks.purge_lazy;
    extent_split_t *fs = hooks.split;
    (void)fa, (void)fp, (void)fs;
    bad |= my_log("%d", 1) != 0;
    if (bad)
        printf("FAIL: a je_* call gave a wrong result\n");
    return bad;
}
C
cp "$TMP/je.c" "$TMP/je.cc"
jeflags="-Wall -Wextra -Werror -Wno-unused-function"
if [ -f /usr/include/jemalloc/jemalloc.h ]; then
    for lang in "cc -std=gnu11" "c++ -std=c++17"; do
        src=$TMP/je.c
        case "$lang" in c++*) src=$TMP/je.cc ;; esac
        $lang $jeflags -fsyntax-only "$src" 2>"$TMP/err" ||
            fail "the program does not compile against jemalloc's own header with '$lang': $(head -5 "$TMP/err")"
    done
    echo "ok: the jemalloc names program compiles against /usr/include/jemalloc/jemalloc.h"
fi
for lang in "cc -std=gnu11" "cc -std=c11" "c++ -std=c++11" "c++ -std=c++17" "c++ -std=c++20"; do
    src=$TMP/je.c
    case "$lang" in c++*) src=$TMP/je.cc ;; esac
    n=$((n + 1))
    exe=$TMP/h$n
    $lang $jeflags -I"$ROOT/include" "$src" -o "$exe" -L"$ROOT/build" -lalloc \
        -Wl,-rpath,"$ROOT/build" 2>"$TMP/err" ||
        fail "jemalloc's names do not compile with '$lang' -Werror: $(head -5 "$TMP/err")"
    "$exe" || fail "jemalloc's names, '$lang': the program failed"
    echo "ok: JEMALLOC_* macros, je_* names and extent hooks with $lang"
done
exit 0
