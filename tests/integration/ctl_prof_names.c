/*
 * ctl_prof_names: the profiler's mallctl names of the README list (prof.*,
 * thread.prof.*, experimental.prof_recent.*) with jemalloc's types,
 * directions and error codes, in both states of opt.prof:
 *   - profiling off (this process, unless MALLOC_CONF turns it on): as in
 *     jemalloc 5.3 built with profiling, the read-only views answer 0 and
 *     read false/0 (prof.active, prof.thread_active_init, prof.gdump,
 *     prof.lg_sample, prof.interval, thread.prof.active), writing false to
 *     prof.active is accepted; everything that would need the profiler is
 *     ENOENT (writing true, prof.dump, prof.prefix, prof.reset,
 *     thread.prof.name, experimental.prof_recent.*);
 *   - profiling on (the test runs a copy of itself with
 *     prof:true,prof_active:false added to MALLOC_CONF): every name has its
 *     jemalloc type (EINVAL with a partial copy for any other length),
 *     rw names take a write back, prof.dump writes a heap_v2 file to an
 *     explicit path (oldp: EPERM), prof.reset sets prof.lg_sample (99 is
 *     clipped to 63), thread.prof.name is read xor write, the recent ring's
 *     alloc_max reads back and refuses values below -1, alloc_dump writes
 *     JSON through the callback; liballoc's prof.recent_alloc_max,
 *     prof.recent_alloc_dump and prof.recent_alloc_dump_filtered (not in
 *     jemalloc) share the ring's state.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

static int rd(const char *name, void *v, size_t len)
{
    size_t l = len;
    int r = mallctl(name, v, &l, NULL, 0);
    if (r == 0)
        CHECK_EQ(l, len);
    return r;
}

static bool opt_prof(void)
{
    bool p = false;
    CHECK_I(rd("opt.prof", &p, sizeof(p)), ==, 0);
    return p;
}

static void test_prof_off(void)
{
    bool b = true;
    size_t z = 99;
    uint64_t u = 99;
    static const char *const bools[] = {"prof.active", "prof.thread_active_init", "prof.gdump",
                                        "thread.prof.active"};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        b = true;
        int r = rd(bools[i], &b, sizeof(b));
        CHECK_MSG(r == 0 && !b, "prof off: mallctl(\"%s\") = %d, value %d (jemalloc: 0, false)",
                  bools[i], r, b);
    }
    CHECK_I(rd("prof.lg_sample", &z, sizeof(z)), ==, 0);
    CHECK_I(rd("prof.interval", &u, sizeof(u)), ==, 0);
    CHECK_EQ(u, 0);
    /* Turning it off is a no-op; anything that needs the profiler is ENOENT. */
    bool f = false, t = true;
    CHECK_I(mallctl("prof.active", NULL, NULL, &f, sizeof(f)), ==, 0);
    CHECK_I(mallctl("prof.active", NULL, NULL, &t, sizeof(t)), ==, ENOENT);
    CHECK_I(mallctl("prof.gdump", NULL, NULL, &t, sizeof(t)), ==, ENOENT);
    CHECK_I(mallctl("thread.prof.active", NULL, NULL, &t, sizeof(t)), ==, ENOENT);
    const char *s = "/nonexistent/x.heap";
    CHECK_I(mallctl("prof.dump", NULL, NULL, &s, sizeof(s)), ==, ENOENT);
    CHECK_I(mallctl("prof.prefix", NULL, NULL, &s, sizeof(s)), ==, ENOENT);
    size_t lg = 10;
    CHECK_I(mallctl("prof.reset", NULL, NULL, &lg, sizeof(lg)), ==, ENOENT);
    const char *name = NULL;
    CHECK_I(rd("thread.prof.name", &name, sizeof(name)), ==, ENOENT);
    CHECK_I(mallctl("thread.prof.name", NULL, NULL, &s, sizeof(s)), ==, ENOENT);
    ssize_t m = 0;
    CHECK_I(rd("experimental.prof_recent.alloc_max", &m, sizeof(m)), ==, ENOENT);
}

