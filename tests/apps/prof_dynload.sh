#!/usr/bin/env bash
# prof_dynload: the profiler's optional libraries (libunwind, zlib,
# libprotobuf-c) are loaded with dlopen when it runs (libprof/dynload.h),
# not linked: a process that never profiles maps none of them, and one
# whose library cannot be loaded gets a clear error from that feature.
# The probe (tests/apps/prof_dynload_probe.c) samples, asks for a pprof
# profile through prof.dump_pprof_fd and lists what it maps. Also: an
# unloadable libunwind under prof_unwind:auto is named, a library lacking a
# symbol is named with it and unmapped, and prof_http without zlib answers
# 503 with the reason.
. "$(dirname "$0")/lib.sh"
need readelf
P=$(app_bin apps/prof_dynload_probe) || exit 1
probe() { env -u LD_PRELOAD MALLOC_CONF="$1" "$P" 2>"$TMP/err"; }

needed=$(readelf -d "$LIB" | grep NEEDED)
grep -qE 'libunwind|libprotobuf-c|libz\.' <<<"$needed" && fail "liballoc.so still links them: $needed"
echo "pass: liballoc.so needs none of libunwind, libz, libprotobuf-c"

# Never profiles: nothing loaded; prof.dump_pprof_fd is ENOENT (no prof).
out=$(probe "") || fail "probe without prof failed: $(cat "$TMP/err")"
[ "$out" = $'pprof=2\nmaps:' ] || fail "without prof: '$out', expected pprof=2 and nothing mapped"
echo "pass: without prof nothing is loaded"

# prof:true with frame pointers and heap_v2 dumps: nothing at start; the
# pprof mallctl loads zlib and libprotobuf-c (not libunwind) and works.
out=$(probe "prof:true,prof_unwind:fp") || fail "probe prof_unwind:fp failed: $(cat "$TMP/err")"
[ "$out" = $'pprof=0\nmaps: libz libprotobuf-c' ] ||
    fail "prof_unwind:fp: '$out', expected a pprof written and only libz, libprotobuf-c mapped"
echo "pass: prof_unwind:fp loads no libunwind; the pprof mallctl loads zlib and protobuf-c"

# prof:true (auto: libunwind for what the cached rules cannot walk).
out=$(probe "prof:true") || fail "probe prof:true failed: $(cat "$TMP/err")"
[ "$out" = $'pprof=0\nmaps: libunwind libz libprotobuf-c' ] || fail "prof:true: '$out'"
[ -s "$TMP/err" ] && fail "prof:true printed: $(cat "$TMP/err")"
echo "pass: prof:true loads libunwind"

# Libraries that cannot be loaded (an empty file found first): each is
# named on stderr, the pprof mallctl fails with ENOENT, the program runs on
# (prof_unwind:libunwind walks frame pointers).
mkdir -p "$TMP/bogus"
: >"$TMP/bogus/libz.so.1"
: >"$TMP/bogus/libunwind.so.8"
out=$(LD_LIBRARY_PATH="$TMP/bogus" probe "prof:true,prof_unwind:libunwind") ||
    fail "probe with unloadable libraries crashed or failed: $(cat "$TMP/err")"
grep -q '^pprof=2$' <<<"$out" || fail "without zlib the pprof mallctl gave '$out', not ENOENT (2)"
grep -q 'cannot load libz.so.1' "$TMP/err" || fail "no error names libz.so.1: $(cat "$TMP/err")"
grep -q 'cannot load libunwind.so.8' "$TMP/err" ||
    fail "no error names libunwind.so.8: $(cat "$TMP/err")"
echo "pass: unloadable libraries are named, pprof fails with ENOENT, the program runs on"

# prof_unwind:auto without libunwind: the frames the cached rules cannot
# walk then follow frame pointers, which can be wrong in code built without
# them: named on stderr too, with that consequence.
out=$(LD_LIBRARY_PATH="$TMP/bogus" probe "prof:true") ||
    fail "probe prof:true with an unloadable libunwind failed: $(cat "$TMP/err")"
grep -q 'cannot load libunwind.so.8 (.*): stacks follow frame pointers' "$TMP/err" ||
    fail "prof_unwind:auto without libunwind said nothing: '$(cat "$TMP/err")'"
echo "pass: prof_unwind:auto names an unloadable libunwind"

# A library of that name that is not the one meant (another library's copy):
# the missing symbol is named, pprof fails with ENOENT.
LIBM=$(ldconfig -p | awk '$1 == "libm.so.6" && /x86-64|x86_64/ { print $NF; exit }')
if [ -n "$LIBM" ]; then
    mkdir -p "$TMP/wrong"
    cp "$LIBM" "$TMP/wrong/libz.so.1"
    out=$(LD_LIBRARY_PATH="$TMP/wrong" probe "prof:true,prof_unwind:fp") ||
        fail "probe with a wrong libz.so.1 failed: $(cat "$TMP/err")"
    grep -q '^pprof=2$' <<<"$out" || fail "with a wrong libz.so.1 the pprof mallctl gave '$out'"
    grep -q 'cannot load libz.so.1 (no symbol deflateInit2_): pprof dumps fail with ENOENT' "$TMP/err" ||
        fail "the missing symbol is not named: '$(cat "$TMP/err")'"
    grep -q 'libz' <<<"$out" && fail "the wrong libz.so.1 stays mapped: '$out'"
    echo "pass: a library lacking a symbol is named with it, and closed again"
fi

# prof_http without zlib: /debug/pprof/heap answers 503 naming the missing
# libraries (GET and HEAD), not 500 "out of memory" nor a 200 for HEAD.
if command -v python3 >/dev/null 2>&1; then
    CLIENT=$ROOT/tests/prof/http_client.py
    PORT=$(python3 "$CLIENT" freeport) || fail "no free port"
    env LD_LIBRARY_PATH="$TMP/bogus" LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,prof_http:127.0.0.1:$PORT" \
        sleep 60 2>"$TMP/http.err" &
    spid=$!
    cleanup_hooks="kill $spid 2>/dev/null; $cleanup_hooks"
    up=0
    for _ in $(seq 300); do # 30 s at most (a loaded machine)
        python3 "$CLIENT" get "$PORT" /debug/pprof/ - >"$TMP/idx.hdr" 2>/dev/null &&
            [ "$(head -1 "$TMP/idx.hdr")" = 200 ] && { up=1; break; }
        sleep 0.1
    done
    [ $up = 1 ] || fail "prof_http did not start: $(cat "$TMP/http.err")"
    # (the client's whole output to a file: a pipe closed early would cut
    # it off before it writes the body)
    python3 "$CLIENT" get "$PORT" /debug/pprof/heap "$TMP/heap.body" >"$TMP/heap.hdr" ||
        fail "GET /debug/pprof/heap failed"
    st=$(head -1 "$TMP/heap.hdr")
    [ "$st" = 503 ] || fail "GET /debug/pprof/heap without zlib: status $st, want 503: $(head -c 200 "$TMP/heap.body")"
    grep -q 'zlib or libprotobuf-c could not be loaded' "$TMP/heap.body" ||
        fail "the 503 does not say why: $(head -c 200 "$TMP/heap.body")"
    python3 "$CLIENT" get "$PORT" /debug/pprof/heap - HEAD >"$TMP/head.hdr" || fail "HEAD /debug/pprof/heap failed"
    st=$(head -1 "$TMP/head.hdr")
    [ "$st" = 503 ] || fail "HEAD /debug/pprof/heap without zlib: status $st, want 503"
    kill $spid 2>/dev/null
    echo "pass: prof_http without zlib answers 503 with the reason"
fi
exit 0
