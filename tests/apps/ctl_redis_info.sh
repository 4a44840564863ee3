#!/usr/bin/env bash
# Redis reads its allocator figures through mallctl ("epoch", then
# "stats.allocated", "stats.active", "stats.resident"), purges with
# "arenas.narenas" + "arena.<narenas>.purge" (jemalloc's all-arenas alias)
# and prints malloc_stats_print for MEMORY MALLOC-STATS. Debian's
# redis-server links libjemalloc; under LD_PRELOAD=liballoc.so those calls
# reach liballoc. This test (tests/apps/redis.sh covers the data path)
# checks what the control surface tells redis, on a free 127.0.0.1 port
# with persistence off, every wait bounded:
#   - INFO memory: allocator_allocated, allocator_active,
#     allocator_resident are non-zero with allocated <= active,
#     allocated >= used_memory, resident <= used_memory_rss (resident is
#     measured, so pages handed out but never touched, counted in active,
#     are not in it: active <= resident need not hold); after
#     DEBUG POPULATE 200000 keys of 100 bytes allocated grows by >= 20 MB and
#     allocator_frag_ratio stays <= 1.5;
#   - MEMORY STATS: keys.count, allocator.allocated <= active, resident > 0;
#   - MEMORY MALLOC-STATS: our report, header to footer, with an
#     "Allocated:" figure covering the data set;
#   - MEMORY USAGE of a 1000-byte string is 1000..2000 (malloc_usable_size);
#   - FLUSHALL + MEMORY PURGE: OK, allocated falls back by >= 80% of the
#     growth and resident by >= 50% of it;
#   - MEMORY DOCTOR answers; redis-benchmark -n 20000 -t set,get completes;
#   - SHUTDOWN NOSAVE, exit status 0. The server is killed on any failure.
. "$(dirname "$0")/lib.sh"
need redis-server
need redis-cli
need redis-benchmark
check_preload_maps

