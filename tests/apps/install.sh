#!/usr/bin/env bash
# make install from a clean prefix: the library (liballoc.so.<version> with
# its soname and development symlinks, liballoc.a), the headers, alloc.pc,
# jeprof-c and the manuals land under PREFIX (and under DESTDIR when given);
# through `pkg-config alloc` a program links dynamically, and with
# `pkg-config --static --libs alloc` fully statically (-static), and both run
# on liballoc: mallctl("liballoc.version") answers the VERSION file's release
# and stats.allocated counts a 4 MiB block; a C++ program that throws links
# -static the same way (liballoc's operator new, exceptions unwinding through
# libgcc_eh next to libunwind). <jemalloc/jemalloc.h> resolves to liballoc's
# header with alloc.pc's flags.
. "$(dirname "$0")/lib.sh"
need cc
need pkg-config
need readelf
version=$(cat "$ROOT/VERSION")

# DESTDIR: everything lands below it, with PREFIX's paths inside the files.
make --no-print-directory -s -C "$ROOT" install DESTDIR="$TMP/dest" PREFIX=/opt/liballoc \
    >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "make install DESTDIR=... failed"; }
D=$TMP/dest/opt/liballoc
for f in lib/liballoc.so.$version lib/liballoc.a include/alloc.h include/liballoc/jemalloc/jemalloc.h \
    lib/pkgconfig/alloc.pc bin/jeprof-c share/man/man1/jeprof-c.1 share/man/man3/liballoc.3; do
    [ -f "$D/$f" ] || fail "make install DESTDIR: $f missing"
done
[ "$(readlink "$D/lib/liballoc.so.0")" = "liballoc.so.$version" ] || fail "liballoc.so.0 symlink"
[ "$(readlink "$D/lib/liballoc.so")" = "liballoc.so.0" ] || fail "liballoc.so symlink"
readelf -d "$D/lib/liballoc.so.$version" | grep -q 'SONAME.*\[liballoc\.so\.0\]' || fail "soname is not liballoc.so.0"
grep -qx 'prefix=/opt/liballoc' "$D/lib/pkgconfig/alloc.pc" || fail "alloc.pc prefix under DESTDIR"
[ -z "$(find "$TMP/dest" -mindepth 1 -maxdepth 1 ! -name opt)" ] || fail "files outside DESTDIR/PREFIX"
echo "ok   make install DESTDIR=... PREFIX=/opt/liballoc: files, soname liballoc.so.0, symlinks"

# Relocation: a tree staged for /usr (as `make deb` does), moved elsewhere,
# is found through `pkg-config --define-prefix` (alloc.pc's paths hang off
# ${prefix}).
make --no-print-directory -s -C "$ROOT" install DESTDIR="$TMP/stage" PREFIX=/usr \
    >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "make install DESTDIR=... PREFIX=/usr failed"; }
grep -qx 'libdir=${prefix}/lib' "$TMP/stage/usr/lib/pkgconfig/alloc.pc" || fail "alloc.pc libdir is not relative to \${prefix}"
mv "$TMP/stage/usr" "$TMP/moved"
R=$TMP/moved
flags=$(PKG_CONFIG_PATH=$R/lib/pkgconfig pkg-config --define-prefix --cflags --libs alloc | sed "s/ *$//") ||
    fail "pkg-config --define-prefix on the moved tree"
[ "$flags" = "-I$R/include -I$R/include/liballoc -L$R/lib -lalloc" ] ||
    fail "pkg-config --define-prefix after relocation: '$flags'"
printf '#include <jemalloc/jemalloc.h>\n#include <stdio.h>\nint main(void){const char*v;size_t l=sizeof(v);\nif(mallctl("liballoc.version",&v,&l,NULL,0))return 1;puts(v);return 0;}\n' >"$TMP/v.c"
# shellcheck disable=SC2086
cc -o "$TMP/v" "$TMP/v.c" $flags -Wl,-rpath,"$R/lib" || fail "linking against the moved tree"
[ "$("$TMP/v")" = "$version" ] || fail "program linked against the moved tree: '$("$TMP/v")'"
echo "ok   moved tree found with pkg-config --define-prefix: $flags"

