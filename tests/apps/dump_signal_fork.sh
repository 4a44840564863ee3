#!/usr/bin/env bash
# dump_signal_fork: the dump signal arriving while a process forks.
# tests/dumpsig/forker forks 150 children in a loop (each allocates, sleeps
# 2 ms, exits; the parent allocates between forks) while the test sends
# USR2 to the whole process group every few ms, so signals land in the
# parent mid-fork, in children before and after their fork handlers, and
# during dumps. Checks: the run ends (no deadlock: 60 s bound) with every
# child exiting 0 (none killed by the signal), the parent wrote several
# manual dumps, children wrote dumps under their own pids, and every dump
# file is whole (heap_v2 header, MAPPED_LIBRARIES section, readable by
# jeprof-c); no dump of a child carries the parent's pid.
. "$(dirname "$0")/lib_dumpsig.sh"
FORKER=$(app_bin dumpsig/forker) || exit 1
cd "$TMP"
start_bg fork.out env LD_PRELOAD="$LIB" \
    MALLOC_CONF="prof:true,lg_prof_sample:12,prof_prefix:$TMP/f,prof_dump_signal:USR2" \
    setsid "$FORKER" 150
pid=$BG
sleep 0.2
t0=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
    [ $((SECONDS - t0)) -lt 60 ] || fail "still running after 60 s: deadlock? (threads: $(cat /proc/$pid/task/*/wchan 2>/dev/null | tr '\n' ' '))"
    kill -USR2 -- "-$pid" 2>/dev/null
    sleep 0.004
done
grep -qx done fork.out || fail "forker did not finish: $(cat fork.out fork.out.err | tail -5)"
sleep 0.5 # children's dump threads finishing their last files
nparent=$(ls f."$pid".*.m*.heap 2>/dev/null | wc -l)
# Dumps start 200 ms apart at the most (a storm is coalesced); the run
# lasts over 300 ms (150 children of 2 ms each, waited for), so 2 at least.
[ "$nparent" -ge 2 ] || fail "only $nparent manual dumps from the parent"
nchild=$(ls f.*.m*.heap | grep -vc "^f\.$pid\.")
echo "parent dumps: $nparent, child dumps: $nchild"
[ "$nchild" -ge 1 ] || fail "no fork child answered the signal"
for f in f.*.heap; do
    head -n 1 "$f" | grep -q "^heap_v2/" || fail "$f: no heap_v2 header"
    grep -q "^MAPPED_LIBRARIES:" "$f" || fail "$f: cut short (no MAPPED_LIBRARIES)"
done
for f in $(ls f.*.heap | head -n 3) $(ls f.*.heap | tail -n 2); do
    "$JEPROF_C" --text --quiet "$FORKER" "$f" >/dev/null 2>&1 || fail "jeprof-c cannot read $f"
done
echo ok
