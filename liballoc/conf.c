/*
 * conf: reads MALLOC_CONF-style settings from jemalloc's sources, in its
 * order (later overrides earlier): the malloc_conf global, the target of the
 * /etc/malloc.conf symlink, the MALLOC_CONF environment variable. Grammar
 * "key:value,key:value"; messages use jemalloc's wording and prefix so
 * scripts that look for them keep working. Nothing here allocates.
 */
#include "options.h"
#include "config.h"
#include "warn.h"
#include "bss_large.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Zero-initialised (.bss) and given its defaults by options_defaults_set at
 * boot: a static initializer would put the whole struct, 16 KiB of it the
 * string options' buffers, in .data, file pages every process maps. */
struct options opt BSS_LARGE;

/* opt = the defaults of options.def, writing no string buffer whose default
 * is empty (opt starts zeroed and this runs once, at boot). */
static void options_defaults_set(void)
{
#define OPT_BOOL(n, d, doc) opt.n = d;
#define OPT_UNSIGNED(n, d, lo, hi, doc) opt.n = d;
#define OPT_SIZE(n, d, lo, hi, doc) opt.n = d;
#define OPT_SSIZE(n, d, lo, hi, doc) opt.n = d;
#define OPT_STRING(n, d, doc)                                                                      \
    if (sizeof(d) > 1)                                                                             \
        memcpy(opt.n, d, sizeof(d));
#define OPT_CHOICE(n, d, choices, doc) opt.n = d;
#include "options.def"
}

ALLOC_EXPORT const char *malloc_conf __attribute__((weak));

static bool had_conf_error;

/* Append src[0..len) to buf (at *n, below cap) with every byte outside
 * printable ASCII written as \xHH: a value from the environment must not
 * put control characters (newlines, terminal escapes) into a message. */
static void conf_escape(char *buf, size_t *n, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (*n + 1 > cap)
                return;
            buf[(*n)++] = (char)c;
        } else {
            if (*n + 4 > cap)
                return;
            buf[(*n)++] = '\\';
            buf[(*n)++] = 'x';
            buf[(*n)++] = hex[c >> 4];
            buf[(*n)++] = hex[c & 15];
        }
    }
}

static void conf_msg(const char *msg, const char *k, size_t klen, const char *v, size_t vlen)
{
    char buf[512];
    size_t n = 0;
    const size_t cap = sizeof(buf) - 8;
    const char *pre = "<jemalloc>: ";
    for (const char *p = pre; *p && n < cap; p++)
        buf[n++] = *p;
    for (const char *p = msg; *p && n < cap; p++)
        buf[n++] = *p;
    if (k) {
        buf[n++] = ':';
        buf[n++] = ' ';
        conf_escape(buf, &n, cap, k, klen);
        buf[n++] = ':';
        conf_escape(buf, &n, cap, v, vlen);
    }
    buf[n++] = '\n';
    buf[n] = 0;
    alloc_write_err(buf);
}

/* A source string as confirm_conf echoes it, escaped as conf_msg does,
 * in pieces of a bounded buffer. At most CONF_ECHO_MAX bytes of it are
 * echoed (4 times that once escaped), so one message line stays bounded
 * however long the string; a longer one ends with "..." and its length. */
#define CONF_ECHO_MAX 1024
static void conf_write_escaped(const char *s)
{
    char buf[256];
    size_t total = strlen(s), left = total < CONF_ECHO_MAX ? total : CONF_ECHO_MAX;
    while (left > 0) {
        size_t n = 0, i = 0;
        while (i < left && n + 4 <= sizeof(buf) - 1) {
            conf_escape(buf, &n, sizeof(buf) - 1, s + i, 1);
            i++;
        }
        buf[n] = 0;
        alloc_write_err(buf);
        s += i;
        left -= i;
    }
    if (total > CONF_ECHO_MAX) {
        char num[24], *q = num + sizeof(num) - 1;
        *q = 0;
        do
            *--q = (char)('0' + total % 10);
        while ((total /= 10) > 0);
        alloc_write_err("... (");
        alloc_write_err(q);
        alloc_write_err(" bytes, cut)");
    }
}

