/* filebuf: a whole input file (or bytes already in memory) in one buffer,
 * gunzipped transparently when it starts with the gzip magic 1f 8b. */
#ifndef JEPROF_FILEBUF_H
#define JEPROF_FILEBUF_H

#include <stddef.h>
#include "compiler.h"

/* A whole input file in memory, gunzipped when it starts with 1f 8b. */
struct filebuf {
    char *data;  /* NUL-terminated copy of the (decompressed) bytes */
    size_t len;  /* length without the terminating NUL */
    int gzipped; /* the file on disk was gzip-compressed */
};
/* Limit on decompressed size: inputs larger than this are refused. */
#define FILEBUF_MAX ((size_t)4 << 30)
/* 0, or an errno: ENOENT/EACCES/... from open, EBADMSG for a corrupt or
 * truncated gzip stream, EFBIG past FILEBUF_MAX. */
int filebuf_read(struct filebuf *fb, const char *path) WUR;
/* Same on bytes already in memory (used by the fuzzers). */
int filebuf_from_mem(struct filebuf *fb, const void *data, size_t len) WUR;
void filebuf_free(struct filebuf *fb);

#endif
