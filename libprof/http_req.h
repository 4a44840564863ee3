/*
 * http_req: one HTTP/1.x request of the profile server (http.c), from raw
 * bytes to a route or an error status. Pure: no sockets, no allocation, no
 * global state but a constant settings table, so it can be fuzzed alone
 * (tests/fuzz/fuzz_http.c). The byte-level grammar is Debian's
 * libhttp-parser (nodejs http_parser 2.9, caller-owned struct, no
 * allocation), linked statically into liballoc; this module adds the limits
 * and the routing of Go's net/http/pprof paths:
 *   /debug/pprof, /debug/pprof/   index (text/html)
 *   /debug/pprof/heap             in-use heap profile (gzip'd pprof)
 *   /debug/pprof/allocs           the same profile, alloc_space by default
 *   /debug/pprof/symbol           Go's symbol service, which go tool pprof
 *                                 asks about addresses a profile left
 *                                 unnamed: GET/HEAD, or POST with a body of
 *                                 '+'-separated addresses (HTTP_REQ_BODY_MAX
 *                                 bytes at most, else 413)
 * Query parameters: gc=<anything> is accepted and ignored (there is no
 * garbage collector to run), debug=0 is the binary form; debug=N>0 (Go's
 * legacy text forms) and seconds=N (Go's delta profiles) answer 400 with
 * an explanation; other parameters are ignored, as Go's handlers do.
 * Limits: request target over HTTP_REQ_URL_MAX bytes 414, request line and
 * headers over HTTP_REQ_HEAD_MAX bytes 431, anything http_parser rejects
 * 400, HTTP/0.9 or a major version other than 1 505, a known path with a
 * method other than GET or HEAD (or POST for the symbol service) 405, an
 * unknown path 404. Other bodies are never read: the answer goes out once
 * the headers are complete.
 * An HTTP/1.1 request without Host is 400 (RFC 7230 5.4). A server bound
 * to a loopback address (http_req_init's loopback_only) answers 403 to a
 * request whose Host, or absolute target's host, is not a loopback name or
 * address (localhost, 127.x.x.x, [::1], [::ffff:127.x.x.x], with or
 * without a numeric port; an HTTP/1.0 request without Host is served), or
 * which carries an Origin other than such a host ("null" included): a web page whose name was made to
 * resolve to 127.0.0.1 (DNS rebinding) sends its own name as Host, and a
 * page posting a form to 127.0.0.1 sends its Origin, so neither can read a
 * profile or make the process build one for it.
 * Thread-safety: a struct http_req belongs to one thread at a time.
 */
#ifndef HTTP_REQ_H
#define HTTP_REQ_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_REQ_URL_MAX  2048  /* bytes of request target kept (414 beyond) */
#define HTTP_REQ_HEAD_MAX 8192  /* bytes of request line + headers (431 beyond) */
#define HTTP_REQ_BODY_MAX 16384 /* bytes of a symbol-service POST body (413 beyond) */

enum http_route {
    HTTP_ROUTE_NONE,   /* an error status instead */
    HTTP_ROUTE_INDEX,  /* /debug/pprof/ */
    HTTP_ROUTE_HEAP,   /* /debug/pprof/heap */
    HTTP_ROUTE_ALLOCS, /* /debug/pprof/allocs */
    HTTP_ROUTE_SYMBOL, /* /debug/pprof/symbol */
};

struct http_req {
    http_parser parser;           /* libhttp-parser state; parser.data points here */
    char url[HTTP_REQ_URL_MAX];   /* request target as received (not NUL-terminated) */
    size_t url_len;               /* bytes in url */
    size_t nread;                 /* bytes fed before the end of the headers */
    bool url_too_long;            /* the target went past HTTP_REQ_URL_MAX */
    bool headers_done;            /* the blank line after the headers was seen */
    bool done;                    /* status and route are final */
    bool head;                    /* method HEAD: answer without a body */
    bool want_body;               /* a POST to the symbol service: read its body */
    char body[HTTP_REQ_BODY_MAX]; /* that body (not NUL-terminated) */
    size_t body_len;              /* bytes in body */
    int status;                   /* 200, or the 4xx/5xx status to answer */
    enum http_route route;        /* what to serve when status is 200 */
    const char *why;              /* explanation for an error status (static text) */
    const char *allow;            /* with 405: the methods the path takes ("GET, HEAD") */
    bool loopback_only;           /* Host and Origin must name a loopback address */
    unsigned char hdr;            /* header being read: 0 other, 1 Host, 2 Origin */
    bool in_value;                /* the parser is in a header's value */
    char field[8];                /* that header's name so far (longer: not one we read) */
    size_t field_len;
    bool bad_host;                /* a Host or Origin not a loopback one (403) */
    bool has_host;                /* a Host header was read (HTTP/1.1 needs one: 400) */
    char value[256];              /* the current Host or Origin value */
    size_t value_len;
};

/* Ready r for a new request; loopback_only: the server listens on a
 * loopback address (see above). */
void http_req_init(struct http_req *r, bool loopback_only);
/* Feed n received bytes; true once the request is decided (r->done: then
 * r->status, r->route, r->head, r->why and the body are final and more
 * bytes are ignored). */
bool http_req_feed(struct http_req *r, const char *p, size_t n);
/* The peer stopped sending (EOF) or the deadline passed before the request
 * was complete: decides it as 400 (eof) or 408. No-op once done. */
void http_req_end(struct http_req *r, bool timed_out);
/* The reason phrase of a status this module produces ("OK", "Not Found"...). */
const char *http_req_reason(int status);

#endif