/* Next key:value pair; false at the end or on a malformed string. */
static bool conf_next(const char **opts, const char **k, size_t *klen, const char **v, size_t *vlen)
{
    const char *p = *opts;
    *k = p;
    for (;;) {
        char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
            p++;
            continue;
        }
        if (c == ':') {
            *klen = (size_t)(p - *k);
            *v = ++p;
            while (*p && *p != ',')
                p++;
            *vlen = (size_t)(p - *v);
            if (*p == ',') {
                p++;
                if (*p == '\0') {
                    conf_msg("Conf string ends with comma", NULL, 0, NULL, 0);
                    had_conf_error = true;
                }
            }
            *opts = p;
            return true;
        }
        if (c == '\0') {
            if (p != *opts) {
                conf_msg("Conf string ends with key", NULL, 0, NULL, 0);
                had_conf_error = true;
            }
            return false;
        }
        conf_msg("Malformed conf string", NULL, 0, NULL, 0);
        had_conf_error = true;
        return false;
    }
}

static bool key_is(const char *k, size_t klen, const char *name)
{
    return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

static bool parse_bool(const char *v, size_t vlen, bool *out)
{
    if (vlen == 4 && memcmp(v, "true", 4) == 0)
        *out = true;
    else if (vlen == 5 && memcmp(v, "false", 5) == 0)
        *out = false;
    else
        return false;
    return true;
}

/* Parse a whole number (base 0: 0x hex, 0 octal, as jemalloc's parser);
 * *neg set for a leading '-'. Leading blanks and a '+' are taken, as
 * jemalloc's strtoumax takes them ("narenas: 4", "narenas:+4"); trailing
 * characters are not. A '-' is read as a sign, never wrapped: strtoumax
 * alone would read " -1" as the largest unsigned number. */
static bool parse_num(const char *v, size_t vlen, uintmax_t *out, bool *neg)
{
    char buf[64];
    while (vlen > 0 && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r' || *v == '\f' ||
                        *v == '\v')) {
        v++;
        vlen--;
    }
    *neg = vlen > 0 && v[0] == '-';
    if (vlen > 0 && (v[0] == '-' || v[0] == '+')) {
        v++;
        vlen--;
    }
    if (vlen == 0 || vlen >= sizeof(buf) || !(v[0] >= '0' && v[0] <= '9'))
        return false;
    memcpy(buf, v, vlen);
    buf[vlen] = 0;
    char *end;
    errno = 0;
    uintmax_t x = strtoumax(buf, &end, 0);
    if (errno != 0 || *end != '\0' || (*neg && x > (uintmax_t)INTMAX_MAX + 1))
        return false;
    *out = *neg ? (uintmax_t)0 - x : x;
    return true;
}

static bool choice_ok(const char *choices, const char *v, size_t vlen, const char **out)
{
    const char *p = choices;
    while (*p) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == vlen && memcmp(p, v, n) == 0) {
            /* Point at a static copy: the choices string literal itself is not terminated per word. */
            *out = p;
            return true;
        }
        p += n + (e ? 1 : 0);
    }
    return false;
}

/* Static, NUL-terminated words for choice options (choice_ok returns pointers into choices). */
static const char *choice_word(const char *p)
{
    static char words[32][24];
    static unsigned nwords;
    size_t n = strcspn(p, "|");
    for (unsigned i = 0; i < nwords; i++)
        if (strlen(words[i]) == n && memcmp(words[i], p, n) == 0)
            return words[i];
    if (nwords < 32 && n < sizeof(words[0])) {
        memcpy(words[nwords], p, n);
        words[nwords][n] = 0;
        return words[nwords++];
    }
    return "";
}

/*
 * A signal for an option such as prof_dump_signal: a name with or without
 * "SIG" ("USR2", "SIGUSR2", any case), "RTMIN+n" / "RTMAX-n", or a number.
 * Signals a handler cannot take (KILL, STOP), fault signals (SEGV, BUS,
 * FPE, ILL, TRAP, SYS, ABRT) and glibc's internal ones (32, 33) are refused.
 * Returns the number, 0 for an empty value (off), -1 for a bad value.
 * Async-signal-safe and allocation-free (sigabbrev_np returns static text).
 */
