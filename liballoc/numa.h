/*
 * numa: NUMA topology and placement. libnuma is loaded with dlopen from the
 * library constructor (never from inside malloc, never at link time, so a
 * missing libnuma or its own allocations cannot get in the way of init).
 * Arena i belongs to node i % nnodes; a thread is served by the least
 * loaded arena of the node its CPU is on, re-checked when its heap refills
 * from the arena, so a migrated thread follows. On a single-node machine
 * (or numa:false) every function is a cheap no-op and arena choice spans
 * all arenas. Tests replace the topology with numa_set_topology and watch
 * binding through os_ops.bind_node.
 */
/*
 * percpu_arena ("percpu", "phycpu"): a thread is served by the arena of the
 * CPU it runs on (arena index = CPU id; phycpu: the lowest CPU id among the
 * CPU's hyperthread siblings, from sysfs, so siblings share one arena),
 * checked when the thread's heap is created, when it refills from its
 * arena (a fresh page, a large or huge block) and when thread.arena is
 * read. narenas is one arena per CPU then, as by default (jemalloc's
 * percpu default; its usual one is 4 x CPUs); a larger narenas is kept. With NUMA, the percpu choice replaces the "least loaded arena of
 * the node" choice and each CPU's arena is bound to that CPU's node, so
 * memory stays node-local. A thread.arena write pins a thread (to a
 * created arena: the per-CPU ones cannot be chosen by hand, EPERM, as in
 * jemalloc).
 */
#ifndef NUMA_H
#define NUMA_H

#include <stdbool.h>

#include <stddef.h>

#define NUMA_MAX_CPUS 4096

/* Read the topology through libnuma (from the library constructor). */
void numa_boot(void);
/* Replace the topology: nnodes nodes, cpu_to_node[c] for c < ncpus (tests). */
void numa_set_topology(unsigned nnodes, const int *cpu_to_node, unsigned ncpus);
/* Which CPU the caller runs on (sched_getcpu by default; tests replace it). */
extern int (*numa_current_cpu)(void);
/* Node an arena is pinned to, or -1 when NUMA placement is off. */
int numa_node_for_arena(unsigned arena_index);
/* Node of the calling thread's CPU, or -1 when off. */
int numa_current_node(void);
/* Bind memory to node (through os). */
void numa_bind_memory(void *addr, size_t size, int node);
/* Number of nodes in use (1 when off). */
unsigned numa_nodes(void);

/* percpu_arena is percpu or phycpu (set by numa_percpu_boot, read-only after). */
extern bool numa_percpu;
/* From malloc_init before the arenas exist: parse opt.percpu_arena, read the
 * sibling topology for phycpu, and return the number of automatic arenas:
 * requested (opt.narenas, 0 = default) or dflt when per-CPU arenas are off;
 * otherwise the per-CPU arenas (CPUs; phycpu: up to the highest core
 * leader), or requested if larger, as jemalloc does. */
unsigned numa_percpu_boot(unsigned requested, unsigned dflt);
/* Arena index for the caller's CPU, or -1 (percpu off, CPU unknown). */
int numa_percpu_index(void);
/* Arena indexes below this are the per-CPU ones (0 when off). */
unsigned numa_percpu_limit(void);

#endif
