/* backtrace: sampled-stack capture (see backtrace.h).
 *
 * Which frames are the allocator's own: every object of the allocator (C
 * and C++) is compiled, then relinked with liballoc/text.ld so that all its
 * code (.text, .text.unlikely cold parts, .text.startup, ...) sits in one
 * section, liballoc_text, and the linker defines __start_liballoc_text and
 * __stop_liballoc_text around it in whatever module the allocator ends up in.
 * A frame is internal iff its return address lies in that range. This holds
 * in every link mode: liballoc.so (-lalloc, LD_PRELOAD), liballoc.a in a
 * static or PIE executable, liballoc.a inside a plugin .so; and it is
 * independent of inlining and of the unwinder, since it is a property of
 * where the code was placed, not of how the stack is walked.
 * Rejected alternatives: the bounds of the module that holds the allocator
 * (right only for liballoc.so: with liballoc.a the module is also the
 * user's program or plugin, whose frames would be dropped or kept wholesale);
 * recording, at each entry point, where the user's frame is (a thread-local
 * store on every malloc fast path, nesting rules between entry points and
 * operator new, and unw_backtrace returns no stack pointers to compare).
 * The symbols are hidden: each copy of the allocator (a program and a plugin
 * may both link liballoc.a) sees its own section, and liballoc.so exports
 * nothing new. */
#include "backtrace.h"

#include "cfi.h"
#include "dynload.h"
#include "prof_hooks.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>

extern const char __start_liballoc_text[] __attribute__((visibility("hidden")));
extern const char __stop_liballoc_text[] __attribute__((visibility("hidden")));

static int bt_method;
/* The cached-rule walk can serve while libunwind is not loaded yet (any
 * method but fp; backtrace_capture). */
static bool cfi_until_unw;
/* A static program's load bias and code ([lo, hi) of its executable
 * PT_LOADs), set by backtrace_boot; 0, 0 in a dynamic program. */
static uintptr_t static_bias, static_text_lo, static_text_hi;

/* dl_iterate_phdr callback: for the module whose executable segment holds
 * *arg's address, replace it by 1 if the module has a PT_GNU_EH_FRAME
 * header (libunwind finds unwind tables only through it), else 0. */
static int find_eh_frame_hdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t *io = arg;
    const ElfW(Phdr) *phdr = info->dlpi_phdr;
    size_t phnum = info->dlpi_phnum;
    uintptr_t base = info->dlpi_addr;
    /* A static program's first malloc can come before glibc fills in the
     * main program's headers for dl_iterate_phdr: read them from the
     * auxiliary vector, which is set up first. */
    if (phnum == 0 && (!info->dlpi_name || !info->dlpi_name[0])) {
        phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR);
        phnum = getauxval(AT_PHNUM);
        base = 0;
        for (size_t i = 0; phdr && i < phnum; i++)
            if (phdr[i].p_type == PT_PHDR)
                base = (uintptr_t)phdr - phdr[i].p_vaddr;
    }
    int mine = 0, hdr = 0;
    for (size_t i = 0; phdr && i < phnum; i++) {
        const ElfW(Phdr) *ph = &phdr[i];
        if (ph->p_type == PT_GNU_EH_FRAME)
            hdr = 1;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t lo = base + ph->p_vaddr;
            if (*io >= lo && *io < lo + ph->p_memsz)
                mine = 1;
        }
    }
    if (!mine)
        return 0;
    *io = (uintptr_t)hdr;
    return 1;
}

static void main_stack_boot(void);

/* The ELF header of the module this code is linked into: in a static
 * program, the program's (the linker defines it; weak: absent if not). */
extern const ElfW(Ehdr) __ehdr_start __attribute__((weak, visibility("hidden")));

/* static_bias and static_text_lo/hi from the program headers the kernel
 * passed (AT_PHDR): the lowest and highest byte of the executable
 * PT_LOADs. The load bias:
 * where the ELF header is against the address of the PT_LOAD that maps
 * it (gcc's -static-pie programs have no PT_PHDR to take it from), else
 * from PT_PHDR, else 0 (a -static program is not relocated). */
