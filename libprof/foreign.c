/* foreign: other jemalloc-API allocators in the process (see foreign.h). */
#include "foreign.h"
#include "options.h"
#include "prof_hooks.h"
#include "bss_large.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

atomic_bool foreign_sampled;

/* The note that marks an object holding liballoc: kept by --gc-sections
 * (retain) and by strip (an allocated SHT_NOTE section). */
struct foreign_note {
    uint32_t namesz, descsz, type; /* ELF note header */
    char name[12];                 /* "liballoc", padded to 4 bytes */
    uint32_t version;              /* FOREIGN_NOTE_VERSION */
};
#if defined(__has_attribute) && __has_attribute(retain)
#define FOREIGN_RETAIN __attribute__((retain))
#else
#define FOREIGN_RETAIN
#endif
/* No AddressSanitizer redzone after it (clang adds one to globals, gcc
 * leaves those in a section of their own alone): it would lie inside the
 * PT_NOTE segment, whose notes the build-ID reader walks to the end. */
#if defined(__clang__)
#define FOREIGN_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define FOREIGN_NO_ASAN
#endif
__attribute__((used, section(".note.liballoc"), aligned(4)))
FOREIGN_RETAIN FOREIGN_NO_ASAN static const struct foreign_note liballoc_note = {9, 4, FOREIGN_NOTE_TYPE,
                                                                 "liballoc", FOREIGN_NOTE_VERSION};

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

#define FOREIGN_MAX  8 /* other allocators remembered (more are ignored) */
#define NAME_MAX_LEN 512

/* Another object holding a jemalloc-API allocator. */
struct foreign_obj {
    char name[NAME_MAX_LEN]; /* file name as the loader has it */
    mallctl_fn mallctl;      /* its own mallctl, or NULL (a liballoc copy that exports none) */
    bool liballoc;           /* carries our note: another copy of liballoc */
    bool handled;            /* already acted on and reported */
};

/* What one walk of the loaded objects found. */
struct foreign_view {
    bool scanned;                   /* one walk done */
    unsigned long long adds, subs;  /* loader counters at that walk */
    bool serving;                   /* our malloc is the process's malloc */
    char self_name[NAME_MAX_LEN];   /* the object liballoc lives in */
    char server_name[NAME_MAX_LEN]; /* the object the process's malloc lives in */
    unsigned n;                     /* entries in objs */
    struct foreign_obj objs[FOREIGN_MAX];
};

/* Two locks, so that no lock of ours is held while the dynamic loader's
 * are waited for (a thread inside dlopen may be allocating, and reach
 * foreign_dump_prefix from an interval dump):
 *  - walk_lock serialises walks and the calls into other allocators; only
 *    fs.lock is ever taken under it, briefly;
 *  - fs.lock guards the published view and the once-flags; it is held only
 *    for copies and short writes to stderr, never across a loader call. */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct foreign_view walk_view BSS_LARGE;            /* the walker's copy (walk_lock) */
static char walk_msg[16384] BSS_LARGE;                     /* warning text (walk_lock) */
static struct foreign_obj walk_old[FOREIGN_MAX] BSS_LARGE; /* the previous walk's objects (walk_lock) */
static unsigned walk_old_n;

static struct {
    pthread_mutex_t lock;            /* everything below */
    struct foreign_view view;        /* the last walk's result */
    bool warned_skip, warned_rename; /* said once */
    char msg[16384];                 /* warning text */
} fs BSS_LARGE = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- reading a loaded object's ELF structures (in memory) ---- */

/* Loader-relocated dynamic pointers on glibc; raw offsets elsewhere. */
static uintptr_t dyn_ptr(const struct dl_phdr_info *info, uintptr_t p)
{
    return p < (uintptr_t)info->dlpi_addr ? p + (uintptr_t)info->dlpi_addr : p;
}

static bool contains(const struct dl_phdr_info *info, uintptr_t a)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && a >= lo && a - lo < ph->p_memsz)
            return true;
    }
    return false;
}

