/*
 * leaky: a small service-like program with three kinds of memory holders,
 * to try the profiler on. It keeps a growing cache of session strings
 * (a slow leak), a table of large buffers (intended retention) and a
 * churn loop that frees everything it allocates (should show ~nothing).
 *
 *   MALLOC_CONF=prof:true,prof_final:true,prof_prefix:heap,lg_prof_sample:14 \
 *     LD_PRELOAD=build/liballoc.so build/examples/leaky
 *   build/jeprof-c --text --show_bytes build/examples/leaky heap.*.f.heap
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
    char *token;
    struct session *next;
};

static struct session *sessions;

/* Slow leak: sessions are never expired. */
__attribute__((noinline)) static void open_session(unsigned id)
{
    struct session *s = malloc(sizeof(*s));
    s->token = malloc(200);
    snprintf(s->token, 200, "session-%08u", id);
    s->next = sessions;
    sessions = s;
}

/* Retained on purpose: a block cache of 256 KiB buffers. */
__attribute__((noinline)) static void **fill_block_cache(unsigned n)
{
    void **cache = calloc(n, sizeof(void *));
    for (unsigned i = 0; i < n; i++) {
        cache[i] = malloc(256 << 10);
        memset(cache[i], (int)i, 256 << 10);
    }
    return cache;
}

/* Where churn's buffers are published: a malloc/free pair whose pointer never
 * escapes may be removed by the compiler (gcc -O2 does), and churn would then
 * allocate nothing at all. */
static char *volatile churn_sink;

/* Short-lived work: everything allocated here is freed. */
__attribute__((noinline)) static unsigned long churn(unsigned rounds)
{
    unsigned long sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        char *buf = malloc(64 + r % 4000);
        churn_sink = buf;
        buf[0] = (char)r;
        sum += (unsigned char)buf[0];
        free(buf);
    }
    return sum;
}

int main(void)
{
    void **cache = fill_block_cache(64); /* 16 MiB retained */
    unsigned long sum = 0;
    for (unsigned i = 0; i < 40000; i++) { /* ~8 MiB leaked */
        open_session(i);
        if (i % 100 == 0)
            sum += churn(1000);
    }
    printf("sessions: %s ... cache[0][0]=%d, churn checksum %lu\n", sessions->token,
           ((char *)cache[63])[0], sum);
    return 0;
}
