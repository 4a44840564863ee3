/*
 * ctl_tree: every mallctl name in the README's list answers with jemalloc's
 * type and direction, and every error code comes back where jemalloc gives
 * it. Complements api_mallctl (which checks values); here:
 *   - types: each read-only leaf returns 0 for a buffer of exactly
 *     sizeof(T), and EINVAL for any other length, after copying
 *     min(len, sizeof T) bytes and setting *oldlenp to that (the length
 *     pins down bool/unsigned/size_t/ssize_t/uint64_t/pointer);
 *   - direction: writing a read-only leaf is EPERM and leaves it unchanged;
 *     a void leaf (arena.<i>.purge, thread.tcache.flush) given oldp or newp
 *     is EPERM; write-only leaves (tcache.flush) given oldp are EPERM;
 *   - ENOENT: unknown names, partial names ("stats", "stats.arenas.0"),
 *     names past a leaf, empty components, indexes out of range
 *     ("arena.99999.purge", "stats.arenas.9999.pactive", bins and lextents
 *     past the end);
 *   - EINVAL: short and long old buffers, wrong newlen on rw leaves;
 *   - EFAULT: arena.<MALLCTL_ARENAS_ALL>.dirty_decay_ms, thread.arena to an
 *     arena that does not exist, decay times below -1,
 *     thread.tcache.flush with the tcache off;
 *   - mallctlnametomib: capacity in, depth out, prefixes allowed
 *     ("stats.arenas" -> 2), a capacity below the depth gives that partial
 *     MIB (as jemalloc documents and does); mallctlbymib
 *     with a partial MIB is ENOENT, and a MIB reused over arena indexes
 *     (mib[2] = i, MALLCTL_ARENAS_ALL) reads what the names read;
 *   - epoch: a read does not advance it, each write adds one, and
 *     stats.* and stats.arenas.<i>.* hold still between two writes.
 * The expectations were checked against Debian's libjemalloc 5.3.0.
 */
#include "check.h"

#include <pthread.h>
#include <sys/types.h>

#define MIB_MAX 8

enum ty { T_BOOL, T_UNSIGNED, T_U32, T_SIZE, T_SSIZE, T_U64, T_PTR, T_STR };

static size_t ty_size(enum ty t)
{
    switch (t) {
    case T_BOOL:
        return sizeof(bool);
    case T_UNSIGNED:
        return sizeof(unsigned);
    case T_U32:
        return sizeof(uint32_t);
    case T_SIZE:
        return sizeof(size_t);
    case T_SSIZE:
        return sizeof(ssize_t);
    case T_U64:
        return sizeof(uint64_t);
    case T_PTR:
        return sizeof(void *);
    case T_STR:
        return sizeof(const char *);
    }
    return 0;
}

struct leaf {
    const char *name;
    enum ty type;
};

