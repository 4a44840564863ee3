/* cfi: x86-64 call-frame rules from .eh_frame, cached (see cfi.h).
 *
 * The FDE of an address is found with _dl_find_object (glibc 2.35+: no
 * loader lock, unlike dl_iterate_phdr) and the binary-search table of the
 * module's .eh_frame_hdr; its CIE and FDE programs are run up to the
 * address. Only the rules a stack walk needs are kept (CFA, rbp, return
 * address); rules for other registers are skipped, since the walk never
 * reads them.
 *
 * The cache is one direct-mapped table of 64-bit words shared by all
 * threads (cfi.h says the layout): a reader sees a whole entry or another
 * whole entry, never a mix.
 *
 * Unloading. A rule belongs to the module mapped at its address when it was
 * read; after dlclose another library can be mapped at the same address
 * with other frames, and the old rule would name wrong callers. Each word
 * therefore carries the load generation (cfi_gen) its walk started in, and
 * a lookup matches only words of the current generation. The library
 * exports dlclose (as heap profilers that follow module loads do): it bumps
 * cfi_gen, calls the C library's dlclose, and bumps it again. Why that is
 * enough:
 *   - a rule stored under generation g was parsed after the walk read g;
 *     a module mapped at that time and since unloaded went through a
 *     dlclose whose second bump came after the unmap, so the current
 *     generation is above g and the word no longer matches;
 *   - a walk that reads generation g' cannot see a return address into a
 *     module mapped before the unload of the module previously there and
 *     still stale in the cache under g' (the unload's bumps happened before
 *     the loader let the new module be mapped, and the new module's code
 *     ran in this thread before the walk);
 *   - the tag keeps 9 bits: when the counter wraps (every 512 dlcloses)
 *     the thread whose bump crosses the wrap clears the table, and a fill
 *     that finds the generation moved while it parsed takes its word back.
 * Not seen: modules the C library unloads itself without dlclose
 * (__libc_dlclose of iconv's gconv modules); jemalloc's and libunwind's
 * caches do not see any unload at all. The same dlclose flushes libunwind's
 * cache, which has the same fault. */
#include "cfi.h"

#include "prof_hooks.h"
#include "unloaded.h"
#include "heapsort.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include "dynload.h"
#include <libunwind.h>
#include <link.h>
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

/* DWARF register numbers (x86-64 psABI). */
#define DW_REG_RBP 6
#define DW_REG_RSP 7
#define DW_REG_RA 16

/* Pointer encodings (DW_EH_PE_*). */
#define PE_OMIT 0xff
#define PE_INDIRECT 0x80

/* ---- the cache ---- */

_Atomic uint64_t *cfi_cache;
_Atomic uint64_t cfi_gen;

bool cfi_boot(void)
{
    if (!cfi_cache)
        cfi_cache = prof_host_meta_alloc(sizeof(*cfi_cache) << CFI_CACHE_LG, 4096);
    return cfi_cache != NULL;
}

/* The cache word for (ra, r) read in generation gen; a rule that does not
 * fit becomes CFI_UNSUPPORTED (libunwind then walks that stack). */
static uint64_t pack(uintptr_t ra, struct cfi_rule r, uint64_t gen)
{
    uint64_t off = 0, slot = 0;
    if (r.kind == CFI_SP || r.kind == CFI_BP) {
        if (r.cfa_off < 0 || (r.cfa_off & 7) || r.cfa_off / 8 >= (int32_t)CFI_OFF_UNITS || r.rbp_off > 0 ||
            (r.rbp_off & 7) || -r.rbp_off / 8 >= CFI_RBP_SLOTS)
            r.kind = CFI_UNSUPPORTED;
        else {
            off = (uint64_t)r.cfa_off / 8;
            slot = (uint64_t)-r.rbp_off / 8;
        }
    }
    return (((uint64_t)ra >> CFI_CACHE_LG) & CFI_HI_MASK) | (uint64_t)r.kind << CFI_HI_BITS |
           off << (CFI_HI_BITS + 2) | slot << (CFI_HI_BITS + 2 + CFI_OFF_BITS) |
           (gen & CFI_GEN_MASK) << CFI_GEN_SHIFT;
}

