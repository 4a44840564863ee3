#!/usr/bin/env bash
# The fast-path instruction counts liballoc/heap.h states ("malloc: N
# instructions", "free: N instructions", the remote free and the cached
# large block's malloc and free) and liballoc/malloc.c states
# ("realloc: N", "operator new: N", "operator delete (sized): N") are those
# of the built library: scripts/fastpath_count.sh measures them by
# single-stepping the calls under gdb, and each must be within SLACK
# instructions of the comment.
# The numbers belong to a release build by gcc on x86-64 (what heap.h says);
# other builds (MODE=debug, SAN=..., clang, other CPUs) skip.
. "$(dirname "$0")/lib.sh"
SLACK=3
need gdb
need readelf
[ "$(uname -m)" = x86_64 ] || skip "counts are for x86-64 (this is $(uname -m))"
prod=$(readelf --debug-dump=info "$LIB" 2>/dev/null | grep -m1 DW_AT_producer)
[ -n "$prod" ] || skip "$LIB has no DWARF producer to tell its build flags"
case "$prod" in
    *"GNU C"*) ;;
    *) skip "heap.h counts are for gcc; $LIB was built by: ${prod##*): }" ;;
esac
case "$prod" in *-fsanitize*|*-O0*) skip "not a release build: ${prod##*): }" ;; esac
case "$prod" in *-O2*) ;; *) skip "not an -O2 build: ${prod##*): }" ;; esac

header=$ROOT/liballoc/heap.h
want_malloc=$(sed -n 's/.*malloc: \([0-9][0-9]*\) instructions.*/\1/p' "$header" | head -1)
want_free=$(sed -n 's/.*free: \([0-9][0-9]*\) instructions.*/\1/p' "$header" | head -1)
[ -n "$want_malloc" ] || fail "$header: no 'malloc: N instructions' in the fast-path comment"
[ -n "$want_free" ] || fail "$header: no 'free: N instructions' in the fast-path comment"

bash "$ROOT/scripts/fastpath_count.sh" >"$TMP/counts" 2>"$TMP/err"
rc=$?
[ $rc -eq 77 ] && skip "$(cat "$TMP/err")"
[ $rc -eq 0 ] || fail "scripts/fastpath_count.sh exited $rc: $(cat "$TMP/err")"
cat "$TMP/counts"
got_malloc=$(sed -n 's/^malloc: \([0-9][0-9]*\) instructions.*/\1/p' "$TMP/counts")
got_free=$(sed -n 's/^free: \([0-9][0-9]*\) instructions.*/\1/p' "$TMP/counts")
[ -n "$got_malloc" ] && [ -n "$got_free" ] || fail "no counts in the script's output"

check() { # what stated measured
    local d=$(($3 - $2))
    [ ${d#-} -le $SLACK ] ||
        fail "$1: the source says $2 instructions, the built library takes $3 (re-run scripts/fastpath_count.sh and update liballoc/heap.h or liballoc/malloc.c)"
    echo "ok: $1 $3 instructions (stated: $2)"
}
check malloc "$want_malloc" "$got_malloc"
check free "$want_free" "$got_free"

# The remote free and the cached large block: heap.h's comment.
for what in "free (remote)" "malloc (large, cached)" "free (large, cached)"; do
    want=$(sed -n "s/^ \*   $what: \([0-9][0-9]*\) instructions.*/\1/p" "$header" | head -1)
    [ -n "$want" ] || want=$(sed -n "s/.*$what: \([0-9][0-9]*\).*/\1/p" "$header" | head -1)
    [ -n "$want" ] || fail "$header: no '$what: N instructions' in the fast-path comment"
    got=$(sed -n "s/^$what: \([0-9][0-9]*\) instructions.*/\1/p" "$TMP/counts")
    [ -n "$got" ] || fail "no '$what' count in the script's output"
    check "$what" "$want" "$got"
done

# realloc and the C++ operators: malloc.c's header comment.
source=$ROOT/liballoc/malloc.c
for what in "realloc" "operator new" "operator delete (sized)"; do
    pat=$what # no regex characters but ( ), which sed's BRE takes literally
    want=$(sed -n "s/^ \*   $pat: \([0-9][0-9]*\) instructions.*/\1/p" "$source" | head -1)
    [ -n "$want" ] || fail "$source: no '$what: N instructions' in the header comment"
    got=$(sed -n "s/^$pat: \([0-9][0-9]*\) instructions.*/\1/p" "$TMP/counts")
    [ -n "$got" ] || fail "no '$what' count in the script's output"
    check "$what" "$want" "$got"
done
exit 0
