/*
 * os: the only module that talks to the kernel about memory (mmap, munmap,
 * madvise, mremap, mbind) and that writes dump files. Functions return 0 or
 * a positive errno. Tests can replace the whole table through os_ops to
 * observe or fake calls; fault.h swaps entries to inject failures.
 */
#ifndef OS_H
#define OS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"

struct os_ops {
    /* Map size bytes of fresh zeroed read-write anonymous memory. */
    int (*map)(size_t size, void **out);
    int (*unmap)(void *addr, size_t size);
    /* MADV_DONTNEED: pages read back as zero, RSS released at once. */
    int (*purge_forced)(void *addr, size_t size);
    /* MADV_FREE: the kernel may reclaim lazily; contents undefined. */
    int (*purge_lazy)(void *addr, size_t size);
    /* MADV_HUGEPAGE / MADV_NOHUGEPAGE. */
    int (*hugepage)(void *addr, size_t size, bool enable);
    /* Bind [addr, addr+size) to a NUMA node (mbind MPOL_PREFERRED). */
    int (*bind_node)(void *addr, size_t size, int node);
    /* write(2) of dump files (libprof's writers, via prof_host_write):
     * here so fault injection (fault.h) can make a disk fill up. */
    ssize_t (*write)(int fd, const void *buf, size_t n);
    /* mremap [from, from+len) onto [to, to+len) (MREMAP_FIXED): the pages
     * move, contents and all, without copying or faulting; from is left
     * unmapped. */
    int (*move)(void *from, void *to, size_t len);
    /* mprotect PROT_NONE: guard pages (base's metadata mappings, base.c). */
    int (*guard)(void *addr, size_t size);
};

extern struct os_ops os_ops;

/* Map size bytes aligned to align (a power of two >= page). */
int os_map_aligned(size_t size, size_t align, void **out) WARN_UNUSED;
/* Unmap what os_map_aligned mapped (all or part of it). */
int os_unmap(void *addr, size_t size);
static inline int os_purge_forced(void *a, size_t s) { return os_ops.purge_forced(a, s); }
static inline int os_purge_lazy(void *a, size_t s) { return os_ops.purge_lazy(a, s); }
/* One range of os_purge_forced_many. */
struct os_range {
    uintptr_t addr; /* page-aligned start */
    size_t size;    /* bytes, whole pages */
};
#define OS_PURGE_MANY_MAX 64
/* os_purge_forced of each of the n ranges r[0..n) (n <= OS_PURGE_MANY_MAX);
 * err[i] receives range i's 0 or errno. One system call for them all where
 * the kernel takes it (process_madvise on PIDFD_SELF_THREAD, Linux 6.14+;
 * 7710 ranges of 64 KiB: 35 ms of the caller's CPU against 50 ms with one
 * madvise each, and newer kernels flush the TLB once per call), else one madvise
 * per range (also whenever os_ops.purge_forced is not the real madvise:
 * tests and fault injection see every range). Thread-safe. */
void os_purge_forced_many(const struct os_range *r, unsigned n, int *err);
/* Calls of os_purge_forced_many that one process_madvise did whole (tests). */
extern _Atomic uint64_t os_purge_vectored;
/* Bytes of [addr, addr+size) resident in RAM now (mincore; whole pages),
 * using vec (veclen bytes, one per page of a step) as scratch. 0 or an
 * errno; ENOMEM: part of the range is not mapped, *out counts the rest. */
int os_resident(void *addr, size_t size, unsigned char *vec, size_t veclen,
                size_t *out) WARN_UNUSED;
/* Anonymous memory of the whole process resident in RAM now (RSS minus its
 * file-backed and shared-memory part, /proc/self/statm): an upper bound of
 * the heap's real residency. mincore also reports pages that are mapped to
 * the kernel's shared zero page (untouched memory that was only read), which
 * take no RAM and which RSS does not count; this bound caps them. 0 or an
 * errno (no /proc: ENOENT). Async-signal-safe: no allocation, no stdio. */
