/*
 * dump_pprof: the heap profile as gzip'd profile.proto (perftools.profiles),
 * the format Go's pprof, speedscope, Pyroscope and Parca read. Values are
 * unsampled (our unbiased estimates); sample types follow Go's heap profile
 * (alloc_objects, alloc_space, inuse_objects, inuse_space); every
 * address is a call site (return address - 1: our stacks start at the
 * caller of malloc, and pprof readers use Location.address as is);
 * mappings come from /proc/self/maps with the GNU build IDs of the code in
 * memory; ids run 1..n in order. Message structs live in a scratch
 * arena and the packed bytes stream through zlib straight into the file
 * (dumps) or into mapped memory (prof_pprof_to_buf: the profile server and
 * prof.dump_pprof_fd, which send it after releasing the dump lock), so
 * neither the public malloc nor an allocator lock is involved.
 */
#include "prof_hooks.h"
#include "prof.h"
#include "drop_frames.h"
#include "options.h"
#include "elfsym.h"
#include "cfi.h"
#include "unloaded.h"
#include "scratch.h"
#include "writer.h"
#include "dynload_pb.h" /* before profile.pb-c.h: protobuf-c through dynload.c */
#include "dynload.h"
#include "profile.pb-c.h"
#include "prof_hooks.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "pmath.h"
#include "bss_large.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* pprof readers drop the allocation functions and the allocator plumbing
 * above the user's call (operator new, std::allocator, RawVec, ...). */
#define DROP_FRAMES "(" DROP_FRAMES_MALLOC "|" DROP_FRAMES_PLUMBING ")"

/* ---- string table ---- */

