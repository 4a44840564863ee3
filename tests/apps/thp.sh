#!/usr/bin/env bash
# Transparent huge pages for huge blocks (kernel in madvise or always mode).
# thp:always backs a touched 64 MiB block with huge pages; thp:never keeps
# them away. The block is 2 MiB aligned. In the kernel's madvise mode the
# default (thp_huge) marks the whole units a malloc'd block was asked for
# MADV_HUGEPAGE and its partly used last unit NOHUGEPAGE: a 65 MiB + 100 kB
# block gets huge pages in its first 65 MiB and none in the unit holding
# its last bytes; thp_huge:false and calloc'd blocks get no marks (a calloc'd
# block on units a block before marked is marked NOHUGEPAGE; so is a
# malloc'd one's partly used unit, when it faults pages in).
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
run() { MALLOC_CONF="$1" LD_PRELOAD="$ROOT/build/liballoc.so" "$out/thp" "${@:2}"; }
field() { echo "$1" | sed -n "s/.* $2 \([^ ]*\).*/\1/p"; } # text, label: the word after label (its last use)
tail_flag_of() { echo "$1" | sed -n 's/.* tail [0-9-]* kB flags \([^ ]*\).*/\1/p'; }
tail_kb_of() { echo "$1" | sed -n 's/.* tail \([0-9-]*\) kB.*/\1/p'; }
head_flag() { echo "$1" | sed -n 's/.* AnonHugePages [0-9-]* kB flags \([^ ]*\) tail .*/\1/p'; }
always=$(run thp:always)
never=$(run thp:never)
echo "thp:always -> $always"
echo "thp:never  -> $never"
kb_always=$(field "$always" AnonHugePages)
kb_never=$(field "$never" AnonHugePages)
elig=$(field "$always" eligible)
[ "${elig:-0}" -ge 64 ] || { echo "FAIL: stats.arenas.4096.thp_eligible reports ${elig} MiB for a live 64 MiB block"; exit 1; }
[[ "$always" == aligned* && "$never" == aligned* ]] || { echo "FAIL: block not 2 MiB aligned"; exit 1; }
# Most of the 64 MiB should be huge pages; at least half, to allow for a busy kernel.
[ "${kb_always:-0}" -ge 32768 ] || { echo "FAIL: thp:always gave ${kb_always} kB of huge pages"; exit 1; }
[ "${kb_never:-1}" -eq 0 ] || { echo "FAIL: thp:never gave ${kb_never} kB of huge pages"; exit 1; }
case "$mode" in
    *"[madvise]"*) ;;
    *) echo "ok (kernel mode $mode: thp_huge marks nothing there)"; exit 0 ;;
esac
size=$((65 * 1048576 + 100000))
# thp_huge_probe:false: the marks, not the probe's verdict on this
# machine's fault times (a slow probe marks the units after the first
# NOHUGEPAGE; tests/unit/thp_probe tests that policy).
P=thp_huge_probe:false
dflt=$(run $P $size)
off=$(run thp_huge:false $size)
zeroed=$(run $P $size calloc)
reused=$(run $P $size reuse-calloc)
grown=$(run $P $((5 * 1048576 + 1)) grow)
remalloc=$(run $P $((6 * 1048576)) reuse-malloc)
# With the probe (the default): the first unit is marked and its fault
# timed (stats: one probe); the units after it follow the verdict.
probed=$(run stats_print:true $size 2>&1)
echo "default        -> $dflt"
echo "thp_huge:false -> $off"
echo "calloc         -> $zeroed"
echo "reuse-calloc   -> $reused"
echo "grow           -> $grown"
echo "reuse-malloc   -> $remalloc"
# The first byte's mapping is marked and mostly huge pages (half, for a busy
# kernel); the last byte's unit is marked NOHUGEPAGE and has none.
[ "$(head_flag "$dflt")" = hg ] || { echo "FAIL: default: the block's whole units are not marked MADV_HUGEPAGE"; exit 1; }
[ "$(field "$dflt" AnonHugePages)" -ge 32768 ] || { echo "FAIL: default gave $(field "$dflt" AnonHugePages) kB of huge pages"; exit 1; }
tail_flag=$(tail_flag_of "$dflt")
tail_kb=$(tail_kb_of "$dflt")
[ "$tail_flag" = nh ] || { echo "FAIL: default: the partly used last unit is marked '$tail_flag', not nh"; exit 1; }
[ "$tail_kb" -eq 0 ] || { echo "FAIL: default: the partly used last unit has $tail_kb kB of huge pages"; exit 1; }
for r in "$off" "$zeroed"; do
    [ "$(head_flag "$r")" = - ] || { echo "FAIL: marked without thp_huge or for a calloc'd block: $r"; exit 1; }
    [ "$(field "$r" AnonHugePages)" -eq 0 ] || { echo "FAIL: huge pages without thp_huge or for a calloc'd block: $r"; exit 1; }
done
# A calloc'd block on the dirty run a malloc'd block marked: marked
# NOHUGEPAGE again, no huge pages.
[ "$(head_flag "$reused")" = nh ] || { echo "FAIL: a calloc'd block kept the MADV_HUGEPAGE mark of the block before: $reused"; exit 1; }
[ "$(field "$reused" AnonHugePages)" -eq 0 ] || { echo "FAIL: huge pages for a calloc'd block: $reused"; exit 1; }
# realloc of a 4 MiB block to 5 MiB + 1: the marks follow the size asked
# for, not the usable size (6 MiB): [0, 4) MiB marked, [4, 6) NOHUGEPAGE
# with no huge page.
[ "$(head_flag "$grown")" = hg ] || { echo "FAIL: grow: the whole units are not marked: $grown"; exit 1; }
[ "$(tail_flag_of "$grown")" = nh ] && [ "$(tail_kb_of "$grown")" -eq 0 ] ||
    { echo "FAIL: grow: the partly used last unit is marked for huge pages: $grown"; exit 1; }
# malloc(6 MiB) on the purged run of a freed 5 MiB + 1 block: [4, 6) MiB is
# a whole unit of the new block, marked again.
[ "$(tail_flag_of "$remalloc")" = hg ] || { echo "FAIL: reuse-malloc: a whole unit kept the NOHUGEPAGE mark of the block before: $remalloc"; exit 1; }
probes=$(echo "$probed" | sed -n 's/^thp fault probes: \([0-9]*\), slow: \([0-9]*\)$/\1 \2/p')
echo "probe          -> $(echo "$probed" | grep "^aligned") (probes, slow: $probes)"
# The first unit is marked and its fault timed (a slow one is then compared
# with small faults sampled in the block's second unit).
# One timed fault; fast: the first unit stays marked, slow (a loaded
# machine, compaction, a host that backs huge pages slowly): the block's
# units are marked NOHUGEPAGE.
[ "${probes%% *}" = 1 ] || { echo "FAIL: probe: expected one timed fault, stats say '$probes'"; exit 1; }
want=hg
[ "${probes#* }" = 1 ] && want=nh
[ "$(head_flag "$probed")" = $want ] || { echo "FAIL: probe: the first unit is not marked '$want': $probed"; exit 1; }
echo "ok"
