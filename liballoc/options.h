/*
 * options: the parsed MALLOC_CONF values (generated from options.def) and
 * the configuration reader: jemalloc's sources in jemalloc's order, its
 * grammar and its messages.
 */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OPT_STRING_MAX 4097

/* free_list_protect's default (options.def): on only in builds made with
 * FREE_LIST_PROTECT=1, the same switch as config.h's config_free_list_protect. */
#ifdef ALLOC_FREE_LIST_PROTECT
#define OPT_FREE_LIST_PROTECT_DEFAULT true
#else
#define OPT_FREE_LIST_PROTECT_DEFAULT false
#endif

/* The scalar options first, then the 4 KiB strings: setting the defaults at
 * boot (conf.c) writes the first page, and a string page only when its
 * default is not empty or a configuration sets it. */
struct options {
#define OPT_BOOL(n, d, doc) bool n;
#define OPT_UNSIGNED(n, d, lo, hi, doc) unsigned n;
#define OPT_SIZE(n, d, lo, hi, doc) size_t n;
#define OPT_SSIZE(n, d, lo, hi, doc) ssize_t n;
#define OPT_STRING(n, d, doc)
#define OPT_CHOICE(n, d, choices, doc) const char *n;
#include "options.def"
#define OPT_BOOL(n, d, doc)
#define OPT_UNSIGNED(n, d, lo, hi, doc)
#define OPT_SIZE(n, d, lo, hi, doc)
#define OPT_SSIZE(n, d, lo, hi, doc)
#define OPT_STRING(n, d, doc) char n[OPT_STRING_MAX];
#define OPT_CHOICE(n, d, choices, doc)
#include "options.def"
};

/* Hidden as config.h's HIDDEN says (spelt out: this header stands alone,
 * tests/apps/layering.sh): fast paths read it PC-relative. */
extern struct options opt __attribute__((visibility("hidden")));

/* Read every configuration source; prints messages, may abort (abort_conf). */
void options_boot(void);

/* The signal number a value such as prof_dump_signal's names ("USR2",
 * "SIGUSR2", "12", "RTMIN+1"): >0, 0 for an empty value (off), -1 when it is
 * not a signal a process can take for a dump (KILL, STOP, fault signals,
 * glibc's reserved ones). Async-signal-safe, never allocates. */
int options_signal_parse(const char *v, size_t vlen);
/* The sources, in jemalloc's order: --with-malloc-conf (always NULL here),
 * the malloc_conf global, the /etc/malloc.conf symlink's target name, the
 * MALLOC_CONF variable, malloc_conf_2_conf_harder (NULL). */
#define OPTIONS_NSOURCES 5

/* The most automatic arenas (options.def's narenas maximum); a larger
 * narenas is reduced to it, as jemalloc reduces one above its limit. */
#define OPTIONS_NARENAS_MAX 2048
/* The most entries of the recent-allocation ring (prof_recent_alloc_max;
 * -1 means this many): 2^20. */
#define OPTIONS_RECENT_CAP_N 1048576
#define OPTIONS_RECENT_CAP ((size_t)OPTIONS_RECENT_CAP_N)
#define OPTIONS_XSTR(x) #x
#define OPTIONS_STR(x) OPTIONS_XSTR(x)
enum { CONF_SRC_BUILD, CONF_SRC_GLOBAL, CONF_SRC_SYMLINK, CONF_SRC_ENV, CONF_SRC_GLOBAL2 };
/* The parser options_boot runs on the strings it read (NULL = absent):
 * applies them to opt in order, prints jemalloc's messages (bytes outside
 * printable ASCII as \xHH), aborts under abort_conf:true after an error.
 * Not thread-safe; for boot and for tests/fuzz/fuzz_conf.c. */
void options_parse(const char *const src[OPTIONS_NSOURCES]);

#endif
