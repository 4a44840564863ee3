#!/usr/bin/env bash
# dump_signal_dlopen: the dump signal arriving during dlopen/dlclose.
# tests/dumpsig/dlopener loads and unloads tests/dumpsig/libdlib.so for
# 1.5 s (its constructor and function allocate, so samples have frames in
# a library that comes and goes) while the test sends USR2 every few ms:
# the dump thread unwinds, reads /proc/self/maps and ELF files while the
# loader maps and unmaps; on a loaded machine it goes on until 3 dumps
# came (a stop file tells it). Checks: the run ends (no deadlock: 90 s
# bound), 3 or more dumps were written, every one whole (heap_v2 header and
# MAPPED_LIBRARIES; the pprof files gunzip), readable by jeprof-c.
. "$(dirname "$0")/lib_dumpsig.sh"
DLOPENER=$(app_bin dumpsig/dlopener) || exit 1
DLIB=$(app_bin dumpsig/libdlib.so) || exit 1
cd "$TMP"
start_bg dl.out env LD_PRELOAD="$LIB" \
    MALLOC_CONF="prof:true,lg_prof_sample:10,prof_prefix:$TMP/d,prof_dump_signal:USR2,prof_format:both" \
    "$DLOPENER" "$DLIB" 1500 "$TMP/stop"
pid=$BG
wait_catch "$pid" "$(kill -l USR2)" "$DLOPENER"
t0=$SECONDS
i=0
while kill -0 "$pid" 2>/dev/null; do
    [ $((SECONDS - t0)) -lt 90 ] || fail "still running after 90 s: deadlock? (threads: $(cat /proc/$pid/task/*/wchan 2>/dev/null | tr '\n' ' '))"
    kill -USR2 "$pid" 2>/dev/null
    sleep 0.004
    # Every 25th round: enough dumps? Then the loader may stop (after 1.5 s).
    if [ $((++i % 25)) = 0 ] && [ ! -e "$TMP/stop" ] &&
        [ "$(ls d."$pid".*.m*.heap 2>/dev/null | wc -l)" -ge 3 ]; then
        touch "$TMP/stop"
    fi
done
grep -q "^done [1-9]" dl.out || fail "dlopener did not finish: $(cat dl.out dl.out.err | tail -5)"
n=$(ls d."$pid".*.m*.heap 2>/dev/null | wc -l)
echo "dumps: $n, $(cat dl.out) dlopen rounds"
[ "$n" -ge 3 ] || fail "only $n manual dumps"
for f in d.*.heap; do
    head -n 1 "$f" | grep -q "^heap_v2/" || fail "$f: no heap_v2 header"
    grep -q "^MAPPED_LIBRARIES:" "$f" || fail "$f: cut short (no MAPPED_LIBRARIES)"
    gzip -t "${f%.heap}.pb.gz" 2>/dev/null || fail "${f%.heap}.pb.gz is not whole"
done
for f in $(ls d.*.heap | head -n 2) $(ls d.*.heap | tail -n 2); do
    "$JEPROF_C" --text --quiet "$DLOPENER" "$f" >/dev/null 2>&1 || fail "jeprof-c cannot read $f"
done
echo ok
