/*
 * fault_mbind: mbind failing (debug.fault FAULT_BIND, liballoc/fault.h)
 * under a fake two-node topology (this machine may have one node, so
 * placement is faked as in numa_fake_topology.c). Binding is advice: with
 * every bind call failing, a node-1 thread still gets its memory, large and
 * huge, the failures are counted (so the bind path really ran), contents of
 * everything held stay intact, and after disarming binding resumes.
 */
#include "check.h"

#include "fault.h"
#include "numa.h"
#include "os.h"

#include <pthread.h>
#include <stdatomic.h>

static _Atomic int nbound;

static int fake_current_cpu(void)
{
    return 1; /* node 1 */
}

static int record_bind(void *addr, size_t size, int node)
{
    (void)addr;
    (void)size;
    (void)node;
    atomic_fetch_add(&nbound, 1);
    return 0;
}

static uint64_t arm(unsigned sites)
{
    struct alloc_fault f = {sites, 0, 0, 0, 0, 1};
    uint64_t prev = 0;
    size_t sz = sizeof(prev);
    CHECK_I(mallctl("debug.fault", &prev, &sz, &f, sizeof(f)), ==, 0);
    return prev;
}

static void *on_node1(void *arg)
{
    (void)arg;
    enum { N = 12 };
    unsigned char *b[N];
    size_t n[N];
    int node;
    size_t len = sizeof(node);
    free(malloc(64));
    CHECK_I(mallctl("thread.numa_node", &node, &len, NULL, 0), ==, 0);
    CHECK_I(node, ==, 1);
    arm(FAULT_BIND);
    for (int i = 0; i < N; i++) {
        n[i] = i % 2 ? (size_t)900 << 10 : (size_t)3 << 20;
        b[i] = malloc(n[i]);
        CHECK_MSG(b[i] != NULL, "malloc(%zu) failed because mbind failed", n[i]);
        memset(b[i], i + 1, n[i]);
    }
    uint64_t injected = arm(0);
    CHECK_MSG(injected > 0, "no bind call was made (and failed) for node-1 memory");
    int before = atomic_load(&nbound);
    unsigned char *more = malloc((size_t)200 << 20); /* above a huge region: a fresh mapping */
    CHECK(more != NULL);
    CHECK_MSG(atomic_load(&nbound) > before, "binding did not resume after disarming");
    for (int i = 0; i < N; i++) {
        for (size_t k = 0; k < n[i]; k += 511)
            CHECK_MSG(b[i][k] == (unsigned char)(i + 1), "block %d changed at %zu", i, k);
        free(b[i]);
    }
    free(more);
    printf("fault_mbind: ok (%" PRIu64 " bind calls failed, memory served and intact)\n", injected);
    return NULL;
}

int main(void)
{
    free(malloc(16)); /* initialise before replacing the seams */
    os_ops.bind_node = record_bind;
    numa_current_cpu = fake_current_cpu;
    int map[2] = {0, 1};
    numa_set_topology(2, map, 2);
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, on_node1, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    return 0;
}
