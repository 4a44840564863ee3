/*
 * ctl_zero_realloc_modes: opt.zero_realloc (const char *) decides what
 * realloc(p, 0) with p != NULL does, as in jemalloc 5.3; every mode counts
 * the call in stats.zero_reallocs. The test re-runs itself with each
 * MALLOC_CONF:
 *   - default: opt.zero_realloc is "free": NULL back, p freed (the thread's
 *     deallocated counter grows by its usable size);
 *   - zero_realloc:alloc: a usable non-NULL block back (at least 1 byte,
 *     the old contents' first byte kept), freed later without complaint;
 *   - zero_realloc:abort: the process dies of SIGABRT with a message
 *     naming zero_realloc on stderr;
 *   - zero_realloc:bogus: "Invalid conf value" and the default "free".
 */
#include "check.h"

#include <signal.h>
#include <sys/wait.h>

static const char *zr_opt(void)
{
    const char *v = NULL;
    size_t sz = sizeof(v);
    CHECK_I(mallctl("opt.zero_realloc", &v, &sz, NULL, 0), ==, 0);
    CHECK_NONNULL(v);
    return v;
}

static size_t zero_reallocs(void)
{
    uint64_t e = 1;
    size_t esz = sizeof(e), v = 0, sz = sizeof(v);
    CHECK_I(mallctl("epoch", &e, &esz, &e, esz), ==, 0);
    CHECK_I(mallctl("stats.zero_reallocs", &v, &sz, NULL, 0), ==, 0);
    return v;
}

/* Child: act in the mode MALLOC_CONF gave, exit 0 if all held. */
static int child(const char *want)
{
    CHECK_MSG(strcmp(zr_opt(), want) == 0, "opt.zero_realloc is \"%s\", want \"%s\"", zr_opt(), want);
    size_t z0 = zero_reallocs();
    char *p = malloc(5000);
    CHECK_NONNULL(p);
    p[0] = 'x';
    size_t usable = malloc_usable_size(p);
    uint64_t d0 = 0, d1 = 0;
    size_t sz = sizeof(d0);
    CHECK_I(mallctl("thread.deallocated", &d0, &sz, NULL, 0), ==, 0);
    char *q = realloc(p, tl_opaque_size(0)); /* opaque: the compiler would size q at 0 */
    CHECK_I(mallctl("thread.deallocated", &d1, &sz, NULL, 0), ==, 0);
    if (strcmp(want, "free") == 0) {
        CHECK(q == NULL);
        CHECK_U(d1 - d0, ==, usable);
    } else {
        CHECK_NONNULL(q);
        CHECK_U(malloc_usable_size(q), >=, 1);
        CHECK_U(malloc_usable_size(q), <, usable);
        CHECK_I(q[0], ==, 'x');
        free(q);
    }
    CHECK_U(zero_reallocs(), ==, z0 + 1);
    return 0;
}

/* Run this program with MALLOC_CONF=conf and argv[1] = mode; returns the
 * wait status; stderr goes to errfile. */
static int run(const char *self, const char *conf, const char *mode, const char *errfile)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (conf)
            setenv("MALLOC_CONF", conf, 1);
        else
            unsetenv("MALLOC_CONF");
        if (!freopen(errfile, "w", stderr))
            _exit(90);
        execl(self, self, mode, (char *)NULL);
        _exit(91);
    }
    int st = 0;
    CHECK_I(waitpid(pid, &st, 0), ==, pid);
    return st;
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    CHECK_NONNULL(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    if (argc > 1)
        return child(argv[1]);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK(n > 0);
    self[n] = 0;
    char errfile[] = "/tmp/ctl_zero_realloc_modes.XXXXXX";
    int fd = mkstemp(errfile);
    CHECK(fd >= 0);
    close(fd);
    char err[4096];

    int st = run(self, NULL, "free", errfile);
    read_file(errfile, err, sizeof(err));
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "default mode: status 0x%x: %s", st, err);
    st = run(self, "zero_realloc:alloc", "alloc", errfile);
    read_file(errfile, err, sizeof(err));
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "alloc mode: status 0x%x: %s", st, err);
    st = run(self, "zero_realloc:abort", "abort", errfile);
    read_file(errfile, err, sizeof(err));
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "abort mode: status 0x%x: %s", st, err);
    CHECK_MSG(strstr(err, "zero_realloc") != NULL, "abort mode: stderr \"%s\"", err);
    st = run(self, "zero_realloc:bogus", "free", errfile);
    read_file(errfile, err, sizeof(err));
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "bogus value: status 0x%x: %s", st, err);
    CHECK_MSG(strstr(err, "<jemalloc>: Invalid conf value: zero_realloc:bogus") != NULL,
              "bogus value: stderr \"%s\"", err);
    unlink(errfile);
    printf("ctl_zero_realloc_modes: ok\n");
    return 0;
}
