/*
 * ctl: the mallctl name tree. Nodes are static data: named children,
 * or one indexed child ("arena.<i>") whose index is checked by a function;
 * leaves have a handler that returns 0 or an errno, with jemalloc's codes:
 * ENOENT unknown/partial names, EPERM wrong direction, EINVAL wrong size
 * (after copying what fits), EFAULT missing arena, EAGAIN no init.
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_MAX_DEPTH 7

struct ctl_args {
    const size_t *mib;  /* full mib, indexes included */
    size_t miblen;
    void *oldp;
    size_t *oldlenp;
    void *newp;
    size_t newlen;
};

typedef int (*ctl_handler)(const struct ctl_args *a);

struct ctl_node {
    const char *name;                  /* NULL for an indexed node */
    const struct ctl_node *children;   /* named children, or the one template child if indexed */
    size_t nchildren;
    /* Indexed nodes: true when index i at depth is valid. */
    bool (*index_ok)(const size_t *mib, size_t depth, size_t i);
    ctl_handler handler;               /* leaves only */
};

/* Helpers for handlers. */
int ctl_read(const struct ctl_args *a, const void *v, size_t size);
int ctl_read_only(const struct ctl_args *a, const void *v, size_t size);
int ctl_write(const struct ctl_args *a, void *v, size_t size);
int ctl_no_data(const struct ctl_args *a);

/* Fork handling for the few locks the handlers own. */
void ctl_prefork(void);
void ctl_postfork_parent(void);
void ctl_postfork_child(void);

#endif
