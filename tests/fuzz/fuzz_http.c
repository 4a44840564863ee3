/* libFuzzer target for the profile server's request parser
 * (libprof/http_req.c over libhttp-parser).
 *   make fuzz && build/fuzz/fuzz_http -max_total_time=600 build/fuzz/corpus-http
 * tests/fuzz/corpus/http The input's first byte chooses where to cut the rest into two chunks (the
 * socket may deliver a request in any pieces). Checked: every request is
 * decided (after the end-of-input call), with a status the server knows and
 * an explanation for every error; 200 only with a route; the kept target and
 * body stay within their buffers; and cutting never turns a served request
 * into an error or changes what is served. */
#include "http_req.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
    if (!ok)
        abort();
}

static void run(struct http_req *r, const uint8_t *d, size_t n, size_t cut, bool loopback)
{
    http_req_init(r, loopback); /* Host and Origin checked or not */
    if (cut > n)
        cut = n;
    if (!http_req_feed(r, (const char *)d, cut))
        http_req_feed(r, (const char *)d + cut, n - cut);
    http_req_end(r, (n & 1) != 0);
    check(r->done);
    switch (r->status) {
    case 200:
        check(r->route != HTTP_ROUTE_NONE && r->why == NULL);
        break;
    case 400:
    case 403:
    case 404:
    case 405:
    case 408:
    case 413:
    case 414:
    case 431:
    case 505:
        check(r->why != NULL && r->why[0] != 0);
        break;
    default:
        check(0);
    }
    check(strcmp(http_req_reason(r->status), "Error") != 0);
    check((r->status == 405) == (r->allow != NULL));
    check(r->url_len <= sizeof(r->url));
    check(r->body_len <= sizeof(r->body));
    check(r->value_len <= sizeof(r->value));
    check(r->status != 403 || loopback);
    check(!r->want_body || r->route == HTTP_ROUTE_SYMBOL);
    /* Read every kept byte (ASan sees an overrun). */
    volatile unsigned sum = 0;
    for (size_t i = 0; i < r->url_len; i++)
        sum += (unsigned char)r->url[i];
    for (size_t i = 0; i < r->body_len; i++)
        sum += (unsigned char)r->body[i];
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_req whole, cut;
    if (size < 1)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    bool loopback = (data[0] & 1) != 0;
    run(&whole, d, n, n, loopback);
    run(&cut, d, n, n ? (size_t)data[0] * n / 255 : 0, loopback);
    if (whole.status == 200 || cut.status == 200) {
        check(whole.status == cut.status && whole.route == cut.route && whole.head == cut.head);
        check(whole.body_len == cut.body_len && memcmp(whole.body, cut.body, whole.body_len) == 0);
    }
    return 0;
}
