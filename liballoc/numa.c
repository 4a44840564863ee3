/* numa: topology and placement (see numa.h). */
#include "numa.h"
#include "arena.h"
#include "options.h"
#include "os.h"

#include <dlfcn.h>
#include <sched.h>

static unsigned numa_nnodes = 1;
static short cpu_node[NUMA_MAX_CPUS];
static unsigned numa_ncpus;

static int current_cpu_default(void)
{
    return sched_getcpu();
}

int (*numa_current_cpu)(void) = current_cpu_default;

static void assign_arenas(void)
{
    unsigned n = arena_total();
    for (unsigned i = 0; i < n; i++)
        if (arenas[i])
            arenas[i]->node = numa_node_for_arena(i);
}

void numa_set_topology(unsigned nnodes, const int *cpu_to_node, unsigned ncpus)
{
    if (ncpus > NUMA_MAX_CPUS)
        ncpus = NUMA_MAX_CPUS;
    for (unsigned c = 0; c < ncpus; c++)
        cpu_node[c] = (short)(cpu_to_node[c] >= 0 ? cpu_to_node[c] : 0);
    numa_ncpus = ncpus;
    numa_nnodes = nnodes ? nnodes : 1;
    assign_arenas();
}

void numa_boot(void)
{
    if (!opt.numa)
        return;
    void *lib = dlopen("libnuma.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return;
    int (*available)(void) = (int (*)(void))dlsym(lib, "numa_available");
    int (*nconf)(void) = (int (*)(void))dlsym(lib, "numa_num_configured_nodes");
    int (*ncpus)(void) = (int (*)(void))dlsym(lib, "numa_num_configured_cpus");
    int (*node_of)(int) = (int (*)(int))dlsym(lib, "numa_node_of_cpu");
    if (!available || !nconf || !ncpus || !node_of || available() < 0 || nconf() <= 1)
        return; /* single node: keep libnuma loaded but unused */
    int nodes = nconf(), cpus = ncpus();
    static int map[NUMA_MAX_CPUS];
    if (cpus > NUMA_MAX_CPUS)
        cpus = NUMA_MAX_CPUS;
    for (int c = 0; c < cpus; c++) {
        int nd = node_of(c);
        map[c] = nd >= 0 && nd < nodes ? nd : 0;
    }
    numa_set_topology((unsigned)nodes, map, (unsigned)cpus);
}

int numa_node_for_arena(unsigned arena_index)
{
    if (numa_nnodes <= 1)
        return -1;
    return (int)(arena_index % numa_nnodes);
}

int numa_current_node(void)
{
    if (numa_nnodes <= 1)
        return -1;
    int c = numa_current_cpu();
    if (c < 0 || (unsigned)c >= numa_ncpus)
        return 0;
    return cpu_node[c];
}

void numa_bind_memory(void *addr, size_t size, int node)
{
    if (node >= 0)
        os_ops.bind_node(addr, size, node);
}

unsigned numa_nodes(void)
{
    return numa_nnodes;
}