struct strtab {
    struct scratch *sc;
    char **strs;          /* string_table */
    size_t n, cap;
    uint32_t *slots;      /* open addressing: index+1, 0 empty */
    size_t nslots;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int64_t str_id(struct strtab *t, const char *s)
{
    if (t->n * 2 >= t->nslots) {
        size_t ns = t->nslots ? t->nslots * 2 : 1024;
        uint32_t *slots = scratch_calloc(t->sc, ns, sizeof(*slots));
        char **strs = scratch_calloc(t->sc, ns / 2 + 1, sizeof(*strs));
        if (!slots || !strs)
            return 0;
        if (t->n) /* t->strs is NULL before the first string */
            memcpy(strs, t->strs, t->n * sizeof(*strs));
        for (size_t i = 0; i < t->n; i++) {
            size_t k = hash_str(strs[i]) & (ns - 1);
            while (slots[k])
                k = (k + 1) & (ns - 1);
            slots[k] = (uint32_t)i + 1;
        }
        t->slots = slots;
        t->strs = strs;
        t->nslots = ns;
        t->cap = ns / 2 + 1;
    }
    size_t k = hash_str(s) & (t->nslots - 1);
    while (t->slots[k]) {
        if (strcmp(t->strs[t->slots[k] - 1], s) == 0)
            return t->slots[k] - 1;
        k = (k + 1) & (t->nslots - 1);
    }
    size_t len = strlen(s);
    char *copy = scratch_alloc(t->sc, len + 1);
    if (!copy)
        return 0;
    memcpy(copy, s, len + 1);
    t->strs[t->n] = copy;
    t->slots[k] = (uint32_t)t->n + 1;
    return (int64_t)t->n++;
}

/* ---- mappings ---- */

struct map {
    uint64_t start, limit, offset;
    char path[512];
    char build_id[80];       /* GNU build ID of the code mapped (from memory), "" unknown */
    unsigned dev_major, dev_minor; /* device of the mapped file (maps line) */
    unsigned long long inode;      /* inode of the mapped file, 0 unknown */
    int deleted;             /* the maps line said " (deleted)" */
    struct elfsym syms;      /* loaded on first use */
    int syms_state;          /* 0 not tried, 1 loaded, -1 unavailable */
};

/* Executable mappings of this process, main program first. */
static size_t read_maps(struct scratch *sc, struct map **out)
{
    static char text[1 << 20] BSS_LARGE;
    size_t len = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n;
        while (len < sizeof(text) - 1 && (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
            len += (size_t)n;
        close(fd);
    }
    text[len] = 0;
    char exe[512] = "";
    ssize_t en = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[en > 0 ? en : 0] = 0;
    size_t el = strlen(exe);
    if (el > 10 && strcmp(exe + el - 10, " (deleted)") == 0)
        exe[el - 10] = 0; /* compared with paths stripped of the mark below */
    size_t cap = 64, n = 0;
    struct map *maps = scratch_calloc(sc, cap, sizeof(*maps));
    for (char *line = text; maps && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        unsigned long long lo, hi, off, ino = 0;
        unsigned dmaj = 0, dmin = 0;
        char perms[8];
        int pathpos = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &lo, &hi, perms, &off, &dmaj, &dmin,
                   &ino, &pathpos) >= 4 &&
            perms[2] == 'x') {
            if (n == cap) {
                struct map *bigger = scratch_calloc(sc, cap * 2, sizeof(*maps));
                if (!bigger)
                    break;
                if (n) /* NULL before the first growth */
                    memcpy(bigger, maps, n * sizeof(*maps));
                maps = bigger;
                cap *= 2;
            }
            struct map *m = &maps[n++];
            m->start = lo;
            m->limit = hi;
            m->offset = off;
            m->dev_major = dmaj;
            m->dev_minor = dmin;
            m->inode = ino;
            const char *p = pathpos ? line + pathpos : "";
            snprintf(m->path, sizeof(m->path), "%s", p);
            size_t pl = strlen(m->path);
            if (pl > 10 && strcmp(m->path + pl - 10, " (deleted)") == 0) {
                m->path[pl - 10] = 0;
                m->deleted = 1;
            }
            if (exe[0] && strcmp(m->path, exe) == 0 && n > 1) {
                struct map tmp = *m;
                memmove(&maps[1], &maps[0], (n - 1) * sizeof(*maps));
                maps[0] = tmp;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    *out = maps;
    return maps ? n : 0;
}

struct bid_arg {
    struct map *maps;
    size_t n;
};

/* Gives each mapping that overlaps a loaded object's code that object's
 * build ID (from memory: right even if the file was replaced). */
static void set_build_id(void *varg, uintptr_t lo, uintptr_t hi, const char *hex)
{
    struct bid_arg *a = varg;
    for (size_t i = 0; i < a->n; i++) {
        struct map *m = &a->maps[i];
        if (m->start >= hi || m->limit <= lo)
            continue;
        snprintf(m->build_id, sizeof(m->build_id), "%s", hex);
        /* Start the mapping where the code starts: with lld's layout the
         * first code page also holds read-only data, and readers that take
         * memory_start for the executable segment's address (go tool
         * pprof) would otherwise be off by that much. Same file offsets. */
        if (lo > m->start && lo < m->limit) {
            m->offset += lo - m->start;
            m->start = lo;
        }
    }
}

/* True when the file now at m->path is the one that was mapped: same build
 * ID, or (no build ID in memory) same device and inode and not deleted. A
 * file replaced since it was loaded must not lend its names. */
static int map_file_is_mapped(const struct map *m)
{
    if (m->path[0] != '/')
        return 0;
    if (m->build_id[0]) {
        char disk[80];
        elfsym_file_build_id(m->path, disk, sizeof(disk));
        return strcmp(disk, m->build_id) == 0;
    }
    struct stat st;
    return !m->deleted && m->inode && stat(m->path, &st) == 0 && st.st_ino == m->inode &&
           major(st.st_dev) == m->dev_major && minor(st.st_dev) == m->dev_minor;
}

/* ---- building the message ---- */

struct loc_map {
    uint64_t *addrs;     /* open addressing keys (address + 1) */
    uint64_t *ids;
    size_t nslots, n;
};

struct build {
    struct scratch *sc;
    struct strtab st;
    struct map *maps;
    size_t nmaps;
    Perftools__Profiles__Location **locs;
    size_t nlocs, loccap;
    struct loc_map lm;
    Perftools__Profiles__Sample **samples;
    size_t nsamples, samplecap;
    int64_t k_thread, k_thread_name, k_bytes;
    Perftools__Profiles__Function **fns;
    size_t nfns, fncap;
    struct strtab fn_by_name;    /* name -> function index (reuses the string interning) */
    uint64_t *fn_of_str;         /* string id -> function id (0: none yet) */
    size_t fn_of_str_cap;
    enum site_src src;           /* counters: live or the peak snapshot */
    int failed;
};

/* Function id for a symbol name (one Function per distinct name). */
static uint64_t function_id(struct build *b, const char *name)
{
    int64_t sid = str_id(&b->st, name);
    if (sid <= 0)
        return 0;
    if ((size_t)sid >= b->fn_of_str_cap) {
        size_t nc = b->fn_of_str_cap ? b->fn_of_str_cap : 1024;
        while (nc <= (size_t)sid)
            nc *= 2;
        uint64_t *n = scratch_calloc(b->sc, nc, sizeof(*n));
        if (!n) {
            b->failed = 1;
            return 0;
        }
        if (b->fn_of_str_cap) /* NULL before the first growth */
            memcpy(n, b->fn_of_str, b->fn_of_str_cap * sizeof(*n));
        b->fn_of_str = n;
        b->fn_of_str_cap = nc;
    }
    if (b->fn_of_str[sid])
        return b->fn_of_str[sid];
    if (b->nfns == b->fncap) {
        size_t nc = b->fncap ? b->fncap * 2 : 256;
        Perftools__Profiles__Function **nf = scratch_calloc(b->sc, nc, sizeof(*nf));
        if (!nf) {
            b->failed = 1;
            return 0;
        }
        if (b->nfns) /* NULL before the first growth */
            memcpy(nf, b->fns, b->nfns * sizeof(*nf));
        b->fns = nf;
        b->fncap = nc;
    }
    Perftools__Profiles__Function *f = scratch_alloc(b->sc, sizeof(*f));
    if (!f) {
        b->failed = 1;
        return 0;
    }
    perftools__profiles__function__init(f);
    f->id = b->nfns + 1;
    /* The symbol as both name and system_name, as Go writes its names:
     * go tool pprof demangles such a name itself (C++, Rust legacy and v0;
     * its -symbolize=demangle= modes apply) and jeprof-c does too. */
    f->name = sid;
    f->system_name = sid;
    b->fns[b->nfns++] = f;
    b->fn_of_str[sid] = f->id;
    return f->id;
}

/* Fill the location's function from the mapping's ELF symbols. */
static void symbolize_location(struct build *b, Perftools__Profiles__Location *l)
{
    if (!l->mapping_id)
        return;
    struct map *m = &b->maps[l->mapping_id - 1];
    if (m->syms_state == 0)
        m->syms_state = (map_file_is_mapped(m) && elfsym_load(b->sc, m->path, &m->syms) == 0) ? 1 : -1;
    const char *name = m->syms_state > 0 ? elfsym_lookup(&m->syms, l->address - m->start + m->offset)
                                          : NULL;
    if (!name)
        return;
    uint64_t fid = function_id(b, name);
    Perftools__Profiles__Line *line = scratch_alloc(b->sc, sizeof(*line));
    Perftools__Profiles__Line **lines = scratch_alloc(b->sc, sizeof(*lines));
    if (!fid || !line || !lines)
        return;
    perftools__profiles__line__init(line);
    line->function_id = fid;
    lines[0] = line;
    l->n_line = 1;
    l->line = lines;
}

/* A code segment of an unloaded module at its alias (unloaded.h) as one
 * more mapping (struct build's maps: a bigger copy). */
static void add_unloaded_map(void *arg, const struct unloaded_seg *seg)
{
    struct build *b = arg;
    struct map *maps = scratch_calloc(b->sc, b->nmaps + 1, sizeof(*maps));
    if (!maps) {
        b->failed = 1;
        return;
    }
    if (b->nmaps)
        memcpy(maps, b->maps, b->nmaps * sizeof(*maps));
    struct map *m = &maps[b->nmaps];
    m->start = seg->lo;
    m->limit = seg->hi;
    m->offset = seg->offset;
    snprintf(m->path, sizeof(m->path), "%s", seg->path);
    snprintf(m->build_id, sizeof(m->build_id), "%s", seg->build_id);
    b->maps = maps;
    b->nmaps++;
}

static uint64_t mapping_for(struct build *b, uint64_t addr)
{
    for (size_t i = 0; i < b->nmaps; i++)
        if (addr >= b->maps[i].start && addr < b->maps[i].limit)
            return i + 1;
    return 0;
}

static uint64_t location_id(struct build *b, uint64_t addr)
{
    struct loc_map *m = &b->lm;
    if (m->n * 2 >= m->nslots) {
        size_t ns = m->nslots ? m->nslots * 2 : 4096;
        uint64_t *a = scratch_calloc(b->sc, ns, sizeof(*a)), *ids = scratch_calloc(b->sc, ns, sizeof(*ids));
        if (!a || !ids) {
            b->failed = 1;
            return 0;
        }
        for (size_t i = 0; i < m->nslots; i++) {
            if (!m->addrs[i])
                continue;
            size_t k = (m->addrs[i] * 0x9e3779b97f4a7c15ull) >> 20 & (ns - 1);
            while (a[k])
                k = (k + 1) & (ns - 1);
            a[k] = m->addrs[i];
            ids[k] = m->ids[i];
        }
        m->addrs = a;
        m->ids = ids;
        m->nslots = ns;
    }
    uint64_t key = addr + 1;
    size_t k = (key * 0x9e3779b97f4a7c15ull) >> 20 & (m->nslots - 1);
    while (m->addrs[k]) {
        if (m->addrs[k] == key)
            return m->ids[k];
        k = (k + 1) & (m->nslots - 1);
    }
    if (b->nlocs == b->loccap) {
        size_t nc = b->loccap ? b->loccap * 2 : 1024;
        Perftools__Profiles__Location **nl = scratch_calloc(b->sc, nc, sizeof(*nl));
        if (!nl) {
            b->failed = 1;
            return 0;
        }
        if (b->nlocs) /* NULL before the first growth */
            memcpy(nl, b->locs, b->nlocs * sizeof(*nl));
        b->locs = nl;
        b->loccap = nc;
    }
    Perftools__Profiles__Location *l = scratch_alloc(b->sc, sizeof(*l));
    if (!l) {
        b->failed = 1;
        return 0;
    }
    perftools__profiles__location__init(l);
    l->id = b->nlocs + 1;
    l->address = addr;
    l->mapping_id = mapping_for(b, addr);
    symbolize_location(b, l);
    b->locs[b->nlocs++] = l;
    m->addrs[k] = key;
    m->ids[k] = l->id;
    m->n++;
    return l->id;
}

static int64_t est(double v)
{
    return v > 0 ? pmath_llround(v) : 0;
}

static void add_sample(struct build *b, const struct prof_site *s, const struct prof_cnt *cur,
                       const struct prof_cnt *accum, uint64_t thr_uid, const char *thr_name)
{
    if (b->nsamples == b->samplecap) {
        size_t nc = b->samplecap ? b->samplecap * 2 : 1024;
        Perftools__Profiles__Sample **ns = scratch_calloc(b->sc, nc, sizeof(*ns));
        if (!ns) {
            b->failed = 1;
            return;
        }
        if (b->nsamples) /* NULL before the first growth */
            memcpy(ns, b->samples, b->nsamples * sizeof(*ns));
        b->samples = ns;
        b->samplecap = nc;
    }
    Perftools__Profiles__Sample *smp = scratch_alloc(b->sc, sizeof(*smp));
    uint64_t *ids = scratch_calloc(b->sc, s->depth ? s->depth : 1, sizeof(*ids));
    int64_t *vals = scratch_calloc(b->sc, 4, sizeof(*vals));
    unsigned nlabels = 2 + (thr_name && thr_name[0] ? 1 : 0);
    Perftools__Profiles__Label **labels = scratch_calloc(b->sc, nlabels, sizeof(*labels));
    Perftools__Profiles__Label *lab = scratch_calloc(b->sc, nlabels, sizeof(*lab));
    if (!smp || !ids || !vals || !labels || !lab) {
        b->failed = 1;
        return;
    }
    perftools__profiles__sample__init(smp);
    for (unsigned i = 0; i < s->depth; i++)
        ids[i] = location_id(b, backtrace_call_site(site_pc_out(s, i)));
    smp->n_location_id = s->depth;
    smp->location_id = ids;
    vals[0] = est(accum->ucount);
    vals[1] = est(accum->ubytes);
    vals[2] = est(cur->ucount);
    vals[3] = est(cur->ubytes);
    smp->n_value = 4;
    smp->value = vals;
    for (unsigned i = 0; i < nlabels; i++) {
        perftools__profiles__label__init(&lab[i]);
        labels[i] = &lab[i];
    }
    lab[0].key = b->k_bytes;
    lab[0].num = accum->count ? (int64_t)(accum->bytes / accum->count)
                              : cur->count ? (int64_t)(cur->bytes / cur->count) : 0;
    lab[0].num_unit = str_id(&b->st, "bytes");
    lab[1].key = b->k_thread;
    lab[1].num = (int64_t)thr_uid;
    if (nlabels == 3) {
        lab[2].key = b->k_thread_name;
        lab[2].str = str_id(&b->st, thr_name);
    }
    smp->n_label = nlabels;
    smp->label = labels;
    b->samples[b->nsamples++] = smp;
}

struct tctx_arg {
    struct build *b;
    const struct prof_site *site;
};

static void visit_tctx(void *arg, const struct prof_tctx *t)
{
    struct tctx_arg *a = arg;
    if (t->cur.count == 0 && t->accum.count == 0)
        return;
    const char *name = NULL;
    struct prof_tdata *td = t->tdata;
    if (t->thr_uid == PROF_UID_EXITED)
        name = "(exited threads)";
    else if (td && td->live && td->uid == t->thr_uid && td->name[0])
        name = td->name;
    add_sample(a->b, a->site, &t->cur, &t->accum, t->thr_uid, name);
}

static void visit_site(void *arg, const struct prof_site *s, const struct prof_cnt *cur,
                       const struct prof_cnt *accum)
{
    if (cur->count == 0 && accum->count == 0)
        return;
    struct tctx_arg a = {arg, s};
    site_foreach_tctx_src(((struct build *)arg)->src, s, visit_tctx, &a);
}

static Perftools__Profiles__ValueType *value_type(struct build *b, const char *type, const char *unit)
{
    Perftools__Profiles__ValueType *v = scratch_alloc(b->sc, sizeof(*v));
    if (!v) {
        b->failed = 1;
        return NULL;
    }
    perftools__profiles__value_type__init(v);
    v->type = str_id(&b->st, type);
    v->unit = str_id(&b->st, unit);
    return v;
}

/* ---- gzip streaming into a file, a caller's fd or memory ---- */

struct gz_sink {
    ProtobufCBuffer base;  /* must be first: protobuf-c calls base.append */
    z_stream zs;
    int fd;                /* destination when mem is NULL */
    struct pprof_buf *mem; /* or a growing buffer */
    int err;
    unsigned char out[65536];
};

/* Append n bytes to b, doubling its mapping as needed; 0 or ENOMEM. */
static int buf_append(struct pprof_buf *b, const unsigned char *p, size_t n)
{
    if (n > PPROF_BUF_MAX - b->len)
        return ENOMEM;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : (size_t)256 << 10;
        while (cap < b->len + n)
            cap *= 2;
        void *np;
        if (prof_host_map(cap, &np) != 0)
            return ENOMEM;
        if (b->len)
            if (b->len) /* NULL before the first growth */
                memcpy(np, b->p, b->len);
        if (b->cap)
            prof_host_unmap(b->p, b->cap);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static void sink_write(struct gz_sink *g, const unsigned char *p, size_t n)
{
    if (g->mem) {
        if (!g->err && n)
            g->err = buf_append(g->mem, p, n);
        return;
    }
    while (!g->err && n > 0) {
        ssize_t k = prof_host_write(g->fd, p, n); /* the os seam: fault.h can fail it */
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            g->err = k < 0 ? errno : EIO;
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

static void sink_deflate(struct gz_sink *g, const uint8_t *data, size_t len, int flush)
{
    g->zs.next_in = (Bytef *)data;
    g->zs.avail_in = (uInt)len;
    do {
        g->zs.next_out = g->out;
        g->zs.avail_out = sizeof(g->out);
        int r = dynload_z->deflate(&g->zs, flush);
        if (r == Z_STREAM_ERROR) {
            g->err = EIO;
            return;
        }
        sink_write(g, g->out, sizeof(g->out) - g->zs.avail_out);
    } while (g->zs.avail_out == 0 || (flush == Z_FINISH && g->zs.avail_in > 0));
}

static void sink_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data)
{
    struct gz_sink *g = (struct gz_sink *)buf;
    while (len > 0 && !g->err) {
        size_t k = len > (1u << 30) ? (1u << 30) : len;
        sink_deflate(g, data, k, Z_NO_FLUSH);
        data += k;
        len -= k;
    }
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return scratch_calloc(opaque, items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    (void)p;
}

static struct gz_sink sink BSS_LARGE;
static struct dump_file pb_out BSS_LARGE;

/* Build the profile and deflate it into sink (whose fd or mem the caller
 * set); default_type names the sample type readers show first (NULL: none
 * set, pprof then shows the last, inuse_space); served: the profile leaves
 * the process for a reader that may be on another machine (the profile
 * server, prof.dump_pprof_fd), so our names are final (see has_functions
 * below). 0 or an errno. Caller holds prof.dump_lock. */
static int pprof_emit(enum site_src src, const char *default_type, bool served)
{
    cfi_unload_poll(); /* unloads since the last stack, before any frame is written */
    struct scratch sc = {0};
    struct build b = {.sc = &sc, .src = src};
    b.st.sc = &sc;
    str_id(&b.st, "");
    Perftools__Profiles__Profile prof_msg;
    perftools__profiles__profile__init(&prof_msg);
    Perftools__Profiles__ValueType *types[4] = {
        value_type(&b, "alloc_objects", "count"), value_type(&b, "alloc_space", "bytes"),
        value_type(&b, "inuse_objects", "count"), value_type(&b, "inuse_space", "bytes")};
    b.k_bytes = str_id(&b.st, "bytes");
    b.k_thread = str_id(&b.st, "thread_id");
    b.k_thread_name = str_id(&b.st, "thread_name");
    b.nmaps = read_maps(&sc, &b.maps);
    struct bid_arg ba = {b.maps, b.nmaps};
    elfsym_loaded_build_ids(set_build_id, &ba);
    unloaded_foreach(add_unloaded_map, &b);

    pthread_mutex_lock(&prof.tdata_lock);
    site_foreach_src(src, visit_site, &b);
    pthread_mutex_unlock(&prof.tdata_lock);

    Perftools__Profiles__Mapping **maps = scratch_calloc(&sc, b.nmaps ? b.nmaps : 1, sizeof(*maps));
    Perftools__Profiles__Mapping *mapv = scratch_calloc(&sc, b.nmaps ? b.nmaps : 1, sizeof(*mapv));
    if (!maps || !mapv)
        b.failed = 1;
    for (size_t i = 0; !b.failed && i < b.nmaps; i++) {
        perftools__profiles__mapping__init(&mapv[i]);
        mapv[i].id = i + 1;
        mapv[i].memory_start = b.maps[i].start;
        mapv[i].memory_limit = b.maps[i].limit;
        mapv[i].file_offset = b.maps[i].offset;
        mapv[i].filename = str_id(&b.st, b.maps[i].path);
        mapv[i].build_id = str_id(&b.st, b.maps[i].build_id);
        /* Names from the symbol table ride along for readers without the
         * binaries. In a dump file has_functions stays false: pprof then
         * symbolizes the mapping itself (DWARF lines and inlined frames)
         * and keeps our names only where it cannot. A mapping whose file
         * was replaced or deleted claims has_functions, so that pprof does
         * not take names from the new file (go tool pprof does not check
         * build IDs). A served profile claims it for every file mapping:
         * fleet profilers (Parca, Pyroscope) read it away from the
         * binaries, and go tool pprof 1.19's own re-symbolization of C++
         * code through addr2line gives frames without a function name
         * ("[svc]" instead of shop::Cart::grow, checked by prof_http.sh). */
        mapv[i].has_functions = b.maps[i].path[0] == '/' && (served || !map_file_is_mapped(&b.maps[i]));
        maps[i] = &mapv[i];
    }
    prof_msg.n_sample_type = 4;
    prof_msg.sample_type = types;
    prof_msg.n_sample = b.nsamples;
    prof_msg.sample = b.samples;
    prof_msg.n_mapping = b.nmaps;
    prof_msg.mapping = maps;
    prof_msg.n_location = b.nlocs;
    prof_msg.location = b.locs;
    prof_msg.n_function = b.nfns;
    prof_msg.function = b.fns;
    prof_msg.drop_frames = str_id(&b.st, DROP_FRAMES);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    prof_msg.time_nanos = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    /* A peak dump says so, and when its snapshot was taken, in a comment
     * ("peak_time_ns N", as heap_v2's "# peak_time_ns" line): jeprof-c
     * --growth tells it from a dump of the heap at time_nanos. */
    int64_t peak_comment[1];
    if (src == SITE_PEAK) {
        char txt[40] = "peak_time_ns ", dig[24];
        uint64_t t = peak_time_ns();
        size_t nd = 0, n = strlen(txt);
        do
            dig[nd++] = (char)('0' + t % 10);
        while ((t /= 10) && nd < sizeof(dig));
        while (nd && n + 1 < sizeof(txt))
            txt[n++] = dig[--nd];
        txt[n] = 0;
        peak_comment[0] = str_id(&b.st, txt);
        prof_msg.n_comment = 1;
        prof_msg.comment = peak_comment;
    }
    prof_msg.period_type = value_type(&b, "space", "bytes");
    prof_msg.period = (int64_t)((uint64_t)1 << (src == SITE_PEAK ? peak_lg_sample() : prof.lg_sample));
    if (default_type)
        prof_msg.default_sample_type = str_id(&b.st, default_type);
    prof_msg.n_string_table = b.st.n;
    prof_msg.string_table = b.st.strs;
    if (b.failed || sc.failed || !types[0] || !types[3] || !prof_msg.period_type) {
        scratch_release(&sc);
        return ENOMEM;
    }

    sink.base.append = sink_append;
    sink.zs.zalloc = z_alloc;
    sink.zs.zfree = z_free;
    sink.zs.opaque = &sc;
    if (dynload_z->deflate_init2(&sink.zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                 ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK) {
        sink.err = ENOMEM;
    } else {
        protobuf_c_message_pack_to_buffer(&prof_msg.base, &sink.base);
        sink_deflate(&sink, NULL, 0, Z_FINISH);
        dynload_z->deflate_end(&sink.zs);
    }
    scratch_release(&sc);
    return sink.err;
}

int prof_dump_pprof_file(const char *path)
{
    return prof_dump_pprof_file_src(path, SITE_LIVE);
}

/* Build and write the profile to path (whole or nothing). Caller holds prof.dump_lock. */
/* 0 if the pprof writer's libraries are loaded; else ENOENT, said once. */
static int pprof_ready(void)
{
    static bool said;
    int err = dynload_pprof_ready();
    if (err && !__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
        prof_host_warn("<jemalloc>: pprof dump not written: zlib or libprotobuf-c could not be "
                       "loaded\n");
    return err;
}

int prof_dump_pprof_file_src(const char *path, enum site_src src)
{
    if (pprof_ready() != 0)
        return ENOENT;
    int err = dump_file_open(&pb_out, path);
    if (err)
        return err;
    memset(&sink, 0, sizeof(sink));
    sink.fd = pb_out.fd;
    pb_out.err = pprof_emit(src, NULL, false);
    return dump_file_commit(&pb_out);
}

int prof_pprof_to_buf(struct pprof_buf *b, const char *default_type)
{
    memset(b, 0, sizeof(*b));
    if (pprof_ready() != 0)
        return ENOENT;
    pthread_mutex_lock(&prof.dump_lock);
    memset(&sink, 0, sizeof(sink));
    sink.fd = -1;
    sink.mem = b;
    int err = pprof_emit(SITE_LIVE, default_type, true);
    pthread_mutex_unlock(&prof.dump_lock);
    if (err) {
        prof_pprof_buf_free(b);
        return ENOMEM; /* only memory can fail: there is no file */
    }
    return 0;
}

void prof_pprof_buf_free(struct pprof_buf *b)
{
    if (b->cap)
        prof_host_unmap(b->p, b->cap);
    memset(b, 0, sizeof(*b));
}

/* All of p[0..n) to fd: EINTR retried, a non-blocking fd waited for,
 * send(MSG_NOSIGNAL) on a socket (a vanished peer is EIO, not SIGPIPE). */
static int write_all(int fd, const unsigned char *p, size_t n, bool sock)
{
    while (n > 0) {
        ssize_t k = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return EIO;
            continue;
        }
        if (k < 0 && errno == EBADF)
            return EBADF;
        if (k <= 0)
            return EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int prof_dump_pprof_fd(int fd)
{
    int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
        return EBADF; /* checked before the work of building the profile */
    struct stat st;
    bool sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    struct pprof_buf b;
    int err = prof_pprof_to_buf(&b, NULL);
    if (err)
        return err;
    /* Written after the dump lock is released: a slow reader on the other
     * end delays only the caller, never other dumps or fork. A pipe whose
     * reader is gone gives EIO, not a SIGPIPE that kills the process:
     * SIGPIPE is blocked in this thread for the write, and one our write
     * raised (none was pending before) is taken back. */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    bool guard = !sock && pthread_sigmask(SIG_BLOCK, &pipe_set, &old) == 0;
    sigset_t pending;
    bool was_pending = guard && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    err = write_all(fd, b.p, b.len, sock);
    if (guard) {
        if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                ;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    prof_pprof_buf_free(&b);
    return err;
}

/* Go's symbol service (/debug/pprof/symbol): q[0..len) holds addresses
 * separated by '+' (0x-prefixed hex or decimal, as strconv.ParseUint with
 * base 0 reads them); each one the ELF symbol tables of the loaded code
 * name gives a line "0x<addr> <name>\n" in out; others are left out, as Go
 * does. Takes the dump lock (the mappings are read into its buffers). */
int prof_symbolize(const char *q, size_t len, struct pprof_buf *out)
{
    memset(out, 0, sizeof(*out));
    int err = 0;
    pthread_mutex_lock(&prof.dump_lock);
    struct scratch sc = {0};
    struct map *maps = NULL;
    size_t nmaps = read_maps(&sc, &maps);
    struct bid_arg ba = {maps, nmaps};
    elfsym_loaded_build_ids(set_build_id, &ba);
    for (size_t i = 0; i < len && !err;) {
        size_t j = i;
        while (j < len && q[j] != '+')
            j++;
        char tok[24];
        size_t tl = j - i;
        /* Blanks around a token (a trailing newline) are not part of it. */
        while (tl && (q[i] == ' ' || q[i] == '\n' || q[i] == '\r' || q[i] == '\t'))
            i++, tl--;
        while (tl && (q[i + tl - 1] == ' ' || q[i + tl - 1] == '\n' || q[i + tl - 1] == '\r'))
            tl--;
        if (tl > 0 && tl < sizeof(tok)) {
            memcpy(tok, q + i, tl);
            tok[tl] = 0;
            char *end;
            errno = 0;
            unsigned long long a = strtoull(tok, &end, 0);
            const char *name = NULL;
            if (*end == 0 && errno == 0 && tok[0] != '-' && tok[0] != '+') {
                for (size_t k = 0; k < nmaps; k++) {
                    struct map *m = &maps[k];
                    if (a < m->start || a >= m->limit)
                        continue;
                    if (m->syms_state == 0)
                        m->syms_state = (map_file_is_mapped(m) && elfsym_load(&sc, m->path, &m->syms) == 0)
                                            ? 1 : -1;
                    if (m->syms_state > 0)
                        name = elfsym_lookup(&m->syms, a - m->start + m->offset);
                    break;
                }
            }
            if (name) {
                char line[64];
                snprintf(line, sizeof(line), "%#llx ", a);
                if ((err = buf_append(out, (const unsigned char *)line, strlen(line))) == 0 &&
                    (err = buf_append(out, (const unsigned char *)name, strlen(name))) == 0)
                    err = buf_append(out, (const unsigned char *)"\n", 1);
            }
        }
        i = j + 1;
    }
    scratch_release(&sc);
    pthread_mutex_unlock(&prof.dump_lock);
    if (err)
        prof_pprof_buf_free(out);
    return err;
}
