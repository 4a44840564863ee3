/*
 * ctl_bool_write: a bool mallctl written with a byte other than 0 or 1 is
 * refused with EINVAL and changes nothing (loading such a byte as a bool is
 * undefined behaviour; found by fuzz_mallctl). 0 and 1 still work.
 * thread.tcache.enabled and background_thread always; with profiling on
 * (opt.prof), prof.active, prof.gdump, prof.thread_active_init and
 * thread.prof.active too.
 */
#include "check.h"

static void one(const char *name)
{
    bool before = false, after = false;
    size_t sz = sizeof(before);
    CHECK_I(mallctl(name, &before, &sz, NULL, 0), ==, 0);
    static const unsigned char bad[] = {2, 0xe7, 0xff, 0x80};
    for (unsigned i = 0; i < sizeof(bad); i++) {
        unsigned char b = bad[i];
        int r = mallctl(name, NULL, NULL, &b, sizeof(bool));
        CHECK_MSG(r == EINVAL, "%s: writing byte 0x%02x gave %d, not EINVAL", name, b, r);
        sz = sizeof(after);
        unsigned char raw = 0x55;
        CHECK_I(mallctl(name, &raw, &sz, NULL, 0), ==, 0);
        CHECK_MSG(raw == (unsigned char)before, "%s: reads 0x%02x after a refused write (was %d)", name,
                  raw, before);
    }
    /* 0 and 1 are accepted; put the old value back. */
    bool v = !before;
    CHECK_I(mallctl(name, NULL, NULL, &v, sizeof(v)), ==, 0);
    sz = sizeof(after);
    CHECK_I(mallctl(name, &after, &sz, NULL, 0), ==, 0);
    CHECK_I(after, ==, v);
    CHECK_I(mallctl(name, NULL, NULL, &before, sizeof(before)), ==, 0);
}

int main(void)
{
    tl_require_liballoc();
    one("thread.tcache.enabled");
    one("background_thread");
    bool prof = false;
    size_t sz = sizeof(prof);
    CHECK_I(mallctl("opt.prof", &prof, &sz, NULL, 0), ==, 0);
    if (prof) {
        one("prof.active");
        one("prof.gdump");
        one("prof.thread_active_init");
        one("thread.prof.active");
    }
    printf("ctl_bool_write: ok%s\n", prof ? " (prof too)" : "");
    return 0;
}
