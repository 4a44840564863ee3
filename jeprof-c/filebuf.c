/* filebuf: see filebuf.h. */
#include "filebuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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
    /* + 2: room for the NUL and for the read that returns 0 (no regrowth) */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 65536, len = 0;
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

/* The state of filebuf_guard: the mapping watched and where to go back. */
static const char *guard_lo, *guard_hi; /* [lo, hi) of the mapping, NULL = none */
static sigjmp_buf guard_env;

/* SIGBUS in the watched mapping: back to filebuf_guard. Any other SIGBUS
 * is a real fault: the default action (the handler resets itself). */
static void guard_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    const char *a = si->si_addr;
    if (guard_lo && a >= guard_lo && a < guard_hi)
        siglongjmp(guard_env, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

int filebuf_guard(const struct filebuf *fb, int (*fn)(void *arg), void *arg)
{
    if (!fb->maplen)
        return fn(arg);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = guard_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    guard_lo = fb->data;
    guard_hi = fb->data + fb->maplen;
    sigaction(SIGBUS, &sa, &old);
    int rc = sigsetjmp(guard_env, 1) ? EIO /* the file shrank while we read it */ : fn(arg);
    guard_lo = guard_hi = NULL;
    sigaction(SIGBUS, &old, NULL);
    return rc;
}

/* A gzip'd file inflated from its mapping (under filebuf_guard). */
struct gz_job {
    const struct filebuf *src; /* the mapping */
    struct filebuf out;        /* the inflated bytes */
};
static int gz_run(void *arg)
{
    struct gz_job *j = arg;
    memset(&j->out, 0, sizeof(j->out));
    return gunzip(&j->out, (const unsigned char *)j->src->data, j->src->len);
}

/* Maps len bytes of fd read-only with a zero byte after them: a zero
 * reservation one byte longer, the file mapped over its start (the tail
 * of the file's last page reads as zeros, the page after it is the
 * reservation's). NULL on failure (errno set). */
static char *map_file(int fd, size_t len, size_t *maplen)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t total = (len + 1 + pg - 1) / pg * pg;
    char *base = mmap(NULL, total, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    /* MAP_POPULATE: the whole file is parsed, so fault it in at once. */
    if (len > 0 && mmap(base, len, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0) ==
                       MAP_FAILED) {
        int e = errno;
        munmap(base, total);
        errno = e;
        return NULL;
    }
    *maplen = total;
    return base;
}

int filebuf_map(struct filebuf *fb, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat st;
    /* Not a regular file, too large, or a size of 0 (procfs files say 0
     * and have content; an empty file reads as empty either way): read. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
        (uint64_t)st.st_size > FILEBUF_MAX) {
        close(fd);
        return filebuf_read(fb, path); /* its checks and messages */
    }
    size_t len = (size_t)st.st_size, maplen = 0;
    char *data = map_file(fd, len, &maplen);
    close(fd);
    if (!data)
        return filebuf_read(fb, path); /* e.g. a file system without mmap */
    memset(fb, 0, sizeof(*fb));
    fb->data = data;
    fb->len = len;
    fb->maplen = maplen;
    if (len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b) {
        struct gz_job j = {.src = fb};
        int rc = filebuf_guard(fb, gz_run, &j);
        munmap(data, maplen);
        *fb = j.out;
        return rc;
    }
    return 0;
}

void filebuf_free(struct filebuf *fb)
{
    if (fb->maplen)
        munmap(fb->data, fb->maplen);
    else
        free(fb->data);
    memset(fb, 0, sizeof(*fb));
}
