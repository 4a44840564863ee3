/* read: the profile readers. read_profile_file() sniffs the format of one
 * input (heap_v2 text, pprof protobuf gzip'd or raw, recent-ring JSON) and
 * appends it to the model, so several inputs sum as jeprof sums them.
 * Each reader returns 0 or an errno and leaves a message (without the file
 * name) in err; the caller prints "error: 'file': <msg>". */
#ifndef JEPROF_READ_H
#define JEPROF_READ_H

#include <stddef.h>

#include "profile.h"
#include "compiler.h"

#define READ_ERRLEN 256

int read_profile_file(struct profile *p, const char *path, char *err) WUR;
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

#endif
