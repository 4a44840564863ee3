/* recent: lock-free recent-allocation ring and its JSON dump (see recent.h). */
#include "recent.h"
#include "cfi.h"
#include "unloaded.h"
#include "prof.h"
#include "writer.h"
#include "prof_hooks.h"
#include "bss_large.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic(struct recent_ring *) ring_cur;
static pthread_mutex_t resize_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t pow2_at_least(size_t n)
{
    size_t c = 1;
    while (c < n)
        c <<= 1;
    return c;
}

static struct recent_ring *ring_new(ssize_t max)
{
    struct recent_ring *r = prof_host_meta_alloc(sizeof(*r), 64);
    if (!r)
        return NULL;
    __atomic_store_n(&r->max, max, __ATOMIC_RELAXED);
    size_t want = max < 0 ? RECENT_UNLIMITED_CAP : (size_t)max;
    if (want > RECENT_UNLIMITED_CAP)
        want = RECENT_UNLIMITED_CAP;
    r->cap = want ? pow2_at_least(want) : 0;
    if (r->cap) {
        void *mem;
        if (prof_host_map(r->cap * sizeof(struct recent_entry), &mem) != 0)
            return NULL;
        r->slots = mem;
    }
    return r;
}

void recent_boot(ssize_t max)
{
    atomic_store(&ring_cur, ring_new(max));
}

bool recent_enabled(void)
{
    struct recent_ring *r = atomic_load_explicit(&ring_cur, memory_order_acquire);
    return r && __atomic_load_n(&r->max, __ATOMIC_RELAXED) != 0;
}

/* Every field of an entry is read while writers may write it (the sequence
 * number tells the reader afterwards whether its copy is whole), so all
 * accesses are relaxed atomics: correct under the C memory model and clean
 * under ThreadSanitizer. */
#define ST(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define LD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static void name_store(uint64_t dst[4], const char *src)
{
    char buf[32] = {0};
    for (size_t i = 0; i < sizeof(buf) - 1 && src && src[i]; i++)
        buf[i] = src[i];
    for (int i = 0; i < 4; i++) {
        uint64_t w;
        memcpy(&w, buf + 8 * i, 8);
        ST(dst[i], w);
    }
}

static void name_load(char out[33], const uint64_t src[4])
{
    for (int i = 0; i < 4; i++) {
        uint64_t w = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
        memcpy(out + 8 * i, &w, 8);
    }
    out[32] = 0;
}

/* A reader's whole copy of an entry. */
struct recent_copy {
    uintptr_t ptr;
    size_t size, usize;
    uint64_t alloc_uid, alloc_ns, dalloc_uid, dalloc_ns;
    const struct prof_site *alloc_site, *dalloc_site;
    char alloc_name[33], dalloc_name[33];
    uint64_t weight_bits, alloc_allocated, dalloc_allocated;
};

/* Copy entry e if it holds position p, consistently; returns its state (2 live, 4 released) or 0. */
static unsigned entry_read(struct recent_entry *e, uint64_t p, struct recent_copy *c)
{
    uint64_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
    if (!s1 || (s1 & 1) || (s1 >> 3) != p)
        return 0;
    c->ptr = LD(e->ptr);
    c->size = LD(e->size);
    c->usize = LD(e->usize);
    c->alloc_uid = LD(e->alloc_uid);
    c->alloc_ns = LD(e->alloc_ns);
    c->alloc_site = LD(e->alloc_site);
    c->dalloc_uid = LD(e->dalloc_uid);
    c->dalloc_ns = LD(e->dalloc_ns);
    c->dalloc_site = LD(e->dalloc_site);
    name_load(c->alloc_name, e->alloc_name);
    name_load(c->dalloc_name, e->dalloc_name);
    c->weight_bits = LD(e->weight_bits);
    c->alloc_allocated = LD(e->alloc_allocated);
    c->dalloc_allocated = LD(e->dalloc_allocated);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1)
        return 0;
    return (unsigned)(s1 & 7);
}

static size_t window(const struct recent_ring *r)
{
    ssize_t max = __atomic_load_n(&r->max, __ATOMIC_RELAXED);
    size_t m = max < 0 ? RECENT_UNLIMITED_CAP : (size_t)max;
    return m < r->cap ? m : r->cap;
}

