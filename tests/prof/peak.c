/*
 * peak: scenarios for tests/apps/prof_peak.sh (the peak-heap snapshot,
 * MALLOC_CONF=prof_peak:true). Run with LD_PRELOAD=liballoc.so and the
 * MALLOC_CONF the script chooses. Allocations are 64 KiB blocks from one
 * function per site, so jeprof's flat bytes per function are the sites.
 *
 *   peak phases DIR   site_peak_b holds 60 MiB (dump_peak DIR/b.heap), frees;
 *                     site_peak_a holds 200 MiB, frees; site_hold keeps
 *                     10 MiB; dump_peak DIR/peak.heap, prof.dump DIR/live.heap;
 *                     prof.reset, dump_peak DIR/reset.heap; site_after_reset
 *                     holds 4 MiB, dump_peak DIR/after.heap
 *   peak final DIR    the three phases, then exit (prof_final writes .p0. and .f.)
 *   peak rule DIR     the 10% rule (run at lg_prof_sample:0): one 10 MiB block
 *                     at site_rule_x, then 8 x 64 KiB at site_rule_y (+5%: no
 *                     new snapshot, DIR/r1.heap), then 16 more (+15%: a new
 *                     one, DIR/r2.heap)
 *   peak errors DIR   prof.dump_peak's argument errors (prof and prof_peak on)
 *   peak off          prof.dump_peak without prof:true, or without prof_peak:true:
 *                     ENOENT, no file
 *
 * Prints "ok MODE" at the end of a mode whose checks passed, "FAIL ..."
 * lines otherwise (exit 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

#define SITE  __attribute__((noinline, noclone, used))
#define BLOCK ((size_t)64 << 10)
#define MIB   ((size_t)1 << 20)

static int failed;
static const char *dir;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: ", __func__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failed = 1;                                                                            \
        }                                                                                          \
    } while (0)

/* Up to 200 MiB of 64 KiB blocks per site. */
static void *blocks[3200];
static void *held[160];
static void *after[64];

static void need(void *p)
{
    if (!p) {
        printf("FAIL out of memory\n");
        exit(2);
    }
}

SITE void site_peak_b(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        need(v[i] = malloc(BLOCK));
}

SITE void site_peak_a(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        need(v[i] = malloc(BLOCK));
}

SITE void site_hold(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        need(v[i] = malloc(BLOCK));
}

SITE void site_after_reset(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        need(v[i] = malloc(BLOCK));
}

SITE void *site_rule_x(size_t n)
{
    void *p = malloc(n);
    need(p);
    return p;
}

SITE void site_rule_y(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        need(v[i] = malloc(BLOCK));
}

static void free_all(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
        v[i] = NULL;
    }
}

static int peak_to(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char *p = path;
    return mallctl("prof.dump_peak", NULL, NULL, &p, sizeof(p));
}

static int dump_to(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char *p = path;
    return mallctl("prof.dump", NULL, NULL, &p, sizeof(p));
}

/* 60 MiB at one site, freed; 200 MiB at another, freed; 10 MiB kept. */
static void three_phases(bool dump_b)
{
    site_peak_b(blocks, 60 * MIB / BLOCK);
    if (dump_b)
        CHECK(peak_to("b.heap") == 0, "prof.dump_peak(b.heap) failed");
    free_all(blocks, 60 * MIB / BLOCK);
    site_peak_a(blocks, 200 * MIB / BLOCK);
    free_all(blocks, 200 * MIB / BLOCK);
    site_hold(held, 10 * MIB / BLOCK);
}

static void mode_phases(void)
{
    three_phases(true);
    CHECK(peak_to("peak.heap") == 0, "prof.dump_peak(peak.heap) failed");
    CHECK(dump_to("live.heap") == 0, "prof.dump(live.heap) failed");
    CHECK(mallctl("prof.reset", NULL, NULL, NULL, 0) == 0, "prof.reset failed");
    CHECK(peak_to("reset.heap") == 0, "prof.dump_peak(reset.heap) failed");
    site_after_reset(after, 4 * MIB / BLOCK);
    CHECK(peak_to("after.heap") == 0, "prof.dump_peak(after.heap) failed");
    free_all(after, 4 * MIB / BLOCK);
    free_all(held, 10 * MIB / BLOCK);
}

static void mode_rule(void)
{
    void *x = site_rule_x(10 * MIB);
    site_rule_y(blocks, 8);
    CHECK(peak_to("r1.heap") == 0, "prof.dump_peak(r1.heap) failed");
    site_rule_y(blocks + 8, 16);
    CHECK(peak_to("r2.heap") == 0, "prof.dump_peak(r2.heap) failed");
    free_all(blocks, 24);
    free(x);
}

static void mode_errors(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/e.heap", dir);
    const char *p = path;
    int r = mallctl("prof.dump_peak", NULL, NULL, &p, sizeof(p) - 1);
    CHECK(r == EINVAL, "newlen sizeof-1: %d, want EINVAL", r);
    r = mallctl("prof.dump_peak", NULL, NULL, &p, sizeof(p) + 1);
    CHECK(r == EINVAL, "newlen sizeof+1: %d, want EINVAL", r);
    const char *old = NULL;
    size_t oldlen = sizeof(old);
    r = mallctl("prof.dump_peak", &old, &oldlen, &p, sizeof(p));
    CHECK(r == EPERM, "read: %d, want EPERM", r);
    snprintf(path, sizeof(path), "%s/missing/e.heap", dir);
    r = mallctl("prof.dump_peak", NULL, NULL, &p, sizeof(p));
    CHECK(r == EFAULT, "into a missing directory: %d, want EFAULT", r);
    CHECK(access(path, F_OK) != 0, "%s exists", path);
    /* NULL: the auto name (the script checks the file). */
    const char *null = NULL;
    r = mallctl("prof.dump_peak", NULL, NULL, &null, sizeof(null));
    CHECK(r == 0, "NULL name: %d, want 0", r);
    r = mallctl("prof.dump_peak", NULL, NULL, NULL, 0);
    CHECK(r == 0, "no argument: %d, want 0", r);
}

static void mode_off(void)
{
    const char *p = "off.heap";
    int r = mallctl("prof.dump_peak", NULL, NULL, &p, sizeof(p));
    CHECK(r == ENOENT, "prof.dump_peak: %d, want ENOENT", r);
    const char *null = NULL;
    r = mallctl("prof.dump_peak", NULL, NULL, &null, sizeof(null));
    CHECK(r == ENOENT, "prof.dump_peak(NULL): %d, want ENOENT", r);
    CHECK(access("off.heap", F_OK) != 0, "off.heap was written");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !mallctl) {
        fprintf(stderr, "usage: peak MODE [DIR] (under liballoc)\n");
        return 2;
    }
    const char *mode = argv[1];
    dir = argc > 2 ? argv[2] : ".";
    if (strcmp(mode, "phases") == 0)
        mode_phases();
    else if (strcmp(mode, "final") == 0)
        three_phases(false);
    else if (strcmp(mode, "rule") == 0)
        mode_rule();
    else if (strcmp(mode, "errors") == 0)
        mode_errors();
    else if (strcmp(mode, "off") == 0)
        mode_off();
    else {
        fprintf(stderr, "peak: unknown mode '%s'\n", mode);
        return 2;
    }
    printf("pid %d\n", (int)getpid());
    if (failed)
        return 1;
    printf("ok %s\n", mode);
    return 0;
}
