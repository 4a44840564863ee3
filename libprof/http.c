/*
 * http: the profile server thread (see http.h): listen, one connection at a
 * time under deadlines, http_req to decide, dump_pprof to build the body.
 */
#include "dynload.h"
#include "http.h"
#include "http_req.h"
#include "options.h"
#include "prof.h"
#include "prof_hooks.h"
#include "bss_large.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HTTP_RECV_MS   5000 /* the whole request line and headers */
#define HTTP_SEND_MS   5000 /* the whole answer (the loop waits for it) */
#define HTTP_LINGER_MS 500  /* draining unread input before close (no RST over the answer) */
#define HTTP_BACKLOG   64
#define HTTP_SLOTS     16 /* connections read at once (the oldest is dropped beyond) */

static _Atomic int listen_fd = -1; /* the listening socket, -1 none */
static bool listen_loopback;        /* it is a loopback address: Host and Origin are checked */

static void warn_fmt(const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, a, b);
    prof_host_warn(msg);
}

/* ---- address ---- */

int http_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, bool *loopback)
{
    memset(ss, 0, sizeof(*ss));
    const char *colon = strrchr(s, ':');
    if (!colon)
        return EINVAL;
    /* Port: 1..65535, decimal. */
    const char *ps = colon + 1;
    size_t pn = strlen(ps);
    if (pn == 0 || pn > 5)
        return EINVAL;
    unsigned port = 0;
    for (size_t i = 0; i < pn; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return EINVAL;
        port = port * 10 + (unsigned)(ps[i] - '0');
    }
    if (port == 0 || port > 65535)
        return EINVAL;
    char host[64];
    size_t hn = (size_t)(colon - s);
    if (hn >= sizeof(host))
        return EINVAL;
    memcpy(host, s, hn);
    host[hn] = 0;
    if (hn >= 2 && host[0] == '[' && host[hn - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        host[hn - 1] = 0;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return EINVAL;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a6);
        const struct in6_addr *x = &a6->sin6_addr;
        *loopback = IN6_IS_ADDR_LOOPBACK(x) || (IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof(*a4);
    if (hn == 0) {
        a4->sin_addr.s_addr = htonl(INADDR_ANY); /* Go's ":6060" */
    } else if (strcmp(host, "localhost") == 0) {
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
        return EINVAL;
    }
    *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    return 0;
}

/* ---- time ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: >0 ready, 0 timed out, <0 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0 && (p.revents & POLLNVAL))
            return -1;
        return r;
    }
}

/* ---- answering ---- */

/* All of p[0..n) before the deadline; false if the peer is gone or too slow. */
static bool send_all(int fd, const void *p, size_t n, int64_t deadline)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k > 0) {
            c += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline) <= 0)
                return false;
            continue;
        }
        return false;
    }
    return true;
}

/* Status line and headers; content_length < 0: none (HEAD of a profile). */
static bool send_head(int fd, int status, const char *ctype, const char *extra,
                      long long content_length, int64_t deadline)
{
    char h[768], cl[48] = "";
    if (content_length >= 0)
        snprintf(cl, sizeof(cl), "Content-Length: %lld\r\n", content_length);
    int n = snprintf(h, sizeof(h),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nX-Content-Type-Options: nosniff\r\n"
                     "%s%sConnection: close\r\n\r\n",
                     status, http_req_reason(status), ctype, extra ? extra : "", cl);
    return n > 0 && (size_t)n < sizeof(h) && send_all(fd, h, (size_t)n, deadline);
}

static void send_text(int fd, int status, const char *extra, const char *body, bool head,
                      int64_t deadline)
{
    size_t n = strlen(body);
    if (send_head(fd, status, "text/plain; charset=utf-8", extra, (long long)n, deadline) && !head)
        send_all(fd, body, n, deadline);
}

