/* A program for jeprof-c --growth tests: between manual dumps (prof.dump,
 * auto-named <prefix>.<pid>.<seq>.m<N>.heap) it grows a steady leak
 * (LEAK_STEP bytes per step, never freed), keeps a constant set, and makes
 * one spike in the middle that is freed at the next step, and shrinks a
 * set allocated at start by one 64 KiB block per step.
 * usage: leaky STEPS SLEEP_MS */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEAK_STEP (256 * 1024)   /* 4 blocks of 64 KiB per step */
#define CONSTANT (512 * 1024)    /* 8 blocks of 64 KiB, at start */
#define SPIKE (8 * 1024 * 1024)  /* 32 blocks of 256 KiB, one step */

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static void *sink[4096];
static size_t nsink;

__attribute__((noinline)) static void leak_step(void)
{
    for (int i = 0; i < 4; i++) {
        sink[nsink] = malloc(64 * 1024);
        memset(sink[nsink++], 1, 64);
    }
}

__attribute__((noinline)) static void **spike_alloc(void)
{
    void **v = calloc(32, sizeof(void *));
    for (int i = 0; i < 32; i++) {
        v[i] = malloc(256 * 1024);
        memset(v[i], 2, 64);
    }
    return v;
}

__attribute__((noinline)) static void constant_alloc(void)
{
    for (int i = 0; i < 8; i++) {
        sink[nsink] = malloc(64 * 1024);
        memset(sink[nsink++], 3, 64);
    }
}

static void *shrinking[64];

__attribute__((noinline)) static void shrink_alloc(void)
{
    for (int i = 0; i < 64; i++) {
        shrinking[i] = malloc(64 * 1024);
        memset(shrinking[i], 4, 64);
    }
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 10;
    int ms = argc > 2 ? atoi(argv[2]) : 20;
    mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (!mallctl) {
        fprintf(stderr, "leaky: no mallctl (run under liballoc)\n");
        return 2;
    }
    constant_alloc();
    shrink_alloc();
    void **spike = NULL;
    struct timespec ts = {0, (long)ms * 1000000L};
    for (int s = 0; s < steps; s++) {
        leak_step();
        if (s < 64) {
            free(shrinking[s]);
            shrinking[s] = NULL;
        }
        if (s == steps / 2)
            spike = spike_alloc();
        else if (spike) {
            for (int i = 0; i < 32; i++)
                free(spike[i]);
            free(spike);
            spike = NULL;
        }
        if (mallctl("prof.dump", NULL, NULL, NULL, 0) != 0) {
            fprintf(stderr, "leaky: prof.dump failed\n");
            return 1;
        }
        nanosleep(&ts, NULL);
    }
    return 0;
}
