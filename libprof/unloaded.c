/* unloaded: the modules dlclose unloaded (see unloaded.h). */
#include "unloaded.h"

#include "bss_large.h"
#include "elfsym.h"

#include <link.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>

#define SEG_MAX 4    /* code segments kept per module (one in the usual layouts) */
#define SNAP_MAX 1024
#define BUILD_ID_HEX 68

struct seg {
    uintptr_t lo, hi, offset; /* page-aligned, as the kernel maps a PT_LOAD */
};

/* A loaded module as the snapshot before a dlclose saw it. */
struct mod {
    uintptr_t lo, hi;  /* lowest to highest PT_LOAD byte */
    uint32_t name;     /* offset of its path in its snap's names, or NO_NAME */
    unsigned nseg;
    struct seg seg[SEG_MAX];
    char build_id[BUILD_ID_HEX];
};
#define NO_NAME UINT32_MAX

/* A look at the loaded modules, with what a record needs. */
struct snap {
    unsigned n;
    bool overflow;
    struct mod m[SNAP_MAX];
    size_t names_len;
    char names[64 << 10];
};
/* Under the unload lock: the look before a dlclose (or, when unloads are
 * polled, at the last poll), and the poll's new look. */
static struct snap before BSS_LARGE, now BSS_LARGE;
static struct {
    unsigned n;
    bool overflow;
    struct {
        uintptr_t lo, hi;
    } r[SNAP_MAX];
} after BSS_LARGE;

/* A module dlclose unloaded, once per distinct module and place (path,
 * build ID, address range). Written under the unload lock, before nrecs
 * covers it; never changed after. */
struct rec {
    uintptr_t lo, hi;
    unsigned nseg;
    struct seg seg[SEG_MAX];
    char build_id[BUILD_ID_HEX];
    char path[512];
};
static struct rec recs[UNLOADED_MAX] BSS_LARGE;
static _Atomic unsigned nrecs;
/* Every unload, in time order: the load generation after it (done) and
 * the module's record. Two plugins loaded in turn at one address take two
 * records and one event per unload. */
struct event {
    uint64_t done;
    unsigned rec;
};
static struct event events[UNLOADED_EVENTS] BSS_LARGE;
static _Atomic unsigned nevents;
/* Unloads not recorded (a table full): stacks older than this may hold
 * addresses of modules not in recs. */
static _Atomic uint64_t overflow_done;
static _Atomic uint64_t last_done;

/* The range of a module's PT_LOADs; with the details when m is not NULL. */
static bool module_range(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi,
                         struct mod *m)
{
    *lo = UINTPTR_MAX;
    *hi = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_NOTE && m && !m->build_id[0] && ph->p_memsz <= 4096)
            elfsym_notes_build_id((const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
                                  ph->p_memsz, m->build_id, sizeof(m->build_id));
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < *lo)
            *lo = a;
        if (a + ph->p_memsz > *hi)
            *hi = a + ph->p_memsz;
        if (m && (ph->p_flags & PF_X) && m->nseg < SEG_MAX) {
            struct seg *s = &m->seg[m->nseg++];
            s->lo = a & ~(uintptr_t)4095;
            s->hi = (a + ph->p_memsz + 4095) & ~(uintptr_t)4095;
            s->offset = ph->p_offset & ~(uint64_t)4095;
        }
    }
    return *hi > *lo;
}

/* mapped_path's question and answer. */
struct path_at {
    uintptr_t addr;
    char *out;
    size_t cap;
};

static int path_line(void *varg, char *line)
{
    struct path_at *q = varg;
    unsigned long long lo, hi;
    int pathpos = 0;
    if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &pathpos) != 2 || !pathpos ||
        q->addr < lo || q->addr >= hi)
        return 0;
    const char *p = line + pathpos;
    size_t len = strlen(p);
    if (p[0] == '/' && len < q->cap)
        memcpy(q->out, p, len + 1);
    return 1;
}

/* The path of the file mapped at addr, from /proc/self/maps, into out
 * (NUL-terminated; "" if none or longer than cap). For a module loaded by
 * a relative name ("./libplug.so", or a bare name found through
 * LD_LIBRARY_PATH), which the loader keeps as given. No allocation. */
static void mapped_path(uintptr_t addr, char *out, size_t cap)
{
    char buf[4096];
    struct path_at q = {addr, out, cap};
    out[0] = 0;
    elfsym_maps_each(buf, sizeof(buf), path_line, &q);
}

