#!/usr/bin/env bash
# dump_signal_hostile: the dump signal and `jeprof-c dump` against services
# that make delivery or writing hard (tests/dumpsig/hostile.c; known_site
# is 32 MiB; lg_prof_sample:14):
#   1. a service that blocks every signal in every thread and reads them
#      from a signalfd still answers (the dump thread leaves the dump
#      signal unblocked), known_site within 15%;
#   2. a signal storm (~1000/s for 2 s, longer until 2 dumps came on a
#      loaded machine) gives at most ~5 dumps a second (not one per dump
#      time: at most 5 per second of storm and wait, plus 6), the process
#      lives and answers once more;
#   3. a dump in progress before the signal (its temporary file exists)
#      is not taken as the answer, even when it completes first;
#   4. a dump directory the process cannot write, or that does not exist,
#      is an immediate error naming it (well before the timeout);
#   5. a program that installed its own handler for the signal: the
#      timeout says the signal was delivered and why no dump came;
#   6. a process that exec()s (same pid, same MALLOC_CONF): the new image
#      numbers its dumps from 0 again and replaces the old .0.m0 file;
#      `jeprof-c dump` takes that new file (not a timeout);
#   7. a process that rewrote its environment (setproctitle, as redis and
#      nginx do): `jeprof-c dump PID` says the signal it found (from the
#      dump thread's signal mask) and asks for --prefix; with --prefix it
#      works.
. "$(dirname "$0")/lib_dumpsig.sh"
HOSTILE=$(app_bin dumpsig/hostile) || exit 1
cd "$TMP"
conf() { echo "prof:true,lg_prof_sample:14,prof_prefix:$1,prof_dump_signal:USR2"; }

# 1. Every signal blocked everywhere, read from a signalfd.
start_bg ba.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/ba")" "$HOSTILE" blockall
wait_line ba.out ready
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG" 2>&1) || fail "blockall: jeprof-c dump failed: $out"
[ "$(tail -n 1 <<<"$out")" = "$TMP/ba.$BG.0.m0.heap" ] || fail "blockall: path '$out'"
within15 "known_site (blockall)" "$(site_bytes "$HOSTILE" "$TMP/ba.$BG.0.m0.heap" known_site)" "$KNOWN_BYTES"
kill "$BG"

# 2. A storm: 2 s of USR2 at ~1000/s.
mkdir storm
start_bg st.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/storm/s")" "$HOSTILE"
pid=$BG
wait_line st.out ready
# At least 2 s, then on until two dumps came (60 s at most); then wait for
# the dump in progress (its .tmp file), 10 s at most. The bound on the
# count scales with the time it all took (a loaded machine stretches it).
ms_now() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms_now)
while :; do
    for _ in $(seq 100); do kill -USR2 "$pid" || fail "storm: the process died"; done
    sleep 0.1
    el=$(($(ms_now) - t0))
    [ $el -lt 2000 ] && continue
    [ "$(ls storm | grep -c '\.heap$')" -ge 2 ] || [ $el -ge 60000 ] && break
done
storm_ms=$el
for _ in $(seq 200); do
    sleep 0.05
    ls storm | grep -q tmp || break
done
el=$(($(ms_now) - t0))
n=$(ls storm | grep -c '\.heap$')
max=$((el * 5 / 1000 + 6))
{ [ "$n" -ge 2 ] && [ "$n" -le $max ]; } ||
    fail "storm: $n dumps for $storm_ms ms of signals, $el ms in all (want 2..$max)"
echo "storm: $n dumps for $storm_ms ms of signals ($el ms in all)"
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$pid" 2>&1) || fail "after the storm: $out"
within15 "known_site after the storm" "$(site_bytes "$HOSTILE" "$(tail -n 1 <<<"$out")" known_site)" "$KNOWN_BYTES"
ls storm | grep -q tmp && fail "storm: temporary files left: $(ls storm)"
kill "$pid"

# 3. A dump in progress (from before our signal) completes first.
mkdir ip
start_bg ip.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/ip/x")" "$HOSTILE"
pid=$BG
wait_line ip.out ready
kill -USR2 "$pid" # dump 0 now: the next one starts 200 ms after it at the earliest
for _ in $(seq 100); do [ -e "ip/x.$pid.0.m0.heap" ] && break; sleep 0.01; done
echo old >"ip/x.$pid.7.m7.heap.tmp.$pid"
"$JEPROF_C" dump --timeout=$DUMP_WAIT "$pid" >ip.dump 2>&1 &
jp=$!
sleep 0.03
mv "ip/x.$pid.7.m7.heap.tmp.$pid" "ip/x.$pid.7.m7.heap"
wait $jp || fail "in progress: jeprof-c dump failed: $(cat ip.dump)"
[ "$(tail -n 1 ip.dump)" = "$TMP/ip/x.$pid.1.m1.heap" ] ||
    fail "in progress: took '$(tail -n 1 ip.dump)', want the dump after the signal"
kill "$pid"

# 4. A directory the process cannot write (as nobody when we are root), one
#    that does not exist: immediate errors.
mkdir ro
if [ "$(id -u)" = 0 ]; then
    chmod 755 ro
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    command -v setpriv >/dev/null || run_as=()
else
    chmod 555 ro
    run_as=()