PORT=""
PID=""
cleanup_hooks='[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null'
# Killed by the runner's timeout: still run the EXIT hook that kills the server.
trap 'exit 143' TERM INT HUP
cli() { env LD_PRELOAD="$LIB" timeout 120 redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

# Start on the first port that binds (ports chosen from the pid, 10 tries).
for try in $(seq 0 9); do
    p=$((21000 + ($$ * 13 + try * 977) % 29000))
    rm -f "$TMP/redis.log"
    env -u MALLOC_CONF LD_PRELOAD="$LIB" redis-server --port "$p" --bind 127.0.0.1 \
        --save '' --appendonly no --daemonize no --dir "$TMP" --logfile "$TMP/redis.log" \
        --protected-mode yes --enable-debug-command local &
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
        fail "redis-server on port $p neither answered PING nor exited within 60 s: $(tail -5 "$TMP/redis.log")"
    fi
    wait "$PID" 2>/dev/null
    PID=""
    grep -q "Address already in use" "$TMP/redis.log" 2>/dev/null && continue
    fail "redis-server under liballoc exited at start: $(tail -5 "$TMP/redis.log" 2>/dev/null)"
done
[ -n "$PORT" ] || skip "no free loopback port found in 10 tries"
grep -qF "$LIB" "/proc/$PID/maps" || fail "redis-server (pid $PID) does not map $LIB"

# info FIELD: from the last INFO memory snapshot in $TMP/info.
snap_info() { cli INFO memory | tr -d '\r' >"$TMP/info" || fail "INFO memory failed"; }
info() {
    local v
    v=$(sed -n "s/^$1:\([0-9.]*\)$/\1/p" "$TMP/info")
    [ -n "$v" ] || fail "INFO memory has no numeric $1: $(head -20 "$TMP/info" | tr '\n' ' ')"
    echo "$v"
}
check_allocator_fields() { # when
    local al ac re used rss
    al=$(info allocator_allocated)
    ac=$(info allocator_active)
    re=$(info allocator_resident)
    used=$(info used_memory)
    rss=$(info used_memory_rss)
    [ "$al" -gt 0 ] && [ "$ac" -gt 0 ] && [ "$re" -gt 0 ] ||
        fail "$1: allocator_allocated $al, allocator_active $ac, allocator_resident $re (want all > 0)"
    [ "$al" -le "$ac" ] || fail "$1: allocator_allocated $al > allocator_active $ac"
    [ "$al" -ge "$used" ] || fail "$1: allocator_allocated $al < used_memory $used (redis' own count)"
    [ "$re" -le "$rss" ] || fail "$1: allocator_resident $re > used_memory_rss $rss (the whole process)"
}

snap_info
check_allocator_fields "at start"
[ "$(sed -n 's/^mem_allocator:\(.*\)$/\1/p' "$TMP/info")" = jemalloc-5.3.0 ] ||
    fail "mem_allocator is not jemalloc-5.3.0: $(grep mem_allocator "$TMP/info")"
al0=$(info allocator_allocated)

# A data set of 200000 keys with 100-byte values.
[ "$(cli DEBUG POPULATE 200000 key 100)" = OK ] || fail "DEBUG POPULATE failed"
[ "$(cli DBSIZE)" = 200000 ] || fail "DBSIZE after DEBUG POPULATE: $(cli DBSIZE)"
# Redis reads the allocator's figures in its cron (every 100 ms), used_memory
# at once: wait until a snapshot has figures from after the load (a loaded
# machine delays the cron; CI once saw the start's 1.2 MB against 38 MB).
for i in $(seq 1 100); do
    snap_info
    [ "$(info allocator_allocated)" -ge "$(info used_memory)" ] && break
    sleep 0.1
done
check_allocator_fields "after 200000 keys"
al1=$(info allocator_allocated)
re1=$(info allocator_resident)
grow=$((al1 - al0))
[ "$grow" -ge 20000000 ] || fail "allocator_allocated grew by $grow bytes for 200000 x 100-byte values (want >= 20000000)"
frag=$(info allocator_frag_ratio)
awk -v f="$frag" 'BEGIN { exit !(f >= 1.0 && f <= 1.5) }' ||
    fail "allocator_frag_ratio $frag with 200000 small keys (active/allocated; want 1.0..1.5)"

# MEMORY STATS: flat key/value list.
cli MEMORY STATS | tr -d '\r' >"$TMP/mstats" || fail "MEMORY STATS failed"
mstat() { awk -v k="$1" 'prev == k { print; exit } { prev = $0 }' "$TMP/mstats"; }
[ "$(mstat keys.count)" = 200000 ] || fail "MEMORY STATS keys.count = '$(mstat keys.count)'"
ma=$(mstat allocator.allocated)
mc=$(mstat allocator.active)
mr=$(mstat allocator.resident)
[ -n "$ma" ] && [ -n "$mc" ] && [ -n "$mr" ] || fail "MEMORY STATS lacks allocator.*: $(head -c 300 "$TMP/mstats")"
[ "$ma" -ge 20000000 ] && [ "$ma" -le "$mc" ] && [ "$mr" -gt 0 ] ||
    fail "MEMORY STATS allocator.allocated $ma, active $mc, resident $mr (want >= 20000000, allocated <= active, resident > 0)"

# MEMORY MALLOC-STATS: malloc_stats_print's report.
cli MEMORY MALLOC-STATS | tr -d '\r' >"$TMP/mallocstats" || fail "MEMORY MALLOC-STATS failed"
[ "$(head -1 "$TMP/mallocstats")" = "___ Begin jemalloc statistics ___" ] ||
    fail "MEMORY MALLOC-STATS starts with '$(head -1 "$TMP/mallocstats")'"
grep -qx -- "--- End jemalloc statistics ---" "$TMP/mallocstats" ||
    fail "MEMORY MALLOC-STATS has no end line: $(tail -2 "$TMP/mallocstats")"
msa=$(sed -n 's/^Allocated: \([0-9]*\),.*/\1/p' "$TMP/mallocstats" | head -1)
[ -n "$msa" ] && [ "$msa" -ge 20000000 ] || fail "MEMORY MALLOC-STATS Allocated: '$msa' (want >= 20000000)"

# MEMORY USAGE goes through malloc_usable_size.
cli SET one-k "$(head -c 1000 /dev/zero | tr '\0' x)" >/dev/null || fail "SET one-k"
mu=$(cli MEMORY USAGE one-k)
[ -n "$mu" ] && [ "$mu" -ge 1000 ] && [ "$mu" -le 2000 ] || fail "MEMORY USAGE of a 1000-byte value: '$mu'"
[ -n "$(cli MEMORY DOCTOR)" ] || fail "MEMORY DOCTOR gave nothing"

# FLUSHALL and MEMORY PURGE (arena.<narenas>.purge) give the memory back.
[ "$(cli FLUSHALL SYNC)" = OK ] || fail "FLUSHALL"
[ "$(cli MEMORY PURGE)" = OK ] || fail "MEMORY PURGE did not answer OK (arena.<narenas>.purge failed?): $(cli MEMORY PURGE)"
# As after the load: the allocator's figures are the cron's, so wait (up to
# 10 s) for a snapshot taken after the flush and the purge (CI once saw
# allocated 38.7 MB just after FLUSHALL, the figure from before it).
for i in $(seq 1 100); do
    snap_info
    al2=$(info allocator_allocated)
    re2=$(info allocator_resident)
    [ $((al1 - al2)) -ge $((grow * 8 / 10)) ] && [ $((re1 - re2)) -ge $((grow / 2)) ] && break
    sleep 0.1
done
check_allocator_fields "after FLUSHALL + MEMORY PURGE"
[ $((al1 - al2)) -ge $((grow * 8 / 10)) ] ||
    fail "after FLUSHALL allocator_allocated $al1 -> $al2: fell by less than 80% of the $grow it grew"
[ $((re1 - re2)) -ge $((grow / 2)) ] ||
    fail "after FLUSHALL + MEMORY PURGE allocator_resident $re1 -> $re2: fell by less than half of $grow"

# A short benchmark; the figures stay consistent.
env LD_PRELOAD="$LIB" timeout 300 redis-benchmark -h 127.0.0.1 -p "$PORT" -n 20000 -q -t set,get \
    >"$TMP/bench.out" 2>&1 || fail "redis-benchmark failed: $(tail -5 "$TMP/bench.out")"
tr '\r' '\n' <"$TMP/bench.out" | grep -E '^[A-Z]+: [0-9.]+ requests per second' >"$TMP/rates"
for t in SET GET; do
    grep -q "^$t: " "$TMP/rates" || fail "redis-benchmark gave no $t rate: $(tail -c 300 "$TMP/bench.out")"
done
snap_info
check_allocator_fields "after redis-benchmark"

cli SHUTDOWN NOSAVE >/dev/null 2>&1
for i in $(seq 1 600); do # up to 60 s
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$PID" 2>/dev/null && fail "redis-server did not exit within 60 s of SHUTDOWN NOSAVE"
wait "$PID"
rc=$?
PID=""
[ $rc -eq 0 ] || fail "redis-server exited $rc after SHUTDOWN NOSAVE: $(tail -5 "$TMP/redis.log")"
echo "ctl_redis_info: port $PORT; allocated $al0 -> $al1 -> $al2, resident $re1 -> $re2, frag $frag; $(tr '\n' ' ' <"$TMP/rates" | sed 's/ requests per second/ rps/g')"
