#!/usr/bin/env bash
# prof_dual_redis: Debian's redis-server, which links libjemalloc.so.2, run
# under LD_PRELOAD=liballoc.so with prof_final (libprof/foreign.h). Before
# foreign.c, libjemalloc (initialised beside liballoc, reading the same
# MALLOC_CONF) wrote its empty <prefix>.<pid>.0.f.heap over liballoc's.
# After 50000 SETs of 400-byte values (redis-cli --pipe) and SHUTDOWN:
#  - <prefix>.<pid>.*.f.heap is the only final dump of redis's pid, its
#    total (jeprof-c --text) is over 10 MB, and the top entries include
#    redis's own functions (zmalloc, sds*, *Object*, dict*);
#  - libjemalloc's dumps, if any, are under <prefix>.jemalloc.<pid>.*, and
#    nothing else is in the directory;
#  - redis's stderr names libjemalloc.so.2 once.
# Skipped (77) without redis-server / redis-cli.
. "$(dirname "$0")/lib.sh"
need redis-server
need redis-cli
JEPROF_C=$ROOT/build/jeprof-c
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
REDIS=$(command -v redis-server)
ldd "$REDIS" | grep -q 'libjemalloc\.so' || skip "$REDIS does not link libjemalloc (not the case this test is about)"
D=$TMP/dumps
mkdir -p "$D"

PORT=""
PID=""
cleanup_hooks='[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null'
cli() { env -u MALLOC_CONF -u LD_PRELOAD timeout 300 redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }
for try in $(seq 0 9); do
    p=$((20000 + ($$ * 11 + try * 1031) % 30000))
    rm -f "$TMP/redis.log"
    env MALLOC_CONF="prof:true,prof_final:true,lg_prof_sample:17,prof_prefix:$D/heap" LD_PRELOAD="$LIB" \
        "$REDIS" --port "$p" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$TMP" \
        --logfile "$TMP/redis.log" --protected-mode yes 2>"$TMP/redis.err" &
    PID=$!
    for i in $(seq 1 600); do # up to 60 s (a loaded machine starts it slowly)
        kill -0 "$PID" 2>/dev/null || break
        if [ "$(env -u MALLOC_CONF timeout 5 redis-cli -h 127.0.0.1 -p "$p" ping 2>/dev/null)" = PONG ]; then
            PORT=$p
            break 2
        fi
        sleep 0.1
    done
    if kill -0 "$PID" 2>/dev/null; then
        kill -9 "$PID"
        fail "redis-server on port $p neither answered PING nor exited within 60 s: $(tail -5 "$TMP/redis.log")"
    fi
    wait "$PID" 2>/dev/null
    PID=""
    grep -q "Address already in use" "$TMP/redis.log" 2>/dev/null && continue
    fail "redis-server under liballoc exited at start: $(tail -5 "$TMP/redis.log" 2>/dev/null) $(cat "$TMP/redis.err")"
done
[ -n "$PORT" ] || skip "no free loopback port found in 10 tries"
grep -qF "$LIB" "/proc/$PID/maps" || fail "redis-server (pid $PID) does not map $LIB"

# 50000 keys of 400 bytes, in the protocol redis-cli --pipe sends as is.
awk 'BEGIN { v = sprintf("%400s", ""); gsub(/ /, "v", v)
             for (i = 0; i < 50000; i++) { k = "key:" i
                 printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$400\r\n%s\r\n", length(k), k, v } }' >"$TMP/fill.proto"
cli --pipe <"$TMP/fill.proto" >"$TMP/pipe.out" 2>&1 || fail "redis-cli --pipe: $(tail -3 "$TMP/pipe.out")"
[ "$(cli DBSIZE)" = 50000 ] || fail "DBSIZE is $(cli DBSIZE), not 50000"
cli SHUTDOWN NOSAVE >/dev/null 2>&1
for i in $(seq 1 600); do # up to 60 s
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$PID" 2>/dev/null && fail "redis-server did not exit within 60 s of SHUTDOWN"
wait "$PID" 2>/dev/null
pid=$PID
PID=""
cat "$TMP/redis.err"

finals=$(ls "$D" | grep -c "^heap\.$pid\..*\.f\.heap$")
[ "$finals" -eq 1 ] || fail "expected one final dump heap.$pid.*.f.heap, found $finals: $(ls "$D")"
f=$(ls "$D"/heap."$pid".*.f.heap)
for x in "$D"/*; do
    case $(basename "$x") in
    heap."$pid".*.f.heap | heap.jemalloc."$pid".*) ;;
    *) fail "unexpected file $(basename "$x") in the dump directory" ;;
    esac
done
"$JEPROF_C" --text --nodecount=15 "$REDIS" "$f" >"$TMP/report.txt" 2>"$TMP/report.err" ||
    fail "jeprof-c --text $f: $(cat "$TMP/report.err")"
head -n 16 "$TMP/report.txt"
total=$(awk '$1 == "Total:" { printf "%d\n", $2 * 1048576 }' "$TMP/report.txt")
[ -n "$total" ] && [ "$total" -gt 10000000 ] ||
    fail "$(basename "$f"): total ${total:-?} bytes, not over 10 MB (libjemalloc's empty dump over liballoc's?)"
grep -qE ' (zmalloc|zmalloc_usable|ztrymalloc_usable|sdsnewlen|_sdsnewlen|createStringObject|createRawStringObject|createEmbeddedStringObject|dictAddRaw|dictExpand|_dictExpand)$' "$TMP/report.txt" ||
    fail "no redis function among the top entries of $(basename "$f")"
n=$(grep -c "another jemalloc-API allocator is loaded: .*libjemalloc\.so" "$TMP/redis.err")
[ "$n" -eq 1 ] || fail "expected one warning naming libjemalloc.so.2 on redis's stderr, got $n"
echo "ok   redis-server: liballoc's final dump holds $total bytes; libjemalloc's: $(ls "$D" | grep -c '^heap\.jemalloc\.') file(s) under heap.jemalloc.*"
