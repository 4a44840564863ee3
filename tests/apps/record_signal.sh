#!/usr/bin/env bash
# record_signal: `jeprof-c record` on a service that never exits, stopped
# by a signal sent to record. tests/dumpsig/idle allocates known_site
# (32 MiB) and sleeps forever.
#   - SIGTERM to record: it asks the command for a dump (prof_dump_signal),
#     waits for it, forwards SIGTERM, and reports from that dump: known_site
#     within 15%, the report says the command was killed by SIGTERM and
#     names the dump; exit status 143 (the command's);
#   - the user's MALLOC_CONF is kept: prof_format:both gives .pb.gz files
#     too, its lg_prof_sample:14 applies when --lg-sample is not given, its
#     prof_dump_signal:USR1 is the signal installed and used;
#   - children are followed (`idle fork`, SIGINT): one report per process,
#     the child's with child_site; --sum (SIGHUP): one report with the sum
#     (known_site twice: both processes hold it);
#   - on a terminal (a pty from script(1)): Ctrl-C typed there reaches
#     record only (the command runs in its own process group), which gets
#     the dump first (known_site in the report); a command that reads the
#     terminal is given it (head -n 1 reads the typed line) and ends normally.
. "$(dirname "$0")/lib_dumpsig.sh"
cd "$TMP"

# record_until sig out args...: runs `jeprof-c record args...` until its
# command printed "ready", sends sig to record and waits; sets RC.
record_until() {
    local sig=$1 out=$2; shift 2
    # Background jobs of a script start with SIGINT ignored (and so would
    # the command): give record and the command the default disposition.
    env --default-signal=INT "$JEPROF_C" record "$@" >"$out" 2>"$out.err" &
    local rec=$!
    BG_PIDS="$BG_PIDS $rec"
    wait_line "$out" '^ready'
    CMD_PID=$(tr -d " " </proc/$rec/task/$rec/children)
    CMD_SIGCGT=$(awk '/^SigCgt:/ {print $2}' /proc/$CMD_PID/status)
    kill -"$sig" "$rec"
    local t0=$SECONDS
    while kill -0 "$rec" 2>/dev/null && [ $((SECONDS - t0)) -lt 60 ]; do sleep 0.05; done
    kill -0 "$rec" 2>/dev/null && fail "record still running 60 s after SIG$sig"
    wait "$rec"
    RC=$?
}

# 1. SIGTERM.
record_until TERM a.out -o a --lg-sample=14 -- "$IDLE"
[ "$RC" = 143 ] || fail "record exited $RC, want 143: $(cat a.out.err)"
dump=$(ls a/heap.*.m0.heap 2>/dev/null | head -n 1)
[ -n "$dump" ] || fail "no dump taken on SIGTERM: $(ls a) $(cat a.out.err)"
grep -q "killed by SIGTERM, so this is its newest dump" a.out.err || fail "report lacks the signal: $(cat a.out.err)"
grep -qF "$dump" a.out.err || fail "report does not name $dump"
grep -q "^Total: " a.out || fail "no report printed: $(cat a.out)"
grep -q " known_site$" a.out || fail "known_site missing from the report"
within15 "known_site via record/SIGTERM" "$(site_bytes "$IDLE" "$dump" known_site)" "$KNOWN_BYTES"
head -n 1 "$dump" | grep -q "heap_v2/16384" || fail "--lg-sample=14 not applied: $(head -n 1 "$dump")"

# 2. The user's MALLOC_CONF stays (and its lg_prof_sample wins without
# --lg-sample; its dump signal USR1 is the one installed and sent).
MALLOC_CONF="prof_format:both,lg_prof_sample:14,prof_dump_signal:USR1" record_until TERM b.out -o b -- "$IDLE"
caught() { (( (0x$CMD_SIGCGT >> ($(kill -l "$1") - 1)) & 1 )); }
caught USR1 || fail "the user's prof_dump_signal:USR1 is not installed (SigCgt $CMD_SIGCGT)"
caught USR2 && fail "record installed USR2 over the user's USR1 (SigCgt $CMD_SIGCGT)"
ls b/heap.*.m0.pb.gz >/dev/null 2>&1 || fail "the user's prof_format:both was dropped: $(ls b)"
head -n 1 b/heap.*.m0.heap | grep -q "heap_v2/16384" || fail "the user's lg_prof_sample was dropped"

# 3. Children, one report each (SIGINT).
record_until INT c.out -o c --lg-sample=14 -- "$IDLE" fork
child=$(awk '/^child/ {print $2}' c.out)
[ "$(grep -c '^== process ' c.out)" = 2 ] || fail "want 2 per-process reports: $(grep '^==' c.out)"
grep -q "^== process $child (child) ==" c.out || fail "no report for child $child"
awk -v c="$child" '/^== process/ {on = ($3 == c)} on && $NF == "child_site" {f = 1} END {exit !f}' c.out ||
    fail "the child's report lacks child_site"
within15 "child_site in the child's dump" "$(site_bytes "$IDLE" c/heap."$child".0.m0.heap child_site)" "$CHILD_BYTES"

# 4. --sum (SIGHUP): both processes' known_site together.
record_until HUP d.out -o d --lg-sample=14 --sum -- "$IDLE" fork
grep -q "^== process" d.out && fail "--sum printed per-process reports"
grep -q "the sum of 2 processes" d.out.err || fail "--sum did not sum 2 processes: $(cat d.out.err)"
dumps=$(ls d/heap.*.m0.heap)
got=$("$JEPROF_C" --text --show_bytes --quiet "$IDLE" $dumps 2>/dev/null | awk '$NF == "known_site" {print $1}')
within15 "known_site summed over 2 processes" "${got:-0}" $((2 * KNOWN_BYTES))

# 5. A terminal: Ctrl-C typed, and a command reading the terminal.
# The typist waits (60 s at most, polling script's output) for the command
# to be ready before typing, and keeps the terminal open until the report
# is out: fixed sleeps were too short on a loaded machine.
until_in() { # file regex: poll for a line, 60 s at most
    for _ in $(seq 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 0
}
if command -v script >/dev/null; then
    rm -f e.out
    (until_in e.out ready; printf '\003'; until_in e.out 'known_site') |
        timeout 120 script -qfec "$JEPROF_C record -o e --lg-sample=14 -- $IDLE" /dev/null >e.out 2>&1
    tr -d '\r' <e.out >e.txt
    grep -q "got SIGINT: asking" e.txt || fail "Ctrl-C on the terminal did not reach record: $(head -5 e.txt)"
    ls e/heap.*.m0.heap >/dev/null 2>&1 || fail "no dump after Ctrl-C on the terminal: $(head -8 e.txt)"
    grep -q " known_site$" e.txt || fail "no known_site in the report after Ctrl-C"
    rm -f t.out
    (sleep 0.5; printf 'typed line\n'; until_in t.out 'final dump') |
        timeout 120 script -qfec "$JEPROF_C record -o t -- head -n 1" /dev/null >t.out 2>&1
    tr -d '\r' <t.out >t.txt
    [ "$(grep -c '^typed line$' t.txt)" = 2 ] || fail "the command did not read the terminal: $(head -5 t.txt)"
    grep -q "final dump" t.txt || fail "no final dump of the reading command: $(head -5 t.txt)"
else
    echo "terminal cases skipped: no script(1)"
fi
echo ok
