#!/usr/bin/env bash
# The kinds of misuse allocator security suites test (tests/misuse/suite.cc),
# each run in the default mode and under abort:true, with the outcome
# docs/misuse.md promises:
#  report:FUNC  "<jemalloc>: FUNC(): ... ADDR" naming the address the program
#               printed, one line; the program carries on ("ok", exit 0); under
#               abort:true the same line, then SIGABRT;
#  debug:FUNC   the same in a MODE=debug build (canaries); in a release build
#               not detected (as "none");
#  later:FUNC   the damage is caught afterwards, by FUNC() on the block it
#               made (not the announced one): one "<jemalloc>: FUNC(): ..."
#               line, "ok"; SIGABRT under abort:true (a one-byte overflow
#               into a free neighbour's plain link hands out a block off
#               the block boundaries, and its free is refused; a
#               FREE_LIST_PROTECT=1 build reports it in malloc,
#               tests/apps/misuse_protect.sh); the page's list, led astray,
#               may then run dry short of its count: a second report,
#               "malloc(): corrupted free list ... in the page at P";
#  none         not detected by design (docs/misuse.md says why): silent,
#               "ok", exit 0 in both modes;
#  api          the allocator's answers are checked by the program (NULL and
#               ENOMEM for impossible sizes...): silent, "ok", exit 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_misuse.sh"
BIN=$(app_bin misuse/suite) || exit 1

cases="
double_free_small report:free
double_free_small_delayed report:free
double_free_8 report:free
double_free_8_delayed report:free
double_free_large report:free
double_free_large_delayed report:free
double_free_huge report:free
unaligned_free_small report:free
unaligned_free_large report:free
invalid_free_small_region report:free
invalid_free_small_region_far report:free
invalid_free_unprotected report:free
invalid_free_protected report:free
uninitialized_free report:free
uninitialized_realloc report:realloc
uninitialized_malloc_usable_size report:malloc_usable_size
invalid_malloc_usable_size_small report:malloc_usable_size
unaligned_malloc_usable_size_small report:malloc_usable_size
freed_malloc_usable_size_small report:malloc_usable_size
freed_realloc_small report:realloc
freed_realloc_large report:realloc
delete_type_size_mismatch report:sdallocx
sdallocx_size_mismatch_large report:sdallocx
write_after_free_small_link report:malloc
overflow_into_free_neighbour later:free
overflow_small_1_byte debug:free
overflow_small_8_byte debug:free
eight_byte_overflow_small debug:free
write_zero_size debug:free
write_after_free_small_data none
write_after_free_small_reuse none
write_after_free_large none
read_after_free_small none
read_after_free_large none
impossibly_large api
malloc_zero_distinct api
invalid_free_small_region_16k report:free
invalid_malloc_usable_size_small_unused report:malloc_usable_size
uninitialized_free_1 report:free
uninitialized_realloc_1 report:realloc
uninitialized_malloc_usable_size_1 report:malloc_usable_size
wild_free_top report:free
double_free_32k report:free
freed_malloc_usable_size_32k report:malloc_usable_size
double_free_small_delayed_100 report:free
double_free_64k_delayed_100 report:free
realloc_zero_then_free report:free
double_free_reused_large report:free
fastbin_dup report:free
tcache_poisoning_global report:malloc
tcache_poisoning_live_block report:malloc
house_of_spirit report:free
house_of_spirit_in_large report:free
invalid_aligned_sized_delete_small report:sdallocx
aligned_sized_delete api
overlapping_chunks_size api
api_corners api
foreign_glibc_small report:free
foreign_glibc_mmapped report:free
"

dbg=$("$BIN" config_debug 2>/dev/null) || fail "suite config_debug failed"
nfail=0
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }

while read -r c want; do
    [ -n "$c" ] || continue
    kind=${want%%:*}
    f=${want#*:}
    [ "$kind" = debug ] && { [ "$dbg" = 1 ] && kind=report || kind=none; }

    env -u MALLOC_CONF timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    addr=$(sed -n 's/^addr //p' "$TMP/out")
    [ $rc -eq 0 ] || { bad "$c: exit $rc in the default mode: $(tail -2 "$TMP/out") $(head -2 "$TMP/err")"; continue; }
    grep -qx ok "$TMP/out" || bad "$c: the program did not get through: $(tail -2 "$TMP/out")"
    case $kind in
    report)
        reported "$f" "$addr" "$TMP/err" ||
            bad "$c: no report naming $addr from $f(): $(head -2 "$TMP/err")"
        [ "$(wc -l <"$TMP/err")" -eq 1 ] || bad "$c: expected one report line, got: $(head -5 "$TMP/err")"
        ;;
    later)
        grep -q "^<jemalloc>: $f(): " "$TMP/err" || bad "$c: no later report from $f(): $(head -2 "$TMP/err")"
        # The block off the boundaries led the page's list astray: when that
        # list runs dry short of its count, malloc reports the page too.
        [ "$(grep -vc "^<jemalloc>: malloc(): corrupted free list .* in the page at " "$TMP/err")" -eq 1 ] &&
            [ "$(wc -l <"$TMP/err")" -le 2 ] ||
            bad "$c: expected one report line (and at most one on the page's list), got: $(head -5 "$TMP/err")"
        ;;
    *)
        [ -s "$TMP/err" ] && bad "$c: expected no report, got: $(head -2 "$TMP/err")"
        ;;
    esac

    MALLOC_CONF=abort:true timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    addr=$(sed -n 's/^addr //p' "$TMP/out")
    case $kind in
    report)
        [ $rc -eq 134 ] || bad "$c: abort:true: exit $rc, not SIGABRT (134)"
        reported "$f" "$addr" "$TMP/err" ||
            bad "$c: abort:true: no report naming $addr: $(head -2 "$TMP/err")"
        grep -qx ok "$TMP/out" && bad "$c: abort:true: the program went on"
        ;;
    later)
        [ $rc -eq 134 ] || bad "$c: abort:true: exit $rc, not SIGABRT (134)"
        grep -q "^<jemalloc>: $f(): " "$TMP/err" || bad "$c: abort:true: no report from $f()"
        ;;
    *)
        [ $rc -eq 0 ] && grep -qx ok "$TMP/out" || bad "$c: abort:true: exit $rc: $(tail -2 "$TMP/out")"
        ;;
    esac
done <<<"$cases"

[ $nfail -eq 0 ] || fail "$nfail security-suite checks failed"
echo "ok: $(echo "$cases" | grep -c .) cases as documented (debug build: $dbg)"