/* Read-only leaves of the README list, one instance per indexed family. */
static const struct leaf ro_leaves[] = {
    {"version", T_STR},
    {"config.debug", T_BOOL},
    {"config.fill", T_BOOL},
    {"config.lazy_lock", T_BOOL},
    {"config.malloc_conf", T_STR},
    {"config.prof", T_BOOL},
    {"config.prof_libgcc", T_BOOL},
    {"config.prof_libunwind", T_BOOL},
    {"config.stats", T_BOOL},
    {"config.utrace", T_BOOL},
    {"config.xmalloc", T_BOOL},
    {"opt.abort", T_BOOL},
    {"opt.abort_conf", T_BOOL},
    {"opt.confirm_conf", T_BOOL},
    {"opt.narenas", T_UNSIGNED},
    {"opt.tcache", T_BOOL},
    {"opt.tcache_max", T_SIZE},
    {"opt.dirty_decay_ms", T_SSIZE},
    {"opt.muzzy_decay_ms", T_SSIZE},
    {"opt.thp", T_STR},
    {"opt.retain", T_BOOL},
    {"opt.background_thread", T_BOOL},
    {"opt.max_background_threads", T_SIZE},
    {"opt.percpu_arena", T_STR},
    {"opt.junk", T_STR},
    {"opt.zero", T_BOOL},
    {"opt.zero_realloc", T_STR},
    {"opt.stats_print", T_BOOL},
    {"opt.stats_print_opts", T_STR},
    {"opt.prof", T_BOOL},
    {"opt.prof_active", T_BOOL},
    {"opt.prof_prefix", T_STR},
    {"opt.lg_prof_sample", T_SIZE},
    {"opt.prof_accum", T_BOOL},
    {"opt.lg_prof_interval", T_SSIZE},
    {"opt.prof_gdump", T_BOOL},
    {"opt.prof_final", T_BOOL},
    {"opt.prof_leak", T_BOOL},
    {"opt.prof_leak_error", T_BOOL},
    {"opt.prof_thread_active_init", T_BOOL},
    {"opt.prof_sys_thread_name", T_BOOL},
    {"opt.prof_recent_alloc_max", T_SSIZE},
    {"opt.prof_stats", T_BOOL},
    {"opt.prof_time_resolution", T_STR},
    {"thread.allocated", T_U64},
    {"thread.deallocated", T_U64},
    {"thread.allocatedp", T_PTR},
    {"thread.deallocatedp", T_PTR},
    {"thread.tcache.large_bytes", T_SIZE}, /* ours (tcache.h) */
    {"arenas.narenas", T_UNSIGNED},
    {"arenas.quantum", T_SIZE},
    {"arenas.page", T_SIZE},
    {"arenas.tcache_max", T_SIZE},
    {"arenas.nbins", T_UNSIGNED},
    {"arenas.bin.0.size", T_SIZE},
    {"arenas.bin.0.nregs", T_U32},
    {"arenas.bin.0.slab_size", T_SIZE},
    {"arenas.nlextents", T_UNSIGNED},
    {"arenas.lextent.0.size", T_SIZE},
    {"stats.allocated", T_SIZE},
    {"stats.active", T_SIZE},
    {"stats.metadata", T_SIZE},
    {"stats.resident", T_SIZE},
    {"stats.mapped", T_SIZE},
    {"stats.retained", T_SIZE},
    {"stats.zero_reallocs", T_SIZE},
    {"stats.background_thread.num_threads", T_SIZE},
    {"stats.background_thread.num_runs", T_U64},
    {"stats.background_thread.run_interval", T_U64},
    {"stats.arenas.0.nthreads", T_UNSIGNED},
    {"stats.arenas.0.pactive", T_SIZE},
    {"stats.arenas.0.pdirty", T_SIZE},
    {"stats.arenas.0.pmuzzy", T_SIZE},
    {"stats.arenas.0.mapped", T_SIZE},
    {"stats.arenas.0.retained", T_SIZE},
    {"stats.arenas.0.small.allocated", T_SIZE},
    {"stats.arenas.0.small.nmalloc", T_U64},
    {"stats.arenas.0.small.ndalloc", T_U64},
    {"stats.arenas.0.large.allocated", T_SIZE},
    {"stats.arenas.0.large.nmalloc", T_U64},
    {"stats.arenas.0.large.ndalloc", T_U64},
    {"stats.arenas.0.bins.0.nmalloc", T_U64},
    {"stats.arenas.0.bins.0.ndalloc", T_U64},
    {"stats.arenas.0.bins.0.curregs", T_SIZE},
    {"stats.arenas.0.bins.0.curslabs", T_SIZE},
    {"stats.arenas.4096.pactive", T_SIZE},
    {"stats.arenas.4096.small.nmalloc", T_U64},
    {"stats.arenas.4096.bins.0.curregs", T_SIZE},
    /* jemalloc 5.3 names added for compatibility (ctl_compat_names checks their values) */
    {"opt.oversize_threshold", T_SIZE},
    {"opt.dss", T_STR},
    {"opt.metadata_thp", T_STR},
    {"opt.cache_oblivious", T_BOOL},
    {"opt.trust_madvise", T_BOOL},
    {"opt.stats_interval", T_U64}, /* int64_t: the same size */
    {"opt.stats_interval_opts", T_STR},
    {"thread.peak.read", T_U64},
    {"arena.0.initialized", T_BOOL},
    {"arena.4096.initialized", T_BOOL},
    {"stats.arenas.0.uptime", T_U64},
    {"stats.arenas.0.small.nrequests", T_U64},
    {"stats.arenas.0.small.nfills", T_U64},
    {"stats.arenas.0.small.nflushes", T_U64},
    {"stats.arenas.0.large.nflushes", T_U64},
    {"stats.arenas.0.bins.0.nrequests", T_U64},
    {"stats.arenas.0.bins.0.nfills", T_U64},
    {"stats.arenas.0.bins.0.nflushes", T_U64},
    {"stats.arenas.0.bins.0.nslabs", T_U64},
    {"stats.arenas.0.bins.0.nonfull_slabs", T_SIZE},
    {"stats.arenas.0.lextents.0.nmalloc", T_U64},
    {"stats.arenas.0.lextents.0.ndalloc", T_U64},
    {"stats.arenas.0.lextents.0.curlextents", T_SIZE},
    {"stats.arenas.4096.lextents.187.curlextents", T_SIZE},
};

/* Read-write leaves: read type; a write of the value read back is a no-op. */
static const struct leaf rw_leaves[] = {
    {"epoch", T_U64},
    {"thread.arena", T_UNSIGNED},
    {"thread.tcache.enabled", T_BOOL},
    {"arena.0.dirty_decay_ms", T_SSIZE},
    {"arena.0.muzzy_decay_ms", T_SSIZE},
    {"arenas.dirty_decay_ms", T_SSIZE},
    {"arenas.muzzy_decay_ms", T_SSIZE},
    {"max_background_threads", T_SIZE},
};

/* Leaves that take no data at all. */
static const char *const void_leaves[] = {
    "thread.tcache.flush", "arena.0.purge", "arena.0.decay", "arena.4096.purge", "arena.4096.decay",
    "thread.idle", "thread.peak.reset",
};

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

/* Read name with a buffer of len bytes (pre-filled with 0xa5); returns the error. */
static int read_len(const char *name, unsigned char *buf, size_t len, size_t *outlen)
{
    memset(buf, 0xa5, 32);
    *outlen = len;
    return mallctl(name, buf, outlen, NULL, 0);
}

