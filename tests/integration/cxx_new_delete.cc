/*
 * C++ operators new/delete: every standard form is liballoc's (exported by
 * it, not libstdc++'s), goes through our heap (the thread's allocated and
 * deallocated byte counters move by the usable size; sallocx knows the
 * block), keeps libstdc++'s semantics (std::bad_alloc on a huge request, the
 * new_handler called and the allocation retried, nothrow forms returning
 * nullptr, aligned forms aligned, a bad alignment refused).
 * Built linked with -lalloc (tests/tests.mk) and, by tests/apps/cxx_preload.sh,
 * without it for a run under LD_PRELOAD: the allocator's functions are
 * therefore looked up with dlsym.
 */
#include <dlfcn.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);             \
            std::_Exit(1);                                                                         \
        }                                                                                          \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b);           \
        if (va_ != vb_) {                                                                          \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%llu vs %llu)\n", __FILE__,      \
                         __LINE__, #a, #b, va_, vb_);                                              \
            std::_Exit(1);                                                                         \
        }                                                                                          \
    } while (0)

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
typedef size_t (*sallocx_fn)(const void *, int);
typedef size_t (*nallocx_fn)(size_t, int);
static mallctl_fn p_mallctl;
static sallocx_fn p_sallocx;
static nallocx_fn p_nallocx;
static uint64_t *allocatedp, *deallocatedp;

/* The object that defines symbol name must be liballoc. */
static void check_defined_by_liballoc(const char *name)
{
    void *f = dlsym(RTLD_DEFAULT, name);
    Dl_info di;
    if (!f || !dladdr(f, &di) || !di.dli_fname || !std::strstr(di.dli_fname, "liballoc")) {
        std::fprintf(stderr, "CHECK failed: %s is defined by %s, not liballoc\n", name,
                     f && di.dli_fname ? di.dli_fname : "nobody");
        std::_Exit(1);
    }
}

/* Keeps the compiler from pairing and eliding a new with its delete. */
static void *volatile sink;
static void *opaque(void *p)
{
    sink = p;
    return sink;
}

/* One allocation through a new form: the thread counter moves by the usable
 * size, which is what nallocx(size, align) says and what sallocx reports. */
static void check_counted(void *p, size_t size, size_t align, uint64_t before)
{
    CHECK(p != nullptr);
    int flags = align ? __builtin_ctzl(align) : 0;
    size_t usize = p_nallocx(size ? size : 1, flags);
    CHECK_EQ(p_sallocx(p, 0), usize);
    CHECK_EQ(*allocatedp - before, usize);
    if (align)
        CHECK_EQ((uintptr_t)p % align, 0);
}

static void check_freed(size_t usize, uint64_t before)
{
    CHECK_EQ(*deallocatedp - before, usize);
}

static int handler_calls;
static int handler_limit;
static void counting_handler()
{
    if (++handler_calls >= handler_limit)
        std::set_new_handler(nullptr); /* the next failure then throws */
}
static void throwing_handler()
{
    handler_calls++;
    throw std::bad_alloc();
}
/* RLIMIT_AS is raised back by the handler: the retried allocation succeeds. */
static rlimit saved_as;
static void raising_handler()
{
    handler_calls++;
    setrlimit(RLIMIT_AS, &saved_as);
}

struct alignas(256) Wide {
    char bytes[300];
};

