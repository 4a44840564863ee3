/*
 * ctl_background_threads: max_background_threads and
 * stats.background_thread.{num_threads,num_runs,run_interval} describe the
 * real purging threads. With MALLOC_CONF max_background_threads:3 (pinned
 * in the .conf beside this file):
 *   - opt.max_background_threads and max_background_threads read 3;
 *   - three new arenas (consecutive indexes, so every residue modulo 3 has
 *     an arena) and background_thread:true give exactly 3 threads: the stat
 *     says 3 and the process has 3 more tasks in /proc/self/task;
 *   - the threads wake every 50 ms: num_runs grows, run_interval (ns) is
 *     about 50 ms;
 *   - max_background_threads:=1 returns the old value 3 and leaves 1 thread
 *     (1 more task), :=2 leaves 2, :=4 (above the option) and a wrong size
 *     and := 0 are EINVAL (0 would leave background_thread on with no
 *     thread);
 *   - background_thread:=false joins them all (0 threads, runs reset), and
 *     enabling again at once starts them again.
 */
#include "check.h"

#include <dirent.h>

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

static size_t rd_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    CHECK_U(sz, ==, sizeof(size_t));
    return v;
}

static uint64_t rd_u64(const char *name)
{
    uint64_t v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static size_t num_threads(void)
{
    epoch();
    return rd_size("stats.background_thread.num_threads");
}

static unsigned tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    CHECK_NONNULL(d);
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* tasks() once it equals want, or after 2 s: a joined thread's kernel task
 * can stay listed in /proc/self/task for a moment after pthread_join
 * returns (the joiner is woken when the thread clears its tid, before the
 * task is released), which made the count read one too many now and then
 * on a loaded machine (1 run in 20). The comparison stays exact. */
static unsigned tasks_settled(unsigned want)
{
    unsigned n = tasks();
    for (int i = 0; i < 2000 && n != want; i++) {
        usleep(1000);
        n = tasks();
    }
    return n;
}

static void set_bg(bool on)
{
    CHECK_I(mallctl("background_thread", NULL, NULL, &on, sizeof(on)), ==, 0);
}

static int set_max(size_t n, size_t *old)
{
    size_t sz = sizeof(*old);
    return mallctl("max_background_threads", old, old ? &sz : NULL, &n, sizeof(n));
}

/* Wait (up to 30 s: a loaded machine wakes threads late) until f() >= want. */
static uint64_t wait_for(uint64_t (*f)(void), uint64_t want)
{
    uint64_t v = 0;
    for (int i = 0; i < 3000 && (v = f()) < want; i++)
        usleep(10000);
    return v;
}

static uint64_t runs(void)
{
    epoch();
    return rd_u64("stats.background_thread.num_runs");
}

int main(void)
{
    tl_require_liballoc();
    CHECK_U(rd_size("opt.max_background_threads"), ==, 3);
    CHECK_U(rd_size("max_background_threads"), ==, 3);
    CHECK_U(num_threads(), ==, 0);
    CHECK_U(runs(), ==, 0);

    unsigned base_tasks = tasks();
    for (int i = 0; i < 3; i++) {
        unsigned idx;
        size_t sz = sizeof(idx);
        CHECK_I(mallctl("arenas.create", &idx, &sz, NULL, 0), ==, 0);
    }
    set_bg(true);
    CHECK_U(num_threads(), ==, 3);
    CHECK_U(tasks_settled(base_tasks + 3), ==, base_tasks + 3);

    /* 40 runs (3 threads at ~50 ms: ~0.7 s): the restarted thread below
     * would need 2 s to count as many, more than a loaded machine stalls
     * this thread between the restart and its reading (9 was 0.45 s). */
    uint64_t r = wait_for(runs, 40);
    CHECK_U(r, >=, 40);
    epoch();
    uint64_t iv = rd_u64("stats.background_thread.run_interval");
    printf("3 threads: %" PRIu64 " runs, run_interval %" PRIu64 " ns\n", r, iv);
    CHECK_U(iv, >=, 40 * 1000 * 1000);
    CHECK_U(iv, <=, 1000 * 1000 * 1000);

    size_t old = 0;
    CHECK_I(set_max(1, &old), ==, 0);
    CHECK_U(old, ==, 3);
    CHECK_U(rd_size("max_background_threads"), ==, 1);
    CHECK_U(num_threads(), ==, 1);
    CHECK_U(tasks_settled(base_tasks + 1), ==, base_tasks + 1);
    CHECK_U(runs(), <, r); /* restarted threads count afresh */

    CHECK_I(set_max(4, NULL), ==, EINVAL);
    unsigned small = 2;
    CHECK_I(mallctl("max_background_threads", NULL, NULL, &small, sizeof(small)), ==, EINVAL);
    CHECK_U(rd_size("max_background_threads"), ==, 1);

    CHECK_I(set_max(2, NULL), ==, 0);
    CHECK_U(num_threads(), ==, 2);
    CHECK_U(tasks_settled(base_tasks + 2), ==, base_tasks + 2);

    set_bg(false);
    CHECK_U(num_threads(), ==, 0);
    CHECK_U(runs(), ==, 0);
    CHECK_U(tasks_settled(base_tasks), ==, base_tasks);
    set_bg(true);
    CHECK_U(num_threads(), ==, 2);
    CHECK_U(tasks_settled(base_tasks + 2), ==, base_tasks + 2);

    /* 0 would leave background_thread reading true with nothing purging */
    CHECK_I(set_max(0, NULL), ==, EINVAL);
    CHECK_U(rd_size("max_background_threads"), ==, 2);
    CHECK_U(num_threads(), ==, 2);
    CHECK_I(set_max(3, NULL), ==, 0);
    CHECK_U(num_threads(), ==, 3);
    set_bg(false);
    CHECK_U(tasks_settled(base_tasks), ==, base_tasks);
    printf("ctl_background_threads: ok\n");
    return 0;
}
