/* fault: failures of the os seam on command, for tests (see fault.h). */
#include "fault.h"
#include "os.h"
#include "prof_hooks.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static struct alloc_fault spec;      /* written under arm_lock, read racily but only while armed */
static atomic_uint_fast64_t ncalls;  /* calls seen at armed sites since arming */
static atomic_uint_fast64_t nfailed; /* failures injected since arming */
static struct os_ops saved;          /* the table before arming */
static bool armed;
static pthread_mutex_t arm_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Should this call fail? Counts the call either way. */
static bool fault_hit(void)
{
    uint64_t n = atomic_fetch_add_explicit(&ncalls, 1, memory_order_relaxed);
    if (n < spec.after)
        return false;
    if (spec.one_in > 1 && mix(spec.seed ^ mix(n)) % spec.one_in != 0)
        return false;
    if (spec.count) {
        uint64_t f = atomic_load_explicit(&nfailed, memory_order_relaxed);
        do {
            if (f >= spec.count)
                return false;
        } while (!atomic_compare_exchange_weak_explicit(&nfailed, &f, f + 1, memory_order_relaxed,
                                                        memory_order_relaxed));
        return true;
    }
    atomic_fetch_add_explicit(&nfailed, 1, memory_order_relaxed);
    return true;
}

static int mem_err(void)
{
    return spec.err ? spec.err : ENOMEM;
}

static int f_map(size_t size, void **out)
{
    if (fault_hit())
        return mem_err();
    return saved.map(size, out);
}

static int f_purge_forced(void *a, size_t s)
{
    if (fault_hit())
        return spec.err ? spec.err : EAGAIN;
    return saved.purge_forced(a, s);
}

static int f_purge_lazy(void *a, size_t s)
{
    if (fault_hit())
        return spec.err ? spec.err : EAGAIN;
    return saved.purge_lazy(a, s);
}

static int f_hugepage(void *a, size_t s, bool enable)
{
    if (fault_hit())
        return spec.err ? spec.err : EINVAL;
    return saved.hugepage(a, s, enable);
}

static int f_bind_node(void *a, size_t s, int node)
{
    if (fault_hit())
        return spec.err ? spec.err : EIO;
    return saved.bind_node(a, s, node);
}

static ssize_t f_write(int fd, const void *buf, size_t n)
{
    if (fault_hit()) {
        /* Half of it reaches the file first, as when a disk fills. */
        if (n >= 2 && saved.write(fd, buf, n / 2) < 0) {
        }
        errno = spec.err ? spec.err : ENOSPC;
        return -1;
    }
    return saved.write(fd, buf, n);
}

#define SWAP(field, fn, on)                                                                        \
    __atomic_store_n(&os_ops.field, (on) ? fn : saved.field, __ATOMIC_RELEASE)

int fault_ctl(const struct ctl_args *a)
{
    uint64_t failed = atomic_load_explicit(&nfailed, memory_order_relaxed);
    if (a->newp || a->newlen) {
        struct alloc_fault nw;
        if (!a->newp || a->newlen != sizeof(nw))
            return EINVAL;
        memcpy(&nw, a->newp, sizeof(nw));
        if (nw.sites & ~(unsigned)(FAULT_MAP | FAULT_PURGE | FAULT_BIND | FAULT_WRITE) || nw.err < 0)
            return EINVAL;
        pthread_mutex_lock(&arm_lock);
        if (!armed)
            saved = os_ops;
        /* Disarm first, so no wrapper runs while spec changes. */
        SWAP(map, f_map, false);
        SWAP(purge_forced, f_purge_forced, false);
        SWAP(purge_lazy, f_purge_lazy, false);
        SWAP(hugepage, f_hugepage, false);
        SWAP(bind_node, f_bind_node, false);
        SWAP(write, f_write, false);
        spec = nw;
        atomic_store(&ncalls, 0);
        atomic_store(&nfailed, 0);
        armed = nw.sites != 0;
        SWAP(map, f_map, nw.sites & FAULT_MAP);
        SWAP(purge_forced, f_purge_forced, nw.sites & FAULT_PURGE);
        SWAP(purge_lazy, f_purge_lazy, nw.sites & FAULT_PURGE);
        SWAP(hugepage, f_hugepage, nw.sites & FAULT_PURGE);
        SWAP(bind_node, f_bind_node, nw.sites & FAULT_BIND);
        SWAP(write, f_write, nw.sites & FAULT_WRITE);
        pthread_mutex_unlock(&arm_lock);
    }
    return ctl_read(a, &failed, sizeof(failed));
}
