/* decay: linear per-epoch allowance of unpurged pages (see decay.h). */
#include "decay.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

uint64_t decay_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void decay_init(struct decay *d, ssize_t ms, uint64_t now)
{
    memset(d->backlog, 0, sizeof(d->backlog));
    d->ms = ms;
    d->cur = 0;
    d->epoch_ns = ms > 0 ? (uint64_t)ms * 1000000u / DECAY_NEPOCHS : 0;
    if (ms > 0 && d->epoch_ns == 0)
        d->epoch_ns = 1;
    d->epoch_end = now + d->epoch_ns;
}

static void decay_advance(struct decay *d, uint64_t now)
{
    if (d->ms <= 0 || now < d->epoch_end)
        return;
    uint64_t steps = (now - d->epoch_end) / d->epoch_ns + 1;
    if (steps >= DECAY_NEPOCHS) {
        memset(d->backlog, 0, sizeof(d->backlog));
    } else {
        for (uint64_t i = 0; i < steps; i++) {
            d->cur = (d->cur + 1) % DECAY_NEPOCHS;
            d->backlog[d->cur] = 0;
        }
    }
    d->epoch_end += steps * d->epoch_ns;
}

void decay_note(struct decay *d, size_t npages, uint64_t now)
{
    decay_advance(d, now);
    d->backlog[d->cur] += npages;
}

void decay_forget(struct decay *d, size_t npages)
{
    for (unsigned k = 0; k < DECAY_NEPOCHS && npages > 0; k++) {
        size_t *b = &d->backlog[(d->cur + DECAY_NEPOCHS - k) % DECAY_NEPOCHS];
        size_t take = *b < npages ? *b : npages;
        *b -= take;
        npages -= take;
    }
}

void decay_cap(struct decay *d, size_t npages)
{
    size_t sum = 0;
    for (unsigned k = 0; k < DECAY_NEPOCHS; k++)
        sum += d->backlog[k];
    if (sum > npages)
        decay_forget(d, sum - npages);
}

size_t decay_limit(struct decay *d, uint64_t now)
{
    if (d->ms < 0)
        return SIZE_MAX;
    if (d->ms == 0)
        return 0;
    decay_advance(d, now);
    /* Fraction of the current epoch already elapsed, so the allowance slides smoothly. */
    double into = 1.0 - (double)(d->epoch_end - now) / (double)d->epoch_ns;
    double limit = 0;
    for (unsigned k = 0; k < DECAY_NEPOCHS; k++) {
        size_t n = d->backlog[(d->cur + DECAY_NEPOCHS - k) % DECAY_NEPOCHS];
        if (n == 0)
            continue;
        double w = 1.0 - ((double)k + into) / DECAY_NEPOCHS;
        if (w > 0)
            limit += (double)n * w;
    }
    return (size_t)limit;
}
