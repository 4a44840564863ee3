/* backtrace: sampled-stack capture (see backtrace.h). */
#include "backtrace.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

static int bt_method;
/* [text_lo, text_hi): executable segment of the module that holds the allocator,
 * when that module is a shared library (LD_PRELOAD or -lalloc). */
static uintptr_t text_lo, text_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t self = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (self >= lo && self < hi) {
            /* Only trust module ranges for a shared object, not the main program. */
            if (info->dlpi_name && info->dlpi_name[0]) {
                text_lo = lo;
                text_hi = hi;
            }
            return 1;
        }
    }
    return 0;
}

void backtrace_boot(int method)
{
    bt_method = method;
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&backtrace_boot);
}

void backtrace_postfork_child(void)
{
    /* glibc does not reset the loader's write lock in a forked child: if another
     * thread was inside dlopen/dlclose at fork time, libunwind's
     * dl_iterate_phdr would block forever. The child walks frame pointers
     * (lock-free, bounded by its stack) instead. */
    bt_method = BT_FP;
}

int backtrace_is_internal(uintptr_t pc)
{
    return pc >= text_lo && pc < text_hi;
}

/* Stack bounds of the calling thread, cached. */
static __thread uintptr_t stack_hi __attribute__((tls_model("initial-exec")));

static unsigned fp_walk(uintptr_t *pcs, unsigned max)
{
    uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t lo = (uintptr_t)fp;
    if (!stack_hi) {
        pthread_attr_t attr;
        void *base;
        size_t sz;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &base, &sz) == 0)
                stack_hi = (uintptr_t)base + sz;
            pthread_attr_destroy(&attr);
        }
        if (!stack_hi)
            stack_hi = lo + ((uintptr_t)1 << 20);
    }
    unsigned n = 0;
    while (n < max && (uintptr_t)fp >= lo && (uintptr_t)fp + 16 <= stack_hi &&
           ((uintptr_t)fp & 7) == 0) {
        uintptr_t ret = fp[1];
        if (ret < 4096)
            break;
        pcs[n++] = ret;
        uintptr_t *next = (uintptr_t *)fp[0];
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

unsigned backtrace_capture(uintptr_t *pcs, unsigned max)
{
    void *raw[PROF_BT_MAX + 8];
    unsigned n;
    if (bt_method == BT_FP) {
        n = fp_walk((uintptr_t *)raw, PROF_BT_MAX + 8);
    } else {
        int k = unw_backtrace(raw, PROF_BT_MAX + 8);
        n = k > 0 ? (unsigned)k : 0;
    }
    /* Drop the allocator's own frames (innermost). */
    unsigned skip = 0;
    if (text_hi) {
        while (skip < n && backtrace_is_internal((uintptr_t)raw[skip]))
            skip++;
    } else {
        skip = n > 2 ? 2 : 0; /* static link: at least drop capture and event frames */
    }
    unsigned out = 0;
    for (unsigned i = skip; i < n && out < max; i++)
        pcs[out++] = (uintptr_t)raw[i];
    return out;
}
