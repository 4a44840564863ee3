/* tests/cli/jeprof_filebuf.sh's driver: filebuf_map (jeprof-c maps its
 * inputs instead of copying them) keeps filebuf_read's contract, and
 * filebuf_guard turns a file that shrinks under the mapping into EIO
 * instead of a SIGBUS. Usage: filebuf_map DIR (a scratch directory). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "filebuf.h"

static int failures;
#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                           \
            printf(__VA_ARGS__);                                                                  \
            printf("\n");                                                                         \
            failures++;                                                                           \
        }                                                                                         \
    } while (0)

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* A file of exactly one page: the terminating NUL lies past the file's
 * last page and must still read as 0 (the reservation's page). */
static void test_page_sized(const char *dir)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    char *buf = malloc(pg), path[4096];
    for (size_t i = 0; i < pg; i++)
        buf[i] = (char)('a' + i % 26);
    snprintf(path, sizeof(path), "%s/page", dir);
    write_file(path, buf, pg);
    struct filebuf fb;
    int rc = filebuf_map(&fb, path);
    CHECK(rc == 0, "filebuf_map(page) = %d", rc);
    if (!rc) {
        CHECK(fb.len == pg, "len %zu, want %zu", fb.len, pg);
        CHECK(fb.maplen >= pg + 1, "maplen %zu: not mapped", fb.maplen);
        CHECK(memcmp(fb.data, buf, pg) == 0, "content differs");
        CHECK(fb.data[pg] == 0, "no NUL after a page-sized file");
        CHECK(!fb.gzipped, "plain file marked gzipped");
        filebuf_free(&fb);
    }
    free(buf);
}

/* An empty file: len 0 and an empty string. */
static void test_empty(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/empty", dir);
    write_file(path, "", 0);
    struct filebuf fb;
    int rc = filebuf_map(&fb, path);
    CHECK(rc == 0, "filebuf_map(empty) = %d", rc);
    if (!rc) {
        CHECK(fb.len == 0 && fb.data && fb.data[0] == 0, "empty file: len %zu", fb.len);
        filebuf_free(&fb);
    }
}

/* A procfs file says its size is 0 and has content: it is read, not
 * mapped as empty (a --maps copy or a profile behind /proc). */
static void test_procfs(void)
{
    struct filebuf fb;
    int rc = filebuf_map(&fb, "/proc/self/maps");
    CHECK(rc == 0, "filebuf_map(/proc/self/maps) = %d", rc);
    if (!rc) {
        CHECK(fb.len > 0 && strchr(fb.data, '-') != NULL, "/proc/self/maps read as %zu bytes",
              fb.len);
        CHECK(fb.maplen == 0, "a procfs file was mapped");
        filebuf_free(&fb);
    }
}

/* A gzip'd file is inflated (from the mapping) into a malloc'd buffer. */
static void test_gzip(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/z.gz", dir);
    gzFile z = gzopen(path, "wb");
    const char text[] = "heap_v2/524288\n  t*: 1: 2 [0: 0]\n";
    if (!z || gzwrite(z, text, sizeof(text) - 1) != (int)sizeof(text) - 1 || gzclose(z) != Z_OK) {
        perror(path);
        exit(2);
    }
    struct filebuf fb;
    int rc = filebuf_map(&fb, path);
    CHECK(rc == 0, "filebuf_map(gzip) = %d", rc);
    if (!rc) {
        CHECK(fb.gzipped && fb.maplen == 0, "gzip: gzipped %d maplen %zu", fb.gzipped, fb.maplen);
        CHECK(fb.len == sizeof(text) - 1 && strcmp(fb.data, text) == 0, "gzip content differs");
        filebuf_free(&fb);
    }
    /* A cut gzip stream is EBADMSG, as with filebuf_read. */
    FILE *f = fopen(path, "rb");
    char raw[256];
    size_t n = fread(raw, 1, sizeof(raw), f);
    fclose(f);
    write_file(path, raw, n / 2);
    rc = filebuf_map(&fb, path);
    CHECK(rc == EBADMSG, "cut gzip: %d, want EBADMSG", rc);
    if (!rc)
        filebuf_free(&fb);
}

/* Reads the byte at the given offset of the buffer (a volatile read). */
struct touch {
    const struct filebuf *fb;
    size_t off;
    int reached_end;
};
static int touch_run(void *arg)
{
    struct touch *t = arg;
    volatile char c = t->fb->data[t->off];
    (void)c;
    t->reached_end = 1;
    return 0;
}

/* The file shrinks after it was mapped: reading a page it no longer backs
 * is EIO from filebuf_guard, not a crash; the guard is gone afterwards
 * (SIGBUS's handler is restored) and a good read still returns 0. */
static void test_shrunk(const char *dir)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t len = 4 * pg;
    char *buf = calloc(1, len), path[4096];
    memset(buf, 'x', len);
    snprintf(path, sizeof(path), "%s/shrinks", dir);
    write_file(path, buf, len);
    free(buf);
    struct filebuf fb;
    int rc = filebuf_map(&fb, path);
    CHECK(rc == 0 && fb.maplen, "filebuf_map(shrinks) = %d", rc);
    if (rc)
        return;
    struct touch ok = {.fb = &fb, .off = 0};
    rc = filebuf_guard(&fb, touch_run, &ok);
    CHECK(rc == 0 && ok.reached_end, "guarded good read: %d", rc);
    if (truncate(path, 0) != 0) {
        perror("truncate");
        exit(2);
    }
    struct touch bad = {.fb = &fb, .off = 3 * pg};
    rc = filebuf_guard(&fb, touch_run, &bad);
    CHECK(rc == EIO, "read past the shrunk file: %d, want EIO", rc);
    CHECK(!bad.reached_end, "the read past the end completed");
    struct sigaction cur;
    sigaction(SIGBUS, NULL, &cur);
    CHECK(cur.sa_handler == SIG_DFL, "SIGBUS handler left installed");
    filebuf_free(&fb);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: filebuf_map DIR\n");
        return 2;
    }
    test_page_sized(argv[1]);
    test_empty(argv[1]);
    test_procfs();
    test_gzip(argv[1]);
    test_shrunk(argv[1]);
    if (!failures)
        printf("ok: filebuf_map and filebuf_guard\n");
    return failures ? 1 : 0;
}
