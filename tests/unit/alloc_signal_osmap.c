/*
 * alloc_signal_osmap: a signal handler maps memory (a huge malloc that
 * needs a new region) while the thread it interrupted holds osmap's lock,
 * deterministically: the os seam's move wrapper raises the signal from
 * inside os_move_pages, which holds the registry (osmap_hold) across the
 * move that gathers dirty pages into a new huge block (huge.c,
 * fill_from_dirty). Layout as unit/huge_move_fail: two dirty 1.5 MiB
 * holes, then a 3.5 MiB block that fits neither.
 *
 * Before the fix the handler's mapping waited in osmap_add for the lock
 * its own thread held, forever (found by a stress run: 8 threads churning
 * huge callocs with an itimer handler that allocates hung; the alarm fails
 * the test after 10 s). lock_depth.h's count cannot help there: every
 * mapping takes this lock, under the arena locks. Now signals are blocked
 * while the lock is held, so the handler runs once it is released, and
 * its mapping works.
 */
#include "check.h"

#include "osmap.h"
#include "os.h"

#include <signal.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

static struct os_ops real;
static volatile int raised, fired;
static void *h_block;
static size_t h_mapped_before, h_mapped_after;

static int move_raise(void *from, void *to, size_t len)
{
    if (!raised) {
        raised = 1;
        raise(SIGUSR1); /* the handler runs now (before), or at the lock's release */
    }
    return real.move(from, to, len);
}

static void handler(int sig)
{
    (void)sig;
    h_mapped_before = osmap_mapped();
    /* 64 MiB: no free run that big, so a new region is mapped (osmap_add). */
    h_block = malloc(64 * MiB);
    if (h_block)
        memset(h_block, 0x33, 64 * MiB);
    h_mapped_after = osmap_mapped();
    free(h_block); /* deferred: the thread is inside huge_alloc */
    fired = 1;
}

static void hang(int sig)
{
    (void)sig;
    static const char msg[] = "alloc_signal_osmap: the handler's mapping hung (osmap_lock)\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

int main(void)
{
    free(malloc(1));
    real = os_ops;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    sa.sa_handler = hang;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);

    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    char name[64];
    ssize_t never = -1; /* the holes must stay dirty for the move to be tried */
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ar);
    CHECK(mallctl(name, NULL, NULL, &never, sizeof(never)) == 0);
    unsigned char *b[6];
    for (int i = 0; i < 6; i++) {
        b[i] = mallocx(3 * MiB / 2, f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x40 + i, 3 * MiB / 2);
    }
    dallocx(b[1], f);
    dallocx(b[3], f);

    os_ops.move = move_raise;
    alarm(10);
    unsigned char *big = mallocx(7 * MiB / 2, f);
    alarm(0);
    os_ops = real;
    CHECK_NONNULL(big);
    CHECK_MSG(raised, "no move was tried");
    CHECK_MSG(fired, "the handler did not run");
    CHECK_MSG(h_block != NULL, "the handler's 64 MiB malloc failed");
    CHECK_MSG(h_mapped_after >= h_mapped_before + 64 * MiB,
              "the handler's region was not registered (%zu -> %zu KiB)", h_mapped_before >> 10,
              h_mapped_after >> 10);
    memset(big, 0x7e, 7 * MiB / 2);
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 3)
            CHECK_U(b[i][3 * MiB / 2 - 1], ==, 0x40 + i);
    dallocx(big, f);
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 3)
            dallocx(b[i], f);
    printf("ok: a handler's 64 MiB malloc while the thread held osmap's lock (move)\n");
    return 0;
}