/* The leaf's type is exactly sizeof(T): every other length is EINVAL with a partial copy. */
static void check_type(const char *name, enum ty t)
{
    size_t want = ty_size(t), got;
    unsigned char ref[32], buf[32];
    int r = read_len(name, ref, want, &got);
    CHECK_MSG(r == 0, "mallctl(\"%s\") with a %zu-byte buffer = %d, want 0", name, want, r);
    CHECK_MSG(got == want, "mallctl(\"%s\") set *oldlenp to %zu, want %zu", name, got, want);
    static const size_t lens[] = {1, 2, 4, 8, 16};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i];
        if (len == want)
            continue;
        r = read_len(name, buf, len, &got);
        size_t copied = len < want ? len : want;
        CHECK_MSG(r == EINVAL, "mallctl(\"%s\") with a %zu-byte buffer = %d, want EINVAL (%d)",
                  name, len, r, EINVAL);
        CHECK_MSG(got == copied,
                  "mallctl(\"%s\") with a %zu-byte buffer set *oldlenp=%zu, want %zu", name, len,
                  got, copied);
        /* Bytes past the copy are untouched. */
        for (size_t k = copied; k < sizeof(buf); k++)
            CHECK_MSG(buf[k] == 0xa5, "mallctl(\"%s\") wrote byte %zu of a %zu-byte buffer", name,
                      k, len);
    }
    /* Values that cannot move between two reads: the copied prefix is the value. */
    if (strncmp(name, "thread.", 7) != 0 && strncmp(name, "stats.", 6) != 0) {
        r = read_len(name, buf, 4 < want ? 4 : 1, &got);
        CHECK_MSG(memcmp(buf, ref, got) == 0, "mallctl(\"%s\") partial copy differs from the value",
                  name);
    }
}

/* Writing a read-only leaf: EPERM, value unchanged. */
static void check_read_only(const char *name, enum ty t)
{
    size_t n = ty_size(t), len = n;
    unsigned char before[32], after[32], nv[32];
    CHECK_I(mallctl(name, before, &len, NULL, 0), ==, 0);
    memset(nv, 0x11, sizeof(nv));
    int r = mallctl(name, NULL, NULL, nv, n);
    CHECK_MSG(r == EPERM, "writing read-only \"%s\" = %d, want EPERM (%d)", name, r, EPERM);
    len = n;
    r = mallctl(name, after, &len, nv, n);
    CHECK_MSG(r == EPERM, "read+write of read-only \"%s\" = %d, want EPERM", name, r);
    /* newlen alone (newp NULL) also counts as a write attempt. */
    len = n;
    r = mallctl(name, after, &len, NULL, n);
    CHECK_MSG(r == EPERM, "read of \"%s\" with newlen %zu and no newp = %d, want EPERM", name, n,
              r);
    if (strncmp(name, "stats.", 6) != 0 && strncmp(name, "thread.", 7) != 0) {
        len = n;
        CHECK_I(mallctl(name, after, &len, NULL, 0), ==, 0);
        CHECK_MSG(memcmp(before, after, n) == 0, "\"%s\" changed after a refused write", name);
    }
}

static void test_types_and_directions(void)
{
    epoch();
    for (size_t i = 0; i < sizeof(ro_leaves) / sizeof(ro_leaves[0]); i++) {
        check_type(ro_leaves[i].name, ro_leaves[i].type);
        check_read_only(ro_leaves[i].name, ro_leaves[i].type);
    }
    for (size_t i = 0; i < sizeof(rw_leaves) / sizeof(rw_leaves[0]); i++) {
        const char *name = rw_leaves[i].name;
        size_t n = ty_size(rw_leaves[i].type), len = n;
        unsigned char v[32];
        check_type(name, rw_leaves[i].type);
        CHECK_I(mallctl(name, v, &len, NULL, 0), ==, 0);
        /* Write back what was read, with the right and a wrong newlen. */
        int r = mallctl(name, NULL, NULL, v, n);
        CHECK_MSG(r == 0, "writing \"%s\" back = %d", name, r);
        r = mallctl(name, NULL, NULL, v, n == 1 ? 2 : n / 2);
        CHECK_MSG(r == EINVAL, "writing \"%s\" with newlen %zu = %d, want EINVAL", name,
                  n == 1 ? (size_t)2 : n / 2, r);
        r = mallctl(name, NULL, NULL, v, n + 1);
        CHECK_MSG(r == EINVAL, "writing \"%s\" with newlen %zu = %d, want EINVAL", name, n + 1, r);
    }
    for (size_t i = 0; i < sizeof(void_leaves) / sizeof(void_leaves[0]); i++) {
        const char *name = void_leaves[i];
        unsigned v = 0;
        size_t len = sizeof(v);
        CHECK_MSG(mallctl(name, NULL, NULL, NULL, 0) == 0, "\"%s\" with no data failed", name);
        int r = mallctl(name, &v, &len, NULL, 0);
        CHECK_MSG(r == EPERM, "\"%s\" given oldp = %d, want EPERM", name, r);
        r = mallctl(name, NULL, NULL, &v, sizeof(v));
        CHECK_MSG(r == EPERM, "\"%s\" given newp = %d, want EPERM", name, r);
    }

    /* tcache.create is read-only; tcache.flush/destroy are write-only. */
    unsigned tc = 0;
    size_t len = sizeof(tc);
    CHECK_I(mallctl("tcache.create", &tc, &len, &tc, sizeof(tc)), ==, EPERM);
    CHECK_I(mallctl("tcache.create", &tc, &len, NULL, 0), ==, 0);
    CHECK_EQ(len, sizeof(unsigned));
    unsigned out = 0;
    len = sizeof(out);
    CHECK_I(mallctl("tcache.flush", &out, &len, &tc, sizeof(tc)), ==, EPERM);
    CHECK_I(mallctl("tcache.flush", NULL, NULL, &tc, sizeof(uint64_t)), ==, EINVAL);
    CHECK_I(mallctl("tcache.flush", NULL, NULL, &tc, sizeof(tc)), ==, 0);
    CHECK_I(mallctl("tcache.destroy", &out, &len, &tc, sizeof(tc)), ==, EPERM);
    CHECK_I(mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc)), ==, 0);
}

