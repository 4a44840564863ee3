/*
 * prof_interval_dumps: lg_prof_interval:20 writes an interval dump (.i.)
 * each time the bytes allocated cross a MiB, and the bytes past the
 * interval count toward the next (modulo the interval, as jemalloc's
 * counter). Every allocation is a sample here (prof_interval_dumps.conf),
 * so the count is exact: 100 blocks of 768 KiB cross 75 MiB boundaries
 * (75 dumps). A reset of the count to 0 at each dump lost the remainder
 * and gave 50 (one dump per two blocks), as it lost dumps whenever samples
 * came sparser than the interval (lg_prof_sample near lg_prof_interval).
 */
#include "check.h"

#include <dirent.h>

int main(void)
{
    tl_require_liballoc();
    char dir[] = "/tmp/prof_interval_dumps.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s/d", dir);
    const char *pp = prefix;
    CHECK_I(mallctl("prof.prefix", NULL, NULL, &pp, sizeof(pp)), ==, 0);
    for (int i = 0; i < 100; i++) {
        void *p = malloc(768 << 10);
        CHECK(p != NULL);
        tl_opaque(p);
        free(p);
    }
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    char path[320];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        n += strstr(e->d_name, ".i") != NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
    printf("%d interval dumps for 100 x 768 KiB at lg_prof_interval:20\n", n);
    /* 75, plus one if the program's own start-up bytes tip a boundary */
    CHECK_I(n, >=, 75);
    CHECK_I(n, <=, 76);
    printf("ok\n");
    return 0;
}