static int snap_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct snap *sn = arg;
    if (sn->n == SNAP_MAX) {
        sn->overflow = true;
        return 0;
    }
    struct mod *m = &sn->m[sn->n];
    m->nseg = 0;
    m->build_id[0] = 0;
    m->name = NO_NAME;
    if (!module_range(info, &m->lo, &m->hi, m))
        return 0;
    const char *name = info->dlpi_name;
    char real[512];
    /* (not the vDSO, "linux-vdso.so.1": no file, and every dlclose would
     * read the maps for it) */
    if (name && name[0] && name[0] != '/' && m->lo != getauxval(AT_SYSINFO_EHDR)) {
        mapped_path(m->lo, real, sizeof(real));
        name = real;
    }
    size_t len = name ? strlen(name) : 0;
    if (len && name[0] == '/' && len < sizeof(recs[0].path) &&
        sn->names_len + len + 1 <= sizeof(sn->names)) {
        memcpy(sn->names + sn->names_len, name, len + 1);
        m->name = (uint32_t)sn->names_len;
        sn->names_len += len + 1;
    }
    sn->n++;
    return 0;
}

static void snap_take(struct snap *sn)
{
    sn->n = 0;
    sn->overflow = false;
    sn->names_len = 0;
    dl_iterate_phdr(snap_module, sn);
}

/* The path of module m of snapshot sn ("" if none). */
static const char *snap_name(const struct snap *sn, const struct mod *m)
{
    return m->name == NO_NAME ? "" : sn->names + m->name;
}

static int snap_after_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (after.n == SNAP_MAX) {
        after.overflow = true;
        return 0;
    }
    if (module_range(info, &after.r[after.n].lo, &after.r[after.n].hi, NULL))
        after.n++;
    return 0;
}

void unloaded_snapshot(void)
{
    snap_take(&before);
}

/* Record module m of before unloaded at done: its record (an earlier one
 * of the same module at the same place, or a new one) and the event. */
static void record(const struct mod *m, uint64_t done)
{
    const char *path = snap_name(&before, m);
    unsigned n = atomic_load_explicit(&nrecs, memory_order_relaxed), k;
    for (k = 0; k < n; k++)
        if (recs[k].lo == m->lo && recs[k].hi == m->hi && strcmp(recs[k].path, path) == 0 &&
            strcmp(recs[k].build_id, m->build_id) == 0)
            break;
    unsigned e = atomic_load_explicit(&nevents, memory_order_relaxed);
    if (e == UNLOADED_EVENTS || (k == n && n == UNLOADED_MAX)) {
        atomic_store_explicit(&overflow_done, done, memory_order_release);
        return;
    }
    if (k == n) {
        struct rec *r = &recs[n];
        r->lo = m->lo;
        r->hi = m->hi;
        r->nseg = m->nseg;
        memcpy(r->seg, m->seg, sizeof(r->seg));
        memcpy(r->build_id, m->build_id, sizeof(r->build_id));
        strcpy(r->path, path); /* shorter than path[]: snap_module */
        atomic_store_explicit(&nrecs, n + 1, memory_order_release);
    }
    events[e].done = done;
    events[e].rec = k;
    atomic_store_explicit(&nevents, e + 1, memory_order_release);
}

