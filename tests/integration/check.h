/*
 * Shared helpers for the integration and stress tests: CHECK macros that
 * print file:line, the failing expression and the values, then exit 1;
 * a check that the process really runs on liballoc; TEST_THREADS and
 * TEST_LONG handling; a seeded PRNG; fill patterns; time limits.
 * Header-only so each test is one .c file linked with -lalloc.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <alloc.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Name (substring of the path) of the library that must define malloc & co. */
#ifndef TL_LIBNAME
#define TL_LIBNAME "liballoc"
#endif

/* Failure: print and leave at once; _exit so other threads and atexit
 * handlers (which may allocate) cannot hang or mask the report. */
static void tl_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static void tl_fail(const char *file, int line, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n = snprintf(buf, sizeof(buf), "%s:%d: CHECK failed: ", file, line);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(buf))
        n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf) - 1)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    fflush(stdout);
    if (write(2, buf, (size_t)n) < 0)
        _exit(1);
    _exit(1);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            tl_fail(__FILE__, __LINE__, "%s", #cond);                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            tl_fail(__FILE__, __LINE__, __VA_ARGS__);                                              \
    } while (0)

/* Compare two unsigned integer values with an operator; prints both. */
#define CHECK_U(a, op, b)                                                                          \
    do {                                                                                           \
        uintmax_t tl_a_ = (uintmax_t)(a), tl_b_ = (uintmax_t)(b);                                  \
        if (!(tl_a_ op tl_b_))                                                                     \
            tl_fail(__FILE__, __LINE__, "%s %s %s (%ju vs %ju, 0x%jx vs 0x%jx)", #a, #op, #b,      \
                    tl_a_, tl_b_, tl_a_, tl_b_);                                                   \
    } while (0)

