/*
 * heapv2: small scenarios for tests/apps/prof_heapv2_format.sh, one per
 * mode. Run with LD_PRELOAD=liballoc.so and the MALLOC_CONF the script
 * chooses; most modes run at lg_prof_sample:0 (every allocation sampled,
 * weight 1), so the counts in a dump are exact and the script can look for
 * the distinctive "objects: bytes" pairs each site makes.
 *
 *   heapv2 format DIR        threads named with thread.prof.name, dump DIR/format.heap
 *   heapv2 names DIR         prof.dump(NULL) twice around an explicit prof.dump,
 *                            then 8 MiB of allocation (interval / gdump dumps)
 *   heapv2 empty DIR         empty prefix: prof.dump(NULL) must give EFAULT
 *   heapv2 prefix DIR        prof.prefix "" (EFAULT), then DIR/renamed
 *   heapv2 badpath DIR       prof.dump into DIR/missing/ must give EFAULT
 *   heapv2 leak | noleak     prof.reset, then leave 3 x 1 MiB allocated, or
 *                            free them (these two print nothing)
 *   heapv2 active DIR        prof.active off/on around dumps a, b, c
 *   heapv2 reset DIR         prof.reset between dumps r1, r2, r3, r4
 *   heapv2 threadactive DIR  one thread with thread.prof.active=false
 *   heapv2 sysname DIR       a thread named with pthread_setname_np allocates 9 x 4 KiB
 *   heapv2 noprof            prof.* mallctls without prof:true (jemalloc's answers)
 *
 * Prints "ok" lines and "FAIL ..." lines; exits 1 on a failed check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

#define SITE __attribute__((noinline, noclone, used))

static int failed;
static const char *dir;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: ", __func__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failed = 1;                                                                            \
        }                                                                                          \
    } while (0)

static void *volatile keep[4096];
static unsigned nkeep;

__attribute__((noinline)) static void hold(void *p)
{
    if (!p) {
        printf("FAIL out of memory\n");
        exit(2);
    }
    keep[nkeep++ % 4096] = p;
}

static int dump_to(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char *p = path;
    return mallctl("prof.dump", NULL, NULL, &p, sizeof(p));
}

static int dump_auto(void)
{
    const char *p = NULL;
    return mallctl("prof.dump", NULL, NULL, &p, sizeof(p));
}

static int set_bool(const char *name, bool v)
{
    return mallctl(name, NULL, NULL, &v, sizeof(v));
}

static int set_name(const char *name)
{
    return mallctl("thread.prof.name", NULL, NULL, &name, sizeof(name));
}

/* ---- format ---- */

SITE void site_main(void) /* 5 x 3072 = 15360 */
{
    for (int i = 0; i < 5; i++)
        hold(malloc(3072));
}

SITE void site_worker_a(void) /* 7 x 2048 = 14336 */
{
    for (int i = 0; i < 7; i++)
        hold(malloc(2048));
}

SITE void site_worker_b(void) /* 11 x 2560 = 28160 */
{
    for (int i = 0; i < 11; i++)
        hold(malloc(2560));
}

SITE void site_accum(void) /* 9 x 512 = 4608, all freed */
{
    void *v[9];
    for (int i = 0; i < 9; i++)
        v[i] = malloc(512);
    for (int i = 0; i < 9; i++) {
        *(volatile char *)v[i] = 1;
        free(v[i]);
    }
}

static pthread_barrier_t bar;

static void *format_worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    int err = set_name(w == 0 ? "worker-A" : "worker B");
    CHECK(err == 0, "thread.prof.name write returned %d", err);
    const char *got = NULL;
    size_t len = sizeof(got);
    err = mallctl("thread.prof.name", &got, &len, NULL, 0);
    CHECK(err == 0 && got && strcmp(got, w == 0 ? "worker-A" : "worker B") == 0,
          "thread.prof.name read: %d %s", err, got ? got : "(null)");
    if (w == 0)
        site_worker_a();
    else
        site_worker_b();
    pthread_barrier_wait(&bar); /* allocated */
    pthread_barrier_wait(&bar); /* dumped */
    return NULL;
}

static void mode_format(void)
{
    int err = set_name("main-thread");
    CHECK(err == 0, "thread.prof.name returned %d", err);
    /* A bad name (control character) is EFAULT, as in jemalloc. */
    err = set_name("bad\001name");
    CHECK(err == EFAULT, "thread.prof.name with a control character returned %d, want EFAULT", err);
    site_main();
    site_accum();
    pthread_barrier_init(&bar, NULL, 3);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, format_worker, (void *)(intptr_t)i);
    pthread_barrier_wait(&bar);
    err = dump_to("format.heap");
    CHECK(err == 0, "prof.dump returned %d", err);
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
}

