#!/usr/bin/env python3
"""Writes an unsymbolized pprof profile (as a libprof-style writer would:
mappings with file name and build id, locations with addresses only, retaddr-1
for callers) from a heap_v2 file, with a minimal hand-written protobuf
encoder. The values are the heap_v2 counts unsampled as jeprof does, rounded.

usage: mkpprof.py HEAP_V2 BUILD_ID OUT.pb
"""
import math
import re
import sys


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, wt, payload):
    key = varint(num << 3 | wt)
    if wt == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def msg(*fields):
    return b"".join(fields)


def main():
    heap, build_id, out = sys.argv[1:4]
    text = open(heap).read()
    rate = int(re.match(r"heap_v2/(\d+)", text).group(1))
    strings = [""]

    def s(x):
        if x not in strings:
            strings.append(x)
        return strings.index(x)

    body, maps = text.split("\nMAPPED_LIBRARIES:\n")
    samples, locs = [], {}
    stack = None
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("@"):
            pcs = [int(x, 16) for x in line.split()[1:]]
            stack = pcs[:1] + [p - 1 for p in pcs[1:]]
        elif line.startswith("t*:") and stack is not None:
            n, b = [int(x) for x in re.findall(r"\d+", line)[:2]]
            if n and b:
                scale = 1 / (1 - math.exp(-(b / n) / rate))
                n, b = n * scale, b * scale
            ids = [locs.setdefault(pc, len(locs) + 1) for pc in stack]
            samples.append((ids, [0, 0, round(n), round(b)]))
    m = maps.split("\n")[1].split()  # the r-xp line of the program
    start, limit = [int(x, 16) for x in m[0].split("-")]
    mapping = msg(field(1, 0, 1), field(2, 0, start), field(3, 0, limit),
                  field(4, 0, int(m[2], 16)), field(5, 0, s(m[5])), field(6, 0, s(build_id)))
    p = b""
    for t, u in (("alloc_objects", "count"), ("alloc_space", "bytes"),
                 ("inuse_objects", "count"), ("inuse_space", "bytes")):
        p += field(1, 2, msg(field(1, 0, s(t)), field(2, 0, s(u))))
    for ids, vals in samples:
        p += field(2, 2, msg(field(1, 2, b"".join(varint(i) for i in ids)),
                             field(2, 2, b"".join(varint(v) for v in vals))))
    p += field(3, 2, mapping)
    for pc, i in locs.items():
        p += field(4, 2, msg(field(1, 0, i), field(2, 0, 1), field(3, 0, pc)))
    p += field(11, 2, msg(field(1, 0, s("space")), field(2, 0, s("bytes"))))
    p += field(12, 0, rate)
    for x in strings:
        p += field(6, 2, x.encode())
    open(out, "wb").write(p)


main()
