/*
 * percpu_arena with NUMA, under a fake two-node topology in which CPU 0 is
 * on node 1 and CPU 1 on node 0 (this machine has one node): a thread is
 * served by the arena of its CPU (arena index = CPU id), that arena is
 * bound to the CPU's node (not to "index % nodes"), fresh memory of it is
 * bound there through os_ops.bind_node, and a thread moved to the other
 * CPU follows on its next refill. percpu_arena is set through the
 * malloc_conf global (unit tests run without MALLOC_CONF).
 */
#include "check.h"

#include "arena.h"
#include "numa.h"
#include "os.h"

#include <pthread.h>

const char *malloc_conf = "percpu_arena:percpu";

static int fake_cpu;
static int bound_nodes[64];
static _Atomic int nbound;

static int fake_current_cpu(void)
{
    return __atomic_load_n(&fake_cpu, __ATOMIC_RELAXED);
}

static int record_bind(void *addr, size_t size, int node)
{
    (void)addr;
    (void)size;
    int i = atomic_fetch_add(&nbound, 1);
    if (i < 64)
        bound_nodes[i] = node;
    return 0;
}

static unsigned thread_arena(void)
{
    unsigned a;
    size_t len = sizeof(a);
    CHECK_I(mallctl("thread.arena", &a, &len, NULL, 0), ==, 0);
    return a;
}

static int arena_node(unsigned a)
{
    char name[64];
    int node;
    size_t len = sizeof(node);
    snprintf(name, sizeof(name), "arena.%u.numa_node", a);
    CHECK_I(mallctl(name, &node, &len, NULL, 0), ==, 0);
    return node;
}

static void *on_cpu0(void *arg)
{
    (void)arg;
    void *small = malloc(64);
    CHECK_NONNULL(small);
    CHECK_I(thread_arena(), ==, 0);
    CHECK_I(arena_node(0), ==, 1);
    int before = atomic_load(&nbound);
    void *big[4];
    for (int i = 0; i < 4; i++)
        big[i] = malloc(900 << 10);
    int after = atomic_load(&nbound);
    CHECK_MSG(after > before, "no bind call for CPU 0's arena (%d -> %d)", before, after);
    for (int i = before; i < after && i < 64; i++)
        CHECK_I(bound_nodes[i], ==, 1);
    /* Moved to CPU 1: the next refill serves it from arena 1 (node 0). */
    __atomic_store_n(&fake_cpu, 1, __ATOMIC_RELAXED);
    void *more = malloc(200000);
    CHECK_NONNULL(more);
    CHECK_I(thread_arena(), ==, 1);
    CHECK_I(arena_node(1), ==, 0);
    free(more);
    for (int i = 0; i < 4; i++)
        free(big[i]);
    free(small);
    return NULL;
}

int main(void)
{
    void *warm = malloc(16);
    free(warm);
    const char *mode = NULL;
    size_t len = sizeof(mode);
    CHECK_I(mallctl("opt.percpu_arena", &mode, &len, NULL, 0), ==, 0);
    CHECK_MSG(strcmp(mode, "percpu") == 0, "malloc_conf not applied: %s", mode);
    if (sysconf(_SC_NPROCESSORS_CONF) < 2) {
        printf("skip: needs two configured CPUs\n");
        return 77;
    }
    os_ops.bind_node = record_bind;
    numa_current_cpu = fake_current_cpu;
    int map[2] = {1, 0}; /* CPU 0 on node 1, CPU 1 on node 0 */
    numa_set_topology(2, map, 2);
    CHECK_I(arena_node(0), ==, 1);
    CHECK_I(arena_node(1), ==, 0);
    fake_cpu = 0;
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, on_cpu0, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    printf("percpu_numa: ok\n");
    return 0;
}
