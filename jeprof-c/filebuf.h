/* filebuf: a whole input file (or bytes already in memory) in one buffer,
 * gunzipped transparently when it starts with the gzip magic 1f 8b. */
#ifndef JEPROF_FILEBUF_H
#define JEPROF_FILEBUF_H

#include <stddef.h>
#include "compiler.h"

/* A whole input file in memory, gunzipped when it starts with 1f 8b. */
struct filebuf {
    char *data;    /* NUL-terminated (decompressed) bytes; read-only when mapped */
    size_t len;    /* length without the terminating NUL */
    int gzipped;   /* the file on disk was gzip-compressed */
    size_t maplen; /* data is a private read-only mapping of this many bytes
                      (filebuf_map), 0 = malloc'd */
};
/* Limit on an input's (decompressed) size: larger ones are refused. 1 GiB:
 * a profile of 100k stacks is ~30 MB; a gzip bomb or /dev/zero given as a
 * profile stops here instead of taking 4 GiB of memory. */
#define FILEBUF_MAX ((size_t)1 << 30)
/* 0, or an errno: ENOENT/EACCES/... from open, EBADMSG for a corrupt or
 * truncated gzip stream, EFBIG past FILEBUF_MAX. */
int filebuf_read(struct filebuf *fb, const char *path) WUR;
/* The same without copying a plain file: maps it read-only (a 30 MB dump
 * costs a few ms of page-table work instead of a copy into fresh memory);
 * gzip'd files are inflated from the mapping, and what is not a regular
 * file (a pipe) is read as filebuf_read does. data[len] is 0 in every case.
 * Touch a mapped buffer only inside filebuf_guard: the file can shrink
 * under the mapping. Same errors as filebuf_read. */
int filebuf_map(struct filebuf *fb, const char *path) WUR;
/* Runs fn(arg) and returns its result; when fn touches a page of fb's
 * mapping that the file no longer backs (it was truncated while being
 * read, so the kernel sends SIGBUS), fn is abandoned and EIO returned.
 * Whatever fn was building is then incomplete: the caller reports the
 * error and drops it. Not reentrant; the CLI is single-threaded. For a
 * malloc'd buffer it just calls fn. */
int filebuf_guard(const struct filebuf *fb, int (*fn)(void *arg), void *arg) WUR;
/* Same on bytes already in memory (used by the fuzzers). */
int filebuf_from_mem(struct filebuf *fb, const void *data, size_t len) WUR;
void filebuf_free(struct filebuf *fb);

#endif
