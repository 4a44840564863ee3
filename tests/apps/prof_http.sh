#!/usr/bin/env bash
# prof_http: MALLOC_CONF=prof_http:127.0.0.1:PORT serves Go's /debug/pprof
# paths from an idle process that never calls mallctl (tests/prof/http_idle.c,
# run preloaded with lg_prof_sample:14; it keeps 64 MiB from
# http_known_site and allocated and freed 32 MiB from http_churn_site):
#  1. go tool pprof -top -sample_index=inuse_space http://.../debug/pprof/heap
#     names http_known_site with 64 MiB within 15%; the raw answer is 200,
#     application/octet-stream, Content-Disposition attachment;
#     filename="heap", gzip'd; /debug/pprof/allocs without prof_accum is a
#     404 that names prof_accum; the index lists heap and allocs.
#  2. the hostile battery of tests/prof/http_client.py (random bytes, huge
#     headers 431, huge target 414, POST/DELETE 405, path traversal 404, NUL
#     400, HTTP/0.9, absurd Content-Length 400, seconds= 400, half-closed,
#     EOF mid-request, 48 connections at once, slowloris cut off by the 5 s
#     deadline while a good request is answered): each answered or closed in
#     bounded time and followed by a good request; the process still runs.
#  3. with prof_accum:true, go tool pprof on /debug/pprof/allocs shows
#     Type: alloc_space and http_churn_site with 32 MiB within 15%.
#  4. a non-loopback address (0.0.0.0) is refused with a warning and nothing
#     listens; with prof_http_remote:true it serves and warns.
#     localhost:PORT and [::1]:PORT (when the host has IPv6 loopback) serve.
#  5. prof:false: a warning, nothing listens. A bad address and a port
#     already taken: a warning, the process runs on and exits 0.
#  6. fork: after the parent exits, its child (alive) does not hold the port.
#     And fork() in a loop while the heap is pulled 6 times: every pull is
#     answered, the process ends when told (no deadlock).
#  7. mallctl prof.dump_pprof_fd to stdout: go tool pprof reads it and finds
#     http_known_site's 64 MiB within 15%.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
need python3
need go
prof_need http_idle
BIN=$PROF_OUT/http_idle
CLIENT=$ROOT/tests/prof/http_client.py
mkdir -p "$TMP/home"
export HOME=$TMP/home # go tool pprof keeps state in $HOME/pprof
status=0
pids=""
cleanup_hooks='for p in $pids; do kill $p 2>/dev/null; done'

# start NAME CONF MODE: run the subject in the background, wait for "ready".
start() {
    local name=$1 conf=$2 mode=$3
    env LD_PRELOAD="$LIB" MALLOC_CONF="$conf" "$BIN" "$mode" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    local pid=$!
    pids="$pids $pid"
    for _ in $(seq 600); do # 60 s at most (a loaded machine)
        grep -q ready "$TMP/$name.out" 2>/dev/null && { echo $pid; return 0; }
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    cat "$TMP/$name.err" >&2
    fail "$name: the subject did not start"
}

# stop PID: kill the subject and wait until it is gone (it is not our child).
stop() {
    kill "$1" 2>/dev/null
    for _ in $(seq 600); do # 30 s at most
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    fail "process $1 does not exit"
}

# top_bytes OUT SITE: the flat bytes of SITE in go tool pprof -top -unit=B output.
top_bytes() {
    awk -v s="$2" '$NF == s { v = $1; sub(/B$/, "", v); print v; exit }' "$1"
}

within() { # what got want tol
    awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t * w) }' &&
        echo "ok   $1: $2 bytes (truth $3)" || { echo "FAIL $1: ${2:-nothing} bytes, truth $3"; status=1; }
}

KNOWN=$((4096 * 16384))
CHURN=$((2048 * 16384))
PORT=$(python3 "$CLIENT" freeport)
BASE="prof:true,lg_prof_sample:14,prof_http:127.0.0.1:$PORT"

