/* json: a small JSON parser into a tree, for the recent-ring reader. Strict
 * except for one leniency: a '"' inside a string that is not followed by a
 * delimiter is kept (jemalloc writes thread names unescaped). Depth is
 * limited and every failure reports a byte offset; no input can make it
 * crash. */
#ifndef JEPROF_JSON_H
#define JEPROF_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
    enum jtype t;      /* kind of value */
    double num;        /* J_NUM */
    uint64_t u64;      /* J_NUM that is a non-negative integer, exactly */
    int is_u64;        /* u64 is valid */
    char *str;         /* J_STR (NUL-terminated, escapes decoded) */
    struct jval *kids; /* J_ARR items / J_OBJ values */
    char **keys;       /* J_OBJ keys, parallel to kids */
    size_t n;          /* number of kids */
};

#define JSON_MAX_DEPTH 64

/* 0 or EINVAL (message with the offset in err). */
int json_parse(const char *s, size_t len, struct jval *out, char *err, size_t errlen) WUR;
void json_free(struct jval *v);
/* Member of an object, or NULL. */
const struct jval *json_get(const struct jval *obj, const char *key);

#endif
