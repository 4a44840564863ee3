/* os: kernel calls for memory, behind a replaceable table (see os.h). */
#include "os.h"
#include "osmap.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_FREE
#define MADV_FREE 8
#endif

static int os_map_default(size_t size, void **out)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return errno ? errno : ENOMEM;
    *out = p;
    return 0;
}

static int os_unmap_default(void *addr, size_t size)
{
    return munmap(addr, size) == 0 ? 0 : errno;
}

static int os_purge_forced_default(void *addr, size_t size)
{
    return madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno;
}

static int os_purge_lazy_default(void *addr, size_t size)
{
    if (madvise(addr, size, MADV_FREE) == 0)
        return 0;
    return madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno;
}

static int os_hugepage_default(void *addr, size_t size, bool enable)
{
    return madvise(addr, size, enable ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) == 0 ? 0 : errno;
}

static int os_bind_node_default(void *addr, size_t size, int node)
{
    /* MPOL_PREFERRED = 1; raw syscall so libnuma is not needed here. */
    unsigned long mask[16] = {0};
    if (node < 0 || node >= (int)(sizeof(mask) * 8))
        return EINVAL;
    mask[node / (8 * sizeof(long))] = 1UL << (node % (8 * sizeof(long)));
    long r = syscall(SYS_mbind, addr, size, 1, mask, sizeof(mask) * 8, 0);
    return r == 0 ? 0 : errno;
}

static ssize_t os_write_default(int fd, const void *buf, size_t n)
{
    return write(fd, buf, n);
}

