/*
 * The recent-allocation ring alone, under ThreadSanitizer (no allocator
 * interposed: the ring's few dependencies are replaced by test doubles
 * below). 8 writer threads record sampled allocations and free each other's
 * blocks while a reader dumps continuously and a resizer changes the size;
 * every dumped entry must be consistent, and a quiescent dump must hold
 * exactly min(N, samples) entries.
 */
#include "prof.h"
#include "recent.h"
#include "cfi.h"
#include "unloaded.h"
#include "prof_hooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- test doubles for the ring's dependencies (the allocator's side of
 * prof_hooks.h it uses) ---- */

struct prof_state prof = {.lg_sample = 0};

void *prof_host_meta_alloc(size_t size, size_t align)
{
    (void)align;
    return calloc(1, size);
}

/* The dump writer writes through the os seam. */
ssize_t prof_host_write(int fd, const void *buf, size_t n)
{
    return write(fd, buf, n);
}

/* The dump writer reports failed writes through prof_host_warn. */
void prof_host_warn(const char *msg)
{
    fputs(msg, stderr);
}

int prof_host_map(size_t size, void **out)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 12;
    *out = p;
    return 0;
}

/* Immortal "sites": one per distinct depth-2 stack, from a locked table. */
static pthread_mutex_t site_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prof_site *sites[1024];

struct prof_site *site_intern(const uintptr_t *pcs, unsigned depth)
{
    unsigned k = (unsigned)(pcs[0] % 1024);
    pthread_mutex_lock(&site_lock);
    if (!sites[k]) {
        sites[k] = calloc(1, sizeof(struct prof_site) + depth * sizeof(uintptr_t));
        sites[k]->depth = depth;
        memcpy(sites[k]->pcs, pcs, depth * sizeof(uintptr_t));
    }
    struct prof_site *s = sites[k];
    pthread_mutex_unlock(&site_lock);
    return s;
}

/* No module is ever unloaded here (unloaded.h). */
uintptr_t site_pc_out(const struct prof_site *s, unsigned i)
{
    return s->pcs[i];
}
void unloaded_foreach(void (*cb)(void *arg, const struct unloaded_seg *seg), void *arg)
{
    (void)cb, (void)arg;
}
unsigned unloaded_maps_line(const struct unloaded_seg *seg, char *buf, unsigned size)
{
    (void)seg, (void)buf, (void)size;
    return 0;
}
void cfi_unload_poll(void)
{
}

static __thread uintptr_t fake_pc;
unsigned backtrace_capture(uintptr_t *pcs, unsigned max)
{
    (void)max;
    pcs[0] = 0x400000 + fake_pc;
    pcs[1] = 0x500000;
    return 2;
}

/* ---- the workload ---- */

#define WRITERS 8
#define SLOTS 4096

static struct prof_sample records[SLOTS];
static _Atomic int slot_state[SLOTS]; /* 0 free, 1 being written, 2 live (freeable), 3 being freed */
static _Atomic bool stop;
static _Atomic uint64_t samples;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *writer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    struct prof_tdata td = {.uid = id};
    snprintf(td.name, sizeof(td.name), "w\"%u\\", (unsigned)id); /* quotes and backslashes */
    uint64_t x = id * 7919 + 1;
    while (!atomic_load(&stop)) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned k = (unsigned)(x % SLOTS);
        int expect = 0;
        if (atomic_compare_exchange_strong(&slot_state[k], &expect, 1)) {
            struct prof_sample *r = &records[k];
            memset(r, 0, sizeof(*r));
            r->ptr = 0x10000 + k * 16;
            r->size = 1 + x % 1000;
            r->usize = r->size + x % 16;
            fake_pc = id;
            recent_note_alloc(r, site_intern((uintptr_t[]){0x400000 + id, 0x500000}, 2), &td, now_ns());
            atomic_fetch_add(&samples, 1);
            atomic_store(&slot_state[k], 2);
        } else {
            expect = 2; /* free someone's block: cross-thread frees */
            if (atomic_compare_exchange_strong(&slot_state[k], &expect, 3)) {
                struct prof_sample *r = &records[k];
                if (r->recent_ring)
                    recent_note_free(r->recent_ring, r->recent_idx, &td, x, now_ns());
                atomic_store(&slot_state[k], 0);
            }
        }
    }
    return NULL;
}

struct dump_buf {
    char *s;
    size_t len, cap;
};

