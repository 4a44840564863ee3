#!/usr/bin/env bash
# Whole stacks in static programs (-static and -static-pie with liballoc.a)
# built without frame pointers. gcc links -static programs without
# .eh_frame_hdr, and libunwind and _dl_find_object cannot be used there
# (the latter crashes until the C library's start-up set it up), so
# prof_unwind:auto walks with a table of the program's own .eh_frame
# (libprof/cfi.c, cfi_boot_static). Before, frame pointers were walked:
# one frame (the allocating function) or a garbage one (a string's bytes
# read as a return address). Checked with every allocation sampled:
#  - each block's stack is leaf <- mid <- main with the exact bytes, and
#    main's calling lines carry the callers' bytes (cumulative);
#  - with prof_unwind:fp and prof_unwind:libunwind (frame pointers the code
#    does not keep; libunwind is not loaded in a static program) no frame
#    is an address outside the program (the walk stops there), and the
#    allocating function still holds its bytes (our own frames keep frame
#    pointers). In -static-pie, whose program headers have no PT_PHDR, the
#    program's code range once came out unrelocated and every stack empty.
# The subjects are compiled here on purpose: the test is about their link
# modes and their lack of frame pointers.
. "$(dirname "$0")/lib.sh"
need gcc
B=$ROOT/build
JEPROF_C=$B/jeprof-c
[ -x "$JEPROF_C" ] && [ -f "$B/liballoc.a" ] || fail "build/jeprof-c or build/liballoc.a not built (run make)"
cat >"$TMP/st.c" <<'X'
#include <stdio.h>
#include <stdlib.h>
void *keep[64];
static int n;
static volatile int sink;
__attribute__((noinline)) void leaf_a(size_t s) { keep[n++] = malloc(s); sink++; }
__attribute__((noinline)) void leaf_b(size_t s) { keep[n++] = malloc(s); sink++; }
__attribute__((noinline)) void mid_a(size_t s) { leaf_a(s + sink); sink++; leaf_a(s + sink); sink++; }
__attribute__((noinline)) void mid_b(size_t s) { leaf_b(s + sink); sink++; }
int main(void)
{
    char name[64];
    snprintf(name, sizeof(name), "/some/string/on/the/stack/%d", sink);
    for (int i = 0; i < 4; i++)
        mid_a(40000); /* @A */
    for (int i = 0; i < 8; i++)
        mid_b(3000); /* @B */
    puts(name[0] ? "ok" : "");
    return 0;
}
X
LA=$(grep -n '@A' "$TMP/st.c" | cut -d: -f1)
LB=$(grep -n '@B' "$TMP/st.c" | cut -d: -f1)
cd "$TMP" || fail "cd $TMP"
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
for link in static static-pie; do
    gcc -O2 -g -fomit-frame-pointer -$link -o "st_$link" st.c "$B/liballoc.a" -lpthread 2>build.err ||
        { head -c 400 build.err; fail "cannot link -$link"; }
    for unwind in auto fp libunwind; do
        d=$TMP/d_${link}_$unwind
        before=$failures
        MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_unwind:$unwind,prof_prefix:$d \
            ./"st_$link" >out 2>err || { cat err; bad "$link/$unwind: the program failed"; continue; }
        heap=$(ls "$d".*.f.heap 2>/dev/null | head -n 1)
        [ -n "$heap" ] || { bad "$link/$unwind: no dump"; continue; }
        "$JEPROF_C" --quiet --text --lines --cum --show_bytes "st_$link" "$heap" >rep 2>rep.err ||
            { cat rep.err; bad "$link/$unwind: jeprof-c failed"; continue; }
        "$JEPROF_C" --quiet --traces --show_bytes "st_$link" "$heap" >traces 2>/dev/null
        # Frames outside the program show as raw addresses: never one.
        if grep -qE '^ +(-?[0-9]+ +)?0x[0-9a-f]+$' traces; then
            grep -B3 -A3 -E '^ +(-?[0-9]+ +)?0x[0-9a-f]+$' traces | head -20
            bad "$link/$unwind: a frame outside the program"
        fi
        if [ $unwind != auto ]; then
            for want in "leaf_a 327680" "leaf_b 24576"; do
                set -- $want
                got=$(awk -v f="$1" '$6 == f { print $1; exit }' rep)
                [ "$got" = "$2" ] || { cat rep; bad "$link/$unwind: $1 flat '$got', expected $2"; }
            done
            [ $failures = "$before" ] && echo "ok   $link/$unwind: no frame outside the program, leaf_a and leaf_b hold their bytes"
            continue
        fi
        # 8 blocks of 40000 (usable 40960), 8 of 3000 (usable 3072).
        for want in "main st.c:$LA 327680" "main st.c:$LB 24576" "mid_a 327680" "mid_b 24576"; do
            set -- $want
            got=$(awk -v f="$1" -v l="${3:+$2}" '$6 == f && (l == "" || index($7, l)) { print $4; exit }' rep)
            exp=${3:-$2}
            [ "$got" = "$exp" ] || { cat rep; bad "$link/auto: $1 ${3:+$2} cum '$got', expected $exp"; }
        done
        grep -q "prof:.*walking frame pointers" err && bad "$link/auto: walked frame pointers: $(cat err)"
        [ $failures = "$before" ] && echo "ok   $link/auto: leaf <- mid <- main, exact cumulative bytes"
    done
done
[ $failures -eq 0 ] || fail "$failures checks failed"
echo ok