/* Entry e's free fields as for a block not freed (or freed with no known
 * context): no site, thread, time or counter (a writer holds e). */
static void entry_clear_free(struct recent_entry *e)
{
    ST(e->dalloc_site, (const struct prof_site *)NULL);
    ST(e->dalloc_uid, 0);
    ST(e->dalloc_ns, 0);
    name_store(e->dalloc_name, "");
    ST(e->dalloc_allocated, 0);
}

void recent_note_alloc(struct prof_sample *rec, const struct prof_site *site,
                       const struct prof_tdata *td, uint64_t now)
{
    struct recent_ring *r = atomic_load_explicit(&ring_cur, memory_order_acquire);
    if (!r || __atomic_load_n(&r->max, __ATOMIC_RELAXED) == 0 || !r->cap)
        return;
    uint64_t pos = atomic_fetch_add_explicit(&r->head, 1, memory_order_relaxed);
    struct recent_entry *e = &r->slots[pos & (r->cap - 1)];
    uint64_t s = atomic_load_explicit(&e->seq, memory_order_acquire);
    for (;;) {
        if (s && (s >> 3) > pos)
            return; /* a newer writer already owns the slot */
        if (s & 1) { /* a writer is mid-entry: it finishes in a few stores */
            __builtin_ia32_pause();
            s = atomic_load_explicit(&e->seq, memory_order_acquire);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&e->seq, &s, (pos << 3) + 1, memory_order_acquire,
                                                  memory_order_acquire))
            break;
    }
    ST(e->ptr, rec->ptr);
    ST(e->size, rec->size);
    ST(e->usize, rec->usize);
    ST(e->alloc_uid, td->uid);
    ST(e->alloc_ns, now);
    ST(e->alloc_site, site);
    entry_clear_free(e);
    name_store(e->alloc_name, td->name);
    uint64_t wb;
    memcpy(&wb, &rec->weight, sizeof(wb));
    ST(e->weight_bits, wb);
    ST(e->alloc_allocated, td->sample_allocated);
    atomic_store_explicit(&e->seq, (pos << 3) + 2, memory_order_release);
    rec->recent_ring = r;
    rec->recent_idx = pos;
}

void recent_note_free(struct recent_ring *r, uint64_t pos, const struct prof_tdata *td,
                      uint64_t allocated, uint64_t now)
{
    struct recent_entry *e = &r->slots[pos & (r->cap - 1)];
    uint64_t s = (pos << 3) + 2;
    if (!atomic_compare_exchange_strong_explicit(&e->seq, &s, (pos << 3) + 3, memory_order_acquire,
                                                 memory_order_relaxed))
        return; /* evicted meanwhile */
    uintptr_t pcs[PROF_BT_MAX];
    unsigned depth = backtrace_capture(pcs, PROF_BT_MAX);
    ST(e->dalloc_site, (const struct prof_site *)site_intern(pcs, depth));
    ST(e->dalloc_uid, td ? td->uid : 0);
    ST(e->dalloc_ns, now);
    name_store(e->dalloc_name, td ? td->name : "");
    ST(e->dalloc_allocated, td ? allocated : 0);
    atomic_store_explicit(&e->seq, (pos << 3) + 4, memory_order_release);
}

ssize_t recent_get_max(void)
{
    struct recent_ring *r = atomic_load(&ring_cur);
    return r ? __atomic_load_n(&r->max, __ATOMIC_RELAXED) : 0;
}

