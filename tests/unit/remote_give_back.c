/*
 * remote_give_back: what a take leaves of an arena's remote stack of large
 * blocks goes back whole and in order (arena.h, arena_remote_give_back),
 * behind the blocks other threads pushed meanwhile, and every block's depth
 * (span.reserved: the blocks at or below it, which arena_remote_put's cap
 * reads at the top) stays exact:
 *   - 4 blocks pushed, the stack taken: its top is the last pushed, of
 *     depth 4;
 *   - 2 more pushed onto the emptied stack (another thread's frees while
 *     the taker works), then the taken stack's rest (3 blocks) given back:
 *     the stack is the 2 new blocks, then the 3, depths 5, 4, 3, 2, 1;
 *   - given back onto an empty stack, a rest keeps its order and depths.
 * Before, a give-back walked its list to the end, linked the new pushes
 * behind it and left the top's depth at 3 for 5 blocks.
 */
#include "check.h"

#include "arena.h"
#include "pagemap.h"
#include "span.h"
#include "tcache.h"

#include <stdlib.h>

#define BLK ((size_t)65536)
#define N 6

static struct span *span_of(void *p)
{
    return pagemap_get((uintptr_t)p);
}

/* The stack from top, in order, against want[] (n blocks) and depths
 * n .. 1; the stack is left taken (empty) and returned. */
static struct span *expect_stack(struct arena *a, size_t c, struct span **want, unsigned n)
{
    struct span *top = arena_remote_take(a, c);
    struct span *s = top;
    for (unsigned i = 0; i < n; i++) {
        CHECK_MSG(s == want[i], "block %u of the stack: %p, want %p", i, (void *)s,
                  (void *)want[i]);
        CHECK_U(s->reserved, ==, n - i);
        s = s->next;
    }
    CHECK_MSG(s == NULL, "the stack holds more than %u blocks", n);
    return top;
}

int main(void)
{
    free(malloc(1)); /* boot */
    struct arena *a = arenas[0];
    CHECK(a != NULL);
    size_t c = tcache_large_class(BLK);
    CHECK_MSG(arena_remote_take(a, c) == NULL, "the stack is not empty at the start");

    void *p[N];
    struct span *s[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(BLK);
        CHECK_NONNULL(p[i]);
        s[i] = span_of(p[i]);
        CHECK(s[i] != NULL && s[i]->start == (uintptr_t)p[i]);
        CHECK(s[i]->cache_arena == a);
    }
    for (int i = 0; i < 4; i++)
        CHECK_MSG(arena_remote_put(s[i]), "block %d was not stacked", i);
    struct span *top = arena_remote_take(a, c);
    CHECK(top == s[3]);
    CHECK_U(top->reserved, ==, 4);

    /* Pushes between the take and the give-back. */
    CHECK(arena_remote_put(s[4]));
    CHECK(arena_remote_put(s[5]));
    arena_remote_give_back(a, c, top->next);
    struct span *want[5] = {s[5], s[4], s[2], s[1], s[0]};
    struct span *all = expect_stack(a, c, want, 5);

    /* The same rest onto an empty stack: as it was. */
    arena_remote_give_back(a, c, all->next->next);
    expect_stack(a, c, want + 2, 3);

    for (int i = 0; i < N; i++) { /* off the stacks: live blocks again */
        s[i]->lcached = 0;
        free(p[i]);
    }
    printf("remote_give_back: ok\n");
    return 0;
}
