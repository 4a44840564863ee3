#!/usr/bin/env bash
# Switching a program built against jemalloc to liballoc with one change
# (README "Switching from jemalloc"). The program includes
# <jemalloc/jemalloc.h> and uses mallocx, mallctl("stats.allocated") and
# malloc_stats_print; it reports which allocator serves it through
# mallctl("liballoc.version") (ENOENT under jemalloc) and "version".
#  1. as built against Debian's libjemalloc-dev (pkg-config jemalloc): jemalloc;
#  2. `pkg-config jemalloc` -> `pkg-config alloc`: liballoc;
#  3. `-ljemalloc` -> `-lalloc` (jemalloc's own header): liballoc;
#  4. nothing changed, after `make install-jemalloc-compat`: liballoc, both
#     through `pkg-config jemalloc` and through plain -ljemalloc.
# The prefixes are temporary: LIBRARY_PATH/CPATH/LD_LIBRARY_PATH stand for
# the compiler's and loader's default paths that a /usr/local install is in.
. "$(dirname "$0")/lib.sh"
need cc
need pkg-config
version=$(cat "$ROOT/VERSION")

cat >"$TMP/jm.c" <<'C'
#include <jemalloc/jemalloc.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
static size_t stats_bytes;
static int stats_framed;
static void cb(void *opaque, const char *s)
{
    (void)opaque;
    stats_bytes += strlen(s);
    if (strstr(s, "Begin jemalloc statistics"))
        stats_framed = 1;
}
int main(void)
{
    void *p = mallocx(1 << 20, MALLOCX_ZERO);
    uint64_t e = 1;
    size_t allocated = 0, len = sizeof(allocated);
    mallctl("epoch", NULL, NULL, &e, sizeof(e));
    if (!p || mallctl("stats.allocated", &allocated, &len, NULL, 0) != 0 || allocated < (1u << 20))
        return 1;
    malloc_stats_print(cb, NULL, NULL);
    if (!stats_framed || stats_bytes < 500)
        return 2;
    const char *jv = NULL, *ours = NULL;
    len = sizeof(jv);
    mallctl("version", &jv, &len, NULL, 0);
    len = sizeof(ours);
    int err = mallctl("liballoc.version", &ours, &len, NULL, 0);
    if (err == 0)
        printf("liballoc %s (version %s)\n", ours, jv);
    else if (err == ENOENT)
        printf("jemalloc %s\n", jv);
    else
        return 3;
    dallocx(p, 0);
    return 0;
}
C
P=$TMP/prefix Q=$TMP/compat
make --no-print-directory -s -C "$ROOT" install PREFIX="$P" >"$TMP/make.log" 2>&1 ||
    { cat "$TMP/make.log"; fail "make install"; }
make --no-print-directory -s -C "$ROOT" install-jemalloc-compat PREFIX="$Q" >"$TMP/make.log" 2>&1 ||
    { cat "$TMP/make.log"; fail "make install-jemalloc-compat"; }
want="liballoc $version (version 5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c)"

check() { # label exe expected
    local out
    out=$("$2") || fail "$1: the program failed (exit $?)"
    [ "$out" = "$3" ] || fail "$1: printed '$out', expected '$3'"
    echo "ok   $1: $out"
}

# shellcheck disable=SC2046
if pkg-config --exists jemalloc 2>/dev/null; then
    cc -o "$TMP/jm_je" "$TMP/jm.c" $(pkg-config --cflags --libs jemalloc) || fail "building against jemalloc"
    check "built with pkg-config jemalloc (Debian's)" "$TMP/jm_je" "jemalloc 5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
    cc -o "$TMP/jm_lje" "$TMP/jm.c" -ljemalloc || fail "building with -ljemalloc"
    check "built with -ljemalloc (Debian's)" "$TMP/jm_lje" "jemalloc 5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
    # One change: -ljemalloc -> -lalloc (jemalloc's header still included).
    LIBRARY_PATH=$P/lib cc -o "$TMP/jm_lalloc" "$TMP/jm.c" -lalloc || fail "building with -lalloc"
    LD_LIBRARY_PATH=$P/lib check "-ljemalloc -> -lalloc" "$TMP/jm_lalloc" "$want"
else
    echo "skip Debian's libjemalloc-dev is not installed: no jemalloc build to compare with"
fi

# One change: pkg-config jemalloc -> pkg-config alloc.
export PKG_CONFIG_PATH=$P/lib/pkgconfig
cc -o "$TMP/jm_pc" "$TMP/jm.c" $(pkg-config --cflags --libs alloc) || fail "building with pkg-config alloc"
LD_LIBRARY_PATH=$P/lib check "pkg-config jemalloc -> pkg-config alloc" "$TMP/jm_pc" "$want"

# No change at all once the compat names are installed.
export PKG_CONFIG_PATH=$Q/lib/pkgconfig
[ "$(pkg-config --variable=prefix jemalloc)" = "$Q" ] || fail "jemalloc.pc is not the compat one"
# A build that checks jemalloc's version (PKG_CHECK_MODULES([JE], [jemalloc >= 5.0]))
# must still pass: the compat file answers the API's release, spelled as jemalloc does.
[ "$(pkg-config --modversion jemalloc)" = 5.3.0_0 ] ||
    fail "compat jemalloc.pc version '$(pkg-config --modversion jemalloc)', expected jemalloc's 5.3.0_0"
pkg-config --atleast-version=5.0 jemalloc || fail "pkg-config --atleast-version=5.0 jemalloc fails on the compat file"
pkg-config --print-errors 'jemalloc >= 5.3.0' || fail "'jemalloc >= 5.3.0' not satisfied by the compat file"
echo "ok   compat jemalloc.pc: version $(pkg-config --modversion jemalloc), 'jemalloc >= 5.0' holds"
cc -o "$TMP/jm_cpc" "$TMP/jm.c" $(pkg-config --cflags --libs jemalloc) || fail "building with the compat jemalloc.pc"
LD_LIBRARY_PATH=$Q/lib check "install-jemalloc-compat, pkg-config jemalloc unchanged" "$TMP/jm_cpc" "$want"
CPATH=$Q/include LIBRARY_PATH=$Q/lib cc -o "$TMP/jm_cl" "$TMP/jm.c" -ljemalloc || fail "building with the compat -ljemalloc"
readelf -d "$TMP/jm_cl" | grep -q 'NEEDED.*\[liballoc\.so\.0\]' || fail "compat -ljemalloc did not link liballoc.so.0"
LD_LIBRARY_PATH=$Q/lib check "install-jemalloc-compat, -ljemalloc unchanged" "$TMP/jm_cl" "$want"
