#!/usr/bin/env bash
# Layering: liballoc and libprof meet at one header, liballoc/prof_hooks.h
# (DESIGN.md "What crosses which line", issue 13). Fails when
#  - a libprof file includes a liballoc header other than prof_hooks.h,
#    options.h (the parsed MALLOC_CONF, read-only after boot; options.def
#    comes with it) and bss_large.h (a placement macro);
#  - a liballoc file includes any libprof header;
#  - the seam itself (prof_hooks.h) or options.h includes a project header,
#    which would smuggle internals in transitively.
# Any include form counts ("x.h", <x.h>, "../liballoc/x.h"): the file name
# is matched against the headers of each directory. SRC=dir checks another
# tree (used to show the check fails on the tree before the seam).
set -u
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SRC=${SRC:-$ROOT}
cd "$SRC" || { echo "FAIL: no source tree at $SRC"; exit 1; }
[ -f liballoc/prof_hooks.h ] || { echo "FAIL: liballoc/prof_hooks.h missing"; exit 1; }

bad=0
# includes FILE: the base names of the headers FILE includes, one a line.
includes() {
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^">]*\)[">].*/\1/p' "$1" |
        sed 's,.*/,,'
}
in_dir() { [ -f "$1/$2" ]; } # dir header

for f in libprof/*.c libprof/*.h libprof/*.cc; do
    [ -f "$f" ] || continue
    for h in $(includes "$f"); do
        case "$h" in prof_hooks.h | options.h | bss_large.h) continue ;; esac
        # A libprof header of the same name is libprof's own.
        if in_dir liballoc "$h" && ! in_dir libprof "$h"; then
            echo "layering: $f includes liballoc's $h (only prof_hooks.h, options.h allowed)"
            bad=1
        fi
    done
done
for f in liballoc/*.c liballoc/*.h liballoc/*.cc; do
    [ -f "$f" ] || continue
    for h in $(includes "$f"); do
        if in_dir libprof "$h" && ! in_dir liballoc "$h"; then
            echo "layering: $f includes libprof's $h (liballoc knows the profiler only through prof_hooks.h)"
            bad=1
        fi
    done
done
for f in liballoc/prof_hooks.h liballoc/options.h liballoc/bss_large.h; do
    for h in $(includes "$f"); do
        [ "$f:$h" = liballoc/options.h:options.def ] && continue
        if in_dir liballoc "$h" || in_dir libprof "$h"; then
            echo "layering: $f includes $h (the seam must stand alone)"
            bad=1
        fi
    done
done
# The profiler reads no allocator-internal field: the opaque types stay opaque.
if grep -nE '(->|\.)(prof_next|owner_tag|sampled_rec|nsampled|sampled_overflow)\b' \
    libprof/*.c libprof/*.h; then
    echo "layering: libprof touches heap/span fields (use the prof_host_* services)"
    bad=1
fi
[ $bad = 0 ] || { echo "FAIL: layering rule broken (see above)"; exit 1; }
echo "pass: libprof includes only prof_hooks.h/options.h of liballoc; liballoc no libprof header"
