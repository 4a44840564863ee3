/*
 * stats_orphan_alloc: a thread that has no heap any more (it is exiting,
 * and the allocator's own thread-exit handler already ran) still allocates
 * and frees: a pthread key destructor created after the allocator's frees
 * the thread's block and allocates another, which the main thread frees
 * later. stats.allocated must count those blocks as any others: up by
 * exactly the new blocks' usable size while they live, back to where it
 * was once main frees them. Before, the heapless thread's allocations were
 * counted nowhere while its frees were, so stats.allocated fell below the
 * live bytes (here by 7168 B a thread; under the 1 MiB block that stays
 * live, once main freed them).
 * Also the explicit tcache's free (dallocx with MALLOCX_TCACHE),
 * allocation (mallocx with MALLOCX_TCACHE) and flush by such a thread
 * (its blocks' frees were counted as they entered it: not twice), and an
 * in-place resize by it (count_resize).
 */
#include "check.h"

#include <pthread.h>

#define NTHREADS 64
#define LATE_SIZE 7000 /* usable 7168 */
#define OWN_SIZE 9000  /* usable 10240 */

static pthread_key_t key;
static void *late[NTHREADS], *late_tc[NTHREADS], *late_re[NTHREADS];
static unsigned tcache_id;
static int nlate;

static void key_dtor(void *p)
{
    free(p);
    int i = nlate++;
    late[i] = malloc(LATE_SIZE);
    /* the explicit tcache: a block in, a block out */
    void *t = mallocx(100, MALLOCX_TCACHE(tcache_id));
    dallocx(t, MALLOCX_TCACHE(tcache_id));
    late_tc[i] = mallocx(100, MALLOCX_TCACHE(tcache_id));
    /* a block into the tcache, then the tcache flushed: really freed */
    void *f = mallocx(100, MALLOCX_TCACHE(tcache_id));
    dallocx(f, MALLOCX_TCACHE(tcache_id));
    unsigned id = tcache_id;
    if (mallctl("tcache.flush", NULL, NULL, &id, sizeof(id)) != 0)
        abort();
    /* a large block shrunk in place: 163840 -> 81920 usable */
    void *r = mallocx(160000, 0);
    late_re[i] = r && xallocx(r, 80000, 0, 0) == 81920 ? r : NULL;
    if (!late_re[i])
        dallocx(r, 0);
}

static void *idle(void *arg) { return arg; }

static void *worker(void *arg)
{
    CHECK_I(pthread_setspecific(key, malloc(OWN_SIZE)), ==, 0);
    return arg;
}

int main(void)
{
    tl_require_liballoc();
    size_t sz = sizeof(tcache_id);
    CHECK_I(mallctl("tcache.create", &tcache_id, &sz, NULL, 0), ==, 0);
    /* After the allocator's own key (created at its start-up): glibc runs
     * the destructors in key order, so this one runs on a heapless thread. */
    CHECK_I(pthread_key_create(&key, key_dtor), ==, 0);
    void *live = malloc(1 << 20);
    CHECK(live != NULL);
    memset(live, 1, 1 << 20);
    /* glibc's first thread keeps a few hundred bytes of its own */
    pthread_t warm;
    CHECK_I(pthread_create(&warm, NULL, idle, NULL), ==, 0);
    CHECK_I(pthread_join(warm, NULL), ==, 0);
    uint64_t before = tl_stat_size("stats.allocated");
    for (int i = 0; i < NTHREADS; i++) {
        pthread_t t;
        CHECK_I(pthread_create(&t, NULL, worker, NULL), ==, 0);
        CHECK_I(pthread_join(t, NULL), ==, 0);
    }
    CHECK_I(nlate, ==, NTHREADS);
    size_t per = sallocx(late[0], 0) + sallocx(late_tc[0], 0);
    CHECK_U(sallocx(late[0], 0), ==, 7168);
    CHECK_U(sallocx(late_tc[0], 0), ==, 112);
    int shrunk = 0;
    for (int i = 0; i < NTHREADS; i++)
        shrunk += late_re[i] != NULL;
    CHECK_I(shrunk, ==, NTHREADS);
    uint64_t during = tl_stat_size("stats.allocated");
    CHECK_U(during, ==, before + (uint64_t)NTHREADS * per + (uint64_t)shrunk * 81920);
    for (int i = 0; i < NTHREADS; i++) {
        free(late[i]);
        dallocx(late_tc[i], 0);
        free(late_re[i]);
    }
    CHECK_U(tl_stat_size("stats.allocated"), ==, before);
    CHECK_U(before, >=, 1 << 20);
    free(live);
    printf("ok\n");
    return 0;
}
