/* scratch: per-dump bump allocator (see scratch.h). */
#include "scratch.h"
#include "prof_hooks.h"

#include <stdint.h>
#include <string.h>

/* x rounded up to a multiple of a (a power of two). */
static size_t align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

struct scratch_block {
    struct scratch_block *next;  /* older block */
    size_t size;                 /* mapping length */
};

void *scratch_alloc(struct scratch *s, size_t size)
{
    size = align_up(size ? size : 1, 16);
    if (!s->cur || (size_t)(s->end - s->cur) < size) {
        size_t want = size + sizeof(struct scratch_block) + 16;
        want = want < ((size_t)1 << 20) ? ((size_t)1 << 20) : align_up(want, prof_host_page_size());
        void *m;
        if (prof_host_map(want, &m) != 0) {
            s->failed = 1;
            return NULL;
        }
        struct scratch_block *b = m;
        b->size = want;
        b->next = s->blocks;
        s->blocks = b;
        s->cur = (char *)m + align_up(sizeof(*b), 16);
        s->end = (char *)m + want;
    }
    void *p = s->cur;
    s->cur += size;
    return p;
}

void *scratch_calloc(struct scratch *s, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        s->failed = 1;
        return NULL;
    }
    /* Fresh mappings are zeroed and never reused within a dump. */
    return scratch_alloc(s, n * size);
}

void scratch_release(struct scratch *s)
{
    struct scratch_block *b = s->blocks;
    while (b) {
        struct scratch_block *next = b->next;
        prof_host_unmap(b, b->size);
        b = next;
    }
    memset(s, 0, sizeof(*s));
}