static void test_values_of_fixed_leaves(void)
{
    const char *v = NULL;
    size_t len = sizeof(v);
    CHECK_I(mallctl("version", &v, &len, NULL, 0), ==, 0);
    CHECK_MSG(v != NULL && strcmp(v, JEMALLOC_VERSION) == 0, "version = \"%s\"", v ? v : "(null)");
    bool b = false;
    len = sizeof(b);
    CHECK_I(mallctl("config.stats", &b, &len, NULL, 0), ==, 0);
    CHECK(b);
    b = false;
    CHECK_I(mallctl("config.prof", &b, &len, NULL, 0), ==, 0);
    CHECK(b);
    b = true;
    CHECK_I(mallctl("config.utrace", &b, &len, NULL, 0), ==, 0);
    CHECK(!b);
    size_t q = 0;
    len = sizeof(q);
    CHECK_I(mallctl("arenas.quantum", &q, &len, NULL, 0), ==, 0);
    CHECK_EQ(q, 16);
    /* The first bin is 8 bytes; its regions are 16 bytes apart (a second
     * word for the free mark, liballoc/misuse.h), so one per 16 bytes. */
    CHECK_I(mallctl("arenas.bin.0.size", &q, &len, NULL, 0), ==, 0);
    CHECK_EQ(q, 8);
    uint32_t nregs = 0;
    len = sizeof(nregs);
    CHECK_I(mallctl("arenas.bin.0.nregs", &nregs, &len, NULL, 0), ==, 0);
    size_t slab = 0;
    len = sizeof(slab);
    CHECK_I(mallctl("arenas.bin.0.slab_size", &slab, &len, NULL, 0), ==, 0);
    CHECK_EQ((size_t)nregs * 16, slab);
    /* Large classes start where small ones end. */
    unsigned nbins = 0;
    len = sizeof(nbins);
    CHECK_I(mallctl("arenas.nbins", &nbins, &len, NULL, 0), ==, 0);
    char name[64];
    size_t last_small = 0, first_large = 0;
    snprintf(name, sizeof(name), "arenas.bin.%u.size", nbins - 1);
    len = sizeof(last_small);
    CHECK_I(mallctl(name, &last_small, &len, NULL, 0), ==, 0);
    len = sizeof(first_large);
    CHECK_I(mallctl("arenas.lextent.0.size", &first_large, &len, NULL, 0), ==, 0);
    CHECK_U(first_large, >, last_small);
    CHECK_EQ(nallocx(last_small + 1, 0), first_large);
}

static void check_err(const char *name, int want)
{
    size_t v[4] = {0}, len = sizeof(size_t);
    int r = mallctl(name, v, &len, NULL, 0);
    CHECK_MSG(r == want, "mallctl(\"%s\") = %d, want %d", name, r, want);
}

