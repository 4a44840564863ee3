/*
 * ctl: the mallctl tree walker (liballoc/ctl.c) over a tree of the test's
 * own, then the handler helpers and the real tree's error codes.
 *   - name -> mib: named and indexed components, indexes checked by
 *     index_ok with the mib so far (a nested index depending on an outer
 *     one), the leaf reached, partial mibs when the capacity is short;
 *   - ENOENT: NULL/empty names, unknown components, prefixes of a name,
 *     empty components (leading, doubled, trailing dots), names past a leaf,
 *     deeper than CTL_MAX_DEPTH, indexes that are not plain decimal numbers,
 *     above UINT32_MAX or refused by index_ok;
 *   - mib -> node: the same nodes back, ENOENT for out-of-range named
 *     indexes, refused indexes, past a leaf, miblen 0 or too deep; EFAULT
 *     for an index above UINT32_MAX;
 *   - the helpers' codes: EINVAL with a partial copy for a wrong old length,
 *     EPERM for a write to a read-only leaf or data to a void one, EINVAL
 *     for a wrong new length;
 *   - through mallctl/mallctlnametomib/mallctlbymib on the real tree: the
 *     same walker (ENOENT for an interior node, EFAULT for arena.<ALL> decay
 *     reads as jemalloc), a mib reused with another index.
 */
#include "check.h"

#include "ctl.h"

#include <stdint.h>

/* The handler every test leaf runs: records what it was given. */
static size_t seen_mib[CTL_MAX_DEPTH + 1], seen_len;
static int h_rec(const struct ctl_args *a)
{
    seen_len = a->miblen;
    memcpy(seen_mib, a->mib, a->miblen * sizeof(size_t));
    unsigned v = 42;
    return ctl_read_only(a, &v, sizeof(v));
}

/* idx.<i>: 0, 1, 2 and 4096. */
static bool idx_ok(const size_t *mib, size_t depth, size_t i)
{
    (void)mib;
    (void)depth;
    return i < 3 || i == 4096;
}

/* idx.<i>.sub.<j>: j <= i (reads the outer index from the mib so far). */
static bool sub_ok(const size_t *mib, size_t depth, size_t j)
{
    CHECK_U(depth, ==, 3);
    return j <= mib[1];
}

static const struct ctl_node sub_j_nodes[] = {{"w", NULL, 0, NULL, h_rec}};
static const struct ctl_node sub_j = {NULL, sub_j_nodes, 1, sub_ok, NULL};
static const struct ctl_node idx_i_nodes[] = {
    {"v", NULL, 0, NULL, h_rec},
    {"sub", &sub_j, 1, NULL, NULL},
};
static const struct ctl_node idx_i = {NULL, idx_i_nodes, 2, idx_ok, NULL};
static const struct ctl_node grp_nodes[] = {
    {"x", NULL, 0, NULL, h_rec},
    {"y", NULL, 0, NULL, h_rec},
    {"xy", NULL, 0, NULL, h_rec},
};
/* A chain d1.d2....d8: one component deeper than CTL_MAX_DEPTH (7). */
static const struct ctl_node d8[] = {{"d8", NULL, 0, NULL, h_rec}};
static const struct ctl_node d7[] = {{"d7", d8, 1, NULL, h_rec}};
static const struct ctl_node d6[] = {{"d6", d7, 1, NULL, NULL}};
static const struct ctl_node d5[] = {{"d5", d6, 1, NULL, NULL}};
static const struct ctl_node d4[] = {{"d4", d5, 1, NULL, NULL}};
static const struct ctl_node d3[] = {{"d3", d4, 1, NULL, NULL}};
static const struct ctl_node d2[] = {{"d2", d3, 1, NULL, NULL}};
static const struct ctl_node top_nodes[] = {
    {"a", NULL, 0, NULL, h_rec},
    {"grp", grp_nodes, 3, NULL, NULL},
    {"idx", &idx_i, 1, NULL, NULL},
    {"d1", d2, 1, NULL, NULL},
};
static const struct ctl_node top = {"", top_nodes, 4, NULL, NULL};

