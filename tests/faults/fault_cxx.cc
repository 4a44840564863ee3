// fault_cxx: the C++ operators under injected mmap failures (debug.fault,
// liballoc/fault.h): with every mmap failing, operator new (plain, array,
// aligned) throws std::bad_alloc and new(std::nothrow) returns nullptr once
// the space already mapped is used up; every object made before keeps its
// contents; after disarming, new works again.
#include <alloc.h>
#include "fault.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);             \
            std::exit(1);                                                                          \
        }                                                                                          \
    } while (0)

static uint64_t arm(unsigned sites)
{
    alloc_fault f = {sites, 0, 0, 0, 0, 1};
    uint64_t prev = 0;
    size_t sz = sizeof(prev);
    CHECK(mallctl("debug.fault", &prev, &sz, &f, sizeof(f)) == 0);
    return prev;
}

struct block {
    unsigned char *p;
    size_t n;
    int kind; // 0 new[], 1 aligned new, 2 nothrow new[]
};

static std::vector<block> *held;

static void fill(const block &b)
{
    for (size_t i = 0; i < b.n; i += (i < 128 ? 1 : 4096))
        b.p[i] = (unsigned char)(i * 13 + b.n);
}

static void check(const block &b)
{
    for (size_t i = 0; i < b.n; i += (i < 128 ? 1 : 4096))
        CHECK(b.p[i] == (unsigned char)(i * 13 + b.n));
}

static void release(const block &b)
{
    if (b.kind == 1)
        ::operator delete[](b.p, std::align_val_t(4096));
    else
        delete[] b.p;
}

// kind 0: new[] until bad_alloc; 1: aligned operator new[] until bad_alloc;
// 2: new(nothrow)[] until nullptr.
static void run(int kind, size_t n)
{
    held->reserve(1u << 20); /* no growth (a new mapping) while armed */
    arm(FAULT_MAP);
    bool failed = false;
    size_t calls = 0;
    /* Until the first refusal, bounded by 1 GiB in all: the earlier runs'
     * freed memory (about 200 MB stays mapped) serves requests without a
     * new mapping first, so how many calls succeed depends on what ran
     * before (100000 calls of 2000 B, the old bound, was about as much). */
    while (!failed && calls < held->capacity() && (uint64_t)calls * n < ((uint64_t)1 << 30)) {
        calls++;
        unsigned char *p = nullptr;
        try {
            if (kind == 0)
                p = new unsigned char[n];
            else if (kind == 1)
                p = static_cast<unsigned char *>(::operator new[](n, std::align_val_t(4096)));
            else
                p = new (std::nothrow) unsigned char[n];
        } catch (const std::bad_alloc &) {
            CHECK(kind != 2);
            failed = true;
            break;
        }
        if (!p) {
            CHECK(kind == 2);
            failed = true;
            break;
        }
        if (kind == 1)
            CHECK((uintptr_t)p % 4096 == 0);
        block b = {p, n, kind};
        fill(b);
        held->push_back(b);
    }
    uint64_t injected = arm(0);
    CHECK(failed);
    CHECK(injected > 0);
    for (const block &b : *held)
        check(b);
    unsigned char *p = new unsigned char[n];
    block b = {p, n, 0};
    fill(b);
    check(b);
    delete[] p;
    for (const block &h : *held)
        release(h);
    held->clear();
    std::printf("ok kind %d size %zu: failed after %zu calls (%llu faults), recovered\n", kind, n,
                calls, (unsigned long long)injected);
}

int main()
{
    held = new std::vector<block>;
    static const size_t sizes[] = {2000, 300000, 5u << 20};
    for (int kind = 0; kind < 3; kind++)
        for (size_t n : sizes)
            run(kind, n);
    delete held;
    std::printf("PASS\n");
    return 0;
}
