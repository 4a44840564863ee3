/*
 * free_wave: a wave of frees alone drives decay (issue 11.2). One thread
 * allocates ~160 MiB of small blocks (80 B to 24 KiB), frees every other
 * one (no page is full any more), then frees the rest in allocation order
 * in 12 batches, one every 100 ms, and never allocates again (an expiry
 * wave whose frees all take the fast path). With dirty_decay_ms:300 (free_wave.conf, no
 * background thread) the pages freed 400 ms before any point of the wave
 * must be purged by then (RSS checked after every batch, read without
 * allocating).
 * Before frees drove decay, a thread that only freed never purged anything.
 */
#include "check.h"

#include <fcntl.h>

#define MiB     ((size_t)1 << 20)
#define TOTAL   (160 * MiB)
#define BATCHES 12
#define MAXB    (TOTAL / 80 + 1)

static void *blocks[MAXB];

int main(void)
{
    tl_require_liballoc();
    bool bg = true;
    size_t bsz = sizeof(bg);
    CHECK_I(mallctl("background_thread", &bg, &bsz, NULL, 0), ==, 0);
    CHECK_MSG(!bg, "this test needs background_thread:false (free_wave.conf)");
    free(tl_opaque(malloc(tl_opaque_size(64))));
    size_t rss0 = tl_rss();
    uint64_t rng = tl_seed("free_wave");
    size_t n = 0, bytes = 0;
    while (bytes < TOTAL && n < MAXB) {
        size_t sz = 80 + (size_t)tl_rand_below(&rng, 24 * 1024 - 80);
        blocks[n] = malloc(sz);
        CHECK_NONNULL(blocks[n]);
        memset(blocks[n], 0x6b, sz);
        bytes += sz;
        n++;
    }
    size_t rss_full = tl_rss();
    CHECK_MSG(rss_full >= rss0 + TOTAL * 9 / 10, "RSS %zu MiB after touching %zu MiB", rss_full >> 20,
              TOTAL >> 20);
    /* Every other block goes first, so no page is full when the wave starts:
     * the wave's frees then all take the fast path, whose one event compare
     * is what must drive decay. */
    for (size_t i = 1; i < n; i += 2)
        free(blocks[i]);
    /* The wave: frees only, in allocation order, so pages empty as it goes.
     * After batch k (and its 100 ms pause), batches freed 400 ms ago or more
     * (300 ms of decay + 100 ms of slack) must be purged: the RSS may exceed
     * its start by the batches younger than that plus 16 MiB. */
    size_t per = (n + BATCHES - 1) / BATCHES, batch_bytes = TOTAL / BATCHES;
    size_t rss_at[BATCHES], allowed_at[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        for (size_t i = (size_t)b * per; i < n && i < (size_t)(b + 1) * per; i++)
            if (i % 2 == 0)
                free(blocks[i]);
        usleep(100000);
        rss_at[b] = tl_rss_noalloc();
        int purged = b >= 3 ? b - 2 : 0; /* batches 0 .. b-3 */
        allowed_at[b] = rss0 + (size_t)(BATCHES - purged) * batch_bytes + 16 * MiB;
    }
    printf("RSS before %zu MiB, full %zu MiB; after each batch (allowed):", rss0 >> 20, rss_full >> 20);
    for (int b = 0; b < BATCHES; b++)
        printf(" %zu (%zu)", rss_at[b] >> 20, allowed_at[b] >> 20);
    printf("\n");
    for (int b = 3; b < BATCHES; b++)
        CHECK_MSG(rss_at[b] <= allowed_at[b],
                  "RSS %zu MiB after batch %d of a wave of frees with dirty_decay_ms:300: frees did "
                  "not drive decay (allowed %zu MiB)", rss_at[b] >> 20, b, allowed_at[b] >> 20);
    printf("ok\n");
    return 0;
}
