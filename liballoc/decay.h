/*
 * decay: how many freed pages an arena may keep unpurged right now. Pages
 * freed in each epoch (1/DECAY_NEPOCHS of the decay time) form a backlog
 * whose allowance falls linearly from 100% to 0% over decay_ms, so a burst
 * is purged gradually across the window rather than all at once at its end.
 * Not thread-safe: the owning arena's lock protects it.
 */
#ifndef DECAY_H
#define DECAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DECAY_NEPOCHS 64

struct decay {
    ssize_t ms;                     /* decay time; -1 never purge, 0 purge at once */
    uint64_t epoch_ns;              /* length of one epoch */
    uint64_t epoch_end;             /* monotonic ns at which the current epoch ends */
    unsigned cur;                   /* ring index of the current epoch */
    size_t backlog[DECAY_NEPOCHS];  /* pages that became unpurged in each epoch */
};

void decay_init(struct decay *d, ssize_t ms, uint64_t now);
/* Record npages newly unpurged pages. */
void decay_note(struct decay *d, size_t npages, uint64_t now);
/* npages were purged ahead of the schedule: drop them from the backlog,
 * newest first (they were freed last), so they do not raise the allowance
 * of the pages still unpurged. */
void decay_forget(struct decay *d, size_t npages);
/* Only npages are unpurged now: the pages counted beyond them were taken
 * again (reused) since they were noted. Drop the excess from the backlog,
 * newest first, so reused pages no longer raise the allowance of those
 * still unpurged (jemalloc's backlog likewise records only the growth of
 * its unpurged pages). */
void decay_cap(struct decay *d, size_t npages);
/* Pages that may stay unpurged at time now (SIZE_MAX when ms is -1). */
size_t decay_limit(struct decay *d, uint64_t now);
/* Monotonic clock in ns (coarse; cheap). */
uint64_t decay_now(void);

#endif
