/*
 * free_wave: a wave of frees alone drives decay (issue 11.2). One thread
 * allocates ~160 MiB of small blocks (80 B to 24 KiB), then frees them in
 * allocation order in 12 batches, one every 100 ms, and never allocates
 * again (an expiry wave). With dirty_decay_ms:300 (free_wave.conf, no
 * background thread) the pages freed more than 300 ms (+ 300 ms of slack)
 * before the end of the wave must be purged by the end of it: the RSS may
 * exceed its starting value by at most the last 6 batches plus 24 MiB.
 * Before frees drove decay, a thread that only freed never purged anything.
 */
#include "check.h"

#include <fcntl.h>

#define MiB     ((size_t)1 << 20)
#define TOTAL   (160 * MiB)
#define BATCHES 12
#define MAXB    (TOTAL / 80 + 1)

static void *blocks[MAXB];

/* RSS without allocating (tl_rss's fopen would allocate, and an allocation
 * ticks decay: the measurement must not drive what it measures). */
static size_t rss_noalloc(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    CHECK(fd >= 0);
    ssize_t k = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    CHECK(k > 0);
    buf[k] = 0;
    unsigned long size = 0, res = 0;
    CHECK(sscanf(buf, "%lu %lu", &size, &res) == 2);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

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
    /* The wave: frees only. */
    size_t per = (n + BATCHES - 1) / BATCHES;
    for (int b = 0; b < BATCHES; b++) {
        for (size_t i = (size_t)b * per; i < n && i < (size_t)(b + 1) * per; i++)
            free(blocks[i]);
        usleep(100000);
    }
    size_t rss = rss_noalloc();
    size_t allowed = rss0 + TOTAL / 2 + 24 * MiB;
    printf("RSS before %zu MiB, full %zu MiB, at the end of the wave %zu MiB (allowed %zu MiB)\n",
           rss0 >> 20, rss_full >> 20, rss >> 20, allowed >> 20);
    CHECK_MSG(rss <= allowed, "RSS %zu MiB at the end of a 1.2 s wave of frees with dirty_decay_ms:300: "
              "frees did not drive decay (allowed %zu MiB)", rss >> 20, allowed >> 20);
    printf("ok\n");
    return 0;
}
