/*
 * fault: injected failures of the os seam, for tests (issue 17 point 3).
 * Armed through the hidden mallctl "debug.fault" (present in every build;
 * not part of jemalloc's API). While disarmed the os_ops table holds the
 * plain kernel calls, so the cost is nil: arming swaps in wrappers that
 * decide per call whether to fail, disarming puts the originals back.
 *
 * Sites (mask bits):
 *   FAULT_MAP    os_ops.map (every mmap the allocator makes: chunks, huge
 *                regions, base metadata, the osmap registry)
 *   FAULT_PURGE  os_ops.purge_forced / purge_lazy / hugepage (madvise)
 *   FAULT_BIND   os_ops.bind_node (mbind)
 *   FAULT_WRITE  os_ops.write (every write of a dump file: heap_v2, pprof,
 *                recent JSON). A failing write first writes half its bytes
 *                for real, then fails, as a filling disk does, so the
 *                partial-file handling is exercised.
 * A call at an armed site fails when, after the first `after` calls, at
 * most `count` failures have happened (0: no limit) and a draw with
 * probability 1/one_in (0 or 1: always) says so; the draw is a hash of
 * (seed, call number), so a run is reproducible given the call order.
 */
#ifndef FAULT_H
#define FAULT_H

#include <stdint.h>

enum { FAULT_MAP = 1, FAULT_PURGE = 2, FAULT_BIND = 4, FAULT_WRITE = 8 };

/* newp of "debug.fault" (newlen = sizeof(struct alloc_fault)). */
struct alloc_fault {
    unsigned sites;  /* FAULT_* mask; 0 disarms */
    int err;         /* errno the failing call returns; 0: ENOMEM (ENOSPC for writes) */
    uint64_t after;  /* calls at the armed sites that pass before any fails */
    uint64_t count;  /* most failures (0: unlimited) */
    uint32_t one_in; /* probability 1/one_in per call (0, 1: every call) */
    uint64_t seed;   /* of the draw */
};

struct ctl_args;
/* "debug.fault" (rw): newp arms (or with sites 0 disarms) and resets the
 * counters; oldp (uint64_t) reads the failures injected since the last
 * arming. EINVAL: a wrong size, unknown site bits or a negative err.
 * Arming and disarming are meant for a quiescent moment, but are safe
 * while other threads allocate (each os_ops entry is swapped atomically). */
int fault_ctl(const struct ctl_args *a);

#endif
