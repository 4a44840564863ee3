#!/usr/bin/env bash
# Misuse detection in the allocator's other modes: every misuse case of
# tests/misuse/misuse.c (as tests/apps/misuse.sh runs them in the default
# mode) under MALLOC_CONF settings that route frees and mallocs through
# other paths: junk filling (slow paths, no current page per class:
# junk:alloc), zeroing, every allocation sampled by the profiler, no
# thread cache (the arena's shared heaps), decay with a background thread.
# Each must still be reported with its address, once, and survived
# (docs/misuse.md: the checks do not depend on the mode).
# Before the fix in heap_page_retire, junk:alloc retired a class's only page
# at its last free, the next small malloc (a stdio buffer) took it, and the
# double free freed that block instead: double_small, realloc_freed
# (a block handed out) and others failed under junk:true and junk:alloc.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_misuse.sh"
BIN=$(app_bin misuse/misuse) || exit 1

cases=$misuse_cases_bad
modes="junk:true junk:alloc junk:free zero:true prof:true,lg_prof_sample:0 tcache:false
background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0"


nfail=0
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
n=0
for m in $modes; do
    for c in $cases; do
        # Collected by a thread cache flush, which tcache:false does not have.
        [ "$m" = tcache:false ] && [ "$c" = uaf_link_null_remote_splice ] && continue
        n=$((n + 1))
        MALLOC_CONF=$m timeout 30 "$BIN" "$c" >"$TMP/out" 2>"$TMP/err"
        rc=$?
        addr=$(sed -n 's/^addr //p' "$TMP/out")
        f=$(func_of "$c")
        [ $rc -eq 0 ] || { bad "[$m] $c: exit $rc: $(tail -2 "$TMP/out") $(head -2 "$TMP/err")"; continue; }
        grep -qx ok "$TMP/out" || bad "[$m] $c: no 'ok' after the integrity stress"
        reported "$f" "$addr" "$TMP/err" ||
            bad "[$m] $c: no report naming $addr from $f(): $(head -2 "$TMP/err")"
        [ "$(wc -l <"$TMP/err")" -eq 1 ] || bad "[$m] $c: expected one report line, got: $(head -5 "$TMP/err")"
    done
done

[ $nfail -eq 0 ] || fail "$nfail misuse checks failed in the other modes"
echo "ok: $n runs ($(echo $cases | wc -w) cases x $(echo $modes | wc -w) modes) reported and survived"
