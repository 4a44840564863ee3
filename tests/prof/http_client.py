#!/usr/bin/env python3
"""Client side of tests/apps/prof_http.sh (raw sockets: the point is to send
what well-behaved clients never do).

  http_client.py freeport               print a free loopback TCP port
  http_client.py get PORT PATH [OUT]    one GET; prints "STATUS" and the
                                        headers (lowercased names), body to OUT
  http_client.py refused PORT           exit 0 if nothing accepts connections
  http_client.py hostile PORT           the hostile battery below; each case
                                        must be answered with its 4xx/5xx or
                                        closed in bounded time, and a good
                                        request must work right after it
"""
import random
import socket
import sys
import threading
import time

import os

HOST = os.environ.get("HTTP_TEST_HOST", "127.0.0.1")  # "::1" for the IPv6 case


def freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_all(s, limit_s):
    """Everything the server sends until it closes (or limit_s passes)."""
    s.settimeout(limit_s)
    data = b""
    end = time.monotonic() + limit_s
    try:
        while time.monotonic() < end:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def exchange(port, raw, limit_s=8.0, shut=False):
    """Send raw bytes, read the answer; (status or None, headers, body, seconds)."""
    t0 = time.monotonic()
    s = socket.create_connection((HOST, port), timeout=limit_s)
    try:
        if raw:
            s.sendall(raw)
        if shut:
            s.shutdown(socket.SHUT_WR)
        data = read_all(s, limit_s)
    except (BrokenPipeError, ConnectionResetError):
        data = b""
    finally:
        s.close()
    dt = time.monotonic() - t0
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = None
    if lines and lines[0].startswith(b"HTTP/1.1 "):
        status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode(errors="replace")
    return status, headers, body, dt


def get(port, path, method="GET"):
    req = ("%s %s HTTP/1.1\r\nHost: localhost:%d\r\nUser-Agent: test\r\n\r\n" % (method, path, port))
    return exchange(port, req.encode())


failures = []


def check(name, cond, detail):
    print(("ok   " if cond else "FAIL ") + name + ": " + detail)
    if not cond:
        failures.append(name)


def good_after(port, name):
    st, _, body, dt = get(port, "/debug/pprof/")
    check(name + " then a good request", st == 200 and b"/debug/pprof/" in body,
          "status %s in %.1fs" % (st, dt))


def expect(port, name, raw, statuses, shut=False, closed_ok=False, limit=8.0):
    st, hd, body, dt = exchange(port, raw, limit, shut)
    ok = (st in statuses) or (closed_ok and st is None)
    check(name, ok and dt < limit, "status %s in %.1fs (want %s%s)" %
          (st, dt, statuses, " or closed" if closed_ok else ""))
    good_after(port, name)
    return st, hd, body


