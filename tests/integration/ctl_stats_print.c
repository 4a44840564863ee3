/*
 * ctl_stats_print: malloc_stats_print's text report and its option letters,
 * as jemalloc 5.3 prints them (checked against Debian's libjemalloc):
 *   - the report is non-empty, its first line is
 *     "___ Begin jemalloc statistics ___" and its last
 *     "--- End jemalloc statistics ---"; it carries the version, the
 *     options, the "Allocated: N, active: ..." totals (N covers a 10 MiB
 *     block the test holds), a "Merged arenas stats:" section when two
 *     arenas are in use, an "arenas[i]:" section per arena, and bin tables;
 *   - each option letter removes its section and nothing else:
 *     g (general: version, build and run-time options), m (the merged
 *     arena statistics; the totals stay), a (the per-arena sections),
 *     b (the bin tables); "gmab" leaves the header, totals and footer;
 *   - write_cb NULL sends the report to malloc_message when it is set.
 * JSON output ("J") is parsed with a strict parser by
 * tests/apps/ctl_stats_print.sh.
 */
#include "check.h"

#include <pthread.h>

struct sbuf {
    char *buf;
    size_t len, cap;
    int calls, empty_calls;
};

static void collect(void *opaque, const char *s)
{
    struct sbuf *b = opaque;
    size_t n = strlen(s);
    if (n == 0)
        b->empty_calls++;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *nb = realloc(b->buf, cap);
        CHECK_NONNULL(nb);
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
    b->calls++;
}

static struct sbuf report(const char *opts)
{
    struct sbuf b = {0};
    malloc_stats_print(collect, &b, opts);
    CHECK_MSG(b.calls > 0 && b.len > 0, "malloc_stats_print(\"%s\") wrote nothing",
              opts ? opts : "NULL");
    return b;
}

/* Does some line of the report start with prefix? */
static int has_line(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (strncmp(l, prefix, n) == 0)
            return 1;
    return 0;
}

static void check_frame(const struct sbuf *b, const char *opts)
{
    const char *head = "___ Begin jemalloc statistics ___\n";
    const char *tail = "--- End jemalloc statistics ---\n";
    CHECK_MSG(strncmp(b->buf, head, strlen(head)) == 0,
              "malloc_stats_print(\"%s\") starts with \"%.40s\"", opts, b->buf);
    CHECK_MSG(b->len >= strlen(tail) && strcmp(b->buf + b->len - strlen(tail), tail) == 0,
              "malloc_stats_print(\"%s\") ends with \"%s\"", opts,
              b->buf + (b->len > 40 ? b->len - 40 : 0));
    CHECK_MSG(strstr(b->buf + 1, "___ Begin jemalloc statistics ___") == NULL,
              "malloc_stats_print(\"%s\"): more than one header", opts);
}

/* The "Allocated: N, active: A, ..." totals line. */
static size_t allocated_in(const char *text)
{
    const char *l = strstr(text, "\nAllocated: ");
    CHECK_MSG(l != NULL, "no \"Allocated: \" line in the report");
    size_t a = 0;
    CHECK(sscanf(l + 1, "Allocated: %zu, active: ", &a) == 1);
    return a;
}

struct section {
    char letter;
    const char *lines[3]; /* line prefixes that belong to the section */
};

/* 'm' (merged arena statistics) is checked on its own, last. */
static const struct section sections[] = {
    {'g', {"Version: \"", "Run-time option settings", "  opt.narenas: "}},
    {'a', {"arenas[0]:", "arenas[1]:", NULL}},
    {'b', {"bins:", NULL, NULL}},
};

static void *second_arena_thread(void *arg)
{
    unsigned one = 1;
    CHECK_I(mallctl("thread.arena", NULL, NULL, &one, sizeof(one)), ==, 0);
    void **out = arg;
    out[0] = malloc(5000);
    out[1] = malloc(300000);
    CHECK_NONNULL(out[0]);
    CHECK_NONNULL(out[1]);
    return NULL;
}

static struct sbuf via_message;
static void message_cb(void *opaque, const char *s)
{
    (void)opaque;
    collect(&via_message, s);
}