int options_signal_parse(const char *v, size_t vlen)
{
    char buf[32];
    if (vlen == 0)
        return 0;
    if (vlen >= sizeof(buf))
        return -1;
    for (size_t i = 0; i < vlen; i++)
        buf[i] = (v[i] >= 'a' && v[i] <= 'z') ? (char)(v[i] - 'a' + 'A') : v[i];
    buf[vlen] = 0;
    const char *s = buf;
    int sig = -1;
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (errno || *end || x <= 0 || x >= NSIG)
            return -1;
        sig = (int)x;
    } else {
        if (strncmp(s, "SIG", 3) == 0)
            s += 3;
        if (strncmp(s, "RTMIN", 5) == 0 || strncmp(s, "RTMAX", 5) == 0) {
            bool max = s[4] == 'X';
            long off = 0;
            if (s[5]) {
                char *end;
                if (s[5] != (max ? '-' : '+') || s[6] < '0' || s[6] > '9')
                    return -1;
                errno = 0;
                off = strtol(s + 6, &end, 10);
                if (errno || *end || off > SIGRTMAX - SIGRTMIN)
                    return -1;
            }
            sig = max ? SIGRTMAX - (int)off : SIGRTMIN + (int)off;
        } else {
            for (int i = 1; i < NSIG && sig < 0; i++) {
                const char *name = sigabbrev_np(i);
                if (name && strcmp(name, s) == 0)
                    sig = i;
            }
        }
    }
    /* USR1, USR2 and the real-time signals only: the others have a meaning
     * the handler would take away (TERM, INT and HUP stop a service, PIPE
     * and CHLD belong to the program, fault signals cannot be caught to any
     * use), and glibc keeps 32 and 33. */
    if (sig == SIGUSR1 || sig == SIGUSR2 || (sig >= SIGRTMIN && sig <= SIGRTMAX))
        return sig;
    return -1;
}

/* String options with a grammar of their own (the others are free text). */
static bool string_ok(const char *name, const char *v, size_t vlen)
{
    if (strcmp(name, "prof_dump_signal") == 0)
        return options_signal_parse(v, vlen) >= 0;
    return true;
}