# The loader's cache: a real install into a directory the loader's
# configuration lists (as /usr/local/lib is) runs ldconfig, or the program
# linked with -lalloc would not start; a staged one (DESTDIR) or one into
# another directory does not. A stand-in ldconfig on PATH plays the system's
# (it lists FAKE_LDDIR as configured and logs the cache rebuilds).
mkdir -p "$TMP/fakebin" "$TMP/ldc/lib"
cat >"$TMP/fakebin/ldconfig" <<'SH'
#!/bin/sh
if [ "$1" = -v ]; then printf '/lib: (from test)\n%s: (from test)\n' "$FAKE_LDDIR"; exit 0; fi
echo "ldconfig $*" >>"$FAKE_LDLOG"
SH
chmod +x "$TMP/fakebin/ldconfig"
ldc_install() { # LDDIR [make args...]: prints how many times ldconfig ran
    local lddir=$1
    shift
    rm -f "$TMP/ldc.log"
    FAKE_LDDIR=$lddir FAKE_LDLOG=$TMP/ldc.log PATH=$TMP/fakebin:$PATH \
        make --no-print-directory -s -C "$ROOT" install "$@" >"$TMP/make.log" 2>&1 ||
        { cat "$TMP/make.log"; fail "make install $*"; }
    cat "$TMP/ldc.log" 2>/dev/null | wc -l
}
if [ "$(id -u)" = 0 ]; then
    [ "$(ldc_install "$TMP/ldc/lib" PREFIX="$TMP/ldc")" = 1 ] || fail "install into a configured directory did not run ldconfig"
    grep -q "^ldconfig: $TMP/ldc/lib is in the loader's cache" "$TMP/make.log" || fail "no ldconfig message: $(cat "$TMP/make.log")"
    [ "$(ldc_install "$TMP/ldc/lib" PREFIX="$TMP/ldc" DESTDIR="$TMP/ldc-stage")" = 0 ] || fail "a DESTDIR install ran ldconfig"
    [ "$(ldc_install /elsewhere PREFIX="$TMP/ldc")" = 0 ] || fail "install into an unconfigured directory ran ldconfig"
    # ... and says how a program will find the library there.
    grep -q "^note: the dynamic loader does not search $TMP/ldc/lib: .*needs" "$TMP/make.log" &&
        grep -q -- "-Wl,-rpath,$TMP/ldc/lib" "$TMP/make.log" ||
        fail "no loader note for an unconfigured directory: $(cat "$TMP/make.log")"
    echo "ok   make install runs ldconfig for a directory the loader is configured with, only then"
fi

# A real prefix, used through pkg-config.
P=$TMP/prefix
make --no-print-directory -s -C "$ROOT" install PREFIX="$P" >"$TMP/make.log" 2>&1 ||
    { cat "$TMP/make.log"; fail "make install PREFIX=$P failed"; }
export PKG_CONFIG_PATH=$P/lib/pkgconfig
[ "$(pkg-config --modversion alloc)" = "$version" ] || fail "pkg-config --modversion alloc"
"$P/bin/jeprof-c" --version | grep -q "^jeprof-c $version " || fail "installed jeprof-c --version"

cat >"$TMP/prog.c" <<'C'
#include <jemalloc/jemalloc.h>
#ifndef ALLOC_H
#error "<jemalloc/jemalloc.h> is not liballoc's header"
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    const char *v = NULL;
    size_t len = sizeof(v);
    if (mallctl("liballoc.version", &v, &len, NULL, 0) != 0) {
        printf("no liballoc.version\n");
        return 1;
    }
    void *p = mallocx(4 << 20, MALLOCX_ZERO);
    uint64_t e = 1;
    size_t allocated = 0, alen = sizeof(allocated);
    mallctl("epoch", NULL, NULL, &e, sizeof(e));
    if (mallctl("stats.allocated", &allocated, &alen, NULL, 0) != 0)
        return 1;
    printf("liballoc %s allocated>=4MiB %d\n", v, allocated >= (4u << 20));
    dallocx(p, 0);
    return 0;
}
C
# Dynamic.
# shellcheck disable=SC2046
cc -o "$TMP/prog_dyn" "$TMP/prog.c" $(pkg-config --cflags --libs alloc) -Wl,-rpath,"$P/lib" ||
    fail "dynamic link through pkg-config --libs alloc"