int main()
{
    p_mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    p_sallocx = (sallocx_fn)dlsym(RTLD_DEFAULT, "sallocx");
    p_nallocx = (nallocx_fn)dlsym(RTLD_DEFAULT, "nallocx");
    CHECK(p_mallctl && p_sallocx && p_nallocx);
    check_defined_by_liballoc("malloc");

    /* Every form is liballoc's. */
    static const char *const forms[] = {
        "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
        "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
        "_ZnamSt11align_val_tRKSt9nothrow_t", "_ZdlPv", "_ZdaPv", "_ZdlPvRKSt9nothrow_t",
        "_ZdaPvRKSt9nothrow_t", "_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t",
        "_ZdaPvSt11align_val_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
        "_ZdaPvSt11align_val_tRKSt9nothrow_t", "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t"};
    for (const char *f : forms)
        check_defined_by_liballoc(f);

    size_t sz = sizeof(allocatedp);
    CHECK(p_mallctl("thread.allocatedp", &allocatedp, &sz, nullptr, 0) == 0);
    sz = sizeof(deallocatedp);
    CHECK(p_mallctl("thread.deallocatedp", &deallocatedp, &sz, nullptr, 0) == 0);

    /* Each new form with each matching delete form, small, large and huge. */
    static const size_t sizes[] = {0, 1, 24, 100, 4000, 50000, 3u << 20};
    for (size_t n : sizes) {
        uint64_t b = *allocatedp, d;
        void *p = opaque(::operator new(n));
        check_counted(p, n, 0, b);
        size_t u = p_sallocx(p, 0);
        d = *deallocatedp;
        ::operator delete(p);
        check_freed(u, d);

        b = *allocatedp;
        p = opaque(::operator new[](n));
        check_counted(p, n, 0, b);
        d = *deallocatedp;
        ::operator delete[](p, n); /* sized */
        check_freed(u, d);

        b = *allocatedp;
        p = opaque(::operator new(n, std::nothrow));
        check_counted(p, n, 0, b);
        d = *deallocatedp;
        ::operator delete(p, n); /* sized */
        check_freed(u, d);

        b = *allocatedp;
        p = opaque(::operator new[](n, std::nothrow));
        check_counted(p, n, 0, b);
        d = *deallocatedp;
        ::operator delete[](p, std::nothrow);
        check_freed(u, d);

        b = *allocatedp;
        p = opaque(::operator new(n));
        d = *deallocatedp;
        ::operator delete[](p);
        check_freed(u, d);
        b = *allocatedp;
        p = opaque(::operator new(n));
        d = *deallocatedp;
        ::operator delete(p, std::nothrow);
        check_freed(u, d);

        for (size_t align : {(size_t)64, (size_t)4096, (size_t)(1u << 16)}) {
            std::align_val_t al{align};
            b = *allocatedp;
            p = opaque(::operator new(n, al));
            check_counted(p, n, align, b);
            u = p_sallocx(p, 0);
            d = *deallocatedp;
            ::operator delete(p, al);
            check_freed(u, d);

            b = *allocatedp;
            p = opaque(::operator new[](n, al));
            check_counted(p, n, align, b);
            d = *deallocatedp;
            ::operator delete[](p, n, al); /* sized aligned */
            check_freed(u, d);

            b = *allocatedp;
            p = opaque(::operator new(n, al, std::nothrow));
            check_counted(p, n, align, b);
            d = *deallocatedp;
            ::operator delete(p, n, al);
            check_freed(u, d);

            b = *allocatedp;
            p = opaque(::operator new[](n, al, std::nothrow));
            check_counted(p, n, align, b);
            d = *deallocatedp;
            ::operator delete[](p, al, std::nothrow);
            check_freed(u, d);

            p = opaque(::operator new(n, al));
            d = *deallocatedp;
            ::operator delete[](p, al);
            check_freed(u, d);
            p = opaque(::operator new(n, al));
            d = *deallocatedp;
            ::operator delete(p, al, std::nothrow);
            check_freed(u, d);
        }
    }
    /* new-expressions: an over-aligned type takes the aligned forms. */
    Wide *w = new Wide;
    CHECK_EQ((uintptr_t)opaque(w) % 256, 0);
    CHECK_EQ(p_sallocx(w, 0), p_nallocx(sizeof(Wide), 8));
    delete w;
    Wide *wa = new Wide[3];
    CHECK_EQ((uintptr_t)opaque(wa) % 256, 0);
    delete[] wa;
    /* Deleting nullptr through every form does nothing. */
    ::operator delete(nullptr);
    ::operator delete[](nullptr);
    ::operator delete(nullptr, (size_t)16);
    ::operator delete(nullptr, std::align_val_t{64});
    ::operator delete(nullptr, (size_t)16, std::align_val_t{64});

    /* std::bad_alloc on a request no allocator can meet. */
    const size_t huge = (size_t)1 << 62;
    bool thrown = false;
    try {
        opaque(::operator new(huge));
    } catch (const std::bad_alloc &) {
        thrown = true;
    }
    CHECK(thrown);
    thrown = false;
    try {
        opaque(::operator new[](huge, std::align_val_t{64}));
    } catch (const std::bad_alloc &) {
        thrown = true;
    }
    CHECK(thrown);
    /* An alignment that is not a power of two: bad_alloc, nullptr when nothrow. */
    thrown = false;
    try {
        opaque(::operator new(64, std::align_val_t{48}));
    } catch (const std::bad_alloc &) {
        thrown = true;
    }
    CHECK(thrown);
    CHECK(::operator new(64, std::align_val_t{48}, std::nothrow) == nullptr);

    /* nothrow: nullptr, no exception. */
    CHECK(::operator new(huge, std::nothrow) == nullptr);
    CHECK(::operator new[](huge, std::nothrow) == nullptr);
    CHECK(::operator new(huge, std::align_val_t{4096}, std::nothrow) == nullptr);
    CHECK(::operator new[](huge, std::align_val_t{4096}, std::nothrow) == nullptr);

    /* The new_handler loop: called after each failure, the allocation retried
     * each time; once the handler uninstalls itself, bad_alloc. */
    handler_calls = 0;
    handler_limit = 3;
    std::set_new_handler(counting_handler);
    thrown = false;
    try {
        opaque(::operator new(huge));
    } catch (const std::bad_alloc &) {
        thrown = true;
    }
    CHECK(thrown);
    CHECK_EQ(handler_calls, 3);
    /* Same for the aligned and the nothrow forms (nothrow: nullptr at the end). */
    handler_calls = 0;
    std::set_new_handler(counting_handler);
    CHECK(::operator new[](huge, std::align_val_t{128}, std::nothrow) == nullptr);
    CHECK_EQ(handler_calls, 3);
    /* A handler that throws: the nothrow form returns nullptr. */
    handler_calls = 0;
    std::set_new_handler(throwing_handler);
    CHECK(::operator new(huge, std::nothrow) == nullptr);
    CHECK_EQ(handler_calls, 1);
    std::set_new_handler(nullptr);

    /* A handler that makes room: the retry succeeds. The address space is
     * capped just above what the process maps, a 256 MiB request fails, the
     * handler lifts the cap. (Skipped under sanitizers, which map a lot.) */
    CHECK(getrlimit(RLIMIT_AS, &saved_as) == 0);
    long pages = 0;
    if (FILE *f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld", &pages) != 1)
            pages = 0;
        std::fclose(f);
    }
    if (pages > 0 && pages < (1L << 22) && saved_as.rlim_cur == RLIM_INFINITY) {
        rlimit cap = saved_as;
        cap.rlim_cur = (rlim_t)pages * 4096 + (64u << 20);
        CHECK(setrlimit(RLIMIT_AS, &cap) == 0);
        handler_calls = 0;
        std::set_new_handler(raising_handler);
        void *big = opaque(::operator new(256u << 20));
        std::set_new_handler(nullptr);
        setrlimit(RLIMIT_AS, &saved_as);
        CHECK(big != nullptr);
        CHECK(handler_calls >= 1);
        std::memset(big, 1, 4096);
        ::operator delete(big, (size_t)256 << 20);
        std::printf("new_handler lifted RLIMIT_AS after %d call(s); the retry succeeded\n",
                    handler_calls);
    }
    std::puts("ok");
    return 0;
}