/* True when one of the object's PT_NOTE segments holds our note. */
static bool has_liballoc_note(const struct dl_phdr_info *info)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        size_t align = ph->p_align == 8 ? 8 : 4;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t off = 0, len = ph->p_memsz;
        while (off + sizeof(ElfW(Nhdr)) <= len) {
            ElfW(Nhdr) nh;
            memcpy(&nh, p + off, sizeof(nh));
            size_t name = off + sizeof(nh);
            size_t desc = name + ((nh.n_namesz + align - 1) & ~(align - 1));
            size_t next = desc + ((nh.n_descsz + align - 1) & ~(align - 1));
            if (next > len || next <= off)
                break;
            if (nh.n_type == FOREIGN_NOTE_TYPE && nh.n_namesz == 9 &&
                memcmp(p + name, "liballoc", 9) == 0)
                return true;
            off = next;
        }
    }
    return false;
}

static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

static uint32_t sysv_hash(const char *s)
{
    uint32_t h = 0;
    for (; *s; s++) {
        h = (h << 4) + (unsigned char)*s;
        uint32_t g = h & 0xf0000000u;
        if (g)
            h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

/* Address of function `name` defined by the object itself (its dynamic
 * symbol table, through its GNU or SysV hash table), or NULL. */
static void *dynsym_lookup(const struct dl_phdr_info *info, const char *name)
{
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn)
        return NULL;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const uint32_t *gh = NULL, *sh = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB)
            symtab = (const ElfW(Sym) *)dyn_ptr(info, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB)
            strtab = (const char *)dyn_ptr(info, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_GNU_HASH)
            gh = (const uint32_t *)dyn_ptr(info, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_HASH)
            sh = (const uint32_t *)dyn_ptr(info, dyn->d_un.d_ptr);
    }
    if (!symtab || !strtab)
        return NULL;
    const ElfW(Sym) *found = NULL;
    if (gh) {
        uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2];
        if (nbuckets == 0)
            return NULL;
        const ElfW(Addr) *bloom = (const ElfW(Addr) *)(gh + 4);
        const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
        const uint32_t *chain = buckets + nbuckets;
        uint32_t h = gnu_hash(name);
        for (uint32_t ix = buckets[h % nbuckets]; ix >= symoffset && ix != 0; ix++) {
            uint32_t h2 = chain[ix - symoffset];
            if ((h | 1) == (h2 | 1) && strcmp(strtab + symtab[ix].st_name, name) == 0) {
                found = &symtab[ix];
                break;
            }
            if (h2 & 1)
                break;
        }
    } else if (sh) {
        uint32_t nbucket = sh[0];
        if (nbucket == 0)
            return NULL;
        const uint32_t *bucket = sh + 2, *chain = bucket + nbucket;
        for (uint32_t ix = bucket[sysv_hash(name) % nbucket]; ix != 0; ix = chain[ix])
            if (strcmp(strtab + symtab[ix].st_name, name) == 0) {
                found = &symtab[ix];
                break;
            }
    }
    if (!found || found->st_shndx == SHN_UNDEF || (found->st_info & 0xf) != STT_FUNC)
        return NULL;
    return (void *)(info->dlpi_addr + found->st_value);
}

/* ---- the walk ---- */

struct walk {
    uintptr_t self_pc;   /* an address inside liballoc */
    uintptr_t malloc_pc; /* the process's malloc (0: unknown) */
    bool first;          /* next object is the main program */
    bool self_seen, server_seen;
    bool self_is_server;
};

static void object_name(const struct dl_phdr_info *info, bool main_program, char *out)
{
    if (info->dlpi_name && info->dlpi_name[0]) {
        snprintf(out, NAME_MAX_LEN, "%s", info->dlpi_name);
        return;
    }
    ssize_t n = main_program ? readlink("/proc/self/exe", out, NAME_MAX_LEN - 1) : -1;
    if (n <= 0)
        snprintf(out, NAME_MAX_LEN, "%s", main_program ? "the main program" : "(unnamed object)");
    else
        out[n] = 0;
}

/* Add an object to the walker's view, keeping what an earlier walk learnt. */
static void add_obj(const char *name, mallctl_fn m, bool liballoc)
{
    struct foreign_view *v = &walk_view;
    if (v->n == FOREIGN_MAX)
        return;
    struct foreign_obj *o = &v->objs[v->n++];
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->mallctl = m;
    o->liballoc = liballoc;
    o->handled = false;
    for (unsigned i = 0; i < walk_old_n; i++)
        if (walk_old[i].mallctl == m && strcmp(walk_old[i].name, name) == 0)
            o->handled = walk_old[i].handled;
}

