#!/usr/bin/env bash
# dump_signal_fork: the dump signal arriving while a process forks.
# tests/dumpsig/forker forks 150 children in a loop (each allocates, sleeps
# 2 ms, exits; the parent allocates between forks) while the test sends
# USR2 to the whole process group every few ms, so signals land in the
# parent mid-fork, in children before and after their fork handlers, and
# during dumps. Checks: the run ends (no deadlock: no child reaped for 60 s;
# a loaded machine may take minutes in all) with every
# child exiting 0 (none killed by the signal), the parent wrote several
# manual dumps, children wrote dumps under their own pids, and every dump
# file is whole (heap_v2 header, MAPPED_LIBRARIES section, readable by
# jeprof-c); no dump of a child carries the parent's pid. Then signals to
# the parent alone: no child writes a dump.
. "$(dirname "$0")/lib_dumpsig.sh"
FORKER=$(app_bin dumpsig/forker) || exit 1
cd "$TMP"
# setsid outside the preload: preloaded, it would catch USR2 itself before
# exec'ing the forker, whose handler is not installed yet (a USR2 then killed
# the forker silently on a loaded machine).
start_bg fork.out setsid env LD_PRELOAD="$LIB" \
    MALLOC_CONF="prof:true,lg_prof_sample:12,prof_prefix:$TMP/f,prof_dump_signal:USR2" \
    "$FORKER" 150 "$TMP/stop"
pid=$BG
wait_catch "$pid" "$(kill -l USR2)" "$FORKER"
t0=$SECONDS
last=""
i=0
while kill -0 "$pid" 2>/dev/null; do
    if [ $((++i % 25)) = 0 ]; then # progress: the last "reaped I" line
        now=$(tail -n 1 fork.out 2>/dev/null)
        [ "$now" != "$last" ] && { last=$now; t0=$SECONDS; }
    fi
    [ $((SECONDS - t0)) -lt 60 ] || fail "no child reaped for 60 s ($last): deadlock? (threads: $(cat /proc/$pid/task/*/wchan 2>/dev/null | tr '\n' ' '))"
    kill -USR2 -- "-$pid" 2>/dev/null
    sleep 0.004
    # After the 150 children, the forker goes on until the parent wrote 2
    # dumps and a child 1 (a loaded machine writes fewer per second).
    if [ $((i % 25)) = 0 ] && [ ! -e "$TMP/stop" ] &&
        [ "$(ls f."$pid".*.m*.heap 2>/dev/null | wc -l)" -ge 2 ] &&
        [ "$(ls f.*.m*.heap 2>/dev/null | grep -vc "^f\.$pid\.")" -ge 1 ]; then
        touch "$TMP/stop"
    fi
done
grep -qx done fork.out || fail "forker did not finish: $(cat fork.out fork.out.err | tail -5)"
# Children's dump threads finishing their last files: exit waits for a dump
# in progress and files are renamed into place whole, so once every child
# is reaped (done) no file is half-written; .tmp files must be gone.
ls | grep -q '\.tmp\.' && fail "temporary dump files left: $(ls | grep '\.tmp\.')"
nparent=$(ls f."$pid".*.m*.heap 2>/dev/null | wc -l)
# Dumps start 200 ms apart at the most (a storm is coalesced); the run
# lasts over 300 ms (150 children of 2 ms each, waited for) and goes on
# until 2 parent dumps came (the stop file), so 2 at least.
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

# Signals to the parent alone: children forked while a request was still
# pending in the parent (during its dump or the 200 ms gap between dumps)
# must not answer it. Before, every child forked then wrote a dump of its
# own (84 from 10 signals 50 ms apart).
mkdir only && cd only
start_bg fork.out setsid env LD_PRELOAD="$LIB" \
    MALLOC_CONF="prof:true,lg_prof_sample:12,prof_prefix:$TMP/only/g,prof_dump_signal:USR2" \
    "$FORKER" 0 "$TMP/only/stop"
pid=$BG
wait_catch "$pid" "$(kill -l USR2)" "$FORKER"
for i in $(seq 10); do
    kill -USR2 "$pid"
    sleep 0.05
done
sleep 0.5 # the last request's dump
touch stop
wait_line fork.out '^done$' # (start_bg disowns it: no wait)
for _ in $(seq 1200); do # its exit (the last dump renamed), 60 s at most
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
np=$(ls g."$pid".*.m*.heap 2>/dev/null | wc -l)
nc=$(ls g.* 2>/dev/null | grep -vc "^g\.$pid\.")
[ "$np" -ge 2 ] || fail "signals to the parent alone: $np parent dumps"
[ "$nc" = 0 ] || fail "children that were never signalled wrote $nc files: $(ls g.* | grep -v "^g\.$pid\." | head -3)"
echo "signals to the parent alone: $np parent dumps, none from its children"
echo ok