#define CHECK_I(a, op, b)                                                                          \
    do {                                                                                           \
        intmax_t tl_a_ = (intmax_t)(a), tl_b_ = (intmax_t)(b);                                     \
        if (!(tl_a_ op tl_b_))                                                                     \
            tl_fail(__FILE__, __LINE__, "%s %s %s (%jd vs %jd)", #a, #op, #b, tl_a_, tl_b_);       \
    } while (0)

#define CHECK_EQ(a, b) CHECK_U(a, ==, b)

#define CHECK_NULL(p)                                                                              \
    do {                                                                                           \
        const void *tl_p_ = (p);                                                                   \
        if (tl_p_ != NULL)                                                                         \
            tl_fail(__FILE__, __LINE__, "%s == NULL (got %p)", #p, tl_p_);                         \
    } while (0)

#define CHECK_NONNULL(p)                                                                           \
    do {                                                                                           \
        if ((p) == NULL)                                                                           \
            tl_fail(__FILE__, __LINE__, "%s != NULL (errno %d)", #p, errno);                       \
    } while (0)

#define CHECK_ALIGNED(p, align)                                                                    \
    do {                                                                                           \
        uintptr_t tl_p_ = (uintptr_t)(p);                                                          \
        uintmax_t tl_al_ = (uintmax_t)(align);                                                     \
        if (tl_p_ % tl_al_ != 0)                                                                   \
            tl_fail(__FILE__, __LINE__, "%s (%p) aligned to %s (%ju)", #p, (void *)tl_p_, #align,  \
                    tl_al_);                                                                       \
    } while (0)

/* Hide a pointer from the optimiser so malloc/free pairs are not elided. */
static inline void *tl_opaque(void *p)
{
    __asm__ volatile("" : "+r"(p) : : "memory");
    return p;
}

static inline size_t tl_opaque_size(size_t n)
{
    __asm__ volatile("" : "+r"(n));
    return n;
}

/* --- the process runs on liballoc ---------------------------------------- */

static inline void tl_check_sym(const char *name, const void *addr)
{
    Dl_info di;
    memset(&di, 0, sizeof(di));
    CHECK_MSG(dladdr(addr, &di) != 0 && di.dli_fname != NULL,
              "dladdr(%s) failed: symbol not in any loaded object", name);
    CHECK_MSG(strstr(di.dli_fname, TL_LIBNAME) != NULL,
              "%s resolves to %s, not to " TL_LIBNAME " (the test is not using our allocator)",
              name, di.dli_fname);
}

/* Every public entry point must resolve into the allocator library (else
 * the test would silently exercise glibc), and mallctl("version") works. */
static inline void tl_require_liballoc(void)
{
#define TL_SYM(f) tl_check_sym(#f, (const void *)(uintptr_t)&f)
    TL_SYM(malloc);
    TL_SYM(free);
    TL_SYM(calloc);
    TL_SYM(realloc);
    TL_SYM(reallocarray);
    TL_SYM(posix_memalign);
    TL_SYM(aligned_alloc);
    TL_SYM(memalign);
    TL_SYM(valloc);
    TL_SYM(pvalloc);
    TL_SYM(malloc_usable_size);
    TL_SYM(mallocx);
    TL_SYM(rallocx);
    TL_SYM(xallocx);
    TL_SYM(sallocx);
    TL_SYM(dallocx);
    TL_SYM(sdallocx);
    TL_SYM(nallocx);
    TL_SYM(mallctl);
#undef TL_SYM
    const char *version = NULL;
    size_t len = sizeof(version);
    int err = mallctl("version", &version, &len, NULL, 0);
    CHECK_MSG(err == 0, "mallctl(\"version\") returned %d, want 0", err);
    CHECK_EQ(len, sizeof(version));
    CHECK_MSG(version != NULL && strcmp(version, JEMALLOC_VERSION) == 0,
              "mallctl(\"version\") = \"%s\", want \"%s\"", version ? version : "(null)",
              JEMALLOC_VERSION);
}

/* Re-run this test program (/proc/self/exe, with argv[1] "child") under
 * MALLOC_CONF conf and check that it exits 0: options fixed at start-up are
 * tested in a child per setting. */
static inline void tl_run_child(const char *conf)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK(n > 0);
    self[n] = 0;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setenv("MALLOC_CONF", conf, 1);
        execl(self, self, "child", (char *)NULL);
        _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child under %s failed (0x%x)", conf, st);
}


/* --- statistics ------------------------------------------------------------ */

/* A new arena (arenas.create); returns its index. For tests that want
 * memory of their own, with MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE. */
static inline unsigned tl_arena_create(void)
{
    unsigned ar = 0;
    size_t sz = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &sz, NULL, 0), ==, 0);
    return ar;
}

/* Pages of [p, p + len) resident now (mincore; len at most 8192 pages). */
static inline size_t tl_resident_pages(const void *p, size_t len)
{
    static unsigned char vec[8192];
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = len / page, r = 0;
    CHECK(n <= sizeof(vec));
    CHECK_I(mincore((void *)p, len, vec), ==, 0);
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    return r;
}

/* Stops the test unless opt.dirty_decay_ms is want (its conf file, named
 * in the message, sets it). */
static inline void tl_require_dirty_decay_ms(ssize_t want, const char *conf)
{
    ssize_t ms = 0;
    size_t sz = sizeof(ms);
    CHECK_I(mallctl("opt.dirty_decay_ms", &ms, &sz, NULL, 0), ==, 0);
    CHECK_MSG(ms == want, "this test needs dirty_decay_ms:%zd (%s), got %zd", want, conf, ms);
}

/* A size_t statistic (e.g. "stats.resident") after an "epoch" refresh. */
static inline size_t tl_stat_size(const char *name)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
    size_t v = 0;
    sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl %s", name);
    return v;
}

/* Dirty bytes of all arenas (stats.arenas.<ALL>.pdirty, pages, times the
 * page size) after an "epoch" refresh. */
