#!/usr/bin/env bash
# Free-list link protection (liballoc/misuse.h, opt.free_list_protect): in a
# build made with FREE_LIST_PROTECT=1 (build/protect/, tests/tests.mk), a
# write after free over a freed block's link -- a word of data, one byte,
# in the 8-byte class, on a remote-free stack -- is reported by malloc with
# the block's address and the block is never handed out (the program's
# integrity stress passes); abort:true aborts. The one-byte write is what
# the default build (plain links, range-checked) cannot see: its block
# stays inside the page. Also: the option reads true there and false in
# the default build, which refuses free_list_protect:true with a warning.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_misuse.sh"
BIN=$(app_bin misuse/misuse) || exit 1
PROT=$ROOT/build/protect
[ -e "$PROT/liballoc.so.0" ] || fail "$PROT/liballoc.so.0 is not built (make test builds it)"
run_prot() { env -u MALLOC_CONF LD_LIBRARY_PATH="$PROT" "$@"; }

# The program really runs on the protected build.
lib=$(LD_LIBRARY_PATH="$PROT" ldd "$BIN" | awk '/liballoc/ {print $3}')
[ "$(realpath "$lib")" = "$(realpath "$PROT/liballoc.so")" ] || fail "the misuse program loads $lib, not $PROT"

nfail=0
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
for c in uaf_link uaf_link_byte uaf_link8 uaf_link_remote uaf_link_null uaf_link_null_remote uaf_link_null_remote_splice; do
    run_prot timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    addr=$(sed -n 's/^addr //p' "$TMP/out")
    [ $rc -eq 0 ] || { bad "$c: exit $rc: $(tail -2 "$TMP/out") $(head -2 "$TMP/err")"; continue; }
    grep -qx ok "$TMP/out" || bad "$c: no 'ok' after the integrity stress"
    reported malloc "$addr" "$TMP/err" || bad "$c: no report naming $addr from malloc(): $(head -2 "$TMP/err")"
    env LD_LIBRARY_PATH="$PROT" MALLOC_CONF=abort:true timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 134 ] || bad "$c: abort:true: not SIGABRT"
done

# opt.free_list_protect as each build reports it (stats_print's options).
opt_of() { # env...
    env "$@" MALLOC_CONF="${CONF:-}stats_print:true,stats_print_opts:mdablxe" "$BIN" null 2>&1 >/dev/null |
        sed -n 's/.*opt.free_list_protect: *\([a-z]*\).*/\1/p' | head -1
}
v=$(opt_of LD_LIBRARY_PATH="$PROT")
[ "$v" = true ] || bad "protected build: opt.free_list_protect is '$v', want true"
v=$(CONF=free_list_protect:false, opt_of LD_LIBRARY_PATH="$PROT")
[ "$v" = false ] || bad "protected build, free_list_protect:false: reads '$v'"
v=$(opt_of -u LD_LIBRARY_PATH)
[ "$v" = false ] || bad "default build: opt.free_list_protect is '$v', want false"
err=$(env -u LD_LIBRARY_PATH MALLOC_CONF=free_list_protect:true "$BIN" null 2>&1 >/dev/null)
grep -q "free_list_protect:true needs a build made with FREE_LIST_PROTECT=1" <<<"$err" ||
    bad "default build: free_list_protect:true was not refused: $err"
v=$(CONF=free_list_protect:true, opt_of -u LD_LIBRARY_PATH)
[ "$v" = false ] || bad "default build, free_list_protect:true: reads '$v', want false"

[ $nfail -eq 0 ] || fail "$nfail free-list protection checks failed"
echo "ok: 7 link corruptions reported in the protected build; the option reads true/false as built"
