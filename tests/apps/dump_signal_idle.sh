#!/usr/bin/env bash
# dump_signal_idle: MALLOC_CONF=prof_dump_signal:<sig> on an idle service.
# tests/dumpsig/idle allocates known_site (32 MiB in 8 KiB blocks), then
# only sleeps: it never calls mallctl and never allocates again. With
# lg_prof_sample:14 (SD of the estimate ~2%):
#   - `jeprof-c dump PID` (the dump thread answers at once: the process
#     never allocates again; waits up to $DUMP_WAIT s on a loaded machine)
#     prints a manual dump <prefix>.<pid>.0.m0.heap as its last line, whose
#     known_site is within 15% of 32 MiB; a second one gives .1.m1; a
#     relative prefix is resolved against the process's working directory;
#   - spellings SIGUSR2 / 12 / RTMIN+2 work the same, and prof_format:both
#     gives both files (the .pb.gz on the line before);
#   - the dump thread is named prof_dump_sig; the process is not killed by
#     the signal and keeps running;
#   - a process that closed every descriptor above 2 (daemons do) still
#     answers;
#   - a program whose own malloc_conf sets everything (prof_format:pprof,
#     a relative prefix): invisible from outside, so `dump` says so; with
#     --signal and --prefix it works and takes the .pb.gz that comes;
#   - fork: the child of `idle fork` answers the signal with its own dump
#     (its pid in the name) holding child_site (16 MiB) and known_site.
. "$(dirname "$0")/lib_dumpsig.sh"
cd "$TMP"
mkdir run

conf() { echo "prof:true,lg_prof_sample:14,prof_prefix:$1,prof_dump_signal:$2${3:+,$3}"; }

# 1. USR2, a relative prefix (the process runs in $TMP/run, we do not).
mkdir run/dumps
start_bg idle.out env -C run LD_PRELOAD="$LIB" MALLOC_CONF="$(conf dumps/idle USR2)" "$IDLE"
pid=$BG
wait_line idle.out ready
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$pid") || fail "jeprof-c dump $pid failed: $out"
last=$(tail -n 1 <<<"$out")
[ "$last" = "$TMP/run/dumps/idle.$pid.0.m0.heap" ] || fail "dump path: '$last'"
[ -s "$last" ] || fail "$last is empty"
got=$(site_bytes "$IDLE" "$last" known_site)
within15 "known_site via jeprof-c dump" "$got" "$KNOWN_BYTES"
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$pid") || fail "second jeprof-c dump failed: $out"
[ "$(tail -n 1 <<<"$out")" = "$TMP/run/dumps/idle.$pid.1.m1.heap" ] || fail "second dump path: $out"
grep -qx prof_dump_sig /proc/$pid/task/*/comm || fail "no thread named prof_dump_sig"
kill -0 "$pid" || fail "the process died"
kill "$pid"

# 2. Other spellings, prof_format:both.
for sig in SIGUSR2 12 RTMIN+2; do
    start_bg "idle-$sig.out" env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/s$sig" "$sig" prof_format:both)" "$IDLE"
    wait_line "idle-$sig.out" ready
    out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG") || fail "prof_dump_signal:$sig: $out"
    [ "$(tail -n 1 <<<"$out")" = "$TMP/s$sig.$BG.0.m0.heap" ] || fail "$sig: last line '$out'"
    [ "$(head -n 1 <<<"$out")" = "$TMP/s$sig.$BG.0.m0.pb.gz" ] || fail "$sig: no .pb.gz line: '$out'"
    got=$(site_bytes "$IDLE" "$TMP/s$sig.$BG.0.m0.pb.gz" known_site)
    within15 "known_site in the pprof dump ($sig)" "$got" "$KNOWN_BYTES"
    kill "$BG"
done

# 3. A daemon that closed its descriptors.
start_bg cl.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/cl" USR2)" "$IDLE" closefds
wait_line cl.out ready
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG") || fail "jeprof-c dump after closing descriptors: $out"
within15 "known_site after closefds" "$(site_bytes "$IDLE" "$(tail -n 1 <<<"$out")" known_site)" "$KNOWN_BYTES"
kill "$BG"

# 4. The program's own malloc_conf.
IDLE_GLOBAL=$(app_bin dumpsig/idle_global) || exit 1
start_bg gl.out env -u MALLOC_CONF LD_PRELOAD="$LIB" "$IDLE_GLOBAL"
wait_line gl.out ready
"$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG" >out.txt 2>err.txt && fail "dump without --signal found a signal"
grep -q "malloc_conf compiled into the program is not visible" err.txt || fail "no hint: $(cat err.txt)"
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT --signal=USR2 --prefix=g "$BG") || fail "dump --signal --prefix: $out"
[ "$(tail -n 1 <<<"$out")" = "$TMP/g.$BG.0.m0.pb.gz" ] || fail "dump --signal --prefix: '$out'"
within15 "known_site (program's malloc_conf)" "$(site_bytes "$IDLE_GLOBAL" "$TMP/g.$BG.0.m0.pb.gz" known_site)" "$KNOWN_BYTES"
kill "$BG"

# 5. A fork child answers on its own.
start_bg fork.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/fk" USR2)" "$IDLE" fork
wait_line fork.out ready
child=$(awk '/^child/ {print $2}' fork.out)
BG_PIDS="$BG_PIDS $child"
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$child") || fail "jeprof-c dump of the fork child: $out"
[ "$(tail -n 1 <<<"$out")" = "$TMP/fk.$child.0.m0.heap" ] || fail "child dump path: '$out'"
within15 "child_site in the child's dump" "$(site_bytes "$IDLE" "$TMP/fk.$child.0.m0.heap" child_site)" "$CHILD_BYTES"
within15 "known_site in the child's dump" "$(site_bytes "$IDLE" "$TMP/fk.$child.0.m0.heap" known_site)" "$KNOWN_BYTES"
ls "$TMP"/fk."$BG".* >/dev/null 2>&1 && fail "the parent answered the child's signal"
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG") || fail "jeprof-c dump of the parent: $out"
[ "$(site_bytes "$IDLE" "$(tail -n 1 <<<"$out")" child_site)" = 0 ] || fail "child_site in the parent's dump"
echo ok
