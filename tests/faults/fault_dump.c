/*
 * fault_dump: a profile dump that cannot be written whole leaves no file
 * (issue 17 point 3). Profiling on, both formats (heap_v2 and gzip'd
 * pprof). With debug.fault failing the dump writes (ENOSPC after the first
 * k writes succeed, k = 0, 1, 2, 3, 5, 8, and at random with probability
 * 1/3): prof.dump returns an error (EFAULT, jemalloc's code for a failed
 * dump), neither <name>.heap nor <name>.pb.gz exists, no temporary file is
 * left, and an older dump at the same path stays byte for byte as it was.
 * After disarming, dumps work again and are whole (heap_v2 header, gzip
 * magic).
 *   fault_dump DIR            the injected-fault checks, files in DIR
 *   fault_dump --full DIR     DIR is a nearly full filesystem (a small
 *                             tmpfs, tests/apps/faults.sh): the dump must
 *                             fail and leave DIR as it was
 */
#include "fault_common.h"

#include <dirent.h>
#include <sys/stat.h>
#include <zlib.h>

const char *malloc_conf = "prof:true,lg_prof_sample:0,prof_format:both";

static const char *dir;

/* Allocations from several call paths, so the dump has some size. */
static __attribute__((noinline)) void *site_a(size_t n) { return malloc(n); }
static __attribute__((noinline)) void *site_b(size_t n) { return calloc(1, n); }
static __attribute__((noinline)) void *site_c(size_t n, int depth)
{
    return depth ? site_c(n, depth - 1) : malloc(n);
}

static bool exists(const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* The names in dir, one per line, into buf. */
static void listing(char *buf, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    CHECK(d != NULL);
    buf[0] = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int k = snprintf(buf + n, cap - n, "%s\n", e->d_name);
        CHECK(k > 0 && (size_t)k < cap - n);
        n += (size_t)k;
    }
    closedir(d);
}

static void no_temporaries(void)
{
    char names[65536];
    listing(names, sizeof(names));
    CHECK_MSG(strstr(names, ".tmp.") == NULL, "temporary dump files left in %s:\n%s", dir, names);
}

static int dump(const char *name)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    const char *pp = p;
    return mallctl("prof.dump", NULL, NULL, &pp, sizeof(pp));
}

static size_t slurp(const char *name, char *buf, size_t cap)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", p);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* A whole heap_v2 file: header, the maps tail, a final newline. */
static void heap_whole(const char *name)
{
    static char buf[1 << 20];
    size_t n = slurp(name, buf, sizeof(buf) - 1);
    buf[n] = 0;
    CHECK_MSG(n > 20 && memcmp(buf, "heap_v2/", 8) == 0, "%s is not a heap_v2 dump", name);
    CHECK_MSG(strstr(buf, "\nMAPPED_LIBRARIES:\n") != NULL && buf[n - 1] == '\n',
              "%s is cut short", name);
}

/* A whole gzip stream: zlib reads it to its end without error. */
static void gz_whole(const char *name)
{
    char p[4096], buf[65536];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    gzFile g = gzopen(p, "rb");
    CHECK_MSG(g != NULL, "cannot open %s", p);
    int k, errnum = 0;
    size_t total = 0;
    while ((k = gzread(g, buf, sizeof(buf))) > 0)
        total += (size_t)k;
    const char *msg = gzerror(g, &errnum);
    CHECK_MSG(k == 0 && errnum == Z_OK, "%s: truncated or corrupt gzip (%s)", name, msg);
    CHECK_MSG(total > 0, "%s: empty profile", name);
    gzclose(g);
}

static void whole(const char *base)
{
    static char buf[1 << 20];
    char name[256];
    (void)buf;
    snprintf(name, sizeof(name), "%s.heap", base);
    heap_whole(name);
    snprintf(name, sizeof(name), "%s.pb.gz", base);
    gz_whole(name);
}

static void *blocks[3000];

