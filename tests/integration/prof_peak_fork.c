/*
 * prof_peak_fork: a fork child's peak-heap snapshot is its own. The parent
 * reaches a 100 MiB peak and frees it, then forks; the child allocates
 * 5 MiB and writes prof.dump_peak: its heap_v2 total ("t*" line) must be
 * the child's heap at its peak (5 MiB and the little the parent kept),
 * not the parent's 100 MiB from before the fork. Every allocation is
 * sampled (prof_peak_fork.conf), so the bytes are exact. The parent's own
 * peak dump still shows its peak (within the 10% by which a snapshot
 * trails, peak.c). Before, the child's dump showed the parent's 93 MiB.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

static __attribute__((noinline)) void *parent_site(size_t n)
{
    return tl_opaque(malloc(n));
}

static __attribute__((noinline)) void *child_site(size_t n)
{
    return tl_opaque(malloc(n));
}

/* The t* bytes of heap_v2 dump path ("  t*: OBJECTS: BYTES [...]"). */
static unsigned long long dump_total(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "%s not written", path);
    char line[256];
    unsigned long long objs = 0, bytes = 0;
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = sscanf(line, " t*: %llu: %llu", &objs, &bytes) == 2;
    fclose(f);
    CHECK_MSG(found, "%s: no t* line", path);
    return bytes;
}

static void dump_peak(const char *path)
{
    CHECK_I(mallctl("prof.dump_peak", NULL, NULL, &path, sizeof(path)), ==, 0);
}

int main(void)
{
    tl_require_liballoc();
    char dir[] = "/tmp/prof_peak_fork.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char ppath[96], cpath[96];
    snprintf(ppath, sizeof(ppath), "%s/parent.heap", dir);
    snprintf(cpath, sizeof(cpath), "%s/child.heap", dir);
    static void *v[100];
    for (int i = 0; i < 100; i++)
        v[i] = parent_site(MiB);
    for (int i = 0; i < 100; i++)
        free(v[i]);
    pid_t pid = fork();
    CHECK_I(pid, >=, 0);
    if (pid == 0) {
        for (int i = 0; i < 5; i++)
            v[i] = child_site(MiB);
        dump_peak(cpath);
        _exit(0);
    }
    int st = 0;
    CHECK_I(waitpid(pid, &st, 0), ==, pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unsigned long long child = dump_total(cpath);
    dump_peak(ppath);
    unsigned long long parent = dump_total(ppath);
    printf("peak dumps: parent %llu B, child %llu B\n", parent, child);
    CHECK_U(parent, >=, 90 * MiB); /* a snapshot is kept once the heap grew 10% past the last */
    CHECK_U(child, >=, 5 * MiB);
    CHECK_U(child, <, 6 * MiB);
    unlink(cpath);
    unlink(ppath);
    rmdir(dir);
    printf("ok\n");
    return 0;
}