int recent_set_max(ssize_t max, ssize_t *old)
{
    if (max < -1)
        return EINVAL;
    if (max > (ssize_t)RECENT_UNLIMITED_CAP)
        max = (ssize_t)RECENT_UNLIMITED_CAP; /* the ring's limit, read back as such */
    pthread_mutex_lock(&resize_lock);
    struct recent_ring *r = atomic_load(&ring_cur);
    *old = r ? __atomic_load_n(&r->max, __ATOMIC_RELAXED) : 0;
    size_t want = max < 0 ? RECENT_UNLIMITED_CAP : (size_t)max;
    if (r && r->cap >= want && r->cap > 0) {
        /* Same storage: only the window changes (shrinking drops the oldest). */
        __atomic_store_n(&r->max, max, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&resize_lock);
        return 0;
    }
    struct recent_ring *n = ring_new(max);
    if (!n) {
        pthread_mutex_unlock(&resize_lock);
        return ENOMEM;
    }
    if (r && r->cap && n->cap) {
        /* Carry the newest entries over, oldest first. */
        uint64_t head = atomic_load(&r->head);
        size_t keep = window(r) < n->cap ? window(r) : n->cap;
        uint64_t from = head > keep ? head - keep : 0;
        uint64_t out = 0;
        for (uint64_t p = from; p < head; p++) {
            struct recent_copy c;
            unsigned state = entry_read(&r->slots[p & (r->cap - 1)], p, &c);
            if (!state)
                continue;
            struct recent_entry *d = &n->slots[out & (n->cap - 1)];
            ST(d->ptr, c.ptr);
            ST(d->size, c.size);
            ST(d->usize, c.usize);
            ST(d->alloc_uid, c.alloc_uid);
            ST(d->alloc_ns, c.alloc_ns);
            ST(d->alloc_site, c.alloc_site);
            ST(d->dalloc_uid, c.dalloc_uid);
            ST(d->dalloc_ns, c.dalloc_ns);
            ST(d->dalloc_site, c.dalloc_site);
            name_store(d->alloc_name, c.alloc_name);
            name_store(d->dalloc_name, c.dalloc_name);
            ST(d->weight_bits, c.weight_bits);
            ST(d->alloc_allocated, c.alloc_allocated);
            ST(d->dalloc_allocated, c.dalloc_allocated);
            atomic_store(&d->seq, (out << 3) + state);
            out++;
        }
        atomic_store(&n->head, out);
    }
    atomic_store_explicit(&ring_cur, n, memory_order_release);
    pthread_mutex_unlock(&resize_lock);
    return 0;
}

/* ---- JSON ---- */

/* n bytes as the inside of a JSON string. */
static void json_mem(struct writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            writer_mem(w, esc, 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            writer_mem(w, esc, 6);
        } else {
            writer_mem(w, (const char *)&c, 1);
        }
    }
}

static void json_str(struct writer *w, const char *s)
{
    writer_mem(w, "\"", 1);
    json_mem(w, s, strlen(s));
    writer_mem(w, "\"", 1);
}

/* An unloaded module's code segment at its alias (unloaded.h), as one
 * more maps line. */
static void json_unloaded(void *arg, const struct unloaded_seg *seg)
{
    char line[700];
    unsigned n = unloaded_maps_line(seg, line, sizeof(line));
    if (n)
        json_mem(arg, line, n);
}

/* The process's /proc/self/maps as a JSON string, so that a ring dump can
 * be symbolized without a maps file taken beside it (beyond jemalloc's
 * layout, whose readers ignore the key). */
static void json_maps(struct writer *w)
{
    char buf[4096];
    writer_mem(w, "\"", 1);
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    for (;;) {
        ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        json_mem(w, buf, (size_t)n);
    }
    if (fd >= 0)
        close(fd);
    unloaded_foreach(json_unloaded, w);
    writer_mem(w, "\"", 1);
}

static void json_trace(struct writer *w, const struct prof_site *site)
{
    writer_str(w, "[");
    for (unsigned i = 0; site && i < site->depth; i++) {
        if (i)
            writer_str(w, ",");
        writer_str(w, "\"");
        /* First frame as a call site, the rest as return addresses: the
         * heap_v2 convention, which readers undo the same way. */
        uintptr_t pc = site_pc_out(site, i);
        writer_hex(w, i == 0 ? backtrace_call_site(pc) : pc);
        writer_str(w, "\"");
    }
    writer_str(w, "]");
}

/* A sample weight (>= 1) as a JSON number with 6 decimals. */
static void json_weight(struct writer *w, uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    if (!(d >= 1.0) || d > 1e15)
        d = 1.0; /* never written by the sampler; keep the JSON valid */
    uint64_t micro = (uint64_t)(d * 1e6 + 0.5);
    char frac[8];
    uint64_t f = micro % 1000000;
    for (int i = 5; i >= 0; i--, f /= 10)
        frac[i] = (char)('0' + f % 10);
    frac[6] = 0;
    writer_u64(w, micro / 1000000);
    writer_str(w, ".");
    writer_str(w, frac);
}