static int walk_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct walk *w = arg;
    struct foreign_view *v = &walk_view;
    bool main_program = w->first;
    w->first = false;
    bool self = contains(info, w->self_pc);
    bool server = w->malloc_pc && contains(info, w->malloc_pc);
    char name[NAME_MAX_LEN];
    if (self || server)
        object_name(info, main_program, name);
    if (self) {
        w->self_seen = true;
        snprintf(v->self_name, sizeof(v->self_name), "%s", name);
        w->self_is_server = server;
    }
    if (server)
        snprintf(v->server_name, sizeof(v->server_name), "%s", name);
    if (self)
        return 0;
    /* A jemalloc exports its whole API under one prefix: mallctl alone is
     * not one (a shim or a program may define its own, and calling it
     * from our start-up could do anything). */
    static const char *const prefixes[] = {"", "je_", "_rjem_"};
    static const char *const api[] = {"mallctl", "mallocx", "nallocx", "sdallocx"};
    mallctl_fn m = NULL;
    for (size_t i = 0; !m && i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        char sym[32];
        bool all = true;
        for (size_t k = 1; all && k < sizeof(api) / sizeof(api[0]); k++) {
            snprintf(sym, sizeof(sym), "%s%s", prefixes[i], api[k]);
            all = dynsym_lookup(info, sym) != NULL;
        }
        snprintf(sym, sizeof(sym), "%smallctl", prefixes[i]);
        if (all)
            m = (mallctl_fn)dynsym_lookup(info, sym);
    }
    bool ours = has_liballoc_note(info);
    if (m || ours) {
        if (!server)
            object_name(info, main_program, name);
        add_obj(name, m, ours);
    }
    return 0;
}

/* Loader counters (objects added and removed so far), and whether the main
 * program (the first object) has an interpreter: c[2] = 0 for a static
 * program, where dlsym has no symbol table to search (and allocates an
 * error message). */
static int counters_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    unsigned long long *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        c[0] = info->dlpi_adds;
        c[1] = info->dlpi_subs;
    }
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_INTERP)
            c[2] = 1;
    return 1;
}

/* Walk the loaded objects again if any came or went; true if it did.
 * walk_lock held. */
static bool rescan(void)
{
    struct foreign_view *v = &walk_view;
    unsigned long long c[3] = {0, 0, 0};
    dl_iterate_phdr(counters_cb, c);
    if (v->scanned && c[0] == v->adds && c[1] == v->subs && (c[0] || c[1]))
        return false;
    struct walk w = {.self_pc = (uintptr_t)&rescan, .first = true};
    w.malloc_pc = c[2] ? (uintptr_t)dlsym(RTLD_DEFAULT, "malloc") : 0;
    memcpy(walk_old, v->objs, sizeof(walk_old));
    walk_old_n = v->n;
    v->n = 0;
    snprintf(v->server_name, sizeof(v->server_name), "%s", "an unknown object");
    dl_iterate_phdr(walk_cb, &w);
    /* No answer from dlsym (a static program): ours is the only malloc. */
    v->serving = !w.malloc_pc || !w.self_seen || w.self_is_server;
    v->adds = c[0];
    v->subs = c[1];
    v->scanned = true;
    return true;
}

/* Ask a foreign jemalloc that profiles under our prefix to write elsewhere. */
static void act_on(struct foreign_obj *o)
{
    o->handled = true;
    if (o->liballoc || !o->mallctl || !walk_view.serving)
        return; /* copies of liballoc decide for themselves; a serving jemalloc's dumps are real */
    bool on = false;
    size_t sz = sizeof(on);
    if (o->mallctl("opt.prof", &on, &sz, NULL, 0) != 0 || !on)
        return; /* not profiling: it writes no dumps */
    const char *theirs = NULL, *version = NULL;
    sz = sizeof(theirs);
    if (o->mallctl("opt.prof_prefix", &theirs, &sz, NULL, 0) != 0 || !theirs)
        return;
    sz = sizeof(version);
    if (o->mallctl("version", &version, &sz, NULL, 0) != 0 || !version)
        version = "unknown version";
    if (strcmp(theirs, opt.prof_prefix) != 0) {
        snprintf(walk_msg, sizeof(walk_msg),
                 "<jemalloc>: another jemalloc-API allocator is loaded: %s (jemalloc %s), "
                 "profiling under its own prefix \"%s\"; liballoc serves malloc here, so its "
                 "dumps hold none of the program's allocations\n",
                 o->name, version, theirs);
        prof_host_write_err(walk_msg);
        return;
    }
    char redirected[4200];
    snprintf(redirected, sizeof(redirected), "%s.jemalloc", theirs);
    const char *p = redirected;
    int err = o->mallctl("prof.prefix", NULL, NULL, &p, sizeof(p));
    if (err == 0)
        snprintf(walk_msg, sizeof(walk_msg),
                 "<jemalloc>: another jemalloc-API allocator is loaded: %s (jemalloc %s); "
                 "liballoc serves malloc here, so that one's heap profile would be empty: its "
                 "dumps now go to %s.<pid>.*, liballoc's stay %s.<pid>.*\n",
                 o->name, version, redirected, theirs);
    else
        snprintf(walk_msg, sizeof(walk_msg),
                 "<jemalloc>: another jemalloc-API allocator is loaded: %s (jemalloc %s); "
                 "liballoc serves malloc here, but it could not be told to write elsewhere "
                 "(prof.prefix: %s): its empty dumps may replace liballoc's %s.<pid>.*\n",
                 o->name, version, strerror(err), theirs);
    prof_host_write_err(walk_msg);
}