static void static_text_bounds(void)
{
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    size_t phnum = getauxval(AT_PHNUM);
    uintptr_t bias = 0, lo = UINTPTR_MAX, hi = 0;
    bool have_bias = false;
    for (size_t i = 0; ph && i < phnum && &__ehdr_start && !have_bias; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
            bias = (uintptr_t)&__ehdr_start - ph[i].p_vaddr;
            have_bias = true;
        }
    for (size_t i = 0; ph && i < phnum && !have_bias; i++)
        if (ph[i].p_type == PT_PHDR)
            bias = (uintptr_t)ph - ph[i].p_vaddr;
    for (size_t i = 0; ph && i < phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            if (bias + ph[i].p_vaddr < lo)
                lo = bias + ph[i].p_vaddr;
            if (bias + ph[i].p_vaddr + ph[i].p_memsz > hi)
                hi = bias + ph[i].p_vaddr + ph[i].p_memsz;
        }
    static_bias = bias;
    if (hi > lo) {
        static_text_lo = lo;
        static_text_hi = hi;
    }
}

void backtrace_boot(int method)
{
    main_stack_boot();
    bool is_static = getauxval(AT_BASE) == 0; /* no interpreter: -static, -static-pie */
    if (is_static)
        static_text_bounds();
    else
        cfi_unload_poll_boot(); /* loaded by a plugin: unloads polled (cfi.h) */
    if (method == BT_FP) {
        bt_method = BT_FP;
        return;
    }
    /* A static program (no interpreter: -static, -static-pie) has only its
     * own code, whose rules the cached-rule walk reads from a table it
     * builds of the program's .eh_frame (cfi_boot_static): gcc links
     * -static programs without .eh_frame_hdr, and _dl_find_object, which
     * the walk uses elsewhere, crashes until the C library's start-up has
     * set it up (and that start-up allocates). Without that table, and for
     * prof_unwind:libunwind when the program has no .eh_frame_hdr
     * (libunwind then stops in the first frame), frame pointers, with a
     * warning: frames of code built without them are missed (our own code
     * keeps them, liballoc.mk, so the top frame is still right). */
    uintptr_t io = (uintptr_t)&backtrace_capture;
    int found = dl_iterate_phdr(find_eh_frame_hdr, &io);
    bool no_hdr = found && io == 0;
    if (is_static && method == BT_AUTO && cfi_boot() && cfi_boot_static(static_bias)) {
        bt_method = BT_CFI;
        return;
    }
    if (is_static && method == BT_AUTO) {
        prof_host_warn("<jemalloc>: prof: the static program's .eh_frame cannot be read; walking "
                       "frame pointers: frames of code built without them are missed\n");
        bt_method = BT_FP;
        return;
    }
    if (no_hdr) {
        prof_host_warn(method == BT_LIBUNWIND
                           ? "<jemalloc>: prof_unwind:libunwind: the module holding the allocator "
                             "has no .eh_frame_hdr (linked -static? add -Wl,--eh-frame-hdr); "
                             "walking frame pointers instead\n"
                           : "<jemalloc>: prof: the module holding the allocator has no "
                             ".eh_frame_hdr; walking frame pointers: frames of code built without "
                             "them are missed\n");
        bt_method = BT_FP;
        return;
    }
    /* auto: the cached-rule walk (cfi.c), libunwind for what it cannot
     * follow; prof_unwind:libunwind always libunwind, once loaded: before
     * that (allocations of other libraries' constructors, which run before
     * liballoc's) both take the cached-rule walk's frames. */
    bool cfi = cfi_boot();
    bt_method = method == BT_AUTO && cfi ? BT_CFI : BT_LIBUNWIND;
    cfi_until_unw = cfi;
}

void backtrace_postfork_child(void)
{
    /* glibc does not reset the loader's write lock in a forked child: if another
     * thread was inside dlopen/dlclose at fork time, libunwind's
     * dl_iterate_phdr would block forever. The child walks frame pointers
     * (lock-free, bounded by its stack) instead. */
    bt_method = BT_FP;
    cfi_postfork_child();
}

int backtrace_is_internal(uintptr_t pc)
{
    return pc >= (uintptr_t)__start_liballoc_text && pc < (uintptr_t)__stop_liballoc_text;
}

