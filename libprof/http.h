/*
 * http: the opt-in profile server (MALLOC_CONF=prof_http:ADDR:PORT), so that
 * `go tool pprof http://127.0.0.1:6060/debug/pprof/heap` and fleet
 * profilers that scrape Go-style endpoints (Parca, Grafana Alloy) can pull
 * the heap of a running C, C++ or Rust process that never calls mallctl.
 *
 * ADDR is a numeric IPv4 address, a bracketed IPv6 address ([::1]),
 * `localhost` (127.0.0.1; no name lookup happens inside the allocator) or
 * empty (":6060": every IPv4 interface). Only loopback addresses are bound
 * unless prof_http_remote:true, which warns. Nothing listens when
 * prof:false (a warning says so). A bad address or a failed bind is a
 * warning, fatal only under abort:true.
 *
 * One thread of ours (named "prof_http", every signal blocked, its own
 * allocations never sampled) serves one connection at a time, with bounded
 * work per request: the request line and headers must arrive within 5 s
 * (else 408 and close: a slow client holds the server at most that long),
 * at most 8 KiB of them (http_req.h has the statuses), and the answer must
 * be taken within 10 s. Every answer has Connection: close. A profile is
 * built into memory under the dump lock (as prof.dump builds a file) and
 * sent after the lock is released, so a slow reader never delays dumps,
 * other mallctls or fork. The server thread is started from the library
 * constructor (prof_boot_late), never inside malloc_init.
 *
 * fork: the child has no server thread; the listening socket (and a
 * connection being served) are closed in the child at once, so a child
 * that outlives its parent does not hold the port with nobody answering,
 * and the parent keeps serving alone. Sockets are also close-on-exec. A
 * program that execs itself with the same MALLOC_CONF while the parent
 * lives gets a bind warning in the child (the port is taken).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <sys/socket.h>

/* Start serving if opt.prof_http is set (see above); from prof_boot_late. */
void http_boot(void);
/* In the child after fork: close the inherited sockets (async-signal-safe). */
void http_postfork_child(void);
/* Parse "ADDR:PORT" (forms above) into *ss and *len; *loopback tells whether
 * ADDR is a loopback address. 0 or EINVAL. */
int http_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, bool *loopback);

#endif
