/*
 * cxx_churn: C++ object churn through new/delete-expressions (a compiler's
 * or a service's many short-lived nodes): batches of 64-255 objects of one
 * of eight types (16-256 B) are created, then destroyed in LIFO or FIFO
 * order, and one object of each batch replaces one of a ring of longer-lived
 * ones. Objects are written on construction and read on destruction; the
 * loops are predictable, so the time is the allocator's.
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
#include <new>

namespace {

constexpr size_t BATCH_MAX = 256; /* objects per batch, at most */
constexpr size_t RING = 1024;     /* longer-lived objects per worker */
constexpr uint64_t BASE_OPS = 120000000ull;

/* An object of N bytes whose constructor sets its first and last bytes (a
 * node's few fields). */
template <size_t N> struct Obj {
    unsigned char bytes[N];
    explicit Obj(unsigned char v)
    {
        bytes[0] = v;
        bytes[N - 1] = (unsigned char)(v + 1);
    }
    uint64_t sum() const { return bytes[0] + ((uint64_t)bytes[N - 1] << 8) + N; }
};

/* A longer-lived object of any of the types: kind says which, for delete. */
struct Handle {
    void *p;
    unsigned kind;
};

template <size_t N> uint64_t drop(void *p)
{
    Obj<N> *o = static_cast<Obj<N> *>(p);
    uint64_t s = o->sum();
    delete o;
    return s;
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

/* One batch of n objects of N bytes; object keep (if < n) survives into *kept. */
template <size_t N> uint64_t batch(void **slots, size_t n, bool lifo, size_t keep, unsigned kind,
                                   unsigned char v, Handle *kept)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        slots[i] = new Obj<N>((unsigned char)(v + i));
    *kept = Handle{slots[keep], kind};
    slots[keep] = nullptr;
    for (size_t i = 0; i < n; i++) {
        Obj<N> *o = static_cast<Obj<N> *>(slots[lifo ? n - 1 - i : i]);
        if (o) {
            sum += o->sum();
            delete o;
        }
    }
    return sum;
}

uint64_t run_batch(struct rng *r, void **slots, size_t n, unsigned char v, Handle *kept)
{
    unsigned kind = (unsigned)(rng_next(r) & 7);
    bool lifo = rng_next(r) & 1;
    size_t keep = rng_below(r, n);
    switch (kind) {
    case 0: return batch<16>(slots, n, lifo, keep, kind, v, kept);
    case 1: return batch<24>(slots, n, lifo, keep, kind, v, kept);
    case 2: return batch<32>(slots, n, lifo, keep, kind, v, kept);
    case 3: return batch<48>(slots, n, lifo, keep, kind, v, kept);
    case 4: return batch<64>(slots, n, lifo, keep, kind, v, kept);
    case 5: return batch<96>(slots, n, lifo, keep, kind, v, kept);
    case 6: return batch<128>(slots, n, lifo, keep, kind, v, kept);
    default: return batch<256>(slots, n, lifo, keep, kind, v, kept);
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
    void **slots = new void *[BATCH_MAX];
    Handle *ring = new Handle[RING]();
    uint64_t h = 0, sum = 0, done = 0, nb = 0;

    while (done < w->ops) {
        size_t n = 64 + rng_below(&r, BATCH_MAX - 64);
        Handle kept;
        sum += run_batch(&r, slots, n, (unsigned char)nb, &kept);
        size_t k = rng_below(&r, RING);
        if (ring[k].p)
            sum += release(ring[k]);
        ring[k] = kept;
        done += 2 * n; /* n news and n deletes */
        if ((++nb & 1023) == 0)
            h = mix(h, sum);
    }
    for (size_t k = 0; k < RING; k++)
        if (ring[k].p)
            sum += release(ring[k]);
    delete[] slots;
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
