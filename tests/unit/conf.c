/*
 * conf: the MALLOC_CONF reader (liballoc/conf.c), driven directly: each
 * case resets the options to their defaults (options.def), sets the sources
 * (the malloc_conf global, the MALLOC_CONF variable), runs options_boot with
 * messages captured through malloc_message, and restores the live options.
 *   - every accepted form: booleans, unsigned, size (clipped to its maximum),
 *     signed (-1), numbers in decimal/hex/octal, strings, choices, several
 *     pairs, a value holding ':';
 *   - every malformed form prints jemalloc's message text exactly (grammar
 *     errors twice: jemalloc's first pass looks for confirm_conf) and leaves
 *     the option at its default; parsing of a source stops at a grammar error
 *     and goes on with the next source;
 *   - the sources' order: the malloc_conf global, then MALLOC_CONF (later
 *     wins, key by key); confirm_conf echoes all five sources and each
 *     accepted pair;
 *   - abort_conf:true aborts on an invalid value but not on an unknown
 *     experimental_ key (checked in forked children).
 * The /etc/malloc.conf symlink source is not exercised (it would need root
 * and would change the machine); the test skips if that link exists.
 */
#include "check.h"

#include "options.h"

#include <signal.h>
#include <sys/wait.h>

static const struct options dflt =
#include "options_defaults.h"
    ;

static char cap[16384];
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

/* Boot the options from these sources (NULL: absent) into `got`. Nothing
 * allocates between the swap of `opt` and its restoration. */
static void boot(const char *global, const char *env)
{
    if (env)
        CHECK_I(setenv("MALLOC_CONF", env, 1), ==, 0);
    else
        CHECK_I(unsetenv("MALLOC_CONF"), ==, 0);
    caplen = 0;
    cap[0] = 0;
    saved = opt;
    opt = dflt;
    malloc_conf = global;
    malloc_message = capture;
    options_boot();
    malloc_message = NULL;
    malloc_conf = NULL;
    got = opt;
    opt = saved;
}

#define EXPECT_MSG(want)                                                                           \
    CHECK_MSG(strcmp(cap, want) == 0, "MALLOC_CONF messages:\n--- got\n%s--- want\n%s", cap, want)

/* One malformed environment string: its exact messages, and `field` left at
 * its default. */
