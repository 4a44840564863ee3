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
 * documents _dl_find_object to be. Needs glibc 2.35 or later. Like
 * libunwind's own per-address cache, a cached rule is not dropped when its
 * module is unloaded (see cfi.c).
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

/* The cache word of a rule: the return address in the low CFI_PC_BITS
 * bits, then the kind (2 bits), cfa_off / 8 (11 bits), -rbp_off / 8 (4
 * bits). One word, so a reader never sees half of an entry another thread
 * is writing. A rule that does not fit (a frame over 16 KiB, rbp saved more
 * than 120 bytes below the CFA) is given as CFI_UNSUPPORTED. */
#define CFI_PC_BITS 47
#define CFI_PC_MASK (((uint64_t)1 << CFI_PC_BITS) - 1)
#define CFI_CACHE_LG 13
extern _Atomic uint64_t *cfi_cache;
/* Cache miss: parse, store, return the word. */
uint64_t cfi_fill(uintptr_t ra);

static inline enum cfi_kind cfi_word_kind(uint64_t w)
{
    return (enum cfi_kind)((w >> CFI_PC_BITS) & 3);
}
static inline uintptr_t cfi_word_cfa_off(uint64_t w)
{
    return (uintptr_t)((w >> (CFI_PC_BITS + 2)) & 2047) * 8;
}
static inline uintptr_t cfi_word_rbp_back(uint64_t w) /* -rbp_off */
{
    return (uintptr_t)(w >> (CFI_PC_BITS + 13)) * 8;
}

/* The rule word for return address ra (a few instructions on a hit). */
static inline uint64_t cfi_lookup(uintptr_t ra)
{
    unsigned i = (unsigned)(((uint64_t)ra * 0x9e3779b97f4a7c15ull) >> (64 - CFI_CACHE_LG));
    uint64_t w = __atomic_load_n((uint64_t *)&cfi_cache[i], __ATOMIC_RELAXED);
    if (__builtin_expect(w != 0 && (w & CFI_PC_MASK) == ra, 1))
        return w;
    return cfi_fill(ra);
}

#endif
