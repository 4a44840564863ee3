#!/usr/bin/env bash
# deb.sh BUILD VERSION: builds BUILD/liballoc_<VERSION>-1_<arch>.deb with
# dpkg-deb from BUILD/deb/root, which `make deb` has filled with
# `make install PREFIX=/usr` (library, headers, alloc.pc, jeprof-c, manuals).
# Adds what Debian expects of a package: compressed manuals, a copyright
# file and changelog, the control file (Depends computed by dpkg-shlibdeps
# from the binaries' NEEDED entries), shlibs, an ldconfig trigger and
# md5sums. Runs lintian when installed and prints its tags (not fatal;
# LINTIAN=none skips it).
set -eu
build=$1 version=$2
root=$(cd "$build/deb/root" 2>/dev/null && pwd) || { echo "error: '$build/deb/root' missing (run make deb)" >&2; exit 1; }
pkg=liballoc
# Who the package names as its maintainer (control file and changelog);
# set DEB_MAINTAINER="Name <address>" when publishing it.
maint=${DEB_MAINTAINER:-liballoc developers <liballoc@localhost>}
debver=$version-1
arch=$(dpkg --print-architecture)
out=$build/${pkg}_${debver}_${arch}.deb
[ -x "$root/usr/bin/jeprof-c" ] || { echo "error: '$root' holds no installed tree" >&2; exit 1; }

# Manuals are compressed in a package (Debian policy 12.1); dates dropped
# (-n) so the package is reproducible.
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9nf {} +

# Stripped as Debian ships binaries: the library keeps its dynamic symbols
# (what programs link to) and its unwind tables; the archive loses only
# debug information.
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root"/usr/lib/liballoc.so.*.*
strip --strip-debug "$root/usr/lib/liballoc.a"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/jeprof-c"

doc=$root/usr/share/doc/$pkg
install -d "$doc"
cat >"$doc/copyright" <<EOT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: liballoc
Comment: liballoc, a jemalloc-compatible allocator with a built-in sampled
 heap profiler, and its analysis tool jeprof-c. Written from jemalloc's
 documented interface and file formats; contains no jemalloc code.

Files: *
Copyright: 2026 the liballoc developers
License: unspecified
 The project has not chosen a licence yet; this package is for local use.
EOT
date=$(git -C "$(dirname "$0")/.." log -1 --format=%cD 2>/dev/null || date -R)
printf '%s (%s) unstable; urgency=medium\n\n  * Package built from the source tree (make deb).\n\n -- %s  %s\n' \
    "$pkg" "$debver" "$maint" "$date" | gzip -9n >"$doc/changelog.Debian.gz"

# Depends from the binaries' NEEDED libraries (dpkg-shlibdeps reads
# debian/control, so it runs in a scratch source tree).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$scratch/debian/control"
bins=$(cd "$root" && find usr -type f \( -name 'liballoc.so.*' -o -path 'usr/bin/*' \) -printf "$root/%p\n")
depends=$(cd "$scratch" && dpkg-shlibdeps -O $bins 2>"$scratch/err" | sed -n 's/^shlibs:Depends=//p') ||
    { cat "$scratch/err" >&2; exit 1; }
[ -n "$depends" ] || { cat "$scratch/err" >&2; echo "error: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# dpkg-shlibdeps takes libc6's version from the symbols used; the packed
# relative relocations of liballoc.so (DT_RELR, liballoc.mk) need glibc
# 2.36's loader too, a version (GLIBC_ABI_DT_RELR) with no symbol in it.
if readelf -V $bins | grep -q 'Name: GLIBC_ABI_DT_RELR'; then
    libc_min=$(echo "$depends" | grep -o 'libc6 (>= [^)]*)' | sed 's/.*>= //; s/)//')
    if [ -z "$libc_min" ]; then
        depends="libc6 (>= 2.36), $depends"
    elif dpkg --compare-versions "$libc_min" lt 2.36; then
        depends=$(echo "$depends" | sed 's/libc6 (>= [^)]*)/libc6 (>= 2.36)/')
    fi
fi
# The profiler's libraries, which liballoc.so loads with dlopen only when
# a process profiles (libprof/dynload.h): not NEEDED, so not in Depends.
profdeps="libunwind8, zlib1g, libprotobuf-c1"
# Static linking (pkg-config --static --libs alloc) needs these -dev packages.
devdeps="libhttp-parser-dev, libunwind-dev, libprotobuf-c-dev, zlib1g-dev, liblzma-dev"

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOT
Package: $pkg
Version: $debver
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: $depends
Recommends: pkg-config, $profdeps
Suggests: $devdeps, graphviz, binutils
Section: libs
Priority: optional
Homepage: https://localhost/liballoc
Description: jemalloc-compatible malloc with a built-in sampled heap profiler
 liballoc is a general-purpose memory allocator exporting the C and C++
 allocation functions and jemalloc 5.3's API (mallocx, mallctl,
 malloc_stats_print), with NUMA-aware arenas, gradual decay of freed pages
 and a sampled heap profiler that writes jemalloc heap_v2 and pprof dumps.
 .
 This package holds the shared and static library (use LD_PRELOAD or
 -lalloc), the header alloc.h, the pkg-config file alloc.pc, the
 jeprof-c command that reads heap profiles, and the manuals liballoc(3)
 and jeprof-c(1).
EOT
echo "$pkg 0 $pkg (>= $version)" >"$root/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$root/DEBIAN/triggers"
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/"*

dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
# LINTIAN=none skips it (tests/apps/deb.sh: lintian takes ~20 s).
if [ "${LINTIAN:-lintian}" != none ] && command -v "${LINTIAN:-lintian}" >/dev/null 2>&1; then
    echo "lintian tags (informational):"
    "${LINTIAN:-lintian}" --tag-display-limit 0 "$out" 2>&1 | grep -v 'running with root privileges' | sed 's/^/  /' || true
fi