uint64_t cfi_fill(uintptr_t ra, uint64_t gen)
{
    uint64_t w = pack(ra, cfi_parse(ra), gen);
    /* An address past 47 bits (the vsyscall page) is not cached: its word
     * would match another address; nor one under 8 KiB (its word could be
     * 0, the empty slot). */
    if (ra >= ((uintptr_t)1 << CFI_CACHE_LG) && ra < ((uintptr_t)1 << CFI_PC_BITS)) {
        _Atomic uint64_t *slot = &cfi_cache[cfi_slot(ra)];
        atomic_store_explicit(slot, w, memory_order_relaxed);
        /* The generation moved while this rule was parsed (a dlclose, a
         * wrap that cleared the table): take the word back, whatever it
         * was parsed from. Store, full fence, load: against the bump and
         * clear of gen_bump. */
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&cfi_gen, memory_order_relaxed) != gen) {
            uint64_t expect = w;
            atomic_compare_exchange_strong_explicit(slot, &expect, 0, memory_order_relaxed,
                                                    memory_order_relaxed);
        }
    }
    return w;
}

/* One bump of the load generation; the bump that wraps the 9-bit tag
 * clears the table, so a word of 512 dlcloses ago cannot match again. */
static void gen_bump(void)
{
    uint64_t old = atomic_fetch_add_explicit(&cfi_gen, 1, memory_order_seq_cst);
    if (((old + 1) & CFI_GEN_MASK) == 0 && cfi_cache)
        for (size_t i = 0; i < ((size_t)1 << CFI_CACHE_LG); i++)
            atomic_store_explicit(&cfi_cache[i], 0, memory_order_relaxed);
}

/* ---- dlclose's bookkeeping (the modules it unloaded: unloaded.c) ---- */

/* The program's dlclose calls do not come here: unloads are polled
 * (cfi_unload_poll, below). */
static bool unload_poll;
static void poll_look(void);
static bool poll_rebase(void);
/* dlcloses in progress: while non-zero every walk is suspect. */
static _Atomic unsigned unload_inflight;
static pthread_mutex_t unload_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static unsigned unload_depth; /* dlclose calls of the lock's owner */

void cfi_postfork_child(void)
{
    /* The only thread left: whatever dlclose another thread was in at
     * fork time will not finish here. */
    pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    memcpy(&unload_lock, &fresh, sizeof(fresh));
    unload_depth = 0;
    atomic_store_explicit(&unload_inflight, 0, memory_order_relaxed);
    /* No polling: glibc does not reset the loader's lock in the child, and
     * dl_iterate_phdr would wait forever for a dlopen another thread of
     * the parent was in (backtrace_postfork_child walks frame pointers for
     * the same reason). An unload in the child is then not seen. */
    __atomic_store_n(&unload_poll, false, __ATOMIC_RELAXED);
}

bool cfi_unload_suspect(void *const *ips, unsigned n, uint64_t since)
{
    if (atomic_load_explicit(&unload_inflight, memory_order_acquire))
        return true;
    return unloaded_hit((const uintptr_t *)ips, n, since);
}

/* glibc's static library defines dlclose as a weak alias of this one;
 * absent (null) in a dynamic link, where libc.so does not export it. */
extern int __dlclose(void *) __attribute__((weak));

/* The C library's dlclose, found once (dlsym may allocate: never called
 * with allocator locks held). */
static int (*_Atomic real_dlclose)(void *);

/*
 * dlclose: the C library's, with the load generation bumped before and
 * after it, so no walk uses a rule read from a module the call unloads
 * (see the top of this file), and libunwind's cache flushed after it. Exported by liballoc.so (and liballoc.a) so
 * that the program's and its libraries' dlclose calls come here. Same
 * arguments, result and errors as glibc's (dlerror reports them); if the C
 * library's dlclose cannot be found (neither dlsym(RTLD_NEXT) nor, in a
 * -static program, glibc's __dlclose), returns -1 and the handle stays
 * open. Thread-safe.
 */
