/*
 * xthread_reclaim_sampled: xthread_reclaim with every small block sampled
 * (xthread_reclaim_sampled.conf: lg_prof_sample:0), so the blocks handed
 * over live on the producers' sample heaps (heap.c, "sample heaps"): the
 * exited producer's sample pages are abandoned, the blocked one's are
 * never collected by their owner, and all of them must still come back
 * within the same bounds.
 */
#include "xthread_reclaim.c"
