/*
 * dual_plugin: a shared library with its own copy of liballoc (liballoc.a
 * linked in, calls bound inside with -Bsymbolic-functions), for
 * tests/apps/prof_dual_static.sh: under LD_PRELOAD=liballoc.so the
 * preloaded copy serves malloc, and this copy serves only the mallocx calls
 * below (32 MiB in 64 KiB blocks, kept until exit).
 */
#include <alloc.h>
#include <stddef.h>
#include <string.h>

#define PLUGIN_BLOCKS 512
#define PLUGIN_SIZE   65536

static void *plugin_kept[PLUGIN_BLOCKS];

__attribute__((noinline)) int dual_plugin_fill(void)
{
    for (int i = 0; i < PLUGIN_BLOCKS; i++) {
        plugin_kept[i] = mallocx(PLUGIN_SIZE, 0);
        if (!plugin_kept[i])
            return -1;
        memset(plugin_kept[i], 7, PLUGIN_SIZE);
    }
    return 0;
}
