#!/usr/bin/env bash
# prof_dynload_fork: a fork while another thread loads zlib and
# libprotobuf-c (libprof/dynload.h, dynload_postfork_child). The probe's
# thread asks for the first pprof profile and is held in libz's dlopen
# (tests/apps/slow_dlopen.c, 300 ms) when the main thread forks: the
# child's own pprof request must load the libraries itself and succeed,
# not wait 2 s for a loading thread that is not in the child and fail
# with EAGAIN.
. "$(dirname "$0")/lib.sh"
P=$(app_bin apps/prof_dynload_fork) || exit 1
SHIM=$(app_bin apps/libslow_dlopen.so) || exit 1
out=$(env LD_PRELOAD="$SHIM" MALLOC_CONF="prof:true,prof_unwind:fp" timeout 30 "$P" 2>"$TMP/err") ||
    fail "probe failed: $out $(cat "$TMP/err")"
grep -qx 'parent pprof=0' <<<"$out" || fail "the parent's pprof dump failed: $out"
child=$(grep '^child ' <<<"$out")
[[ "$child" =~ ^child\ pprof=0\ ms=([0-9]+)$ ]] || fail "the child's pprof dump failed: '$child' (11 = EAGAIN)"
ms=${BASH_REMATCH[1]}
[ "$ms" -lt 1500 ] || fail "the child waited ${ms} ms for its pprof dump"
echo "pass: a fork during the load: the child loads the libraries itself ($child)"
