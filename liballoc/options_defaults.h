/*
 * options_defaults: the brace-enclosed initializer of a struct options with
 * every option at its default from options.def. The one source of the
 * defaults for the allocator's own opt (conf.c) and for the tests that
 * compare against them (tests/unit/conf.c, tests/fuzz/fuzz_conf.c):
 *   struct options opt =
 *   #include "options_defaults.h"
 *   ;
 * No include guard: it is an expression, included where it is used.
 */
{
#define OPT_BOOL(n, d, doc) .n = d,
#define OPT_UNSIGNED(n, d, lo, hi, doc) .n = d,
#define OPT_SIZE(n, d, lo, hi, doc) .n = d,
#define OPT_SSIZE(n, d, lo, hi, doc) .n = d,
#define OPT_STRING(n, d, doc) .n = d,
#define OPT_CHOICE(n, d, choices, doc) .n = d,
#include "options.def"
}
