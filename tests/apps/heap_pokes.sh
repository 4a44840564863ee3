#!/usr/bin/env bash
# Heap pokes: the event thresholds next_event and free_next are the only
# owner fields another thread writes (heap_nudge, atomically; heap.h "who
# writes what"). A plain write of them races with a nudge (two
# unsynchronized writes: a data race; the owner's plain fast-path reads are
# the documented exception, see heap.h), so this fails when
#  - any liballoc file writes them with plain `=` outside heap.c's
#    set-up of a heap not yet published (heap_create before
#    stats_heap_register, the shared heap before a->shared is set);
#  - a file pokes another heap without heap_nudge: every store to the nudge
#    flag must be heap_nudge's (stats.c's epoch, heap_sweep and the
#    background thread call it).
# (Static initializers of heaps never published, like heap_empty, are not
# writes.) A static check of the source (SRC=dir checks another tree).
set -u
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SRC=${SRC:-$ROOT}
cd "$SRC" || { echo "FAIL: no source tree at $SRC"; exit 1; }
bad=0
# liballoc only: libprof cannot see struct heap (tests/apps/layering.sh).
files=$(ls liballoc/*.c liballoc/*.h liballoc/*.cc 2>/dev/null)

# 1. Plain writes: allowed only on a heap nobody else can see yet.
while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    case "$hit" in
    liballoc/heap.c:*"sh->next_event = sh->prof_next = sh->tick_next = sh->free_next = UINT64_MAX"*) ;;
    liballoc/heap.c:*"h->free_next = TICK_MIN_BYTES;"* | liballoc/heap.c:*"h->next_event = h->tick_next;"*)
        # heap_create: before the heap is registered (stats_heap_register).
        f=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}
        reg=$(grep -n 'stats_heap_register(h)' "$f" | head -1 | cut -d: -f1)
        if [ -z "$reg" ] || [ "$line" -gt "$reg" ]; then
            echo "heap_pokes: $hit: plain write after the heap is published"; bad=1
        fi ;;
    *) echo "heap_pokes: plain write of a nudged threshold: $hit"; bad=1 ;;
    esac
done < <(grep -nE -e '->(next_event|free_next)[[:space:]]*=[^=]' $files)

# 2. Every store to another heap's nudge flag is heap_nudge's.
n=$(grep -cE 'atomic_store_explicit\(&[a-z_]+->nudge, 1' liballoc/heap.c)
others=$(grep -lE '&[a-z_]+->nudge\b' $files | grep -v '^liballoc/heap.c$')
if [ "$n" != 1 ] || [ -n "$others" ]; then
    echo "heap_pokes: nudge set outside heap_nudge ($n in heap.c; other files: $others)"; bad=1
fi
[ $bad = 0 ] || { echo "FAIL: cross-thread heap threshold access outside the documented seam"; exit 1; }
echo "pass: next_event/free_next written atomically after publication, poked only by heap_nudge"
