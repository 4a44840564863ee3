/* libFuzzer target for the MALLOC_CONF grammar (liballoc/conf.c), from all
 * three sources: the input is cut at 0xff bytes into up to three strings,
 * given to options_parse as the program's malloc_conf global, the name the
 * /etc/malloc.conf symlink points to (at most 4095 bytes, as readlink gives
 * it) and the MALLOC_CONF variable; the first byte's low bits say which of
 * the three are present. Each string is its own exact-size heap copy, so a
 * read past its end shows under ASan. Invariants checked after each run:
 *  - every option holds a value in its declared range (options.def): bool 0
 *    or 1, numbers within [min, max], a choice one of its words, a string
 *    terminated within OPT_STRING_MAX;
 *  - an option whose name appears nowhere in the input keeps its default
 *    (prof and prof_leak aside: prof_leak and prof_leak_error imply them);
 *  - every message line starts with "<jemalloc>: ", holds printable ASCII
 *    only and ends with a newline;
 *  - abort() (abort_conf:true) happens only after an error message.
 * This target defines abort() itself: inside the parser it jumps back here.
 *   make fuzz && build/fuzz/fuzz_conf -max_total_time=600 build/fuzz/corpus-conf \
 *       tests/fuzz/corpus/conf
 */
#include "options.h"
#include "warn.h"

#include <setjmp.h>
#include <signal.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct options dflt =
#include "options_defaults.h"
    ;

static jmp_buf abort_jmp;
static int in_parse, nerrors;
static char line[8192];
static size_t linelen;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_conf: invariant broken: %s: %s\n", what, detail);
    in_parse = 0; /* the real abort, even from inside the parser */
    abort();
}

/* This target's abort(): conf.c calls it under abort_conf:true; inside
 * options_parse it jumps back to the harness, elsewhere it is the real one. */
void abort(void)
{
    if (!in_parse) {
        /* First to libFuzzer's handler, which saves the input as a crash
         * file; then the default action. */
        raise(SIGABRT);
        signal(SIGABRT, SIG_DFL);
        raise(SIGABRT);
        _exit(134);
    }
    longjmp(abort_jmp, 1);
}

/* Messages arrive in pieces; check each line when its newline comes. */
void alloc_write_err(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n') {
            line[linelen] = 0;
            if (linelen < 12 || memcmp(line, "<jemalloc>: ", 12) != 0)
                die("message without the <jemalloc>: prefix", line);
            if (strstr(line, "Invalid conf") || strstr(line, "Out-of-range") ||
                strstr(line, "Malformed") || strstr(line, "Conf string ends"))
                nerrors++;
            linelen = 0;
            continue;
        }
        if (c < 0x20 || c >= 0x7f)
            die("control or non-ASCII byte in a message", line);
        if (linelen + 1 >= sizeof(line))
            die("message line longer than 8 KiB", "");
        line[linelen++] = (char)c;
    }
}

void warn_print(const char *msg)
{
    alloc_write_err(msg);
}

/* Does name appear in the input as a key (followed by ':')? Conservative:
 * any occurrence counts. */
static int named(const uint8_t *data, size_t size, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + n < size; i++)
        if (memcmp(data + i, name, n) == 0 && data[i + n] == ':')
            return 1;
    return 0;
}

static int choice_in(const char *v, const char *choices)
{
    size_t n = strlen(v);
    const char *p = choices;
    if (n == 0)
        return 0;
    while (*p) {
        size_t k = strcspn(p, "|");
        if (k == n && memcmp(p, v, n) == 0)
            return 1;
        p += k + (p[k] == '|');
    }
    return 0;
}