static size_t mib[CTL_MAX_DEPTH + 1], depth;
static const struct ctl_node *leaf;

/* Walk name with capacity cap; returns the error, mib/depth/leaf set on 0. */
static int walk(const char *name, size_t cap)
{
    memset(mib, 0xff, sizeof(mib));
    depth = cap;
    leaf = NULL;
    return ctl_name_to_mib(&top, name, mib, &depth, &leaf);
}

#define WALK_OK(name, ...)                                                                         \
    do {                                                                                           \
        const size_t want[] = {__VA_ARGS__};                                                       \
        const size_t n = sizeof(want) / sizeof(want[0]);                                           \
        CHECK_MSG(walk(name, CTL_MAX_DEPTH) == 0, "%s: error %d", name, walk(name, CTL_MAX_DEPTH)); \
        CHECK_MSG(depth == n, "%s: depth %zu, want %zu", name, depth, n);                          \
        for (size_t k = 0; k < n; k++)                                                             \
            CHECK_MSG(mib[k] == want[k], "%s: mib[%zu] = %zu, want %zu", name, k, mib[k], want[k]); \
        const struct ctl_node *back = NULL;                                                        \
        CHECK_I(ctl_mib_to_node(&top, mib, depth, &back), ==, 0);                                  \
        CHECK_MSG(back == leaf, "%s: the mib leads to another node", name);                       \
    } while (0)

#define WALK_ERR(name, err)                                                                        \
    CHECK_MSG(walk(name, CTL_MAX_DEPTH) == (err), "%s: error %d, want %d", name,                   \
              walk(name, CTL_MAX_DEPTH), err)

static int by_mib(size_t n, const size_t *m)
{
    const struct ctl_node *node;
    return ctl_mib_to_node(&top, m, n, &node);
}