void foreign_refresh(bool safe)
{
    if (!opt.prof || !safe)
        return; /* the allocation path keeps the last view (foreign.h) */
    /* The loader and the other allocator may allocate: never sampled. */
    struct heap *h = prof_host_heap(false);
    bool was = h ? prof_suspend(h, true) : false;
    pthread_mutex_lock(&walk_lock);
    if (rescan()) {
        pthread_mutex_lock(&fs.lock);
        fs.view = walk_view;
        pthread_mutex_unlock(&fs.lock);
    }
    for (unsigned i = 0; i < walk_view.n; i++)
        if (!walk_view.objs[i].handled)
            act_on(&walk_view.objs[i]);
    pthread_mutex_unlock(&walk_lock);
    if (h)
        prof_suspend(h, was);
}

int foreign_dump_prefix(const char *prefix, char *out, size_t outlen)
{
    pthread_mutex_lock(&fs.lock);
    int err = 0;
    if (!fs.view.scanned || fs.view.serving) {
        snprintf(out, outlen, "%s", prefix);
    } else if (!atomic_load_explicit(&foreign_sampled, memory_order_relaxed)) {
        err = ESRCH;
        if (!fs.warned_skip) {
            fs.warned_skip = true;
            snprintf(fs.msg, sizeof(fs.msg),
                     "<jemalloc>: liballoc in %s does not serve this process's malloc (%s does) "
                     "and sampled nothing: it writes no auto-named heap dumps (they would be empty "
                     "and take the other allocator's file names)\n",
                     fs.view.self_name, fs.view.server_name);
            prof_host_write_err(fs.msg);
        }
    } else if (fs.view.n == 0) {
        snprintf(out, outlen, "%s", prefix); /* no other profiler to collide with */
    } else {
        const char *base = strrchr(fs.view.self_name, '/');
        base = base ? base + 1 : fs.view.self_name;
        snprintf(out, outlen, "%s.%s", prefix, base);
        if (!fs.warned_rename) {
            fs.warned_rename = true;
            snprintf(fs.msg, sizeof(fs.msg),
                     "<jemalloc>: liballoc in %s does not serve this process's malloc (%s does) "
                     "but sampled allocations made through it; with another jemalloc-API "
                     "allocator loaded (%s), its dumps are named %s.<pid>.* so that neither "
                     "profile replaces the other\n",
                     fs.view.self_name, fs.view.server_name, fs.view.objs[0].name, out);
            prof_host_write_err(fs.msg);
        }
    }
    pthread_mutex_unlock(&fs.lock);
    return err;
}

/* After the allocator's own constructor (which reads MALLOC_CONF), before
 * main: learn about other allocators while nothing has been dumped. */
__attribute__((constructor)) static void foreign_constructor(void)
{
    struct heap *h = prof_host_heap(true); /* initialises the allocator if needed */
    if (!h)
        return;
    foreign_refresh(true);
}

void foreign_prefork(void)
{
    pthread_mutex_lock(&fs.lock);
}

void foreign_postfork_parent(void)
{
    pthread_mutex_unlock(&fs.lock);
}

/* walk_lock is not taken at fork (a walk waits for the loader's locks): a
 * walk in progress in another thread is simply gone in the child. */
void foreign_postfork_child(void)
{
    pthread_mutex_init(&fs.lock, NULL);
    pthread_mutex_init(&walk_lock, NULL);
    walk_view = fs.view; /* the walker's copy may be half written */
}
