/*
 * cfi: the x86-64 call-frame rule of a code address, read from the module's
 * .eh_frame (found through .eh_frame_hdr with glibc's lock-free
 * _dl_find_object) and cached per address, for a stack walk that costs a
 * few loads per frame instead of libunwind's generic step.
 *
 * A rule says where the caller's frame is: CFA = rsp or rbp of this frame
 * + offset, the return address at CFA-8, rbp either unchanged or saved at
 * CFA+rbp_off. Anything the DWARF program says beyond that (a CFA given by
 * an expression or by another register, a signal frame, a return address
 * not at CFA-8, rbp kept in another register, an encoding we do not read)
 * gives CFI_UNSUPPORTED: the caller then unwinds the whole stack with
 * libunwind, so no frame is ever guessed.
 *
 * Thread-safe and lock-free (one 64-bit cache word per entry, relaxed
 * atomics); never allocates after cfi_boot; async-signal-safe, as glibc
 * documents _dl_find_object to be. Needs glibc 2.35 or later. Rules are
 * tagged with a load generation that dlclose bumps: a rule read from a
 * module that has been unloaded is never used again (see cfi.c).
 */
#ifndef CFI_H
#define CFI_H

#include <stdbool.h>
#include <stdint.h>

/* What a rule says about a frame. */
enum cfi_kind {
    CFI_UNSUPPORTED = 0, /* no FDE, or CFI this walker does not follow */
    CFI_SP = 1,          /* CFA = rsp + cfa_off */
    CFI_BP = 2,          /* CFA = rbp + cfa_off */
    CFI_END = 3,         /* outermost frame (return address undefined: _start, clone) */
};

/* The unwind rule at one code address (a return address minus 1). */
struct cfi_rule {
    enum cfi_kind kind; /* as above */
    int32_t cfa_off;    /* CFI_SP/CFI_BP: bytes added to the base register */
    int32_t rbp_off;    /* 0: rbp unchanged in the caller; else saved at CFA + rbp_off */
};

/* Allocate the cache (64 KiB of base memory); false if that failed. Once,
 * before cfi_lookup; not thread-safe. */
bool cfi_boot(void);
/* Uncached: parse the FDE for the frame whose return address (or, for the
 * frame that was interrupted, whose pc + 1) is ra; looked up at ra - 1,
 * inside the call. */
struct cfi_rule cfi_parse(uintptr_t ra);

/* The cache word of a rule, one word so a reader never sees half of an
 * entry another thread is writing:
 *   bits  0..33  the return address >> CFI_CACHE_LG (its low bits follow
 *                from the slot index, see cfi_slot);
 *   bits 34..35  the kind; 36..50 cfa_off / 8; 51..54 -rbp_off / 8;
 *   bits 55..63  the load generation the rule was read in (cfi_gen's low
 *                9 bits).
 * A rule that does not fit (a frame over 256 KiB, rbp saved more than 120
 * bytes below the CFA) is given as CFI_UNSUPPORTED. (Until 16 KiB frames
 * fit, with 13 generation bits: a benchmark's 16.5 KiB frame of arrays
 * sent every sample of its thread to libunwind.) Addresses of 47 bits
 * or more (the vsyscall page) and under 8 KiB are never cached. */
#define CFI_PC_BITS 47
#define CFI_CACHE_LG 13
#define CFI_HI_BITS (CFI_PC_BITS - CFI_CACHE_LG)
#define CFI_HI_MASK (((uint64_t)1 << CFI_HI_BITS) - 1)
#define CFI_GEN_SHIFT 55
#define CFI_GEN_MASK (((uint64_t)1 << (64 - CFI_GEN_SHIFT)) - 1)
#define CFI_OFF_BITS 15                         /* cfa_off / 8 < CFI_OFF_UNITS */
#define CFI_OFF_UNITS ((uint64_t)1 << CFI_OFF_BITS)
#define CFI_RBP_SLOTS 16                        /* -rbp_off / 8 < this */
_Static_assert(CFI_HI_BITS + 2 + CFI_OFF_BITS + 4 == CFI_GEN_SHIFT, "cache word layout");
extern _Atomic uint64_t *cfi_cache;