static bool keep(const struct recent_copy *e, bool released, const struct recent_filter *f)
{
    if (!f)
        return true;
    if ((f->state == 1 && released) || (f->state == 2 && !released))
        return false;
    if (e->usize < f->min_usize)
        return false;
    if (f->thread_uid >= 0 && e->alloc_uid != (uint64_t)f->thread_uid)
        return false;
    if (f->since_ns && e->alloc_ns < f->since_ns)
        return false;
    if (f->until_ns && e->alloc_ns > f->until_ns)
        return false;
    return true;
}

/* Aggregation by allocation site for the summary mode. */
struct recent_agg {
    const struct prof_site *site;
    uint64_t count, bytes, released;
    uint64_t timed;               /* released entries with a free time (not closed at a fork) */
    uint64_t life_sum, life_max;
};

static struct writer recent_writer BSS_LARGE;
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;

void recent_dump(void (*write_cb)(void *, const char *), void *opaque,
                 const struct recent_filter *filter)
{
    pthread_mutex_lock(&dump_lock);
    cfi_unload_poll(); /* unloads since the last stack, before any frame is written */
    struct writer *w = &recent_writer;
    writer_init(w, write_cb, opaque);
    struct recent_ring *r = atomic_load_explicit(&ring_cur, memory_order_acquire);
    ssize_t max = r ? __atomic_load_n(&r->max, __ATOMIC_RELAXED) : 0;
    writer_str(w, "{\"sample_interval\":");
    writer_u64(w, (uint64_t)1 << prof.lg_sample);
    writer_str(w, ",\"recent_alloc_max\":");
    writer_i64(w, max);
    bool summary = filter && filter->summary;
    writer_str(w, summary ? ",\"recent_alloc_summary\":[" : ",\"recent_alloc\":[");
    enum { MAXAGG = 4096 };
    static struct recent_agg agg[MAXAGG] BSS_LARGE;
    unsigned nagg = 0;
    bool first = true;
    if (r && r->cap && max != 0) {
        uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        size_t win = window(r);
        uint64_t from = head > win ? head - win : 0;
        for (uint64_t p = from; p < head; p++) {
            struct recent_copy c;
            unsigned state = entry_read(&r->slots[p & (r->cap - 1)], p, &c);
            if (!state)
                continue;
            bool released = state == 4;
            if (!keep(&c, released, filter))
                continue;
            if (summary) {
                unsigned i;
                for (i = 0; i < nagg && agg[i].site != c.alloc_site; i++)
                    ;
                if (i == nagg) {
                    if (nagg == MAXAGG)
                        continue;
                    memset(&agg[nagg], 0, sizeof(agg[0]));
                    agg[nagg++].site = c.alloc_site;
                }
                agg[i].count++;
                agg[i].bytes += c.usize;
                if (released)
                    agg[i].released++;
                /* An entry closed at a fork has no free time: no lifetime. */
                if (released && c.dalloc_ns) {
                    uint64_t life = c.dalloc_ns > c.alloc_ns ? c.dalloc_ns - c.alloc_ns : 0;
                    agg[i].timed++;
                    agg[i].life_sum += life;
                    if (life > agg[i].life_max)
                        agg[i].life_max = life;
                }
                continue;
            }
            writer_str(w, first ? "{\"size\":" : ",{\"size\":");
            first = false;
            writer_u64(w, c.size);
            writer_str(w, ",\"usize\":");
            writer_u64(w, c.usize);
            writer_str(w, released ? ",\"released\":true" : ",\"released\":false");
            writer_str(w, ",\"alloc_thread_uid\":");
            writer_u64(w, c.alloc_uid);
            if (c.alloc_name[0]) {
                writer_str(w, ",\"alloc_thread_name\":");
                json_str(w, c.alloc_name);
            }
            writer_str(w, ",\"alloc_time\":");
            writer_u64(w, c.alloc_ns);
            writer_str(w, ",\"alloc_trace\":");
            json_trace(w, c.alloc_site);
            /* Beyond jemalloc's fields: the sample's weight (objects it
             * stands for, from the R in force when it was taken) and the
             * threads' thread.allocated counters at the allocation (this
             * block included) and at the free, which tell whether the
             * thread allocated anything in between (heaptrack's test for
             * a temporary allocation). */
            writer_str(w, ",\"weight\":");
            json_weight(w, c.weight_bits);
            writer_str(w, ",\"alloc_thread_allocated\":");
            writer_u64(w, c.alloc_allocated);
            if (released && c.dalloc_site) {
                writer_str(w, ",\"dalloc_thread_uid\":");
                writer_u64(w, c.dalloc_uid);
                if (c.dalloc_name[0]) {
                    writer_str(w, ",\"dalloc_thread_name\":");
                    json_str(w, c.dalloc_name);
                }
                writer_str(w, ",\"dalloc_time\":");
                writer_u64(w, c.dalloc_ns);
                writer_str(w, ",\"dalloc_trace\":");
                json_trace(w, c.dalloc_site);
                if (c.dalloc_allocated) {
                    writer_str(w, ",\"dalloc_thread_allocated\":");
                    writer_u64(w, c.dalloc_allocated);
                }
            }
            writer_str(w, "}");
        }
    }
    for (unsigned i = 0; i < nagg; i++) {
        writer_str(w, i ? ",{\"count\":" : "{\"count\":");
        writer_u64(w, agg[i].count);
        writer_str(w, ",\"usize_total\":");
        writer_u64(w, agg[i].bytes);
        writer_str(w, ",\"released\":");
        writer_u64(w, agg[i].released);
        writer_str(w, ",\"lifetime_mean_ns\":");
        writer_u64(w, agg[i].timed ? agg[i].life_sum / agg[i].timed : 0);
        writer_str(w, ",\"lifetime_max_ns\":");
        writer_u64(w, agg[i].life_max);
        writer_str(w, ",\"alloc_trace\":");
        json_trace(w, agg[i].site);
        writer_str(w, "}");
    }
    writer_str(w, "],\"maps\":");
    json_maps(w);
    writer_str(w, "}");
    writer_flush(w);
    pthread_mutex_unlock(&dump_lock);
}

