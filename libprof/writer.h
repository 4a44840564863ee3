/*
 * writer: buffered text output for dumps, through a write callback (no
 * stdio, no malloc: the buffer lives in the writer struct). Also the
 * whole-or-nothing file sink: write to "<path>.tmp.<pid>", fsync, rename.
 * A path that already names something other than a regular file -- a
 * device (/dev/stdout, /dev/null), a FIFO, or a symbolic link -- is written
 * in place instead, as jemalloc writes every dump: renaming a temporary
 * over it would replace the device node or the link itself with a regular
 * file. Such a dump is not atomic (a failed write leaves what was written);
 * a FIFO with no reader fails at once (ENXIO) rather than blocking. Only
 * nodes owned by the process's user or by root are written in place: one
 * another user put at the dump's name is replaced, as a file would be.
 */
#ifndef WRITER_H
#define WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef void (*write_cb_t)(void *opaque, const char *s);

struct writer {
    write_cb_t cb;           /* receives NUL-terminated chunks */
    void *opaque;
    size_t len;              /* bytes buffered */
    char buf[65536];         /* pending output (+1 for NUL) */
    char nul;
};

void writer_init(struct writer *w, write_cb_t cb, void *opaque);
void writer_str(struct writer *w, const char *s);
void writer_mem(struct writer *w, const char *s, size_t n);
void writer_u64(struct writer *w, uint64_t v);
void writer_i64(struct writer *w, int64_t v);
void writer_hex(struct writer *w, uint64_t v); /* 0x-prefixed lowercase */
void writer_flush(struct writer *w);

/* A file opened for an atomic dump. */
struct dump_file {
    int fd;                  /* -1 after an error */
    int err;                 /* first errno seen */
    int direct;              /* written in place (not a regular file): no temporary, no rename */
    char tmp[4200];          /* temporary name */
    char path[4200];         /* final name */
};

int dump_file_open(struct dump_file *f, const char *path);
/* Callback for writer_init that appends to a dump_file. */
void dump_file_write(void *opaque, const char *s);
/* fsync, close and rename into place (0), or unlink the temporary (errno). */
int dump_file_commit(struct dump_file *f);

#endif