static void check_options(const uint8_t *data, size_t size, int parsed)
{
    char d[64];
    /* Unnamed: the default, untouched (a default may be a sentinel outside
     * the range, e.g. max_background_threads, resolved later at boot).
     * Named: whatever the parser kept must lie in the declared range. */
#define UNNAMED_SAME(n, same)                                                                      \
    if (!named(data, size, #n) && !(same))                                                         \
        die("option changed without being named", #n);
#define OPT_BOOL(n, d_, doc)                                                                       \
    if (*(const unsigned char *)&opt.n > 1)                                                        \
        die("bool not 0/1", #n);                                                                   \
    if (strcmp(#n, "prof") && strcmp(#n, "prof_leak") && strcmp(#n, "prof_gdump"))                 \
        UNNAMED_SAME(n, opt.n == dflt.n)
#define OPT_UNSIGNED(n, d_, lo, hi, doc)                                                           \
    UNNAMED_SAME(n, opt.n == dflt.n)                                                               \
    else if (opt.n != dflt.n && ((uintmax_t)opt.n < (uintmax_t)(lo) || (uintmax_t)opt.n > (uintmax_t)(hi))) { \
        snprintf(d, sizeof(d), "%s=%u", #n, opt.n);                                                \
        die("unsigned out of range", d);                                                           \
    }
#define OPT_SIZE(n, d_, lo, hi, doc)                                                               \
    UNNAMED_SAME(n, opt.n == dflt.n)                                                               \
    else if (opt.n != dflt.n && ((uintmax_t)opt.n < (uintmax_t)(lo) || (uintmax_t)opt.n > (uintmax_t)(hi))) { \
        snprintf(d, sizeof(d), "%s=%zu", #n, opt.n);                                               \
        die("size out of range", d);                                                               \
    }
#define OPT_SSIZE(n, d_, lo, hi, doc)                                                              \
    UNNAMED_SAME(n, opt.n == dflt.n)                                                               \
    else if (opt.n != dflt.n && ((intmax_t)opt.n < (intmax_t)(lo) || (intmax_t)opt.n > (intmax_t)(hi))) { \
        snprintf(d, sizeof(d), "%s=%zd", #n, opt.n);                                               \
        die("signed out of range", d);                                                             \
    }
#define OPT_STRING(n, d_, doc)                                                                     \
    if (memchr(opt.n, 0, OPT_STRING_MAX) == NULL)                                                  \
        die("string not terminated", #n);                                                          \
    UNNAMED_SAME(n, strcmp(opt.n, dflt.n) == 0)
#define OPT_CHOICE(n, d_, choices, doc)                                                            \
    if (!opt.n || !choice_in(opt.n, choices))                                                      \
        die("choice not one of its words", #n);                                                    \
    UNNAMED_SAME(n, strcmp(opt.n, dflt.n) == 0)
#include "options.def"
    /* The implications options_parse applies once every source is read
     * (after an abort_conf abort the process is gone: nothing to check). */
    if (!parsed)
        return;
    if (opt.prof_leak_error && !opt.prof_leak)
        die("prof_leak_error without prof_leak", "");
    if (opt.prof_leak && !opt.prof)
        die("prof_leak without prof", "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int slot[3] = {CONF_SRC_GLOBAL, CONF_SRC_SYMLINK, CONF_SRC_ENV};
    const char *src[OPTIONS_NSOURCES] = {NULL};
    char *copy[3] = {NULL, NULL, NULL};
    if (size == 0)
        return 0;
    unsigned present = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    for (int i = 0; i < 3; i++) {
        const uint8_t *e = memchr(p, 0xff, (size_t)(end - p));
        size_t n = (size_t)((e ? e : end) - p);
        if (i == 1 && n > 4095)
            n = 4095; /* readlink's buffer */
        if (present & (1u << i)) {
            /* Exact-size copy; a NUL inside ends the string, as in C. */
            copy[i] = malloc(n + 1);
            memcpy(copy[i], p, n);
            copy[i][n] = 0;
            src[slot[i]] = copy[i];
        }
        p = e ? e + 1 : end;
    }
    opt = dflt;
    linelen = 0;
    nerrors = 0;
    in_parse = 1;
    volatile int parsed = 0;
    if (setjmp(abort_jmp) == 0) {
        options_parse(src);
        in_parse = 0;
        parsed = 1;
    } else {
        in_parse = 0;
        if (!opt.abort_conf || nerrors == 0)
            die("abort without abort_conf:true and an error", "");
    }
    if (linelen != 0) {
        line[linelen] = 0;
        die("message not ended by a newline", line);
    }
    check_options(data + 1, size - 1, parsed);
    for (int i = 0; i < 3; i++)
        free(copy[i]);
    return 0;
}