static struct dump_file final_out BSS_LARGE;

int recent_dump_final(const char *prefix)
{
    pthread_mutex_lock(&prof.dump_lock);
    if (!prof.prefix[0] || !prefix[0]) {
        pthread_mutex_unlock(&prof.dump_lock);
        return EFAULT;
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s.%d.%llu.f.recent.json", prefix, (int)getpid(),
             (unsigned long long)prof.dump_seq++);
    int err = dump_file_open(&final_out, path); /* warns on failure */
    if (!err) {
        recent_dump(dump_file_write, &final_out, NULL);
        err = dump_file_commit(&final_out);
    }
    pthread_mutex_unlock(&prof.dump_lock);
    return err;
}

void recent_prefork(void)
{
    pthread_mutex_lock(&dump_lock);
    pthread_mutex_lock(&resize_lock);
}

void recent_postfork_parent(void)
{
    pthread_mutex_unlock(&resize_lock);
    pthread_mutex_unlock(&dump_lock);
}

void recent_postfork_child(void)
{
    pthread_mutex_init(&resize_lock, NULL);
    pthread_mutex_init(&dump_lock, NULL);
    /* An entry another thread was writing at the fork (an odd seq) would
     * keep the child's next writer of its slot spinning for good: that
     * thread does not go on here. Caught mid-allocation (state 1), the
     * entry is half written: emptied. Caught mid-free (state 3: a free
     * runs backtrace_capture and site_intern, whose lock the prefork may
     * have been waiting for), the allocation is whole and the block's
     * sample was already forgotten: closed as released, with no free
     * context (the dump's JSON then leaves the dalloc fields out). */
    struct recent_ring *r = atomic_load_explicit(&ring_cur, memory_order_relaxed);
    for (size_t i = 0; r && i < r->cap; i++) {
        struct recent_entry *e = &r->slots[i];
        uint64_t q = atomic_load_explicit(&e->seq, memory_order_relaxed);
        if (!(q & 1))
            continue;
        if ((q & 7) == 3) {
            entry_clear_free(e);
            atomic_store_explicit(&e->seq, q + 1, memory_order_relaxed);
        } else {
            atomic_store_explicit(&e->seq, 0, memory_order_relaxed);
        }
    }
}
