#!/usr/bin/env bash
# prof_stress: the profiler under concurrency (tests/prof/stress.c) for
# 8 s at lg_prof_sample:10 (on a loaded machine longer, up to 60 s more,
# until every thread kind made its minimum progress): 8 threads allocate (16 B .. 4 MiB; malloc,
# calloc, realloc, posix_memalign) and free, half through other threads;
# a dumper thread calls prof.dump in a loop (explicit names and NULL) with
# a prof.reset every 16 dumps; a loader thread dlopens/dlcloses a tiny
# library (tests/prof/stress_lib.c, which allocates in its constructor);
# a spawner starts short-lived named threads; a forker forks every 50 ms
# and each child allocates, writes a dump and _exits (a child stuck for
# 60 s, e.g. on a lock held at fork time, fails the run). Checks: it ends in time (no
# deadlock: all thread stacks are printed with gdb if it hangs), exits 0
# (no crash, every prof.dump returned 0), made progress on every thread,
# and every dump written (explicit, m, f) is complete heap_v2: first line
# heap_v2/1024, well-formed blocks, ends with a MAPPED_LIBRARIES section
# (tests/prof/heapv2_check.awk), and build/jeprof-c --text reads them all
# (one run over all files, then one run per file for every 10th file);
# no temporary dump file is left behind. A second, 3 s run does the same
# with prof_unwind:fp (the frame-pointer walker over code built without
# frame pointers) and prof_accum:true at lg_prof_sample:6.
# TEST_LONG=1 (make check-long) runs the first phase for 60 s.
# PROF_TEST_LIB=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 runs it against
# Debian's jemalloc 5.3, which passes (prof_unwind is ignored there).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
prof_need stress
prof_need libstress_lib.so
BIN=$PROF_OUT/stress
SECS=${PROF_STRESS_SECONDS:-8}
[ "${TEST_LONG:-0}" = 1 ] && SECS=${PROF_STRESS_SECONDS:-60}
# The run may go on 60 s past SECS to reach its minimum progress, a stuck
# fork child is reported after 60 s: beyond that it hangs.
LIMIT=$((SECS + 150))
phase=0
status=0
# One run: conf secs period accum.
run_phase() {
    local conf=$1 secs=$2 period=$3 accum=$4
    local D=$TMP/phase$((++phase))
    mkdir -p "$D"
    echo "=== MALLOC_CONF=prof:true,prof_prefix:...,prof_final:true,$conf for $secs s"
    env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,prof_prefix:$D/auto,prof_final:true,$conf" \
        "$BIN" "$D" "$secs" "$PROF_OUT/libstress_lib.so" >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    waited=0
    while kill -0 $pid 2>/dev/null && [ $waited -lt $((LIMIT * 10)) ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 $pid 2>/dev/null; then
        echo "FAIL: stress still running after ${LIMIT} s (deadlock?)"
        if command -v gdb >/dev/null 2>&1; then
            timeout 60 gdb -p $pid -batch -ex "thread apply all bt" 2>&1 | grep -E '^(Thread|#)' | head -200
        else
            for t in /proc/$pid/task/*; do echo "$t: $(cat "$t/wchan" 2>/dev/null) $(cat "$t/stat" 2>/dev/null | cut -d' ' -f3)"; done
        fi
        kill -9 $pid
        wait $pid 2>/dev/null
        cat "$TMP/out" "$TMP/err"
        exit 1
    fi
    wait $pid
    rc=$?
    cat "$TMP/out"
    [ -s "$TMP/err" ] && head -20 "$TMP/err"
    [ $rc -eq 0 ] || { echo "FAIL: stress exited $rc$([ $rc -gt 128 ] && echo " (signal $((rc - 128)))")"; status=1; }

    # Progress on every thread kind.
    awk '/^stress:/ {
            ok = $2 >= 10000 && $9 >= 10 && $13 >= 10 && $15 >= 10 && $18 >= 5
            found = 1
            if (!ok) { print "FAIL: too little progress: " $0; exit 1 } }
         END { if (!found) { print "FAIL: no summary line"; exit 1 } }' "$TMP/out" || status=1

    shopt -s nullglob
    files=("$D"/*.heap)
    nexp=$(ls "$D" | grep -c '^[sc]\.[0-9]*\.heap$')
    nm=$(ls "$D" | grep -c '^auto\.[0-9]*\.[0-9]*\.m[0-9]*\.heap$')
    nf=$(ls "$D" | grep -c '^auto\.[0-9]*\.[0-9]*\.f\.heap$')
    echo "dumps: ${#files[@]} ($nexp explicit (parent and forked children), $nm m, $nf f)"
    [ "$nexp" -ge 5 ] && [ "$nm" -ge 5 ] && [ "$nf" -eq 1 ] || { ls "$D" | head; echo "FAIL: missing dumps"; status=1; }
    [ $((nexp + nm + nf)) -eq ${#files[@]} ] || { ls "$D" | grep -Ev '^([sc]\.[0-9]+|auto\.[0-9]+\.[0-9]+\.(m[0-9]+|f))\.heap$'; echo "FAIL: unexpected files"; status=1; }
    tmps=$(find "$TMP" -name '*.tmp.*')
    [ -z "$tmps" ] || { echo "FAIL: temporary dump files left behind: $tmps"; status=1; }

    nbad=0
    for f in "${files[@]}"; do
        if [ "$(head -1 "$f")" != "heap_v2/$period" ] || ! awk -v accum="$accum" -f "$ROOT/tests/prof/heapv2_check.awk" "$f" >"$TMP/chk" 2>&1; then
            nbad=$((nbad + 1))
            [ $nbad -le 5 ] && { echo "FAIL: $(basename "$f") is not a complete heap_v2/$period dump (first line '$(head -1 "$f")'):"; cat "$TMP/chk"; }
            status=1
        fi
    done
    echo "heap_v2 grammar: $((${#files[@]} - nbad)) of ${#files[@]} dumps well-formed"

    "$JEPROF_C" --text "$BIN" "${files[@]}" >"$TMP/all.txt" 2>"$TMP/all.err" || {
        echo "FAIL: jeprof-c --text on all ${#files[@]} dumps:"
        head -5 "$TMP/all.err"
        status=1
    }
    grep -q 'stress_alloc' "$TMP/all.txt" || { echo "FAIL: jeprof-c --text on all dumps does not show stress_alloc"; head -5 "$TMP/all.txt"; status=1; }
    i=0
    for f in "${files[@]}"; do
        i=$((i + 1))
        [ $((i % 10)) -eq 1 ] || [ "$f" = "${files[-1]}" ] || continue
        "$JEPROF_C" --text "$BIN" "$f" >/dev/null 2>"$TMP/one.err" || {
            echo "FAIL: jeprof-c --text $(basename "$f"): $(head -1 "$TMP/one.err")"
            status=1
        }
    done
}

run_phase "lg_prof_sample:10" "$SECS" 1024 0
# The frame-pointer walker on code built without frame pointers must stay
# safe; prof_accum keeps every stack.
run_phase "lg_prof_sample:6,prof_unwind:fp,prof_accum:true" 3 64 1

[ $status -eq 0 ] || fail "see above"
echo "PASS"