static inline size_t tl_pdirty_all_bytes(void)
{
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", (unsigned)MALLCTL_ARENAS_ALL);
    return tl_stat_size(name) * (size_t)sysconf(_SC_PAGESIZE);
}

/* A uint64_t statistic (e.g. "stats.arenas.0.dirty_nmadvise") after an
 * "epoch" refresh. */
static inline uint64_t tl_stat_u64(const char *name)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
    uint64_t v = 0;
    sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl %s", name);
    return v;
}

/* --- environment ---------------------------------------------------------- */

static inline long tl_env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return dflt;
    char *end;
    long v = strtol(s, &end, 0);
    return *end == '\0' ? v : dflt;
}

/* TEST_THREADS (default 4), at least 2 so cross-thread paths always run. */
static inline int tl_threads(void)
{
    long n = tl_env_long("TEST_THREADS", 4);
    if (n < 2)
        n = 2;
    if (n > 256)
        n = 256;
    return (int)n;
}

static inline int tl_long(void)
{
    return tl_env_long("TEST_LONG", 0) != 0;
}

/* Run time of a stress test: TEST_SECONDS, else short or long default. */
static inline double tl_seconds(double short_run, double long_run)
{
    long s = tl_env_long("TEST_SECONDS", 0);
    if (s > 0)
        return (double)s;
    return tl_long() ? long_run : short_run;
}

static inline double tl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident set size in bytes, from /proc/self/statm. */
static inline size_t tl_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    CHECK_NONNULL(f);
    CHECK(fscanf(f, "%lu %lu", &size, &res) == 2);
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* tl_rss without allocating: open/read into a stack buffer (fopen would
 * allocate, and an allocation ticks decay: the measurement must not drive
 * what it measures). */