def hostile(port):
    rnd = random.Random(14)
    garbage = bytes(rnd.randrange(256) for _ in range(4096))
    expect(port, "random bytes", garbage, [400], closed_ok=True)
    expect(port, "huge headers", b"GET /debug/pprof/ HTTP/1.1\r\n" +
           b"".join(b"X-Pad-%d: %s\r\n" % (i, b"y" * 100) for i in range(200)) + b"\r\n", [431])
    expect(port, "huge request target", b"GET /debug/pprof/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", [414])
    st, hd, _ = expect(port, "POST", b"POST /debug/pprof/heap HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
                       [405])
    check("405 says Allow", hd.get("allow") == "GET, HEAD", "allow: %r" % hd.get("allow"))
    expect(port, "DELETE", b"DELETE /debug/pprof/heap HTTP/1.1\r\nHost: localhost\r\n\r\n", [405])
    expect(port, "path traversal", b"GET /debug/pprof/../../../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n", [404])
    expect(port, "encoded traversal", b"GET /debug/pprof/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n", [404])
    expect(port, "NUL in path", b"GET /debug/pprof/heap%00 HTTP/1.1\r\nHost: localhost\r\n\r\n", [400])
    expect(port, "unknown path", b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", [404])
    # (No end of headers: it may be held to the server's 5 s deadline; a
    # loaded machine adds seconds, a server that never lets go takes 12.)
    expect(port, "HTTP/0.9", b"GET /debug/pprof/heap\r\n", [400, 505], closed_ok=True, limit=12.0)
    expect(port, "HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [400, 505], closed_ok=True)
    expect(port, "absurd Content-Length",
           b"GET /debug/pprof/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999999999999\r\n\r\n", [400])
    expect(port, "large Content-Length, no body", b"GET /debug/pprof/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000000\r\n\r\n",
           [200])
    expect(port, "bad method token", b"G\x01T /debug/pprof/ HTTP/1.1\r\nHost: localhost\r\n\r\n", [400])
    expect(port, "seconds= (delta)", b"GET /debug/pprof/heap?seconds=30 HTTP/1.1\r\nHost: localhost\r\n\r\n", [400])
    expect(port, "debug=1", b"GET /debug/pprof/heap?debug=1 HTTP/1.1\r\nHost: localhost\r\n\r\n", [400])
    expect(port, "symbol body too large",
           b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n" + b"0x1+" * 1000, [413])
    # DNS rebinding and cross-site requests (the server listens on loopback):
    # a Host or Origin not naming a loopback address is refused; loopback
    # names, with or without a port, in any case, are served.
    expect(port, "Host of another site", b"GET /debug/pprof/heap HTTP/1.1\r\nHost: attacker.example:%d\r\n\r\n" % port, [403])
    expect(port, "Host 127.0.0.1.evil.example", b"GET /debug/pprof/ HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n\r\n", [403])
    expect(port, "Host localhost.evil", b"GET /debug/pprof/ HTTP/1.1\r\nHost: localhost.evil\r\n\r\n", [403])
    expect(port, "Host [::2]", b"GET /debug/pprof/ HTTP/1.1\r\nHost: [::2]:%d\r\n\r\n" % port, [403])
    expect(port, "foreign Origin", b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           b"Origin: http://attacker.example\r\nContent-Length: 6\r\n\r\n0x1234" % port, [403])
    expect(port, "Origin null", b"GET /debug/pprof/ HTTP/1.1\r\nHost: localhost\r\nOrigin: null\r\n\r\n", [403])
    expect(port, "Host over two headers", b"GET /debug/pprof/ HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n", [400, 403])
    for host in [b"127.0.0.1:%d" % port, b"LOCALHOST:%d" % port, b"localhost.", b"[::1]:%d" % port, b"127.1.2.3"]:
        expect(port, "Host " + host.decode(), b"GET /debug/pprof/ HTTP/1.1\r\nHost: " + host +
               b"\r\nOrigin: http://" + host + b"\r\n\r\n", [200])
    expect(port, "no Host (HTTP/1.0)", b"GET /debug/pprof/ HTTP/1.0\r\n\r\n", [200])
    expect(port, "no Host (HTTP/1.1)", b"GET /debug/pprof/ HTTP/1.1\r\n\r\n", [400])
    expect(port, "absolute target of another host", b"GET http://evil.example/debug/pprof/heap HTTP/1.1\r\nHost: localhost\r\n\r\n", [403])
    expect(port, "absolute target with userinfo", b"GET http://x@127.0.0.1/debug/pprof/ HTTP/1.1\r\nHost: localhost\r\n\r\n", [403])
    expect(port, "absolute loopback target", b"GET http://127.0.0.1:%d/debug/pprof/ HTTP/1.1\r\nHost: localhost\r\n\r\n" % port, [200])
    expect(port, "Host port not a number", b"GET /debug/pprof/ HTTP/1.1\r\nHost: 127.0.0.1:evil.example\r\n\r\n", [403])
    expect(port, "Host port with userinfo", b"GET /debug/pprof/ HTTP/1.1\r\nHost: 127.0.0.1:1@evil.example\r\n\r\n", [403])
    expect(port, "Host IPv4-mapped loopback", b"GET /debug/pprof/ HTTP/1.1\r\nHost: [::ffff:127.0.0.1]:%d\r\n\r\n" % port, [200])
    expect(port, "Host with a trailing blank", b"GET /debug/pprof/ HTTP/1.1\r\nHost: localhost \r\n\r\n", [200])
    # Half-closed: the whole request, then our side shut; the answer still comes.
    expect(port, "half-closed", b"GET /debug/pprof/ HTTP/1.1\r\nHost: localhost\r\n\r\n", [200], shut=True)
    # Partial request then EOF.
    expect(port, "EOF mid-request", b"GET /debug/pprof/heap HTTP/1.1\r\nHost: x", [400], shut=True,
           closed_ok=True)
    # Many connections: some leave at once, some send garbage, some nothing.
    socks = []
    for i in range(48):
        try:
            s = socket.create_connection((HOST, port), timeout=5)
        except OSError:
            continue
        if i % 3 == 1:
            try:
                s.sendall(b"\xff" * 64 + b"\r\n\r\n")
            except OSError:
                pass
        if i % 3 != 2:
            s.close()
        else:
            socks.append(s)
    for s in socks:
        s.close()
    t0 = time.monotonic()
    good_after(port, "many connections")
    check("many connections answered quickly", time.monotonic() - t0 < 10,
          "%.1fs" % (time.monotonic() - t0))
    # Slowloris: a byte every 0.3 s never finishes the headers; the server
    # cuts it off (408 or close) after its deadline, and a good request that
    # arrives meanwhile is answered once it is. The deadline is 5 s; the
    # bound is 12 s (a loaded machine is late by seconds; a server without
    # a deadline keeps the connection the whole 15 s of the loop below).
    result = {}

    def slow():
        t0 = time.monotonic()
        s = socket.create_connection((HOST, port), timeout=20)
        s.sendall(b"GET /debug/pprof/heap HTTP/1.1\r\nX-Slow: ")
        data = b""
        try:
            s.settimeout(0.3)
            while time.monotonic() - t0 < 15:
                try:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                except socket.timeout:
                    try:
                        s.sendall(b"a")
                    except OSError:
                        break
        except OSError:
            pass
        result["dt"] = time.monotonic() - t0
        result["data"] = data
        s.close()

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    st, _, _, _ = get(port, "/debug/pprof/")
    dt_good = time.monotonic() - t0
    th.join()
    check("slowloris cut off", result["dt"] < 12.0 and (result["data"].startswith(b"HTTP/1.1 408") or
                                                      result["data"] == b""),
          "after %.1fs: %r" % (result["dt"], result["data"][:20]))
    check("good request during slowloris", st == 200 and dt_good < 12.0,
          "status %s after %.1fs" % (st, dt_good))
    return 1 if failures else 0


def main():
    cmd = sys.argv[1]
    if cmd == "freeport":
        print(freeport())
        return 0
    port = int(sys.argv[2])
    if cmd == "refused":
        try:
            s = socket.create_connection((HOST, port), timeout=3)
        except ConnectionRefusedError:
            return 0
        s.close()
        print("something accepts connections on port %d" % port)
        return 1
    if cmd == "get":
        st, hd, body, _ = get(port, sys.argv[3], sys.argv[5] if len(sys.argv) > 5 else "GET")
        print(st)
        for k, v in sorted(hd.items()):
            print("%s: %s" % (k, v))
        if len(sys.argv) > 4 and sys.argv[4] != "-":
            with open(sys.argv[4], "wb") as f:
                f.write(body)
        return 0
    if cmd == "hostile":
        return hostile(port)
    return 2


if __name__ == "__main__":
    sys.exit(main())
