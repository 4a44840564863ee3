/* libFuzzer target for mallctl names and MIBs (liballoc/ctl.c, the
 * profiler's libprof/prof_ctl.c subtree): the allocator's objects are
 * compiled into this target with ASan, UBSan and coverage, their malloc
 * family made local (ASan's malloc serves the process, liballoc serves
 * mallocx and its own internals), so every out-of-bounds access to a name,
 * a mib array, or an old/new buffer shows.
 *
 * Each input is a sequence of operations; each takes its name either from
 * the input as raw bytes, or by walking the real tree (ctl_root) with
 * input-chosen children and indexes (so deep valid names are reached), and
 * then calls one of:
 *   mallctl(name, oldp, oldlenp, newp, newlen)
 *   mallctlnametomib(name, mib, &miblen) with miblen 0..8 in an exact array,
 *     then mallctlbymib on that mib, unchanged or with input-chosen
 *     components and length 0..9;
 * with oldp/newp exact-size heap buffers of input-chosen sizes (0..40
 * bytes, or NULL) and contents, and oldlenp NULL or not.
 * Invariants: the return value is 0 or one of the codes mallctl documents
 * (ENOENT EPERM EINVAL EFAULT EAGAIN ENOMEM EBADF EIO), *oldlenp never
 * grows, and mallctlnametomib never reports more components than given.
 *
 * Sandbox: the process works in a fresh temporary directory. Where a
 * mallctl reads a pointer from newp (prof.dump, prof.dump_peak,
 * prof.prefix, thread.prof.name: strings; prof.recent_alloc_dump{,_filtered}:
 * callback structs; prof.dump_pprof_fd: a file descriptor) and newlen is
 * that pointer's size, the harness passes its own object built from the
 * input instead of raw bytes: path strings keep only [A-Za-z0-9._-] (no
 * '/', so files land in the sandbox), callbacks are the harness's own, the
 * descriptor is a sandbox file. The same holds when a MIB the input
 * tweaked lands on one of those leaves under another name (pointer_leaf).
 * Every other name, arena.<i>.destroy,
 * arena.<i>.reset, thread.tcache.flush, tcache.* and debug.fault included,
 * gets raw input bytes: their effects are bounded to this process (faults
 * an input arms are disarmed after it).
 *   make fuzz && build/fuzz/fuzz_mallctl -max_total_time=600 build/fuzz/corpus-mallctl \
 *       tests/fuzz/corpus/mallctl
 */
#include <alloc.h>

#include "ctl.h"
#include "fault.h"
#include "recent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Profiling on, so the prof.* subtree does real work. */
const char *malloc_conf = "prof:true,prof_active:true,lg_prof_sample:10,prof_recent_alloc_max:64,"
                          "prof_peak:true";

struct in {
    const uint8_t *p;
    size_t n;
};

