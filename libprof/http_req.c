/*
 * http_req: limits and routing around libhttp-parser (see http_req.h).
 */
#include "http_req.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static void decide(struct http_req *r, int status, const char *why)
{
    r->status = status;
    r->why = why;
    r->done = true;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct http_req *r = p->data;
    if (len > sizeof(r->url) - r->url_len) {
        r->url_too_long = true;
        return 1; /* stops the parser: 414 */
    }
    memcpy(r->url + r->url_len, at, len);
    r->url_len += len;
    return 0;
}

static void route(struct http_req *r);
static bool feed_check(struct http_req *r);

/* True if p[0..n) is a port: 1 to 5 digits. */
static bool port_ok(const char *p, size_t n)
{
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* True if h[0..n) is 127.d.d.d: four dot-separated decimal parts of 1 to 3
 * digits. */
static bool loopback_v4(const char *h, size_t n)
{
    if (n < 7 || memcmp(h, "127.", 4) != 0)
        return false;
    unsigned parts = 2, digits = 0; /* "127" and the part being read */
    for (size_t i = 4; i < n; i++) {
        if (h[i] == '.') {
            if (digits == 0)
                return false;
            parts++;
            digits = 0;
        } else if (h[i] >= '0' && h[i] <= '9' && digits < 3) {
            digits++;
        } else {
            return false;
        }
    }
    return parts == 4 && digits > 0;
}

/* True if h[0..n) (a Host value, an Origin's part after "scheme://", or an
 * absolute request target's authority) names a loopback address:
 * localhost, 127.x.x.x, [::1] or [::ffff:127.x.x.x], with an optional
 * ":port" of digits. Trailing blanks are ignored. */
static bool loopback_host(const char *h, size_t n)
{
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    size_t name;
    bool ok;
    if (n && h[0] == '[') {
        const char *end = memchr(h, ']', n);
        if (!end)
            return false;
        name = (size_t)(end - h) + 1;
        ok = (name == 5 && memcmp(h, "[::1]", 5) == 0) ||
             (name > 9 && strncasecmp(h, "[::ffff:", 8) == 0 && loopback_v4(h + 8, name - 9));
    } else {
        const char *colon = memchr(h, ':', n);
        name = colon ? (size_t)(colon - h) : n;
        size_t bare = name && h[name - 1] == '.' ? name - 1 : name; /* "localhost." */
        ok = (bare == 9 && strncasecmp(h, "localhost", 9) == 0) || loopback_v4(h, name);
    }
    if (!ok)
        return false;
    return name == n || (h[name] == ':' && port_ok(h + name + 1, n - name - 1));
}

/* The end of a Host or Origin value: on a loopback server, refuse one that
 * is not loopback (an Origin's host follows "scheme://"; "null" has none). */
static void header_done(struct http_req *r)
{
    if (r->hdr == 1)
        r->has_host = true;
    if (r->hdr && r->loopback_only) {
        const char *h = r->value;
        size_t n = r->value_len;
        if (r->hdr == 2) {
            const char *sep = memmem(h, n, "://", 3);
            n = sep ? n - (size_t)(sep + 3 - h) : 0;
            h = sep ? sep + 3 : h;
        }
        if (!loopback_host(h, n))
            r->bad_host = true;
    }
    r->hdr = 0;
    r->value_len = 0;
}

static const char not_loopback[] = "Host or Origin is not a loopback address: this server "
                                   "answers only clients of this machine that name it so\n";

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_req *r = p->data;
    if (r->in_value) { /* a new header begins */
        header_done(r);
        r->in_value = false;
        r->field_len = 0;
    }
    if (r->field_len < sizeof(r->field)) {
        size_t room = sizeof(r->field) - r->field_len;
        memcpy(r->field + r->field_len, at, len < room ? len : room);
    }
    r->field_len += len; /* may pass sizeof(field): then not a name we read */
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_req *r = p->data;
    if (!r->in_value) {
        r->in_value = true;
        r->hdr = 0;
        if (r->field_len == 4 && strncasecmp(r->field, "host", 4) == 0)
            r->hdr = 1;
        else if (r->field_len == 6 && strncasecmp(r->field, "origin", 6) == 0)
            r->hdr = 2;
    }
    if (r->hdr && r->loopback_only) {
        if (len > sizeof(r->value) - r->value_len)
            r->bad_host = true; /* no loopback name is that long */
        else {
            memcpy(r->value + r->value_len, at, len);
            r->value_len += len;
        }
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct http_req *r = p->data;
    r->headers_done = true;
    if (r->in_value)
        header_done(r);
    /* RFC 7230 5.4: an HTTP/1.1 request without Host is a bad request. */
    if (p->http_major == 1 && p->http_minor >= 1 && !r->has_host) {
        decide(r, 400, "an HTTP/1.1 request needs a Host header\n");
        http_parser_pause(p, 1);
        return 0;
    }
    if (r->loopback_only && r->bad_host) {
        decide(r, 403, not_loopback);
        http_parser_pause(p, 1);
        return 0;
    }
    route(r);
    if (r->done) {
        http_parser_pause(p, 1); /* the body is never read */
        return 0;
    }
    /* A symbol-service POST: its body is the question. */
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_REQ_BODY_MAX) {
        decide(r, 413, "symbol request body too large\n");
        http_parser_pause(p, 1);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_req *r = p->data;
    if (len > sizeof(r->body) - r->body_len) {
        decide(r, 413, "symbol request body too large\n");
        http_parser_pause(p, 1);
        return 0;
    }
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_req *r = p->data;
    if (!r->done)
        decide(r, 200, NULL);
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_req_init(struct http_req *r, bool loopback_only)
{
    memset(r, 0, sizeof(*r));
    r->loopback_only = loopback_only;
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
    r->route = HTTP_ROUTE_NONE;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out (at most cap - 1 bytes, NUL-terminated);
 * plus_space: '+' means ' ' (query strings). False on a bad escape, a NUL
 * byte or an output longer than cap - 1. */
static bool pct_decode(const char *s, size_t n, bool plus_space, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (plus_space && c == '+') {
            c = ' ';
        }
        if (c == 0 || k + 1 >= cap)
            return false;
        out[k++] = c;
    }
    out[k] = 0;
    return true;
}

/* Strict non-negative decimal (at most 9 digits); -1 otherwise. */
static long parse_small_int(const char *s)
{
    long v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Check the query parameters Go's pprof handlers give a meaning to. */
static void check_query(struct http_req *r, const char *q, size_t n)
{
    size_t i = 0;
    while (i < n && !r->done) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        size_t eq = i;
        while (eq < j && q[eq] != '=')
            eq++;
        char key[64], val[64];
        bool key_ok = pct_decode(q + i, eq - i, true, key, sizeof(key));
        bool val_ok = eq < j ? pct_decode(q + eq + 1, j - eq - 1, true, val, sizeof(val))
                             : (val[0] = 0, true);
        if (key_ok && strcmp(key, "seconds") == 0) {
            decide(r, 400,
                   "delta profiles (seconds=N) are not supported: pull the profile twice and "
                   "compare with go tool pprof -diff_base=old new\n");
        } else if (key_ok && strcmp(key, "debug") == 0) {
            long d = val_ok ? parse_small_int(val) : -1;
            if (d < 0)
                decide(r, 400, "debug must be a non-negative integer\n");
            else if (d > 0)
                decide(r, 400,
                       "only debug=0 (the binary pprof profile) is served; Go's debug=N text "
                       "forms are not\n");
        }
        /* gc=... and anything else: accepted and ignored. */
        i = j + 1;
    }
}

static void route(struct http_req *r)
{
    http_parser *p = &r->parser;
    if (p->http_major != 1) {
        decide(r, 505, "only HTTP/1.0 and HTTP/1.1 are served\n");
        return;
    }
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (r->url_len == 0 || http_parser_parse_url(r->url, r->url_len, 0, &u) != 0 ||
        !(u.field_set & (1 << UF_PATH))) {
        decide(r, 400, "malformed request target\n");
        return;
    }
    /* An absolute target ("GET http://host/..."): its host stands for Host
     * (RFC 7230 5.4), so it is held to the same rule. */
    if (r->loopback_only && (u.field_set & (1 << UF_HOST))) {
        size_t lo = u.field_data[UF_HOST].off, hi = lo + u.field_data[UF_HOST].len;
        if (u.field_set & (1 << UF_PORT))
            hi = u.field_data[UF_PORT].off + u.field_data[UF_PORT].len;
        /* (an IPv6 host's brackets are outside UF_HOST) */
        if (lo > 0 && r->url[lo - 1] == '[')
            lo--;
        if ((u.field_set & (1 << UF_USERINFO)) || !loopback_host(r->url + lo, hi - lo)) {
            decide(r, 403, not_loopback);
            return;
        }
    }
    char path[256];
    if (!pct_decode(r->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len, false, path,
                    sizeof(path))) {
        /* Too long to be one of ours, or a bad escape. */
        size_t len = u.field_data[UF_PATH].len;
        decide(r, len >= sizeof(path) ? 404 : 400,
               len >= sizeof(path) ? "unknown path: see /debug/pprof/\n" : "malformed path\n");
        return;
    }
    enum http_route rt = HTTP_ROUTE_NONE;
    if (strcmp(path, "/debug/pprof/") == 0 || strcmp(path, "/debug/pprof") == 0)
        rt = HTTP_ROUTE_INDEX;
    else if (strcmp(path, "/debug/pprof/heap") == 0)
        rt = HTTP_ROUTE_HEAP;
    else if (strcmp(path, "/debug/pprof/allocs") == 0)
        rt = HTTP_ROUTE_ALLOCS;
    else if (strcmp(path, "/debug/pprof/symbol") == 0)
        rt = HTTP_ROUTE_SYMBOL;
    if (rt == HTTP_ROUTE_NONE) {
        decide(r, 404, "unknown path: see /debug/pprof/\n");
        return;
    }
    if (p->method != HTTP_GET && p->method != HTTP_HEAD &&
        !(rt == HTTP_ROUTE_SYMBOL && p->method == HTTP_POST)) {
        r->allow = rt == HTTP_ROUTE_SYMBOL ? "GET, HEAD, POST" : "GET, HEAD";
        decide(r, 405,
               rt == HTTP_ROUTE_SYMBOL ? "only GET, HEAD and POST are served\n"
                                       : "only GET and HEAD are served\n");
        return;
    }
    r->head = p->method == HTTP_HEAD;
    if (rt == HTTP_ROUTE_SYMBOL && p->method == HTTP_POST) {
        r->route = rt;
        r->want_body = true; /* decided at the end of the body */
        return;
    }
    if ((rt == HTTP_ROUTE_HEAP || rt == HTTP_ROUTE_ALLOCS) && (u.field_set & (1 << UF_QUERY))) {
        check_query(r, r->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
        if (r->done)
            return;
    }
    r->route = rt;
    decide(r, 200, NULL);
}

bool http_req_feed(struct http_req *r, const char *p, size_t n)
{
    while (!r->done && n > 0) {
        /* Never parse past the header budget, then the body budget. */
        size_t budget =
            r->headers_done ? HTTP_REQ_HEAD_MAX + HTTP_REQ_BODY_MAX + 64 : HTTP_REQ_HEAD_MAX;
        size_t room = budget > r->nread ? budget - r->nread : 0;
        if (room == 0) {
            feed_check(r);
            break;
        }
        size_t take = n < room ? n : room;
        size_t used = http_parser_execute(&r->parser, &settings, p, take);
        r->nread += used;
        p += used;
        n -= used;
        if (!feed_check(r) || used < take)
            break;
    }
    return r->done;
}

/* After a step of the parser: decide on errors and limits; false when the
 * request is decided or the parser cannot go on. */
static bool feed_check(struct http_req *r)
{
    if (r->done)
        return false;
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    if (r->url_too_long) {
        decide(r, 414, "request target too long\n");
    } else if (e != HPE_OK) {
        decide(r, 400, "malformed request\n");
    } else if (r->parser.http_major == 0 && r->parser.http_minor == 9) {
        /* http_parser takes a request line without a version for HTTP/0.9
         * and would wait for headers that such a client never sends. */
        decide(r, 505, "HTTP/0.9 is not served\n");
    } else if (!r->headers_done && r->nread >= HTTP_REQ_HEAD_MAX) {
        decide(r, 431, "request line and headers too large\n");
    } else if (r->headers_done && r->nread >= HTTP_REQ_HEAD_MAX + HTTP_REQ_BODY_MAX + 64) {
        decide(r, 413, "symbol request body too large\n");
    }
    return !r->done;
}

void http_req_end(struct http_req *r, bool timed_out)
{
    if (r->done)
        return;
    if (timed_out)
        decide(r, 408, "request not complete in time\n");
    else
        decide(r, 400, "connection closed before the request was complete\n");
}

const char *http_req_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}