/* Exactly sizeof(T) reads; 1, 2, 4, 8, 16 otherwise give EINVAL and a partial copy. */
static void check_len(const char *name, size_t want)
{
    unsigned char buf[16];
    size_t l = want;
    CHECK_MSG(mallctl(name, buf, &l, NULL, 0) == 0, "mallctl(\"%s\") failed", name);
    static const size_t lens[] = {1, 2, 4, 8, 16};
    for (size_t i = 0; i < 5; i++) {
        if (lens[i] == want)
            continue;
        l = lens[i];
        int r = mallctl(name, buf, &l, NULL, 0);
        CHECK_MSG(r == EINVAL && l == (lens[i] < want ? lens[i] : want),
                  "mallctl(\"%s\") with %zu bytes: %d, *oldlenp %zu (want EINVAL, %zu)", name,
                  lens[i], r, l, lens[i] < want ? lens[i] : want);
    }
}

struct sbuf {
    char buf[1 << 16];
    size_t len;
};

static void collect(void *opaque, const char *s)
{
    struct sbuf *b = opaque;
    size_t n = strlen(s);
    if (b->len + n < sizeof(b->buf)) {
        memcpy(b->buf + b->len, s, n + 1);
        b->len += n;
    }
}

static void test_prof_on(void)
{
    CHECK(opt_prof());
    /* bool rw */
    static const char *const bools[] = {"prof.active", "prof.thread_active_init", "prof.gdump",
                                        "thread.prof.active"};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        check_len(bools[i], sizeof(bool));
        bool v = false, old = false;
        size_t l = sizeof(v);
        CHECK_I(mallctl(bools[i], &v, &l, NULL, 0), ==, 0);
        bool nv = !v;
        CHECK_I(mallctl(bools[i], &old, &l, &nv, sizeof(nv)), ==, 0);
        CHECK_EQ(old, v);
        CHECK_I(mallctl(bools[i], &old, &l, NULL, 0), ==, 0);
        CHECK_EQ(old, nv);
        CHECK_I(mallctl(bools[i], NULL, NULL, &v, sizeof(v)), ==, 0);
        CHECK_I(mallctl(bools[i], NULL, NULL, &v, sizeof(int)), ==, EINVAL);
    }
    bool active = false;
    CHECK_I(rd("prof.active", &active, sizeof(active)), ==, 0);
    CHECK(!active); /* prof_active:false from MALLOC_CONF */

    /* read-only numbers */
    check_len("prof.lg_sample", sizeof(size_t));
    check_len("prof.interval", sizeof(uint64_t));
    size_t lg = 0, opt_lg = 0;
    CHECK_I(rd("prof.lg_sample", &lg, sizeof(lg)), ==, 0);
    CHECK_I(rd("opt.lg_prof_sample", &opt_lg, sizeof(opt_lg)), ==, 0);
    CHECK_EQ(lg, opt_lg);
    CHECK_I(mallctl("prof.lg_sample", NULL, NULL, &lg, sizeof(lg)), ==, EPERM);
    uint64_t iv = 1;
    CHECK_I(mallctl("prof.interval", NULL, NULL, &iv, sizeof(iv)), ==, EPERM);

    /* prof.reset: write-only size_t, sets lg_sample, clipped to 63. */
    size_t nl = 12;
    CHECK_I(mallctl("prof.reset", NULL, NULL, &nl, sizeof(nl)), ==, 0);
    CHECK_I(rd("prof.lg_sample", &lg, sizeof(lg)), ==, 0);
    CHECK_EQ(lg, 12);
    nl = 99;
    CHECK_I(mallctl("prof.reset", NULL, NULL, &nl, sizeof(nl)), ==, 0);
    CHECK_I(rd("prof.lg_sample", &lg, sizeof(lg)), ==, 0);
    CHECK_EQ(lg, 63);
    CHECK_I(mallctl("prof.reset", NULL, NULL, &nl, sizeof(unsigned)), ==, EINVAL);
    size_t l = sizeof(lg);
    CHECK_I(mallctl("prof.reset", &lg, &l, NULL, 0), ==, EPERM);
    nl = opt_lg;
    CHECK_I(mallctl("prof.reset", NULL, NULL, &nl, sizeof(nl)), ==, 0);

    /* prof.dump to an explicit file: a heap_v2 profile. */
    char path[] = "/tmp/ctl_prof_names.XXXXXX";
    int fd = mkstemp(path);
    CHECK_I(fd, >=, 0);
    close(fd);
    const char *p = path;
    const char *junk = NULL;
    l = sizeof(junk);
    CHECK_I(mallctl("prof.dump", &junk, &l, &p, sizeof(p)), ==, EPERM);
    CHECK_I(mallctl("prof.dump", NULL, NULL, &p, sizeof(int)), ==, EINVAL);
    CHECK_I(mallctl("prof.dump", NULL, NULL, &p, sizeof(p)), ==, 0);
    char head[16] = {0};
    fd = open(path, O_RDONLY);
    CHECK_I(fd, >=, 0);
    CHECK_I(read(fd, head, 8), ==, 8);
    close(fd);
    unlink(path);
    CHECK_MSG(memcmp(head, "heap_v2/", 8) == 0, "prof.dump wrote \"%.8s\", want heap_v2/", head);

    /* prof.prefix: write-only string. */
    const char *prefix = "/tmp/ctl_prof_names_prefix";
    l = sizeof(junk);
    CHECK_I(mallctl("prof.prefix", &junk, &l, NULL, 0), ==, EPERM);
    CHECK_I(mallctl("prof.prefix", NULL, NULL, &prefix, sizeof(prefix)), ==, 0);

    /* thread.prof.name: read xor write. */
    const char *nm = "ctl-worker";
    CHECK_I(mallctl("thread.prof.name", NULL, NULL, &nm, sizeof(nm)), ==, 0);
    const char *got = NULL;
    check_len("thread.prof.name", sizeof(got));
    CHECK_I(rd("thread.prof.name", &got, sizeof(got)), ==, 0);
    CHECK_MSG(got && strcmp(got, "ctl-worker") == 0, "thread.prof.name = \"%s\"", got ? got : "");
    l = sizeof(got);
    CHECK_I(mallctl("thread.prof.name", &got, &l, &nm, sizeof(nm)), ==, EPERM);

    /* experimental.prof_recent.alloc_max: ssize_t rw, >= -1. */
    check_len("experimental.prof_recent.alloc_max", sizeof(ssize_t));
    ssize_t m = 10, old = 0, now = 0, bad = -2;
    l = sizeof(old);
    CHECK_I(mallctl("experimental.prof_recent.alloc_max", &old, &l, &m, sizeof(m)), ==, 0);
    CHECK_I(rd("experimental.prof_recent.alloc_max", &now, sizeof(now)), ==, 0);
    CHECK_I(now, ==, 10);
    CHECK_I(mallctl("experimental.prof_recent.alloc_max", NULL, NULL, &bad, sizeof(bad)), ==,
            EINVAL);
    CHECK_I(rd("experimental.prof_recent.alloc_max", &now, sizeof(now)), ==, 0);
    CHECK_I(now, ==, 10);
    /* alloc_dump: write-only {write_cb, cbopaque}; output is JSON. */
    static struct sbuf out;
    struct {
        void (*cb)(void *, const char *);
        void *opaque;
    } arg = {collect, &out};
    l = sizeof(arg);
    CHECK_I(mallctl("experimental.prof_recent.alloc_dump", &arg, &l, NULL, 0), ==, EPERM);
    CHECK_I(mallctl("experimental.prof_recent.alloc_dump", NULL, NULL, &arg, sizeof(void *)), ==,
            EINVAL);
    CHECK_I(mallctl("experimental.prof_recent.alloc_dump", NULL, NULL, &arg, sizeof(arg)), ==, 0);
    CHECK_MSG(strncmp(out.buf, "{\"sample_interval\":", 19) == 0,
              "prof_recent.alloc_dump wrote \"%.40s\"", out.buf);
    CHECK(strstr(out.buf, "\"recent_alloc_max\":10") != NULL);

    /* liballoc's own names for the ring share its state. */
    check_len("prof.recent_alloc_max", sizeof(ssize_t));
    CHECK_I(rd("prof.recent_alloc_max", &now, sizeof(now)), ==, 0);
    CHECK_I(now, ==, 10);
    m = 20;
    CHECK_I(mallctl("prof.recent_alloc_max", NULL, NULL, &m, sizeof(m)), ==, 0);
    CHECK_I(rd("experimental.prof_recent.alloc_max", &now, sizeof(now)), ==, 0);
    CHECK_I(now, ==, 20);
    out.len = 0;
    out.buf[0] = 0;
    CHECK_I(mallctl("prof.recent_alloc_dump", NULL, NULL, &arg, sizeof(arg)), ==, 0);
    CHECK(strstr(out.buf, "\"recent_alloc_max\":20") != NULL);
    /* Above the ring's limit (2^20 entries): reduced to it, and read back
     * as such, not as the number asked for (which it did not honour). */
    m = 5000000;
    CHECK_I(mallctl("prof.recent_alloc_max", &now, &(size_t){sizeof(now)}, &m, sizeof(m)), ==, 0);
    CHECK_I(now, ==, 20);
    CHECK_I(rd("prof.recent_alloc_max", &now, sizeof(now)), ==, 0);
    CHECK_I(now, ==, 1048576);
    m = 20;
    CHECK_I(mallctl("prof.recent_alloc_max", NULL, NULL, &m, sizeof(m)), ==, 0);
    l = sizeof(arg);
    CHECK_I(mallctl("prof.recent_alloc_dump", &arg, &l, NULL, 0), ==, EPERM);
    /* The filtered dump takes {write_cb, cbopaque, filter}: NULL filter is everything. */
    struct {
        void (*cb)(void *, const char *);
        void *opaque;
        const void *filter;
    } farg = {collect, &out, NULL};
    out.len = 0;
    out.buf[0] = 0;
    CHECK_I(mallctl("prof.recent_alloc_dump_filtered", NULL, NULL, &farg, sizeof(arg)), ==, EINVAL);
    CHECK_I(mallctl("prof.recent_alloc_dump_filtered", NULL, NULL, &farg, sizeof(farg)), ==, 0);
    CHECK_MSG(strncmp(out.buf, "{\"sample_interval\":", 19) == 0,
              "prof.recent_alloc_dump_filtered wrote \"%.40s\"", out.buf);
    l = sizeof(farg);
    CHECK_I(mallctl("prof.recent_alloc_dump_filtered", &farg, &l, NULL, 0), ==, EPERM);
}

int main(int argc, char **argv)
{
    (void)argc;
    tl_require_liballoc();
    if (getenv("CTL_PROF_NAMES_CHILD") != NULL) {
        test_prof_on();
        printf("ctl_prof_names: profiling on: ok\n");
        return 0;
    }
    /* First a copy of this program with the profiler on (and not sampling). */
    const char *conf = getenv("MALLOC_CONF");
    char buf[1024];
    snprintf(buf, sizeof(buf), "MALLOC_CONF=%s%sprof:true,prof_active:false,prof_final:false",
             conf ? conf : "", conf && *conf ? "," : "");
    char *envp[] = {buf, "CTL_PROF_NAMES_CHILD=1", NULL};
    fflush(stdout);
    pid_t pid = fork();
    CHECK_I(pid, >=, 0);
    if (pid == 0) {
        execve("/proc/self/exe", argv, envp);
        _exit(127);
    }
    int status = 0;
    CHECK_I(waitpid(pid, &status, 0), ==, pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the copy run with %s failed (status 0x%x)", buf, status);
    /* Then this process, unless MALLOC_CONF already turned profiling on. */
    if (!opt_prof())
        test_prof_off();
    printf("ctl_prof_names: ok\n");
    return 0;
}