static void collect(void *opaque, const char *s)
{
    struct dump_buf *b = opaque;
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

/* Checks every entry of a dump; returns the number of entries. */
static long check_dump(const char *json)
{
    long n = 0;
    for (const char *p = strstr(json, "{\"size\":"); p; p = strstr(p + 1, "{\"size\":")) {
        unsigned long size, usize, at, dt = 0;
        if (sscanf(p, "{\"size\":%lu,\"usize\":%lu", &size, &usize) != 2) {
            fprintf(stderr, "unparseable entry: %.120s\n", p);
            exit(1);
        }
        const char *t = strstr(p, "\"alloc_time\":");
        const char *end = strstr(p + 1, "{\"size\":");
        if (!t || (end && t > end) || sscanf(t, "\"alloc_time\":%lu", &at) != 1) {
            fprintf(stderr, "entry without alloc_time: %.120s\n", p);
            exit(1);
        }
        const char *tr = strstr(p, "\"alloc_trace\":[\"0x");
        if (!tr || (end && tr > end)) {
            fprintf(stderr, "entry with an empty stack: %.160s\n", p);
            exit(1);
        }
        const char *d = strstr(p, "\"dalloc_time\":");
        if (d && (!end || d < end) && sscanf(d, "\"dalloc_time\":%lu", &dt) == 1 && dt < at) {
            fprintf(stderr, "freed before allocated: %.200s\n", p);
            exit(1);
        }
        if (usize < size) {
            fprintf(stderr, "usize %lu < size %lu\n", usize, size);
            exit(1);
        }
        const char *nm = strstr(p, "\"alloc_thread_name\":");
        if (!nm || (end && nm > end) ||
            (strncmp(nm, "\"alloc_thread_name\":\"w\\\"", 24) != 0 &&
             strncmp(nm, "\"alloc_thread_name\":\"tail \\\"q", 28) != 0)) {
            fprintf(stderr, "thread name not escaped: %.200s\n", p);
            exit(1);
        }
        n++;
    }
    return n;
}

static void *reader(void *arg)
{
    (void)arg;
    long dumps = 0;
    struct dump_buf b = {0};
    while (!atomic_load(&stop)) {
        b.len = 0;
        recent_dump(collect, &b, NULL);
        check_dump(b.s);
        dumps++;
    }
    free(b.s);
    printf("reader: %ld dumps checked\n", dumps);
    return NULL;
}

static void *resizer(void *arg)
{
    (void)arg;
    ssize_t sizes[] = {64, 1000, 16, 5000, 300};
    for (int i = 0; !atomic_load(&stop); i++) {
        ssize_t old;
        recent_set_max(sizes[i % 5], &old);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(void)
{
    recent_boot(1000);
    pthread_t w[WRITERS], rd, rs;
    for (uintptr_t i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer, (void *)(i + 1));
    pthread_create(&rd, NULL, reader, NULL);
    pthread_create(&rs, NULL, resizer, NULL);
    struct timespec ts = {2, 0};
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(rd, NULL);
    pthread_join(rs, NULL);

    /* Quiescent: exactly min(N, samples) entries. */
    ssize_t old;
    recent_set_max(777, &old);
    uint64_t before = atomic_load(&samples);
    struct prof_tdata td = {.uid = 99};
    for (int i = 0; i < 100; i++) {
        struct prof_sample r = {.ptr = 0x1000 + (uintptr_t)i, .size = 8, .usize = 8};
        strcpy(td.name, "tail \"q\" \\b\n");
        recent_note_alloc(&r, site_intern((uintptr_t[]){0x400099, 0x500000}, 2), &td, now_ns());
    }
    struct dump_buf b = {0};
    recent_dump(collect, &b, NULL);
    long n = check_dump(b.s);
    uint64_t total = before + 100;
    long want = total < 777 ? (long)total : 777;
    printf("samples %lu, quiescent dump %ld entries (want %ld)\n", (unsigned long)total, n, want);
    if (n != want)
        return 1;
    /* A ring of 10: exactly the 10 newest. */
    recent_set_max(10, &old);
    b.len = 0;
    recent_dump(collect, &b, NULL);
    n = check_dump(b.s);
    printf("after shrinking to 10: %ld entries\n", n);
    FILE *f = fopen(getenv("RING_JSON") ? getenv("RING_JSON") : "/dev/null", "w");
    if (f) {
        fputs(b.s, f);
        fclose(f);
    }
    free(b.s);
    return n == 10 ? 0 : 1;
}
