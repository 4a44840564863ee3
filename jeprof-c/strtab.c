/* strtab: see strtab.h. */
#include "strtab.h"
#include "hash.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void strtab_init(struct strtab *t)
{
    memset(t, 0, sizeof(*t));
    t->nslots = 1024;
    t->slots = xcalloc(t->nslots, sizeof(uint32_t));
    strtab_intern(t, "");
}

void strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->str[i]);
    free(t->str);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static void strtab_rehash(struct strtab *t)
{
    size_t ns = t->nslots * 2;
    uint32_t *s = xcalloc(ns, sizeof(uint32_t));
    for (size_t id = 0; id < t->n; id++) {
        size_t i = hash_bytes(t->str[id], strlen(t->str[id])) & (ns - 1);
        while (s[i])
            i = (i + 1) & (ns - 1);
        s[i] = (uint32_t)id + 1;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = ns;
}

static size_t strtab_slot(const struct strtab *t, const char *s, size_t len)
{
    size_t i = hash_bytes(s, len) & (t->nslots - 1);
    while (t->slots[i]) {
        const char *o = t->str[t->slots[i] - 1];
        if (strncmp(o, s, len) == 0 && o[len] == 0)
            break;
        i = (i + 1) & (t->nslots - 1);
    }
    return i;
}

uint32_t strtab_intern_n(struct strtab *t, const char *s, size_t len)
{
    /* A NUL inside the bytes (a corrupt input) ends the string, as the
     * stored copy does; the lookup must compare the same bytes. */
    len = strnlen(s, len);
    size_t i = strtab_slot(t, s, len);
    if (t->slots[i])
        return t->slots[i] - 1;
    GROW(t->str, t->cap, t->n + 1);
    t->str[t->n] = xstrndup(s, len);
    t->slots[i] = (uint32_t)++t->n;
    if (t->n * 2 > t->nslots)
        strtab_rehash(t);
    return (uint32_t)t->n - 1;
}

uint32_t strtab_intern(struct strtab *t, const char *s)
{
    return strtab_intern_n(t, s, strlen(s));
}

uint32_t strtab_find(const struct strtab *t, const char *s)
{
    size_t i = strtab_slot(t, s, strlen(s));
    return t->slots[i] ? t->slots[i] - 1 : UINT32_MAX;
}
