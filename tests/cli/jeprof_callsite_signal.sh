#!/usr/bin/env bash
# A stack that crosses a signal handler (tests/cli/callsite/sigframe.c): a
# SIGSEGV handler allocates. Two of its frames are not return addresses:
# the signal-return trampoline's first instruction, which the handler
# "returns" to, and the interrupted frame's pc, the faulting instruction.
# Every reader moves frames one byte back into their call, which named the
# function before the trampoline (__sigaction) and the line before the
# fault; the profiler stores both one byte on. Checked with
# prof_unwind:auto (the .eh_frame walk hands a signal frame to libunwind)
# and :libunwind, in jeprof-c on heap_v2 and pprof, Debian's jeprof and
# go tool pprof: the faulting line carries the bytes (cumulative), and the
# trampoline is named __restore_rt.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
[ "$(uname -m)" = x86_64 ] || skip "the signal trampoline is recognised on x86-64 only"
SRC=$CS/sigframe.c
FAULT=sigframe.c:$(mark "$SRC" FAULT)
HANDLER=sigframe.c:$(mark "$SRC" HANDLER)
gcc -O2 -g -o "$WORK/sigframe" "$SRC" || fail "cannot build sigframe.c"
for unwind in auto libunwind; do
    rm -f "$WORK"/sig.*
    LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_format:both,prof_unwind:$unwind,prof_prefix:$WORK/sig \
        "$WORK/sigframe" >/dev/null || fail "sigframe failed under $LIBALLOC"
    HEAP=$(ls "$WORK"/sig.*.f.heap | head -n 1)
    PB=$(ls "$WORK"/sig.*.f.pb.gz | head -n 1)
    "$JEPROF_C" --quiet --text --lines --cum "$WORK/sigframe" "$HEAP" >"$WORK/hv2.txt" || fail "jeprof-c failed"
    has_flat "$unwind jeprof-c heap_v2" "$WORK/hv2.txt" "$HANDLER" handler
    has_cum "$unwind jeprof-c heap_v2" "$WORK/hv2.txt" "$FAULT" toucher
    "$JEPROF_C" --quiet --traces "$WORK/sigframe" "$PB" >"$WORK/traces.txt" || fail "jeprof-c --traces failed"
    awk '/ handler$/ { h = NR } h && NR == h + 1 && $1 == "__restore_rt" { ok = 1 } END { exit !ok }' \
        "$WORK/traces.txt" || { cat "$WORK/traces.txt"; fail "$unwind: the frame after handler is not __restore_rt"; }
    echo "ok   $unwind jeprof-c --traces: handler, __restore_rt, toucher"
    "$JEPROF_C" --quiet --text --lines --cum "$WORK/sigframe" "$PB" >"$WORK/pb.txt" || fail "jeprof-c failed on .pb.gz"
    has_cum "$unwind jeprof-c pprof" "$WORK/pb.txt" "$FAULT" toucher
    if command -v jeprof >/dev/null; then
        jeprof --text --lines --cum "$WORK/sigframe" "$HEAP" >"$WORK/jeprof.txt" 2>/dev/null || fail "jeprof failed"
        has_cum "$unwind Debian jeprof heap_v2" "$WORK/jeprof.txt" "$FAULT"
        grep -q "__restore_rt" "$WORK/jeprof.txt" || { cat "$WORK/jeprof.txt"; fail "$unwind: Debian jeprof does not name __restore_rt"; }
    fi
    if command -v go >/dev/null; then
        go_top "$unwind go pprof" "$PB" "$WORK/go.txt" "$WORK/sigframe"
        has_cum "$unwind go tool pprof" "$WORK/go.txt" "$FAULT"
    fi
done
[ "$NFAIL" = 0 ] || fail "$NFAIL checks failed"
echo "PASS: a signal handler's stack: the faulting line and __restore_rt in every reader"