static void send_index(int fd, bool head, int64_t deadline)
{
    char body[1536];
    int n = snprintf(
        body, sizeof(body),
        "<html><head><title>/debug/pprof/</title></head><body>\n"
        "<p>/debug/pprof/ of a process profiled by liballoc (1 sample per ~%llu bytes "
        "allocated)</p>\n"
        "<table>\n"
        "<tr><td><a href=\"heap?debug=0\">heap</a></td><td>live sampled memory, gzip'd pprof "
        "(go tool pprof http://HOST/debug/pprof/heap)</td></tr>\n"
        "<tr><td><a href=\"allocs?debug=0\">allocs</a></td><td>every sampled allocation since "
        "start%s</td></tr>\n"
        "</table>\n</body></html>\n",
        (unsigned long long)1 << prof.lg_sample,
        opt.prof_accum ? "" : " (not available: needs MALLOC_CONF prof_accum:true)");
    if (n < 0 || (size_t)n >= sizeof(body))
        n = 0;
    if (send_head(fd, 200, "text/html; charset=utf-8", NULL, n, deadline) && !head)
        send_all(fd, body, (size_t)n, deadline);
}

static void send_profile(int fd, enum http_route rt, bool head, int64_t deadline)
{
    const char *name = rt == HTTP_ROUTE_ALLOCS ? "allocs" : "heap";
    if (rt == HTTP_ROUTE_ALLOCS && !opt.prof_accum) {
        /* No cumulative counts are kept: the resource does not exist in this
         * configuration (Go answers 404 for a profile it does not have). */
        send_text(fd, 404, NULL,
                  "the allocs profile needs cumulative counts: start the process with "
                  "MALLOC_CONF=prof_accum:true (the heap profile is at /debug/pprof/heap)\n",
                  head, deadline);
        return;
    }
    /* zlib and libprotobuf-c could not be loaded at start (dynload.h): no
     * profile can be built, for HEAD either; stderr named which. */
    if (dynload_pprof_ready() != 0) {
        send_text(fd, 503, NULL,
                  "the pprof writer cannot run: zlib or libprotobuf-c could not be loaded "
                  "(the process's stderr names which and why)\n",
                  head, deadline);
        return;
    }
    char disp[96];
    snprintf(disp, sizeof(disp), "Content-Disposition: attachment; filename=\"%s\"\r\n", name);
    if (head) {
        send_head(fd, 200, "application/octet-stream", disp, -1, deadline);
        return;
    }
    struct pprof_buf b;
    if (prof_pprof_to_buf(&b, rt == HTTP_ROUTE_ALLOCS ? "alloc_space" : NULL) != 0) {
        send_text(fd, 500, NULL, "out of memory while building the profile\n", false, deadline);
        return;
    }
    /* The deadline for sending starts once the profile is ready. */
    deadline = now_ms() + HTTP_SEND_MS;
    if (send_head(fd, 200, "application/octet-stream", disp, (long long)b.len, deadline))
        send_all(fd, b.p, b.len, deadline);
    prof_pprof_buf_free(&b);
}

/* Go's symbol service: GET says symbols are available; POST names addresses. */
static void send_symbols(int fd, const struct http_req *r, int64_t deadline)
{
    if (!r->want_body) {
        send_text(fd, 200, NULL, "num_symbols: 1\n", r->head, deadline);
        return;
    }
    struct pprof_buf b;
    if (prof_symbolize(r->body, r->body_len, &b) != 0) {
        send_text(fd, 500, NULL, "out of memory while naming addresses\n", false, deadline);
        return;
    }
    if (send_head(fd, 200, "text/plain; charset=utf-8", NULL, (long long)b.len, deadline))
        send_all(fd, b.p, b.len, deadline);
    prof_pprof_buf_free(&b);
}

/* ---- connections ---- */

enum { SLOT_FREE, SLOT_READING, SLOT_DRAINING };

/* One connection: reading its request (under its deadline), or draining
 * what the peer still sends after the answer (so that closing does not
 * reset the connection over the answer). */
struct slot {
    int state;           /* SLOT_* */
    int64_t started;     /* accept time (ms): the oldest is evicted when full */
    int64_t deadline;    /* end of the current state (ms) */
    size_t got;          /* bytes received */
    struct http_req req; /* its request */
};

