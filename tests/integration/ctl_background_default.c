/*
 * ctl_background_default: without max_background_threads in MALLOC_CONF,
 * opt.max_background_threads and max_background_threads are the number of
 * CPUs the process may run on (jemalloc's default), as size_t.
 */
#define _GNU_SOURCE
#include "check.h"

#include <sched.h>

int main(void)
{
    tl_require_liballoc();
    const char *conf = getenv("MALLOC_CONF");
    if (conf && strstr(conf, "max_background_threads")) {
        printf("MALLOC_CONF sets max_background_threads: nothing to check\n");
        return 77;
    }
    cpu_set_t set;
    CHECK_I(sched_getaffinity(0, sizeof(set), &set), ==, 0);
    size_t ncpus = (size_t)CPU_COUNT(&set);
    size_t v = 0, sz = sizeof(v);
    CHECK_I(mallctl("opt.max_background_threads", &v, &sz, NULL, 0), ==, 0);
    CHECK_U(v, ==, ncpus);
    v = 0;
    CHECK_I(mallctl("max_background_threads", &v, &sz, NULL, 0), ==, 0);
    CHECK_U(v, ==, ncpus);
    /* Read-only option. */
    CHECK_I(mallctl("opt.max_background_threads", NULL, NULL, &v, sizeof(v)), ==, EPERM);
    printf("ctl_background_default: ok (%zu CPUs)\n", ncpus);
    return 0;
}