fi
if [ ${#run_as[@]} -gt 0 ] || [ "$(id -u)" != 0 ]; then
    # nobody must reach the program and the library: the tree may sit in a
    # directory only we can enter (a CI checkout under mktemp -d), so run
    # copies from our temp directory, opened to others for this.
    ro_lib=$LIB ro_prog=$HOSTILE
    if [ ${#run_as[@]} -gt 0 ]; then
        chmod 755 "$TMP"
        mkdir -p "$TMP/pub" && chmod 755 "$TMP/pub"
        cp "$LIB" "$TMP/pub/liballoc.so" && cp "$HOSTILE" "$TMP/pub/hostile" || fail "copies for nobody"
        chmod 755 "$TMP/pub/liballoc.so" "$TMP/pub/hostile"
        ro_lib=$TMP/pub/liballoc.so ro_prog=$TMP/pub/hostile
    fi
    # The environment is set after setpriv: setpriv itself is not preloaded.
    start_bg ro.out "${run_as[@]}" env LD_PRELOAD="$ro_lib" MALLOC_CONF="$(conf "$TMP/ro/x")" "$ro_prog" chdir /
    wait_line ro.out ready
    t0=$(date +%s%N)
    out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG" 2>&1) && fail "unwritable: jeprof-c dump succeeded: $out"
    ms=$((($(date +%s%N) - t0) / 1000000))
    grep -q "cannot write in its dump directory '$TMP/ro'" <<<"$out" || fail "unwritable: message '$out'"
    [ "$ms" -lt $((DUMP_WAIT * 500)) ] || fail "unwritable: the error took $ms ms (timeout $DUMP_WAIT s)"
    kill "$BG"
fi
start_bg nd.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/nodir/x")" "$HOSTILE"
wait_line nd.out ready
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG" 2>&1) && fail "missing dir: jeprof-c dump succeeded: $out"
grep -q "dump directory '$TMP/nodir' of process $BG: No such file or directory" <<<"$out" ||
    fail "missing dir: message '$out'"
kill "$BG"

# 5. The program's own handler replaced ours.
start_bg oh.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/oh")" "$HOSTILE" ownhandler
wait_line oh.out ready
out=$("$JEPROF_C" dump --timeout=0.5 "$BG" 2>&1) && fail "own handler: jeprof-c dump succeeded: $out"
# A loaded machine may not have run the process within 0.5 s: the signal is
# then still pending, which is no answer yet; ask again, waiting longer.
if grep -q "is still pending" <<<"$out"; then
    out=$("$JEPROF_C" dump --timeout=5 "$BG" 2>&1) && fail "own handler: jeprof-c dump succeeded: $out"
fi
grep -q "SIGUSR2 was delivered; either the program installed its own handler" <<<"$out" ||
    fail "own handler: message '$out'"
grep -q "own handler" oh.out.err || fail "own handler: the program's handler did not run"
kill "$BG"

# 6. exec: bash answers, then becomes the subject under the same pid.
mkdir ex
mkfifo ex/go
start_bg ex.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/ex/x")" bash -c "echo ready; read x <'$TMP/ex/go'; exec '$HOSTILE'"
pid=$BG
wait_line ex.out ready
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$pid" 2>&1) || fail "exec: dump of bash failed: $out"
[ "$(tail -n 1 <<<"$out")" = "$TMP/ex/x.$pid.0.m0.heap" ] || fail "exec: bash's dump '$out'"
echo go >ex/go
for _ in $(seq 200); do [ "$(grep -c ready ex.out)" -ge 2 ] && break; sleep 0.05; done
[ "$(grep -c ready ex.out)" -ge 2 ] || fail "exec: the subject did not start"
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$pid" 2>&1) || fail "exec: dump after exec failed: $out"
[ "$(tail -n 1 <<<"$out")" = "$TMP/ex/x.$pid.0.m0.heap" ] || fail "exec: path '$out'"
within15 "known_site after exec" "$(site_bytes "$HOSTILE" "$TMP/ex/x.$pid.0.m0.heap" known_site)" "$KNOWN_BYTES"
kill "$pid"

# 7. The environment rewritten.
start_bg pt.out env LD_PRELOAD="$LIB" MALLOC_CONF="$(conf "$TMP/pt")" "$HOSTILE" proctitle
wait_line pt.out ready
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG" 2>&1) && fail "proctitle: jeprof-c dump without --prefix succeeded: $out"
grep -q "^error: process $BG dumps on SIGUSR2 (its dump thread says so), but its configuration is not visible.*--prefix" <<<"$out" ||
    fail "proctitle: message '$out'"
out=$("$JEPROF_C" dump --timeout=$DUMP_WAIT --prefix="$TMP/pt" "$BG" 2>&1) || fail "proctitle: with --prefix: $out"
[ "$(tail -n 1 <<<"$out")" = "$TMP/pt.$BG.0.m0.heap" ] || fail "proctitle: path '$out'"
within15 "known_site (proctitle)" "$(site_bytes "$HOSTILE" "$TMP/pt.$BG.0.m0.heap" known_site)" "$KNOWN_BYTES"
kill "$BG"
echo "dump_signal_hostile: ok"
