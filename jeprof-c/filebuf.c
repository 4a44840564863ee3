/* filebuf: see filebuf.h. */
#include "filebuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