static unsigned take(struct in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static size_t take_size(struct in *in)
{
    size_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take(in);
    return v;
}

static void die(const char *what, const char *name, long v)
{
    fprintf(stderr, "fuzz_mallctl: invariant broken: %s (name \"%s\", value %ld)\n", what, name, v);
    abort();
}

static int sink_fd = -1;
static size_t recent_bytes;

static void recent_cb(void *opaque, const char *s)
{
    (void)opaque;
    recent_bytes += strlen(s);
}

/* A name from the real tree: input bytes pick children and indexes. */
static void walk_name(struct in *in, char *out, size_t cap)
{
    const struct ctl_node *n = ctl_root();
    size_t len = 0;
    out[0] = 0;
    for (int depth = 0; depth < CTL_MAX_DEPTH + 1 && n && n->nchildren > 0; depth++) {
        const struct ctl_node *kids = n->children;
        char comp[32];
        if (kids[0].name == NULL) {
            /* An indexed child: a small index mostly, sometimes any. */
            unsigned b = take(in);
            size_t idx = b < 200 ? b % 8 : b < 250 ? take_size(in) : 4096;
            snprintf(comp, sizeof(comp), "%zu", idx);
            n = &kids[0];
        } else {
            size_t k = take(in) % n->nchildren;
            snprintf(comp, sizeof(comp), "%s", kids[k].name);
            n = &kids[k];
        }
        size_t c = strlen(comp);
        if (len + c + 2 >= cap)
            break;
        if (len)
            out[len++] = '.';
        memcpy(out + len, comp, c + 1);
        len += c;
        if (take(in) == 0xff)
            break; /* a partial name, sometimes */
    }
}

static int ok_code(int r)
{
    return r == 0 || r == ENOENT || r == EPERM || r == EINVAL || r == EFAULT || r == EAGAIN ||
           r == ENOMEM || r == EBADF || r == EIO;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* newp for one call: raw bytes, or the harness's own object where the
 * mallctl dereferences a pointer (see the header comment). */
struct newval {
    void *buf;
    size_t len;
    char str[160];
    struct {
        void (*cb)(void *, const char *);
        void *opaque;
        const struct recent_filter *filter;
    } rd;
    struct recent_filter filter;
    int fd;
};

static void make_new(struct in *in, const char *name, struct newval *nv)
{
    unsigned mode = take(in);
    nv->buf = NULL;
    nv->len = 0;
    if (mode < 64)
        return; /* no newp */
    size_t len = mode < 128 ? take(in) % 41 : mode < 200 ? 8 : mode < 230 ? 4 : 1;
    nv->buf = malloc(len ? len : 1);
    nv->len = len;
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)nv->buf)[i] = (uint8_t)take(in);
    int is_path = ends_with(name, "prof.dump") || ends_with(name, "prof.dump_peak") ||
                  ends_with(name, "prof.prefix");
    int is_str = ends_with(name, "thread.prof.name");
    if ((is_path || is_str) && len == sizeof(char *)) {
        size_t n = take(in) % (sizeof(nv->str) - 1);
        for (size_t i = 0; i < n; i++) {
            char c = (char)take(in);
            if (is_path && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                c = '_';
            nv->str[i] = c;
        }
        nv->str[n] = 0;
        if (is_path && (n == 0 || strcmp(nv->str, ".") == 0 || strcmp(nv->str, "..") == 0))
            snprintf(nv->str, sizeof(nv->str), "d");
        char *p = take(in) == 0xff ? NULL : nv->str;
        memcpy(nv->buf, &p, sizeof(p));
    } else if ((ends_with(name, "prof.recent_alloc_dump") || ends_with(name, "prof_recent.alloc_dump")) && len == 2 * sizeof(void *)) {
        nv->rd.cb = take(in) == 0xff ? NULL : recent_cb;
        nv->rd.opaque = NULL;
        memcpy(nv->buf, &nv->rd, len);
    } else if (ends_with(name, "prof.recent_alloc_dump_filtered") && len == sizeof(nv->rd)) {
        for (size_t i = 0; i < sizeof(nv->filter); i++)
            ((uint8_t *)&nv->filter)[i] = (uint8_t)take(in);
        nv->rd.cb = take(in) == 0xff ? NULL : recent_cb;
        nv->rd.opaque = NULL;
        nv->rd.filter = take(in) & 1 ? &nv->filter : NULL;
        memcpy(nv->buf, &nv->rd, len);
    } else if (ends_with(name, "dump_pprof_fd") && len == sizeof(int)) {
        int fd = take(in) & 1 ? sink_fd : -1 - (int)take(in);
        memcpy(nv->buf, &fd, sizeof(fd));
    }
}

/* The leaves whose new value holds pointers (make_new builds it). */
static const char *const pointer_leaves[] = {
    "prof.dump", "prof.dump_peak", "prof.prefix", "thread.prof.name",
    "prof.recent_alloc_dump", "prof.recent_alloc_dump_filtered",
    "experimental.prof_recent.alloc_dump", "prof.dump_pprof_fd",
};
#define NPTR (sizeof(pointer_leaves) / sizeof(pointer_leaves[0]))

/* The name of the pointer-taking leaf that mib[0..n) names, or NULL. */
static const char *pointer_leaf(const size_t *mib, size_t n)
{
    static size_t mibs[NPTR][8], lens[NPTR];
    static int ready;
    if (!ready) {
        for (size_t i = 0; i < NPTR; i++) {
            lens[i] = 8;
            if (mallctlnametomib(pointer_leaves[i], mibs[i], &lens[i]) != 0)
                lens[i] = 0;
        }
        ready = 1;
    }
    for (size_t i = 0; i < NPTR; i++)
        if (lens[i] && lens[i] == n && memcmp(mibs[i], mib, n * sizeof(size_t)) == 0)
            return pointer_leaves[i];
    return NULL;
}

static void one_op(struct in *in)
{
    char name[512];
    unsigned how = take(in);
    if (how & 1) {
        walk_name(in, name, sizeof(name));
    } else {
        size_t n = take(in) % (sizeof(name) - 1);
        for (size_t i = 0; i < n; i++)
            name[i] = (char)take(in);
        name[n] = 0;
    }
    /* The name as an exact-size copy, so reading past its NUL shows. */
    size_t nl = strlen(name);
    char *nm = malloc(nl + 1);
    memcpy(nm, name, nl + 1);

    unsigned ob = take(in);
    size_t oldcap = ob < 40 ? 0 : ob % 41;
    void *oldp = ob < 40 ? NULL : malloc(oldcap ? oldcap : 1);
    size_t oldlen = oldcap, *oldlenp = (ob & 3) == 3 ? NULL : &oldlen;
    if (ob < 20)
        oldlen = take(in) % 41; /* a length without a buffer */
    size_t len_in = oldlen;
    struct newval nv;
    make_new(in, nm, &nv);

    int r;
    if (how & 2) {
        size_t cap = take(in) % 9;
        size_t *mib = malloc((cap ? cap : 1) * sizeof(size_t));
        size_t miblen = cap;
        r = mallctlnametomib(nm, cap ? mib : NULL, &miblen);
        if (!ok_code(r))
            die("mallctlnametomib: undocumented return code", nm, r);
        if (miblen > cap)
            die("mallctlnametomib: more components than room", nm, (long)miblen);
        if (r == 0) {
            size_t n2 = miblen;
            size_t *m2 = mib;
            unsigned t = take(in);
            if (t >= 128) {
                /* Tweak: another length (0..9) and input-chosen components. */
                n2 = t % 10;
                m2 = malloc((n2 ? n2 : 1) * sizeof(size_t));
                for (size_t i = 0; i < n2; i++)
                    m2[i] = i < miblen && (take(in) & 1) ? mib[i] : (take(in) & 1 ? take(in) : take_size(in));
            }
            const char *leaf = n2 ? pointer_leaf(m2, n2) : NULL;
            if (leaf && !ends_with(nm, leaf)) {
                /* A tweak reached a pointer-taking leaf: its own kind of value. */
                free(nv.buf);
                make_new(in, leaf, &nv);
            }
            r = mallctlbymib(n2 ? m2 : NULL, n2, oldp, oldlenp, nv.buf, nv.len);
            if (!ok_code(r))
                die("mallctlbymib: undocumented return code", nm, r);
            if (m2 != mib)
                free(m2);
        }
        free(mib);
    } else {
        r = mallctl(nm, oldp, oldlenp, nv.buf, nv.len);
        if (!ok_code(r))
            die("mallctl: undocumented return code", nm, r);
    }
    if (oldlenp && oldp && oldlen > len_in)
        die("*oldlenp grew past the buffer", nm, (long)oldlen);
    free(nv.buf);
    free(oldp);
    free(nm);
}

static void sandbox_clean(void)
{
    DIR *d = opendir(".");
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL)
        if (e->d_type == DT_REG && strcmp(e->d_name, "pprof.sink") != 0)
            unlink(e->d_name);
    closedir(d);
}

