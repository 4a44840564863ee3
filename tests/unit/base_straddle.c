/*
 * base_straddle: base_alloc places a request of a page or less inside one
 * page (base.c): one that would cross a page boundary starts on the next
 * page, whose skipped bytes are never written. A structure written whole
 * (a thread heap, 2.7 KiB, zeroed and initialised at thread start) then
 * makes one page resident instead of two.
 *  - eight requests of 3000 bytes in a row: none crosses a page boundary,
 *    and each starts where the previous one ended (64-byte aligned) when
 *    that leaves room, else on the next page;
 *  - a request of more than a page is not moved (it cannot fit one page);
 *  - the heaps of eight new threads each lie in one page.
 */
#include "check.h"

#include "base.h"
#include "heap.h"

#include <pthread.h>

#define N 8

static uintptr_t heaps[N];

static void *thread_main(void *arg)
{
    /* Through a volatile pointer: gcc may drop free(malloc(16)) as a pair
     * and take heap_tls for unchanged by them (it read heap_empty). */
    void *(*volatile alloc)(size_t) = malloc;
    free(alloc(16));
    __asm__ volatile("" ::: "memory");
    CHECK_MSG(heap_tls != &heap_empty, "the thread has no heap of its own");
    heaps[(uintptr_t)arg] = (uintptr_t)heap_tls;
    return NULL;
}

static bool one_page(uintptr_t p, size_t size)
{
    return p / PAGE == (p + size - 1) / PAGE;
}

int main(void)
{
    free(malloc(1)); /* boot */
    uintptr_t prev = 0;
    for (int i = 0; i < N; i++) {
        uintptr_t p = (uintptr_t)base_alloc(3000, 64);
        CHECK(p != 0);
        CHECK_MSG(one_page(p, 3000), "request %d at %#lx crosses a page boundary", i,
                  (unsigned long)p);
        if (prev) {
            uintptr_t next = ALIGN_UP(prev + 3000, 64);
            CHECK_U(p, ==, one_page(next, 3000) ? next : ALIGN_UP(next, PAGE));
        }
        prev = p;
    }
    uintptr_t big = (uintptr_t)base_alloc(PAGE + 512, 64);
    CHECK(big != 0);
    CHECK_U(big, ==, ALIGN_UP(prev + 3000, 64));

    pthread_t t[N];
    for (uintptr_t i = 0; i < N; i++)
        CHECK_I(pthread_create(&t[i], NULL, thread_main, (void *)i), ==, 0);
    for (int i = 0; i < N; i++)
        CHECK_I(pthread_join(t[i], NULL), ==, 0);
    for (int i = 0; i < N; i++)
        CHECK_MSG(one_page(heaps[i], sizeof(struct heap)),
                  "heap %d at %#lx crosses a page boundary", i, (unsigned long)heaps[i]);
    printf("base_straddle: ok\n");
    return 0;
}