/* ---- names ---- */

SITE void site_churn(size_t total, size_t block)
{
    for (size_t n = 0; n < total; n += block) {
        void *p = malloc(block);
        hold(p);
        *(volatile char *)p = 1;
    }
}

static void mode_names(void)
{
    int err = dump_auto();
    CHECK(err == 0, "prof.dump(NULL) #1 returned %d", err);
    err = dump_to("explicit.heap");
    CHECK(err == 0, "prof.dump(explicit) returned %d", err);
    err = dump_auto();
    CHECK(err == 0, "prof.dump(NULL) #2 returned %d", err);
    site_churn(8 << 20, 65536); /* 8 MiB retained: interval and gdump dumps */
}

/* ---- empty prefix / prof.prefix ---- */

static void mode_empty(void)
{
    int err = dump_auto();
    CHECK(err == EFAULT, "prof.dump(NULL) with an empty prefix returned %d, want EFAULT (%d)", err,
          EFAULT);
    site_churn(4 << 20, 65536);
}

static void mode_prefix(void)
{
    const char *empty = "";
    int err = mallctl("prof.prefix", NULL, NULL, &empty, sizeof(empty));
    CHECK(err == 0, "prof.prefix \"\" returned %d", err);
    err = dump_auto();
    CHECK(err == EFAULT, "prof.dump(NULL) after prof.prefix \"\" returned %d, want EFAULT", err);
    char path[4096];
    snprintf(path, sizeof(path), "%s/renamed", dir);
    const char *p = path;
    err = mallctl("prof.prefix", NULL, NULL, &p, sizeof(p));
    CHECK(err == 0, "prof.prefix %s returned %d", path, err);
    err = dump_auto();
    CHECK(err == 0, "prof.dump(NULL) after prof.prefix %s returned %d", path, err);
}

static void mode_badpath(void)
{
    int err = dump_to("missing/x.heap");
    CHECK(err == EFAULT, "prof.dump(DIR/missing/x.heap) returned %d, want EFAULT", err);
    err = dump_to("ok.heap");
    CHECK(err == 0, "prof.dump(DIR/ok.heap) after a failure returned %d", err);
}

/* ---- leaks ----
 * prof.reset first: what libraries allocated while loading (liballoc's
 * libnuma, jemalloc's libstdc++ emergency pool) no longer counts. */

SITE void site_leak(bool leak)
{
    void *v[3];
    for (int i = 0; i < 3; i++)
        v[i] = malloc(1 << 20);
    for (int i = 0; i < 3; i++) {
        memset(v[i], 1, 4096);
        if (leak)
            hold(v[i]);
        else
            free(v[i]);
    }
}

static void mode_leak(bool leak)
{
    int err = mallctl("prof.reset", NULL, NULL, NULL, 0);
    if (err)
        _exit(4);
    site_leak(leak);
}

/* ---- prof.active ---- */

SITE void site_before(void)
{
    for (int i = 0; i < 13; i++)
        hold(malloc(1024));
}
SITE void site_inactive(void)
{
    for (int i = 0; i < 200; i++)
        hold(malloc(4096));
}
SITE void site_after(void)
{
    for (int i = 0; i < 17; i++)
        hold(malloc(1024));
}

static void mode_active(void)
{
    bool v = false;
    size_t len = sizeof(v);
    int err = mallctl("prof.active", &v, &len, NULL, 0);
    CHECK(err == 0 && v, "prof.active read: %d %d, want 0 true", err, v);
    site_before();
    CHECK(dump_to("a.heap") == 0, "dump a");
    bool old = false;
    len = sizeof(old);
    bool off = false;
    err = mallctl("prof.active", &old, &len, &off, sizeof(off));
    CHECK(err == 0 && old, "prof.active write false: %d, old %d", err, old);
    site_inactive();
    CHECK(dump_to("b.heap") == 0, "dump b");
    CHECK(set_bool("prof.active", true) == 0, "prof.active true");
    site_after();
    CHECK(dump_to("c.heap") == 0, "dump c");
}

/* ---- prof.reset ---- */

SITE void site_pre_reset(void)
{
    for (int i = 0; i < 10; i++)
        hold(malloc(1024));
}
SITE void site_post_reset(void)
{
    for (int i = 0; i < 3; i++)
        hold(malloc(1024));
}

