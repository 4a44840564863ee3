#!/usr/bin/env bash
# Misuse detection (liballoc/misuse.h): every case of tests/misuse/misuse.c
# (double frees of small, large and huge blocks, on the owner's page, from
# other threads, after thread exit, through dallocx/sdallocx/explicit
# tcaches; interior, misaligned, stack, global, mmap'd and wild pointers;
# realloc of a freed or interior pointer; a write after free that replaces
# the free-list link of a freed block with data, on its page's list or on a
# remote-free stack: the links' range check; a one-byte write is caught only
# by a FREE_LIST_PROTECT=1 build, tests/apps/misuse_protect.sh).
#  - default mode: stderr has "<jemalloc>: FUNC(): ..." naming the address
#    the program printed, and the program carries on to its integrity
#    stress (no block handed out twice, contents intact): exit 0, "ok";
#  - abort:true: the same report, then death by SIGABRT.
# Legitimate uses (a freed address handed out again and freed, free(NULL))
# must stay silent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_misuse.sh"
BIN=$(app_bin misuse/misuse) || exit 1

cases_good="reused_not_double null"


nfail=0
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }

for c in $misuse_cases_bad; do
    env -u MALLOC_CONF timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    addr=$(sed -n 's/^addr //p' "$TMP/out")
    f=$(func_of "$c")
    [ $rc -eq 0 ] || { bad "$c: exit $rc in the default mode: $(tail -2 "$TMP/out") $(head -2 "$TMP/err")"; continue; }
    grep -qx ok "$TMP/out" || bad "$c: no 'ok' after the integrity stress"
    reported "$f" "$addr" "$TMP/err" ||
        bad "$c: no report naming $addr from $f(): $(head -2 "$TMP/err")"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || bad "$c: expected one report line, got: $(head -5 "$TMP/err")"

    MALLOC_CONF=abort:true timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    addr=$(sed -n 's/^addr //p' "$TMP/out")
    [ $rc -eq 134 ] || bad "$c: abort:true: exit $rc, not SIGABRT (134)"
    reported "$f" "$addr" "$TMP/err" ||
        bad "$c: abort:true: no report naming $addr: $(head -2 "$TMP/err")"
    grep -qx ok "$TMP/out" && bad "$c: abort:true: the program went on"
done

for c in $cases_good; do
    env -u MALLOC_CONF timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 0 ] && grep -qx ok "$TMP/out" || bad "$c: exit $rc: $(tail -2 "$TMP/out")"
    [ -s "$TMP/err" ] && bad "$c: a legitimate use was reported: $(head -2 "$TMP/err")"
    MALLOC_CONF=abort:true timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 0 ] || bad "$c: abort:true: a legitimate use aborted"
done

[ $nfail -eq 0 ] || fail "$nfail misuse checks failed"
echo "ok: $(echo $misuse_cases_bad | wc -w) misuse cases reported and survived, aborted under abort:true"
