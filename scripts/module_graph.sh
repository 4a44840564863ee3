#!/bin/sh
# module_graph: which liballoc/libprof headers each liballoc and libprof
# file includes (quoted #include lines only), one "file -> header" edge per
# line, then the edges that cross between the two libraries. Used for the
# architecture notes (issue 13); tests/apps/layering.sh checks the rule.
# Usage: scripts/module_graph.sh [repo root]
cd "${1:-.}" || exit 1
echo "# edges (file -> header), quoted includes of liballoc/ and libprof/ headers"
for f in liballoc/*.c liballoc/*.h liballoc/*.cc libprof/*.c libprof/*.h; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r h; do
        if [ -f "liballoc/$h" ]; then echo "$f -> liballoc/$h"
        elif [ -f "libprof/$h" ]; then echo "$f -> libprof/$h"
        fi
    done
done | sort -u > /tmp/module_graph.$$
cat /tmp/module_graph.$$
echo "# crossing edges (libprof -> liballoc, liballoc -> libprof)"
grep -E '^libprof/[^ ]* -> liballoc/|^liballoc/[^ ]* -> libprof/' /tmp/module_graph.$$
rm -f /tmp/module_graph.$$
