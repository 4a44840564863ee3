/*
 * backtrace: stack capture for sampled allocations. A walk with the
 * .eh_frame rules of each return address, cached (cfi.h; prof_unwind:auto;
 * works on code without frame pointers), which hands any stack it cannot
 * follow to libunwind's unw_backtrace (prof_unwind:libunwind); or a
 * frame-pointer walk bounded by the thread's stack (prof_unwind:fp).
 * Frames inside the allocator itself are dropped so stacks start at the
 * caller of malloc (or of operator new, mallocx, ...), whatever the link
 * mode: every allocator object keeps its code in the section liballoc_text
 * (liballoc/text.ld), whose bounds the linker exports; see backtrace.c.
 * Never called with allocator locks held.
 */
#ifndef BACKTRACE_H
#define BACKTRACE_H

#include <stdint.h>

#define PROF_BT_MAX 128

/* prof_unwind: auto (the walk with cached .eh_frame rules of cfi.c, and
 * libunwind for any stack it cannot follow; frame pointers when the
 * allocator's module has no .eh_frame_hdr), fp, libunwind (warns and walks
 * frame pointers when libunwind cannot unwind the allocator's module).
 * BT_CFI is what auto becomes after backtrace_boot. */
enum bt_method { BT_LIBUNWIND = 0, BT_FP = 1, BT_AUTO = 2, BT_CFI = 3 };

/* Choose the unwinder; once, from prof_boot. May print one warning. */
void backtrace_boot(int method);
/* Capture up to max return addresses (innermost first), the allocator's own
 * frames left out; returns the depth. Thread-safe, async-signal-unsafe. */
unsigned backtrace_capture(uintptr_t *pcs, unsigned max);
/* backtrace_capture's walk with cached .eh_frame rules (cfi.c) alone: the
 * depth, or -1 where prof_unwind:auto would ask libunwind instead. For
 * tests and benchmarks; needs backtrace_boot(BT_AUTO) first. */
int backtrace_capture_cfi(uintptr_t *pcs, unsigned max);
/* In a forked child: stop using libunwind (see backtrace.c). */
void backtrace_postfork_child(void);
/* True if pc lies in the allocator's own code (the liballoc_text section of
 * the module this copy of the allocator is linked into). */
int backtrace_is_internal(uintptr_t pc);

/* The call-site address for a captured return address: one byte back, so
 * it lies inside the call instruction and a symbolizer names the calling
 * line (and its inlined frames), not the statement after the call.
 * Captured stacks keep return addresses (the site table hashes them); the
 * writers apply this: every frame in pprof (readers use Location.address
 * as is), only the first in heap_v2 and the recent-ring JSON (jeprof moves
 * the others back itself, see FixCallerAddresses). */
static inline uintptr_t backtrace_call_site(uintptr_t pc)
{
    return pc ? pc - 1 : 0;
}

#endif
