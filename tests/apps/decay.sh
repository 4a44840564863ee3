#!/usr/bin/env bash
# Decay: after a 512 MiB burst is freed, >= 90% goes back to the kernel within
# dirty_decay_ms + 1 s (1000/0) with light activity, and when idle with
# background_thread:true; with -1 nothing does; a per-arena setting changes
# only its arena.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$ROOT/build/tests/decay
mkdir -p "$out"
# burst is built by tests/tests.mk with the project's flags.
[ -x "$out/burst" ] || { echo "FAIL: $out/burst is not built (run make test)"; exit 1; }
fail=0
pct() { sed -n 's/.*returned_pct \([0-9-]*\).*/\1/p'; }
run() { echo "== MALLOC_CONF=$1 burst $2"; MALLOC_CONF="$1" "$out/burst" "$2" | tee "$out/last.txt"; }

run dirty_decay_ms:1000,muzzy_decay_ms:0 light
p=$(pct < "$out/last.txt"); [ "$p" -ge 90 ] || { echo "FAIL: light activity returned $p%"; fail=1; }

run dirty_decay_ms:1000,muzzy_decay_ms:0,background_thread:true idle
p=$(pct < "$out/last.txt"); [ "$p" -ge 90 ] || { echo "FAIL: idle with background thread returned $p%"; fail=1; }

run dirty_decay_ms:-1,muzzy_decay_ms:-1 light
p=$(pct < "$out/last.txt"); [ "$p" -le 10 ] || { echo "FAIL: dirty_decay_ms:-1 returned $p%"; fail=1; }

run dirty_decay_ms:1000,muzzy_decay_ms:0 arenas
a=$(sed -n 's/^arena_a .* pdirty_mb \([0-9]*\)/\1/p' "$out/last.txt")
b=$(sed -n 's/^arena_b .* pdirty_mb \([0-9]*\)/\1/p' "$out/last.txt")
[ "$a" -le 16 ] || { echo "FAIL: arena A (1000 ms) still holds $a MiB dirty"; fail=1; }
[ "$b" -ge 300 ] || { echo "FAIL: arena B (-1) holds only $b MiB dirty"; fail=1; }
[ $fail -eq 0 ] && echo ok
exit $fail
