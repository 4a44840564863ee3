/*
 * misuse: one allocator misuse per run (double free, invalid free, realloc
 * of a freed block...), named by argv[1], then an integrity stress.
 * tests/apps/misuse.sh runs every case twice: in the default mode the
 * misuse must be reported on stderr with its address and ignored (this
 * program then prints "ok" and exits 0: no block handed out twice, no
 * content damaged); under abort:true the process must die of SIGABRT.
 *
 * Output on stdout: "addr 0x..." (the pointer the report must name, %p
 * format) before the misuse, "ok" at the end. Exit 1 on a detected
 * corruption, 2 on bad usage.
 */
#include <alloc.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void announce(const void *p)
{
    printf("addr %p\n", p);
    fflush(stdout);
}

static void die(const char *what)
{
    printf("CORRUPTION: %s\n", what);
    fflush(stdout);
    exit(1);
}

/* ---- the integrity stress that follows each misuse ---- */

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* Many live blocks of mixed sizes, each filled with its own pattern: no
 * two may overlap (the same block handed out twice would), every pattern
 * must survive, and the sizes of the misused block (sz) come first so its
 * page is the one exercised. */
static void stress(size_t sz)
{
    enum { N = 6000 };
    static void *p[N];
    static size_t len[N];
    static uintptr_t sorted[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        len[i] = i < 2000 ? sz : 8 + (seed >> 8) % 5000;
        if (len[i] > 100000)
            len[i] = 64;
        p[i] = malloc(len[i]);
        if (!p[i])
            die("malloc failed");
        memset(p[i], (int)(i & 0xff), len[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < len[i]; k++)
            if (((unsigned char *)p[i])[k] != (unsigned char)(i & 0xff))
                die("block content changed");
    for (int i = 0; i < N; i++)
        sorted[i] = (uintptr_t)p[i];
    qsort(sorted, N, sizeof(sorted[0]), cmp_ptr);
    for (int i = 1; i < N; i++)
        if (sorted[i] == sorted[i - 1])
            die("the same block handed out twice");
    for (int i = N - 1; i >= 0; i--)
        free(p[i]);
}

/* ---- threads ---- */

static void *thread_free(void *arg)
{
    free(arg);
    return NULL;
}

static void *thread_alloc_free_exit(void *arg)
{
    size_t sz = *(size_t *)arg;
    void *p = malloc(sz);
    memset(p, 1, sz);
    free(p);
    return p; /* freed: the caller frees it again after the thread is gone */
}

static void *thread_alloc(void *arg)
{
    return malloc(*(size_t *)arg);
}

static void run_thread(void *(*fn)(void *), void *arg, void **ret)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0)
        die("pthread_create");
    pthread_join(t, ret);
}

/* ---- the cases ---- */

/* Overwrite the first word of freed block p (its free-list link) the way a
 * write after free does: with data, not knowing the allocator's key. */
static void clobber_link(void *p)
{
    volatile uintptr_t *w = p;
    *w = 0x4141414141414141ull;
}

/* A one-byte write after free into the link's low byte: a plain link
 * would still point into the page (a misaligned block handed out). */
static void clobber_link_byte(void *p)
{
    volatile unsigned char *b = p;
    *b ^= 0x18;
}

/* A write after free of zero over the link (p->next = NULL through a stale
 * pointer, a memset): the list ends there, the blocks behind it would be
 * lost to the page for good. */
static void clobber_link_null(void *p)
{
    volatile uintptr_t *w = p;
    *w = 0;
}

/* Allocate n blocks of sz into v: every one must be a live block of ours
 * of the right size (sallocx would report anything else) and writable. */
static void alloc_checked(void **v, int n, size_t sz)
{
    for (int i = 0; i < n; i++) {
        v[i] = malloc(sz);
        if (!v[i])
            die("malloc failed after a corrupted free list");
        if ((uintptr_t)v[i] == 0x4141414141414141ull || sallocx(v[i], 0) < sz)
            die("malloc handed out a pointer that is not a block");
        memset(v[i], 0x5c, sz);
    }
}

/* A write after free replaced the link of a block on its page's free list:
 * the next mallocs report it (naming the block) and never follow it. */
static void uaf_link(size_t sz, void (*clobber)(void *))
{
    enum { M = 3000 };
    static void *v[M];
    void *q = malloc(sz), *p = malloc(sz);
    free(q);
    free(p); /* p is the top of the list, its link leads to q */
    clobber(p);
    announce(p);
    alloc_checked(v, M, sz);
    for (int i = 0; i < M; i++)
        free(v[i]);
    stress(sz);
}