/* The load generation: bumped by the exported dlclose (cfi.c) before and
 * after the library's real dlclose, so a rule read from a module that has
 * since been unloaded never matches again, even when another module is
 * mapped at the same address later. A walk reads it once at its start
 * (acquire) and passes it to each lookup. */
extern _Atomic uint64_t cfi_gen;
static inline uint64_t cfi_generation(void)
{
    return __atomic_load_n((uint64_t *)&cfi_gen, __ATOMIC_ACQUIRE);
}

/* For libunwind's unw_backtrace, whose per-thread cache of frame rules
 * nothing flushes: true if a walk by a thread whose cache dates from
 * generation since (cfi_generation() before its first unw_backtrace) may
 * have used a rule of an unloaded module: one of ips[0..n) lies where a
 * module unloaded after since was mapped, or a dlclose is running, or
 * more modules were unloaded than the table keeps. Lock-free. */
bool cfi_unload_suspect(void *const *ips, unsigned n, uint64_t since);
/* Unloads the exported dlclose does not see (cfi.c): at boot of a dynamic
 * program, decide whether the program's dlclose calls reach it (else the
 * loader's counts are polled from then on); cfi_unload_poll, before each
 * stack and dump, records the unloads since the last look. Both lock-free
 * when nothing changed, else under the unload lock (tried, not waited
 * for); neither allocates. Off in a forked child (cfi_postfork_child). */
void cfi_unload_poll_boot(void);
void cfi_unload_poll(void);
/* In a forked child: reset the unload bookkeeping a thread of the parent
 * may have held (dlclose's lock). */
void cfi_postfork_child(void);

/* For a static program (gcc links -static ones without .eh_frame_hdr):
 * the binary-search table of the program's own .eh_frame, built once
 * (from prof boot, before the walks); bias: the program's load bias. False
 * when there is none to build. */
bool cfi_boot_static(uintptr_t bias);

/* Cache miss: parse, store (tagged with gen), return the word. */
uint64_t cfi_fill(uintptr_t ra, uint64_t gen);

static inline enum cfi_kind cfi_word_kind(uint64_t w)
{
    return (enum cfi_kind)((w >> CFI_HI_BITS) & 3);
}
static inline uintptr_t cfi_word_cfa_off(uint64_t w)
{
    return (uintptr_t)((w >> (CFI_HI_BITS + 2)) & (CFI_OFF_UNITS - 1)) * 8;
}
static inline uintptr_t cfi_word_rbp_back(uint64_t w) /* -rbp_off */
{
    return (uintptr_t)((w >> (CFI_HI_BITS + 2 + CFI_OFF_BITS)) & (CFI_RBP_SLOTS - 1)) * 8;
}

/* The slot of ra: its low CFI_CACHE_LG bits folded with the next two
 * groups of as many bits (module bases differ there), so the slot and the
 * stored high part give back the whole address. Shifts and xors only: the
 * walk is a chain of dependent loads, and a multiply here cost ~1 ns a
 * frame. */
static inline unsigned cfi_slot(uintptr_t ra)
{
    uint64_t a = (uint64_t)ra;
    return (unsigned)((a ^ (a >> CFI_CACHE_LG) ^ (a >> (2 * CFI_CACHE_LG))) &
                      (((uint64_t)1 << CFI_CACHE_LG) - 1));
}

/* The rule word for return address ra in load generation gen (a few
 * instructions on a hit). */
static inline uint64_t cfi_lookup(uintptr_t ra, uint64_t gen)
{
    uint64_t w = __atomic_load_n((uint64_t *)&cfi_cache[cfi_slot(ra)], __ATOMIC_RELAXED);
    uint64_t want = ((uint64_t)ra >> CFI_CACHE_LG) | (gen & CFI_GEN_MASK) << CFI_GEN_SHIFT;
    if (__builtin_expect(w != 0 && (w & (CFI_HI_MASK | CFI_GEN_MASK << CFI_GEN_SHIFT)) == want, 1))
        return w;
    return cfi_fill(ra, gen);
}

#endif