__attribute__((visibility("default"))) int dlclose(void *handle)
{
    int (*real)(void *) = atomic_load_explicit(&real_dlclose, memory_order_acquire);
    if (!real) {
        /* Version GLIBC_2.34 first (where dlclose moved into libc), the
         * default one otherwise. */
        real = (int (*)(void *))dlvsym(RTLD_NEXT, "dlclose", "GLIBC_2.34");
        if (!real)
            real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
        /* A -static program has no RTLD_NEXT: glibc's libc.a names its
         * dlclose __dlclose too (pulled in with static dlopen). */
        if ((!real || real == dlclose) && __dlclose) {
            (void)dlerror(); /* the failed lookup's message is not the program's */
            real = __dlclose;
        }
        if (!real || real == dlclose)
            return -1;
        atomic_store_explicit(&real_dlclose, real, memory_order_release);
    }
    atomic_fetch_add_explicit(&unload_inflight, 1, memory_order_seq_cst);
    /* Recursive: a destructor the real dlclose runs may dlclose too; the
     * outermost call's snapshots cover what the nested ones unload. */
    pthread_mutex_lock(&unload_lock);
    bool outer = unload_depth++ == 0;
    bool poll = outer && __atomic_load_n(&unload_poll, __ATOMIC_ACQUIRE);
    /* With unloads polled (a call bound to this dlclose in a program whose
     * own go to the C library's): what went since the last look first,
     * from the poll's snapshot, which this call's then replaces. */
    if (poll)
        poll_look();
    if (outer)
        unloaded_snapshot();
    gen_bump();
    int rc = real(handle);
    gen_bump();
    if (outer)
        unloaded_note(cfi_generation());
    if (poll)
        poll_rebase(); /* the next look's baseline: after this unload */
    unload_depth--;
    pthread_mutex_unlock(&unload_lock);
    atomic_fetch_sub_explicit(&unload_inflight, 1, memory_order_release);
    /* libunwind's cache of register rules is keyed by address too, and is
     * not dropped on unload either: prof_unwind:libunwind and the stacks
     * the cfi walk hands over would otherwise reuse the old module's rules
     * (seen: a frame skipped). unw_flush_cache bumps its own generation
     * atomically, allocates nothing. */
    const struct dynload_unw *u = __atomic_load_n(&dynload_unw, __ATOMIC_ACQUIRE);
    if (u)
        u->flush_cache(*u->local_addr_space, 0, 0);
    return rc;
}

/* ---- unloads the exported dlclose does not see ----
 * With the allocator loaded by a plugin (dlopen RTLD_LOCAL of a library
 * linked with -lalloc), its dlclose is not in the global scope and the
 * program's dlclose calls go to the C library's: nothing above runs, the
 * cache keeps an unloaded module's rules and the dumps name its frames
 * after whatever is mapped there next. Then the loader's counts of loads
 * and unloads (dl_iterate_phdr's dlpi_adds, dlpi_subs) are read before
 * each stack and dump (cfi_unload_poll), and a change is handled as a
 * dlclose would have been: the generation moves on, the modules gone
 * since the last look are recorded (unloaded_poll_note), libunwind's cache
 * is flushed. */
static _Atomic unsigned long long poll_adds, poll_subs; /* the counts at the last look */

struct load_counts {
    unsigned long long adds, subs;
    bool ok;
};

static int counts_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct load_counts *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
        c->ok = true;
    }
    return 1; /* the counts are the same in every module's report */
}

/* This library's dlclose, bound inside it whatever the link (liballoc.a
 * in a plugin built without -Bsymbolic: there, "dlclose" would be the
 * global one). */
extern __typeof(dlclose) cfi_own_dlclose __attribute__((alias("dlclose"), visibility("hidden")));

static void poll_keep_counts(const struct load_counts *c)
{
    atomic_store_explicit(&poll_adds, c->adds, memory_order_relaxed);
    atomic_store_explicit(&poll_subs, c->subs, memory_order_relaxed);
}

/* The loaded modules (the snapshot) and the loader's counts become the
 * next look's baseline. Unload lock held; false if the C library gives no
 * counts. */
static bool poll_rebase(void)
{
    struct load_counts c = {0};
    dl_iterate_phdr(counts_module, &c);
    if (!c.ok)
        return false;
    unloaded_snapshot();
    poll_keep_counts(&c);
    return true;
}

/* A look (unload lock held): the unloads since the last one recorded,
 * the loaded modules and the counts kept for the next. */
