/*
 * conf_signal: MALLOC_CONF=prof_dump_signal:<sig> (liballoc/conf.c,
 * options_signal_parse), driven as tests/unit/conf.c drives the reader:
 *   - every accepted spelling maps to its number: USR2, SIGUSR2, usr2, 12,
 *     RTMIN, RTMIN+3, SIGRTMAX-1; the empty value is 0 (off);
 *   - refused values: unknown names, 0, negative, past the last signal,
 *     glibc's reserved 32/33, uncatchable KILL/STOP, fault signals (SEGV,
 *     BUS, FPE, ILL, TRAP, SYS, ABRT), signals with a meaning the handler
 *     would take away (HUP, INT, TERM, QUIT, PIPE, CHLD, PROF, ALRM, TSTP,
 *     WINCH), RTMIN-1, RTMAX+1, RTMIN+ past RTMAX, trailing junk,
 *     over-long text;
 *   - through options_boot: a refused value prints jemalloc's "Invalid conf
 *     value: prof_dump_signal:<v>" and leaves the option at its default (or
 *     at an earlier source's value); an accepted one is stored as written.
 */
#include "check.h"

#include "options.h"

#include <signal.h>

static char cap[4096];
static size_t caplen;

static void capture(void *opaque, const char *s)
{
    (void)opaque;
    size_t n = strlen(s);
    if (caplen + n >= sizeof(cap))
        n = sizeof(cap) - 1 - caplen;
    memcpy(cap + caplen, s, n);
    caplen += n;
    cap[caplen] = 0;
}

static struct options got, saved;

/* Boot the options from env (and the malloc_conf global) into `got`. */
static void boot(const char *global, const char *env)
{
    CHECK_I(setenv("MALLOC_CONF", env, 1), ==, 0);
    caplen = 0;
    cap[0] = 0;
    saved = opt;
    opt.prof_dump_signal[0] = 0;
    malloc_conf = global;
    malloc_message = capture;
    options_boot();
    malloc_message = NULL;
    malloc_conf = NULL;
    got = opt;
    opt = saved;
}

static int parse(const char *s)
{
    return options_signal_parse(s, strlen(s));
}

int main(void)
{
    char link[16];
    if (readlink("/etc/malloc.conf", link, sizeof(link)) >= 0) {
        printf("/etc/malloc.conf exists: its settings would mix into every case\n");
        return 77;
    }
    free(malloc(1));

    CHECK_I(parse(""), ==, 0);
    CHECK_I(parse("USR2"), ==, SIGUSR2);
    CHECK_I(parse("SIGUSR2"), ==, SIGUSR2);
    CHECK_I(parse("usr2"), ==, SIGUSR2);
    CHECK_I(parse("sigusr1"), ==, SIGUSR1);
    CHECK_I(parse("12"), ==, 12);
    static const char *const taken[] = {"HUP", "INT", "TERM", "QUIT", "PIPE", "CHLD",
                                        "PROF", "ALRM", "TSTP", "WINCH", "15", "SIGHUP"};
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
        CHECK_MSG(parse(taken[i]) == -1, "%s accepted", taken[i]);
    CHECK_I(parse("RTMIN"), ==, SIGRTMIN);
    CHECK_I(parse("RTMIN+3"), ==, SIGRTMIN + 3);
    CHECK_I(parse("SIGRTMAX-1"), ==, SIGRTMAX - 1);
    CHECK_I(parse("RTMAX"), ==, SIGRTMAX);
    char num[16];
    snprintf(num, sizeof(num), "%d", SIGRTMIN + 1);
    CHECK_I(parse(num), ==, SIGRTMIN + 1);

    const char *bad[] = {"FOO",     "SIG",     "USR3",     "0",
                         "-12",     "65",      "1000",     "32",
                         "33",      "KILL",    "SIGSTOP",  "SEGV",
                         "BUS",     "FPE",     "ILL",      "TRAP",
                         "SYS",     "ABRT",    "9",        "11",
                         "RTMIN-1", "RTMAX+1", "RTMIN+99", "RTMIN+",
                         "12x",     "USR2 ",   " 12",      "SIGUSR2SIGUSR2SIGUSR2SIGUSR2SIGUSR2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_MSG(parse(bad[i]) == -1, "'%s' accepted as %d", bad[i], parse(bad[i]));

    /* Through the reader: accepted values stored as written. */
    boot(NULL, "prof_dump_signal:SIGUSR2");
    CHECK_MSG(cap[0] == 0, "messages: %s", cap);
    CHECK(strcmp(got.prof_dump_signal, "SIGUSR2") == 0);
    boot(NULL, "prof_dump_signal:RTMIN+1,prof:true");
    CHECK_MSG(cap[0] == 0, "messages: %s", cap);
    CHECK(strcmp(got.prof_dump_signal, "RTMIN+1") == 0);

    /* Refused values: jemalloc's message, the option untouched. */
    boot(NULL, "prof_dump_signal:FOO");
    CHECK_MSG(strcmp(cap, "<jemalloc>: Invalid conf value: prof_dump_signal:FOO\n") == 0, "got %s",
              cap);
    CHECK(got.prof_dump_signal[0] == 0);
    boot(NULL, "prof_dump_signal:KILL");
    CHECK_MSG(strcmp(cap, "<jemalloc>: Invalid conf value: prof_dump_signal:KILL\n") == 0, "got %s",
              cap);
    CHECK(got.prof_dump_signal[0] == 0);
    /* A refused later value keeps the earlier source's. */
    boot("prof_dump_signal:USR1", "prof_dump_signal:99");
    CHECK_MSG(strcmp(cap, "<jemalloc>: Invalid conf value: prof_dump_signal:99\n") == 0, "got %s",
              cap);
    CHECK(strcmp(got.prof_dump_signal, "USR1") == 0);
    printf("ok\n");
    return 0;
}
