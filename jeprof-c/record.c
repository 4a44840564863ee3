/* record: see record.h. */
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"
#include "xalloc.h"
#include "message.h"

static const char *out_dir = "jeprof-c.out";
static int lg_sample = 19;
static int help;

/* clang-format off */
static const struct option record_options[] = {
    {OPT_STRING, "o", &out_dir, 0, "DIR", "where dumps and flamegraph.svg go (jeprof-c.out)"},
    {OPT_INT, "lg-sample", &lg_sample, 0, "N", "sample every 2^N bytes on average (19)"},
    {OPT_SET_INT, "help", &help, 1, NULL, "this text"},
    {0, NULL, NULL, 0, NULL, NULL},
};
/* clang-format on */

static const char usage[] = "usage: jeprof-c record [-o DIR] [--lg-sample=N] -- command [args...]";

/* Directory of the running jeprof-c. */
static char *self_dir(const char *argv0)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) {
        snprintf(buf, sizeof(buf), "%s", argv0);
        n = (ssize_t)strlen(buf);
    }
    buf[n] = 0;
    char *s = strrchr(buf, '/');
    if (s)
        *s = 0;
    else
        strcpy(buf, ".");
    return xstrdup(buf);
}

/* Resolves cmd through PATH, for symbolization. */
static char *which(const char *cmd)
{
    if (strchr(cmd, '/'))
        return realpath(cmd, NULL);
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    char *dup = xstrdup(path), *save = NULL;
    for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *c = xasprintf("%s/%s", *d ? d : ".", cmd);
        if (access(c, X_OK) == 0) {
            free(dup);
            char *r = realpath(c, NULL);
            free(c);
            return r;
        }
        free(c);
    }
    free(dup);
    return NULL;
}

/* The newest final dump for pid in dir, or NULL. */
static char *find_dump(const char *dir, pid_t pid)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *best = NULL, prefix[64];
    snprintf(prefix, sizeof(prefix), "heap.%d.", (int)pid);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n > 7 &&
            strcmp(e->d_name + n - 7, ".f.heap") == 0) {
            free(best);
            best = xasprintf("%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    return best;
}

static int run_child(char **cmd, const char *preload, const char *conf, pid_t *pid_out)
{
    pid_t pid = fork();
    if (pid < 0)
        return -error("cannot fork: %s", strerror(errno));
    if (pid == 0) {
        setenv("LD_PRELOAD", preload, 1);
        setenv("MALLOC_CONF", conf, 1);
        execvp(cmd[0], cmd);
        fprintf(stderr, "error: cannot run '%s': %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    *pid_out = pid;
    /* Ctrl-C is for the command: it may still write its final dump, and we
     * still report on it. */
    void (*old_int)(int) = signal(SIGINT, SIG_IGN);
    void (*old_quit)(int) = signal(SIGQUIT, SIG_IGN);
    int st, rc;
    while ((rc = (int)waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    signal(SIGINT, old_int);
    signal(SIGQUIT, old_quit);
    if (rc < 0)
        return -error("waitpid: %s", strerror(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs "jeprof-c --text --nodecount=20 --flamegraph=DIR/flamegraph.svg
 * [program] dump" from the same directory as this jeprof-c; 0 on success. */
static int run_report(const char *self, const char *dir, const char *cmd0, const char *dump)
{
    char *prog = which(cmd0);
    char *exe = xasprintf("%s/jeprof-c", self);
    char *fg = xasprintf("--flamegraph=%s/flamegraph.svg", dir);
    char *args[8];
    int k = 0, st = 1;
    args[k++] = exe;
    args[k++] = "--text";
    args[k++] = "--nodecount=20";
    args[k++] = fg;
    if (prog)
        args[k++] = prog;
    args[k++] = (char *)dump;
    args[k] = NULL;
    pid_t rp = fork();
    if (rp == 0) {
        execv(exe, args);
        _exit(127);
    }
    if (rp > 0)
        while (waitpid(rp, &st, 0) < 0 && errno == EINTR)
            ;
    int ok = rp > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok)
        fprintf(stderr, "jeprof-c: flame graph in %s/flamegraph.svg\n", dir);
    free(prog);
    free(exe);
    free(fg);
    return ok ? 0 : 1;
}

int record_main(int argc, char **argv, const char *argv0)
{
    int npos = parse_options(argc - 1, argv + 1, record_options);
    if (help) {
        print_usage(stdout, usage, record_options);
        return 0;
    }
    if (npos <= 0 || lg_sample < 0 || lg_sample > 63) {
        print_usage(stderr, usage, record_options);
        return 2;
    }
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        return error("cannot create '%s': %s", out_dir, strerror(errno));
    char **cmd = xcalloc((size_t)npos + 1, sizeof(char *));
    memcpy(cmd, argv + 1, (size_t)npos * sizeof(char *));
    char *dir = realpath(out_dir, NULL);
    char *self = self_dir(argv0);
    char *preload = getenv("JEPROF_C_PRELOAD") ? xstrdup(getenv("JEPROF_C_PRELOAD"))
                                               : xasprintf("%s/liballoc.so", self);
    if (!getenv("JEPROF_C_PRELOAD") && access(preload, R_OK) != 0) {
        /* Installed layout: PREFIX/bin/jeprof-c and PREFIX/lib/liballoc.so. */
        free(preload);
        preload = xasprintf("%s/../lib/liballoc.so", self);
    }
    char *dump = NULL;
    int rc = 1;
    if (!dir || access(preload, R_OK) != 0) {
        error("cannot find the allocator '%s' (set JEPROF_C_PRELOAD)", preload);
        goto out;
    }
    char *conf = xasprintf("prof:true,prof_final:true,prof_prefix:%s/heap,lg_prof_sample:%d", dir,
                           lg_sample);
    pid_t pid = 0;
    int st = run_child(cmd, preload, conf, &pid);
    free(conf);
    if (st < 0)
        goto out;
    rc = st ? st : 1; /* the command's own failure comes first */
    dump = find_dump(dir, pid);
    if (!dump) {
        error("'%s' left no final heap dump in '%s'", cmd[0], dir);
        goto out;
    }
    fprintf(stderr, "jeprof-c: profile in %s\n", dump);
    if (run_report(self, dir, cmd[0], dump) == 0 || st)
        rc = st;
out:
    free(dump);
    free(cmd);
    free(dir);
    free(self);
    free(preload);
    return rc;
}