static void poll_look(void)
{
    struct load_counts c = {0};
    dl_iterate_phdr(counts_module, &c);
    if (c.subs != atomic_load_explicit(&poll_subs, memory_order_relaxed)) {
        gen_bump();
        unloaded_poll_note(cfi_generation()); /* its look is the next baseline */
        const struct dynload_unw *u = __atomic_load_n(&dynload_unw, __ATOMIC_ACQUIRE);
        if (u)
            u->flush_cache(*u->local_addr_space, 0, 0);
        poll_keep_counts(&c);
    } else if (c.adds != atomic_load_explicit(&poll_adds, memory_order_relaxed)) {
        /* loads only: the new modules' details for a later unload */
        unloaded_snapshot();
        poll_keep_counts(&c);
    }
}

void cfi_unload_poll_boot(void)
{
    void *global = dlsym(RTLD_DEFAULT, "dlclose");
    if (!global || global == (void *)cfi_own_dlclose)
        return; /* the program's dlclose calls come here */
    pthread_mutex_lock(&unload_lock);
    bool ok = poll_rebase();
    pthread_mutex_unlock(&unload_lock);
    if (ok)
        __atomic_store_n(&unload_poll, true, __ATOMIC_RELEASE);
}

void cfi_unload_poll(void)
{
    if (!__atomic_load_n(&unload_poll, __ATOMIC_ACQUIRE))
        return;
    struct load_counts c = {0};
    dl_iterate_phdr(counts_module, &c);
    if (c.adds == atomic_load_explicit(&poll_adds, memory_order_relaxed) &&
        c.subs == atomic_load_explicit(&poll_subs, memory_order_relaxed))
        return;
    /* Another thread is looking (or in the exported dlclose): it moves the
     * generation on. Not waited for: a malloc inside the loader (its lock
     * held) must not wait for a thread that waits for the loader. */
    if (pthread_mutex_trylock(&unload_lock) != 0)
        return;
    /* (A thread inside the exported dlclose -- the lock is recursive --
     * leaves it to that call, which looks first and last: poll_look.) */
    if (!unload_depth)
        poll_look();
    pthread_mutex_unlock(&unload_lock);
}

/* ---- reading .eh_frame ---- */

/* A bounded reader over one CIE or FDE. */
struct rd {
    const uint8_t *p, *end;
    bool bad; /* read past the end or an encoding we do not read */
};

static uint64_t rd_u(struct rd *r, unsigned n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, r->p, n); /* little-endian host */
    r->p += n;
    return v;
}