static void *thread_free2(void *arg)
{
    void **pq = arg;
    free(pq[1]);
    free(pq[0]);
    return NULL;
}

/* The same on a page's remote-free stack: another thread frees q then p
 * (p's link leads to q), the owner's malloc collects the stack when its
 * page's own list runs out. */
static void uaf_link_remote(size_t sz)
{
    enum { M = 3000 };
    static void *v[M];
    void *pq[2] = {malloc(sz), malloc(sz)};
    run_thread(thread_free2, pq, NULL);
    clobber_link(pq[0]);
    announce(pq[0]);
    alloc_checked(v, M, sz);
    for (int i = 0; i < M; i++)
        free(v[i]);
    stress(sz);
}

/* A zeroed link on a remote-free stack collected while the page's own list
 * is not empty (the stack is walked and spliced in front; a thread cache
 * flush collects every page so): the walk must find the stack shorter than
 * its count. */
static void uaf_link_null_remote_splice(size_t sz)
{
    void *keep[8];
    for (int i = 0; i < 8; i++)
        keep[i] = malloc(sz);
    void *pq[2] = {malloc(sz), malloc(sz)};
    free(keep[7]); /* the page's own list is not empty */
    run_thread(thread_free2, pq, NULL);
    clobber_link_null(pq[0]);
    announce(pq[0]);
    if (mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
        die("thread.tcache.flush");
    for (int i = 0; i < 7; i++)
        free(keep[i]);
    stress(sz);
}

static char global_buf[256];

/* Free p twice with other frees of its class in between (the second free
 * is not adjacent to the first). */
static void double_free_later(size_t sz)
{
    void *p = malloc(sz), *q = malloc(sz), *r = malloc(sz);
    free(p);
    free(q);
    announce(p);
    free(p);
    free(r);
    /* Two mallocs of the class: p must not come back twice. */
    void *a = malloc(sz), *b = malloc(sz), *c = malloc(sz);
    if (a == b || b == c || a == c)
        die("the same block handed out twice after a double free");
    free(a);
    free(b);
    free(c);
    stress(sz);
}

static void double_free_now(size_t sz)
{
    void *p = malloc(sz);
    memset(p, 7, sz);
    free(p);
    announce(p);
    free(p);
    void *a = malloc(sz), *b = malloc(sz);
    if (a == b)
        die("the same block handed out twice after a double free");
    free(a);
    free(b);
    stress(sz < 100000 ? sz : 64);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: misuse CASE\n");
        return 2;
    }
    const char *c = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t sz;
    if (strcmp(c, "double_small") == 0) {
        double_free_now(48);
    } else if (strcmp(c, "double_small8") == 0) {
        double_free_now(8);
    } else if (strcmp(c, "double_small8_later") == 0) {
        /* 8-byte class, other frees in between: caught at the second free
         * (its blocks are 16 bytes apart, so they carry the mark too). Fill
         * three pages so the block's page is not the current one. */
        enum { M = 3 * 8192 };
        static void *v[M];
        for (int i = 0; i < M; i++)
            if (!(v[i] = malloc(8)))
                die("malloc");
        void *p = v[100];
        free(p);
        free(v[101]);
        announce(p);
        free(p);
        for (int i = 0; i < M; i++)
            if (i != 100 && i != 101)
                free(v[i]);
        stress(8);
    } else if (strcmp(c, "double_small_later") == 0) {
        double_free_later(32);
    } else if (strcmp(c, "double_small_big") == 0) {
        double_free_later(20000); /* largest small classes */
    } else if (strcmp(c, "double_large") == 0) {
        double_free_now(100000);
    } else if (strcmp(c, "double_large_slabs_between") == 0) {
        /* Between the two frees the program allocates small blocks of
         * classes with no page yet (a stdio buffer does): their new slabs
         * must not be carved at the freed block's address, or the second
         * free would free one of them, silently. Each class's first block
         * is kept live. (Slabs come from the top of the freed run: enough
         * of them in between do reach its first page, and then the second
         * free is a legitimate-looking free of a new block, docs/misuse.md.) The flush sends the block from the thread's large
         * cache to its arena, where those slabs come from. */
        void *p = malloc(256 << 10);
        free(p);
        /* EFAULT: no thread cache (tcache:false), nothing to flush. */
        int err = mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
        if (err != 0 && err != EFAULT)
            die("thread.tcache.flush");
        static const size_t sizes[] = {4096, 1024, 3072}; /* stdio-buffer-like */
        enum { N = sizeof(sizes) / sizeof(sizes[0]) };
        void *keep[N];
        for (int i = 0; i < N; i++) {
            keep[i] = malloc(sizes[i]);
            if (keep[i] == p) /* the second free would free this block */
                die("a new slab's block starts at the freed large block's address");
        }
        announce(p);
        free(p);
        for (int i = 0; i < N; i++)
            free(keep[i]);
        stress(64);
    } else if (strcmp(c, "double_huge") == 0) {
        double_free_now(5u << 20);
    } else if (strcmp(c, "double_calloc") == 0) {
        /* A zeroed block: its second word is 0, never taken for a mark. */
        void *p = calloc(1, 64);
        free(p);
        announce(p);
        free(p);
        stress(64);
    } else if (strcmp(c, "double_xthread") == 0) {
        /* Another thread frees it (remote free), then we free it again. */
        void *p = malloc(64);
        run_thread(thread_free, p, NULL);
        announce(p);
        free(p);
        stress(64);
    } else if (strcmp(c, "double_xthread_remote2") == 0) {
        /* Allocated by one thread (still alive in spirit: its page abandoned
         * at exit), freed twice by two others. */
        sz = 96;
        void *p;
        run_thread(thread_alloc, &sz, &p);
        void *keep = malloc(96);
        run_thread(thread_free, p, NULL);
        announce(p);
        run_thread(thread_free, p, NULL);
        free(keep);
        stress(96);
    } else if (strcmp(c, "double_after_exit") == 0) {
        sz = 160;
        void *p;
        run_thread(thread_alloc_free_exit, &sz, &p);
        announce(p);
        free(p);
        stress(160);
    } else if (strcmp(c, "double_full_page") == 0) {
        /* Fill whole pages of the class so the block's page is full (the
         * full-list path), then free a block twice. */
        enum { M = 5000 };
        static void *v[M];
        for (int i = 0; i < M; i++)
            v[i] = malloc(128);
        void *p = v[10];
        free(p);
        announce(p);
        free(p);
        for (int i = 0; i < M; i++)
            if (i != 10)
                free(v[i]);
        stress(128);
    } else if (strcmp(c, "reused_not_double") == 0) {
        /* Freed, then the same address handed out again: freeing it is a
         * legitimate free of the new block, not a double free. */
        void *p = malloc(48);
        free(p);
        void *q = malloc(48);
        if (q != p) {
            printf("note: block not reused\n");
            free(q);
        } else {
            free(p);
        }
        announce(p);
        stress(48);
    } else if (strcmp(c, "interior_small") == 0) {
        char *p = malloc(64);
        memset(p, 3, 64);
        announce(p + 8);
        free(p + 8);
        for (int i = 0; i < 64; i++)
            if (p[i] != 3)
                die("the block was changed by the invalid free");
        free(p);
        stress(64);
    } else if (strcmp(c, "interior_small48") == 0) {
        /* A class that is not a power of two: p + 16 is 16-aligned. */
        char *p = malloc(48);
        announce(p + 16);
        free(p + 16);
        free(p);
        stress(48);
    } else if (strcmp(c, "misaligned") == 0) {
        char *p = malloc(32);
        announce(p + 1);
        free(p + 1);
        free(p);
        stress(32);
    } else if (strcmp(c, "interior_large") == 0) {
        char *p = malloc(200000);
        announce(p + 8192);
        free(p + 8192);
        free(p);
        stress(64);
    } else if (strcmp(c, "interior_large_first") == 0) {
        char *p = malloc(200000);
        announce(p + 16);
        free(p + 16);
        free(p);
        stress(64);
    } else if (strcmp(c, "interior_huge") == 0) {
        char *p = malloc(5u << 20);
        announce(p + 4096);
        free(p + 4096);
        free(p);
        stress(64);
    } else if (strcmp(c, "stack") == 0) {
        char buf[64];
        announce(buf);
        free(buf);
        stress(64);
    } else if (strcmp(c, "global") == 0) {
        announce(global_buf + 16);
        free(global_buf + 16);
        stress(64);
    } else if (strcmp(c, "mmap_region") == 0) {
        /* Memory of another allocator: a region we never mapped. */
        char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            die("mmap");
        announce(m + 32);
        free(m + 32);
        stress(64);
    } else if (strcmp(c, "wild") == 0) {
        void *w = (void *)(uintptr_t)0x123456789ab0ull;
        announce(w);
        free(w);
        stress(64);
    } else if (strcmp(c, "null") == 0) {
        free(NULL);
        announce(NULL);
        stress(64);
    } else if (strcmp(c, "realloc_freed") == 0) {
        void *p = malloc(40);
        free(p);
        announce(p);
        void *q = realloc(p, 400);
        if (q != NULL)
            die("realloc of a freed block returned a block");
        stress(40);
    } else if (strcmp(c, "realloc_interior") == 0) {
        char *p = malloc(40);
        announce(p + 16);
        if (realloc(p + 16, 400) != NULL)
            die("realloc of an interior pointer returned a block");
        free(p);
        stress(40);
    } else if (strcmp(c, "rallocx_freed") == 0) {
        /* The report names the entry point the program called. */
        void *p = mallocx(72, 0);
        dallocx(p, 0);
        announce(p);
        if (rallocx(p, 400, 0) != NULL)
            die("rallocx of a freed block returned a block");
        stress(72);
    } else if (strcmp(c, "sdallocx_double") == 0) {
        void *p = mallocx(72, 0);
        sdallocx(p, 72, 0);
        announce(p);
        sdallocx(p, 72, 0);
        stress(72);
    } else if (strcmp(c, "dallocx_double") == 0) {
        void *p = mallocx(72, 0);
        dallocx(p, 0);
        announce(p);
        dallocx(p, 0);
        stress(72);
    } else if (strcmp(c, "dallocx_tcache_double") == 0) {
        /* Into an explicit tcache twice (its bin must not hold p twice). */
        unsigned id;
        size_t l = sizeof(id);
        if (mallctl("tcache.create", &id, &l, NULL, 0) != 0)
            die("tcache.create");
        void *p = mallocx(8, MALLOCX_TCACHE(id));
        dallocx(p, MALLOCX_TCACHE(id));
        announce(p);
        dallocx(p, MALLOCX_TCACHE(id));
        void *a = mallocx(8, MALLOCX_TCACHE(id)), *b = mallocx(8, MALLOCX_TCACHE(id));
        if (a == b)
            die("the same block handed out twice by the tcache");
        dallocx(a, MALLOCX_TCACHE(id));
        dallocx(b, MALLOCX_TCACHE(id));
        if (mallctl("tcache.destroy", NULL, NULL, &id, sizeof(id)) != 0)
            die("tcache.destroy");
        stress(8);
    } else if (strcmp(c, "tcache_then_free") == 0) {
        /* Cached in an explicit tcache (free to the user), then freed. */
        unsigned id;
        size_t l = sizeof(id);
        if (mallctl("tcache.create", &id, &l, NULL, 0) != 0)
            die("tcache.create");
        void *p = mallocx(64, MALLOCX_TCACHE(id));
        dallocx(p, MALLOCX_TCACHE(id));
        announce(p);
        free(p);
        if (mallctl("tcache.destroy", NULL, NULL, &id, sizeof(id)) != 0)
            die("tcache.destroy");
        stress(64);
    } else if (strcmp(c, "uaf_link") == 0) {
        uaf_link(64, clobber_link);
    } else if (strcmp(c, "uaf_link_byte") == 0) {
        uaf_link(64, clobber_link_byte);
    } else if (strcmp(c, "uaf_link_null") == 0) {
        uaf_link(64, clobber_link_null);
    } else if (strcmp(c, "uaf_link_null_remote") == 0) {
        /* The stack becomes the page's list (its own ran out): the list
         * ends early. */
        enum { M = 3000 };
        static void *v[M];
        void *pq[2] = {malloc(96), malloc(96)};
        run_thread(thread_free2, pq, NULL);
        clobber_link_null(pq[0]);
        announce(pq[0]);
        alloc_checked(v, M, 96);
        for (int i = 0; i < M; i++)
            free(v[i]);
        stress(96);
    } else if (strcmp(c, "uaf_link_null_remote_splice") == 0) {
        uaf_link_null_remote_splice(112);
    } else if (strcmp(c, "uaf_link8") == 0) {
        uaf_link(8, clobber_link);
    } else if (strcmp(c, "uaf_link_remote") == 0) {
        uaf_link_remote(80);
    } else if (strcmp(c, "never_handed_out") == 0) {
        /* A block boundary of our page that was never handed out. */
        char *p = malloc(64);
        announce(p + 64 * 3);
        free(p + 64 * 3);
        free(p);
        stress(64);
    } else {
        fprintf(stderr, "misuse: unknown case '%s'\n", c);
        return 2;
    }
    printf("ok\n");
    return 0;
}
