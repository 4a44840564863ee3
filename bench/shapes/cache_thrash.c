/*
 * cache_thrash: active false sharing (cache-thrash-like).
 * Every thread, on its own, repeatedly allocates one small block, writes
 * to it many times and frees it. Nothing is shared by the program; if the
 * allocator hands blocks on the same cache line to different threads, the
 * writes bounce that line between cores and the run slows down.
 *
 * Usage: cache_thrash [threads=2] [scale=1]. Total work is split among
 * threads.
 */
#include "shapes.h"

#define BASE_ITERS 16000000ull /* allocate/write/free rounds in total */

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	w->checksum = scribble(w->ops);
	return NULL;
}

int main(int argc, char **argv)
{
	return shape_main(argc, argv, "cache_thrash", BASE_ITERS, run);
}