/* The first event after generation since (events are in time order). */
static unsigned first_event_after(uint64_t since, unsigned ne)
{
    unsigned lo = 0, hi = ne;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (events[mid].done <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void unloaded_note(uint64_t done)
{
    after.n = 0;
    after.overflow = false;
    dl_iterate_phdr(snap_after_module, NULL);
    if (before.overflow || after.overflow) {
        atomic_store_explicit(&overflow_done, done, memory_order_release);
    } else {
        for (unsigned i = 0; i < before.n; i++) {
            bool kept = false;
            for (unsigned j = 0; j < after.n && !kept; j++)
                kept = after.r[j].lo == before.m[i].lo && after.r[j].hi == before.m[i].hi;
            if (!kept)
                record(&before.m[i], done);
        }
    }
    atomic_store_explicit(&last_done, done, memory_order_release);
}

void unloaded_poll_note(uint64_t done)
{
    snap_take(&now);
    if (before.overflow || now.overflow) {
        atomic_store_explicit(&overflow_done, done, memory_order_release);
    } else {
        /* Gone: no module of the new look at the same place with the same
         * build ID and path (another module loaded where it was since the
         * last look is not it). */
        for (unsigned i = 0; i < before.n; i++) {
            const struct mod *b = &before.m[i];
            bool kept = false;
            for (unsigned j = 0; j < now.n && !kept; j++) {
                const struct mod *a = &now.m[j];
                kept = a->lo == b->lo && a->hi == b->hi && strcmp(a->build_id, b->build_id) == 0 &&
                       strcmp(snap_name(&now, a), snap_name(&before, b)) == 0;
            }
            if (!kept)
                record(b, done);
        }
    }
    atomic_store_explicit(&last_done, done, memory_order_release);
    /* The new look is the next poll's baseline. */
    before.n = now.n;
    before.overflow = now.overflow;
    memcpy(before.m, now.m, now.n * sizeof(now.m[0]));
    before.names_len = now.names_len;
    memcpy(before.names, now.names, now.names_len);
}

uint64_t unloaded_last(void)
{
    return atomic_load_explicit(&last_done, memory_order_acquire);
}

bool unloaded_hit(const uintptr_t *pcs, unsigned n, uint64_t since)
{
    if (atomic_load_explicit(&overflow_done, memory_order_acquire) > since)
        return true;
    unsigned ne = atomic_load_explicit(&nevents, memory_order_acquire);
    for (unsigned e = first_event_after(since, ne); e < ne; e++) {
        const struct rec *r = &recs[events[e].rec];
        for (unsigned i = 0; i < n; i++)
            if (pcs[i] >= r->lo && pcs[i] < r->hi)
                return true;
    }
    return false;
}

uintptr_t unloaded_alias(uintptr_t pc, uint64_t gen)
{
    /* The module that held pc when the stack was taken: the first one
     * unloaded after that from a range holding pc. */
    unsigned ne = atomic_load_explicit(&nevents, memory_order_acquire);
    for (unsigned e = first_event_after(gen, ne); e < ne; e++) {
        unsigned k = events[e].rec;
        const struct rec *r = &recs[k];
        if (pc >= r->lo && pc < r->hi)
            return r->hi - r->lo > UNLOADED_ALIAS_STRIDE
                       ? pc
                       : UNLOADED_ALIAS_BASE + k * UNLOADED_ALIAS_STRIDE + (pc - r->lo);
    }
    return pc;
}

void unloaded_foreach(void (*cb)(void *arg, const struct unloaded_seg *seg), void *arg)
{
    unsigned m = atomic_load_explicit(&nrecs, memory_order_acquire);
    for (unsigned k = 0; k < m; k++) {
        const struct rec *r = &recs[k];
        if (!r->path[0] || r->hi - r->lo > UNLOADED_ALIAS_STRIDE)
            continue;
        uintptr_t alias = UNLOADED_ALIAS_BASE + k * UNLOADED_ALIAS_STRIDE;
        for (unsigned i = 0; i < r->nseg; i++) {
            /* A segment's page-aligned start may lie below the module's
             * first PT_LOAD byte only by the page offset; keep it inside. */
            uintptr_t lo = r->seg[i].lo < r->lo ? r->lo : r->seg[i].lo;
            struct unloaded_seg s = {
                .lo = alias + (lo - r->lo),
                .hi = alias + (r->seg[i].hi - r->lo),
                .offset = r->seg[i].offset + (lo - r->seg[i].lo),
                .path = r->path,
                .build_id = r->build_id,
            };
            cb(arg, &s);
        }
    }
}

static unsigned put_hex(char *buf, uint64_t v, unsigned width)
{
    char tmp[16];
    unsigned n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    for (unsigned i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

unsigned unloaded_maps_line(const struct unloaded_seg *seg, char *buf, unsigned size)
{
    size_t plen = strlen(seg->path);
    if (size < 16 + 1 + 16 + 6 + 16 + 12 + plen + 2)
        return 0;
    unsigned n = put_hex(buf, seg->lo, 8);
    buf[n++] = '-';
    n += put_hex(buf + n, seg->hi, 8);
    memcpy(buf + n, " r-xp ", 6);
    n += 6;
    n += put_hex(buf + n, seg->offset, 8);
    memcpy(buf + n, " 00:00 0    ", 12);
    n += 12;
    memcpy(buf + n, seg->path, plen);
    n += (unsigned)plen;
    buf[n++] = '\n';
    buf[n] = 0;
    return n;
}
