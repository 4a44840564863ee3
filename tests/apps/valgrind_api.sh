#!/usr/bin/env bash
# A program linked with -lalloc that uses the jemalloc API, under valgrind's
# memcheck (tests/apps/valgrind_api.c says what it does). Memcheck replaces
# malloc, free and their kin in every object, liballoc too; the jemalloc
# API must then still free, resize and size its own blocks, never hand one
# to valgrind's free. Before the library's own malloc and free were copies
# of their own (malloc.c), every dallocx and the rallocx here went to
# valgrind's ("Invalid free()", sallocx 0). Checked: the printed values
# and no memcheck error (--error-exitcode).
. "$(dirname "$0")/lib.sh"
need valgrind
BIN=$(app_bin apps/valgrind_api) || exit 1
out=$(valgrind -q --error-exitcode=9 --leak-check=no "$BIN" 2>"$TMP/vg.err")
rc=$?
[ "$rc" = 0 ] || { cat "$TMP/vg.err"; fail "valgrind exit $rc"; }
[ ! -s "$TMP/vg.err" ] || { cat "$TMP/vg.err"; fail "memcheck reported errors"; }
want="rallocx 114688 7
shrunk 16 7
xallocx 16
glibc-side
done"
[ "$out" = "$want" ] || fail "output: $out (want: $want)"
echo "PASS: the jemalloc API under memcheck: 400 frees, an explicit tcache, rallocx, xallocx; no error"