static void test_enoent(void)
{
    unsigned nbins = 0, nl = 0, narenas = 0;
    size_t len = sizeof(unsigned);
    CHECK_I(mallctl("arenas.nbins", &nbins, &len, NULL, 0), ==, 0);
    CHECK_I(mallctl("arenas.nlextents", &nl, &len, NULL, 0), ==, 0);
    CHECK_I(mallctl("arenas.narenas", &narenas, &len, NULL, 0), ==, 0);
    const char *names[] = {
        "",
        "foo",
        "stats",
        "stats.",
        "stats.arenas",
        "stats.arenas.0",
        "stats.arenas.0.bins.0",
        "stats.arenas.0.small",
        "stats..allocated",
        "stats.allocated.",
        "stats.allocated.x",
        "version.x",
        ".version",
        "Version",
        "opt.no_such_option",
        "arena",
        "arena.0",
        "arena.x.purge",
        "arena.99999.purge",
        "arena.4098.purge",
        "stats.arenas.9999.pactive",
        "stats.arenas.4097.pactive",
        "stats.arenas.x.pactive",
        "thread.tcache",
        "arenas.bin.0",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        check_err(names[i], ENOENT);
    /* One past the end is not checked: jemalloc 5.3 accepts index == nbins
     * (its index checks use '>'), so two past the end is the portable test. */
    char name[96];
    snprintf(name, sizeof(name), "arenas.bin.%u.size", nbins + 1);
    check_err(name, ENOENT);
    snprintf(name, sizeof(name), "arenas.lextent.%u.size", nl + 1);
    check_err(name, ENOENT);
    snprintf(name, sizeof(name), "stats.arenas.0.bins.%u.nmalloc", nbins + 1);
    check_err(name, ENOENT);
    snprintf(name, sizeof(name), "arena.%u.purge", narenas + 1);
    check_err(name, ENOENT);
    snprintf(name, sizeof(name), "stats.arenas.0.lextents.%u.curlextents", nl + 1);
    check_err(name, ENOENT);
    check_err("stats.arenas.0.lextents.0", ENOENT);
    check_err("thread.peak", ENOENT);
    /* The last valid indexes work. */
    snprintf(name, sizeof(name), "arenas.bin.%u.size", nbins - 1);
    check_err(name, 0);
    snprintf(name, sizeof(name), "stats.arenas.0.bins.%u.curregs", nbins - 1);
    check_err(name, 0);
    snprintf(name, sizeof(name), "stats.arenas.0.lextents.%u.nmalloc", nl - 1);
    check_err(name, 0);
}

static void test_einval_partial_copy(void)
{
    epoch();
    size_t full = 0, len = sizeof(full);
    CHECK_I(mallctl("arenas.page", &full, &len, NULL, 0), ==, 0);
    /* A 4-byte buffer for a size_t: EINVAL, 4 bytes copied, *oldlenp = 4. */
    union {
        uint32_t u32[2];
        size_t sz;
    } buf;
    buf.u32[0] = buf.u32[1] = 0xdeadbeef;
    len = 4;
    CHECK_I(mallctl("arenas.page", buf.u32, &len, NULL, 0), ==, EINVAL);
    CHECK_EQ(len, 4);
    CHECK_EQ(buf.u32[0], (uint32_t)full); /* little-endian low half */
    CHECK_EQ(buf.u32[1], 0xdeadbeef);
    /* Same with stats.allocated: the copy is the snapshot's low half. */
    size_t alloc = 0;
    len = sizeof(alloc);
    CHECK_I(mallctl("stats.allocated", &alloc, &len, NULL, 0), ==, 0);
    buf.u32[0] = buf.u32[1] = 0xdeadbeef;
    len = 4;
    CHECK_I(mallctl("stats.allocated", buf.u32, &len, NULL, 0), ==, EINVAL);
    CHECK_EQ(len, 4);
    CHECK_EQ(buf.u32[0], (uint32_t)alloc);
    CHECK_EQ(buf.u32[1], 0xdeadbeef);
    /* A long buffer: EINVAL, sizeof(T) copied, *oldlenp = sizeof(T). */
    unsigned char big[16];
    memset(big, 0x77, sizeof(big));
    len = sizeof(big);
    CHECK_I(mallctl("arenas.narenas", big, &len, NULL, 0), ==, EINVAL);
    CHECK_EQ(len, sizeof(unsigned));
    CHECK_EQ(big[sizeof(unsigned)], 0x77);
    /* An EINVAL read of a rw leaf does not perform the write. */
    ssize_t old = 0, nv = 1234;
    len = sizeof(old);
    CHECK_I(mallctl("arenas.dirty_decay_ms", &old, &len, NULL, 0), ==, 0);
    /* Wrong newlen: nothing written. */
    CHECK_I(mallctl("arenas.dirty_decay_ms", NULL, NULL, &nv, sizeof(int)), ==, EINVAL);
    ssize_t now = 0;
    len = sizeof(now);
    CHECK_I(mallctl("arenas.dirty_decay_ms", &now, &len, NULL, 0), ==, 0);
    CHECK_I(now, ==, old);
    uint64_t e = 0;
    CHECK_I(mallctl("epoch", NULL, NULL, &e, 4), ==, EINVAL);
    unsigned a = 0;
    CHECK_I(mallctl("thread.arena", NULL, NULL, &a, sizeof(size_t)), ==, EINVAL);
    bool t = true;
    CHECK_I(mallctl("thread.tcache.enabled", NULL, NULL, &t, sizeof(int)), ==, EINVAL);
}

static void test_efault(void)
{
    unsigned narenas = 0;
    size_t len = sizeof(narenas);
    CHECK_I(mallctl("arenas.narenas", &narenas, &len, NULL, 0), ==, 0);
    char name[64];
    ssize_t d = 0;
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", MALLCTL_ARENAS_ALL);
    len = sizeof(d);
    CHECK_I(mallctl(name, &d, &len, NULL, 0), ==, EFAULT);
    snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", MALLCTL_ARENAS_ALL);
    len = sizeof(d);
    CHECK_I(mallctl(name, &d, &len, NULL, 0), ==, EFAULT);
    /* Decay times below -1 are refused, and the old value stays. */
    ssize_t bad = -2, before = 0, after = 0;
    len = sizeof(before);
    CHECK_I(mallctl("arena.0.dirty_decay_ms", &before, &len, NULL, 0), ==, 0);
    CHECK_I(mallctl("arena.0.dirty_decay_ms", NULL, NULL, &bad, sizeof(bad)), ==, EFAULT);
    len = sizeof(after);
    CHECK_I(mallctl("arena.0.dirty_decay_ms", &after, &len, NULL, 0), ==, 0);
    CHECK_I(after, ==, before);
    CHECK_I(mallctl("arenas.muzzy_decay_ms", NULL, NULL, &bad, sizeof(bad)), ==, EFAULT);
    /* thread.arena to an arena that does not exist: EFAULT, binding unchanged. */
    unsigned cur = 0, idx = narenas + 100, got = 0;
    len = sizeof(cur);
    CHECK_I(mallctl("thread.arena", &cur, &len, NULL, 0), ==, 0);
    CHECK_I(mallctl("thread.arena", NULL, NULL, &idx, sizeof(idx)), ==, EFAULT);
    idx = MALLCTL_ARENAS_ALL;
    CHECK_I(mallctl("thread.arena", NULL, NULL, &idx, sizeof(idx)), ==, EFAULT);
    len = sizeof(got);
    CHECK_I(mallctl("thread.arena", &got, &len, NULL, 0), ==, 0);
    CHECK_EQ(got, cur);
    /* thread.tcache.flush needs a tcache. */
    bool off = false, on = true, was = false;
    len = sizeof(was);
    CHECK_I(mallctl("thread.tcache.enabled", &was, &len, &off, sizeof(off)), ==, 0);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, EFAULT);
    CHECK_I(mallctl("thread.tcache.enabled", NULL, NULL, &on, sizeof(on)), ==, 0);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
}

