/*
 * opt_percpu_arena: with percpu_arena:percpu a thread is served by the
 * arena of the CPU it runs on. The test pins itself with sched_setaffinity
 * to each CPU it may use in turn and reads thread.arena, which must equal
 * the CPU id (phycpu: the lowest id among the CPU's hyperthread siblings,
 * read here from sysfs); a block allocated there comes from that arena
 * (arenas.lookup is not needed: stats of the arena move). A new thread
 * started on a CPU gets that CPU's arena at once. opt.narenas is at least
 * the number of configured CPUs (exactly, unless narenas asks for more);
 * thread.arena cannot be set to another per-CPU arena (EPERM; to its own,
 * it is a no-op) but can to a created one, which then stays. Runs under
 * percpu_arena:percpu (opt_percpu_arena.conf) and re-runs itself under
 * phycpu and disabled (where the pinned CPU does not decide the arena).
 */
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>

static bool phy;

static unsigned expected_arena(unsigned cpu)
{
    if (!phy)
        return cpu;
    char path[128], buf[64] = {0};
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", cpu);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cpu;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    unsigned v = n > 0 ? (unsigned)strtoul(buf, NULL, 10) : cpu;
    return v < cpu ? v : cpu;
}

static unsigned thread_arena(void)
{
    unsigned v = 9999;
    size_t sz = sizeof(v);
    CHECK_EQ(mallctl("thread.arena", &v, &sz, NULL, 0), 0);
    return v;
}

static void pin(unsigned cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    CHECK_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
    sched_yield();
    CHECK_EQ((unsigned)sched_getcpu(), cpu);
}

struct start {
    unsigned cpu;
    unsigned arena;
};

static void *pinned_thread(void *arg)
{
    struct start *s = arg;
    pin(s->cpu);
    free(malloc(100)); /* creates the thread's heap on this CPU */
    s->arena = thread_arena();
    return NULL;
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    const char *mode = NULL;
    size_t sz = sizeof(mode);
    CHECK_EQ(mallctl("opt.percpu_arena", &mode, &sz, NULL, 0), 0);
    bool on = strcmp(mode, "disabled") != 0;
    phy = strcmp(mode, "phycpu") == 0;
    CHECK_MSG(argc > 1 || strcmp(mode, "percpu") == 0, "parent runs percpu (conf file), got %s", mode);
    long nconf = sysconf(_SC_NPROCESSORS_CONF);
    unsigned narenas = 0;
    sz = sizeof(narenas);
    CHECK_EQ(mallctl("opt.narenas", &narenas, &sz, NULL, 0), 0);
    const char *conf = getenv("MALLOC_CONF");
    if (on && strstr(conf, "narenas:300"))
        CHECK_EQ(narenas, 300); /* a larger narenas is kept */
    else if (on && !phy)
        CHECK_EQ(narenas, (unsigned)nconf); /* one arena per CPU, as jemalloc */
    else if (on)
        CHECK_U(narenas, >=, 1);

    cpu_set_t allowed;
    CHECK_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
    unsigned cpus[CPU_SETSIZE], ncpu = 0;
    for (unsigned c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed))
            cpus[ncpu++] = c;
    CHECK(ncpu >= 1);

    if (on) {
        for (int round = 0; round < 2; round++)
            for (unsigned i = 0; i < ncpu; i++) {
                pin(cpus[i]);
                void *p = malloc(200 << 10); /* a large block: the heap asks its arena */
                CHECK_NONNULL(p);
                free(p);
                CHECK_MSG(thread_arena() == expected_arena(cpus[i]), "on CPU %u thread.arena is %u",
                          cpus[i], thread_arena());
            }
        for (unsigned i = 0; i < ncpu; i++) {
            struct start s = {cpus[i], 9999};
            pthread_t t;
            CHECK(pthread_create(&t, NULL, pinned_thread, &s) == 0);
            CHECK(pthread_join(t, NULL) == 0);
            CHECK_EQ(s.arena, expected_arena(cpus[i]));
        }
        /* Another per-CPU arena: EPERM; the one the thread is on: nothing
         * changes, 0 (jemalloc) */
        unsigned cur = thread_arena(), other = cur == 0 ? 1 : 0;
        CHECK_EQ(mallctl("thread.arena", NULL, NULL, &other, sizeof(other)), EPERM);
        CHECK_EQ(mallctl("thread.arena", NULL, NULL, &cur, sizeof(cur)), 0);
        CHECK_EQ(thread_arena(), cur);
        unsigned made = 0;
        sz = sizeof(made);
        CHECK_EQ(mallctl("arenas.create", &made, &sz, NULL, 0), 0);
        CHECK_U(made, >=, (unsigned)nconf);
        CHECK_EQ(mallctl("thread.arena", NULL, NULL, &made, sizeof(made)), 0);
        for (unsigned i = 0; i < ncpu; i++) {
            pin(cpus[i]);
            free(malloc(200 << 10));
            CHECK_EQ(thread_arena(), made);
        }
    } else if (ncpu > 1 && access("/sys/devices/system/node/node1", F_OK) != 0) {
        /* Disabled (one NUMA node): moving to another CPU does not move the thread. */
        pin(cpus[0]);
        free(malloc(200 << 10));
        unsigned a0 = thread_arena();
        pin(cpus[1]);
        free(malloc(200 << 10));
        CHECK_EQ(thread_arena(), a0);
    }
    if (argc > 1)
        return 0;
    tl_run_child("percpu_arena:phycpu");
    tl_run_child("percpu_arena:percpu,narenas:300");
    tl_run_child("percpu_arena:disabled");
    printf("opt_percpu_arena: ok (%u CPUs)\n", ncpu);
    return 0;
}
