/*
 * Shared helpers of the fault tests (tests/faults): arming debug.fault
 * (liballoc/fault.h), a list of held blocks with content patterns, and
 * their checks. Header-only; each test is one program linked with -lalloc.
 */
#ifndef FAULT_COMMON_H
#define FAULT_COMMON_H

#include "../integration/check.h"
#include "fault.h"

#include <stdbool.h>

static __attribute__((unused)) uint64_t fault_arm(unsigned sites, uint64_t after, uint64_t count, uint32_t one_in,
                          uint64_t seed)
{
    struct alloc_fault f = {sites, 0, after, count, one_in, seed};
    uint64_t prev = 0;
    size_t sz = sizeof(prev);
    CHECK_I(mallctl("debug.fault", &prev, &sz, &f, sizeof(f)), ==, 0);
    return prev;
}

/* Disarm; returns the failures injected while armed. */
static __attribute__((unused)) uint64_t fault_disarm(void)
{
    return fault_arm(0, 0, 0, 0, 0);
}

struct held {
    unsigned char *p;
    size_t n;
    unsigned tag;
};

/* Enough for fault_api's cap (3 GiB of 3000-byte blocks): with every mmap
 * failing, small blocks are still served from chunks cut out of the free
 * huge runs (issue 17.3), which earlier rounds leave behind. */
#define HELD_MAX 1100000
static struct held held[HELD_MAX];
static size_t nheld;

static unsigned char held_byte(const struct held *h, size_t i)
{
    return (unsigned char)(h->tag * 31 + i * 7 + (i >> 12));
}

/* Pattern at the first and last 256 bytes and one byte per page. */
static void held_fill(struct held *h)
{
    for (size_t i = 0; i < h->n; i = (i < 256 || i + 256 >= h->n) ? i + 1 : i + 4096)
        h->p[i] = held_byte(h, i);
}

static void held_check_one(const struct held *h)
{
    for (size_t i = 0; i < h->n; i = (i < 256 || i + 256 >= h->n) ? i + 1 : i + 4096)
        CHECK_MSG(h->p[i] == held_byte(h, i), "held block %p (%zu bytes, tag %u) changed at byte %zu",
                  (void *)h->p, h->n, h->tag, i);
}

static __attribute__((unused)) void held_add(void *p, size_t n)
{
    CHECK(nheld < HELD_MAX);
    struct held *h = &held[nheld];
    h->p = p;
    h->n = n;
    h->tag = (unsigned)nheld;
    held_fill(h);
    nheld++;
}

static void held_check_all(void)
{
    for (size_t i = 0; i < nheld; i++)
        held_check_one(&held[i]);
}

static __attribute__((unused)) void held_free_all(void)
{
    held_check_all();
    for (size_t i = 0; i < nheld; i++)
        free(held[i].p);
    nheld = 0;
}

#endif