static uint64_t rd_uleb(struct rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; !r->bad; shift += 7) {
        if (r->p >= r->end || shift > 63) {
            r->bad = true;
            break;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static int64_t rd_sleb(struct rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    do {
        if (r->bad || r->p >= r->end || shift > 63) {
            r->bad = true;
            return 0;
        }
        b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* A pointer in encoding enc: absolute or pc-relative (datarel against
 * dbase); an indirect pointer is returned undereferenced (only skipped). */
static uintptr_t rd_enc(struct rd *r, uint8_t enc, uintptr_t dbase)
{
    if (enc == PE_OMIT)
        return 0;
    uintptr_t at = (uintptr_t)r->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00: v = rd_u(r, 8); break;
    case 0x01: v = rd_uleb(r); break;
    case 0x02: v = rd_u(r, 2); break;
    case 0x03: v = rd_u(r, 4); break;
    case 0x04: v = rd_u(r, 8); break;
    case 0x09: v = (uint64_t)rd_sleb(r); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_u(r, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_u(r, 4); break;
    case 0x0c: v = rd_u(r, 8); break;
    default: r->bad = true; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += at; break;
    case 0x30:
        if (!dbase)
            r->bad = true;
        v += dbase;
        break;
    default: r->bad = true; return 0;
    }
    return (uintptr_t)v;
}

/* A CIE or FDE at p: its body [p+4, end). False for 64-bit DWARF, the
 * terminator, or a length past limit. */
static bool entry_body(const uint8_t *p, struct rd *r)
{
    uint32_t len;
    memcpy(&len, p, 4);
    if (len == 0 || len >= 0xfffffff0u)
        return false;
    r->p = p + 4;
    r->end = p + 4 + len;
    r->bad = false;
    return true;
}

/* ---- running the CFA program ---- */

enum reg_how { HOW_SAME, HOW_OFFSET, HOW_UNDEF, HOW_OTHER };

/* The rules a walk needs, at one row. */
struct row {
    int cfa_reg;           /* DWARF register the CFA is based on; -1: expression or unset */
    int64_t cfa_off;       /* added to it */
    enum reg_how rbp, ra;  /* how rbp and the return address are found */
    int64_t rbp_off, ra_off; /* HOW_OFFSET: their slot, from the CFA */
};

struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_enc;
    bool has_z;
    const uint8_t *insns, *end;
};

static bool cie_read(const uint8_t *at, struct cie *c)
{
    struct rd r;
    if (!entry_body(at, &r))
        return false;
    if (rd_u(&r, 4) != 0)
        return false; /* an FDE, not a CIE */
    unsigned version = (unsigned)rd_u(&r, 1);
    if (version != 1 && version != 3)
        return false;
    const char *aug = (const char *)r.p;
    size_t alen = strnlen(aug, (size_t)(r.end - r.p));
    if (r.bad || alen == (size_t)(r.end - r.p))
        return false;
    r.p += alen + 1;
    c->code_align = rd_uleb(&r);
    c->data_align = rd_sleb(&r);
    uint64_t ra_reg = version == 1 ? rd_u(&r, 1) : rd_uleb(&r);
    if (ra_reg != DW_REG_RA)
        return false;
    c->fde_enc = 0; /* absptr */
    c->has_z = aug[0] == 'z';
    if (c->has_z) {
        uint64_t n = rd_uleb(&r);
        if (r.bad || n > (uint64_t)(r.end - r.p))
            return false;
        const uint8_t *data_end = r.p + n;
        for (size_t i = 1; i < alen; i++) {
            switch (aug[i]) {
            case 'R': c->fde_enc = (uint8_t)rd_u(&r, 1); break;
            case 'L': (void)rd_u(&r, 1); break; /* LSDA: in the FDE's data, skipped there */
            case 'P': {
                uint8_t penc = (uint8_t)rd_u(&r, 1);
                (void)rd_enc(&r, penc & (uint8_t)~PE_INDIRECT, 0);
                break;
            }
            default:
                /* 'S' (signal frame: the caller's pc is not a return
                 * address) and anything unknown: libunwind's business. */
                return false;
            }
        }
        r.p = data_end;
    } else if (alen != 0) {
        return false; /* "eh" and other pre-'z' augmentations */
    }
    c->insns = r.p;
    c->end = r.end;
    return !r.bad && c->code_align != 0;
}

static void set_reg(struct row *s, uint64_t reg, enum reg_how how, int64_t off)
{
    if (reg == DW_REG_RBP) {
        s->rbp = how;
        s->rbp_off = off;
    } else if (reg == DW_REG_RA) {
        s->ra = how;
        s->ra_off = off;
    } else if (reg == DW_REG_RSP) {
        /* the caller's rsp is the CFA by definition; any other rule for
         * it is beyond this walker */
        s->cfa_reg = -1;
    }
}

/* DW_CFA_restore(_extended): reg's rule back to the CIE's (init). */
static void restore_reg(struct row *s, const struct row *init, uint64_t reg)
{
    if (reg == DW_REG_RBP) {
        s->rbp = init->rbp;
        s->rbp_off = init->rbp_off;
    } else if (reg == DW_REG_RA) {
        s->ra = init->ra;
        s->ra_off = init->ra_off;
    }
}

#define STACK_MAX 8

/* Run instructions [p, end) from location loc while the row covers pc.
 * init: the CIE's row, for DW_CFA_restore. False on anything unsupported. */
static bool run(struct row *s, const struct row *init, const struct cie *c, const uint8_t *p,
                const uint8_t *end, uintptr_t loc, uintptr_t pc)
{
    struct row stack[STACK_MAX];
    unsigned depth = 0;
    struct rd r = {p, end, false};
    while (r.p < r.end && !r.bad) {
        uint8_t op = *r.p++;
        uint64_t reg, delta = 0;
        bool advance = false;
        switch (op >> 6) {
        case 1:
            delta = op & 0x3f;
            advance = true;
            break;
        case 2:
            set_reg(s, op & 0x3f, HOW_OFFSET, (int64_t)rd_uleb(&r) * c->data_align);
            continue;
        case 3:
            if (!init)
                return false;
            restore_reg(s, init, op & 0x3f);
            continue;
        default: break;
        }
        if (!advance) {
            switch (op) {
            case 0x00: break; /* nop */
            case 0x01: {      /* set_loc */
                uintptr_t nl = rd_enc(&r, c->fde_enc, 0);
                if (nl > pc)
                    return !r.bad;
                loc = nl;
                break;
            }
            case 0x02: delta = rd_u(&r, 1); advance = true; break;
            case 0x03: delta = rd_u(&r, 2); advance = true; break;
            case 0x04: delta = rd_u(&r, 4); advance = true; break;
            case 0x05: /* offset_extended */
                reg = rd_uleb(&r);
                set_reg(s, reg, HOW_OFFSET, (int64_t)rd_uleb(&r) * c->data_align);
                break;
            case 0x06: /* restore_extended */
                reg = rd_uleb(&r);
                if (!init)
                    return false;
                restore_reg(s, init, reg);
                break;
            case 0x07: set_reg(s, rd_uleb(&r), HOW_UNDEF, 0); break;
            case 0x08: set_reg(s, rd_uleb(&r), HOW_SAME, 0); break;
            case 0x09: /* register: reg's value is in another register */
                reg = rd_uleb(&r);
                (void)rd_uleb(&r);
                set_reg(s, reg, HOW_OTHER, 0);
                break;
            case 0x0a: /* remember_state */
                if (depth == STACK_MAX)
                    return false;
                stack[depth++] = *s;
                break;
            case 0x0b: /* restore_state: the CFA rule too (gcc's epilogues in
                        * mid-function rely on it, as libgcc and libunwind do) */
                if (depth == 0)
                    return false;
                *s = stack[--depth];
                break;
            case 0x0c: /* def_cfa */
                s->cfa_reg = (int)rd_uleb(&r);
                s->cfa_off = (int64_t)rd_uleb(&r);
                break;
            case 0x0d: s->cfa_reg = (int)rd_uleb(&r); break;          /* def_cfa_register */
            case 0x0e: s->cfa_off = (int64_t)rd_uleb(&r); break;      /* def_cfa_offset */
            case 0x0f: {                                              /* def_cfa_expression */
                uint64_t n = rd_uleb(&r);
                if (n > (uint64_t)(r.end - r.p))
                    return false;
                r.p += n;
                s->cfa_reg = -1;
                break;
            }
            case 0x10: /* expression */
            case 0x16: /* val_expression */ {
                reg = rd_uleb(&r);
                uint64_t n = rd_uleb(&r);
                if (r.bad || n > (uint64_t)(r.end - r.p))
                    return false;
                r.p += n;
                set_reg(s, reg, HOW_OTHER, 0);
                break;
            }
            case 0x11: /* offset_extended_sf */
                reg = rd_uleb(&r);
                set_reg(s, reg, HOW_OFFSET, rd_sleb(&r) * c->data_align);
                break;
            case 0x12: /* def_cfa_sf */
                s->cfa_reg = (int)rd_uleb(&r);
                s->cfa_off = rd_sleb(&r) * c->data_align;
                break;
            case 0x13: s->cfa_off = rd_sleb(&r) * c->data_align; break; /* def_cfa_offset_sf */
            case 0x14: /* val_offset */
                reg = rd_uleb(&r);
                (void)rd_uleb(&r);
                set_reg(s, reg, HOW_OTHER, 0);
                break;
            case 0x15: /* val_offset_sf */
                reg = rd_uleb(&r);
                (void)rd_sleb(&r);
                set_reg(s, reg, HOW_OTHER, 0);
                break;
            case 0x2e: (void)rd_uleb(&r); break; /* GNU_args_size */
            case 0x2f: /* GNU_negative_offset_extended */
                reg = rd_uleb(&r);
                set_reg(s, reg, HOW_OFFSET, -(int64_t)rd_uleb(&r) * c->data_align);
                break;
            default: return false; /* GNU_window_save and unknown opcodes */
            }
        }
        if (advance) {
            if (!init)
                return false; /* a CIE that advances: not seen in practice */
            uintptr_t nl = loc + (uintptr_t)(delta * c->code_align);
            if (nl > pc)
                return !r.bad; /* the row in force at pc is s */
            loc = nl;
        }
    }
    return !r.bad;
}

static const struct cfi_rule unsupported = {CFI_UNSUPPORTED, 0, 0};

/* ---- a static program's .eh_frame without .eh_frame_hdr ---- */

/* gcc links a -static program without --eh-frame-hdr: the program then has
 * .eh_frame but no binary-search table, and _dl_find_object no
 * dlfo_eh_frame. cfi_boot_static builds that table once from the
 * program's own .eh_frame (found through its section headers in
 * /proc/self/exe), so such programs are walked by their rules as dynamic
 * ones are, not by frame pointers their code may not keep. */
struct fde_ent {
    uintptr_t begin; /* the sort key (heapsort.h) */
    const uint8_t *fde;
};
static struct fde_ent *static_fdes;
static size_t static_nfdes;

/* The initial location of the FDE at p, or 0 (a CIE, an FDE covering
 * nothing, or one this reader does not read). */
static uintptr_t fde_begin(const uint8_t *p)
{
    struct rd f;
    if (!entry_body(p, &f))
        return 0;
    uint32_t cie_ptr = (uint32_t)rd_u(&f, 4);
    struct cie c;
    if (cie_ptr == 0 || f.bad || !cie_read(p + 4 - cie_ptr, &c))
        return 0;
    uintptr_t begin = rd_enc(&f, c.fde_enc, 0);
    uintptr_t range = rd_enc(&f, c.fde_enc & 0x0f, 0);
    return f.bad || range == 0 ? 0 : begin;
}

/* The main program's .eh_frame in memory, from its section headers and
 * its load bias. */
static bool find_eh_frame(uintptr_t bias, const uint8_t **out, size_t *len)
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = false;
    ElfW(Ehdr) eh;
    ElfW(Shdr) sh, str;
    if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_shentsize != sizeof(ElfW(Shdr)) ||
        eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum ||
        pread(fd, &str, sizeof(str), (off_t)(eh.e_shoff + eh.e_shstrndx * sizeof(str))) !=
            (ssize_t)sizeof(str))
        goto out;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        char name[16] = "";
        if (pread(fd, &sh, sizeof(sh), (off_t)(eh.e_shoff + i * sizeof(sh))) != (ssize_t)sizeof(sh))
            break;
        if (sh.sh_name >= str.sh_size ||
            pread(fd, name, sizeof(name) - 1, (off_t)(str.sh_offset + sh.sh_name)) <= 0)
            continue;
        if (strcmp(name, ".eh_frame") == 0 && sh.sh_addr && sh.sh_size >= 8 &&
            (sh.sh_flags & SHF_ALLOC)) {
            *out = (const uint8_t *)(bias + sh.sh_addr);
            *len = sh.sh_size;
            ok = true;
            break;
        }
    }
out:
    close(fd);
    return ok;
}

