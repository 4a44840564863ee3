/* leak: a slow leak among churn. Each iteration, churn_parse() allocates
 * and frees a burst of small blocks (most of the allocated bytes), and
 * leak_session() allocates 256 bytes that are never freed (a lost session
 * record). The profiler's answer to "what leaks" must be leak_session.
 * Usage: leak [scale]; 40000 * scale iterations. */
#include "ht_common.h"

struct session {
    struct session *next; /* unreachable once the iteration ends: a leak */
    char data[248];
};

__attribute__((noinline)) void leak_session(unsigned i)
{
    struct session *s = malloc(sizeof(*s));
    ht_touch(s, sizeof(*s));
    s->data[0] = (char)i;
}

__attribute__((noinline)) void churn_parse(unsigned i)
{
    void *tmp[16];
    for (int k = 0; k < 16; k++) {
        size_t n = 32 + ((i * 7 + (unsigned)k * 13) % 480);
        tmp[k] = malloc(n);
        ht_touch(tmp[k], n);
    }
    for (int k = 0; k < 16; k++)
        free(tmp[k]);
}

int main(int argc, char **argv)
{
    unsigned iters = (unsigned)(40000 * ht_scale(argc, argv));
    for (unsigned i = 0; i < iters; i++) {
        churn_parse(i);
        leak_session(i);
    }
    return 0;
}
