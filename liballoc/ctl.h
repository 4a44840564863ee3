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
#include "prof_hooks.h"

#define CTL_MAX_DEPTH 7

/* struct ctl_args, struct ctl_node and the handler helpers (ctl_read...)
 * are declared in prof_hooks.h: the profiler's subtrees use them too. */

/* Fork handling for the few locks the handlers own. */
void ctl_prefork(void);
void ctl_postfork_parent(void);
void ctl_postfork_child(void);

#endif
