/* numa: topology and placement (see numa.h). */
#include "numa.h"
#include "arena.h"
#include "options.h"
#include "os.h"
#include "bss_large.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned numa_nnodes = 1;
bool numa_percpu;
static unsigned numa_percpu_ncpus;          /* configured CPUs */
static unsigned numa_percpu_arenas;         /* per-CPU arenas: 0 .. numa_percpu_arenas - 1 */
static unsigned short cpu_leader[NUMA_MAX_CPUS] BSS_LARGE; /* arena index of each CPU */
static short cpu_node[NUMA_MAX_CPUS] BSS_LARGE;
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

/* True when sysfs lists exactly one online node ("0"): then libnuma
 * could only say the same, and loading it would cost the process its
 * pages (~44 KiB of RSS). False when the file is missing or lists more. */
static bool sysfs_single_node(void)
{
    char buf[64];
    int fd = open("/sys/devices/system/node/online", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return strpbrk(buf, "-,") == NULL && buf[0] >= '0' && buf[0] <= '9';
}

void numa_boot(void)
{
    if (!opt.numa || sysfs_single_node())
        return;
    /* A statically linked program has no shared libc: dlopen would map one
     * (and its loader) beside the static one. Such a program runs as on one
     * node, as with numa:false. */
    if (!os_dlopen_usable())
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
    static int map[NUMA_MAX_CPUS] BSS_LARGE;
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
    /* A per-CPU arena lives on its CPU's node. */
    if (numa_percpu && arena_index < numa_percpu_arenas && arena_index < numa_ncpus)
        return cpu_node[arena_index]; /* the leader CPU's node (siblings share it) */
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

/* ---- percpu_arena ---- */

/* Lowest CPU id among cpu's hyperthread siblings (sysfs), or cpu itself.
 * Runs inside malloc_init: plain open/read, no allocation. */
static unsigned first_sibling(unsigned cpu)
{
    char path[96], buf[64];
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", cpu);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cpu;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0 || buf[0] < '0' || buf[0] > '9')
        return cpu;
    buf[n] = 0;
    /* "0,4" or "0-1": the list is ascending, so the first number is the lowest. */
    unsigned v = 0;
    for (char *c = buf; *c >= '0' && *c <= '9'; c++)
        v = v * 10 + (unsigned)(*c - '0');
    return v < cpu ? v : cpu;
}

unsigned numa_percpu_boot(unsigned requested, unsigned dflt)
{
    bool phy = strcmp(opt.percpu_arena, "phycpu") == 0;
    if (!phy && strcmp(opt.percpu_arena, "percpu") != 0)
        return requested ? requested : dflt;
    unsigned n = os_ncpus_conf();
    if (n > NUMA_MAX_CPUS)
        n = NUMA_MAX_CPUS;
    unsigned limit = 0;
    for (unsigned c = 0; c < n; c++) {
        cpu_leader[c] = (unsigned short)(phy ? first_sibling(c) : c);
        if (cpu_leader[c] + 1u > limit)
            limit = cpu_leader[c] + 1u;
    }
    numa_percpu_ncpus = n;
    numa_percpu_arenas = limit;
    numa_percpu = true;
    /* As jemalloc: the per-CPU arenas, or more if narenas asks for more. */
    return requested > limit ? requested : limit;
}

int numa_percpu_index(void)
{
    if (!numa_percpu)
        return -1;
    int c = numa_current_cpu();
    if (c < 0 || (unsigned)c >= numa_percpu_ncpus)
        return -1;
    return cpu_leader[c];
}

unsigned numa_percpu_limit(void)
{
    return numa_percpu ? numa_percpu_arenas : 0;
}
