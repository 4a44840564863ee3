/* defer: frees deferred while the thread is inside a slow path (see defer.h). */
#include "defer.h"
#include "heap.h"

__thread struct defer_state defer_tls __attribute__((tls_model("initial-exec")));

void defer_push(void *p)
{
    void *head = atomic_load_explicit(&defer_tls.list, memory_order_relaxed);
    do
        *(void **)p = head;
    while (!atomic_compare_exchange_weak_explicit(&defer_tls.list, &head, p, memory_order_release,
                                                  memory_order_relaxed));
}

void defer_drain(void)
{
    /* The depth stays up while the blocks are freed: a handler's free
     * arriving meanwhile joins the list, which is taken again until empty. */
    while (atomic_load_explicit(&defer_tls.list, memory_order_relaxed) != NULL) {
        defer_enter();
        void *b = atomic_exchange_explicit(&defer_tls.list, NULL, memory_order_acquire);
        while (b != NULL)
            b = heap_free_deferred(b); /* NULL too after a corrupted link (reported) */
        atomic_signal_fence(memory_order_seq_cst);
        defer_tls.depth--;
    }
}
