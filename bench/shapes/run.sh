#!/usr/bin/env bash
# bench/shapes/run.sh: times every shape under several allocators.
# For each shape and thread count, REPS rounds; each round runs every
# allocator once, the order rotating round by round (the machine is shared:
# noise then hits all allocators alike). Prints raw runs as CSV
# (shape,threads,alloc,rep,wall_s,user_s,maxrss_kb) on stdout; summarize.py makes
# the table of medians.
# Env: REPS=5 THREADS="1 2 8" SHAPES="..." SCALE=1
#      OURS_SO MIMALLOC_SO JEMALLOC_SO (library paths)
#      NEW_SO: also run this build of ours, labelled "new" (a fix's A/B)
set -u
cd "$(dirname "$0")"
REPS=${REPS:-5}
THREADS=${THREADS:-"1 2 8"}
SCALE=${SCALE:-1}
SHAPES=${SHAPES:-$(ls bin)}
declare -A LIB=(
	[ours]=${OURS_SO:-/work/main/build/liballoc.so}
	[mi]=${MIMALLOC_SO:-/usr/lib/x86_64-linux-gnu/libmimalloc.so.2}
	[je]=${JEMALLOC_SO:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
)
ORDER=(ours mi je)
if [ -n "${NEW_SO:-}" ]; then
	LIB[new]=$NEW_SO
	ORDER+=(new)
fi
echo "shape,threads,alloc,rep,wall_s,user_s,maxrss_kb"
for s in $SHAPES; do
	for t in $THREADS; do
		for ((r = 0; r < REPS; r++)); do
			for ((i = 0; i < ${#ORDER[@]}; i++)); do
				a=${ORDER[$(((i + r) % ${#ORDER[@]}))]}
				out=$(LD_PRELOAD=${LIB[$a]} nice /usr/bin/time -f '%e %U %M' \
					"bin/$s" "$t" "$SCALE" 2>&1 >/dev/null | tail -1)
				echo "$s,$t,$a,$r,${out// /,}"
			done
		done
	done
done