static inline size_t tl_rss_noalloc(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    CHECK(fd >= 0);
    ssize_t k = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    CHECK(k > 0);
    buf[k] = 0;
    unsigned long size = 0, res = 0;
    CHECK(sscanf(buf, "%lu %lu", &size, &res) == 2);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* Live sampled bytes as requested, summed over every small and large
 * class: the req_sum of prof.stats.bins.<j>.live and
 * prof.stats.lextents.<j>.live (each {req_sum, count}, as jemalloc's). */
static inline uint64_t tl_live_sampled_bytes(void)
{
    uint64_t sum = 0;
    const char *names[2] = {"prof.stats.bins.0.live", "prof.stats.lextents.0.live"};
    for (int k = 0; k < 2; k++) {
        size_t mib[8], miblen = 8;
        CHECK_I(mallctlnametomib(names[k], mib, &miblen), ==, 0);
        for (size_t j = 0;; j++) {
            mib[3] = j;
            struct {
                uint64_t req_sum, count;
            } v;
            size_t sz = sizeof(v);
            int err = mallctlbymib(mib, miblen, &v, &sz, NULL, 0);
            if (err == ENOENT)
                break;
            CHECK_I(err, ==, 0);
            sum += v.req_sum;
        }
    }
    return sum;
}

/* Mapped address space in bytes (VmSize), from /proc/self/statm. */
static inline size_t tl_vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0;
    CHECK_NONNULL(f);
    CHECK(fscanf(f, "%lu", &size) == 1);
    fclose(f);
    CHECK_MSG(size > 0, "no size in /proc/self/statm");
    return (size_t)size * (size_t)sysconf(_SC_PAGESIZE);
}

/* n blocks of size bytes (mallocx flags; 0: malloc), written through
 * when touch, then all freed: free runs the allocator keeps mapped (the
 * address-space limit tests draw on them). */
static inline void tl_make_free_runs(int n, size_t size, int flags, bool touch)
{
    void *b[n];
    for (int i = 0; i < n; i++) {
        b[i] = flags ? mallocx(size, flags) : malloc(size);
        CHECK_NONNULL(b[i]);
        if (touch)
            memset(b[i], i + 1, size);
    }
    for (int i = 0; i < n; i++) {
        if (flags)
            dallocx(b[i], flags);
        else
            free(b[i]);
    }
}

/* n blocks of size bytes in v, block i filled with byte (with i when byte
 * is negative); a NULL fails the test, saying what the test expected to
 * serve it (why). */
static inline void tl_alloc_filled(void **v, int n, size_t size, int byte, const char *why)
{
    for (int i = 0; i < n; i++) {
        errno = 0;
        v[i] = malloc(size);
        CHECK_MSG(v[i] != NULL, "malloc(%zu) #%d: NULL (errno %d) with %s", size, i, errno, why);
        memset(v[i], byte < 0 ? (unsigned char)i : byte, size);
    }
}

/* Check the blocks tl_alloc_filled made: the first byte of each 4 KiB and
 * the last byte of every block. */
static inline void tl_check_filled(void **v, int n, size_t size, int byte)
{
    for (int i = 0; i < n; i++) {
        const unsigned char *b = v[i];
        unsigned char want = byte < 0 ? (unsigned char)i : (unsigned char)byte;
        for (size_t k = 0; k < size; k += 4096)
            CHECK_MSG(b[k] == want, "block %d (%zu B) byte %zu: 0x%02x", i, size, k, b[k]);
        CHECK_MSG(b[size - 1] == want, "block %d (%zu B) last byte: 0x%02x", i, size, b[size - 1]);
    }
}

/* tl_check_filled, then free the blocks. */
static inline void tl_check_free_filled(void **v, int n, size_t size, int byte)
{
    tl_check_filled(v, n, size, byte);
    for (int i = 0; i < n; i++)
        free(v[i]);
}

/* Six 1.5 MiB blocks in b (mallocx flags f, an arena of the test's own),
 * block i filled with 0x40 + i, then b[1] freed: a free huge run with live
 * neighbours on both sides, for the huge-move tests. */
static inline void tl_huge_row(unsigned char *b[6], int f)
{
    for (int i = 0; i < 6; i++) {
        b[i] = mallocx(3 * (1u << 20) / 2, f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x40 + i, 3 * (1u << 20) / 2);
    }
    dallocx(b[1], f);
}

/* Limit the address space (RLIMIT_AS, soft and hard) to bytes. */
static inline void tl_limit_as(size_t bytes)
{
    struct rlimit rl = {bytes, bytes};
    CHECK_I(setrlimit(RLIMIT_AS, &rl), ==, 0);
}

/* --- PRNG ----------------------------------------------------------------- */

/* splitmix64: a deterministic generator; one state word per thread. */
static inline uint64_t tl_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t tl_rand(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ULL;
    return tl_mix64(*state);
}

/* Uniform in [0, n). */
static inline uint64_t tl_rand_below(uint64_t *state, uint64_t n)
{
    return n ? tl_rand(state) % n : 0;
}

/* Seed from TEST_SEED, else from the clock and pid; always printed so a
 * failing run can be replayed with TEST_SEED=<seed>. */
static inline uint64_t tl_seed(const char *test)
{
    const char *s = getenv("TEST_SEED");
    uint64_t seed;
    if (s != NULL && *s != '\0') {
        seed = strtoull(s, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = tl_mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid());
    }
    printf("%s: seed %" PRIu64 " (replay with TEST_SEED=%" PRIu64 ")\n", test, seed, seed);
    fflush(stdout);
    return seed;
}

/* Size in [1, 4 MiB] skewed toward small: ~80% <= 256 B, ~15% <= 32 KiB,
 * ~4% <= 512 KiB, ~1% up to 4 MiB. */
static inline size_t tl_rand_size(uint64_t *state)
{
    uint64_t r = tl_rand_below(state, 1000);
    size_t max;
    if (r < 800)
        max = 256;
    else if (r < 950)
        max = 32 << 10;
    else if (r < 990)
        max = 512 << 10;
    else
        max = 4 << 20;
    return 1 + (size_t)tl_rand_below(state, max);
}

/* --- fill patterns --------------------------------------------------------- */

/* Byte i of the pattern for (mixed) key k: byte i%8 of the little-endian
 * word k ^ (i/8*8 * golden), so a pattern's prefix is the pattern of the
 * shorter length (realloc tests rely on this). */
static inline unsigned char tl_pattern_byte(uint64_t k, size_t i)
{
    uint64_t w = k ^ ((i & ~(size_t)7) * 0x9e3779b97f4a7c15ULL);
    return (unsigned char)(w >> ((i & 7) * 8));
}

/* Fill bytes [from, to) of p with the pattern for key (positions relative
 * to p, so filling [0, a) then [a, b) equals filling [0, b)). */
static inline void tl_fill_range(void *p, size_t from, size_t to, uint64_t key)
{
    unsigned char *b = (unsigned char *)p;
    uint64_t k = tl_mix64(key);
    size_t i = from;
    for (; i < to && (i & 7) != 0; i++)
        b[i] = tl_pattern_byte(k, i);
    for (; i + 8 <= to; i += 8) {
        uint64_t w = k ^ (i * 0x9e3779b97f4a7c15ULL);
        memcpy(b + i, &w, 8);
    }
    for (; i < to; i++)
        b[i] = tl_pattern_byte(k, i);
}

static inline void tl_fill(void *p, size_t n, uint64_t key)
{
    tl_fill_range(p, 0, n, key);
}

/* Offset of the first byte in [from, to) that differs from the pattern,
 * or (size_t)-1 if all match. */
static inline size_t tl_verify_range(const void *p, size_t from, size_t to, uint64_t key)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t k = tl_mix64(key);
    size_t i = from;
    for (; i < to && (i & 7) != 0; i++)
        if (b[i] != tl_pattern_byte(k, i))
            return i;
    for (; i + 8 <= to; i += 8) {
        uint64_t w = k ^ (i * 0x9e3779b97f4a7c15ULL), got;
        memcpy(&got, b + i, 8);
        if (got != w)
            break;
    }
    for (; i < to; i++)
        if (b[i] != tl_pattern_byte(k, i))
            return i;
    return (size_t)-1;
}