static void mode_reset(void)
{
    site_pre_reset();
    CHECK(dump_to("r1.heap") == 0, "dump r1");
    size_t lg = 0;
    int err = mallctl("prof.reset", NULL, NULL, NULL, 0);
    CHECK(err == 0, "prof.reset returned %d", err);
    CHECK(dump_to("r2.heap") == 0, "dump r2");
    /* Freeing blocks sampled before the reset must not disturb the new counts. */
    for (unsigned i = 0; i < nkeep; i++)
        free(keep[i]);
    nkeep = 0;
    site_post_reset();
    CHECK(dump_to("r3.heap") == 0, "dump r3");
    lg = 12;
    err = mallctl("prof.reset", NULL, NULL, &lg, sizeof(lg));
    CHECK(err == 0, "prof.reset(12) returned %d", err);
    size_t got = 0, len = sizeof(got);
    err = mallctl("prof.lg_sample", &got, &len, NULL, 0);
    CHECK(err == 0 && got == 12, "prof.lg_sample after prof.reset(12): %d %zu", err, got);
    CHECK(dump_to("r4.heap") == 0, "dump r4");
}

/* ---- thread.prof.active ---- */

SITE void site_quiet(void)
{
    for (int i = 0; i < 30; i++)
        hold(malloc(8192));
}
SITE void site_loud(void)
{
    for (int i = 0; i < 50; i++)
        hold(malloc(4096));
}

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;

static void *quiet_thread(void *arg)
{
    (void)arg;
    bool old = true, off = false;
    size_t len = sizeof(old);
    int err = mallctl("thread.prof.active", &old, &len, &off, sizeof(off));
    CHECK(err == 0 && old, "thread.prof.active write: %d, old %d", err, old);
    bool now = true;
    len = sizeof(now);
    err = mallctl("thread.prof.active", &now, &len, NULL, 0);
    CHECK(err == 0 && !now, "thread.prof.active read back: %d %d", err, now);
    pthread_mutex_lock(&hold_lock);
    site_quiet();
    pthread_mutex_unlock(&hold_lock);
    return NULL;
}

static void *loud_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hold_lock);
    site_loud();
    pthread_mutex_unlock(&hold_lock);
    return NULL;
}

static void mode_threadactive(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, quiet_thread, NULL);
    pthread_join(a, NULL);
    pthread_create(&b, NULL, loud_thread, NULL);
    pthread_join(b, NULL);
    CHECK(dump_to("t.heap") == 0, "dump t");
}

/* ---- prof_sys_thread_name / prof_thread_active_init ---- */

SITE void site_sysname(void) /* 9 x 4096 = 36864 */
{
    for (int i = 0; i < 9; i++)
        hold(malloc(4096));
}

static void *sysname_thread(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "sysname-thr");
    site_sysname();
    pthread_barrier_wait(&bar); /* allocated */
    pthread_barrier_wait(&bar); /* dumped */
    return NULL;
}

static void mode_sysname(void)
{
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, sysname_thread, NULL);
    pthread_barrier_wait(&bar);
    CHECK(dump_to("sys.heap") == 0, "dump sys");
    pthread_barrier_wait(&bar);
    pthread_join(t, NULL);
}

/* ---- without prof:true ----
 * jemalloc 5.3 built with profiling but started without prof:true
 * (src/ctl.c): every name that needs the profiler is ENOENT (prof.dump,
 * prof.prefix, prof.reset, thread.prof.name, experimental.prof_recent.*,
 * and every write of true), while the views of switches read as false
 * (prof.active, prof.thread_active_init, prof.gdump, thread.prof.active),
 * prof.lg_sample and prof.interval read their values, and writing false to
 * prof.active is accepted (already off). */

