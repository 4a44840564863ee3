/*
 * numa: NUMA topology and placement. Arenas are grouped per node; a thread
 * is served by an arena of the node its CPU belongs to. On a single-node
 * machine every function is a cheap no-op and arena choice is round robin.
 */
#ifndef NUMA_H
#define NUMA_H

#include <stdatomic.h>
#include <stddef.h>

/* Read the topology (after options are parsed). */
void numa_boot(void);
/* Node an arena is pinned to, or -1 when NUMA placement is off. */
int numa_node_for_arena(unsigned arena_index);
/* Arena indexes [lo, hi) serving the calling thread's node, out of n automatic arenas. */
void numa_arena_range(unsigned n, unsigned *lo, unsigned *hi);
/* Bind memory to node (through os). */
void numa_bind_memory(void *addr, size_t size, int node);
/* Number of nodes in use (1 when off). */
unsigned numa_nodes(void);

#endif