# --- 1. go tool pprof over HTTP ---
PID=$(start idle "$BASE" serve) || exit 1
timeout 300 go tool pprof -top -nodefraction=0 -unit=B -sample_index=inuse_space \
    "http://127.0.0.1:$PORT/debug/pprof/heap" >"$TMP/top.txt" 2>"$TMP/top.err" ||
    { cat "$TMP/top.err"; fail "go tool pprof over HTTP failed"; }
within "go tool pprof http://.../debug/pprof/heap: http_known_site" "$(top_bytes "$TMP/top.txt" http_known_site)" \
    $KNOWN 0.15
grep -q "^Type: inuse_space" "$TMP/top.txt" || { echo "FAIL heap: not inuse_space"; cat "$TMP/top.txt"; status=1; }
python3 "$CLIENT" get "$PORT" /debug/pprof/heap "$TMP/heap.pb.gz" >"$TMP/heap.hdr"
grep -qx 200 "$TMP/heap.hdr" && grep -qx "content-type: application/octet-stream" "$TMP/heap.hdr" &&
    grep -qx 'content-disposition: attachment; filename="heap"' "$TMP/heap.hdr" &&
    [ "$(head -c 2 "$TMP/heap.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
    echo "ok   GET /debug/pprof/heap: 200, octet-stream, attachment \"heap\", gzip" ||
    { echo "FAIL GET /debug/pprof/heap headers:"; cat "$TMP/heap.hdr"; status=1; }
python3 "$CLIENT" get "$PORT" /debug/pprof/allocs "$TMP/allocs.txt" >"$TMP/allocs.hdr"
grep -qx 404 "$TMP/allocs.hdr" && grep -q prof_accum "$TMP/allocs.txt" &&
    echo "ok   /debug/pprof/allocs without prof_accum: 404 naming prof_accum" ||
    { echo "FAIL allocs without prof_accum:"; cat "$TMP/allocs.hdr" "$TMP/allocs.txt"; status=1; }
python3 "$CLIENT" get "$PORT" /debug/pprof/ "$TMP/index.html" >/dev/null
grep -q 'href="heap' "$TMP/index.html" && grep -q 'href="allocs' "$TMP/index.html" &&
    echo "ok   index lists heap and allocs" || { echo "FAIL index:"; cat "$TMP/index.html"; status=1; }

# --- 2. hostile requests ---
python3 "$CLIENT" hostile "$PORT" >"$TMP/hostile.txt" 2>&1 || status=1
grep -v "^ok" "$TMP/hostile.txt"
echo "hostile battery: $(grep -c '^ok' "$TMP/hostile.txt") checks passed"
kill -0 "$PID" 2>/dev/null && echo "ok   the process survived" || { echo "FAIL the process died"; status=1; }
timeout 300 go tool pprof -top -unit=B -sample_index=inuse_space \
    "http://127.0.0.1:$PORT/debug/pprof/heap" >"$TMP/top2.txt" 2>"$TMP/top2.err" || status=1
within "heap after the battery: http_known_site" "$(top_bytes "$TMP/top2.txt" http_known_site)" $KNOWN 0.15
[ -s "$TMP/idle.err" ] && { echo "FAIL unexpected stderr:"; cat "$TMP/idle.err"; status=1; }
stop "$PID"

# --- 3. allocs with prof_accum ---
PID=$(start accum "$BASE,prof_accum:true" serve) || exit 1
timeout 300 go tool pprof -top -nodefraction=0 -unit=B "http://127.0.0.1:$PORT/debug/pprof/allocs" \
    >"$TMP/alloc.txt" 2>"$TMP/alloc.err" || { cat "$TMP/alloc.err"; fail "go tool pprof allocs failed"; }
grep -q "^Type: alloc_space" "$TMP/alloc.txt" && echo "ok   allocs: default sample type alloc_space" ||
    { echo "FAIL allocs: not alloc_space by default"; cat "$TMP/alloc.txt"; status=1; }
within "allocs: http_churn_site" "$(top_bytes "$TMP/alloc.txt" http_churn_site)" $CHURN 0.15
within "allocs: http_known_site" "$(top_bytes "$TMP/alloc.txt" http_known_site)" $KNOWN 0.15
stop "$PID"

# --- 4. non-loopback ---
PID=$(start remote_off "prof:true,prof_http:0.0.0.0:$PORT" serve) || exit 1
python3 "$CLIENT" refused "$PORT" && grep -q "refusing non-loopback" "$TMP/remote_off.err" &&
    echo "ok   0.0.0.0 refused without prof_http_remote (warning, nothing listens)" ||
    { echo "FAIL 0.0.0.0 without prof_http_remote:"; cat "$TMP/remote_off.err"; status=1; }
stop "$PID"
PID=$(start remote_on "prof:true,prof_http:0.0.0.0:$PORT,prof_http_remote:true" serve) || exit 1
python3 "$CLIENT" get "$PORT" /debug/pprof/ - | grep -x 200 >/dev/null && grep -q "non-loopback" "$TMP/remote_on.err" &&
    echo "ok   0.0.0.0 with prof_http_remote:true serves and warns" ||
    { echo "FAIL 0.0.0.0 with prof_http_remote:"; cat "$TMP/remote_on.err"; status=1; }
stop "$PID"

PID=$(start localhost "prof:true,prof_http:localhost:$PORT" serve) || exit 1
python3 "$CLIENT" get "$PORT" /debug/pprof/ - | grep -x 200 >/dev/null && echo "ok   localhost:$PORT serves" ||
    { echo "FAIL localhost:PORT:"; cat "$TMP/localhost.err"; status=1; }
stop "$PID"
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    PID=$(start v6 "prof:true,prof_http:[::1]:$PORT" serve) || exit 1
    HTTP_TEST_HOST=::1 python3 "$CLIENT" get "$PORT" /debug/pprof/ - | grep -x 200 >/dev/null &&
        [ ! -s "$TMP/v6.err" ] && echo "ok   [::1]:$PORT serves, no warning" ||
        { echo "FAIL [::1]:PORT:"; cat "$TMP/v6.err"; status=1; }
    stop "$PID"
else
    echo "note: no IPv6 loopback here: [::1] not tried"
fi

# --- 5. prof:false, port taken, bad address ---
PID=$(start noprof "prof_http:127.0.0.1:$PORT" serve) || exit 1
python3 "$CLIENT" refused "$PORT" && grep -q "prof_http is set w/o prof" "$TMP/noprof.err" &&
    echo "ok   prof:false: warning, nothing listens" || { echo "FAIL prof:false:"; cat "$TMP/noprof.err"; status=1; }
stop "$PID"
PID=$(start taken "$BASE" serve) || exit 1
env LD_PRELOAD="$LIB" MALLOC_CONF="$BASE" "$BIN" quick >/dev/null 2>"$TMP/taken.err" &&
    grep -q "prof_http: cannot listen on \"127.0.0.1:$PORT\"" "$TMP/taken.err" &&
    echo "ok   port taken: warning, exit 0" || { echo "FAIL port taken:"; cat "$TMP/taken.err"; status=1; }
stop "$PID"
env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,prof_http:not-an-address" "$BIN" quick >/dev/null 2>"$TMP/bad.err" &&
    grep -q 'prof_http: invalid address "not-an-address"' "$TMP/bad.err" &&
    echo "ok   invalid address: warning, exit 0" || { echo "FAIL invalid address:"; cat "$TMP/bad.err"; status=1; }

# --- 6. fork: the child does not keep the port ---
env LD_PRELOAD="$LIB" MALLOC_CONF="$BASE" "$BIN" fork >"$TMP/fork.out" 2>"$TMP/fork.err" ||
    { cat "$TMP/fork.err"; fail "fork subject failed"; }
CHILD=$(awk '$1 == "child" { print $2 }' "$TMP/fork.out")
[ -n "$CHILD" ] && pids="$pids $CHILD"
if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null && python3 "$CLIENT" refused "$PORT"; then
    echo "ok   fork: parent gone, its live child does not hold the port"
else
    echo "FAIL fork: the child (${CHILD:-none}) holds the port or died"
    status=1
fi
[ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null

# timeout first: a wrapper run under the preload would take the port itself.
timeout 120 env LD_PRELOAD="$LIB" MALLOC_CONF="$BASE" "$BIN" forkloop "$TMP/forkloop.stop" >"$TMP/forkloop.out" 2>"$TMP/forkloop.err" &
FL=$!
for _ in $(seq 600); do grep -q ready "$TMP/forkloop.out" 2>/dev/null && break; sleep 0.1; done
got=0
for _ in 1 2 3 4 5 6; do
    python3 "$CLIENT" get "$PORT" /debug/pprof/heap - | grep -x 200 >/dev/null && got=$((got + 1))
    sleep 0.3
done
touch "$TMP/forkloop.stop"
if wait $FL && [ $got = 6 ] && grep -q "^forks [1-9]" "$TMP/forkloop.out"; then
    echo "ok   fork loop while serving: 6/6 pulls answered, $(grep forks "$TMP/forkloop.out")"
else
    echo "FAIL fork loop while serving: $got/6 pulls, $(cat "$TMP/forkloop.out" "$TMP/forkloop.err")"
    status=1
fi

# --- 7. prof.dump_pprof_fd ---
env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,lg_prof_sample:14" "$BIN" fd >"$TMP/fd.pb.gz" 2>"$TMP/fd.err" ||
    { cat "$TMP/fd.err"; fail "prof.dump_pprof_fd failed"; }
timeout 300 go tool pprof -top -unit=B -sample_index=inuse_space "$BIN" "$TMP/fd.pb.gz" >"$TMP/fd.txt" 2>&1 ||
    { cat "$TMP/fd.txt"; fail "go tool pprof cannot read prof.dump_pprof_fd's output"; }
within "prof.dump_pprof_fd: http_known_site" "$(top_bytes "$TMP/fd.txt" http_known_site)" $KNOWN 0.15

# --- 8. a C++ service: go tool pprof names its methods (a served profile's
# names are final: go's own re-symbolization of C++ names nothing) ---
if command -v g++ >/dev/null 2>&1; then
    cat >"$TMP/cart.cc" <<'CC'
#include <cstdio>
#include <map>
#include <unistd.h>
#include <vector>
namespace shop {
struct Cart {
    std::map<int, std::vector<char>> items;
    __attribute__((noinline)) void grow(int i) { items[i] = std::vector<char>(16384); }
};
} // namespace shop
int main()
{
    shop::Cart c;
    for (int i = 0; i < 4096; i++)
        c.grow(i);
    std::puts("ready");
    std::fflush(stdout);
    pause();
}
CC
    g++ -O2 -g -o "$TMP/cart" "$TMP/cart.cc" || fail "g++ cart.cc"
    BIN=$TMP/cart
    PID=$(start cart "$BASE" serve) || exit 1
    timeout 300 go tool pprof -top -nodefraction=0 -unit=B -sample_index=inuse_space \
        "http://127.0.0.1:$PORT/debug/pprof/heap" >"$TMP/cart.txt" 2>&1 ||
        { cat "$TMP/cart.txt"; fail "go tool pprof on the C++ service failed"; }
    within "go tool pprof, C++ service: shop::Cart::grow" "$(top_bytes "$TMP/cart.txt" shop::Cart::grow)" $KNOWN 0.15
    stop "$PID"
fi
exit $status
