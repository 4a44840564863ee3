#!/usr/bin/env bash
# bench/tools/timeit (bench/run.sh's timer): CPU times in microseconds,
# peak RSS in KiB, the command's exit status passed through; and one
# bench/run.sh row timed with it (its CSV's CPU column has four decimals,
# not /usr/bin/time's two).
. "$(dirname "$0")/lib.sh"
T=$BUILD/bench/timeit
[ -x "$T" ] || { echo "missing $T"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# About 0.15 s of user CPU, and 40 MiB touched.
"$T" -o "$tmp/t" python3 -c 'b = bytearray(40 << 20)
n = 0
while n < 1500000: n += 1' || { echo "timeit failed: $?"; exit 1; }
read -r wall rss user sys <"$tmp/t"
echo "wall=$wall rss=$rss user=$user sys=$sys"
[[ $user =~ ^[0-9]+\.[0-9]{6}$ && $sys =~ ^[0-9]+\.[0-9]{6}$ && $wall =~ ^[0-9]+\.[0-9]{6}$ ]] ||
	{ echo "not six decimals"; exit 1; }
awk -v u="$user" -v w="$wall" 'BEGIN { exit !(u > 0.03 && u < w + 0.05) }' ||
	{ echo "user time $user not within (0.03, wall $wall]"; exit 1; }
[ "$rss" -gt $((40 * 1024)) ] && [ "$rss" -lt $((400 * 1024)) ] ||
	{ echo "peak RSS $rss KiB, expected over 40 MiB"; exit 1; }

"$T" -o "$tmp/t" sh -c 'exit 3'
[ $? = 3 ] || { echo "exit status not passed through"; exit 1; }
"$T" -o "$tmp/t" sh -c 'kill -9 $$'
[ $? = 137 ] || { echo "a signal is not 128+N"; exit 1; }
"$T" -o "$tmp/t" /nonexistent/program 2>/dev/null
[ $? = 127 ] || { echo "a missing program is not 127"; exit 1; }

# One row of bench/run.sh.
BENCH_ONLY=large_blocks REPS=1 SCALE=0.2 ALLOCATORS=ours BENCH_EXTRA=0 BENCH_BUDGET=0 \
	BENCH_RESULTS=timeit_test bash "$ROOT/bench/run.sh" >/dev/null 2>"$tmp/err" ||
	{ cat "$tmp/err"; echo "bench/run.sh failed"; exit 1; }
row=$(grep '^large_blocks,ours,1,' "$BUILD/bench/timeit_test.csv")
echo "$row"
cpu=$(echo "$row" | cut -d, -f11)
[[ $cpu =~ ^[0-9]+\.[0-9]{4}$ ]] || { echo "cpu column '$cpu' is not microsecond-based"; exit 1; }
rm -f "$BUILD/bench/timeit_test.csv" "$BUILD/bench/timeit_test.txt" "$BUILD/bench/timeit_test.paired"

# A library path relative to the caller's directory still loads (run.sh runs
# programs from their run directory): with prof_final the run leaves a final
# heap dump, which only our allocator writes (glibc, loaded when the path
# did not resolve, writes nothing).
# From / the relative path names a file only there, not from the project root
# (from a directory as deep as the root it would resolve from both).
rel=$(realpath --relative-to=/ "$BUILD/liballoc.so")
(cd / && BENCH_ONLY=large_blocks REPS=1 SCALE=0.1 ALLOCATORS=ours OURS_SO=$rel \
	OURS_CONFS="final=prof:true,prof_final:true,prof_prefix:$tmp/final" BENCH_EXTRA=0 \
	BENCH_BUDGET=0 BENCH_RESULTS=timeit_rel bash "$ROOT/bench/run.sh" >/dev/null 2>"$tmp/err") ||
	{ cat "$tmp/err"; echo "bench/run.sh with OURS_SO=$rel failed"; exit 1; }
rm -f "$BUILD/bench/timeit_rel.csv" "$BUILD/bench/timeit_rel.txt" "$BUILD/bench/timeit_rel.paired"
ls "$tmp"/final.*.f.heap >/dev/null 2>&1 ||
	{ echo "OURS_SO=$rel (relative): no final dump, the row did not run our allocator"; exit 1; }
echo "relative OURS_SO=$rel: our allocator ran ($(ls "$tmp"/final.*.f.heap | wc -l) final dump)"
echo ok