/* Set by the loader to the initial thread's stack top (GLIBC_2.1). */
extern void *__libc_stack_end;

/* How far below __libc_stack_end the initial thread's stack may reach:
 * RLIMIT_STACK at boot (the kernel grows it no further) plus a margin for
 * the environment and auxv above __libc_stack_end, or 1 GiB when that
 * limit is unlimited or larger. A stack pointer further down is on another
 * stack (a coroutine's, a sigaltstack) whose top is unknown: the walks
 * then give up rather than follow a frame address into an unmapped hole
 * between that stack and this one. */
static uintptr_t main_stack_max = (uintptr_t)1 << 30;

static void main_stack_boot(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < ((rlim_t)1 << 30))
        main_stack_max = (uintptr_t)rl.rlim_cur + ((uintptr_t)1 << 20);
}

/* The top of the stack sp is on, or 0 when unknown (the walks then stop
 * or give up). glibc places a thread's descriptor (pthread_self) just
 * above the stack it runs on, its own or one given with
 * pthread_attr_setstack; the initial thread's stack ends at
 * __libc_stack_end. pthread_getattr_np is not an option: it takes the
 * thread's lock and may allocate (its malloc can be sampled: a deadlock,
 * seen with Rust's thread start). Other stacks (sigaltstack, coroutines)
 * get 0. */
static uintptr_t thread_stack_hi(uintptr_t sp)
{
    uintptr_t self = (uintptr_t)pthread_self();
    if (self > sp && self - sp < ((uintptr_t)1 << 28))
        return self;
    uintptr_t end = (uintptr_t)__libc_stack_end;
    if (end > sp && end - sp < main_stack_max)
        return end;
    return 0;
}

/* True if pc lies in loaded code: a module _dl_find_object knows, or in a
 * static program (where it crashes until the C library set it up, and
 * the start-up allocates before that) the program's own code. Lock-free. */
static bool code_address(uintptr_t pc)
{
    if (static_text_hi)
        return pc >= static_text_lo && pc < static_text_hi;
    struct dl_find_object fo;
    return _dl_find_object((void *)pc, &fo) == 0;
}

