/* junk: fill patterns for new and freed blocks (see junk.h). */
#include "junk.h"
#include "options.h"
#include "span.h"

bool junk_alloc;
unsigned char junk_alloc_byte = JUNK_ALLOC_BYTE;
bool junk_free;
uintptr_t junk_tag;

void junk_boot(void)
{
    bool all = strcmp(opt.junk, "true") == 0;
    junk_alloc = all || strcmp(opt.junk, "alloc") == 0 || opt.zero;
    junk_alloc_byte = opt.zero ? 0 : JUNK_ALLOC_BYTE;
    junk_free = all || strcmp(opt.junk, "free") == 0;
    junk_tag = junk_free ? SPAN_TAG_JUNK : 0;
}
