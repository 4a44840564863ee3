/*
 * malloc_message: a program that defines malloc_message receives every
 * allocator message through it (liballoc/warn.c), with cbopaque NULL, and
 * nothing reaches stderr; without it the same message goes to stderr.
 * Each case re-runs this program as a child with its own MALLOC_CONF and
 * collects the child's stdout (where the callback copies what it gets) and
 * stderr separately:
 *   - a MALLOC_CONF error, written during initialisation, reaches a
 *     callback defined with an initialiser: "<jemalloc>: Invalid conf pair:
 *     no_such_key:1";
 *   - a run-time warning (free() of a pointer that is not ours) reaches it;
 *     under abort:true it is delivered before the abort (SIGABRT);
 *   - with malloc_message set back to NULL the warning goes to stderr.
 */
#include "check.h"

#include <signal.h>
#include <sys/wait.h>

/* Copies each message to stdout as "CB(opaque)|<text>", with write(2):
 * it runs inside the allocator and must not allocate. */
static void message_cb(void *cbopaque, const char *s)
{
    const char *tag = cbopaque ? "CB(non-NULL)|" : "CB(NULL)|";
    if (write(1, tag, strlen(tag)) < 0 || write(1, s, strlen(s)) < 0)
        _exit(5);
}

/* The program's own definition, initialised: it replaces liballoc's weak
 * one, so even initialisation-time messages reach message_cb. */
void (*malloc_message)(void *cbopaque, const char *s) = message_cb;

static int child_free_foreign(void)
{
    long on_stack[4] = {0};
    free(tl_opaque(&on_stack[2]));
    return 0;
}

struct output {
    char out[4096], err[4096];
};

static void drain(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    close(fd);
}

/* Run ourselves with argv[1] = mode under conf; the raw wait status, the
 * child's stdout and stderr in o. Outputs are small: the pipes hold them. */
static int run_child(const char *self, const char *mode, const char *conf, struct output *o)
{
    int outp[2], errp[2];
    CHECK(pipe(outp) == 0 && pipe(errp) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        close(outp[0]);
        close(errp[0]);
        setenv("MALLOC_CONF", conf, 1);
        execl(self, self, mode, (char *)NULL);
        _exit(127);
    }
    close(outp[1]);
    close(errp[1]);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    drain(outp[0], o->out, sizeof(o->out));
    drain(errp[0], o->err, sizeof(o->err));
    return st;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "init") == 0) {
            free(malloc(32)); /* initialises the allocator, if nothing did yet */
            return 0;
        }
        if (strcmp(argv[1], "free") == 0)
            return child_free_foreign();
        if (strcmp(argv[1], "free_stderr") == 0) {
            free(malloc(32));
            malloc_message = NULL;
            return child_free_foreign();
        }
        return 2;
    }
    tl_require_liballoc();
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK(n > 0);
    self[n] = 0;
    static struct output o;

    /* A MALLOC_CONF error during initialisation. */
    int st = run_child(self, "init", "no_such_key:1", &o);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "init: status 0x%x; stderr: %s", st, o.err);
    CHECK_MSG(strstr(o.out, "CB(NULL)|<jemalloc>: Invalid conf pair: no_such_key:1\n") != NULL,
              "init: the conf error did not reach malloc_message; stdout: %s; stderr: %s", o.out,
              o.err);
    CHECK_MSG(o.err[0] == 0, "init: stderr not empty: %s", o.err);

    /* A run-time warning, then the same under abort:true. */
    st = run_child(self, "free", "abort:false", &o);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "free: status 0x%x; stderr: %s", st, o.err);
    CHECK_MSG(strstr(o.out, "CB(NULL)|<jemalloc>: free(): invalid pointer (not allocated here)") !=
                  NULL,
              "free: the warning did not reach malloc_message; stdout: %s; stderr: %s", o.out,
              o.err);
    CHECK_MSG(o.err[0] == 0, "free: stderr not empty: %s", o.err);

    st = run_child(self, "free", "abort:true", &o);
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "free under abort:true: status 0x%x", st);
    CHECK_MSG(strstr(o.out, "CB(NULL)|<jemalloc>: free(): invalid pointer (not allocated here)") !=
                  NULL,
              "free under abort:true: no message before the abort; stdout: %s; stderr: %s", o.out,
              o.err);

    /* No callback: stderr. */
    st = run_child(self, "free_stderr", "abort:false", &o);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "free_stderr: status 0x%x", st);
    CHECK_MSG(strstr(o.err, "<jemalloc>: free(): invalid pointer (not allocated here)") != NULL,
              "free_stderr: stderr lacks the warning: %s", o.err);
    CHECK_MSG(strstr(o.out, "CB(") == NULL, "free_stderr: the callback still ran: %s", o.out);

    printf("malloc_message: ok\n");
    return 0;
}