static unsigned fp_walk(uintptr_t *pcs, unsigned max)
{
    uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t lo = (uintptr_t)fp;
    uintptr_t hi = thread_stack_hi(lo);
    unsigned n = 0;
    /* fp and its return address inside [lo, hi): "hi - fp >= 16", not
     * "fp + 16 <= hi", which wraps for a frame address in the last 16
     * bytes of the address space (a program's rbp can hold anything). */
    while (n < max && (uintptr_t)fp >= lo && (uintptr_t)fp < hi && hi - (uintptr_t)fp >= 16 &&
           ((uintptr_t)fp & 7) == 0) {
        uintptr_t ret = fp[1];
        /* Code built without frame pointers leaves rbp holding data: a
         * "return address" in no loaded module ends the walk (the frames
         * up to it may still be wrong, never this one). Lock-free. */
        if (ret < 4096 || !code_address(ret - 1))
            break;
        pcs[n++] = ret;
        uintptr_t *next = (uintptr_t *)fp[0];
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

/* Number of leading (innermost) frames that are the allocator's own. */
static unsigned internal_prefix(void *const *raw, unsigned n)
{
    unsigned skip = 0;
    while (skip < n && backtrace_is_internal((uintptr_t)raw[skip]))
        skip++;
    return skip;
}

/* The walk with cached .eh_frame rules (bt_method BT_CFI): up to max
 * frames of the program into pcs, the allocator's own frames left out.
 * Returns the depth, or -1 when some frame needs more than cfi.c follows
 * (the caller then asks libunwind for the whole stack); *part is then the
 * number of frames stored in pcs before that one (the caller's fallback
 * when libunwind is not loaded yet: allocations made before liballoc's
 * constructor, by other libraries' constructors).
 *
 * The allocator's frames are crossed by their frame pointers (all its code
 * keeps them, liballoc.mk), which is also where the walk gets the first
 * program frame's registers: the outermost allocator frame, whose rule must
 * say so (CFA = rbp + 16, rbp saved at CFA - 16), holds the program's
 * return address and rbp, and its CFA is the program frame's rsp. Each
 * program frame then goes by its rule: every CFA must lie above the
 * previous one and inside the thread's stack, 8-aligned, or the walk gives
 * up. Stops where the rule says the stack ends (_start, clone), as
 * libunwind does, or at a zero return address. Not inlined, and never
 * tail-called: the frame that called it is then an allocator frame, where
 * the frame-pointer part of the walk starts. */
static __attribute__((noinline)) int cfi_walk(uintptr_t *pcs, unsigned max, unsigned *part)
{
    *part = 0;
    uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t lo = (uintptr_t)fp, hi = thread_stack_hi(lo);
    if (!hi)
        return -1;
    uintptr_t pc = 0, ra = fp[1];
    for (unsigned i = 0; backtrace_is_internal(ra); i++) {
        uintptr_t *next = (uintptr_t *)fp[0];
        if (i > 64 || next <= fp || (uintptr_t)next >= hi || hi - (uintptr_t)next < 16 ||
            ((uintptr_t)next & 7))
            return -1;
        pc = ra;
        fp = next;
        ra = fp[1];
    }
    uint64_t gen = cfi_generation();
    uint64_t w = pc ? cfi_lookup(pc, gen) : 0;
    if (cfi_word_kind(w) != CFI_BP || cfi_word_cfa_off(w) != 16 || cfi_word_rbp_back(w) != 16)
        return -1;
    uintptr_t sp = (uintptr_t)fp + 16, bp = fp[0];
    unsigned n = 0;
    while (n < max && ra) {
        pcs[n++] = ra;
        w = cfi_lookup(ra, gen);
        enum cfi_kind k = cfi_word_kind(w);
        uintptr_t cfa;
        if (k == CFI_SP)
            cfa = sp + cfi_word_cfa_off(w);
        else if (k == CFI_BP)
            cfa = bp + cfi_word_cfa_off(w);
        else if (k == CFI_END)
            break;
        else
            return *part = n, -1;
        if (cfa <= sp || cfa > hi || (cfa & 7))
            return *part = n, -1;
        uintptr_t back = cfi_word_rbp_back(w);
        if (back) {
            if (cfa - back < sp)
                return *part = n, -1;
            bp = *(const uintptr_t *)(cfa - back);
        }
        ra = *(const uintptr_t *)(cfa - 8);
        sp = cfa;
    }
    return (int)n;
}

int backtrace_capture_cfi(uintptr_t *pcs, unsigned max)
{
    unsigned part;
    int k = cfi_walk(pcs, max, &part);
    __asm__ volatile("" ::: "memory"); /* no tail call: cfi_walk's caller is ours */
    return k;
}

/* The load generation when this thread first called unw_backtrace, plus 1
 * (0: not yet); see unw_walk. */
static __thread uint64_t unw_since1;

/* The slow walk, with unw_step: libunwind's shared cache, which cfi.c's
 * dlclose flushes. ~10 us for 18 frames (libunwind blocks signals around
 * each lookup). */
static inline __attribute__((always_inline)) int unw_walk_slow(const struct dynload_unw *u, void **raw,
                                                             int max)
{
    unw_context_t uc;
    unw_cursor_t c;
    if (u->getcontext(&uc) != 0 || u->init_local(&c, &uc) != 0)
        return 0;
    int n = 0;
    do {
        unw_word_t ip;
        if (u->get_reg(&c, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        raw[n++] = (void *)ip;
    } while (n < max && u->step(&c) > 0);
    return n;
}

/* libunwind's walk into raw. unw_backtrace keeps a per-thread cache of
 * frame rules keyed by address that nothing can flush (unw_flush_cache,
 * called by cfi.c's dlclose, reaches only the cache unw_step uses): a
 * library mapped where an unloaded one was would be walked with the old
 * one's rules (seen: a frame skipped, tests/apps/prof_unwind_dlclose.sh).
 * So a stack with a frame where a module was unloaded since this thread's
 * cache began (or during a dlclose) is walked again with unw_step. Only
 * programs that unload libraries and then run code at their old addresses
 * pay for that. Inlined: the walk starts in backtrace_capture's frame, an
 * allocator frame either way. */
static inline __attribute__((always_inline)) int unw_walk(void **raw, int max)
{
    /* libunwind is loaded by dynload_boot (the constructor): none before
     * it, nor when it could not be loaded (frame pointers then). */
    const struct dynload_unw *u = __atomic_load_n(&dynload_unw, __ATOMIC_ACQUIRE);
    if (!u)
        return 0;
    uint64_t gen = cfi_generation();
    if (!unw_since1)
        unw_since1 = gen + 1;
    int n = u->backtrace(raw, max);
    if (__builtin_expect(gen == 0, 1) || n <= 0 ||
        !cfi_unload_suspect(raw, (unsigned)n, unw_since1 - 1))
        return n;
    return unw_walk_slow(u, raw, max);
}

/* True if pc is the first instruction of glibc's signal-return trampoline
 * (__restore_rt, x86-64: mov $15, %rax; syscall; 16-aligned), which a
 * signal handler "returns" to: the unwinders give its address, not a return
 * address after a call, as the handler frame's caller. Lock-free. */
static bool sigreturn_at(uintptr_t pc)
{
#if defined(__x86_64__)
    static const unsigned char code[9] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    return (pc & 15) == 0 && code_address(pc) && memcmp((const void *)pc, code, sizeof(code)) == 0;
#else
    (void)pc;
    return false;
#endif
}

/* Stacks hold return addresses, which every writer and reader moves one
 * byte back into the call (backtrace_call_site, jeprof). Two frames of a
 * stack that crosses a signal handler are not return addresses: the
 * trampoline's first instruction (one byte back is the function before it,
 * __sigaction), and the interrupted frame's pc, the instruction the
 * signal hit (one byte back is the instruction before it, often the line
 * before). Each is stored one byte on, so the
 * readers' step back lands on it. For libunwind's frames only: each is an
 * address its unwind tables cover (executable code, safe to read), while a
 * frame-pointer walk over code built without frame pointers can yield any
 * address inside a module, a PROT_NONE gap between its segments included.
 * (That walk goes from the handler to the interrupted frame's caller, a
 * return address, and names the trampoline after the function before it.) */
static void fix_signal_frames(void **raw, unsigned from, unsigned n)
{
    for (unsigned i = from; i < n; i++) {
        if (!sigreturn_at((uintptr_t)raw[i]))
            continue;
        raw[i] = (char *)raw[i] + 1;
        if (i + 1 < n) {
            raw[i + 1] = (char *)raw[i + 1] + 1;
            i++;
        }
    }
}

unsigned backtrace_capture(uintptr_t *pcs, unsigned max)
{
    void *raw[PROF_BT_MAX + 8];
    unsigned n = 0, skip = 0;
    cfi_unload_poll(); /* before the walk reads the generation */
    bool no_unw = !__atomic_load_n(&dynload_unw, __ATOMIC_ACQUIRE);
    if (bt_method == BT_CFI || (bt_method == BT_LIBUNWIND && cfi_until_unw && no_unw)) {
        unsigned part;
        int k = cfi_walk(pcs, max, &part);
        if (k >= 0)
            return (unsigned)k;
        /* No libunwind to take over (before the constructor loads it, or
         * it could not be loaded): the frames followed so far, the
         * program's innermost ones (the frame-pointer walk below would
         * give only the first frame of code built without them). */
        if (part > 1 && no_unw)
            return part;
    }
    if (bt_method != BT_FP) {
        int k = unw_walk(raw, PROF_BT_MAX + 8);
        n = k > 0 ? (unsigned)k : 0;
        skip = internal_prefix(raw, n);
    }
    /* libunwind that stopped inside the allocator (no unwind table for a
     * frame of ours) found no caller: walk frame pointers, which every
     * allocator function keeps. */
    if (skip == n) {
        n = fp_walk((uintptr_t *)raw, PROF_BT_MAX + 8);
        skip = internal_prefix(raw, n);
    } else {
        fix_signal_frames(raw, skip, n); /* libunwind's stack */
    }
    unsigned out = 0;
    for (unsigned i = skip; i < n && out < max; i++)
        pcs[out++] = (uintptr_t)raw[i];
    return out;
}
