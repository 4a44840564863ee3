/*
 * suite: the kinds of misuse allocator security test suites exercise (double
 * and invalid frees, frees of memory we never handed out, writes and reads
 * after free, small overflows, sized-delete mismatches, impossible sizes),
 * one per run, named by argv[1]. Written for this project from the list of
 * kinds; tests/apps/misuse_suite.sh runs each in the default mode and under
 * abort:true and holds the expected outcome of each (reported with the
 * address, reported in debug builds only, or not detected: docs/misuse.md
 * says which and why).
 *
 * Output: "addr 0x..." (the pointer a report must name) before the misuse,
 * "ok" when the program got through (the misuse ignored, every check of the
 * allocator's answers passed). Exit 1 on a wrong answer, 2 on bad usage.
 * "config_debug" prints 1 for a MODE=debug library, else 0.
 */
#include <alloc.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <new>

/* The misuses are deliberate. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
#pragma GCC diagnostic ignored "-Warray-bounds"

static void announce(const void *p)
{
    printf("addr %p\n", p);
    fflush(stdout);
}

static void die(const char *what)
{
    printf("WRONG: %s\n", what);
    fflush(stdout);
    exit(1);
}

/* Keep the compiler from reasoning about a pointer (it must not see the
 * misuse and optimise it away or warn about it). */
template <class T> static T launder_ptr(T p)
{
    T volatile v = p;
    return v;
}

/* Writes the compiler must keep (a store just before free, or into freed
 * memory, is dead to it). */
static void poke(void *p, size_t off, size_t n, unsigned char v)
{
    volatile unsigned char *b = (volatile unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        b[off + i] = v;
}

static void flip(void *p, size_t off, unsigned char bits)
{
    volatile unsigned char *b = (volatile unsigned char *)p;
    b[off] ^= bits;
}

/* A value that looks like what an uninitialised pointer holds. */
static void *garbage_ptr(void)
{
    return launder_ptr((void *)(uintptr_t)0x5a5a5a5a5a5a5a58ull);
}

/* After a misuse: the allocator still hands out distinct, writable blocks. */
static void still_works(size_t sz)
{
    enum { N = 2000 };
    static char *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = (char *)malloc(sz);
        if (!v[i])
            die("malloc failed after the misuse");
        memset(v[i], i & 0xff, sz);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < sz; k++)
            if ((unsigned char)v[i][k] != (i & 0xff))
                die("two live blocks overlap after the misuse");
    for (int i = 0; i < N; i++)
        free(v[i]);
}

/* glibc's own malloc and free (not the process's, which are liballoc's):
 * looked up in libc.so.6 itself. */
static void *foreign_glibc_alloc(size_t n)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!libc)
        die("dlopen libc.so.6");
    void *(*gmalloc)(size_t) = (void *(*)(size_t))dlsym(libc, "malloc");
    if (!gmalloc || gmalloc == malloc)
        die("glibc's malloc not found apart from liballoc's");
    void *p = gmalloc(n);
    if (!p)
        die("glibc's malloc failed");
    return p;
}

static void foreign_glibc_free(void *p)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void (*gfree)(void *) = libc ? (void (*)(void *))dlsym(libc, "free") : NULL;
    if (!gfree || gfree == free)
        die("glibc's free not found apart from liballoc's");
    gfree(p);
}