static struct slot slots[HTTP_SLOTS] BSS_LARGE; /* zeroed: all SLOT_FREE (in .bss) */
/* Their sockets, -1 when free (apart: the child after fork closes them). */
static _Atomic int slot_fds[HTTP_SLOTS] = {[0 ... HTTP_SLOTS - 1] = -1};

static _Atomic int *slot_fd(struct slot *sl)
{
    return &slot_fds[sl - slots];
}

static void slot_close(struct slot *sl)
{
    int fd = atomic_exchange(slot_fd(sl), -1);
    if (fd >= 0)
        close(fd);
    sl->state = SLOT_FREE;
}

/* The request is decided: answer it (blocking, under the send deadline),
 * then drain. */
static void slot_answer(struct slot *sl)
{
    int fd = atomic_load(slot_fd(sl));
    struct http_req *r = &sl->req;
    int64_t send_deadline = now_ms() + HTTP_SEND_MS;
    char allow[64] = "";
    if (r->status == 405 && r->allow)
        snprintf(allow, sizeof(allow), "Allow: %s\r\n", r->allow);
    if (r->status != 200)
        send_text(fd, r->status, allow[0] ? allow : NULL, r->why, r->head, send_deadline);
    else if (r->route == HTTP_ROUTE_SYMBOL)
        send_symbols(fd, r, send_deadline);
    else if (r->route == HTTP_ROUTE_INDEX)
        send_index(fd, r->head, send_deadline);
    else
        send_profile(fd, r->route, r->head, send_deadline);
    shutdown(fd, SHUT_WR);
    sl->state = SLOT_DRAINING;
    sl->deadline = now_ms() + HTTP_LINGER_MS;
    sl->got = 0;
}

static void slot_readable(struct slot *sl)
{
    char buf[4096];
    int fd = atomic_load(slot_fd(sl));
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (sl->state == SLOT_DRAINING) {
        if (n <= 0 || (sl->got += (size_t)n) > 65536)
            slot_close(sl);
        return;
    }
    if (n < 0 || (n == 0 && sl->got == 0)) {
        slot_close(sl); /* reset, or connected and left: nobody to answer */
        return;
    }
    if (n == 0)
        http_req_end(&sl->req, false);
    else {
        sl->got += (size_t)n;
        http_req_feed(&sl->req, buf, (size_t)n);
    }
    if (sl->req.done)
        slot_answer(sl);
}

static void slot_timeout(struct slot *sl)
{
    if (sl->state == SLOT_DRAINING) {
        slot_close(sl);
        return;
    }
    http_req_end(&sl->req, true); /* 408 */
    slot_answer(sl);
}

/* A slot for a new connection: a free one, else the oldest (its client
 * has had the longest; it is closed without an answer). */
static struct slot *slot_take(void)
{
    struct slot *oldest = &slots[0];
    for (int i = 0; i < HTTP_SLOTS; i++) {
        if (slots[i].state == SLOT_FREE)
            return &slots[i];
        if (slots[i].started < oldest->started)
            oldest = &slots[i];
    }
    slot_close(oldest);
    return oldest;
}

/* ---- the thread ---- */