static char sandbox[256];

/* At exit the sandbox goes, with whatever dumps it holds. */
static void sandbox_remove(void)
{
    if (sink_fd >= 0)
        close(sink_fd);
    sink_fd = -1;
    if (chdir(sandbox) == 0) {
        sandbox_clean();
        unlink("pprof.sink");
        if (chdir("/") == 0)
            rmdir(sandbox);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Under $TMPDIR when set: the scripts point it at a directory they
     * remove, since libFuzzer may leave with _Exit, skipping atexit. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > sizeof(sandbox) - 24)
        tmp = "/tmp";
    snprintf(sandbox, sizeof(sandbox), "%s/fuzz_mallctl.XXXXXX", tmp);
    if (!mkdtemp(sandbox) || chdir(sandbox) != 0) {
        perror("fuzz_mallctl: sandbox");
        exit(1);
    }
    atexit(sandbox_remove);
    sink_fd = open("pprof.sink", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    /* Auto-named dumps land in the sandbox too. */
    const char *prefix = "auto";
    mallctl("prof.prefix", NULL, NULL, &prefix, sizeof(prefix));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    /* Each input starts from the same sampling rate (an earlier input may
     * have changed it with prof.reset), so a finding replays alone. */
    size_t lg = 0, lgsz = sizeof(lg);
    if (mallctl("prof.lg_sample", &lg, &lgsz, NULL, 0) == 0 && lg != 10) {
        lg = 10;
        if (mallctl("prof.reset", NULL, NULL, &lg, sizeof(lg)) != 0)
            die("prof.reset to 10 failed", "prof.reset", 0);
    }
    /* Some blocks from liballoc, so stats and lookups have something. */
    void *held[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++)
        held[i] = mallocx((size_t)16 << (i * 4), 0);
    for (int k = 0; k < 8 && in.n > 0; k++)
        one_op(&in);
    for (int i = 0; i < 4; i++)
        if (held[i])
            dallocx(held[i], 0);
    /* And after the operations: what they changed (sampling rate, arenas,
     * tcaches, faults) meets allocations and frees. */
    for (int i = 0; i < 4; i++) {
        void *p = mallocx((size_t)4096 << (i * 3), 0);
        if (p)
            dallocx(p, 0);
    }
    /* debug.fault is in the tree too: an input may arm it; it must not
     * outlive the input (runs stay reproducible). */
    struct alloc_fault off;
    memset(&off, 0, sizeof(off));
    if (mallctl("debug.fault", NULL, NULL, &off, sizeof(off)) != 0)
        die("debug.fault cannot be disarmed", "debug.fault", 0);
    /* Bound the sandbox: files from dumps are removed every 256 runs. */
    static unsigned runs;
    if ((++runs & 255) == 0) {
        sandbox_clean();
        if (sink_fd >= 0 && ftruncate(sink_fd, 0) != 0) {
        }
    }
    return 0;
}
