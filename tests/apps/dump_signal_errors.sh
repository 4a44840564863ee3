#!/usr/bin/env bash
# dump_signal_errors: `jeprof-c dump PID` explains why it cannot get a dump,
# exits 1 (2 for bad usage) and never sends a signal the process would die
# of. Cases: a pid that is not a number; no such process; a process not
# running liballoc; liballoc without profiling (no MALLOC_CONF, or
# prof_dump_signal without prof:true); profiling without a dump signal; a
# refused prof_dump_signal value (the allocator's "Invalid conf value"
# message, the process runs on); --signal naming a signal the process does
# not catch; a stopped process (timeout); another user's process (run as
# nobody via setpriv: EPERM, needs root). Every target survives.
# opt.prof_dump_signal reads back what was set (empty by default).
. "$(dirname "$0")/lib_dumpsig.sh"
cd "$TMP"

# expect_err rc regex cmd...: cmd exits rc and its stderr matches regex.
expect_err() {
    local want=$1 re=$2; shift 2
    "$@" >out.txt 2>err.txt
    local rc=$?
    [ $rc -eq "$want" ] || fail "$*: exit $rc, want $want: $(cat err.txt)"
    grep -q "$re" err.txt || fail "$*: stderr '$(cat err.txt)' lacks '$re'"
}

expect_err 2 "not a process id" "$JEPROF_C" dump abc
expect_err 2 "usage: jeprof-c dump" "$JEPROF_C" dump
sh -c 'exit 0' &
gone=$!
wait $gone
expect_err 1 "^error: no such process '$gone'" "$JEPROF_C" dump "$gone"

start_bg plain.out sleep 30
expect_err 1 "^error: process $BG does not run liballoc" "$JEPROF_C" dump "$BG"
kill -0 "$BG" || fail "sleep died"

start_bg noconf.out env -u MALLOC_CONF LD_PRELOAD="$LIB" "$IDLE"
wait_line noconf.out ready
# Not "profiling is off": a process that hides its environment (redis's
# process title) may run with prof:true and no dump signal.
expect_err 1 "^error: process $BG shows no MALLOC_CONF in /proc/$BG/environ and no dump thread: either profiling is off, or it is on without a dump signal" "$JEPROF_C" dump "$BG"
kill -0 "$BG" || fail "the process without MALLOC_CONF died"

start_bg noprof.out env LD_PRELOAD="$LIB" MALLOC_CONF="prof_dump_signal:USR2" "$IDLE"
wait_line noprof.out ready
expect_err 1 "^error: profiling is off in process $BG" "$JEPROF_C" dump "$BG"
# Even when told the signal, it is not sent: the process does not catch it.
expect_err 1 "^error: process $BG does not catch signal $(kill -l USR2)" \
    "$JEPROF_C" dump --signal=USR2 --prefix="$TMP/x" "$BG"
kill -0 "$BG" || fail "the process without profiling died"

start_bg nosig.out env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true" "$IDLE"
wait_line nosig.out ready
expect_err 1 "^error: process $BG has no dump signal" "$JEPROF_C" dump "$BG"

start_bg badsig.out env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,prof_dump_signal:USR9" "$IDLE"
wait_line badsig.out ready
grep -qx "<jemalloc>: Invalid conf value: prof_dump_signal:USR9" badsig.out.err ||
    fail "no conf error for USR9: $(cat badsig.out.err)"
expect_err 1 "^error: process $BG has no dump signal" "$JEPROF_C" dump "$BG"
kill -0 "$BG" || fail "the process with a refused value died"
PROBE=$(app_bin apps/ctl_conf_probe) || exit 1
[ "$(MALLOC_CONF=prof_dump_signal:SIGUSR2 "$PROBE" opt.prof_dump_signal:s)" = "opt.prof_dump_signal=SIGUSR2" ] ||
    fail "opt.prof_dump_signal does not read back SIGUSR2"
[ "$(env -u MALLOC_CONF "$PROBE" opt.prof_dump_signal:s)" = "opt.prof_dump_signal=" ] ||
    fail "opt.prof_dump_signal is not empty (off) by default"
for v in KILL SEGV 0 99 32 TERM INT HUP PIPE CHLD 15; do
    msg=$(env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,prof_dump_signal:$v" true 2>&1)
    [ "$msg" = "<jemalloc>: Invalid conf value: prof_dump_signal:$v" ] || fail "prof_dump_signal:$v: '$msg'"
done

start_bg ok.out env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,prof_prefix:$TMP/ok,prof_dump_signal:USR2" "$IDLE"
wait_line ok.out ready
ok=$BG
expect_err 1 "^error: process $ok does not catch signal $(kill -l USR1)" "$JEPROF_C" dump --signal=USR1 "$ok"
kill -STOP "$ok"
expect_err 1 "^error: no new dump from process $ok after 0.5 s: it is stopped" "$JEPROF_C" dump --timeout=0.5 "$ok"
kill -CONT "$ok"
"$JEPROF_C" dump --timeout=$DUMP_WAIT "$ok" >out.txt 2>err.txt || fail "dump after SIGCONT: $(cat err.txt)"
kill -0 "$ok" || fail "the profiled process died"

# Two MALLOC_CONF entries in the environment (execve allows it): the
# allocator reads the first (getenv), so must jeprof-c dump; it read the
# last one, and refused the signal the process does catch.
start_bg dup.out python3 -c 'import ctypes, sys
libc = ctypes.CDLL(None)
a = [x.encode() for x in sys.argv[1:]]
argv = (ctypes.c_char_p * 2)(a[0], None)
envp = (ctypes.c_char_p * 4)(a[1], a[2], a[3], None)
libc.execve(a[0], argv, envp)' "$IDLE" "LD_PRELOAD=$LIB" \
    "MALLOC_CONF=prof:true,prof_prefix:$TMP/dupA,prof_dump_signal:USR2" \
    "MALLOC_CONF=prof:true,prof_prefix:$TMP/dupB,prof_dump_signal:USR1"
wait_line dup.out ready
"$JEPROF_C" dump --timeout=$DUMP_WAIT "$BG" >out.txt 2>err.txt || fail "two MALLOC_CONF entries: $(cat err.txt)"
ls "$TMP"/dupA.* >/dev/null 2>&1 || fail "two MALLOC_CONF entries: no dump under the first one's prefix"
echo "ok   two MALLOC_CONF entries: the first one's signal and prefix"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    expect_err 1 "^error: process $ok belongs to another user (uid 0)" \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$JEPROF_C" dump "$ok"
else
    echo "other-user case skipped (needs root and setpriv)"
fi
echo ok
