/*
 * cxx_churn: C++ object churn through new/delete-expressions (a compiler's
 * or a service's many short-lived nodes): objects of eight sizes (16-256 B)
 * created and destroyed in a mostly-LIFO pattern with a ring of longer-lived
 * ones, each fully written on construction and read on destruction.
 *
 * Built with the compiler's default sized deallocation (C++14 and later):
 * every delete-expression calls operator delete(void *, size_t), so an
 * allocator that exports the sized operator gets the size. Its twin
 * cxx_churn_unsized is the same source built with -fno-sized-deallocation
 * (operator delete(void *)): the two rows under one allocator show what the
 * size is worth to it. Under glibc the operators are libstdc++'s, which
 * call malloc/free.
 *
 * Usage: cxx_churn [threads=1] [scale=1]; threads split the work.
 */
#include "bench_common.h"

#include <pthread.h>

#include <cstddef>
#include <cstring>
#include <new>

namespace {

constexpr size_t STACK_CAP = 4096; /* max temporaries alive in one worker */
constexpr size_t RING = 1024;      /* longer-lived objects per worker */
constexpr uint64_t BASE_OPS = 40000000ull;

/* An object of N bytes: written whole by its constructor, summed by its destructor. */
template <size_t N> struct Obj {
    unsigned char bytes[N];
    explicit Obj(unsigned char v) { std::memset(bytes, v, N); }
    uint64_t sum() const { return bytes[0] + ((uint64_t)bytes[N - 1] << 8) + N; }
};

/* A typed handle: kind selects the size, so delete knows the static type. */
struct Handle {
    void *p;
    unsigned kind;
};

template <size_t N> Handle make(unsigned kind, unsigned char v)
{
    return Handle{new Obj<N>(v), kind};
}

template <size_t N> uint64_t drop(void *p)
{
    Obj<N> *o = static_cast<Obj<N> *>(p);
    uint64_t s = o->sum();
    delete o;
    return s;
}

/* Sizes skewed to the small end, as node-heavy C++ code is. */
Handle create(struct rng *r, unsigned char v)
{
    uint64_t x = rng_next(r);
    switch (x & 15) {
    case 0: case 1: case 2: case 3: return make<16>(0, v);
    case 4: case 5: case 6: return make<24>(1, v);
    case 7: case 8: return make<32>(2, v);
    case 9: case 10: return make<48>(3, v);
    case 11: case 12: return make<64>(4, v);
    case 13: return make<96>(5, v);
    case 14: return make<128>(6, v);
    default: return make<256>(7, v);
    }
}

uint64_t release(Handle h)
{
    switch (h.kind) {
    case 0: return drop<16>(h.p);
    case 1: return drop<24>(h.p);
    case 2: return drop<32>(h.p);
    case 3: return drop<48>(h.p);
    case 4: return drop<64>(h.p);
    case 5: return drop<96>(h.p);
    case 6: return drop<128>(h.p);
    default: return drop<256>(h.p);
    }
}

struct Worker {
    uint64_t ops;      /* operations to do */
    uint64_t seed;     /* RNG seed */
    uint64_t checksum; /* result */
    pthread_t tid;     /* thread running it */
};

void *run(void *arg)
{
    Worker *w = static_cast<Worker *>(arg);
    struct rng r = rng_seed(w->seed);
    Handle *stack = new Handle[STACK_CAP];
    Handle *ring = new Handle[RING]();
    size_t sp = 0;
    uint64_t h = 0, sum = 0;

    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t op = rng_next(&r) & 15;
        if (sp < 8 || (op < 7 && sp < STACK_CAP)) {
            Handle o = create(&r, (unsigned char)(i & 0xff));
            if ((i & 63) == 0) { /* a longer-lived result */
                size_t k = rng_below(&r, RING);
                if (ring[k].p)
                    sum += release(ring[k]);
                ring[k] = o;
            } else {
                stack[sp++] = o;
            }
        } else if (op < 14) { /* drop the newest temporary */
            sum += release(stack[--sp]);
        } else { /* drop one of the 16 newest */
            size_t back = rng_below(&r, sp < 16 ? sp : 16);
            Handle t = stack[sp - 1 - back];
            stack[sp - 1 - back] = stack[sp - 1];
            sp--;
            sum += release(t);
        }
        if ((i & 0xfffff) == 0)
            h = mix(h, sum);
    }
    while (sp)
        sum += release(stack[--sp]);
    for (size_t k = 0; k < RING; k++)
        if (ring[k].p)
            sum += release(ring[k]);
    delete[] stack;
    delete[] ring;
    w->checksum = mix(h, sum);
    return nullptr;
}

} // namespace

int main(int argc, char **argv)
{
    struct bench_args a = bench_parse(argc, argv, 1);
    uint64_t total = bench_scaled(BASE_OPS, a.scale);
    Worker *w = new Worker[a.threads];
    double t0 = now_sec();
    uint64_t h = 0;

    for (int i = 0; i < a.threads; i++) {
        w[i].ops = total / a.threads;
        w[i].seed = 2000 + i;
        if (pthread_create(&w[i].tid, nullptr, run, &w[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    for (int i = 0; i < a.threads; i++) {
        pthread_join(w[i].tid, nullptr);
        h = mix(h, w[i].checksum);
    }
    delete[] w;
#ifdef CXX_CHURN_NAME
    bench_report(CXX_CHURN_NAME, h, now_sec() - t0);
#else
    bench_report("cxx_churn", h, now_sec() - t0);
#endif
    return 0;
}
