/* churn: heavy churn of short-lived blocks. format_message() allocates a
 * scratch buffer and frees it at once (nothing else allocated in between:
 * a temporary allocation in heaptrack's sense); store_record() allocates
 * records that live until the end; reuse_buffer() allocates blocks that live
 * for 64 iterations (freed after other allocations: not temporary). The
 * profiler's answer to "who churns" must be format_message.
 * Usage: churn [scale]; 1,000,000 * scale iterations. */
#include "ht_common.h"

__attribute__((noinline)) void format_message(unsigned i)
{
    size_t n = 64 + (i % 193);
    char *buf = malloc(n);
    ht_touch(buf, n);
    free(buf);
}

static void *records[1 << 16];
static unsigned nrecords;

__attribute__((noinline)) void store_record(unsigned i)
{
    if (nrecords < sizeof(records) / sizeof(records[0])) {
        records[nrecords] = malloc(96);
        ht_touch(records[nrecords++], 96);
    }
    (void)i;
}

static void *ring[64];

__attribute__((noinline)) void reuse_buffer(unsigned i)
{
    unsigned k = i % 64;
    free(ring[k]);
    ring[k] = malloc(128 + k);
    ht_touch(ring[k], 128 + k);
}

int main(int argc, char **argv)
{
    unsigned iters = (unsigned)(1000000 * ht_scale(argc, argv));
    for (unsigned i = 0; i < iters; i++) {
        format_message(i);
        format_message(i + 1);
        reuse_buffer(i);
        if (i % 16 == 0)
            store_record(i);
    }
    /* records and the ring's last 64 buffers stay until exit, as a cache's
     * do: freeing the ring here would free its newest buffer with nothing
     * allocated since, a temporary by heaptrack's rule (when sampled, about
     * 1 run in 100, tests/apps/heaptrack_side.sh saw reuse_buffer listed) */
    return 0;
}