static void *http_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "prof_http");
    /* The server's own allocations (libc's) are not the program's. */
    struct heap *h = prof_host_heap(true);
    struct prof_tdata *td = h ? *prof_host_slot(h) : NULL;
    if (td) {
        td->in_prof = true;
        td->active = false;
    }
    for (;;) {
        int lfd = atomic_load(&listen_fd);
        if (lfd < 0)
            return NULL;
        struct pollfd pf[1 + HTTP_SLOTS];
        struct slot *of[1 + HTTP_SLOTS];
        int n = 1;
        pf[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        int64_t next = INT64_MAX;
        for (int i = 0; i < HTTP_SLOTS; i++) {
            if (slots[i].state == SLOT_FREE)
                continue;
            pf[n] = (struct pollfd){.fd = atomic_load(&slot_fds[i]), .events = POLLIN};
            of[n++] = &slots[i];
            if (slots[i].deadline < next)
                next = slots[i].deadline;
        }
        int64_t now = now_ms();
        int timeout = next == INT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
        int r = poll(pf, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        now = now_ms();
        for (int k = 1; k < n && r >= 0; k++) {
            if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
                slot_readable(of[k]);
            else if (pf[k].revents & POLLNVAL)
                of[k]->state = SLOT_FREE, atomic_store(slot_fd(of[k]), -1);
            else if (of[k]->state != SLOT_FREE && now >= of[k]->deadline)
                slot_timeout(of[k]);
        }
        if (r > 0 && (pf[0].revents & POLLNVAL)) {
            /* The program closed our socket (a close-all-descriptors loop). */
            prof_host_warn(
                "<jemalloc>: prof_http: listening socket closed; profile server stopped\n");
            atomic_store(&listen_fd, -1);
            return NULL;
        }
        if (r <= 0 || !(pf[0].revents & POLLIN))
            continue;
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0 && (errno == EBADF || errno == ENOTSOCK || errno == EINVAL)) {
            prof_host_warn(
                "<jemalloc>: prof_http: listening socket lost; profile server stopped\n");
            atomic_store(&listen_fd, -1);
            return NULL;
        }
        if (c < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                struct timespec ts = {0, 100 * 1000 * 1000}; /* no busy loop while out of fds */
                nanosleep(&ts, NULL);
            }
            continue;
        }
        struct slot *sl = slot_take();
        http_req_init(&sl->req, listen_loopback);
        sl->state = SLOT_READING;
        sl->started = now;
        sl->deadline = now + HTTP_RECV_MS;
        sl->got = 0;
        atomic_store(slot_fd(sl), c);
    }
}

void http_boot(void)
{
    if (!opt.prof_http[0])
        return;
    if (!opt.prof) {
        prof_host_warn("<jemalloc>: prof_http is set w/o prof: the profile server is off\n");
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    bool loopback;
    if (http_parse_addr(opt.prof_http, &ss, &len, &loopback) != 0) {
        warn_fmt("<jemalloc>: prof_http: invalid address \"%.200s\"%s (want 127.0.0.1:PORT, "
                 "[::1]:PORT or localhost:PORT)\n",
                 opt.prof_http, "");
        return;
    }
    if (!loopback && !opt.prof_http_remote) {
        warn_fmt("<jemalloc>: prof_http: refusing non-loopback address \"%.200s\"%s; set "
                 "prof_http_remote:true to allow it\n",
                 opt.prof_http, "");
        return;
    }
    if (!loopback)
        warn_fmt(
            "<jemalloc>: prof_http: serving heap profiles on non-loopback address \"%.200s\"%s "
            "(prof_http_remote:true): anyone who can reach it can read them\n",
            opt.prof_http, "");
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, HTTP_BACKLOG) != 0) {
        char eb[128];
        const char *es = strerror_r(errno, eb, sizeof(eb));
        if (fd >= 0)
            close(fd);
        warn_fmt("<jemalloc>: prof_http: cannot listen on \"%.200s\": %s\n", opt.prof_http, es);
        return;
    }
    listen_loopback = loopback;
    atomic_store(&listen_fd, fd);
    /* Every signal blocked in the server thread: process signals (the
     * program's, the dump signal) go to the program's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int err = pthread_create(&t, &at, http_main, NULL);
    pthread_attr_destroy(&at);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        atomic_store(&listen_fd, -1);
        close(fd);
        warn_fmt("<jemalloc>: prof_http: cannot start the server thread for \"%.200s\"%s\n",
                 opt.prof_http, "");
    }
}

void http_postfork_child(void)
{
    for (int i = 0; i < HTTP_SLOTS; i++) {
        int c = atomic_exchange(&slot_fds[i], -1);
        if (c >= 0)
            close(c);
    }
    int l = atomic_exchange(&listen_fd, -1);
    if (l >= 0)
        close(l);
}
