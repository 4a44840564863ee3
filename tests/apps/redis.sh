#!/usr/bin/env bash
# redis-server under LD_PRELOAD=liballoc (Debian's build links libjemalloc;
# the preload interposes malloc & co. and mallctl): start it on a free
# 127.0.0.1 port with persistence off, check liballoc is in its maps, run
# redis-benchmark (set,get,lpush,lpop; 20000 requests each), round-trip
# values of 1 B to 1 MiB through redis-cli (SET/GET, APPEND, lists, hashes),
# check INFO memory answers (with allocator stats that redis reads through
# mallctl), MEMORY MALLOC-STATS, then SHUTDOWN NOSAVE and expect exit 0.
# Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.sh"
need redis-server
need redis-cli
need redis-benchmark
check_preload_maps
check_stats_print redis-server --version

PORT=""
PID=""
cleanup_hooks='[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null'
cli() { env LD_PRELOAD="$LIB" timeout 120 redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

# Start on the first port that binds (ports chosen from the pid, 10 tries).
for try in $(seq 0 9); do
    p=$((20000 + ($$ * 7 + try * 1031) % 30000))
    rm -f "$TMP/redis.log"
    env -u MALLOC_CONF LD_PRELOAD="$LIB" redis-server --port "$p" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no --dir "$TMP" --logfile "$TMP/redis.log" --protected-mode yes &
    PID=$!
    for i in $(seq 1 600); do # up to 60 s (a loaded machine starts it slowly)
        kill -0 "$PID" 2>/dev/null || break
        if [ "$(env LD_PRELOAD="$LIB" timeout 5 redis-cli -h 127.0.0.1 -p "$p" ping 2>/dev/null)" = PONG ]; then
            PORT=$p
            break 2
        fi
        sleep 0.1
    done
    if kill -0 "$PID" 2>/dev/null; then
        kill -9 "$PID"
        wait "$PID" 2>/dev/null
        fail "redis-server on port $p neither answered PING nor exited within 60 s: $(tail -5 "$TMP/redis.log")"
    fi
    wait "$PID" 2>/dev/null
    PID=""
    grep -q "Address already in use" "$TMP/redis.log" 2>/dev/null && continue
    fail "redis-server under liballoc exited at start: $(tail -5 "$TMP/redis.log" 2>/dev/null)"
done
[ -n "$PORT" ] || skip "no free loopback port found in 10 tries"

grep -qF "$LIB" "/proc/$PID/maps" || fail "redis-server (pid $PID) does not map $LIB"

# Benchmark: 4 tests, each must report a rate.
env LD_PRELOAD="$LIB" timeout 300 redis-benchmark -h 127.0.0.1 -p "$PORT" -n 20000 -q \
    -t set,get,lpush,lpop >"$TMP/bench.out" 2>&1 || fail "redis-benchmark failed: $(tail -5 "$TMP/bench.out")"
tr '\r' '\n' <"$TMP/bench.out" | grep -E '^[A-Z]+: [0-9.]+ requests per second' >"$TMP/rates"
for t in SET GET LPUSH LPOP; do
    grep -q "^$t: " "$TMP/rates" || fail "redis-benchmark gave no $t rate: $(tail -c 400 "$TMP/bench.out")"
done
kill -0 "$PID" 2>/dev/null || fail "redis-server died during the benchmark: $(tail -5 "$TMP/redis.log")"

# Round trips: values of many sizes, exactly as sent.
for n in 1 7 100 1000 4096 20000 100000 1048576; do
    head -c "$n" /dev/urandom | base64 -w0 >"$TMP/val"
    cli -x SET "key:$n" <"$TMP/val" >/dev/null || fail "SET key:$n failed"
    cli --raw GET "key:$n" | head -c "$(stat -c %s "$TMP/val")" >"$TMP/got"
    cmp -s "$TMP/val" "$TMP/got" || fail "GET key:$n did not return the value SET ($(stat -c %s "$TMP/got") of $(stat -c %s "$TMP/val") bytes)"
done
[ "$(cli SET greeting hello)" = OK ] || fail "SET greeting"
[ "$(cli APPEND greeting ', world')" = 12 ] || fail "APPEND did not give length 12"
[ "$(cli GET greeting)" = "hello, world" ] || fail "GET greeting after APPEND"
cli DEL biglist >/dev/null
for i in $(seq 1 20); do
    cli RPUSH biglist $(seq $((i * 100)) $((i * 100 + 99))) >/dev/null || fail "RPUSH"
done
[ "$(cli LLEN biglist)" = 2000 ] || fail "LLEN biglist != 2000: $(cli LLEN biglist)"
[ "$(cli LINDEX biglist 1234)" = 1334 ] || fail "LINDEX biglist 1234 != 1334"
[ "$(cli HSET h f1 v1 f2 v2 f3 "$(printf 'x%.0s' $(seq 1 500))")" = 3 ] || fail "HSET"
[ "$(cli HSTRLEN h f3)" = 500 ] || fail "HSTRLEN h f3 != 500"
[ "$(cli DBSIZE)" -ge 11 ] || fail "DBSIZE < 11: $(cli DBSIZE)"
cli FLUSHALL >/dev/null

# INFO memory must answer with a used_memory figure.
info=$(cli INFO memory | tr -d '\r') || fail "INFO memory failed"
used=$(sed -n 's/^used_memory:\([0-9]*\)$/\1/p' <<<"$info")
[ -n "$used" ] && [ "$used" -gt 0 ] || fail "INFO memory has no used_memory: $(head -5 <<<"$info")"
alloc=$(sed -n 's/^mem_allocator:\(.*\)$/\1/p' <<<"$info")
# Redis reads these through mallctl("stats.*"), which the preload serves:
# allocated covers at least what redis itself counts, active >= allocated,
# resident (measured with mincore, so it can be below active) is positive and
# no more than the process's RSS.
field() { sed -n "s/^$1:\([0-9]*\)$/\1/p" <<<"$info"; }
a_alloc=$(field allocator_allocated)
a_active=$(field allocator_active)
a_res=$(field allocator_resident)
[ -n "$a_alloc" ] && [ -n "$a_active" ] && [ -n "$a_res" ] || fail "INFO memory lacks allocator_* fields"
[ "$a_alloc" -ge "$used" ] || fail "allocator_allocated $a_alloc < used_memory $used (stats.allocated undercounts)"
[ "$a_active" -ge "$a_alloc" ] || fail "allocator_active $a_active < allocator_allocated $a_alloc"
rss=$(field used_memory_rss)
[ "$a_res" -gt 0 ] && [ "$a_res" -le "$rss" ] || fail "allocator_resident $a_res not in (0, used_memory_rss $rss]"
# MEMORY MALLOC-STATS is malloc_stats_print's output.
cli MEMORY MALLOC-STATS | head -1 | grep -q "___ Begin jemalloc statistics ___" ||
    fail "MEMORY MALLOC-STATS did not return malloc_stats_print output"

cli SHUTDOWN NOSAVE >/dev/null 2>&1
for i in $(seq 1 600); do # up to 60 s
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$PID" 2>/dev/null; then
    fail "redis-server did not exit within 60 s of SHUTDOWN NOSAVE"
fi
wait "$PID"
rc=$?
PID=""
[ $rc -eq 0 ] || fail "redis-server exited $rc after SHUTDOWN NOSAVE: $(tail -5 "$TMP/redis.log")"
echo "redis: port $PORT, $(tr '\n' ' ' <"$TMP/rates"| sed 's/ requests per second/ rps/g'), used_memory $used, allocator_allocated $a_alloc, mem_allocator $alloc"
