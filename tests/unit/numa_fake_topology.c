/*
 * NUMA placement under a fake two-node topology (this machine has one node):
 * a thread on node 1's CPU is served by a node-1 arena, that arena's fresh
 * memory is bound to node 1 through os_ops.bind_node, a thread that migrates
 * to node 0 follows on its next refill, and with one node nothing is bound.
 */
#include "check.h"

#include "arena.h"
#include "numa.h"
#include "os.h"

#include <pthread.h>

static int fake_cpu;                /* what numa_current_cpu reports */
static int bound_nodes[64];         /* node of each recorded bind call */
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

static int thread_node(void)
{
    int node;
    size_t len = sizeof(node);
    CHECK_I(mallctl("thread.numa_node", &node, &len, NULL, 0), ==, 0);
    return node;
}

static void *on_node1(void *arg)
{
    (void)arg;
    /* First allocation creates this thread's heap: it must pick a node-1 arena. */
    void *small = malloc(64);
    CHECK_NONNULL(small);
    CHECK_I(thread_node(), ==, 1);
    unsigned a = thread_arena();
    CHECK_I(arena_node(a), ==, 1);
    CHECK_I(a % 2, ==, 1); /* arena i belongs to node i % 2 */

    /* Large blocks come from this arena's chunks, which are bound to node 1. */
    int before = atomic_load(&nbound);
    void *big[8];
    for (int i = 0; i < 8; i++)
        big[i] = malloc(900 << 10); /* large (chunk-carved): new chunks bound on creation */
    int after = atomic_load(&nbound);
    CHECK_MSG(after > before, "no bind call for node-1 memory (%d -> %d)", before, after);
    for (int i = before; i < after && i < 64; i++)
        CHECK_I(bound_nodes[i], ==, 1);

    /* Migrate to node 0: the next refill from the arena moves the thread. */
    __atomic_store_n(&fake_cpu, 0, __ATOMIC_RELAXED);
    void *more = malloc(200000); /* large: goes to the arena, which re-checks the node */
    CHECK_NONNULL(more);
    unsigned b = thread_arena();
    CHECK_I(arena_node(b), ==, 0);
    CHECK_I(thread_node(), ==, 0);
    free(more);
    for (int i = 0; i < 8; i++)
        free(big[i]);
    free(small);
    return NULL;
}

int main(void)
{
    void *warm = malloc(16); /* initialise before replacing the seams */
    free(warm);
    os_ops.bind_node = record_bind;
    numa_current_cpu = fake_current_cpu;

    int map[2] = {0, 1};
    numa_set_topology(2, map, 2);
    unsigned narenas;
    size_t len = sizeof(narenas);
    CHECK_I(mallctl("arenas.narenas", &narenas, &len, NULL, 0), ==, 0);
    CHECK_MSG(narenas >= 2, "need at least two arenas, have %u", narenas);
    unsigned nodes;
    len = sizeof(nodes);
    CHECK_I(mallctl("arenas.numa_nodes", &nodes, &len, NULL, 0), ==, 0);
    CHECK_I(nodes, ==, 2);
    CHECK_I(arena_node(0), ==, 0);
    CHECK_I(arena_node(1), ==, 1);

    fake_cpu = 1;
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, on_node1, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);

    /* Back to one node: arenas are unpinned and nothing new is bound. */
    numa_set_topology(1, map, 2);
    CHECK_I(arena_node(0), ==, -1);
    CHECK_I(thread_node(), ==, -1);
    int before = atomic_load(&nbound);
    void *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = malloc(1500 << 10);
    for (int i = 0; i < 4; i++)
        free(p[i]);
    CHECK_I(atomic_load(&nbound), ==, before);
    printf("numa_fake_topology: ok (%d bind calls recorded)\n", atomic_load(&nbound));
    return 0;
}
