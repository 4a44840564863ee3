#!/usr/bin/env bash
# make deb: the package installs with dpkg -i; a program run with the
# installed library preloaded (prof:true) writes a heap profile that the
# installed jeprof-c reads (the allocating function on top, about the bytes
# it holds); a program links through the installed alloc.pc; the manuals
# are found by man; dpkg -r then leaves none of the package's files behind.
# Root only (skip otherwise), and only on a system where no liballoc
# package is installed; whatever happens, the package is removed again.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
need dpkg
need dpkg-deb
need dpkg-shlibdeps
need cc
need flock
need readelf
# Suites run side by side on one machine (several worktrees) would race on
# the one system-wide package: the check below, dpkg -i and dpkg -r of one
# run between another's. One deb test at a time (the lock goes with this
# process); 10 minutes at most for the other to finish.
exec 9>/var/lock/liballoc-deb-test.lock || fail "cannot open /var/lock/liballoc-deb-test.lock"
flock -w 600 9 || fail "another deb test held /var/lock/liballoc-deb-test.lock for 10 minutes"
dpkg-query -W -f='${Status}' liballoc 2>/dev/null | grep -q 'install ok' &&
    skip "a liballoc package is already installed; not touching it"

LINTIAN=none make --no-print-directory -s -C "$ROOT" deb >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "make deb"; }
deb=$(grep '\.deb$' "$TMP/make.log" | tail -n 1)
case $deb in /*) ;; *) deb=$ROOT/$deb ;; esac
[ -f "$deb" ] || fail "make deb printed no package path"
version=$(cat "$ROOT/VERSION")
[ "$(dpkg-deb -f "$deb" Package)" = liballoc ] && [ "$(dpkg-deb -f "$deb" Version)" = "$version-1" ] ||
    fail "control: $(dpkg-deb -f "$deb" Package Version)"
# libunwind is loaded with dlopen when a process profiles (libprof/dynload.h):
# recommended, not a NEEDED library's Depends.
dpkg-deb -f "$deb" Recommends | grep -q libunwind8 ||
    fail "Recommends lacks libunwind8: $(dpkg-deb -f "$deb" Recommends)"
# liballoc.so's packed relocations (DT_RELR) need glibc 2.36's loader
# (version GLIBC_ABI_DT_RELR): Depends must say so, a symbol-less
# requirement dpkg-shlibdeps does not see.
dpkg-deb -x "$deb" "$TMP/x" || fail "dpkg-deb -x"
if readelf -V "$TMP/x/usr/lib/liballoc.so.0" | grep -q 'Name: GLIBC_ABI_DT_RELR'; then
    libc_min=$(dpkg-deb -f "$deb" Depends | grep -o 'libc6 (>= [^)]*)' | sed 's/.*>= //; s/)//')
    [ -n "$libc_min" ] && dpkg --compare-versions "$libc_min" ge 2.36 ||
        fail "liballoc.so needs GLIBC_ABI_DT_RELR (glibc 2.36) but Depends says: $(dpkg-deb -f "$deb" Depends)"
fi

installed=0
remove_pkg() { [ "$installed" = 1 ] && dpkg -r liballoc >/dev/null 2>&1; installed=0; }
cleanup_hooks="remove_pkg; $cleanup_hooks"
dpkg -i "$deb" >"$TMP/dpkg.log" 2>&1 || { installed=1; cat "$TMP/dpkg.log"; fail "dpkg -i"; }
installed=1
dpkg -L liballoc >"$TMP/files"
echo "ok   dpkg -i $(basename "$deb") ($(wc -l <"$TMP/files") paths)"

LIBSO=/usr/lib/liballoc.so.0
[ -e "$LIBSO" ] || fail "$LIBSO not installed"

# Depends against ldd of the installed binaries: the package of every
# library they load directly (NEEDED) is in Depends, every Depends entry is
# such a package, and whatever else ldd lists comes with those packages'
# own dependencies (so dpkg -i on a bare system leaves nothing unresolved).
# The package owning a library path (with /usr merged, ldd says /lib/... and
# dpkg knows /usr/lib/...; the soname link may be the package's or not).
pkg_of() {
    local c
    for c in "$1" "/usr$1" "$(readlink -f "$1")"; do
        dpkg -S "$c" 2>/dev/null | grep -v '^diversion' | head -n 1 | sed 's/:.*//' | grep . && return
    done
}
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' | grep . | sort -u)
needed_pkgs="" all_pkgs=""
for f in "$(readlink -f "$LIBSO")" /usr/bin/jeprof-c; do
    ldd "$f" >"$TMP/ldd" || fail "ldd $f"
    grep -q 'not found' "$TMP/ldd" && fail "ldd $f: $(grep 'not found' "$TMP/ldd")"
    for so in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        # "libx.so.1 => /path (addr)", or "/path/ld-linux-x86-64.so.2 (addr)"
        # for the dynamic loader, which ldd lists by its path.
        path=$(awk -v s="$so" '($1 == s && $2 == "=>") {print $3; exit}
            substr($1, 1, 1) == "/" && substr($1, length($1) - length(s)) == "/" s {print $1; exit}' "$TMP/ldd")
        [ -n "$path" ] || fail "$f needs $so, which ldd does not resolve"
        p=$(pkg_of "$path")
        [ -n "$p" ] || fail "$f needs $so ($path), owned by no package"
        needed_pkgs="$needed_pkgs $p"
    done
    for path in $(awk '$2 == "=>" {print $3}' "$TMP/ldd"); do all_pkgs="$all_pkgs $(pkg_of "$path")"; done
done
needed_pkgs=$(echo $needed_pkgs | tr ' ' '\n' | sort -u)
[ "$needed_pkgs" = "$deps" ] ||
    fail "Depends ($(echo $deps)) differs from the packages of the NEEDED libraries ($(echo $needed_pkgs))"
closure=$deps todo=$deps
while [ -n "$todo" ]; do
    next=""
    for p in $todo; do
        for q in $(dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$p" 2>/dev/null | tr ',' '\n' |
            sed 's/(.*//; s/|.*//; s/:any//; s/ //g' | grep .); do
            echo "$closure" | grep -qx "$q" || { closure=$(printf '%s\n%s' "$closure" "$q"); next="$next $q"; }
        done
    done
    todo=$next
done
for p in $(echo $all_pkgs | tr ' ' '\n' | sort -u); do
    echo "$closure" | grep -qx "$p" || fail "ldd loads a library of $p, which Depends does not bring"
done
echo "ok   Depends = packages of the NEEDED libraries ($(echo $deps)); ldd's other libraries come with them"
/usr/bin/jeprof-c --version | grep -q "^jeprof-c $version " || fail "installed jeprof-c --version"
if command -v man >/dev/null 2>&1; then
    man -w 3 liballoc | grep -q '^/usr/share/man/man3/liballoc.3.gz$' || fail "man -w 3 liballoc"
    man -w 1 jeprof-c | grep -q '^/usr/share/man/man1/jeprof-c.1.gz$' || fail "man -w 1 jeprof-c"
fi

# A program that knows nothing of liballoc, run under the installed library.
cat >"$TMP/hold.c" <<'C'
#include <stdlib.h>
#include <string.h>
static void *blocks[128];
__attribute__((noinline)) void hold_blocks(void)
{
    for (int i = 0; i < 128; i++) {
        blocks[i] = malloc(64 << 10); /* 8 MiB in all, live at exit */
        memset(blocks[i], 1, 64 << 10);
    }
}
int main(void)
{
    hold_blocks();
    return blocks[5] == NULL;
}
C
cc -g -O1 -o "$TMP/hold" "$TMP/hold.c" || fail "building hold"
maps=$(LD_PRELOAD=$LIBSO cat /proc/self/maps)
echo "$maps" | grep -q '/usr/lib/liballoc.so.0.1.0' || fail "the preloaded process does not map the installed library"
MALLOC_CONF="prof:true,prof_final:true,prof_prefix:$TMP/hold,lg_prof_sample:12" LD_PRELOAD=$LIBSO \
    "$TMP/hold" || fail "hold failed under the installed library"
dump=$(ls "$TMP"/hold.*.f.heap 2>/dev/null | head -n 1)
[ -n "$dump" ] || fail "no final dump from the installed library"
/usr/bin/jeprof-c --show_bytes "$TMP/hold" "$dump" >"$TMP/report" 2>"$TMP/report.err" ||
    { cat "$TMP/report.err"; fail "installed jeprof-c could not read $dump"; }
top=$(awk '/^ *[0-9]/ { print $NF; exit }' "$TMP/report")
[ "$top" = hold_blocks ] || { cat "$TMP/report"; fail "top site is '$top', not hold_blocks"; }
total=$(sed -n 's/^Total: \([0-9]*\) B$/\1/p' "$TMP/report")
[ -n "$total" ] && [ "$total" -ge 6000000 ] && [ "$total" -le 11000000 ] ||
    { cat "$TMP/report"; fail "total $total B is not about 8 MiB"; }
echo "ok   preloaded /usr/lib/liballoc.so.0 profiled hold; installed jeprof-c: hold_blocks on top, Total $total B"

# The development files: a program through the installed alloc.pc.
if command -v pkg-config >/dev/null 2>&1; then
    printf '#include <jemalloc/jemalloc.h>\n#include <stdio.h>\nint main(void){const char*v;size_t l=sizeof(v);\nif(mallctl("liballoc.version",&v,&l,NULL,0))return 1;puts(v);return 0;}\n' >"$TMP/v.c"
    # shellcheck disable=SC2046
    env -u PKG_CONFIG_PATH cc -o "$TMP/v" "$TMP/v.c" $(env -u PKG_CONFIG_PATH pkg-config --cflags --libs alloc) ||
        fail "linking with the installed alloc.pc"
    [ "$("$TMP/v")" = "$version" ] || fail "linked program answers liballoc.version '$("$TMP/v")'"
    echo "ok   a program linked through the installed alloc.pc runs on liballoc $version"
fi

dpkg -r liballoc >"$TMP/dpkg.log" 2>&1 || { cat "$TMP/dpkg.log"; fail "dpkg -r"; }
installed=0
left=""
while read -r f; do
    [ -d "$f" ] && [ ! -L "$f" ] && continue # shared directories (/usr/lib) stay
    { [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
done <"$TMP/files"
[ -z "$left" ] || fail "left after dpkg -r:$left"
[ -d /usr/include/liballoc ] && fail "/usr/include/liballoc left after dpkg -r"
dpkg-query -W -f='${Status}' liballoc 2>/dev/null | grep -q 'install ok' && fail "still installed"
echo "ok   dpkg -r liballoc removed all $(wc -l <"$TMP/files") paths"