static void mode_noprof(void)
{
    bool b = true;
    size_t len = sizeof(b);
    int err = mallctl("opt.prof", &b, &len, NULL, 0);
    CHECK(err == 0 && !b, "opt.prof: %d %d, want 0 false", err, b);
    static const char *const bool_rw[] = {"prof.active", "prof.gdump", "prof.thread_active_init",
                                          "thread.prof.active"};
    for (size_t i = 0; i < sizeof(bool_rw) / sizeof(bool_rw[0]); i++) {
        b = true;
        len = sizeof(b);
        err = mallctl(bool_rw[i], &b, &len, NULL, 0);
        CHECK(err == 0 && !b, "read %s: %d %d, want 0 false", bool_rw[i], err, b);
        b = true;
        err = mallctl(bool_rw[i], NULL, NULL, &b, sizeof(b));
        CHECK(err == ENOENT, "write true to %s returned %d, want ENOENT", bool_rw[i], err);
        len = sizeof(b);
        err = mallctl(bool_rw[i], &b, &len, NULL, 0);
        CHECK(err == 0 && !b, "read %s after writing true: %d %d, want 0 false", bool_rw[i], err,
              b);
    }
    b = false;
    err = mallctl("prof.active", NULL, NULL, &b, sizeof(b));
    CHECK(err == 0, "write false to prof.active returned %d, want 0 (already off)", err);
    const char *s = NULL;
    err = mallctl("prof.dump", NULL, NULL, &s, sizeof(s));
    CHECK(err == ENOENT, "prof.dump(NULL) returned %d, want ENOENT", err);
    s = "/tmp/never-written.heap";
    err = mallctl("prof.dump", NULL, NULL, &s, sizeof(s));
    CHECK(err == ENOENT, "prof.dump(path) returned %d, want ENOENT", err);
    err = mallctl("prof.prefix", NULL, NULL, &s, sizeof(s));
    CHECK(err == ENOENT, "prof.prefix returned %d, want ENOENT", err);
    err = mallctl("prof.reset", NULL, NULL, NULL, 0);
    CHECK(err == ENOENT, "prof.reset returned %d, want ENOENT", err);
    size_t z = 99, want = 99;
    len = sizeof(want);
    err = mallctl("opt.lg_prof_sample", &want, &len, NULL, 0);
    CHECK(err == 0, "opt.lg_prof_sample returned %d", err);
    len = sizeof(z);
    err = mallctl("prof.lg_sample", &z, &len, NULL, 0);
    /* The value differs: jemalloc reads 0, liballoc opt.lg_prof_sample. */
    CHECK(err == 0 && (z == want || z == 0), "prof.lg_sample: %d %zu, want 0 and %zu or 0", err, z,
          want);
    uint64_t u = 99;
    len = sizeof(u);
    err = mallctl("prof.interval", &u, &len, NULL, 0);
    CHECK(err == 0 && u == 0, "prof.interval: %d %llu, want 0 0 (no lg_prof_interval)", err,
          (unsigned long long)u);
    s = "name";
    err = mallctl("thread.prof.name", NULL, NULL, &s, sizeof(s));
    CHECK(err == ENOENT, "write thread.prof.name returned %d, want ENOENT", err);
    len = sizeof(s);
    err = mallctl("thread.prof.name", &s, &len, NULL, 0);
    CHECK(err == ENOENT, "read thread.prof.name returned %d, want ENOENT", err);
    ssize_t m = 0;
    len = sizeof(m);
    err = mallctl("experimental.prof_recent.alloc_max", &m, &len, NULL, 0);
    CHECK(err == ENOENT, "experimental.prof_recent.alloc_max returned %d, want ENOENT", err);
    len = sizeof(m);
    err = mallctl("prof.recent_alloc_max", &m, &len, NULL, 0);
    CHECK(err == ENOENT, "prof.recent_alloc_max returned %d, want ENOENT", err);
    /* Nothing is sampled: allocating a lot and exiting writes no dump. */
    for (int i = 0; i < 64; i++)
        free(malloc(1 << 20));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: heapv2 MODE [DIR]\n");
        return 2;
    }
    if (!mallctl) {
        printf("FAIL mallctl not found (run with LD_PRELOAD=liballoc.so)\n");
        return 2;
    }
    dir = argc > 2 ? argv[2] : ".";
    const char *m = argv[1];
    /* The leak modes print nothing: a stdio buffer would stay allocated. */
    bool quiet = !strcmp(m, "leak") || !strcmp(m, "noleak");
    if (!quiet)
        printf("pid %d\n", (int)getpid());
    if (!strcmp(m, "format"))
        mode_format();
    else if (!strcmp(m, "names"))
        mode_names();
    else if (!strcmp(m, "empty"))
        mode_empty();
    else if (!strcmp(m, "prefix"))
        mode_prefix();
    else if (!strcmp(m, "badpath"))
        mode_badpath();
    else if (!strcmp(m, "leak"))
        mode_leak(true);
    else if (!strcmp(m, "noleak"))
        mode_leak(false);
    else if (!strcmp(m, "active"))
        mode_active();
    else if (!strcmp(m, "reset"))
        mode_reset();
    else if (!strcmp(m, "threadactive"))
        mode_threadactive();
    else if (!strcmp(m, "sysname"))
        mode_sysname();
    else if (!strcmp(m, "noprof"))
        mode_noprof();
    else {
        fprintf(stderr, "heapv2: unknown mode %s\n", m);
        return 2;
    }
    if (!failed && !quiet)
        printf("ok %s\n", m);
    fflush(stdout);
    return failed;
}