static void test_nametomib(void)
{
    size_t mib[MIB_MAX], len;

    len = MIB_MAX;
    CHECK_I(mallctlnametomib("stats.arenas", mib, &len), ==, 0);
    CHECK_EQ(len, 2);
    len = MIB_MAX;
    CHECK_I(mallctlnametomib("stats", mib, &len), ==, 0);
    CHECK_EQ(len, 1);
    len = MIB_MAX;
    CHECK_I(mallctlnametomib("version", mib, &len), ==, 0);
    CHECK_EQ(len, 1);
    len = MIB_MAX;
    CHECK_I(mallctlnametomib("stats.arenas.0.bins.3.nmalloc", mib, &len), ==, 0);
    CHECK_EQ(len, 6);
    CHECK_EQ(mib[2], 0);
    CHECK_EQ(mib[4], 3);
    len = MIB_MAX;
    CHECK_I(mallctlnametomib("stats.arenas.9999.pactive", mib, &len), ==, ENOENT);
    len = MIB_MAX;
    CHECK_I(mallctlnametomib("nope", mib, &len), ==, ENOENT);

    /* A prefix MIB extended by hand reads the full name's leaf. */
    size_t pmib[MIB_MAX], plen = MIB_MAX;
    CHECK_I(mallctlnametomib("arenas.bin", pmib, &plen), ==, 0);
    CHECK_EQ(plen, 2);
    size_t full[MIB_MAX], flen = MIB_MAX;
    CHECK_I(mallctlnametomib("arenas.bin.5.size", full, &flen), ==, 0);
    CHECK_EQ(flen, 4);
    CHECK_EQ(full[0], pmib[0]);
    CHECK_EQ(full[1], pmib[1]);
    size_t a = 0, b = 0, sz = sizeof(a);
    CHECK_I(mallctlbymib(full, flen, &a, &sz, NULL, 0), ==, 0);
    CHECK_I(mallctl("arenas.bin.5.size", &b, &sz, NULL, 0), ==, 0);
    CHECK_EQ(a, b);

    /* A partial MIB names no leaf: ENOENT. */
    sz = sizeof(a);
    CHECK_I(mallctlbymib(pmib, plen, &a, &sz, NULL, 0), ==, ENOENT);
    CHECK_I(mallctlbymib(full, 3, &a, &sz, NULL, 0), ==, ENOENT);
    /* Out-of-range components. */
    size_t bad[4] = {full[0], full[1], 100000, full[3]};
    CHECK_I(mallctlbymib(bad, 4, &a, &sz, NULL, 0), ==, ENOENT);
    size_t badchild[4] = {full[0], full[1], 5, 1000};
    CHECK_I(mallctlbymib(badchild, 4, &a, &sz, NULL, 0), ==, ENOENT);
    size_t badroot[1] = {100000};
    CHECK_I(mallctlbymib(badroot, 1, &a, &sz, NULL, 0), ==, ENOENT);
    /* Types and directions hold through the MIB too. */
    sz = 4;
    CHECK_I(mallctlbymib(full, flen, &a, &sz, NULL, 0), ==, EINVAL);
    CHECK_EQ(sz, 4);
    CHECK_I(mallctlbymib(full, flen, NULL, NULL, &a, sizeof(a)), ==, EPERM);
}