static inline size_t tl_verify(const void *p, size_t n, uint64_t key)
{
    return tl_verify_range(p, 0, n, key);
}

#define CHECK_PATTERN(p, n, key) CHECK_PATTERN_RANGE(p, 0, n, key)

#define CHECK_PATTERN_RANGE(p, from, n, key)                                                       \
    do {                                                                                           \
        size_t tl_off_ = tl_verify_range((p), (from), (n), (key));                                 \
        if (tl_off_ != (size_t)-1)                                                                 \
            tl_fail(__FILE__, __LINE__,                                                            \
                    "pattern of %s (%p, %zu bytes, key 0x%" PRIx64 ") differs at offset %zu", #p,  \
                    (const void *)(p), (size_t)(n), (uint64_t)(key), tl_off_);                     \
    } while (0)

/* Offset of the first non-zero byte, or (size_t)-1. */
static inline size_t tl_first_nonzero(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        if (w != 0)
            break;
    }
    for (; i < n; i++)
        if (b[i] != 0)
            return i;
    return (size_t)-1;
}

#define CHECK_ZERO(p, n)                                                                           \
    do {                                                                                           \
        size_t tl_off_ = tl_first_nonzero((p), (n));                                               \
        if (tl_off_ != (size_t)-1)                                                                 \
            tl_fail(__FILE__, __LINE__, "%s (%p, %zu bytes) not zero at offset %zu (0x%02x)", #p,  \
                    (const void *)(p), (size_t)(n), tl_off_,                                       \
                    ((const unsigned char *)(p))[tl_off_]);                                        \
    } while (0)

#endif /* TESTS_CHECK_H */