static int os_move_default(void *from, void *to, size_t len)
{
    void *p = mremap(from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    return p == MAP_FAILED ? (errno ? errno : ENOMEM) : 0;
}

static int os_guard_default(void *addr, size_t size)
{
    return mprotect(addr, size, PROT_NONE) == 0 ? 0 : errno;
}

/* process_madvise(2) on the calling process without a pidfd: the kernel's
 * PIDFD_SELF_THREAD (Linux 6.14+); older kernels answer EBADF. */
#ifndef PIDFD_SELF_THREAD
#define PIDFD_SELF_THREAD -10000
#endif
/* 1 untried, 0 refused (fall back to madvise for good), 2 works. */
static _Atomic int vec_purge_state = 1;
_Atomic uint64_t os_purge_vectored;

void os_purge_forced_many(const struct os_range *r, unsigned n, int *err)
{
    /* Only when the table holds the real madvise: tests that count or fake
     * calls and fault injection (fault.h) see every range through
     * os_ops.purge_forced. */
    if (n > 1 && n <= OS_PURGE_MANY_MAX && os_ops.purge_forced == os_purge_forced_default &&
        atomic_load_explicit(&vec_purge_state, memory_order_relaxed) != 0) {
        struct iovec iov[OS_PURGE_MANY_MAX];
        size_t total = 0;
        for (unsigned i = 0; i < n; i++) {
            iov[i].iov_base = (void *)r[i].addr;
            iov[i].iov_len = r[i].size;
            total += r[i].size;
        }
        long done = syscall(SYS_process_madvise, PIDFD_SELF_THREAD, iov, (size_t)n, MADV_DONTNEED, 0u);
        if (done == (long)total) {
            atomic_store_explicit(&vec_purge_state, 2, memory_order_relaxed);
            atomic_fetch_add_explicit(&os_purge_vectored, 1, memory_order_relaxed);
            for (unsigned i = 0; i < n; i++)
                err[i] = 0;
            return;
        }
        /* Never worked here: the kernel does not take PIDFD_SELF or a
         * vector of MADV_DONTNEED on itself (EBADF, EINVAL, ENOSYS,
         * EPERM). Else some range failed: the ranges it did are done, the
         * rest go one by one below, each with its own error. */
        unsigned from = 0;
        if (done < 0 && atomic_load_explicit(&vec_purge_state, memory_order_relaxed) == 1)
            atomic_store_explicit(&vec_purge_state, 0, memory_order_relaxed);
        for (size_t ok = done > 0 ? (size_t)done : 0; from < n && ok >= r[from].size; from++) {
            ok -= r[from].size;
            err[from] = 0;
        }
        for (unsigned i = from; i < n; i++)
            err[i] = os_ops.purge_forced((void *)r[i].addr, r[i].size);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        err[i] = os_ops.purge_forced((void *)r[i].addr, r[i].size);
}

struct os_ops os_ops = {
    .map = os_map_default,
    .unmap = os_unmap_default,
    .purge_forced = os_purge_forced_default,
    .purge_lazy = os_purge_lazy_default,
    .hugepage = os_hugepage_default,
    .bind_node = os_bind_node_default,
    .write = os_write_default,
    .move = os_move_default,
    .guard = os_guard_default,
};

/* Every mapping the allocator keeps is noted in the osmap registry
 * (stats.resident measures those ranges). */
static int map_aligned(size_t size, size_t align, void **out)
{
    void *p;
    int err;
    if (size + align < size)
        return ENOMEM;
    if (align <= PAGE)
        return os_ops.map(size, out);
    /* Optimistically map exactly; most kernels hand out neighbouring addresses. */
    if ((err = os_ops.map(size, &p)) != 0)
        return err;
    if (((uintptr_t)p & (align - 1)) == 0) {
        *out = p;
        return 0;
    }
    os_ops.unmap(p, size);
    /* Over-map and trim both ends. */
    if ((err = os_ops.map(size + align - PAGE, &p)) != 0)
        return err;
    uintptr_t start = ALIGN_UP((uintptr_t)p, align);
    size_t lead = start - (uintptr_t)p;
    size_t trail = align - PAGE - lead;
    if (lead)
        os_ops.unmap(p, lead);
    if (trail)
        os_ops.unmap((void *)(start + size), trail);
    *out = (void *)start;
    return 0;
}

int os_map_aligned(size_t size, size_t align, void **out)
{
    int err = map_aligned(size, align, out);
    if (err == 0)
        osmap_add((uintptr_t)*out, size);
    return err;
}

int os_unmap(void *addr, size_t size)
{
    /* Out of the registry first, so a measurement never sees a range that
     * is about to disappear. */
    osmap_remove((uintptr_t)addr, size);
    return os_ops.unmap(addr, size);
}

/* Resident pages of [p, p+len) (len <= veclen pages); 0 or an errno. */
static int resident_step(uintptr_t p, size_t len, unsigned char *vec, size_t *pages)
{
    if (mincore((void *)p, len, vec) != 0)
        return errno;
    size_t npages = (len + PAGE - 1) >> LG_PAGE, n = 0, i = 0;
    /* Bit 0 of each byte says resident; count eight pages per word. */
    for (; i + 8 <= npages; i += 8) {
        uint64_t w;
        memcpy(&w, vec + i, sizeof(w));
        n += (size_t)__builtin_popcountll(w & 0x0101010101010101ULL);
    }
    for (; i < npages; i++)
        n += vec[i] & 1;
    *pages = n;
    return 0;
}

int os_resident(void *addr, size_t size, unsigned char *vec, size_t veclen, size_t *out)
{
    /* veclen bytes of vector: veclen pages of address space per mincore. */
    const size_t step = (veclen & ~(size_t)7) << LG_PAGE;
    size_t total = 0;
    int err = 0;
    *out = 0;
    if (step == 0)
        return EINVAL;
    for (uintptr_t p = (uintptr_t)addr, end = p + size; p < end; p += step) {
        size_t len = end - p < step ? end - p : step, n = 0;
        int e = resident_step(p, len, vec, &n);
        if (e == ENOMEM) {
            /* A hole (something unmapped behind the registry's back): count
             * what is still mapped, page by page, and say so. */
            for (uintptr_t q = p; q < p + len; q += PAGE) {
                size_t one = 0;
                if (resident_step(q, PAGE, vec, &one) == 0)
                    n += one;
            }
            err = ENOMEM;
        } else if (e) {
            return e;
        }
        total += n;
    }
    *out = total << LG_PAGE;
    return err;
}

/* The first three fields of /proc/self/statm, in pages: size (VmSize),
 * resident, shared (of: size resident shared text lib data dt). 0 or an
 * errno. No allocation, no stdio (async-signal-safe). */
static int statm_read(uint64_t f[3])
{
    char buf[256];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno ? errno : ENOENT;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (n <= 0)
        return err ? err : EIO;
    buf[n] = 0;
    const char *c = buf;
    for (int i = 0; i < 3; i++) {
        f[i] = 0;
        while (*c == ' ')
            c++;
        if (*c < '0' || *c > '9')
            return EIO;
        while (*c >= '0' && *c <= '9')
            f[i] = f[i] * 10 + (uint64_t)(*c++ - '0');
    }
    return 0;
}

int os_anon_resident(size_t *out)
{
    uint64_t f[3];
    int err = statm_read(f);
    if (err)
        return err;
    *out = (size_t)(f[1] > f[2] ? f[1] - f[2] : 0) << LG_PAGE;
    return 0;
}

size_t os_as_room(void)
{
    struct rlimit rl;
    uint64_t f[3];
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || statm_read(f) != 0)
        return SIZE_MAX;
    uint64_t vm = f[0] << LG_PAGE;
    return rl.rlim_cur > vm ? (size_t)(rl.rlim_cur - vm) : 0;
}

int os_remap(void *old, size_t oldsize, size_t newsize, void *fixed_at, void **out)
{
    void *p;
    if (fixed_at)
        p = mremap(old, oldsize, newsize, MREMAP_MAYMOVE | MREMAP_FIXED, fixed_at);
    else
        p = mremap(old, oldsize, newsize, 0);
    if (p == MAP_FAILED)
        return errno;
    osmap_remove((uintptr_t)old, oldsize);
    osmap_add((uintptr_t)p, newsize);
    *out = p;
    return 0;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

int os_move_pages(void *from, void *to, size_t len, bool *from_lost)
{
    *from_lost = false;
    /* The registry is held from the move to the refill: if another thread
     * maps the hole meanwhile (the refill then fails), its registration
     * comes after our removal of the hole, not before it. */
    osmap_hold();
    int err = os_ops.move(from, to, len);
    if (err)
        goto out;
    void *q = mmap(from, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (q == from)
        goto out;
    /* Old kernels take the flag as a hint: a mapping elsewhere is not ours. */
    err = q == MAP_FAILED ? (errno ? errno : ENOMEM) : EEXIST;
    if (q != MAP_FAILED)
        munmap(q, len);
    osmap_remove_held((uintptr_t)from, len);
    *from_lost = true;
out:
    osmap_release();
    return err;
}

int os_thp_mode = OS_THP_DEFAULT;

void os_thp_apply(void *addr, size_t size)
{
    if (os_thp_mode != OS_THP_DEFAULT)
        os_ops.hugepage(addr, size, os_thp_mode == OS_THP_ALWAYS);
}

/* The kernel's transparent_hugepage/enabled mode: 1 never (or no file), 2
 * madvise, 3 always. Read once (a race reads the file twice). */
static int thp_sys_mode(void)
{
    static _Atomic int mode; /* 0: not read yet */
    int v = atomic_load_explicit(&mode, memory_order_relaxed);
    if (v == 0) {
        int saved_errno = errno; /* a missing file (ENOENT) is an answer, not the caller's error */
        char buf[64];
        ssize_t n = -1;
        int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
        }
        buf[n > 0 ? n : 0] = '\0';
        v = strstr(buf, "[always]") ? 3 : strstr(buf, "[madvise]") ? 2 : 1;
        atomic_store_explicit(&mode, v, memory_order_relaxed);
        errno = saved_errno;
    }
    return v;
}

bool os_thp_backs_units(void)
{
    if (os_thp_mode != OS_THP_DEFAULT)
        return os_thp_mode == OS_THP_ALWAYS;
    return thp_sys_mode() == 3;
}

bool os_thp_huge;

/* os_thp_mark's condition (os.h). */
static bool os_thp_marks_units(void)
{
    return os_thp_huge && os_thp_mode == OS_THP_DEFAULT && thp_sys_mode() == 2;
}

/* A range was marked MADV_HUGEPAGE: until then no range carries a mark,
 * and an unmark has nothing to undo. */
static _Atomic bool thp_marked;

bool os_thp_mark(void *addr, size_t size, bool huge)
{
    if (size == 0 || !os_thp_marks_units())
        return false;
    if (!atomic_load_explicit(&thp_marked, memory_order_relaxed)) {
        if (!huge)
            return false;
        atomic_store_explicit(&thp_marked, true, memory_order_relaxed);
    }
    int saved_errno = errno; /* a split refused at vm.max_map_count (EAGAIN) is no error of the caller's */
    int err = os_ops.hugepage(addr, size, huge);
    errno = saved_errno;
    return err == 0;
}

/* The probe's plan (os.h): blocks planned so far, and the block number
 * where marking resumes after a back-off; the current back-off length (0
 * after a fast probe). */
bool os_thp_huge_probe;
static _Atomic uint64_t thp_blocks, thp_resume_at;
static _Atomic uint32_t thp_backoff;
static _Atomic uint64_t thp_probes, thp_slow;
/* The last measure of what a unit's 512 small faults take (ns; 0: none
 * yet), scaled from OS_THP_SMALL_SAMPLE of them (os_thp_probe). */
static _Atomic uint64_t thp_small_ns;

/* True if a virtio balloon device of this guest reports free pages to the
 * host (feature bit VIRTIO_BALLOON_F_REPORTING, 5, in sysfs's features
 * string of '0'/'1' characters). The driver's directory lists its devices
 * (virtioN: N counts every virtio device); read with getdents64 into a
 * stack buffer, since opendir allocates. */
static bool free_page_reporting(void)
{
    static const char dir[] = "/sys/bus/virtio/drivers/virtio_balloon/";
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return false;
    bool yes = false;
    char buf[2048];
    long n;
    while (!yes && (n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
        for (long off = 0; off < n && !yes;) {
            /* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof(reclen));
            const char *name = buf + off + 19;
            if (reclen == 0)
                break;
            off += reclen;
            size_t len = strnlen(name, 64);
            if (strncmp(name, "virtio", 6) != 0 || len > 40)
                continue;
            char path[sizeof(dir) + 64];
            memcpy(path, dir, sizeof(dir) - 1);
            memcpy(path + sizeof(dir) - 1, name, len);
            memcpy(path + sizeof(dir) - 1 + len, "/features", sizeof("/features"));
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            char f[8] = {0};
            ssize_t got = read(fd, f, sizeof(f));
            close(fd);
            yes = got > 5 && f[5] == '1';
        }
    }
    close(dfd);
    return yes;
}

bool os_free_page_reporting(void)
{
    static _Atomic int v; /* 0: not read yet, 1: no, 2: yes */
    int r = atomic_load_explicit(&v, memory_order_relaxed);
    if (r == 0) {
        int saved_errno = errno;
        r = free_page_reporting() ? 2 : 1;
        errno = saved_errno;
        atomic_store_explicit(&v, r, memory_order_relaxed);
    }
    return r == 2;
}

/* The plan's view of free page reporting: 0 not looked yet, 1 no, 2 yes. */
static _Atomic int thp_reporting;

enum os_thp_plan os_thp_plan(bool can_probe)
{
    if (!os_thp_huge_probe || !os_thp_marks_units())
        return OS_THP_PLAN_HUGE;
    if (atomic_load_explicit(&thp_reporting, memory_order_relaxed) == 0) {
        int v = os_free_page_reporting() ? 2 : 1, expect = 0;
        atomic_compare_exchange_strong_explicit(&thp_reporting, &expect, v, memory_order_relaxed,
                                                memory_order_relaxed);
    }
    uint64_t n = atomic_fetch_add_explicit(&thp_blocks, 1, memory_order_relaxed);
    if (n < atomic_load_explicit(&thp_resume_at, memory_order_relaxed))
        return OS_THP_PLAN_SMALL;
    return can_probe ? OS_THP_PLAN_PROBE : OS_THP_PLAN_HUGE;
}

void os_thp_plan_reset(bool reporting)
{
    atomic_store_explicit(&thp_blocks, 0, memory_order_relaxed);
    atomic_store_explicit(&thp_resume_at, 0, memory_order_relaxed);
    atomic_store_explicit(&thp_backoff, 0, memory_order_relaxed);
    atomic_store_explicit(&thp_reporting, reporting ? 2 : 1, memory_order_relaxed);
    atomic_store_explicit(&thp_small_ns, 0, memory_order_relaxed);
}

bool os_thp_probe_result(uint64_t ns, uint64_t small_ns)
{
    atomic_fetch_add_explicit(&thp_probes, 1, memory_order_relaxed);
    if (small_ns)
        atomic_store_explicit(&thp_small_ns, small_ns, memory_order_relaxed);
    else
        small_ns = atomic_load_explicit(&thp_small_ns, memory_order_relaxed);
    if (ns <= OS_THP_SLOW_NS || (small_ns && ns <= small_ns)) {
        /* A guest that reports free pages keeps its back-off length: a
         * fast fault there says the guest still had a backed 2 MiB block,
         * not that the next one is (os.h). The blocks after it are each
         * probed until one is slow. */
        if (atomic_load_explicit(&thp_reporting, memory_order_relaxed) != 2)
            atomic_store_explicit(&thp_backoff, 0, memory_order_relaxed);
        return false;
    }
    atomic_fetch_add_explicit(&thp_slow, 1, memory_order_relaxed);
    uint32_t b = atomic_load_explicit(&thp_backoff, memory_order_relaxed);
    b = b == 0 ? OS_THP_BACKOFF_MIN : b >= OS_THP_BACKOFF_MAX / 2 ? OS_THP_BACKOFF_MAX : 2 * b;
    atomic_store_explicit(&thp_backoff, b, memory_order_relaxed);
    atomic_store_explicit(&thp_resume_at, atomic_load_explicit(&thp_blocks, memory_order_relaxed) + b,
                          memory_order_relaxed);
    return true;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* True if no page of unit is resident (false if unknown: mincore failed). */
static bool unit_empty(void *unit)
{
    unsigned char vec[CHUNK / PAGE];
    if (mincore(unit, CHUNK, vec) != 0)
        return false;
    for (size_t i = 0; i < sizeof(vec); i++)
        if (vec[i] & 1)
            return false;
    return true;
}

/* What 512 small faults of unit (2 MiB, nothing resident, marked
 * NOHUGEPAGE here) take, scaled from OS_THP_SMALL_SAMPLE pages spread over
 * it; 0 if not measured. */
static uint64_t small_faults_ns(void *unit)
{
    /* Unmarked (no range ever marked: small pages) or marked NOHUGEPAGE now. */
    if ((!os_thp_mark(unit, CHUNK, false) && atomic_load_explicit(&thp_marked, memory_order_relaxed)) ||
        !unit_empty(unit))
        return 0;
    uint64_t t0 = mono_ns();
    for (size_t i = 0; i < OS_THP_SMALL_SAMPLE; i++)
        ((volatile unsigned char *)unit)[i * (CHUNK / OS_THP_SMALL_SAMPLE)] = 0;
    uint64_t ns = (mono_ns() - t0) * (CHUNK / PAGE / OS_THP_SMALL_SAMPLE);
    return ns ? ns : 1;
}

bool os_thp_probe(void *unit, void *ref)
{
    int saved_errno = errno;
    bool slow = false;
    /* Only a unit with no page resident faults in a huge page: one with
     * any (a dirty run's, pages moved in), or unknown (mincore failed),
     * would time a small fault and call it fast. */
    if (unit_empty(unit)) {
        uint64_t t0 = mono_ns();
        *(volatile unsigned char *)unit = 0;
        uint64_t ns = mono_ns() - t0;
        slow = os_thp_probe_result(ns, ns > OS_THP_SLOW_NS && ref ? small_faults_ns(ref) : 0);
    }
    errno = saved_errno;
    return slow;
}

void os_thp_probe_stats(uint64_t *probes, uint64_t *slow)
{
    *probes = atomic_load_explicit(&thp_probes, memory_order_relaxed);
    *slow = atomic_load_explicit(&thp_slow, memory_order_relaxed);
}

unsigned os_ncpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

unsigned os_ncpus_conf(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? (unsigned)n : 1;
}

/* dl_iterate_phdr visitor: a shared C library among the loaded objects. */
static int has_shared_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    base = base ? base + 1 : info->dlpi_name;
    if (base && strncmp(base, "libc.so", 7) == 0)
        *(int *)arg = 1;
    return 0;
}

bool os_dlopen_usable(void)
{
    int dynamic = 0;
    dl_iterate_phdr(has_shared_libc, &dynamic);
    return dynamic != 0;
}