bool cfi_boot_static(uintptr_t bias)
{
    const uint8_t *base, *p, *end;
    size_t len, n = 0;
    if (static_fdes || !find_eh_frame(bias, &base, &len))
        return static_fdes != NULL;
    end = base + len;
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0;
        for (p = base; end - p >= 8;) {
            uint32_t l, id;
            memcpy(&l, p, 4);
            memcpy(&id, p + 4, 4);
            if (l == 0 || l >= 0xfffffff0u || l > (size_t)(end - p) - 4)
                break; /* the terminator, 64-bit DWARF or a bad length */
            uintptr_t b = id ? fde_begin(p) : 0;
            if (b && pass == 1 && k < n) {
                static_fdes[k].begin = b;
                static_fdes[k].fde = p;
            }
            k += b != 0;
            p += 4 + (size_t)l;
        }
        if (pass == 0) {
            n = k;
            if (n == 0)
                return false;
            static_fdes = prof_host_meta_alloc(n * sizeof(*static_fdes), 16);
            if (!static_fdes)
                return false;
        }
    }
    _Static_assert(offsetof(struct fde_ent, begin) == 0 && sizeof(*static_fdes) <= HEAPSORT_ELEM_MAX,
                   "heapsort.h's element");
    heapsort_by_key(static_fdes, n, sizeof(*static_fdes));
    static_nfdes = n;
    return true;
}

