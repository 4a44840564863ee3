/*
 * misuse_stale_mark: a correct program is never told it freed a block twice
 * because of bytes it copied out of its own live blocks.
 *
 * A freed small block carries the free mark in its second word; the mark is
 * left behind when the block's page is emptied and carved again for another
 * size class, where it lands inside the new blocks (not at their second
 * word, which malloc clears). A program may copy such never-written bytes
 * legitimately: a struct with a member it did not set, copied out of the
 * middle of a bigger block into a block of its own (`*copy = outer->in`).
 * If the mark were the same value for every block (one per-process key),
 * the copy's second word would then equal it and its free would be refused
 * as a double free (the block leaked; abort under abort:true). The mark is
 * a function of the block's address (misuse_mark_of), so a value copied to
 * another address is never that block's mark.
 *
 * For pairs of size classes: fill pages with blocks of the first, free them
 * all (the pages return to the arena still dirty: decay is off), allocate
 * blocks of the second from them, and copy every never-written word of each
 * into the second word of a live block that is then freed. No report may
 * come (counted through malloc_message), and each such free must be honoured
 * (the block comes back from the next malloc of its size).
 */
#include "check.h"

static int reports;
static char last[256];

static void message_cb(void *opaque, const char *s)
{
    (void)opaque;
    reports++;
    snprintf(last, sizeof(last), "%s", s);
}

static void *volatile sink;

int main(void)
{
    tl_require_liballoc();
    malloc_message = message_cb;
    static const size_t sizes[] = {16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 256};
    enum { NS = sizeof(sizes) / sizeof(sizes[0]), N = 20000, M = 400 };
    static void *blocks[N];
    long copies = 0, refused = 0;
    for (int a = 0; a < NS; a++) {
        for (int b = 0; b < NS; b++) {
            if (a == b)
                continue;
            for (int i = 0; i < N; i++)
                CHECK((blocks[i] = malloc(sizes[a])) != NULL);
            for (int i = 0; i < N; i++)
                free(blocks[i]);
            for (int i = 0; i < M; i++) {
                uintptr_t *o = malloc(sizes[b]);
                CHECK(o != NULL);
                /* Words 2.. of o were never written by the program. */
                for (size_t w = 2; w < sizes[b] / sizeof(uintptr_t); w++) {
                    uintptr_t *copy = malloc(32);
                    CHECK(copy != NULL);
                    copy[0] = w;
                    memcpy(&copy[1], &o[w], sizeof(uintptr_t)); /* *copy = o->member */
                    sink = copy;
                    __asm__ volatile("" ::: "memory");
                    free(copy);
                    void *again = malloc(32);
                    copies++;
                    if (again != copy)
                        refused++;
                    free(again);
                }
                free(o);
            }
        }
    }
    printf("%ld copies of never-written words into live blocks; %ld frees refused, %d reports%s%s",
           copies, refused, reports, reports ? ", last: " : "", reports ? last : "\n");
    CHECK(copies > 100000);
    CHECK_MSG(reports == 0, "%d misuse reports for a correct program (last: %s)", reports, last);
    CHECK_MSG(refused == 0, "%ld frees of live blocks refused", refused);
    printf("ok\n");
    return 0;
}