readelf -d "$TMP/prog_dyn" | grep -q 'NEEDED.*\[liballoc\.so\.0\]' || fail "prog_dyn does not need liballoc.so.0"
out=$("$TMP/prog_dyn") || fail "prog_dyn: $out"
[ "$out" = "liballoc $version allocated>=4MiB 1" ] || fail "prog_dyn printed '$out'"
echo "ok   dynamic program through pkg-config alloc: $out"

# Static: every library liballoc.a needs must come from pkg-config --static.
# shellcheck disable=SC2046
cc -static -o "$TMP/prog_static" "$TMP/prog.c" $(pkg-config --cflags alloc) \
    $(pkg-config --static --libs alloc) 2>"$TMP/ld.log" ||
    { cat "$TMP/ld.log"; fail "static link with pkg-config --static --libs alloc: $(pkg-config --static --libs alloc)"; }
readelf -l "$TMP/prog_static" | grep -q INTERP && fail "prog_static is not static"
out=$("$TMP/prog_static" 2>/dev/null) || fail "prog_static: $out"
[ "$out" = "liballoc $version allocated>=4MiB 1" ] || fail "prog_static printed '$out'"
echo "ok   static program (-static) through pkg-config --static --libs alloc: $out"
# A static program never gets a shared C library mapped beside its own
# (liballoc skips libnuma's dlopen there, numa:true or not).
cat >"$TMP/maps.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
    void *p = malloc(100);
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int shared = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "libc.so") || strstr(line, "libnuma") || strstr(line, "ld-linux"))
            shared = 1;
    free(p);
    puts(shared ? "shared" : "static only");
    return 0;
}
C
# shellcheck disable=SC2046
cc -static -o "$TMP/maps_static" "$TMP/maps.c" $(pkg-config --cflags alloc) \
    $(pkg-config --static --libs alloc) 2>"$TMP/ld.log" || { cat "$TMP/ld.log"; fail "static link of maps.c"; }
out=$(MALLOC_CONF=numa:true "$TMP/maps_static" 2>&1) || fail "maps_static: $out"
[ "$out" = "static only" ] || fail "a static program with numa:true maps a shared C library or libnuma: '$out'"
echo "ok   static program: no shared libc or libnuma mapped (numa:true)"

# Static C++: operator new from liballoc.a, and an exception still unwinds.
if command -v g++ >/dev/null 2>&1; then
    cat >"$TMP/prog.cc" <<'CC'
#include <alloc.h>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>
static void thrower(const std::string &s) { throw std::runtime_error("thrown " + s); }
int main()
{
    auto *v = new std::vector<int>(1 << 20); /* 4 MiB through operator new */
    uint64_t e = 1;
    size_t allocated = 0, len = sizeof(allocated);
    mallctl("epoch", nullptr, nullptr, &e, sizeof(e));
    mallctl("stats.allocated", &allocated, &len, nullptr, 0);
    delete v;
    try {
        thrower(std::string(40, 'x').substr(0, 3));
    } catch (const std::exception &ex) {
        std::printf("%s allocated>=4MiB %d\n", ex.what(), allocated >= (4u << 20));
        return 0;
    }
    return 1;
}
CC
    # shellcheck disable=SC2046
    g++ -static -o "$TMP/prog_cxx" "$TMP/prog.cc" $(pkg-config --cflags alloc) \
        $(pkg-config --static --libs alloc) -Wl,--trace-symbol=_Znwm 2>"$TMP/ld.log" ||
        { cat "$TMP/ld.log"; fail "static C++ link with pkg-config --static --libs alloc"; }
    grep -q 'liballoc\.a(new_delete\.o): definition of _Znwm' "$TMP/ld.log" ||
        fail "operator new of prog_cxx is not liballoc's: $(cat "$TMP/ld.log")"
    out=$(MALLOC_CONF=prof:true,lg_prof_sample:0 "$TMP/prog_cxx" 2>/dev/null) || fail "prog_cxx: $out"
    [ "$out" = "thrown xxx allocated>=4MiB 1" ] || fail "prog_cxx printed '$out'"
    echo "ok   static C++ program (g++ -static), sampling every allocation: $out"
fi
