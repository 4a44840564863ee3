/* read: the profile readers. read_profile_file() sniffs the format of one
 * input (heap_v2 text, pprof protobuf gzip'd or raw, recent-ring JSON) and
 * appends it to the model, so several inputs sum as jeprof sums them.
 * Each reader returns 0 or an errno and leaves a message (without the file
 * name) in err; the caller prints "error: 'file': <msg>". */
#ifndef JEPROF_READ_H
#define JEPROF_READ_H

#include <math.h>
#include <stddef.h>

#include "profile.h"
#include "compiler.h"

#define READ_ERRLEN 256

int read_profile_file(struct profile *p, const char *path, char *err) WUR;
/* After a read: EINVAL with the message in err if value asks for
 * cumulative counts (--alloc_space, --alloc_objects) the input just read
 * lacks (p->no_accum), else 0. An empty report there would read like
 * "nothing was allocated". */
int read_accum_check(const struct profile *p, enum pvalue value, char *err) WUR;
int read_profile_mem(struct profile *p, const char *data, size_t len, char *err) WUR;

int read_heapv2(struct profile *p, const char *data, size_t len, char *err) WUR;
int read_pprof(struct profile *p, const char *data, size_t len, char *err) WUR;
int read_recent(struct profile *p, const char *data, size_t len, char *err) WUR;
/* read_raw.c: jeprof's symbolized profile ("--- symbol" ...), and the legacy
 * "heap profile:" text it may carry. */
int read_raw(struct profile *p, const char *data, size_t len, char *err) WUR;
int read_legacy_heap(struct profile *p, const char *data, size_t len, char *err) WUR;

/* Adds the executable mappings of a /proc/pid/maps text, or of a heap_v2
 * dump's MAPPED_LIBRARIES section, to locations that have none (for
 * recent-ring dumps, which carry no maps). */
int read_maps(struct profile *p, const char *data, size_t len, char *err) WUR;

/* Kind of a buffer by its first bytes: "heap_v2", "pprof", "recent",
 * "raw" (jeprof's symbolized profile), "heap" (legacy text), or NULL. */
const char *read_sniff(const char *data, size_t len);

/* jeprof's AdjustSamples scale for a (count, bytes) pair sampled at rate R:
 * 1 / (1 - e^-ratio), ratio = bytes / count / R. Under 2^-20, where
 * 1 - e^-ratio loses its digits (to 0 once ratio < 2^-53: a division by
 * zero and an infinite total, from a dump with R near 2^64), the same value
 * from expm1; above, jeprof's own expression, so the totals agree with it
 * to the last digit. */
static inline double unsample_scale(double ratio)
{
    return ratio < 0x1p-20 ? -1 / expm1(-ratio) : 1 / (1 - exp(-ratio));
}

#endif
