/*
 * ctl_background_fork: background_thread is off in a forked child whatever
 * it is in the parent, as jemalloc's manual says of fork(2): the child
 * reads background_thread false and stats.background_thread.num_threads 0,
 * and may turn it on again (then its own threads run); the parent keeps
 * its threads. Before, the child restarted the parent's threads by itself.
 */
#include "check.h"

#include <stdbool.h>

static bool read_bg(void)
{
    bool on = false;
    size_t sz = sizeof(on);
    CHECK_I(mallctl("background_thread", &on, &sz, NULL, 0), ==, 0);
    return on;
}

static size_t num_threads(void)
{
    return tl_stat_size("stats.background_thread.num_threads");
}

/* The threads start on demand: wait up to 5 s for at least one. */
static size_t threads_started(void)
{
    for (int i = 0; i < 500; i++) {
        free(malloc(100000)); /* activity: a start is requested on the allocation path */
        size_t n = num_threads();
        if (n > 0)
            return n;
        usleep(10000);
    }
    return 0;
}

int main(void)
{
    tl_require_liballoc();
    bool on = true;
    CHECK_I(mallctl("background_thread", NULL, NULL, &on, sizeof(on)), ==, 0);
    CHECK(read_bg());
    CHECK_U(threads_started(), >, 0);
    pid_t pid = fork();
    CHECK_I(pid, >=, 0);
    if (pid == 0) {
        if (read_bg())
            _exit(10);
        free(malloc(100000));
        usleep(100000);
        if (num_threads() != 0)
            _exit(11);
        bool again = true;
        if (mallctl("background_thread", NULL, NULL, &again, sizeof(again)) != 0 || !read_bg())
            _exit(12);
        if (threads_started() == 0)
            _exit(13);
        _exit(0);
    }
    int st = 0;
    CHECK_I(waitpid(pid, &st, 0), ==, pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d (10: on after fork, 11: threads "
              "running, 12: could not turn on, 13: no thread after turning on)", WEXITSTATUS(st));
    CHECK(read_bg());
    CHECK_U(num_threads(), >, 0);
    printf("ok\n");
    return 0;
}
