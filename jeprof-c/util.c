/* util: see util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static void oom(void)
{
    fputs("error: out of memory\n", stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        oom();
    va_end(ap);
    return s;
}

void grow_array(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap && *p)
        return; /* never leaves *p NULL, so p + 0 is always valid */
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / sz)
            oom();
        c *= 2;
    }
    *p = xrealloc(*p, c * sz);
    *cap = c;
}

int error(const char *fmt, ...)
{
    va_list ap;
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

void warning(const char *fmt, ...)
{
    va_list ap;
    fputs("warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Inflates a gzip member (or several concatenated) from src into fb. */
static int gunzip(struct filebuf *fb, const unsigned char *src, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return ENOMEM;
    size_t cap = len * 4 + 4096, out = 0;
    char *buf = xmalloc(cap);
    z.next_in = (unsigned char *)src;
    z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
    int rc = 0;
    for (;;) {
        if (out + 1 >= cap) {
            if (cap >= FILEBUF_MAX) {
                rc = EFBIG;
                break;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        z.next_out = (unsigned char *)buf + out;
        z.avail_out = (uInt)(cap - out - 1 > UINT32_MAX ? UINT32_MAX : cap - out - 1);
        int zr = inflate(&z, Z_NO_FLUSH);
        out = (size_t)((char *)z.next_out - buf);
        if (zr == Z_STREAM_END) {
            /* Another concatenated member follows? */
            if (z.avail_in > 0 && z.next_in[0] == 0x1f) {
                inflateReset(&z);
                continue;
            }
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            rc = EBADMSG; /* truncated stream */
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = EBADMSG;
            break;
        }
    }
    inflateEnd(&z);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[out] = 0;
    fb->data = buf;
    fb->len = out;
    fb->gzipped = 1;
    return 0;
}

int filebuf_from_mem(struct filebuf *fb, const void *data, size_t len)
{
    const unsigned char *p = data;
    memset(fb, 0, sizeof(*fb));
    if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return gunzip(fb, p, len);
    fb->data = xmalloc(len + 1);
    memcpy(fb->data, data, len);
    fb->data[len] = 0;
    fb->len = len;
    return 0;
}

int filebuf_read(struct filebuf *fb, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return e;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return EISDIR;
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536, len = 0;
    if (cap > FILEBUF_MAX) {
        close(fd);
        return EFBIG;
    }
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= FILEBUF_MAX) {
                free(buf);
                close(fd);
                return EFBIG;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b) {
        int rc = filebuf_from_mem(fb, buf, len);
        free(buf);
        return rc;
    }
    /* Plain text or protobuf: keep the buffer we read into (no copy). */
    memset(fb, 0, sizeof(*fb));
    buf[len] = 0;
    fb->data = buf;
    fb->len = len;
    return 0;
}

void filebuf_free(struct filebuf *fb)
{
    free(fb->data);
    memset(fb, 0, sizeof(*fb));
}

uint64_t hash_bytes(const void *p, size_t n)
{
    /* FNV-1a, finished with a mixer: short keys, no adversary to resist. */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return hash_u64(h);
}

void strtab_init(struct strtab *t)
{
    memset(t, 0, sizeof(*t));
    t->nslots = 1024;
    t->slots = xcalloc(t->nslots, sizeof(uint32_t));
    strtab_intern(t, "");
}

void strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->str[i]);
    free(t->str);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static void strtab_rehash(struct strtab *t)
{
    size_t ns = t->nslots * 2;
    uint32_t *s = xcalloc(ns, sizeof(uint32_t));
    for (size_t id = 0; id < t->n; id++) {
        size_t i = hash_bytes(t->str[id], strlen(t->str[id])) & (ns - 1);
        while (s[i])
            i = (i + 1) & (ns - 1);
        s[i] = (uint32_t)id + 1;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = ns;
}

static size_t strtab_slot(const struct strtab *t, const char *s, size_t len)
{
    size_t i = hash_bytes(s, len) & (t->nslots - 1);
    while (t->slots[i]) {
        const char *o = t->str[t->slots[i] - 1];
        if (strncmp(o, s, len) == 0 && o[len] == 0)
            break;
        i = (i + 1) & (t->nslots - 1);
    }
    return i;
}

uint32_t strtab_intern_n(struct strtab *t, const char *s, size_t len)
{
    /* A NUL inside the bytes (a corrupt input) ends the string, as the
     * stored copy does; the lookup must compare the same bytes. */
    len = strnlen(s, len);
    size_t i = strtab_slot(t, s, len);
    if (t->slots[i])
        return t->slots[i] - 1;
    GROW(t->str, t->cap, t->n + 1);
    t->str[t->n] = xstrndup(s, len);
    t->slots[i] = (uint32_t)++t->n;
    if (t->n * 2 > t->nslots)
        strtab_rehash(t);
    return (uint32_t)t->n - 1;
}

uint32_t strtab_intern(struct strtab *t, const char *s)
{
    return strtab_intern_n(t, s, strlen(s));
}

uint32_t strtab_find(const struct strtab *t, const char *s)
{
    size_t i = strtab_slot(t, s, strlen(s));
    return t->slots[i] ? t->slots[i] - 1 : UINT32_MAX;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
