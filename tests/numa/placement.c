/*
 * On a multi-node machine: each thread, pinned to a CPU of node n, gets
 * memory whose pages live on node n (get_mempolicy MPOL_F_NODE|MPOL_F_ADDR).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <alloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_F_NODE (1 << 0)
#define MPOL_F_ADDR (1 << 1)

static int node_of_page(void *p)
{
    int node = -1;
    if (syscall(SYS_get_mempolicy, &node, NULL, 0, p, MPOL_F_NODE | MPOL_F_ADDR) != 0)
        return -2;
    return node;
}

struct job { int cpu, want_node, bad, checked; };

static void *run(void *arg)
{
    struct job *j = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(j->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    for (int i = 0; i < 64; i++) {
        size_t n = (size_t)(i % 4 + 1) * 256 * 1024;
        char *p = malloc(n);
        memset(p, 1, n);
        int node = node_of_page(p);
        j->checked++;
        if (node != j->want_node)
            j->bad++;
    }
    return NULL;
}

int main(void)
{
    int nodes;
    size_t len = sizeof(nodes);
    if (mallctl("arenas.numa_nodes", &nodes, &len, NULL, 0) != 0 || nodes < 2) {
        printf("single node: nothing to check\n");
        return 77;
    }
    /* CPU -> node from sysfs: the first CPU of each node. */
    struct job jobs[64];
    int nj = 0;
    for (int n = 0; n < nodes && nj < 64; n++) {
        char path[128], buf[256];
        snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", n);
        FILE *f = fopen(path, "r");
        if (!f || !fgets(buf, sizeof(buf), f)) {
            if (f)
                fclose(f);
            continue;
        }
        fclose(f);
        jobs[nj] = (struct job){atoi(buf), n, 0, 0};
        nj++;
    }
    pthread_t t[64];
    for (int i = 0; i < nj; i++)
        pthread_create(&t[i], NULL, run, &jobs[i]);
    int bad = 0;
    for (int i = 0; i < nj; i++) {
        pthread_join(t[i], NULL);
        printf("node %d (cpu %d): %d/%d blocks off-node\n", jobs[i].want_node, jobs[i].cpu,
               jobs[i].bad, jobs[i].checked);
        bad += jobs[i].bad;
    }
    return bad ? 1 : 0;
}