int main(void)
{
    tl_require_liballoc();
    /* Two arenas in use (0 and 1), and a 10 MiB block held. */
    const size_t held = 10 << 20;
    void *big = tl_opaque(malloc(held));
    CHECK_NONNULL(big);
    memset(big, 1, held);
    void *small = tl_opaque(malloc(100));
    CHECK_NONNULL(small);
    void *other[2];
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, second_arena_thread, other), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);

    struct sbuf full = report(NULL);
    check_frame(&full, "NULL");
    CHECK_EQ(full.empty_calls, 0);
    char ver[128];
    snprintf(ver, sizeof(ver), "Version: \"%s\"", JEMALLOC_VERSION);
    CHECK_MSG(has_line(full.buf, ver), "no line \"%s\"", ver);
    size_t a = allocated_in(full.buf);
    CHECK_MSG(a >= held, "report says Allocated: %zu while %zu bytes are held", a, held);
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        for (int k = 0; k < 3 && sections[i].lines[k]; k++)
            CHECK_MSG(has_line(full.buf, sections[i].lines[k]),
                      "default report lacks the '%c' section line \"%s\"", sections[i].letter,
                      sections[i].lines[k]);
    /* An empty option string is the default report. */
    struct sbuf empty = report("");
    check_frame(&empty, "");
    CHECK(has_line(empty.buf, "arenas[0]:") && has_line(empty.buf, "bins:"));
    free(empty.buf);

    /* Each letter removes its own section, and only that. */
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        char opts[2] = {sections[i].letter, 0};
        struct sbuf b = report(opts);
        check_frame(&b, opts);
        CHECK_MSG(has_line(b.buf, "Allocated: "),
                  "malloc_stats_print(\"%s\") dropped the \"Allocated: \" totals", opts);
        for (size_t j = 0; j < sizeof(sections) / sizeof(sections[0]); j++)
            for (int k = 0; k < 3 && sections[j].lines[k]; k++) {
                int present = has_line(b.buf, sections[j].lines[k]);
                if (i == j)
                    CHECK_MSG(!present, "malloc_stats_print(\"%s\") still prints \"%s\"", opts,
                              sections[j].lines[k]);
                else
                    CHECK_MSG(present, "malloc_stats_print(\"%s\") lost \"%s\" (section '%c')",
                              opts, sections[j].lines[k], sections[j].letter);
            }
        free(b.buf);
    }
    /* write_cb NULL: the report goes to malloc_message. */
    malloc_message = message_cb;
    malloc_stats_print(NULL, NULL, "gab");
    malloc_message = NULL;
    CHECK_MSG(via_message.len > 0, "malloc_stats_print(NULL, ...) did not use malloc_message");
    check_frame(&via_message, "gab via malloc_message");
    CHECK(has_line(via_message.buf, "Allocated: "));
    free(via_message.buf);

    /* 'm': with two arenas in use the default report has the merged
     * statistics; "m" removes them and keeps the totals line. */
    CHECK_MSG(has_line(full.buf, "Merged arenas stats:"),
              "default report with two arenas in use has no \"Merged arenas stats:\" section");
    struct sbuf m = report("m");
    check_frame(&m, "m");
    CHECK_MSG(!has_line(m.buf, "Merged arenas stats:"), "\"m\" still prints the merged stats");
    CHECK_MSG(has_line(m.buf, "Allocated: "),
              "malloc_stats_print(\"m\") dropped the \"Allocated: \" totals (jemalloc keeps them)");
    CHECK(has_line(m.buf, "arenas[0]:") && has_line(m.buf, "bins:") && has_line(m.buf, ver));
    free(m.buf);
    /* All four: header, totals, footer. */
    struct sbuf min = report("gmab");
    check_frame(&min, "gmab");
    CHECK(has_line(min.buf, "Allocated: "));
    CHECK(!has_line(min.buf, "Version: ") && !has_line(min.buf, "arenas[0]:") &&
          !has_line(min.buf, "bins:") && !has_line(min.buf, "Merged arenas stats:"));
    CHECK_U(min.len, <, full.len);
    free(min.buf);

    free(full.buf);
    free(other[0]);
    free(other[1]);
    free(small);
    free(big);
    printf("ctl_stats_print: ok\n");
    return 0;
}
