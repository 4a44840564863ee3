/* A signal handler that allocates, for tests/cli/jeprof_callsite_signal.sh:
 * its stack crosses the kernel's signal frame. The frame the signal
 * interrupted must be named at the faulting line (marked FAULT), not the
 * line before it, and the trampoline between them (__restore_rt) by its
 * own name, not the function before it. Every block stays live until the
 * final dump (keep is global: gcc drops a malloc whose block nothing can
 * read). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static char *page;
void *keep[64];
static int nkeep;
volatile int counter;

static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    keep[nkeep++] = malloc(100000); /* @HANDLER */
    mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

__attribute__((noinline)) void toucher(char *p, int v)
{
    counter += v;
    *p = (char)v; /* @FAULT */
    counter += 2;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 1;
    for (int i = 0; i < 30; i++) {
        mprotect(page, 4096, PROT_NONE);
        toucher(page, i);
    }
    return nkeep == 30 ? 0 : 1;
}
