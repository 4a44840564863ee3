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
#include "config.h"
#include "prof_hooks.h"

#define CTL_MAX_DEPTH 7

/* struct ctl_args, struct ctl_node and the handler helpers (ctl_read,
 * ctl_read_only, ctl_write, ctl_no_data) are declared in prof_hooks.h: the
 * profiler's subtrees use them too. */

/* The tree walker (mallctl, mallctlnametomib and mallctlbymib walk the
 * static root; unit tests walk trees of their own). Both are pure functions
 * of the tree, safe from any thread.
 * ctl_name_to_mib: dotted name -> mib; *depth in = capacity, out = the
 * components filled (a capacity below the name's depth gives that partial
 * mib, as jemalloc does); *leaf = the node reached. ENOENT for an empty or
 * NULL name, an unknown or empty component, a name going past a leaf or
 * deeper than CTL_MAX_DEPTH, a trailing dot, an index that is not a plain
 * decimal number <= UINT32_MAX or that index_ok refuses.
 * ctl_mib_to_node: mib -> node; ENOENT for miblen 0 or > CTL_MAX_DEPTH, a
 * named index past the children, a refused index, a mib going past a leaf;
 * EFAULT for an index above UINT32_MAX. */
int ctl_name_to_mib(const struct ctl_node *top, const char *name, size_t *mib, size_t *depth,
                    const struct ctl_node **leaf) WARN_UNUSED;
int ctl_mib_to_node(const struct ctl_node *top, const size_t *mib, size_t miblen,
                    const struct ctl_node **out) WARN_UNUSED;

/* The root of the mallctl tree (never exported): for tools that walk it,
 * e.g. the generator of liballoc(3)'s mallctl list (scripts/man_liballoc.c). */
const struct ctl_node *ctl_root(void);

/* Fork handling for the few locks the handlers own. */
void ctl_prefork(void);
void ctl_postfork_parent(void);
void ctl_postfork_child(void);

#endif
