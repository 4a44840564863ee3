/* scratch: per-dump bump allocator (see scratch.h). */
#include "scratch.h"
#include "config.h"
#include "os.h"

#include <stdint.h>
#include <string.h>

struct scratch_block {
    struct scratch_block *next;  /* older block */
    size_t size;                 /* mapping length */
};

void *scratch_alloc(struct scratch *s, size_t size)
{
    size = ALIGN_UP(size ? size : 1, 16);
    if (!s->cur || (size_t)(s->end - s->cur) < size) {
        size_t want = size + sizeof(struct scratch_block) + 16;
        want = want < ((size_t)1 << 20) ? ((size_t)1 << 20) : ALIGN_UP(want, PAGE);
        void *m;
        if (os_map_aligned(want, PAGE, &m) != 0) {
            s->failed = 1;
            return NULL;
        }
        struct scratch_block *b = m;
        b->size = want;
        b->next = s->blocks;
        s->blocks = b;
        s->cur = (char *)m + ALIGN_UP(sizeof(*b), 16);
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
        os_unmap(b, b->size);
        b = next;
    }
    memset(s, 0, sizeof(*s));
}