/* The FDE whose range may hold pc: the last one starting at or below it,
 * from the module's .eh_frame_hdr or (a static program) the table above. */
static const uint8_t *find_fde(uintptr_t pc)
{
    struct dl_find_object fo;
    /* A static program's own code: its table, without _dl_find_object,
     * which crashes until glibc has set it up (the C library's start-up
     * allocates before that, and such an allocation may be sampled). Other
     * code in a static program (static dlopen) is left to libunwind. */
    if (static_nfdes || _dl_find_object((void *)pc, &fo) != 0 || !fo.dlfo_eh_frame) {
        size_t lo = 0, hi = static_nfdes;
        if (hi == 0 || pc < static_fdes[0].begin)
            return NULL;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (static_fdes[mid].begin <= pc)
                lo = mid;
            else
                hi = mid;
        }
        return static_fdes[lo].fde;
    }
    /* .eh_frame_hdr: version 1, then the encodings of eh_frame_ptr, of
     * fde_count and of the table, which must be pairs of datarel sdata4
     * (what every linker writes). */
    const uint8_t *hdr = fo.dlfo_eh_frame;
    if (hdr[0] != 1 || hdr[3] != 0x3b)
        return NULL;
    struct rd r = {hdr + 4, hdr + 4 + 16, false};
    (void)rd_enc(&r, hdr[1], (uintptr_t)hdr);
    uint64_t count = rd_enc(&r, hdr[2], (uintptr_t)hdr);
    if (r.bad || count == 0 || count > ((uint64_t)1 << 28))
        return NULL;
    const int32_t *tab = (const int32_t *)(const void *)r.p;
    /* last entry whose initial location is <= pc */
    uint64_t lo = 0, hi = count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)hdr + (intptr_t)tab[2 * mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if ((uintptr_t)hdr + (intptr_t)tab[2 * lo] > pc)
        return NULL;
    return hdr + tab[2 * lo + 1];
}

