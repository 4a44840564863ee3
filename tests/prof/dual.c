/*
 * dual: the profiling subject of tests/apps/prof_dual.sh, built twice:
 * dual_jemalloc links Debian's libjemalloc (DUAL_JEMALLOC: it calls
 * jemalloc's mallctl, so libjemalloc.so.2 is NEEDED and initialises even
 * when a preloaded liballoc serves malloc), dual_static links liballoc.a.
 * It keeps DUAL_BLOCKS blocks of DUAL_SIZE bytes allocated in dual_fill
 * (64 MiB) until exit, so the final dump must show dual_fill with about
 * that much, whichever allocator wrote it. Prints the pid.
 * dual_plugin (DUAL_PLUGIN) also calls libdual_plugin.so (dual_plugin.c,
 * its own liballoc copy), which keeps 32 MiB from mallocx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef DUAL_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#ifdef DUAL_PLUGIN
int dual_plugin_fill(void);
#endif

#define DUAL_BLOCKS 1024
#define DUAL_SIZE   65536

static void *kept[DUAL_BLOCKS];

__attribute__((noinline)) static void dual_fill(void)
{
    for (int i = 0; i < DUAL_BLOCKS; i++) {
        kept[i] = malloc(DUAL_SIZE);
        if (!kept[i]) {
            fprintf(stderr, "dual: out of memory\n");
            exit(2);
        }
        memset(kept[i], i & 0xff, DUAL_SIZE);
    }
}

int main(void)
{
#ifdef DUAL_JEMALLOC
    /* A jemalloc symbol, so the link keeps libjemalloc.so.2 NEEDED. */
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    if (mallctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0 || narenas == 0) {
        fprintf(stderr, "dual: mallctl(arenas.narenas) failed\n");
        return 2;
    }
#endif
    dual_fill();
#ifdef DUAL_PLUGIN
    if (dual_plugin_fill() != 0) {
        fprintf(stderr, "dual: dual_plugin_fill failed\n");
        return 2;
    }
#endif
    printf("%d\n", (int)getpid());
    return 0;
}