struct big {
    uint64_t a, b, c, d;
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: suite CASE\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *c = argv[1];
    size_t check = 64; /* the size still_works exercises afterwards */
#define CASE(name) else if (strcmp(c, name) == 0)
    if (strcmp(c, "config_debug") == 0) {
        bool dbg = false;
        size_t l = sizeof(dbg);
        if (mallctl("config.debug", &dbg, &l, NULL, 0) != 0)
            die("mallctl config.debug");
        printf("%d\n", dbg ? 1 : 0);
        return 0;
    }
    CASE("double_free_small")
    {
        char *p = launder_ptr((char *)malloc(32));
        free(p);
        announce(p);
        free(p);
    }
    CASE("double_free_small_delayed")
    {
        /* Other blocks of the class freed and allocated in between. */
        char *p = launder_ptr((char *)malloc(32));
        char *q = launder_ptr((char *)malloc(32));
        free(p);
        char *r = launder_ptr((char *)malloc(32));
        free(q);
        announce(p);
        free(p);
        free(r);
    }
    CASE("double_free_8")
    {
        char *p = launder_ptr((char *)malloc(8));
        free(p);
        announce(p);
        free(p);
        check = 8;
    }
    CASE("double_free_8_delayed")
    {
        char *p = launder_ptr((char *)malloc(8));
        char *q = launder_ptr((char *)malloc(8)), *r = launder_ptr((char *)malloc(8));
        free(p);
        free(q);
        announce(p);
        free(p);
        free(r);
        check = 8;
    }
    CASE("double_free_large")
    {
        char *p = launder_ptr((char *)malloc(256 << 10));
        free(p);
        announce(p);
        free(p);
    }
    CASE("double_free_large_delayed")
    {
        char *p = launder_ptr((char *)malloc(256 << 10));
        free(p);
        void *s = launder_ptr(malloc(64)), *t = launder_ptr(malloc(3000));
        announce(p);
        free(p);
        free(s);
        free(t);
    }
    CASE("double_free_huge")
    {
        char *p = launder_ptr((char *)malloc(8 << 20));
        free(p);
        announce(p);
        free(p);
    }
    CASE("unaligned_free_small")
    {
        char *p = (char *)malloc(64);
        announce(p + 1);
        free(launder_ptr(p + 1));
        free(p);
    }
    CASE("unaligned_free_large")
    {
        char *p = (char *)malloc(256 << 10);
        announce(p + 1);
        free(launder_ptr(p + 1));
        free(p);
    }
    CASE("invalid_free_small_region")
    {
        /* A block boundary of our slab that was never handed out. */
        char *p = (char *)malloc(64);
        announce(p + 64 * 40);
        free(launder_ptr(p + 64 * 40));
        free(p);
    }
    CASE("invalid_free_small_region_far")
    {
        char *p = (char *)malloc(16);
        char *q = launder_ptr(p + ((size_t)1 << 30));
        announce(q);
        free(q);
        free(p);
    }
    CASE("invalid_free_unprotected")
    {
        char *m = (char *)mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            die("mmap");
        announce(m);
        free(launder_ptr(m));
    }
    CASE("invalid_free_protected")
    {
        /* Reading the pointed-to memory would fault: the check must not. */
        char *m = (char *)mmap(NULL, 1 << 16, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            die("mmap");
        announce(m + 64);
        free(launder_ptr(m + 64));
    }
    CASE("uninitialized_free")
    {
        void *p = garbage_ptr();
        announce(p);
        free(p);
    }
    CASE("uninitialized_realloc")
    {
        void *p = garbage_ptr();
        announce(p);
        if (realloc(p, 64) != NULL || errno != EINVAL)
            die("realloc of a garbage pointer did not fail with EINVAL");
    }
    CASE("uninitialized_malloc_usable_size")
    {
        void *p = garbage_ptr();
        announce(p);
        if (malloc_usable_size(p) != 0)
            die("malloc_usable_size of a garbage pointer is not 0");
    }
    CASE("invalid_malloc_usable_size_small")
    {
        char *p = (char *)malloc(64);
        announce(p + 16);
        if (malloc_usable_size(launder_ptr(p + 16)) != 0)
            die("malloc_usable_size of an interior pointer is not 0");
        free(p);
    }
    CASE("unaligned_malloc_usable_size_small")
    {
        char *p = (char *)malloc(64);
        announce(p + 1);
        if (malloc_usable_size(launder_ptr(p + 1)) != 0)
            die("malloc_usable_size of a misaligned pointer is not 0");
        free(p);
    }
    CASE("freed_malloc_usable_size_small")
    {
        char *p = launder_ptr((char *)malloc(64));
        free(p);
        announce(p);
        if (malloc_usable_size(p) != 0)
            die("malloc_usable_size of a freed block is not 0");
    }
    CASE("freed_realloc_small")
    {
        char *p = launder_ptr((char *)malloc(64));
        free(p);
        announce(p);
        if (realloc(p, 200) != NULL)
            die("realloc of a freed block returned a block");
    }
    CASE("freed_realloc_large")
    {
        char *p = launder_ptr((char *)malloc(256 << 10));
        free(p);
        announce(p);
        if (realloc(p, 300 << 10) != NULL)
            die("realloc of a freed block returned a block");
    }
    CASE("delete_type_size_mismatch")
    {
        /* new of 1 byte, sized delete of a 32-byte type. */
        char *p = launder_ptr(new char);
        announce(p);
        delete launder_ptr((big *)(void *)p);
    }
    CASE("sdallocx_size_mismatch_large")
    {
        void *p = mallocx(100000, 0);
        announce(p);
        sdallocx(p, 300000, 0);
        sdallocx(p, 100000, 0);
    }
    CASE("write_after_free_small_link")
    {
        /* The first word of a freed block is its free-list link. */
        char *p = launder_ptr((char *)malloc(64));
        free(p);
        poke(p, 0, 8, 'A');
        announce(p);
        void *a = malloc(64), *b = malloc(64);
        free(a);
        free(b);
    }
    CASE("overflow_into_free_neighbour")
    {
        /* An overflow of one byte from a block that fills its class
         * exactly into the free block after it (its link). */
        enum { N = 64 };
        char *v[N];
        for (int i = 0; i < N; i++)
            v[i] = (char *)malloc(48);
        char *p = NULL, *q = NULL;
        for (int i = 0; i < N && !p; i++)
            for (int j = 0; j < N; j++)
                if (v[j] == v[i] + 48) {
                    p = v[i];
                    q = v[j];
                    break;
                }
        if (!p)
            die("no two adjacent 48-byte blocks");
        for (int i = 0; i < N; i++)
            if (v[i] != p && v[i] != q)
                free(v[i]);
        free(q);
        announce(q);
        flip(p, 48, 0x18);
        void *a = malloc(48), *b = malloc(48);
        if (a == b)
            die("the same block handed out twice");
        free(a);
        free(b);
        free(p);
        check = 48;
    }
    CASE("write_after_free_small_data")
    {
        /* Past the link and the mark: nothing reads it. */
        char *p = launder_ptr((char *)malloc(64));
        free(p);
        poke(p, 32, 16, 'A');
        void *a = malloc(64);
        free(a);
    }
    CASE("write_after_free_small_reuse")
    {
        char *p = launder_ptr((char *)malloc(64));
        free(p);
        char *q = (char *)malloc(64);
        poke(p, 20, 1, 'B'); /* p == q here: the allocator cannot tell */
        free(q);
    }
    CASE("write_after_free_large")
    {
        char *p = launder_ptr((char *)malloc(256 << 10));
        free(p);
        poke(p, 4096, 1, 'C');
    }
    CASE("read_after_free_small")
    {
        char *p = launder_ptr((char *)malloc(64));
        memset(p, 7, 64);
        free(p);
        volatile char x = p[40];
        (void)x;
    }
    CASE("read_after_free_large")
    {
        char *p = launder_ptr((char *)malloc(256 << 10));
        free(p);
        volatile char x = p[4096];
        (void)x;
    }
    CASE("overflow_small_1_byte")
    {
        char *p = launder_ptr((char *)malloc(40));
        announce(p);
        poke(p, 40, 1, 'D');
        free(p);
    }
    CASE("overflow_small_8_byte")
    {
        char *p = launder_ptr((char *)malloc(40));
        announce(p);
        poke(p, 40, 8, 'E');
        free(p);
    }
    CASE("eight_byte_overflow_small")
    {
        char *p = launder_ptr((char *)malloc(8));
        announce(p);
        flip(p, 8 + 7, 1);
        free(p);
        check = 8;
    }
    CASE("write_zero_size")
    {
        char *p = launder_ptr((char *)malloc(0));
        if (!p)
            die("malloc(0) returned NULL");
        announce(p);
        poke(p, 0, 1, 'F');
        free(p);
    }
    CASE("impossibly_large")
    {
        size_t huge = launder_ptr((size_t)-8);
        errno = 0;
        if (malloc(huge) != NULL || errno != ENOMEM)
            die("malloc(SIZE_MAX - 7) did not fail with ENOMEM");
        errno = 0;
        if (calloc(launder_ptr((size_t)1 << 33), (size_t)1 << 33) != NULL || errno != ENOMEM)
            die("calloc with an overflowing product did not fail with ENOMEM");
        void *p = malloc(16);
        errno = 0;
        if (realloc(p, huge) != NULL || errno != ENOMEM)
            die("realloc to SIZE_MAX - 7 did not fail with ENOMEM");
        errno = 0;
        if (reallocarray(p, launder_ptr((size_t)1 << 40), (size_t)1 << 40) != NULL || errno != ENOMEM)
            die("reallocarray with an overflowing product did not fail with ENOMEM");
        free(p);
        if (mallocx(huge, 0) != NULL)
            die("mallocx(SIZE_MAX - 7) returned a block");
        void *q;
        if (posix_memalign(&q, 64, huge) != ENOMEM)
            die("posix_memalign(SIZE_MAX - 7) did not return ENOMEM");
        if (posix_memalign(&q, 24, 16) != EINVAL)
            die("posix_memalign with alignment 24 did not return EINVAL");
        errno = 0;
        if (aligned_alloc(launder_ptr((size_t)24), 48) != NULL || errno != EINVAL)
            die("aligned_alloc with alignment 24 did not fail with EINVAL");
        bool threw = false;
        try {
            char *x = new char[launder_ptr((size_t)1 << 62)];
            delete[] x;
        } catch (const std::bad_alloc &) {
            threw = true;
        }
        if (!threw)
            die("new of 2^62 bytes did not throw bad_alloc");
    }
    /* ---- The exact sequences of the published suites' tests (hardened
     * malloc's test/, isoalloc's tests/, how2heap's attacks), where they
     * differ from the kinds above: other sizes, offsets and values. ---- */
    CASE("invalid_free_small_region_16k")
    {
        /* 16 KiB past a 16-byte block: another page of the slab, or of
         * another span. */
        char *p = (char *)malloc(16);
        announce(p + 16384);
        free(launder_ptr(p + 16384));
        free(p);
    }
    CASE("invalid_malloc_usable_size_small_unused")
    {
        char *p = (char *)malloc(16);
        announce(p + 16384);
        if (malloc_usable_size(launder_ptr(p + 16384)) != 0)
            die("malloc_usable_size 16 KiB past a block is not 0");
        free(p);
    }
    CASE("uninitialized_free_1")
    {
        void *p = launder_ptr((void *)1);
        announce(p);
        free(p);
    }
    CASE("uninitialized_realloc_1")
    {
        void *p = launder_ptr((void *)1);
        announce(p);
        errno = 0;
        if (realloc(p, 16) != NULL || errno != EINVAL)
            die("realloc((void *)1) did not fail with EINVAL");
    }
    CASE("uninitialized_malloc_usable_size_1")
    {
        void *p = launder_ptr((void *)1);
        announce(p);
        if (malloc_usable_size(p) != 0)
            die("malloc_usable_size((void *)1) is not 0");
    }
    CASE("wild_free_top")
    {
        /* The last byte of the user address space (isoalloc's wild free). */
        void *p = launder_ptr((void *)(uintptr_t)0x7fffffffffffull);
        announce(p);
        free(p);
    }
    CASE("double_free_32k")
    {
        /* The largest small class. */
        char *p = launder_ptr((char *)malloc(32768));
        free(p);
        announce(p);
        free(p);
    }
    CASE("freed_malloc_usable_size_32k")
    {
        char *p = launder_ptr((char *)malloc(32768));
        free(p);
        announce(p);
        if (malloc_usable_size(p) != 0)
            die("malloc_usable_size of a freed block is not 0");
    }
    CASE("double_free_small_delayed_100")
    {
        /* A hundred blocks of the class allocated before and freed between
         * the two frees. */
        enum { N = 100 };
        void *v[N];
        char *p = launder_ptr((char *)malloc(16));
        for (int i = 0; i < N; i++)
            v[i] = malloc(16);
        free(p);
        for (int i = 0; i < N; i++)
            free(v[i]);
        announce(p);
        free(p);
        check = 16;
    }
    CASE("double_free_64k_delayed_100")
    {
        /* Large blocks: the first one's run coalesces with its freed
         * neighbours before the second free. */
        enum { N = 100 };
        void *v[N];
        char *p = launder_ptr((char *)malloc(65536));
        for (int i = 0; i < N; i++)
            v[i] = malloc(65536);
        free(p);
        for (int i = 0; i < N; i++)
            free(v[i]);
        announce(p);
        free(p);
    }
    CASE("realloc_zero_then_free")
    {
        /* realloc(p, 0) frees p (opt.zero_realloc "free", jemalloc 5.3's
         * default on Linux): a free of p afterwards is a double free. */
        char *p = launder_ptr((char *)malloc(16));
        errno = 0;
        if (realloc(p, 0) != NULL || errno != 0)
            die("realloc(p, 0) did not return NULL without errno");
        announce(p);
        free(p);
    }
    CASE("double_free_reused_large")
    {
        /* isoalloc's big double free: p is freed, a block of the same size
         * takes its address, p is freed again (a legitimate-looking free
         * of the new block, docs/misuse.md) and the new block once more:
         * that third free is the double free reported. */
        char *p = launder_ptr((char *)malloc(65537));
        free(p);
        char *z = launder_ptr((char *)malloc(65537));
        free(p);
        announce(z);
        free(z);
    }
    CASE("fastbin_dup")
    {
        /* how2heap's fastbin_dup / tcache_dup: free a, free b, free a. */
        char *a = launder_ptr((char *)malloc(24)), *b = launder_ptr((char *)malloc(24));
        free(a);
        free(b);
        announce(a);
        free(a);
        void *x = malloc(24), *y = malloc(24), *z = malloc(24);
        if (x == y || y == z || x == z)
            die("the same block handed out twice after free a; free b; free a");
        free(x);
        free(y);
        free(z);
        check = 24;
    }
    CASE("tcache_poisoning_global")
    {
        /* how2heap's tcache_poisoning: the freed block's link overwritten
         * with a target address; the allocator must never return it. */
        static uint64_t target[16] __attribute__((aligned(64)));
        char *a = launder_ptr((char *)malloc(128)), *b = launder_ptr((char *)malloc(128));
        free(a);
        free(b);
        *(volatile uintptr_t *)b = (uintptr_t)target;
        announce(b);
        void *x = malloc(128), *y = malloc(128);
        if (x == (void *)target || y == (void *)target)
            die("malloc returned the poisoned link's target");
        free(x);
        free(y);
        check = 128;
    }
    CASE("tcache_poisoning_live_block")
    {
        /* The same, the link forged to a live block of the class on
         * another page: handing it out would give it two owners. */
        enum { N = 4000 };
        static char *v[N];
        for (int i = 0; i < N; i++)
            v[i] = (char *)malloc(128);
        /* 256 KiB apart: not the same slab. */
        char *victim = v[0], *b = NULL;
        for (int i = N - 1; i > 0 && !b; i--)
            if ((uintptr_t)v[i] - (uintptr_t)victim + (256u << 10) > (512u << 10))
                b = v[i];
        if (!b)
            die("no block of the class 256 KiB away");
        free(b);
        *(volatile uintptr_t *)b = (uintptr_t)victim;
        announce(b);
        void *x = malloc(128), *y = malloc(128);
        if (x == victim || y == victim)
            die("malloc handed out a live block (forged link)");
        free(x);
        free(y);
        for (int i = 0; i < N; i++)
            if (v[i] != b)
                free(v[i]);
        check = 128;
    }
    CASE("house_of_spirit")
    {
        /* how2heap's house_of_spirit: a fake chunk on the stack, with a
         * chunk-size word before it and the next one's after it. */
        uint64_t fake[10] __attribute__((aligned(16)));
        fake[1] = 0x40;
        fake[9] = 0x1234;
        void *p = launder_ptr((void *)&fake[2]);
        announce(p);
        free(p);
        void *q = malloc(0x30);
        if (q == p)
            die("malloc returned the fake stack chunk");
        free(q);
    }
    CASE("house_of_spirit_in_large")
    {
        /* The fake chunk inside a live large block. */
        char *big = (char *)malloc(200000);
        memset(big, 0, 256);
        ((uint64_t *)big)[1] = 0x40;
        announce(big + 16);
        free(launder_ptr(big + 16));
        free(big);
    }
    CASE("invalid_aligned_sized_delete_small")
    {
        /* hardened_malloc's: a 64-aligned 64-byte object deleted with
         * 64 bytes more than its size. */
        struct alignas(64) S {
            char x[24];
        };
        S *p = launder_ptr(new S);
        announce(p);
        ::operator delete(p, sizeof(S) + 64, std::align_val_t(alignof(S)));
        ::operator delete(p, sizeof(S), std::align_val_t(alignof(S)));
    }
    CASE("aligned_sized_delete")
    {
        /* The right sizes, small and large (alignas 64 and 8192): silent. */
        struct alignas(64) S {
            char x[24];
        };
        struct alignas(8192) L {
            char x[9000];
        };
        S *s = launder_ptr(new S);
        L *l = launder_ptr(new L);
        if (((uintptr_t)s & 63) || ((uintptr_t)l & 8191))
            die("aligned new returned a misaligned block");
        ::operator delete(s, sizeof(S), std::align_val_t(alignof(S)));
        ::operator delete(l, sizeof(L), std::align_val_t(alignof(L)));
    }
    CASE("overlapping_chunks_size")
    {
        /* how2heap's overlapping_chunks: the word before b (a chunk-size
         * field in glibc; here a's last bytes) enlarged, b freed, a bigger
         * block allocated: it must not overlap c. Sizes live out of band,
         * so nothing is reported. */
        char *a = (char *)malloc(0x100), *b = (char *)malloc(0x100), *c = (char *)malloc(0x80);
        memset(c, 'c', 0x80);
        *(volatile uint64_t *)(b - 8) = 0x191;
        free(b);
        char *d = (char *)malloc(0x180);
        memset(d, 'd', 0x180);
        for (int i = 0; i < 0x80; i++)
            if (c[i] != 'c')
                die("a block allocated after a size-field overwrite overlaps a live one");
        free(a);
        free(c);
        free(d);
    }
    CASE("api_corners")
    {
        /* The suites' checks of the API's answers. */
        void *q = launder_ptr((void *)1);
        if (posix_memalign(&q, 17, 100) != EINVAL || q != (void *)1)
            die("posix_memalign(17): not EINVAL with the pointer untouched");
        errno = 0;
        if (aligned_alloc(launder_ptr((size_t)17), 100) != NULL || errno != EINVAL)
            die("aligned_alloc(17) did not fail with EINVAL");
        void *z = aligned_alloc(8192, launder_ptr((size_t)0));
        if (!z || ((uintptr_t)z & 8191))
            die("aligned_alloc(8192, 0) did not return an aligned block");
        free(z);
        if (posix_memalign(&z, 8192, launder_ptr((size_t)0)) != 0 || !z || ((uintptr_t)z & 8191))
            die("posix_memalign(8192, 0) did not return an aligned block");
        free(z);
        void *pv = pvalloc(launder_ptr((size_t)0));
        if (!pv || ((uintptr_t)pv & 4095))
            die("pvalloc(0) did not return a page");
        free(pv);
        errno = 0;
        if (calloc(launder_ptr(SIZE_MAX), 2) != NULL || errno != ENOMEM)
            die("calloc(SIZE_MAX, 2) did not fail with ENOMEM");
        errno = 0;
        if (reallocarray(NULL, launder_ptr(SIZE_MAX / 2 + 2), 2) != NULL || errno != ENOMEM)
            die("reallocarray wrapping to 2 did not fail with ENOMEM");
        unsigned char *cz = (unsigned char *)calloc(128, 16);
        for (int i = 0; i < 128 * 16; i++)
            if (cz[i])
                die("calloc returned a non-zero byte");
        free(cz);
        /* A huge block kept whole by a realloc that cannot be met. */
        size_t big = 40 << 20;
        char *h = (char *)malloc(big);
        memset(h, 'a', big);
        errno = 0;
        if (realloc(h, launder_ptr(SIZE_MAX / 2)) != NULL || errno != ENOMEM)
            die("realloc to SIZE_MAX / 2 did not fail with ENOMEM");
        if (h[0] != 'a' || h[big - 1] != 'a')
            die("a failed realloc changed the block");
        free(h);
        /* large_array_growth: realloc by 1.5x from 256 KiB, 20 times. */
        void *g = NULL;
        size_t gs = 256 << 10;
        for (int i = 0; i < 20; i++) {
            g = realloc(g, gs);
            if (!g)
                die("realloc growth failed");
            memset(g, 'a', gs);
            gs = gs * 3 / 2;
        }
        free(g);
        /* malloc_noreuse: malloc(0) is a block of its own. */
        char *m0 = (char *)malloc(0);
        for (int i = 0; i < 512; i++) {
            char *m = (char *)malloc(64);
            if (m == m0)
                die("malloc(64) returned malloc(0)'s live block");
            free(m);
        }
        free(m0);
        if (malloc_usable_size(NULL) != 0)
            die("malloc_usable_size(NULL) is not 0");
        free(NULL);
        void *r = realloc(NULL, 12);
        if (!r)
            die("realloc(NULL, 12) failed");
        free(r);
    }
    CASE("foreign_glibc_small")
    {
        /* A block of another allocator in the same process: glibc's own
         * malloc (its heap, from brk), reached through libc.so.6. */
        void *p = foreign_glibc_alloc(64);
        announce(p);
        free(p);
        foreign_glibc_free(p);
    }
    CASE("foreign_glibc_mmapped")
    {
        /* glibc's mmap'd chunk (2 MiB: above its mmap threshold). */
        void *p = foreign_glibc_alloc(2 << 20);
        announce(p);
        free(p);
        foreign_glibc_free(p);
    }
    CASE("malloc_zero_distinct")
    {
        void *a = malloc(0), *b = malloc(0);
        if (!a || !b || a == b)
            die("malloc(0) twice: not two distinct blocks");
        free(a);
        free(b);
    }
    else
    {
        fprintf(stderr, "suite: unknown case '%s'\n", c);
        return 2;
    }
#undef CASE
    still_works(check);
    printf("ok\n");
    return 0;
}
