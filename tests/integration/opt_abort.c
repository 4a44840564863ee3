/*
 * opt_abort: abort:true turns the allocator's run-time warnings into
 * abort(). Each case re-runs this program as a child with its own
 * MALLOC_CONF and checks how the child ended:
 *   - free() of a pointer the allocator never handed out prints a warning;
 *     with abort:false the child carries on (exit 0), with abort:true it
 *     dies of SIGABRT right after the message;
 *   - prof.dump to a path that cannot be opened prints
 *     <jemalloc>: failed to open "..."; with abort:true the child dies of
 *     SIGABRT, with abort:false prof.dump returns EFAULT and it exits 0.
 * MALLOC_CONF errors are not warnings: abort:true with a bad key exits 0.
 */
#include "check.h"

#include <signal.h>
#include <sys/wait.h>

static int child_free_foreign(void)
{
    long on_stack[4] = {0};
    free(tl_opaque(&on_stack[2]));
    return 0;
}

static int child_bad_dump(void)
{
    const char *path = "/nonexistent-dir-opt-abort/x.heap";
    int err = mallctl("prof.dump", NULL, NULL, &path, sizeof(path));
    return err == EFAULT ? 0 : 3;
}

/* Run ourselves with argv[1] = mode under conf; return the raw wait status,
 * with the child's stderr in errbuf. */
static int run_child(const char *self, const char *mode, const char *conf, char *errbuf, size_t cap)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        setenv("MALLOC_CONF", conf, 1);
        execl(self, self, mode, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = read(fds[0], errbuf + n, cap - 1 - n)) > 0)
        n += (size_t)k;
    errbuf[n] = 0;
    close(fds[0]);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    return st;
}

static void expect(const char *self, const char *mode, const char *conf, bool aborts,
                   const char *msg)
{
    char err[4096];
    int st = run_child(self, mode, conf, err, sizeof(err));
    if (aborts)
        CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
                  "%s under %s: want SIGABRT, got status 0x%x; stderr: %s", mode, conf, st, err);
    else
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "%s under %s: want exit 0, got status 0x%x; stderr: %s", mode, conf, st, err);
    CHECK_MSG(strstr(err, msg) != NULL, "%s under %s: stderr lacks \"%s\": %s", mode, conf, msg, err);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "free") == 0)
            return child_free_foreign();
        if (strcmp(argv[1], "dump") == 0)
            return child_bad_dump();
        if (strcmp(argv[1], "none") == 0)
            return 0;
        return 2;
    }
    tl_require_liballoc();
    bool v = true;
    size_t sz = sizeof(v);
    CHECK(mallctl("opt.abort", &v, &sz, NULL, 0) == 0);
    CHECK(v == (getenv("MALLOC_CONF") && strstr(getenv("MALLOC_CONF"), "abort:true")));

    const char *self = "/proc/self/exe";
    char path[4096];
    ssize_t n = readlink(self, path, sizeof(path) - 1);
    CHECK(n > 0);
    path[n] = 0;

    expect(path, "free", "abort:false", false, "invalid pointer (not allocated here)");
    expect(path, "free", "abort:true", true, "invalid pointer (not allocated here)");
    expect(path, "dump", "prof:true,abort:false", false, "failed to open");
    expect(path, "dump", "prof:true,abort:true", true, "failed to open");
    /* A configuration error is abort_conf's business, not abort's. */
    expect(path, "none", "abort:true,no_such_key:1", false, "Invalid conf pair");
    printf("opt_abort: ok\n");
    return 0;
}