static void make_profile(void)
{
    for (int i = 0; i < 3000; i++) {
        size_t n = 16 + (size_t)(i % 97) * 24;
        blocks[i] = i % 3 == 0 ? site_a(n) : i % 3 == 1 ? site_b(n) : site_c(n, i % 11);
        CHECK(blocks[i] != NULL);
        memset(blocks[i], 0x11, n);
    }
}

static void full_fs(void)
{
    char before[65536], after[65536];
    listing(before, sizeof(before));
    int r = dump("full.heap");
    CHECK_MSG(r != 0, "prof.dump into a full filesystem succeeded");
    CHECK_I(r, ==, EFAULT);
    CHECK_MSG(!exists("full.heap") && !exists("full.pb.gz"), "a partial dump was left in %s", dir);
    listing(after, sizeof(after));
    CHECK_MSG(strcmp(before, after) == 0, "the full filesystem changed:\nbefore:\n%safter:\n%s", before,
              after);
    printf("ok full filesystem: prof.dump returned %d, nothing left\n", r);
}

int main(int argc, char **argv)
{
    bool full = argc == 3 && strcmp(argv[1], "--full") == 0;
    if (!full && argc != 2) {
        fprintf(stderr, "usage: fault_dump DIR | fault_dump --full DIR\n");
        return 2;
    }
    dir = argv[argc - 1];
    bool prof = false;
    size_t sz = sizeof(prof);
    CHECK_I(mallctl("opt.prof", &prof, &sz, NULL, 0), ==, 0);
    CHECK_MSG(prof, "profiling is off: this test needs the library's prof support");
    make_profile();
    if (full) {
        full_fs();
        return 0;
    }
    CHECK_I(dump("base.heap"), ==, 0);
    whole("base");
    static char old_h[1 << 20], old_p[1 << 20], now_h[1 << 20], now_p[1 << 20];
    size_t nh = slurp("base.heap", old_h, sizeof(old_h)), np = slurp("base.pb.gz", old_p, sizeof(old_p));

    static const uint64_t afters[] = {0, 1, 2, 3, 5, 8};
    for (unsigned i = 0; i < sizeof(afters) / sizeof(afters[0]) + 20; i++) {
        char name[64];
        bool random = i >= sizeof(afters) / sizeof(afters[0]);
        if (random)
            fault_arm(FAULT_WRITE, 0, 0, 3, 1000 + i);
        else
            fault_arm(FAULT_WRITE, afters[i], 0, 0, 1);
        snprintf(name, sizeof(name), "f%u.heap", i);
        int r = dump(name);
        /* Over the older dump too: it must survive whole. */
        int r2 = dump("base.heap");
        uint64_t injected = fault_disarm();
        if (injected == 0)
            continue; /* a random run whose draws all passed */
        CHECK_MSG(r != 0 || r2 != 0, "dumps reported success with %" PRIu64 " failed writes", injected);
        if (r != 0) {
            CHECK_I(r, ==, EFAULT);
            /* Each format is whole or absent: a file whose writes all
             * passed before the fault is whole. */
            snprintf(name, sizeof(name), "f%u.heap", i);
            if (exists(name))
                heap_whole(name);
            snprintf(name, sizeof(name), "f%u.pb.gz", i);
            if (exists(name))
                gz_whole(name);
        }
        if (r2 != 0) {
            /* Each file is the old one or a whole new one. */
            size_t a = slurp("base.heap", now_h, sizeof(now_h)), b = slurp("base.pb.gz", now_p, sizeof(now_p));
            if (!(a == nh && memcmp(now_h, old_h, nh) == 0))
                heap_whole("base.heap");
            if (!(b == np && memcmp(now_p, old_p, np) == 0))
                gz_whole("base.pb.gz");
        }
        no_temporaries();
        printf("ok dump with write faults (%s, %" PRIu64 " injected): returned %d/%d, no partial file\n",
               random ? "random 1/3" : "after k", injected, r, r2);
    }
    CHECK_I(dump("again.heap"), ==, 0);
    whole("again");
    whole("base");
    no_temporaries();
    for (int i = 0; i < 3000; i++)
        free(blocks[i]);
    printf("PASS\n");
    return 0;
}
