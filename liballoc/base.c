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
static _Atomic size_t base_total;

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
        size_t want = ALIGN_UP(size, PAGE); /* align <= PAGE (base.h) */
        void *m;
        if (os_map_aligned(want, PAGE, &m) != 0)
            return NULL;
        atomic_fetch_add_explicit(&base_total, want, memory_order_relaxed);
        return m;
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
        size_t want = BASE_BLOCK;
        void *m;
        if (os_map_aligned(want, PAGE, &m) != 0)
            goto out;
        atomic_fetch_add_explicit(&base_total, want, memory_order_relaxed);
        base_cur = (uintptr_t)m;
        base_end = base_cur + want;
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
    base_lock_take();
    atomic_fetch_add_explicit(&base_total, size, memory_order_relaxed);
    base_cur = (uintptr_t)mem;
    base_end = base_cur + size;
    base_lock_drop();
}

size_t base_mapped(void)
{
    return atomic_load_explicit(&base_total, memory_order_relaxed);
}

void base_prefork(void) { pthread_mutex_lock(&base_lock); }
void base_postfork_parent(void) { pthread_mutex_unlock(&base_lock); }
void base_postfork_child(void) { pthread_mutex_init(&base_lock, NULL); }
