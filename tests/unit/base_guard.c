/*
 * base_guard: every metadata mapping of base (liballoc/base.c) has a
 * PROT_NONE page at both ends, so an overflow out of a neighbouring chunk
 * of user blocks faults before it reaches the allocator's own pointers.
 *  - the mappings holding the calling thread's heap, a small block's slab
 *    span and the pagemap leaf of its page (base's big-table path) each lie
 *    between two PROT_NONE pages (/proc/self/maps);
 *  - a block given to base_add_block (arena.c's refill from free huge runs)
 *    gets guards on its own first and last pages, base allocates between
 *    them, and stats.metadata grows by the whole block;
 *  - a guard the kernel refuses (os_ops.guard failing, as mprotect does at
 *    vm.max_map_count) is left out: base still hands out the memory;
 *  - end to end: a child reads and writes back every page from a small
 *    block upward (no byte changes) until it faults; none of the pages it
 *    walked holds the heap, the span or the leaf. The same walk from the
 *    page right below a block given to base_add_block faults on that
 *    block's first page. (Before the guards, the first chunk's last page
 *    could run straight into base's block holding the heap: a 1 MiB memset
 *    from a small block zeroed the heap's page table and malloc crashed.)
 */
#include "check.h"

#include "base.h"
#include "heap.h"
#include "os.h"
#include "pagemap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WALK_MAX ((size_t)256 << 20) /* the child gives up after this much */

/* The mapping holding addr in /proc/self/maps: its bounds and protection
 * ("rw-p"...). False if none does. */
static bool map_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK_NONNULL(f);
    char line[512];
    bool found = false;
    while (fgets(line, sizeof(line), f)) {
        unsigned long a, b;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &a, &b, p) != 3)
            continue;
        if (addr >= a && addr < b) {
            *lo = a;
            *hi = b;
            memcpy(perms, p, 5);
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

static bool is_guard(uintptr_t page)
{
    uintptr_t lo, hi;
    char perms[5];
    return map_of(page, &lo, &hi, perms) && strcmp(perms, "---p") == 0;
}

/* The read-write mapping holding p lies between two PROT_NONE pages. */
static void check_guarded(const char *what, const void *p)
{
    uintptr_t lo, hi;
    char perms[5];
    CHECK_MSG(map_of((uintptr_t)p, &lo, &hi, perms), "%s %p: not mapped", what, p);
    CHECK_MSG(strcmp(perms, "rw-p") == 0, "%s %p: mapping %s", what, p, perms);
    CHECK_MSG(is_guard(lo - PAGE), "%s %p: the page below its mapping %#lx-%#lx is no guard", what,
              p, (unsigned long)lo, (unsigned long)hi);
    CHECK_MSG(is_guard(hi), "%s %p: the page above its mapping %#lx-%#lx is no guard", what, p,
              (unsigned long)lo, (unsigned long)hi);
}

static int guard_refused(void *addr, size_t size)
{
    (void)addr;
    (void)size;
    return ENOMEM;
}

static int fault_pipe[2];

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    (void)!write(fault_pipe[1], &a, sizeof(a));
    _exit(0);
}

/* The child walks up from p; returns the address it faulted at. */
static uintptr_t walk_until_fault(void *p)
{
    CHECK_I(pipe(fault_pipe), ==, 0);
    pid_t pid = fork();
    CHECK_I(pid, >=, 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        volatile char *q = (volatile char *)((uintptr_t)p & ~(uintptr_t)PAGE_MASK);
        for (size_t n = 0; n < WALK_MAX; n += PAGE, q += PAGE) {
            char c = *q;
            *q = c;
        }
        _exit(2);
    }
    int status;
    CHECK_I(waitpid(pid, &status, 0), ==, pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the walk did not fault within %zu MiB (status %#x)", WALK_MAX >> 20, status);
    uintptr_t a = 0;
    CHECK_I(read(fault_pipe[0], &a, sizeof(a)), ==, (int)sizeof(a));
    close(fault_pipe[0]);
    close(fault_pipe[1]);
    return a;
}

int main(void)
{
    void *p = malloc(8);
    CHECK_NONNULL(p);
    struct heap *h = heap_tls;
    struct span *s = pagemap_get((uintptr_t)p);
    CHECK_NONNULL(s);
    size_t i = (uintptr_t)p >> (LG_PAGE + PAGEMAP_LEAF_BITS);
    uintptr_t root = atomic_load(&pagemap_map.root[i]);
    CHECK_U(root, !=, 0);
    void *leaf = (char *)pagemap_map.leaf_zero + root;

    check_guarded("thread heap", h);
    check_guarded("slab span", s);
    check_guarded("pagemap leaf", leaf);

    /* The walk: it must fault on a guard before any metadata. */
    uintptr_t fault = walk_until_fault(p);
    CHECK_MSG(fault > (uintptr_t)p, "faulted at %#lx, below the block %p", (unsigned long)fault, p);
    const void *meta[] = {h, s, leaf};
    for (unsigned k = 0; k < 3; k++)
        CHECK_MSG((uintptr_t)meta[k] < (uintptr_t)p || (uintptr_t)meta[k] >= fault,
                  "the walk from %p reached metadata %p before faulting at %#lx", p, meta[k],
                  (unsigned long)fault);

    /* base_add_block: guards inside the given block. The page right below
     * it is a stand-in for a chunk's last page (what the kernel may place
     * there), so a walk up from it must fault on the block's first page. */
    char *m;
    CHECK_I(os_map_aligned(PAGE + CHUNK, PAGE, (void **)&m), ==, 0);
    size_t before = base_mapped();
    base_add_block(m + PAGE, CHUNK);
    CHECK_U(base_mapped() - before, ==, CHUNK);
    uintptr_t b = (uintptr_t)base_alloc(64, 64);
    CHECK_U(b, ==, (uintptr_t)m + 2 * PAGE);
    CHECK(is_guard((uintptr_t)m + PAGE));
    CHECK(is_guard((uintptr_t)m + CHUNK));
    check_guarded("added block", (void *)b);
    fault = walk_until_fault(m);
    CHECK_U(fault, ==, (uintptr_t)m + PAGE);

    /* Guards refused: a big table still comes, writable, unguarded. */
    int (*real_guard)(void *, size_t) = os_ops.guard;
    os_ops.guard = guard_refused;
    char *t = base_alloc(3 << 20, 64);
    os_ops.guard = real_guard;
    CHECK_NONNULL(t);
    t[0] = 1;
    t[(3 << 20) - 1] = 1;
    CHECK(!is_guard((uintptr_t)t - PAGE));
    free(p);
    printf("base_guard: ok\n");
    return 0;
}