struct cfi_rule cfi_parse(uintptr_t ra)
{
    uintptr_t pc = ra - 1;
    const uint8_t *fde = ra < 4096 ? NULL : find_fde(pc);
    if (!fde)
        return unsupported;

    struct rd f;
    if (!entry_body(fde, &f))
        return unsupported;
    uint32_t cie_ptr = (uint32_t)rd_u(&f, 4);
    if (cie_ptr == 0 || f.bad)
        return unsupported; /* a CIE where an FDE should be */
    struct cie c;
    if (!cie_read(fde + 4 - cie_ptr, &c))
        return unsupported;
    uintptr_t begin = rd_enc(&f, c.fde_enc, 0);
    uintptr_t range = rd_enc(&f, c.fde_enc & 0x0f, 0);
    if (f.bad || pc < begin || pc - begin >= range)
        return unsupported; /* in a gap between FDEs: no unwind information */
    if (c.has_z) {
        uint64_t n = rd_uleb(&f);
        if (f.bad || n > (uint64_t)(f.end - f.p))
            return unsupported;
        f.p += n;
    }

    /* rbp: same value unless a rule says otherwise; the return address:
     * nowhere until the CIE says (undefined only when a rule says so). */
    struct row s = {-1, 0, HOW_SAME, HOW_OTHER, 0, 0};
    if (!run(&s, NULL, &c, c.insns, c.end, begin, pc))
        return unsupported;
    struct row init = s;
    if (!run(&s, &init, &c, f.p, f.end, begin, pc))
        return unsupported;

    struct cfi_rule out = unsupported;
    if (s.ra == HOW_UNDEF) {
        out.kind = CFI_END;
        return out;
    }
    if (s.ra != HOW_OFFSET || s.ra_off != -8)
        return unsupported;
    if (s.cfa_reg == DW_REG_RSP)
        out.kind = CFI_SP;
    else if (s.cfa_reg == DW_REG_RBP)
        out.kind = CFI_BP;
    else
        return unsupported;
    if (s.cfa_off <= 0 || s.cfa_off > INT32_MAX)
        return unsupported;
    out.cfa_off = (int32_t)s.cfa_off;
    if (s.rbp == HOW_OFFSET) {
        if (s.rbp_off >= 0 || s.rbp_off < -s.cfa_off - 65536)
            return unsupported;
        out.rbp_off = (int32_t)s.rbp_off;
    } else if (s.rbp != HOW_SAME) {
        return unsupported; /* the caller's rbp is not where this walk can read it */
    }
    return out;
}
