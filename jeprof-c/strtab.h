/* strtab: string interning. Equal strings get equal 32-bit ids, so the
 * profile compares and hashes function and file names as integers. */
#ifndef JEPROF_STRTAB_H
#define JEPROF_STRTAB_H

#include <stddef.h>
#include <stdint.h>

/* String interning: equal strings get equal ids; id 0 is always "". */
struct strtab {
    char **str;      /* id -> string (owned) */
    size_t n, cap;   /* ids in use, capacity of str */
    uint32_t *slots; /* open-addressing hash: id+1, 0 = empty */
    size_t nslots;   /* power of two */
};
void strtab_init(struct strtab *t);
void strtab_free(struct strtab *t);
uint32_t strtab_intern(struct strtab *t, const char *s);
uint32_t strtab_intern_n(struct strtab *t, const char *s, size_t len);
/* Returns the id, or UINT32_MAX when s was never interned. */
uint32_t strtab_find(const struct strtab *t, const char *s);
static inline const char *strtab_get(const struct strtab *t, uint32_t id)
{
    return t->str[id];
}

#endif
