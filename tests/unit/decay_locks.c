/*
 * decay_locks: every purge (madvise) and unmap the allocator makes while
 * purging runs with no arena lock held, for each way pages get purged:
 *   - 8 MiB of whole chunks emptied by large frees (eager);
 *   - dirty_decay_ms 0: page runs and huge runs purged on the free's tick;
 *   - muzzy_decay_ms > 0: dirty pages to muzzy (MADV_FREE), then
 *     arena.<i>.purge: muzzy to clean and huge runs to clean.
 * The os_ops table is replaced by wrappers that try each arena's lock; the
 * test is single-threaded, so a busy lock means this very call holds it.
 * Each scenario must also have made the calls it is about (counts > 0).
 */
#include "check.h"

#include "arena.h"
#include "arena_locks.h"
#include "os.h"

static struct os_ops real;
static unsigned calls, under_lock;

static void check_locks(void)
{
    calls++;
    under_lock += arenas_locked();
}

static int w_unmap(void *p, size_t n) { check_locks(); return real.unmap(p, n); }
static int w_forced(void *p, size_t n) { check_locks(); return real.purge_forced(p, n); }
static int w_lazy(void *p, size_t n) { check_locks(); return real.purge_lazy(p, n); }

static unsigned new_arena(ssize_t dirty_ms, ssize_t muzzy_ms)
{
    unsigned ar = tl_arena_create();
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ar);
    CHECK_I(mallctl(name, NULL, NULL, &dirty_ms, sizeof(dirty_ms)), ==, 0);
    snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", ar);
    CHECK_I(mallctl(name, NULL, NULL, &muzzy_ms, sizeof(muzzy_ms)), ==, 0);
    return ar;
}

#define MiB ((size_t)1 << 20)

static void scenario(const char *what)
{
    CHECK_MSG(calls > 0, "%s: no purge call made", what);
    CHECK_MSG(under_lock == 0, "%s: %u of %u purge/unmap calls under an arena lock", what,
              under_lock, calls);
    calls = under_lock = 0;
}

int main(void)
{
    free(malloc(1)); /* the allocator is up */
    real = os_ops;
    os_ops.unmap = w_unmap;
    os_ops.purge_forced = w_forced;
    os_ops.purge_lazy = w_lazy;

    /* Whole chunks emptied by large frees: 12 x 1 MiB blocks. */
    unsigned a = new_arena(10000, 0);
    int f = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    void *l[12];
    for (int i = 0; i < 12; i++)
        CHECK_NONNULL(l[i] = mallocx(MiB, f));
    calls = under_lock = 0;
    for (int i = 0; i < 12; i++)
        dallocx(l[i], f);
    scenario("empty chunks eager");

    /* Decay 0: both kinds purged as they are freed. */
    a = new_arena(0, 0);
    f = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    void *h = mallocx(4 * MiB, f);
    void *g = mallocx(256 * 1024, f);
    CHECK_NONNULL(h);
    CHECK_NONNULL(g);
    calls = under_lock = 0;
    dallocx(h, f);
    scenario("huge decay 0");
    dallocx(g, f);
    scenario("large decay 0");

    /* Dirty 0 with muzzy: page runs go muzzy at once; arena.purge then
     * cleans them and the huge run. */
    a = new_arena(0, 10000);
    f = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    g = mallocx(256 * 1024, f);
    void *k = mallocx(256 * 1024, f); /* keeps g's run from joining the rest */
    CHECK_NONNULL(g);
    CHECK_NONNULL(k);
    calls = under_lock = 0;
    dallocx(g, f);
    scenario("dirty to muzzy");
    a = new_arena(10000, 10000);
    f = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    h = mallocx(4 * MiB, f);
    CHECK_NONNULL(h);
    dallocx(h, f);
    calls = under_lock = 0;
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", a);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    scenario("arena.purge");
    snprintf(name, sizeof(name), "arena.%u.purge", a - 1);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    scenario("arena.purge muzzy");

    os_ops = real;
    printf("decay_locks: ok\n");
    return 0;
}
