/*
 * tcache_explicit: tcache.create / flush / destroy and MALLOCX_TCACHE(id).
 *   - a block freed into tcache A comes back from A, not from B nor from
 *     the thread's own cache (mallocx without flags);
 *   - after tcache.flush of A it is no longer cached there: the thread's
 *     heap hands it out again;
 *   - sdallocx and rallocx honour the flag (rallocx's old block goes into
 *     the cache it names);
 *   - destroy flushes and frees the id: the next create may return it,
 *     flush/destroy of a dead id and of ids past the last are EFAULT,
 *     wrong sizes EINVAL, reading from flush EPERM;
 *   - a cache belongs to no thread: blocks freed into it by one thread are
 *     handed out by it in another;
 *   - when every id is taken, create fails with EFAULT (jemalloc's code).
 */
#include "check.h"

#include <pthread.h>

static unsigned tc_create(void)
{
    unsigned id = 0;
    size_t sz = sizeof(id);
    CHECK_EQ(mallctl("tcache.create", &id, &sz, NULL, 0), 0);
    return id;
}

static int tc_op(const char *name, unsigned id)
{
    return mallctl(name, NULL, NULL, &id, sizeof(id));
}

struct xfer {
    unsigned id;
    void *p;
};

static void *other(void *arg)
{
    struct xfer *x = arg;
    x->p = mallocx(96, MALLOCX_TCACHE(x->id));
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    unsigned a = tc_create(), b = tc_create();
    CHECK(a != b);

    void *keep = mallocx(64, 0); /* keeps the thread's page for 64 B alive */
    void *p = mallocx(64, MALLOCX_TCACHE(a));
    CHECK_NONNULL(p);
    dallocx(p, MALLOCX_TCACHE(a));
    void *q = mallocx(64, MALLOCX_TCACHE(b));
    CHECK(q != p);
    void *r = mallocx(64, 0);
    CHECK(r != p);
    void *s = mallocx(64, MALLOCX_TCACHE(a));
    CHECK(s == p); /* LIFO from A */

    /* Flush: the block goes back to the thread heap, whose next malloc is it. */
    dallocx(s, MALLOCX_TCACHE(a));
    CHECK_EQ(tc_op("tcache.flush", a), 0);
    void *t = mallocx(64, 0);
    CHECK_MSG(t == p, "after tcache.flush the block should be back in the thread heap");
    void *u = mallocx(64, MALLOCX_TCACHE(a));
    CHECK(u != p);
    dallocx(t, 0);
    dallocx(u, 0);
    dallocx(q, MALLOCX_TCACHE(b));
    dallocx(r, 0);

    /* sdallocx and rallocx. */
    void *v = mallocx(200, 0);
    sdallocx(v, 200, MALLOCX_TCACHE(b));
    CHECK(mallocx(200, MALLOCX_TCACHE(b)) == v);
    void *w = rallocx(v, 2000, MALLOCX_TCACHE(b));
    CHECK_NONNULL(w);
    CHECK(w != v);
    CHECK(mallocx(200, MALLOCX_TCACHE(b)) == v); /* the old block went into B */
    dallocx(v, 0);
    dallocx(w, 0);

    /* Not bound to a thread. */
    void *x0 = mallocx(96, 0);
    dallocx(x0, MALLOCX_TCACHE(a));
    struct xfer xf = {a, NULL};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, other, &xf) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(xf.p == x0);
    dallocx(xf.p, 0);

    /* Destroy, reuse, errors. */
    void *y = mallocx(48, 0);
    dallocx(y, MALLOCX_TCACHE(a));
    CHECK_EQ(tc_op("tcache.destroy", a), 0);
    CHECK_EQ(tc_op("tcache.flush", a), EFAULT);
    CHECK_EQ(tc_op("tcache.destroy", a), EFAULT);
    CHECK_EQ(tc_op("tcache.flush", 5000), EFAULT);
    CHECK(mallocx(48, 0) == y); /* destroy flushed it */
    free(y);
    unsigned id = a;
    CHECK_EQ(mallctl("tcache.flush", NULL, NULL, &id, 2), EINVAL);
    size_t sz = sizeof(id);
    CHECK_EQ(mallctl("tcache.flush", &id, &sz, NULL, 0), EPERM);
    unsigned ids[4100];
    unsigned n = 0;
    int err = 0;
    for (;;) {
        sz = sizeof(unsigned);
        err = mallctl("tcache.create", &ids[n], &sz, NULL, 0);
        if (err)
            break;
        CHECK(ids[n] <= 4093); /* MALLOCX_TCACHE(id) must fit its 12 bits */
        n++;
        CHECK(n < 4100);
    }
    CHECK_EQ(err, EFAULT);
    CHECK_EQ(n + 1, 4094); /* b is live */
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(tc_op("tcache.destroy", ids[i]), 0);
    CHECK_EQ(tc_op("tcache.destroy", b), 0);
    free(keep);
    printf("tcache_explicit: ok\n");
    return 0;
}