#define BAD(env, want, field)                                                                      \
    do {                                                                                           \
        boot(NULL, env);                                                                           \
        CHECK_MSG(strcmp(cap, want) == 0, "MALLOC_CONF=%s:\n--- got\n%s--- want\n%s", env, cap,   \
                  want);                                                                           \
        CHECK_MSG(memcmp(&got.field, &dflt.field, sizeof(dflt.field)) == 0,                        \
                  "MALLOC_CONF=%s changed " #field, env);                                          \
    } while (0)

#define P "<jemalloc>: "

/* Fork; the child boots with abort_conf and this env; returns its signal (0 if it exited). */
static int child_signal(const char *env)
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK_I(pid, >=, 0);
    if (pid == 0) {
        boot(NULL, env);
        _exit(0);
    }
    int st;
    CHECK_I(waitpid(pid, &st, 0), ==, pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

int main(void)
{
    char link[16];
    if (readlink("/etc/malloc.conf", link, sizeof(link)) >= 0) {
        printf("/etc/malloc.conf exists: its settings would mix into every case\n");
        return 77;
    }
    free(malloc(1)); /* the allocator is up: later swaps of opt are ours alone */

    /* Defaults, no sources, no messages. */
    boot(NULL, NULL);
    EXPECT_MSG("");
    CHECK(memcmp(&got, &dflt, sizeof(got)) == 0);
    CHECK_U(got.narenas, ==, 0);
    CHECK(got.tcache);
    CHECK_I(got.dirty_decay_ms, ==, 10000);
    CHECK(strcmp(got.thp, "default") == 0);
    CHECK(strcmp(got.prof_prefix, "jeprof") == 0);
    boot(NULL, "");
    EXPECT_MSG("");
    CHECK(memcmp(&got, &dflt, sizeof(got)) == 0);

    /* Accepted forms. */
    boot(NULL, "narenas:3,tcache:false,thp:never,prof_prefix:/tmp/a:b,dirty_decay_ms:-1,"
               "lg_prof_sample:70,tcache_max:0,stats_print_opts:Jmb,junk:free");
    EXPECT_MSG("");
    CHECK_U(got.narenas, ==, 3);
    CHECK(!got.tcache);
    CHECK(strcmp(got.thp, "never") == 0);
    CHECK(strcmp(got.prof_prefix, "/tmp/a:b") == 0);
    CHECK_I(got.dirty_decay_ms, ==, -1);
    CHECK_U(got.lg_prof_sample, ==, 63); /* a size above its maximum is clipped */
    CHECK_U(got.tcache_max, ==, 0);
    CHECK(strcmp(got.stats_print_opts, "Jmb") == 0);
    CHECK(strcmp(got.junk, "free") == 0);
    boot(NULL, "narenas:0x10,max_background_threads:010,muzzy_decay_ms:18446744073000");
    EXPECT_MSG("");
    CHECK_U(got.narenas, ==, 16);
    CHECK_U(got.max_background_threads, ==, 8);
    CHECK_I(got.muzzy_decay_ms, ==, 18446744073000LL); /* the longest: its ns fit in 64 bits */
    boot(NULL, "prof:true,prof_prefix:"); /* an empty string value */
    EXPECT_MSG("");
    CHECK(got.prof);
    CHECK(strcmp(got.prof_prefix, "") == 0);
    boot(NULL, "prof_leak_error:true"); /* implies prof_leak, which implies prof */
    CHECK(got.prof_leak && got.prof);

    /* Grammar errors (printed by both passes). */
    BAD("narenas", P "Conf string ends with key\n" P "Conf string ends with key\n", narenas);
    BAD("narenas=3", P "Malformed conf string\n" P "Malformed conf string\n", narenas);
    BAD("narenas 3", P "Malformed conf string\n" P "Malformed conf string\n", narenas);
    BAD("-narenas:3", P "Malformed conf string\n" P "Malformed conf string\n", narenas);
    /* A trailing comma: the pair before it still applies. */
    boot(NULL, "narenas:3,");
    EXPECT_MSG(P "Conf string ends with comma\n" P "Conf string ends with comma\n");
    CHECK_U(got.narenas, ==, 3);
    /* A grammar error stops the source: pairs after it are not read. */
    boot(NULL, "narenas:3,bad key,tcache:false");
    EXPECT_MSG(P "Malformed conf string\n" P "Malformed conf string\n");
    CHECK_U(got.narenas, ==, 3);
    CHECK(got.tcache);

    /* Unknown keys and bad values (printed once, with the pair). */
    BAD("nosuch:1", P "Invalid conf pair: nosuch:1\n", narenas);
    BAD(":3", P "Invalid conf pair: :3\n", narenas);
    BAD("Narenas:3", P "Invalid conf pair: Narenas:3\n", narenas);
    BAD("narenas:abc", P "Invalid conf value: narenas:abc\n", narenas);
    BAD("narenas:", P "Invalid conf value: narenas:\n", narenas);
    BAD("narenas:-1", P "Invalid conf value: narenas:-1\n", narenas);
    BAD("narenas:3x", P "Invalid conf value: narenas:3x\n", narenas);
    BAD("narenas:99999999999999999999999", P "Invalid conf value: narenas:99999999999999999999999\n",
        narenas);
    BAD("narenas:0", P "Out-of-range conf value: narenas:0\n", narenas);
    /* the recent ring's size above its limit: reduced to it, said */
    boot(NULL, "prof_recent_alloc_max:3000000");
    EXPECT_MSG(P "prof_recent_alloc_max reduced to the ring's limit (1048576)\n");
    CHECK_I(got.prof_recent_alloc_max, ==, 1048576);
    /* narenas above the limit is reduced to it, as jemalloc does */
    boot(NULL, "narenas:2049");
    EXPECT_MSG(P "Reducing narenas to limit (2048)\n");
    CHECK_U(got.narenas, ==, 2048);
    BAD("tcache:yes", P "Invalid conf value: tcache:yes\n", tcache);
    BAD("tcache:TRUE", P "Invalid conf value: tcache:TRUE\n", tcache);
    BAD("tcache:1", P "Invalid conf value: tcache:1\n", tcache);
    BAD("tcache_max:-5", P "Invalid conf value: tcache_max:-5\n", tcache_max);
    BAD("dirty_decay_ms:-2", P "Out-of-range conf value: dirty_decay_ms:-2\n", dirty_decay_ms);
    BAD("dirty_decay_ms:4611686018427387904",
        P "Out-of-range conf value: dirty_decay_ms:4611686018427387904\n", dirty_decay_ms);
    /* Beyond 2^64 ns: the schedule would wrap around to a few ms. */
    BAD("dirty_decay_ms:18446744073710",
        P "Out-of-range conf value: dirty_decay_ms:18446744073710\n", dirty_decay_ms);
    BAD("muzzy_decay_ms:18446744073001",
        P "Out-of-range conf value: muzzy_decay_ms:18446744073001\n", muzzy_decay_ms);
    BAD("dirty_decay_ms:ten", P "Invalid conf value: dirty_decay_ms:ten\n", dirty_decay_ms);
    BAD("lg_prof_interval:-2", P "Out-of-range conf value: lg_prof_interval:-2\n", lg_prof_interval);
    BAD("thp:sometimes", P "Invalid conf value: thp:sometimes\n", thp);
    BAD("thp:", P "Invalid conf value: thp:\n", thp);
    BAD("thp:neverr", P "Invalid conf value: thp:neverr\n", thp);
    BAD("thp:neve", P "Invalid conf value: thp:neve\n", thp);
    /* Leading blanks and a sign, then digits, as jemalloc's strtoumax
     * takes them; a '-' is a sign, never wrapped: strtoumax alone would
     * read " -1" as the largest size (issue 17, fuzz_conf). */
    BAD("lg_prof_sample: -1", P "Invalid conf value: lg_prof_sample: -1\n", lg_prof_sample);
    BAD("narenas:+-3", P "Invalid conf value: narenas:+-3\n", narenas);
    BAD("narenas:- 3", P "Invalid conf value: narenas:- 3\n", narenas);
    BAD("narenas:3 ", P "Invalid conf value: narenas:3 \n", narenas);
    boot(NULL, "tcache_max: 5,narenas:+3,dirty_decay_ms:\t-1");
    EXPECT_MSG("");
    CHECK_U(got.tcache_max, ==, 5);
    CHECK_U(got.narenas, ==, 3);
    CHECK_I(got.dirty_decay_ms, ==, -1);
    BAD("dirty_decay_ms:-", P "Invalid conf value: dirty_decay_ms:-\n", dirty_decay_ms);
    /* Control bytes and backslashes of a value are shown as \xHH: a value
     * cannot end a message line early or send terminal escapes. */
    BAD("thp:a\nb\x1b[31m\\", P "Invalid conf value: thp:a\\x0ab\\x1b[31m\\x5c\n", thp);
    /* A bad pair does not stop the source: the next pair applies. */
    boot(NULL, "narenas:abc,tcache:false");
    EXPECT_MSG(P "Invalid conf value: narenas:abc\n");
    CHECK_U(got.narenas, ==, 0);
    CHECK(!got.tcache);

    /* Sources in order: the global, then the environment (key by key). */
    boot("narenas:3,tcache:false", "narenas:5");
    EXPECT_MSG("");
    CHECK_U(got.narenas, ==, 5);
    CHECK(!got.tcache);
    boot("narenas:3", NULL);
    CHECK_U(got.narenas, ==, 3);
    boot("narenas=3", "tcache:false"); /* an error in one source, the next still read */
    EXPECT_MSG(P "Malformed conf string\n" P "Malformed conf string\n");
    CHECK_U(got.narenas, ==, 0);
    CHECK(!got.tcache);
    boot("nosuch:1", "narenas:abc");
    EXPECT_MSG(P "Invalid conf pair: nosuch:1\n" P "Invalid conf value: narenas:abc\n");

    /* confirm_conf (from any source) echoes the five sources and each pair set. */
    boot("narenas:2", "confirm_conf:true,narenas:7,nosuch:1");
    EXPECT_MSG(P "malloc_conf #1 (string specified via --with-malloc-conf): \"\"\n"
               P "malloc_conf #2 (string pointed to by the global variable malloc_conf): \"narenas:2\"\n"
               P "-- Set conf value: narenas:2\n"
               P "malloc_conf #3 (\"name\" of the file referenced by the symbolic link named "
                 "/etc/malloc.conf): \"\"\n"
               P "malloc_conf #4 (value of the environment variable MALLOC_CONF): "
                 "\"confirm_conf:true,narenas:7,nosuch:1\"\n"
               P "-- Set conf value: confirm_conf:true\n"
               P "-- Set conf value: narenas:7\n"
               P "Invalid conf pair: nosuch:1\n"
               P "malloc_conf #5 (string pointed to by the global variable "
                 "malloc_conf_2_conf_harder): \"\"\n");
    CHECK(got.confirm_conf);
    CHECK_U(got.narenas, ==, 7);

    /* A long source is echoed up to 1024 bytes (escaped: at most 4 KiB on
     * the line), then cut with its length; its pairs still apply. */
    {
        static char env[3100];
        size_t n = (size_t)snprintf(env, sizeof(env), "confirm_conf:true,narenas:5,lg_tcache_max:");
        memset(env + n, '9', 3000 - n); /* a 2-thousand-digit value: out of range */
        env[3000] = 0;
        boot(NULL, env);
        const char *echo = strstr(cap, "malloc_conf #4");
        CHECK(echo != NULL);
        const char *eol = strchr(echo, '\n');
        CHECK(eol != NULL);
        CHECK_MSG(eol - echo < 1200, "echo line of %zd bytes", (ssize_t)(eol - echo));
        static const char cut[] = "9999... (3000 bytes, cut)\"\n";
        CHECK_MSG(strstr(echo, cut) == eol - (sizeof(cut) - 2), "no cut marker: %.60s",
                  eol - 40);
        CHECK_U(got.narenas, ==, 5);
    }

    /* abort_conf. */
    CHECK_I(child_signal("abort_conf:true,narenas:abc"), ==, SIGABRT);
    CHECK_I(child_signal("abort_conf:true,narenas"), ==, SIGABRT);
    CHECK_I(child_signal("abort_conf:true,experimental_x:1"), ==, 0);
    CHECK_I(child_signal("abort_conf:false,narenas:abc"), ==, 0);
    boot(NULL, "abort_conf:false,experimental_x:1");
    EXPECT_MSG(P "Invalid conf pair: experimental_x:1\n");

    /* The live options were restored after every case. */
    CHECK(memcmp(&opt, &saved, sizeof(opt)) == 0);
    unsetenv("MALLOC_CONF");
    printf("ok\n");
    return 0;
}
