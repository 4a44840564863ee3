/* prof_ctl: the profiler's mallctl nodes, spliced into liballoc's tree (ctl.c). */
#ifndef PROF_CTL_H
#define PROF_CTL_H

#include <stddef.h>
#include "ctl.h"

#define PROF_CTL_NNODES 12
extern const struct ctl_node prof_ctl_nodes[PROF_CTL_NNODES];
extern const struct ctl_node thread_prof_ctl_nodes[];      /* name, active */
extern const struct ctl_node experimental_prof_recent_nodes[]; /* alloc_max, alloc_dump */

#endif
