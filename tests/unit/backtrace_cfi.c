/*
 * backtrace_cfi: prof_unwind:auto's walk with cached .eh_frame rules
 * (libprof/cfi.c, backtrace_capture_cfi) gives exactly libunwind's frames,
 * or gives up (-1) and lets libunwind walk, never a different stack. This
 * file is compiled -O2 without frame pointers by the unit rule; each stack
 * is captured both ways from one helper and compared frame by frame
 * (frame 0, the helper's own call sites, only for being in the helper).
 * Shapes, each checked cold (cache miss) and warm (hit):
 *   - recursion 1..60 deep through functions of different frame sizes and
 *     through a function pointer; a VLA (rbp-based CFA in code without
 *     frame pointers); qsort's callback (glibc frames); a thread (the walk
 *     ends at clone, as libunwind's); the walk must be used (not -1);
 *   - a function that realigns its stack (CFA given by a DWARF
 *     expression) and a signal handler (the kernel's signal frame): the
 *     walk must give up, and backtrace_capture must still return
 *     libunwind's frames; a frame of 20000 bytes: walked; one over 256 KiB
 *     (without frame pointers its rule does not fit a cache word): either,
 *     frames checked the same.
 */
#include "check.h"

#include "backtrace.h"
#include "dynload.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

static volatile uintptr_t sink;
static int compared, walked, gave_up;

/* One stack, captured both ways from here. must_walk 1: the walk must
 * follow it (-1 is a failure); 0: it must give up; -1: either, as long as
 * a walk gives libunwind's frames. */
static __attribute__((noinline)) void capture_both(int must_walk, const char *what)
{
    uintptr_t a[PROF_BT_MAX], b[PROF_BT_MAX], c[PROF_BT_MAX];
    for (int pass = 0; pass < 2; pass++) { /* cold, then warm */
        backtrace_boot(BT_LIBUNWIND);
        unsigned na = backtrace_capture(a, PROF_BT_MAX);
        backtrace_boot(BT_AUTO);
        int nb = backtrace_capture_cfi(b, PROF_BT_MAX);
        unsigned nc = backtrace_capture(c, PROF_BT_MAX);
        CHECK_MSG(na >= 3, "%s: libunwind gave %u frames", what, na);
        uintptr_t self = (uintptr_t)&capture_both;
        CHECK_MSG(a[0] > self && a[0] < self + 400, "%s: frame 0 %#lx not in the helper", what,
              (unsigned long)a[0]);
        CHECK_MSG(nc == na, "%s: backtrace_capture gave %u frames, libunwind %u", what, nc, na);
        for (unsigned i = 1; i < na; i++)
            CHECK_MSG(c[i] == a[i], "%s: backtrace_capture frame %u: %#lx, libunwind %#lx", what, i,
                  (unsigned long)c[i], (unsigned long)a[i]);
        if (nb < 0) {
            CHECK_MSG(must_walk != 1, "%s: the cfi walk gave up", what);
            gave_up++;
            continue;
        }
        CHECK_MSG(must_walk != 0, "%s: the cfi walk did not give up (%d frames)", what, nb);
        CHECK_MSG((unsigned)nb == na, "%s: cfi walk %d frames, libunwind %u", what, nb, na);
        CHECK_MSG(b[0] > self && b[0] < self + 400, "%s: cfi frame 0 %#lx not in the helper", what,
              (unsigned long)b[0]);
        for (unsigned i = 1; i < na; i++)
            CHECK_MSG(b[i] == a[i], "%s: cfi frame %u: %#lx, libunwind %#lx", what, i,
                  (unsigned long)b[i], (unsigned long)a[i]);
        walked++;
    }
    compared++;
}

/* ---- stacks the walk follows ---- */

static __attribute__((noinline)) void small_frame(int d, int must, const char *what);
static __attribute__((noinline)) void mid_frame(int d, int must, const char *what)
{
    volatile char buf[200];
    buf[d % 200] = (char)d;
    small_frame(d, must, what);
    sink += buf[(d + 1) % 200];
}

static __attribute__((noinline)) void small_frame(int d, int must, const char *what)
{
    if (d <= 0) {
        capture_both(must, what);
        return;
    }
    if (d % 3 == 0)
        mid_frame(d - 1, must, what);
    else
        small_frame(d - 1, must, what);
    sink++;
}

static __attribute__((noinline)) void vla_frame(int n)
{
    volatile char v[n];
    v[0] = 1;
    v[n - 1] = 2;
    small_frame(2, 1, "vla");
    sink += v[0] + v[n - 1];
}

static void (*volatile through)(int, int, const char *) = small_frame;

static int cmp_capture(const void *x, const void *y)
{
    static int once;
    if (!once) {
        once = 1;
        capture_both(1, "qsort callback");
    }
    return *(const int *)x - *(const int *)y;
}

static void *thread_main(void *arg)
{
    (void)arg;
    small_frame(4, 1, "thread");
    return NULL;
}

/* ---- stacks it must leave to libunwind ---- */

/* A frame of 20000 bytes (arrays on the stack: a benchmark's worker had
 * 16.5 KiB): its rule fits a cache word, the walk must follow it. */
static __attribute__((noinline)) void big_frame(void)
{
    volatile char big[20000];
    big[0] = 1;
    capture_both(1, "frame of 20000 bytes");
    sink += big[0] + big[19999];
}

static __attribute__((noinline)) void huge_frame(void)
{
    volatile char big[300000];
    big[0] = 1;
    /* rsp-based without frame pointers (gives up), rbp + 16 with them */
    capture_both(-1, "frame over 256 KiB");
    sink += big[0] + big[299999];
}

/* A VLA that must be 64-aligned in a function told to realign the stack:
 * gcc keeps the incoming stack pointer in r10 and then gives the CFA as a
 * DWARF expression (rbp - 8, dereferenced). */
static __attribute__((noipa, force_align_arg_pointer)) void realigned(int n)
{
    volatile char x[n] __attribute__((aligned(64)));
    x[0] = 1;
    capture_both(0, "realigned stack");
    sink += x[0];
}

static void on_signal(int sig)
{
    (void)sig;
    capture_both(0, "signal handler");
}

int main(void)
{
    /* libunwind, as the allocator's constructor loads it under prof:true
     * (libprof/dynload.h): this test calls the walks directly. */
    dynload_boot(true, false);
    for (int d = 0; d <= 60; d += 7)
        small_frame(d, 1, "recursion");
    through(5, 1, "function pointer");
    vla_frame(100);
    int v[64];
    for (int i = 0; i < 64; i++)
        v[i] = 64 - i;
    qsort(v, 64, sizeof(v[0]), cmp_capture);
    pthread_t t;
    CHECK_MSG(pthread_create(&t, NULL, thread_main, NULL) == 0, "pthread_create");
    pthread_join(t, NULL);
    big_frame();
    int walked_simple = walked;
    CHECK_MSG(walked_simple == 2 * compared, "walked %d of %d", walked_simple, 2 * compared);

    huge_frame();
    realigned(40);
    signal(SIGUSR1, on_signal);
    raise(SIGUSR1);
    CHECK_MSG(gave_up >= 4, "gave up %d times, expected 4 or more", gave_up);
    printf("backtrace_cfi: %d stacks, %d walked, %d left to libunwind\n", compared, walked,
           gave_up);
    return 0;
}
