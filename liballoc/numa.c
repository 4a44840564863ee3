/* numa: topology and arena placement (see numa.h). */
#include "numa.h"
#include "os.h"

static unsigned numa_nnodes = 1;

void numa_boot(void)
{
    numa_nnodes = 1;
}

int numa_node_for_arena(unsigned arena_index)
{
    if (numa_nnodes <= 1)
        return -1;
    return (int)(arena_index % numa_nnodes);
}

void numa_arena_range(unsigned n, unsigned *lo, unsigned *hi)
{
    *lo = 0;
    *hi = n;
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
