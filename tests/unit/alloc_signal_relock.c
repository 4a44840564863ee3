/*
 * alloc_signal_relock: a signal handler's allocation that maps memory for
 * an arena it locked by trying (lock_depth.h) while another thread waits
 * to take that arena's lock, deterministically, in two phases:
 *   0. a large block that needs a new chunk, whose mapping the kernel
 *      refuses: chunk_reclaim gives free huge runs of another arena back
 *      and maps again (arena.c);
 *   1. a huge block that needs a new region (huge.c, region_new).
 * The thread (main) is inside base_alloc's mapping for mallctl
 * "arenas.create" (the arena list's lock and base's held) when the os
 * seam's map wrapper raises the signal. Its arena is A (thread.arena); the
 * handler allocates from A. When the handler maps, thread U is let go: U
 * allocates large blocks from A until one needs a chunk, which takes A's
 * lock and then base's, held by the main thread.
 *
 * Before the fix the handler dropped A's lock around its mapping and
 * retook it waiting: U held A by then and waited for base's lock, which
 * the interrupted thread holds until the handler returns (the alarm fails
 * the test after 10 s). Now the handler keeps A's lock across the
 * mapping, U waits for it, and the handler's allocation completes: the
 * huge block is served; the large one fails with ENOMEM, since the new
 * chunk's descriptor comes from base, which its thread holds (base.c).
 */
#include "check.h"

#include "arena.h"
#include "defer.h"
#include "lock_depth.h"
#include "signal_in_lock.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

const char *malloc_conf = "background_thread:false";

#define MiB ((size_t)1 << 20)
enum { NPHASE = 2, UMAX = 64, TFILL = 8 };
static const size_t h_size[NPHASE] = {LARGE_MAX, 3 * MiB};

static struct os_ops real;
static struct arena *A;
static unsigned a_idx;
static pthread_t main_thread, u_thread;
static volatile int armed, phase, in_handler, fired;
static volatile int h_maps, h_held, h_err;
static void *volatile h_block;
static volatile int u_go[NPHASE], u_mapped[NPHASE], u_done[NPHASE];
static void *u_blocks[UMAX];
static int u_n;

static bool lock_busy(pthread_mutex_t *m)
{
    if (pthread_mutex_trylock(m) != 0)
        return true;
    pthread_mutex_unlock(m);
    return false;
}

static int w_map(size_t size, void **out)
{
    if (pthread_equal(pthread_self(), u_thread)) {
        if (u_go[phase])
            u_mapped[phase] = 1; /* U maps a chunk under A's lock, then waits for base */
        return real.map(size, out);
    }
    if (in_handler && size >= CHUNK) {
        if (++h_maps == 1 && phase == 0)
            return ENOMEM; /* the chunk's mapping: chunk_reclaim follows */
        if (!u_go[phase]) {
            h_held = lock_busy(&A->lock);
            u_go[phase] = 1;
            /* Until U holds A (its chunk mapping), or 300 ms: U waits for A. */
            for (int i = 0; i < 3000 && !u_mapped[phase]; i++)
                usleep(100);
        }
        return real.map(size, out);
    }
    /* arenas.create: base maps a new block (the arena list's lock and base's held) */
    if (armed && lock_depth == 2 && pthread_equal(pthread_self(), main_thread)) {
        armed = 0;
        raise(SIGUSR1);
    }
    return real.map(size, out);
}

static void handler(int sig)
{
    (void)sig;
    in_handler = 1;
    errno = 0;
    void *p = mallocx(h_size[phase], MALLOCX_TCACHE_NONE);
    h_err = errno;
    if (p)
        memset(p, 0x5a, h_size[phase]);
    h_block = p;
    in_handler = 0;
    fired = 1;
}

static void *u_main(void *arg)
{
    (void)arg;
    unsigned idx = a_idx;
    CHECK(mallctl("thread.arena", NULL, NULL, &idx, sizeof(idx)) == 0);
    int f = MALLOCX_ARENA(a_idx) | MALLOCX_TCACHE_NONE;
    for (int ph = 0; ph < NPHASE; ph++) {
        while (!u_go[ph])
            usleep(100);
        while (!u_mapped[ph] && u_n < UMAX) {
            u_blocks[u_n] = mallocx(LARGE_MAX, f);
            CHECK_NONNULL(u_blocks[u_n]);
            u_n++;
        }
        u_done[ph] = 1;
    }
    return NULL;
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_relock: the handler's allocation hung (retook its arena's lock)\n");
    main_thread = pthread_self();
    a_idx = tl_arena_create();
    A = arenas[a_idx];
    CHECK_NONNULL(A);
    CHECK(mallctl("thread.arena", NULL, NULL, &a_idx, sizeof(a_idx)) == 0);

    /* Free huge runs in another arena, for chunk_reclaim to give back. */
    unsigned c_idx = tl_arena_create();
    void *c_block = mallocx(8 * MiB, MALLOCX_ARENA(c_idx) | MALLOCX_TCACHE_NONE);
    CHECK_NONNULL(c_block);
    memset(c_block, 1, 8 * MiB);
    dallocx(c_block, MALLOCX_TCACHE_NONE);

    CHECK_I(pthread_create(&u_thread, NULL, u_main, NULL), ==, 0);
    /* A's chunks full: the handler's large block needs a new one. */
    void *t_fill[TFILL];
    int nfill = 0;
    while ((A->stats.mapped >> LG_PAGE) - A->stats.active_pages >= (LARGE_MAX >> LG_PAGE)) {
        CHECK(nfill < TFILL);
        t_fill[nfill] = mallocx(LARGE_MAX, MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(t_fill[nfill]);
        CHECK(sil_arena_of(t_fill[nfill]) == A);
        nfill++;
    }

    real = os_ops;
    os_ops.map = w_map;
    for (int ph = 0; ph < NPHASE; ph++) {
        phase = ph;
        fired = 0;
        h_maps = h_held = 0;
        armed = 1;
        alarm(10);
        int n = sil_create_arenas_until(&fired, ARENA_MAX / 4);
        CHECK_MSG(fired, "phase %d: base mapped no block in %d arenas.create", ph, n);
        while (u_go[ph] && !u_done[ph])
            usleep(100);
        alarm(0);
        CHECK_MSG(u_go[ph], "phase %d: the handler made %d mappings (errno %d)", ph, h_maps, h_err);
        CHECK_MSG(h_held, "phase %d: A's lock was not held across the handler's mapping", ph);
        if (ph == 0) {
            CHECK_MSG(h_maps == 2, "phase 0: %d chunk mappings in the handler, not 2", h_maps);
            CHECK_NULL(h_block);
            CHECK_I(h_err, ==, ENOMEM);
        } else {
            CHECK_MSG(h_block != NULL, "phase 1: the handler's huge block failed (errno %d)",
                      h_err);
            CHECK(sil_arena_of(h_block) == A);
            free(h_block);
        }
        CHECK_U(lock_depth, ==, 0);
        CHECK_U(defer_tls.depth, ==, 0);
        CHECK_U(arenas_locked(), ==, 0);
    }
    os_ops = real;
    pthread_join(u_thread, NULL);
    for (int i = 0; i < u_n; i++)
        dallocx(u_blocks[i], MALLOCX_TCACHE_NONE);
    for (int i = 0; i < nfill; i++)
        dallocx(t_fill[i], MALLOCX_TCACHE_NONE);
    printf("ok: a handler kept its arena's lock across its mappings (chunk reclaim, huge region), "
           "%d blocks of the waiting thread\n",
           u_n);
    return 0;
}
