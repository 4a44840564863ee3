/* base: metadata bump allocator (see base.h). */
#include "base.h"
#include "lock_depth.h"
#include "os.h"

#include <pthread.h>
#include <stdatomic.h>

#define BASE_BLOCK ((size_t)2 << 20)

static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t base_cur, base_end;
/* The calling thread holds (or waits for) base_lock; set before the wait. */
static __thread bool base_held __attribute__((tls_model("initial-exec")));

static void base_lock_take(void)
{
    base_held = true;
    atomic_signal_fence(memory_order_seq_cst);
    lock_counted(&base_lock);
}

static void base_lock_drop(void)
{
    unlock_counted(&base_lock);
    atomic_signal_fence(memory_order_seq_cst);
    base_held = false;
}
static _Atomic size_t base_total; /* mapped for metadata, guard pages included */

/*
 * Guard pages: every metadata mapping has a PROT_NONE page at each end.
 * The kernel places anonymous mappings side by side, so a chunk of user
 * blocks often lies right below or above a base block. Without the guards
 * a linear overflow past a block (a 1 MiB memcpy out of the first chunk's
 * last page) ran on into the thread heaps and span descriptors here and
 * rewrote the pointers malloc follows; now it faults at the guard. A guard
 * the kernel refuses (at vm.max_map_count mprotect fails with ENOMEM) is
 * left out: the metadata works without it.
 */
static void guard_ends(uintptr_t start, size_t size)
{
    (void)os_ops.guard((void *)start, PAGE);
    (void)os_ops.guard((void *)(start + size - PAGE), PAGE);
}

/* size bytes (whole pages) of fresh zeroed metadata between two guard
 * pages, all three counted in base_total (stats.mapped must equal what the
 * osmap registry holds); NULL if the kernel refuses the mapping. */
static void *base_map(size_t size)
{
    void *m;
    if (os_map_aligned(size + 2 * PAGE, PAGE, &m) != 0)
        return NULL;
    guard_ends((uintptr_t)m, size + 2 * PAGE);
    atomic_fetch_add_explicit(&base_total, size + 2 * PAGE, memory_order_relaxed);
    return (char *)m + PAGE;
}

void *base_alloc(size_t size, size_t align)
{
    void *ret = NULL;
    if (align < 16)
        align = 16;
    size = ALIGN_UP(size, 16);
    if (size + align > BASE_BLOCK) {
        /* A big table (a pagemap leaf): a mapping of its own, so the
         * current block keeps serving the small requests (making it the
         * current block would strand the old one's rest and map a new one
         * for the next small request). */
        return base_map(ALIGN_UP(size, PAGE)); /* align <= PAGE (base.h) */
    }
    /* A signal handler that interrupted this thread inside base_alloc (or
     * base_add_block) would wait for its own thread: NULL instead. */
    if (base_held)
        return NULL;
    base_lock_take();
    uintptr_t p = ALIGN_UP(base_cur, align);
    /* A request of a page or less that would straddle a page boundary
     * starts on the next page: the skipped bytes are never written (not
     * resident), and a structure written whole (a thread heap, 2.7 KiB)
     * then makes one page resident, not two. */
    if (size <= PAGE && (p & PAGE_MASK) + size > PAGE)
        p = ALIGN_UP(p, PAGE);
    if (base_cur == 0 || p + size > base_end) {
        void *m = base_map(BASE_BLOCK);
        if (!m)
            goto out;
        base_cur = (uintptr_t)m;
        base_end = base_cur + BASE_BLOCK;
        p = ALIGN_UP(base_cur, align);
    }
    base_cur = p + size;
    ret = (void *)p;
out:
    base_lock_drop();
    return ret;
}

void base_add_block(void *mem, size_t size)
{
    DASSERT(((uintptr_t)mem & PAGE_MASK) == 0 && (size & PAGE_MASK) == 0 && size >= 3 * PAGE);
    guard_ends((uintptr_t)mem, size);
    base_lock_take();
    atomic_fetch_add_explicit(&base_total, size, memory_order_relaxed);
    base_cur = (uintptr_t)mem + PAGE;
    base_end = (uintptr_t)mem + size - PAGE;
    base_lock_drop();
}

size_t base_mapped(void)
{
    return atomic_load_explicit(&base_total, memory_order_relaxed);
}

void base_prefork(void) { pthread_mutex_lock(&base_lock); }
void base_postfork_parent(void) { pthread_mutex_unlock(&base_lock); }
void base_postfork_child(void) { pthread_mutex_init(&base_lock, NULL); }