/* Apply one pair; returns false (after printing) on an error. */
static bool conf_apply(const char *k, size_t klen, const char *v, size_t vlen)
{
    /* Initialised: an option type absent from options.def would otherwise
     * leave them read uninitialised below (UBSan, fuzz_conf). */
    uintmax_t num = 0;
    bool neg = false;
    (void)num;
    (void)neg;
    /* narenas above the limit: the limit, with jemalloc's message (it
     * takes that many arenas too, not the default). */
    if (key_is(k, klen, "narenas") && parse_num(v, vlen, &num, &neg) && !neg &&
        num > OPTIONS_NARENAS_MAX) {
        alloc_write_err("<jemalloc>: Reducing narenas to limit (" OPTIONS_STR(OPTIONS_NARENAS_MAX) ")\n");
        opt.narenas = OPTIONS_NARENAS_MAX;
        return true;
    }
#define OPT_BOOL(n, d, doc)                                                                        \
    if (key_is(k, klen, #n)) {                                                             \
        if (!parse_bool(v, vlen, &opt.n))                                                          \
            goto invalid;                                                                          \
        return true;                                                                               \
    }
#define OPT_UNSIGNED(n, d, lo, hi, doc)                                                            \
    if (key_is(k, klen, #n)) {                                                             \
        if (!parse_num(v, vlen, &num, &neg) || neg)                                                \
            goto invalid;                                                                          \
        if (num < (uintmax_t)(lo) || num > (uintmax_t)(hi))                                       \
            goto range;                                                                            \
        opt.n = (unsigned)num;                                                                     \
        return true;                                                                               \
    }
#define OPT_SIZE(n, d, lo, hi, doc)                                                                \
    if (key_is(k, klen, #n)) {                                                             \
        if (!parse_num(v, vlen, &num, &neg) || neg)                                                \
            goto invalid;                                                                          \
        if (num < (uintmax_t)(lo))                                                                 \
            goto range;                                                                            \
        opt.n = num > (uintmax_t)(hi) ? (size_t)(hi) : (size_t)num;                                \
        return true;                                                                               \
    }
#define OPT_SSIZE(n, d, lo, hi, doc)                                                               \
    if (key_is(k, klen, #n)) {                                                             \
        if (!parse_num(v, vlen, &num, &neg))                                                       \
            goto invalid;                                                                          \
        if ((!neg && num > (uintmax_t)(hi)) || (intmax_t)num < (intmax_t)(lo))                     \
            goto range;                                                                            \
        opt.n = (ssize_t)(intmax_t)num;                                                            \
        return true;                                                                               \
    }
#define OPT_STRING(n, d, doc)                                                                      \
    if (key_is(k, klen, #n)) {                                                             \
        if (!string_ok(#n, v, vlen))                                                               \
            goto invalid;                                                                          \
        size_t cut = vlen < OPT_STRING_MAX - 1 ? vlen : OPT_STRING_MAX - 1;                        \
        memcpy(opt.n, v, cut);                                                                     \
        opt.n[cut] = 0;                                                                            \
        return true;                                                                               \
    }
#define OPT_CHOICE(n, d, choices, doc)                                                             \
    if (key_is(k, klen, #n)) {                                                             \
        const char *w;                                                                             \
        if (!choice_ok(choices, v, vlen, &w))                                                      \
            goto invalid;                                                                          \
        opt.n = choice_word(w);                                                                    \
        return true;                                                                               \
    }
#include "options.def"
    conf_msg("Invalid conf pair", k, klen, v, vlen);
    return false;
invalid:
    conf_msg("Invalid conf value", k, klen, v, vlen);
    return false;
range:
    conf_msg("Out-of-range conf value", k, klen, v, vlen);
    return false;
}

#define NSOURCES OPTIONS_NSOURCES
static const char *const source_explain[NSOURCES] = {
    "string specified via --with-malloc-conf",
    "string pointed to by the global variable malloc_conf",
    "\"name\" of the file referenced by the symbolic link named /etc/malloc.conf",
    "value of the environment variable MALLOC_CONF",
    "string pointed to by the global variable malloc_conf_2_conf_harder",
};

void options_boot(void)
{
    static char linkbuf[4096] BSS_LARGE;
    const char *src[OPTIONS_NSOURCES] = {NULL, malloc_conf, NULL, NULL, NULL};
    options_defaults_set();
    ssize_t n = readlink("/etc/malloc.conf", linkbuf, sizeof(linkbuf) - 1);
    if (n > 0) {
        linkbuf[n] = 0;
        src[2] = linkbuf;
    }
    src[3] = secure_getenv("MALLOC_CONF");
    options_parse(src);
}

void options_parse(const char *const src[OPTIONS_NSOURCES])
{
    /* Pass 1 looks only for confirm_conf, as jemalloc does (so string errors print twice). */
    for (int i = 0; i < NSOURCES; i++) {
        const char *p = src[i], *k, *v;
        size_t klen, vlen;
        if (!p)
            continue;
        while (conf_next(&p, &k, &klen, &v, &vlen))
            if (key_is(k, klen, "confirm_conf"))
                parse_bool(v, vlen, &opt.confirm_conf);
    }
    had_conf_error = false;
    for (int i = 0; i < NSOURCES; i++) {
        const char *p = src[i], *k, *v;
        size_t klen, vlen;
        if (opt.confirm_conf) {
            char head[64] = "malloc_conf #";
            head[13] = (char)('1' + i);
            head[14] = 0;
            alloc_write_err("<jemalloc>: ");
            alloc_write_err(head);
            alloc_write_err(" (");
            alloc_write_err(source_explain[i]);
            alloc_write_err("): \"");
            conf_write_escaped(p ? p : "");
            alloc_write_err("\"\n");
        }
        if (!p)
            continue;
        while (conf_next(&p, &k, &klen, &v, &vlen)) {
            if (conf_apply(k, klen, v, vlen)) {
                if (opt.confirm_conf)
                    conf_msg("-- Set conf value", k, klen, v, vlen);
            } else if (!(klen >= 13 && memcmp(k, "experimental_", 13) == 0)) {
                had_conf_error = true;
            }
        }
        if (had_conf_error && opt.abort_conf) {
            alloc_write_err("<jemalloc>: Abort (abort_conf:true) on invalid conf value (see above).\n");
            abort();
        }
    }
    if (opt.prof_leak_error)
        opt.prof_leak = true;
    if (opt.prof_leak && !opt.prof) {
        opt.prof = true;
        opt.prof_gdump = false;
    }
    /* The recent ring holds at most OPTIONS_RECENT_CAP entries (a mapped
     * array): a larger size is reduced to it, said, and read back as such
     * (opt.prof_recent_alloc_max), never kept as a number it does not
     * honour. */
    if (opt.prof_recent_alloc_max > (ssize_t)OPTIONS_RECENT_CAP) {
        alloc_write_err("<jemalloc>: prof_recent_alloc_max reduced to the ring's limit ("
                        OPTIONS_STR(OPTIONS_RECENT_CAP_N) ")\n");
        opt.prof_recent_alloc_max = (ssize_t)OPTIONS_RECENT_CAP;
    }
}