/* One MIB, reused with mib[2] = i, reads each arena and the merged view. */
static void test_mib_reuse_over_arenas(void)
{
    /* Put something in a second arena, so at least two are initialized. */
    unsigned ar = 0;
    size_t len = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &len, NULL, 0), ==, 0);
    void *big = mallocx(3 << 20, MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE);
    CHECK_NONNULL(big);
    memset(big, 1, 3 << 20);
    void *p = tl_opaque(malloc(200000));
    CHECK_NONNULL(p);
    epoch();

    unsigned narenas = 0;
    len = sizeof(narenas);
    CHECK_I(mallctl("arenas.narenas", &narenas, &len, NULL, 0), ==, 0);
    CHECK_U(narenas, >, ar);
    size_t mp[MIB_MAX], mplen = MIB_MAX, mn[MIB_MAX], mnlen = MIB_MAX;
    CHECK_I(mallctlnametomib("stats.arenas.0.pactive", mp, &mplen), ==, 0);
    CHECK_EQ(mplen, 4);
    CHECK_I(mallctlnametomib("stats.arenas.0.large.nmalloc", mn, &mnlen), ==, 0);
    CHECK_EQ(mnlen, 5);
    size_t sum_pactive = 0, seen = 0;
    uint64_t sum_nmalloc = 0;
    for (unsigned i = 0; i < narenas; i++) {
        size_t v = 0;
        uint64_t n = 0;
        mp[2] = i;
        mn[2] = i;
        len = sizeof(v);
        int r = mallctlbymib(mp, mplen, &v, &len, NULL, 0);
        if (r == ENOENT)
            continue; /* an automatic arena not in use yet (jemalloc creates them lazily) */
        CHECK_MSG(r == 0, "stats.arenas.%u.pactive by MIB = %d", i, r);
        len = sizeof(n);
        CHECK_I(mallctlbymib(mn, mnlen, &n, &len, NULL, 0), ==, 0);
        /* The same value by name. */
        char name[64];
        size_t byname = 0;
        snprintf(name, sizeof(name), "stats.arenas.%u.pactive", i);
        len = sizeof(byname);
        CHECK_I(mallctl(name, &byname, &len, NULL, 0), ==, 0);
        CHECK_MSG(byname == v, "stats.arenas.%u.pactive: %zu by MIB, %zu by name", i, v, byname);
        sum_pactive += v;
        sum_nmalloc += n;
        seen++;
        if (i == ar)
            CHECK_MSG(v >= (3u << 20) / 4096 / 2 && n >= 1,
                      "arena %u holds a 3 MiB block but pactive=%zu nmalloc=%" PRIu64, i, v, n);
    }
    CHECK_U(seen, >=, 2);
    /* MALLCTL_ARENAS_ALL (4096) through the same MIB is the sum. */
    size_t all = 0;
    uint64_t alln = 0;
    mp[2] = MALLCTL_ARENAS_ALL;
    mn[2] = MALLCTL_ARENAS_ALL;
    len = sizeof(all);
    CHECK_I(mallctlbymib(mp, mplen, &all, &len, NULL, 0), ==, 0);
    len = sizeof(alln);
    CHECK_I(mallctlbymib(mn, mnlen, &alln, &len, NULL, 0), ==, 0);
    CHECK_EQ(all, sum_pactive);
    CHECK_EQ(alln, sum_nmalloc);
    /* An index past the arenas through the MIB: ENOENT. */
    mp[2] = narenas + 7;
    len = sizeof(all);
    CHECK_I(mallctlbymib(mp, mplen, &all, &len, NULL, 0), ==, ENOENT);
    mp[2] = 9999;
    CHECK_I(mallctlbymib(mp, mplen, &all, &len, NULL, 0), ==, ENOENT);

    /* arena.<i>.purge by MIB over each index, then ALL. */
    size_t pm[MIB_MAX], pmlen = MIB_MAX;
    CHECK_I(mallctlnametomib("arena.0.purge", pm, &pmlen), ==, 0);
    CHECK_EQ(pmlen, 3);
    for (unsigned i = 0; i < narenas; i++) {
        pm[1] = i;
        CHECK_I(mallctlbymib(pm, pmlen, NULL, NULL, NULL, 0), ==, 0);
    }
    pm[1] = MALLCTL_ARENAS_ALL;
    CHECK_I(mallctlbymib(pm, pmlen, NULL, NULL, NULL, 0), ==, 0);
    pm[1] = 99999;
    CHECK_I(mallctlbymib(pm, pmlen, NULL, NULL, NULL, 0), ==, ENOENT);
    dallocx(big, MALLOCX_TCACHE_NONE);
    free(p);
}

/* arenas.create and tcache.create check the old buffer before creating. */
static void test_create_verifies_oldlen(void)
{
    size_t len;
    unsigned narenas = 0, ar = 0;
    len = sizeof(narenas);
    CHECK_I(mallctl("arenas.narenas", &narenas, &len, NULL, 0), ==, 0);
    /* A wrong-size buffer is refused before anything is created (jemalloc's
     * VERIFY_READ: EINVAL and *oldlenp = 0). */
    uint64_t wide = 0;
    len = sizeof(wide);
    CHECK_I(mallctl("arenas.create", &wide, &len, NULL, 0), ==, EINVAL);
    CHECK_EQ(len, 0);
    len = sizeof(wide);
    CHECK_I(mallctl("tcache.create", &wide, &len, NULL, 0), ==, EINVAL);
    CHECK_EQ(len, 0);
    unsigned now = 0;
    len = sizeof(now);
    CHECK_I(mallctl("arenas.narenas", &now, &len, NULL, 0), ==, 0);
    CHECK_EQ(now, narenas);
    /* Extent hooks are not supported: a non-NULL hooks pointer is refused
     * and creates nothing (jemalloc would use them); NULL is the default. */
    static char fake_hooks[64];
    void *hooks = fake_hooks;
    len = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &len, &hooks, sizeof(hooks)), ==, EINVAL);
    len = sizeof(now);
    CHECK_I(mallctl("arenas.narenas", &now, &len, NULL, 0), ==, 0);
    CHECK_EQ(now, narenas);
    len = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &len, NULL, 0), ==, 0);
    CHECK_EQ(len, sizeof(unsigned));
    CHECK_EQ(ar, narenas);
    hooks = NULL;
    len = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &len, &hooks, sizeof(hooks)), ==, 0);
    CHECK_EQ(ar, narenas + 1);
}

