/* writer: buffered callback output and atomic dump files (see writer.h). */
#include "writer.h"
#include "prof_hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void writer_init(struct writer *w, write_cb_t cb, void *opaque)
{
    w->cb = cb;
    w->opaque = opaque;
    w->len = 0;
}

void writer_flush(struct writer *w)
{
    if (w->len == 0)
        return;
    w->buf[w->len] = 0;
    w->cb(w->opaque, w->buf);
    w->len = 0;
}

void writer_mem(struct writer *w, const char *s, size_t n)
{
    while (n > 0) {
        size_t room = sizeof(w->buf) - 1 - w->len;
        if (room == 0) {
            writer_flush(w);
            continue;
        }
        size_t k = n < room ? n : room;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

void writer_str(struct writer *w, const char *s)
{
    writer_mem(w, s, strlen(s));
}

void writer_u64(struct writer *w, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[23 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    writer_mem(w, tmp + 24 - n, (size_t)n);
}

void writer_i64(struct writer *w, int64_t v)
{
    if (v < 0) {
        writer_mem(w, "-", 1);
        writer_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        writer_u64(w, (uint64_t)v);
    }
}

void writer_hex(struct writer *w, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[20];
    int n = 0;
    do {
        tmp[19 - n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    writer_mem(w, "0x", 2);
    writer_mem(w, tmp + 20 - n, (size_t)n);
}

/* A dump that could not be written is a run-time warning (abort:true aborts). */
static void dump_file_warn(const char *what, const char *path)
{
    char msg[4400];
    snprintf(msg, sizeof(msg), "<jemalloc>: failed to %s \"%s\"\n", what, path);
    prof_host_warn(msg);
}

int dump_file_open(struct dump_file *f, const char *path)
{
    size_t n = strlen(path);
    if (n + 32 >= sizeof(f->path)) {
        dump_file_warn("open", path);
        return ENAMETOOLONG;
    }
    memcpy(f->path, path, n + 1);
    snprintf(f->tmp, sizeof(f->tmp), "%s.tmp.%d", path, (int)getpid());
    f->err = 0;
    struct stat st;
    /* Only a node of ours or root's: one that another user planted at the
     * dump's name (a FIFO to read the profile from, a link to a file of
     * ours) is replaced by the rename, as any file there would be. */
    f->direct =
        lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == 0);
    if (f->direct) {
        /* In place (writer.h). O_NONBLOCK so that a FIFO with no reader
         * fails (ENXIO) instead of blocking the dump; cleared once open. */
        f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
        if (f->fd >= 0) {
            int fl = fcntl(f->fd, F_GETFL);
            if (fl < 0 || fcntl(f->fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
                close(f->fd);
                f->fd = -1;
            }
        }
    } else {
        /* The temporary is created, never reused: whatever already holds
         * its name (a symbolic link planted to make the dump overwrite
         * another file, or a leftover of a process with the same pid) is
         * removed first, and O_EXCL | O_NOFOLLOW refuse anything that
         * takes the name in between. */
        int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        f->fd = open(f->tmp, flags, 0644);
        if (f->fd < 0 && errno == EEXIST && unlink(f->tmp) == 0)
            f->fd = open(f->tmp, flags, 0644);
    }
    if (f->fd < 0) {
        int err = errno ? errno : EIO;
        dump_file_warn("open", path);
        return err;
    }
    return 0;
}

void dump_file_write(void *opaque, const char *s)
{
    struct dump_file *f = opaque;
    size_t n = strlen(s);
    /* After the first failure nothing more is written: the file is
     * abandoned by dump_file_commit anyway. */
    while (f->fd >= 0 && !f->err && n > 0) {
        ssize_t k = prof_host_write(f->fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            f->err = k < 0 ? errno : EIO;
            return;
        }
        s += k;
        n -= (size_t)k;
    }
}

int dump_file_commit(struct dump_file *f)
{
    int err = f->err;
    /* A pipe or a device may not sync (EINVAL, EROFS): nothing to flush. */
    if (!err && fsync(f->fd) != 0 && !(f->direct && (errno == EINVAL || errno == EROFS)))
        err = errno;
    if (close(f->fd) != 0 && !err)
        err = errno;
    f->fd = -1;
    if (!err && !f->direct && rename(f->tmp, f->path) != 0)
        err = errno;
    if (err) {
        if (!f->direct)
            unlink(f->tmp);
        dump_file_warn("write", f->path);
    }
    return err;
}
