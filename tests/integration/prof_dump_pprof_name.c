/*
 * prof_dump_pprof_name: with prof_format:pprof (prof_dump_pprof_name.conf),
 * prof.dump with a name writes the pprof file under that name as it is
 * ("a.pb.gz", "c"), or for a name ending in ".heap" with ".pb.gz" in its
 * place (scripts written for heap_v2 names). Before, ".pb.gz" was always
 * added: "a.pb.gz.pb.gz". Each file is gzip data (the pprof file), and no
 * other file appears.
 */
#include "check.h"

#include <dirent.h>

static void check_gzip(const char *path)
{
    unsigned char m[2] = {0, 0};
    int fd = open(path, O_RDONLY);
    CHECK_MSG(fd >= 0, "%s: not written", path);
    CHECK_I(read(fd, m, 2), ==, 2);
    close(fd);
    CHECK_MSG(m[0] == 0x1f && m[1] == 0x8b, "%s: not gzip data", path);
}

int main(void)
{
    tl_require_liballoc();
    const char *fmt = NULL;
    size_t sz = sizeof(fmt);
    CHECK_I(mallctl("opt.prof_format", &fmt, &sz, NULL, 0), ==, 0);
    if (strcmp(fmt, "pprof") != 0) {
        printf("SKIP: prof_format is %s, not pprof\n", fmt);
        return 77;
    }
    void *keep = malloc(100000);
    tl_opaque(keep);
    char dir[] = "/tmp/prof_dump_pprof_name.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    static const char *const names[][2] = {{"a.pb.gz", "a.pb.gz"}, {"b.heap", "b.pb.gz"}, {"c", "c"}};
    char path[320], want[320]; /* the directory and a name of up to 255 bytes */
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i][0]);
        const char *p = path;
        CHECK_I(mallctl("prof.dump", NULL, NULL, &p, sizeof(p)), ==, 0);
        snprintf(want, sizeof(want), "%s/%s", dir, names[i][1]);
        check_gzip(want);
    }
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        CHECK_MSG(strcmp(e->d_name, "a.pb.gz") == 0 || strcmp(e->d_name, "b.pb.gz") == 0 ||
                      strcmp(e->d_name, "c") == 0,
                  "unexpected file %s", e->d_name);
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
    CHECK_I(n, ==, 3);
    free(keep);
    printf("ok\n");
    return 0;
}
