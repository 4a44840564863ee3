/*
 * prof_dump_pprof_fd: mallctl("prof.dump_pprof_fd", NULL, NULL, &fd,
 * sizeof(int)) writes the gzip'd pprof profile to fd (prof:true,
 * prof_dump_pprof_fd.conf):
 *  - to a memfd: 0, a gzip stream (1f 8b 08) that inflates (a complete
 *    deflate stream: its trailer's ISIZE is nonzero) and is larger than the
 *    empty profile, and grows with the sampled sites: 200 more sites (each
 *    a distinct stack) make it larger;
 *  - to a non-blocking pipe of 4 KiB already nearly full, drained by a slow
 *    reader: all of it arrives (gzip, about the memfd's size);
 *  - errors: EINVAL (newlen not sizeof(int), newp NULL), EPERM (oldp),
 *    EBADF (-1, a closed fd, a read-only fd), EIO (a pipe with no reader,
 *    SIGPIPE ignored);
 *  - without prof (child run with prof:false): ENOENT.
 */
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static int dump_fd(int fd)
{
    return mallctl("prof.dump_pprof_fd", NULL, NULL, &fd, sizeof(fd));
}

/* Bytes of fd's file (from offset 0) into buf; returns the length. */
static size_t slurp(int fd, unsigned char *buf, size_t cap)
{
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    size_t n = 0;
    ssize_t k;
    while (n < cap && (k = read(fd, buf + n, cap - n)) > 0)
        n += (size_t)k;
    return n;
}

static void check_gzip(const unsigned char *b, size_t n, const char *what)
{
    CHECK_MSG(n > 30, "%s: %zu bytes", what, n);
    CHECK_MSG(b[0] == 0x1f && b[1] == 0x8b && b[2] == 8, "%s: no gzip header", what);
    /* Trailer: CRC32 then ISIZE (uncompressed size mod 2^32), little endian. */
    uint32_t isize = (uint32_t)b[n - 4] | (uint32_t)b[n - 3] << 8 | (uint32_t)b[n - 2] << 16 |
                     (uint32_t)b[n - 1] << 24;
    CHECK_MSG(isize > 100, "%s: uncompressed size %u", what, isize);
}

static unsigned char buf1[8 << 20], buf2[8 << 20], pbuf[8 << 20];

/* Distinct stacks: recursion depth d gives a distinct call chain. */
__attribute__((noinline)) static void *grow(int d, size_t n)
{
    if (d == 0)
        return malloc(n);
    void *p = grow(d - 1, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

struct reader {
    int fd;
    size_t n;
};

static void *slow_reader(void *arg)
{
    struct reader *r = arg;
    usleep(100 * 1000); /* the writer meets a full pipe first */
    for (;;) {
        usleep(2000);
        ssize_t k = read(r->fd, pbuf + r->n, 4096);
        if (k == 0)
            break;
        if (k < 0) {
            CHECK(errno == EAGAIN || errno == EINTR);
            continue;
        }
        r->n += (size_t)k;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    if (argc > 1) {
        CHECK_EQ(dump_fd(1), ENOENT);
        return 0;
    }
    bool on = false;
    size_t sz = sizeof(on);
    CHECK_EQ(mallctl("opt.prof", &on, &sz, NULL, 0), 0);
    CHECK_MSG(on, "runs with prof:true (prof_dump_pprof_fd.conf)");

    static void *keep[400];
    for (int i = 0; i < 100; i++)
        keep[i] = malloc(50000);
    int m1 = memfd_create("p1", MFD_CLOEXEC);
    CHECK(m1 >= 0);
    CHECK_EQ(dump_fd(m1), 0);
    size_t n1 = slurp(m1, buf1, sizeof(buf1));
    check_gzip(buf1, n1, "memfd");

    for (int i = 0; i < 200; i++)
        keep[100 + i] = grow(i % 200, 50000);
    int m2 = memfd_create("p2", MFD_CLOEXEC);
    CHECK_EQ(dump_fd(m2), 0);
    size_t n2 = slurp(m2, buf2, sizeof(buf2));
    check_gzip(buf2, n2, "memfd after 200 more sites");
    CHECK_MSG(n2 > n1, "profile did not grow with 200 more sites: %zu -> %zu bytes", n1, n2);

    /* A non-blocking pipe drained slowly: the writer waits, nothing is lost. */
    int pf[2];
    CHECK(pipe2(pf, O_NONBLOCK) == 0);
    CHECK(fcntl(pf[1], F_SETPIPE_SZ, 4096) > 0);
    /* Nearly full before the profile: the writer must wait for the reader. */
    static const char fill[4000] = {0};
    CHECK(write(pf[1], fill, sizeof(fill)) == (ssize_t)sizeof(fill));
    struct reader rd = {pf[0], 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, slow_reader, &rd) == 0);
    CHECK_EQ(dump_fd(pf[1]), 0);
    close(pf[1]);
    CHECK(pthread_join(t, NULL) == 0);
    close(pf[0]);
    CHECK(rd.n > 4000);
    check_gzip(pbuf + 4000, rd.n - 4000, "slow pipe");
    CHECK_MSG(rd.n - 4000 + 256 > n2 && rd.n - 4000 < n2 + 256, "pipe got %zu bytes, memfd %zu",
              rd.n - 4000, n2);

    /* Errors. */
    int fd = m1;
    CHECK_EQ(mallctl("prof.dump_pprof_fd", NULL, NULL, &fd, sizeof(long)), EINVAL);
    CHECK_EQ(mallctl("prof.dump_pprof_fd", NULL, NULL, NULL, sizeof(int)), EINVAL);
    int old = 0;
    sz = sizeof(old);
    CHECK_EQ(mallctl("prof.dump_pprof_fd", &old, &sz, &fd, sizeof(fd)), EPERM);
    CHECK_EQ(dump_fd(-1), EBADF);
    int closed = memfd_create("c", 0);
    close(closed);
    CHECK_EQ(dump_fd(closed), EBADF);
    int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(ro >= 0);
    CHECK_EQ(dump_fd(ro), EBADF);
    signal(SIGPIPE, SIG_IGN);
    CHECK(pipe(pf) == 0);
    close(pf[0]);
    CHECK_EQ(dump_fd(pf[1]), EIO);
    close(pf[1]);

    tl_run_child("prof:false");
    printf("prof_dump_pprof_fd: ok (%zu and %zu bytes)\n", n1, n2);
    return keep[5] == NULL;
}