/* mallctlnametomib with a capacity below the name's depth. */
static void test_partial_mib(void)
{
    size_t len;
    /* Capacity is the depth that may be filled. A capacity below the name's
     * depth gives the partial MIB of that many components (jemalloc's manual:
     * "results in a partial MIB that can be used as the basis for
     * constructing a complete MIB"), with integer components as written. */
    size_t full6[MIB_MAX];
    len = 6;
    CHECK_I(mallctlnametomib("stats.arenas.0.bins.3.nmalloc", full6, &len), ==, 0);
    CHECK_EQ(len, 6);
    size_t part[MIB_MAX];
    for (size_t cap = 1; cap < 6; cap++) {
        memset(part, 0xff, sizeof(part));
        len = cap;
        int r = mallctlnametomib("stats.arenas.0.bins.3.nmalloc", part, &len);
        CHECK_MSG(r == 0,
                  "mallctlnametomib(\"stats.arenas.0.bins.3.nmalloc\", capacity %zu) = %d,"
                  " want 0 and a partial MIB",
                  cap, r);
        CHECK_EQ(len, cap);
        for (size_t k = 0; k < cap; k++)
            CHECK_EQ(part[k], full6[k]);
        CHECK_EQ(part[cap], (size_t)-1);
    }
    /* The partial MIB completed by hand reads the leaf. */
    len = 2;
    CHECK_I(mallctlnametomib("stats.arenas.0.pactive", part, &len), ==, 0);
    CHECK_EQ(len, 2);
    size_t pa_mib[MIB_MAX], pa_len = MIB_MAX, pa1 = 0, pa2 = 0, pa_sz = sizeof(pa1);
    CHECK_I(mallctlnametomib("stats.arenas.0.pactive", pa_mib, &pa_len), ==, 0);
    CHECK_EQ(pa_len, 4);
    part[2] = 0;
    part[3] = pa_mib[3];
    CHECK_I(mallctlbymib(part, 4, &pa1, &pa_sz, NULL, 0), ==, 0);
    CHECK_I(mallctl("stats.arenas.0.pactive", &pa2, &pa_sz, NULL, 0), ==, 0);
    CHECK_EQ(pa1, pa2);
}

/* Statistics are a snapshot taken when "epoch" is written: reads between
 * two writes agree with each other, whatever happens in between. */
static void test_epoch_snapshot(void)
{
    uint64_t e1 = 1, e2 = 0, e3 = 1;
    size_t len = sizeof(e1);
    CHECK_I(mallctl("epoch", &e1, &len, &e1, sizeof(e1)), ==, 0);
    CHECK_I(mallctl("epoch", &e2, &len, NULL, 0), ==, 0);
    CHECK_EQ(e2, e1); /* a read does not advance it */
    CHECK_I(mallctl("epoch", &e3, &len, &e3, sizeof(e3)), ==, 0);
    CHECK_EQ(e3, e1 + 1);

    unsigned ar = 0;
    len = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &len, NULL, 0), ==, 0);
    char nm_name[64], pa_name[64];
    snprintf(nm_name, sizeof(nm_name), "stats.arenas.%u.large.nmalloc", ar);
    snprintf(pa_name, sizeof(pa_name), "stats.arenas.%u.pactive", ar);
    epoch();
    size_t a0 = 0, a1 = 0, a2 = 0, p0 = 0, p1 = 0, p2 = 0;
    uint64_t n0 = 0, n1 = 0, n2 = 0;
    len = sizeof(size_t);
    CHECK_I(mallctl("stats.allocated", &a0, &len, NULL, 0), ==, 0);
    CHECK_I(mallctl(pa_name, &p0, &len, NULL, 0), ==, 0);
    len = sizeof(uint64_t);
    CHECK_I(mallctl(nm_name, &n0, &len, NULL, 0), ==, 0);
    void *big = mallocx(8 << 20, MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE);
    CHECK_NONNULL(big);
    memset(big, 2, 8 << 20);
    len = sizeof(size_t);
    CHECK_I(mallctl("stats.allocated", &a1, &len, NULL, 0), ==, 0);
    CHECK_I(mallctl(pa_name, &p1, &len, NULL, 0), ==, 0);
    len = sizeof(uint64_t);
    CHECK_I(mallctl(nm_name, &n1, &len, NULL, 0), ==, 0);
    CHECK_MSG(a1 == a0, "stats.allocated moved without an epoch write: %zu -> %zu", a0, a1);
    CHECK_MSG(p1 == p0 && n1 == n0,
              "stats.arenas.%u moved without an epoch write: pactive %zu -> %zu, large.nmalloc "
              "%" PRIu64 " -> %" PRIu64,
              ar, p0, p1, n0, n1);
    epoch();
    len = sizeof(size_t);
    CHECK_I(mallctl("stats.allocated", &a2, &len, NULL, 0), ==, 0);
    CHECK_I(mallctl(pa_name, &p2, &len, NULL, 0), ==, 0);
    len = sizeof(uint64_t);
    CHECK_I(mallctl(nm_name, &n2, &len, NULL, 0), ==, 0);
    CHECK_U(a2, >=, a0 + (8 << 20));
    CHECK_U(p2, >=, p0 + (8 << 20) / 4096);
    CHECK_EQ(n2, n0 + 1);
    dallocx(big, MALLOCX_TCACHE_NONE);
}

int main(void)
{
    tl_require_liballoc();
    test_types_and_directions();
    test_values_of_fixed_leaves();
    test_enoent();
    test_einval_partial_copy();
    test_efault();
    test_nametomib();
    test_mib_reuse_over_arenas();
    test_create_verifies_oldlen();
    test_partial_mib();
    test_epoch_snapshot();
    printf("ctl_tree: ok\n");
    return 0;
}