int os_anon_resident(size_t *out) WARN_UNUSED;
/* Bytes the address-space limit (RLIMIT_AS) still lets the process map
 * (the limit less VmSize, 0 if it is over it), or SIZE_MAX when there is
 * no limit or it cannot be read. For the allocator's failure paths only:
 * two system calls (getrlimit, /proc/self/statm). */
size_t os_as_room(void);
/* Grow or move a mapping; *out receives the new address. 0 or errno. */
int os_remap(void *old, size_t oldsize, size_t newsize, void *fixed_at, void **out);
/* Move the pages of [from, from+len) onto [to, to+len) (both mapped by the
 * allocator, page-aligned, disjoint) and map fresh zero pages at from
 * again, never over a mapping someone else made meanwhile
 * (MAP_FIXED_NOREPLACE); the registry (osmap) is unchanged. 0 on success;
 * else an errno, with *from_lost true if from stays unmapped (the refill
 * failed; it is out of the registry and must never be used again) and
 * false if nothing moved. */
int os_move_pages(void *from, void *to, size_t len, bool *from_lost) WARN_UNUSED;
/* Transparent huge pages policy for what the allocator maps (opt thp). */
enum os_thp_mode { OS_THP_DEFAULT = 0, OS_THP_ALWAYS = 1, OS_THP_NEVER = 2 };
extern int os_thp_mode;
/* Apply the thp policy to a fresh mapping. */
void os_thp_apply(void *addr, size_t size);
/* Whether a touched 2 MiB-aligned unit of the allocator's mappings may be
 * backed by one huge page: thp:always, or thp:default with the kernel's
 * transparent_hugepage/enabled at [always] (read once, then cached; a
 * missing file reads as no). Then a part of the unit must not be purged
 * alone: the kernel would split the huge page. Thread-safe, no allocation. */
bool os_thp_backs_units(void);
/* The option thp_huge, set at boot. */
extern bool os_thp_huge;
/* When huge blocks mark their units for huge pages themselves (huge.c,
 * thp_mark: os_thp_huge, thp:default, and the kernel's mode at [madvise],
 * where only marked ranges get huge pages; [always] backs them anyway,
 * [never] or no file never does; else nothing): mark [addr, addr + size)
 * MADV_HUGEPAGE (huge) or MADV_NOHUGEPAGE, which in the kernel's madvise
 * mode is its default. An unmark is skipped while no range was ever
 * marked. A failure (a split refused at vm.max_map_count) leaves the range
 * as it was; errno is kept. True if the range was marked (false: nothing
 * to do, or the system call failed).
 * Thread-safe, no allocation; no lock needed (system call). */
bool os_thp_mark(void *addr, size_t size, bool huge);
/* The option thp_huge_probe, set at boot. */
extern bool os_thp_huge_probe;
/* What a huge block about to be marked (thp_mark with huge true) gets. */
enum os_thp_plan {
    OS_THP_PLAN_SMALL = 0, /* backing off: mark its units NOHUGEPAGE */
    OS_THP_PLAN_HUGE = 1,  /* mark them */
    OS_THP_PLAN_PROBE = 2, /* mark its first unit, time that unit's fault (os_thp_probe), then
                            * mark the others HUGEPAGE if it was fast, NOHUGEPAGE if slow */
};
/* The plan for the next huge block to mark. With thp_huge_probe off, or when
 * blocks mark nothing (os_thp_mark), always OS_THP_PLAN_HUGE. Else every
 * block is probed (can_probe false, for a block grown in place whose first
 * new unit may hold its data: marked without a probe), except after a probe
 * measured a slow fault: then the next OS_THP_BACKOFF_MIN blocks (doubling
 * on each slow probe in a row, up to OS_THP_BACKOFF_MAX) get small pages.
 * Why a measure and not a fixed choice: on the Firecracker VMs this
 * project is tested on (virtio balloon with free page reporting: free
 * 2 MiB blocks go back to the host seconds after they are freed), both
 * kinds of fault depend on the host. In earlier runs a huge page fault took
 * 0.2-0.4 ms while the guest still had backed 2 MiB blocks and 6-7 ms once
 * it had only blocks the host reclaimed, against 0.9 ms for 512 small
 * faults; in 2026-12, on the same kind of VM, 0.12-0.3 ms or 5.4 ms
 * against 5.3-8 ms for the 512 small faults (bench/huge_churn: 1.5 s CPU
 * with small pages, 0.8 s with huge ones). So a huge fault slower than
 * OS_THP_SLOW_NS is compared with the small faults it replaces, sampled
 * then (os_thp_probe), and counts as slow only if it took longer. A guest
 * that reports free pages (VIRTIO_BALLOON_F_REPORTING, read from sysfs at
 * the first call) keeps its back-off length after a fast probe: there the
 * pool of backed huge pages is whatever other processes freed in the last
 * seconds, and a fast probe says little of the next fault (bench/large_blocks
 * after a run of jemalloc: probes fast then slow). Thread-safe (relaxed
 * atomics: a race moves a back-off by a block), no allocation; the first
 * call reads sysfs. */