int main(void)
{
    /* name -> mib */
    WALK_OK("a", 0);
    CHECK(leaf == &top_nodes[0]);
    WALK_OK("grp.x", 1, 0);
    WALK_OK("grp.y", 1, 1);
    WALK_OK("grp.xy", 1, 2);
    CHECK(leaf == &grp_nodes[2]);
    WALK_OK("grp", 1); /* an interior node: the walk succeeds, it has no handler */
    CHECK(leaf->handler == NULL);
    WALK_OK("idx.0.v", 2, 0, 0);
    WALK_OK("idx.2.v", 2, 2, 0);
    WALK_OK("idx.4096.v", 2, 4096, 0);
    WALK_OK("idx.02.v", 2, 2, 0); /* decimal, leading zero allowed */
    WALK_OK("idx.2.sub.2.w", 2, 2, 1, 2, 0);
    WALK_OK("idx.1.sub.0.w", 2, 1, 1, 0, 0);
    WALK_OK("d1.d2.d3.d4.d5.d6.d7", 3, 0, 0, 0, 0, 0, 0);
    CHECK(leaf->handler == h_rec);

    /* The handler sees the full mib. */
    CHECK_I(walk("idx.2.sub.1.w", CTL_MAX_DEPTH), ==, 0);
    unsigned v = 0;
    size_t len = sizeof(v);
    struct ctl_args args = {mib, depth, &v, &len, NULL, 0};
    CHECK_I(leaf->handler(&args), ==, 0);
    CHECK_U(v, ==, 42);
    CHECK_U(seen_len, ==, 5);
    CHECK_U(seen_mib[1], ==, 2);
    CHECK_U(seen_mib[3], ==, 1);

    /* Partial mibs: the capacity stops the walk. */
    CHECK_I(walk("idx.2.sub.1.w", 3), ==, 0);
    CHECK_U(depth, ==, 3);
    CHECK_U(mib[0], ==, 2);
    CHECK_U(mib[1], ==, 2);
    CHECK_U(mib[2], ==, 1);
    CHECK_U(mib[3], ==, SIZE_MAX); /* nothing written past the capacity */
    CHECK(leaf == &idx_i_nodes[1]);
    CHECK_I(walk("grp.y", 1), ==, 0);
    CHECK_U(depth, ==, 1);
    CHECK_U(mib[0], ==, 1);
    /* ... and a partial mib completed by hand reaches the leaf. */
    CHECK_I(walk("idx.0.v", 2), ==, 0);
    size_t m5[] = {mib[0], 1, 0, 0, 0};
    const struct ctl_node *node;
    CHECK_I(ctl_mib_to_node(&top, m5, 2, &node), ==, 0);
    CHECK(node == &idx_i);
    m5[1] = 1;
    m5[2] = 1;
    CHECK_I(ctl_mib_to_node(&top, m5, 5, &node), ==, 0);
    CHECK(node == &sub_j_nodes[0]);

    /* ENOENT from names. */
    CHECK_I(ctl_name_to_mib(&top, NULL, mib, &depth, &leaf), ==, ENOENT);
    WALK_ERR("", ENOENT);
    WALK_ERR("b", ENOENT);
    WALK_ERR("A", ENOENT);
    WALK_ERR("gr", ENOENT);     /* a prefix of a name */
    WALK_ERR("grpx", ENOENT);
    WALK_ERR("grp.z", ENOENT);
    WALK_ERR("grp.x.z", ENOENT); /* past a leaf */
    WALK_ERR("a.x", ENOENT);
    WALK_ERR(".a", ENOENT);
    WALK_ERR("a.", ENOENT);
    WALK_ERR("grp.", ENOENT);
    WALK_ERR("grp..x", ENOENT);
    WALK_ERR("idx.3.v", ENOENT); /* refused by index_ok */
    WALK_ERR("idx.4095.v", ENOENT);
    WALK_ERR("idx.1.sub.2.w", ENOENT); /* j > i */
    WALK_ERR("idx.x.v", ENOENT);
    WALK_ERR("idx.-1.v", ENOENT);
    WALK_ERR("idx.+1.v", ENOENT);
    WALK_ERR("idx. 1.v", ENOENT);
    WALK_ERR("idx.1x.v", ENOENT);
    WALK_ERR("idx.0x1.v", ENOENT);
    WALK_ERR("idx.4294967296.v", ENOENT);
    WALK_ERR("idx.99999999999999999999999999999999.v", ENOENT);
    WALK_ERR("idx..v", ENOENT);
    WALK_ERR("idx.v", ENOENT);
    WALK_ERR("d1.d2.d3.d4.d5.d6.d7.d8", ENOENT); /* deeper than CTL_MAX_DEPTH */

    /* mib -> node errors. */
    CHECK_I(by_mib(0, (size_t[]){0}), ==, ENOENT);
    CHECK_I(by_mib(1, (size_t[]){4}), ==, ENOENT);
    CHECK_I(by_mib(2, (size_t[]){1, 3}), ==, ENOENT);
    CHECK_I(by_mib(2, (size_t[]){0, 0}), ==, ENOENT); /* past a leaf */
    CHECK_I(by_mib(3, (size_t[]){2, 3, 0}), ==, ENOENT);
    CHECK_I(by_mib(3, (size_t[]){2, 2, 2}), ==, ENOENT);
    CHECK_I(by_mib(5, (size_t[]){2, 1, 1, 2, 0}), ==, ENOENT);
    CHECK_I(by_mib(3, (size_t[]){2, (size_t)1 << 32, 0}), ==, EFAULT);
    CHECK_I(by_mib(8, (size_t[]){3, 0, 0, 0, 0, 0, 0, 0}), ==, ENOENT);
    CHECK_I(by_mib(7, (size_t[]){3, 0, 0, 0, 0, 0, 0}), ==, 0);

    /* The helpers' error codes. */
    uint64_t val = 0x1122334455667788ULL, out = 0;
    len = sizeof(out);
    struct ctl_args r = {mib, 1, &out, &len, NULL, 0};
    CHECK_I(ctl_read(&r, &val, sizeof(val)), ==, 0);
    CHECK_U(out, ==, val);
    out = 0;
    len = 4; /* short: EINVAL after copying 4 bytes */
    CHECK_I(ctl_read(&r, &val, sizeof(val)), ==, EINVAL);
    CHECK_U(len, ==, 4);
    CHECK_U(out, ==, 0x55667788ULL);
    uint64_t big[2] = {0, 0};
    len = sizeof(big); /* long: EINVAL, the whole value copied, length = its size */
    r.oldp = big;
    CHECK_I(ctl_read(&r, &val, sizeof(val)), ==, EINVAL);
    CHECK_U(len, ==, 8);
    CHECK_U(big[0], ==, val);
    struct ctl_args none = {mib, 1, NULL, NULL, NULL, 0};
    CHECK_I(ctl_read(&none, &val, sizeof(val)), ==, 0);
    uint64_t nv = 7;
    struct ctl_args w = {mib, 1, NULL, NULL, &nv, sizeof(nv)};
    CHECK_I(ctl_read_only(&w, &val, sizeof(val)), ==, EPERM);
    uint64_t target = 1;
    CHECK_I(ctl_write(&w, &target, sizeof(target)), ==, 0);
    CHECK_U(target, ==, 7);
    w.newlen = 4;
    target = 1;
    CHECK_I(ctl_write(&w, &target, sizeof(target)), ==, EINVAL);
    CHECK_U(target, ==, 1);
    CHECK_I(ctl_write(&none, &target, sizeof(target)), ==, 0);
    CHECK_I(ctl_no_data(&none), ==, 0);
    CHECK_I(ctl_no_data(&w), ==, EPERM);
    len = 8;
    CHECK_I(ctl_no_data(&r), ==, EPERM);

    /* The real tree through the public entry points. */
    unsigned u;
    len = sizeof(u);
    CHECK_I(mallctl("stats", &u, &len, NULL, 0), ==, ENOENT);         /* interior node */
    CHECK_I(mallctl("arenas.narenas.x", &u, &len, NULL, 0), ==, ENOENT); /* past a leaf */
    CHECK_I(mallctl("arenas.narenas", &u, &len, &u, sizeof(u)), ==, EPERM);
    len = 1;
    CHECK_I(mallctl("arenas.narenas", &u, &len, NULL, 0), ==, EINVAL);
    ssize_t ms;
    len = sizeof(ms);
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", (unsigned)MALLCTL_ARENAS_ALL);
    CHECK_I(mallctl(name, &ms, &len, NULL, 0), ==, EFAULT);
    size_t rmib[CTL_MAX_DEPTH], rlen = CTL_MAX_DEPTH;
    CHECK_I(mallctlnametomib("arenas.bin.0.size", rmib, &rlen), ==, 0);
    CHECK_U(rlen, ==, 4);
    size_t bsz = 0;
    len = sizeof(bsz);
    rmib[2] = 3;
    CHECK_I(mallctlbymib(rmib, rlen, &bsz, &len, NULL, 0), ==, 0);
    CHECK_U(bsz, ==, 48); /* class 3: 8, 16, 32, 48 */
    CHECK_I(mallctlbymib(rmib, 3, &bsz, &len, NULL, 0), ==, ENOENT);
    rlen = 2;
    CHECK_I(mallctlnametomib("arenas.bin.0.size", rmib, &rlen), ==, 0);
    CHECK_U(rlen, ==, 2);
    CHECK_I(mallctlnametomib("arenas.bin.0.size", NULL, &rlen), ==, EINVAL);

    printf("ok\n");
    return 0;
}
