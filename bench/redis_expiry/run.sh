#!/usr/bin/env bash
# Redis expiry wave: RSS over time of Debian's redis-server on its own
# jemalloc (it links libjemalloc; no preload) and under
# LD_PRELOAD=build/liballoc.so, both at default allocator settings, in the
# same invocation. Each run: start the server (persistence off, loopback),
# load KEYS keys with a TTL of TTL seconds through redis-cli --pipe, then
# sample VmRSS every 0.5 s until TAIL seconds after the last key expired
# (DBSIZE 0). The table gives time since the load started, RSS in MiB and
# keys left for each run; a summary compares RSS at the last expiry and
# 5 s / 15 s after it. Runs are sequential so they do not compete for CPU.
#
# Environment: KEYS=400000 TTL=2 VALUE_BYTES=200 TAIL=20 OURS_SO=...
# Output: the table on stdout, raw samples in build/bench/redis_expiry/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/bench/redis_expiry
LIB=${OURS_SO:-$ROOT/build/liballoc.so}
KEYS=${KEYS:-400000}
TTL=${TTL:-2}
VALUE_BYTES=${VALUE_BYTES:-200}
TAIL=${TAIL:-20}
note() { echo "redis_expiry: $*" >&2; }

for c in redis-server redis-cli; do
    command -v $c >/dev/null 2>&1 || { note "$c not installed: skipped"; exit 0; }
done
[ -f "$LIB" ] || { note "$LIB not built: skipped"; exit 0; }
mkdir -p "$OUT"

# The load, in the redis protocol: SET key:<i> <value> EX <ttl>.
PROTO=$OUT/load.resp
awk -v n="$KEYS" -v vb="$VALUE_BYTES" -v ttl="$TTL" 'BEGIN {
    v = sprintf("%*s", vb, ""); gsub(/ /, "x", v);
    for (i = 0; i < n; i++) {
        k = "key:" i;
        printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$%d\r\n%s\r\n",
               length(k), k, vb, v, length(ttl ""), ttl;
    }
}' >"$PROTO"

now() { date +%s.%N; }
PID=""
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null' EXIT

run() { # label preload(- for none) output-file
    local label=$1 pre=$2 out=$3 port="" p try i
    local envs=(env -u MALLOC_CONF -u LD_PRELOAD)
    [ "$pre" != - ] && envs+=("LD_PRELOAD=$pre")
    for try in $(seq 0 9); do
        p=$((20000 + ($$ * 13 + try * 1031 + ${#label} * 7) % 30000))
        rm -f "$OUT/$label.log"
        "${envs[@]}" redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no --dir "$OUT" --logfile "$OUT/$label.log" --protected-mode yes &
        PID=$!
        for i in $(seq 1 100); do
            kill -0 "$PID" 2>/dev/null || break
            [ "$(timeout 5 redis-cli -p "$p" ping 2>/dev/null)" = PONG ] && { port=$p; break 2; }
            sleep 0.1
        done
        kill -9 "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=""
    done
    [ -n "$port" ] || { note "$label: redis-server did not start"; return 1; }
    local t0 end="" loaded="" t rss keys
    t0=$(now)
    # Sampler: time since t0, RSS (MiB), keys left, every 0.5 s.
    (
        while kill -0 "$PID" 2>/dev/null; do
            t=$(now)
            rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null)
            keys=$(timeout 5 redis-cli -p "$port" dbsize 2>/dev/null)
            awk -v t="$t" -v t0="$t0" -v r="${rss:-0}" -v k="${keys:-?}" \
                'BEGIN { printf "%.2f %.1f %s\n", t - t0, r / 1024, k }'
            sleep 0.5
        done
    ) >"$out" &
    local spid=$!
    timeout 120 redis-cli -p "$port" --pipe <"$PROTO" >"$OUT/$label.pipe" 2>&1 ||
        note "$label: redis-cli --pipe failed: $(tail -2 "$OUT/$label.pipe")"
    loaded=$(awk -v t="$(now)" -v t0="$t0" 'BEGIN { printf "%.2f", t - t0 }')
    # Wait (bounded) for the last key to expire, then TAIL more seconds.
    for i in $(seq 1 600); do
        [ "$(timeout 5 redis-cli -p "$port" dbsize 2>/dev/null)" = 0 ] && break
        sleep 0.1
    done
    end=$(awk -v t="$(now)" -v t0="$t0" 'BEGIN { printf "%.2f", t - t0 }')
    sleep "$TAIL"
    timeout 5 redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
    for i in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=""
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    echo "$loaded $end" >"$out.events"
}

run jemalloc - "$OUT/jemalloc.dat" || exit 0
run ours "$LIB" "$OUT/ours.dat" || exit 0
read -r jl je <"$OUT/jemalloc.dat.events"
read -r ol oe <"$OUT/ours.dat.events"
echo "redis expiry wave: $KEYS keys, ${VALUE_BYTES} B values, TTL ${TTL} s (default settings)"
echo "loaded at: ours ${ol} s, jemalloc ${jl} s; last key expired at: ours ${oe} s, jemalloc ${je} s"
# Side by side by sample index (both sampled every ~0.5 s from the load start).
paste -d' ' "$OUT/ours.dat" "$OUT/jemalloc.dat" | awk '
    BEGIN { printf "%7s %10s %8s   %7s %12s %8s\n", "t(s)", "ours MiB", "keys", "t(s)", "jemalloc MiB", "keys" }
    NF >= 6 { printf "%7s %10s %8s   %7s %12s %8s\n", $1, $2, $3, $4, $5, $6 }
    NF == 3 { printf "%7s %10s %8s\n", $1, $2, $3 }'
# RSS at the last expiry and 5 s / 15 s after it (nearest sample at or after).
at() { awk -v t="$2" '$1 >= t { print $2; exit }' "$1"; }
for d in 0 5 15; do
    o=$(at "$OUT/ours.dat" "$(awk -v e="$oe" -v d=$d 'BEGIN{print e + d}')")
    j=$(at "$OUT/jemalloc.dat" "$(awk -v e="$je" -v d=$d 'BEGIN{print e + d}')")
    awk -v d=$d -v o="${o:-0}" -v j="${j:-0}" 'BEGIN {
        printf "last expiry +%2d s: ours %7.1f MiB, jemalloc %7.1f MiB, ratio %.2f\n", d, o, j, (j > 0 ? o / j : 0) }'
done
