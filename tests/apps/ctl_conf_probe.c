/* The probe for tests/apps/ctl_conf.sh (ctl_conf_probe; ctl_conf_probe_global with
 * GLOBAL_CONF="narenas:3"): built by tests/tests.mk with the
 * project's flags and linked with -lalloc. */
#include <alloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#ifdef GLOBAL_CONF
const char *malloc_conf = GLOBAL_CONF;
#endif

/* probe NAME:TYPE...: print NAME=VALUE for each (TYPE b, u, z, zd, s). */
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char name[256];
        snprintf(name, sizeof(name), "%s", argv[i]);
        char *t = strrchr(name, ':');
        if (!t)
            return 2;
        *t++ = 0;
        union {
            bool b;
            unsigned u;
            size_t z;
            ssize_t zd;
            const char *s;
        } v;
        size_t len = !strcmp(t, "b") ? sizeof(bool) : !strcmp(t, "u") ? sizeof(unsigned) : sizeof(size_t);
        int r = mallctl(name, &v, &len, NULL, 0);
        if (r)
            printf("%s=error %d\n", name, r);
        else if (!strcmp(t, "b"))
            printf("%s=%s\n", name, v.b ? "true" : "false");
        else if (!strcmp(t, "u"))
            printf("%s=%u\n", name, v.u);
        else if (!strcmp(t, "z"))
            printf("%s=%zu\n", name, v.z);
        else if (!strcmp(t, "zd"))
            printf("%s=%zd\n", name, v.zd);
        else
            printf("%s=%s\n", name, v.s);
    }
    return 0;
}
