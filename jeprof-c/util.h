/* util: memory helpers that exit on exhaustion, git-style messages, whole-file
 * reading with transparent gunzip, and a string interning table. The CLI is
 * single-threaded; nothing here locks. */
#ifndef JEPROF_UTIL_H
#define JEPROF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WUR __attribute__((warn_unused_result))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *p (element size sz) so that index need-1 fits; *cap is the capacity. */
void grow_array(void **p, size_t *cap, size_t need, size_t sz);
#define GROW(p, cap, need) grow_array((void **)&(p), &(cap), (need), sizeof(*(p)))

/* "error: ..." on stderr (git style); returns 1 for `return error(...)`. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "warning: ..." on stderr. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

/* String interning: equal strings get equal ids; id 0 is always "". */
struct strtab {
    char **str;      /* id -> string (owned) */
    size_t n, cap;   /* ids in use, capacity of str */
    uint32_t *slots; /* open-addressing hash: id+1, 0 = empty */
    size_t nslots;   /* power of two */
};
void strtab_init(struct strtab *t);
void strtab_free(struct strtab *t);
uint32_t strtab_intern(struct strtab *t, const char *s);
uint32_t strtab_intern_n(struct strtab *t, const char *s, size_t len);
/* Returns the id, or UINT32_MAX when s was never interned. */
uint32_t strtab_find(const struct strtab *t, const char *s);
static inline const char *strtab_get(const struct strtab *t, uint32_t id)
{
    return t->str[id];
}

uint64_t hash_bytes(const void *p, size_t n);
static inline uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* A value truncated toward zero (Perl's "%d"), NaN as 0, clamped to int64. */
static inline int64_t dbl_to_i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 9.2e18)
        return INT64_C(9200000000000000000);
    if (v <= -9.2e18)
        return -INT64_C(9200000000000000000);
    return (int64_t)v;
}

/* Seconds on a monotonic clock. */
double now_seconds(void);

#endif
