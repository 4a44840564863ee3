#!/usr/bin/env bash
# thp:always backs a touched 64 MiB block with huge pages (kernel in madvise
# or always mode); thp:never keeps them away. The block is 2 MiB aligned.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
mode=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo missing)
case "$mode" in
    *"[never]"*|missing) echo "kernel THP is off ($mode)"; exit 77 ;;
esac
out=$ROOT/build/tests/thp
mkdir -p "$out"
# thp is built by tests/tests.mk (a preloaded program: no sanitizer).
[ -x "$out/thp" ] || { echo "FAIL: $out/thp is not built (run make test)"; exit 1; }
run() { MALLOC_CONF="$1" LD_PRELOAD="$ROOT/build/liballoc.so" "$out/thp"; }
always=$(run thp:always)
never=$(run thp:never)
echo "thp:always -> $always"
echo "thp:never  -> $never"
kb_always=$(echo "$always" | sed -n 's/.*AnonHugePages \([0-9-]*\) kB.*/\1/p')
kb_never=$(echo "$never" | sed -n 's/.*AnonHugePages \([0-9-]*\) kB.*/\1/p')
elig=$(echo "$always" | sed -n 's/.*eligible \([0-9]*\) MiB/\1/p')
[ "${elig:-0}" -ge 64 ] || { echo "FAIL: stats.arenas.4096.thp_eligible reports ${elig} MiB for a live 64 MiB block"; exit 1; }
[[ "$always" == aligned* && "$never" == aligned* ]] || { echo "FAIL: block not 2 MiB aligned"; exit 1; }
# Most of the 64 MiB should be huge pages; at least half, to allow for a busy kernel.
[ "${kb_always:-0}" -ge 32768 ] || { echo "FAIL: thp:always gave ${kb_always} kB of huge pages"; exit 1; }
[ "${kb_never:-1}" -eq 0 ] || { echo "FAIL: thp:never gave ${kb_never} kB of huge pages"; exit 1; }
echo "ok"