enum os_thp_plan os_thp_plan(bool can_probe);
/* Tests: forget the plan's state, as on a machine that does (reporting)
 * or does not report free pages to a host. Not thread-safe. */
void os_thp_plan_reset(bool reporting);
/* True if this machine is a guest whose virtio balloon reports free pages
 * to the host (above). Read once; thread-safe, no allocation, errno kept. */
bool os_free_page_reporting(void);
#define OS_THP_BACKOFF_MIN 32
#define OS_THP_BACKOFF_MAX 4096
/* A fault of one 2 MiB huge page up to this long (ns: zeroing at 2 GB/s
 * or faster) is fast whatever small faults take; a slower one is compared
 * with them. */
#define OS_THP_SLOW_NS 1000000u
/* Small faults timed to estimate what a unit's 512 take. */
#define OS_THP_SMALL_SAMPLE 32
/* Time the first touch of unit (2 MiB aligned, just marked MADV_HUGEPAGE,
 * the start of a malloc'd block not yet handed out, whose contents are
 * undefined): if no page of the unit is resident (mincore), write one zero
 * byte there. If that took over OS_THP_SLOW_NS and ref is not NULL (another
 * unit of the same block, not handed out either, nothing resident), mark
 * ref NOHUGEPAGE and time the small faults of OS_THP_SMALL_SAMPLE of its
 * pages. Feed both to os_thp_probe_result. True if slow; false if fast or
 * not measured. Errno kept. The cost: the unit is resident from then on
 * (2 MiB of RSS for a block that would never have touched it), and a slow
 * fault is paid inside malloc (with the sample: 32 small pages of ref
 * resident, and ref gets small pages); a preempted probe (or a signal
 * handler between the clock reads) reads as slow, which only backs off. */
bool os_thp_probe(void *unit, void *ref);
/* Apply one probe's measured fault time (ns) to the plan, with what 512
 * small faults took when sampled (small_ns; 0: not sampled, the last
 * sample counts); true if slow: over OS_THP_SLOW_NS and over the small
 * faults' time when one is known (tests call it directly). */
bool os_thp_probe_result(uint64_t ns, uint64_t small_ns);
/* Probes taken and probes found slow since boot (stats). */
void os_thp_probe_stats(uint64_t *probes, uint64_t *slow);
/* Number of online CPUs (at least 1). */
unsigned os_ncpus(void);
/* Number of configured CPUs (at least 1): CPU ids sched_getcpu may return are below it. */
unsigned os_ncpus_conf(void);
/* True when a shared C library is loaded, so dlopen may be used. A
 * statically linked program has none: dlopen would map one (and its
 * loader) beside the static one. Any thread; walks the loaded objects. */
bool os_dlopen_usable(void);

#endif
