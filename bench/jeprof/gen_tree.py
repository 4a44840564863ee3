#!/usr/bin/env python3
"""Writes a C program whose allocations come from FANOUT**DEPTH distinct call
paths: level l has FANOUT functions, each calls the level l+1 function chosen
by digit l of the path number, and the last level allocates. No function is
inlined or tail-called, so every path is a distinct stack.

usage: gen_tree.py FANOUT DEPTH > tree.c
"""
import sys

fanout, depth = int(sys.argv[1]), int(sys.argv[2])
out = []
w = out.append
w("#include <stdio.h>\n#include <stdlib.h>\n")
w("void **keep; long nkeep; volatile long sink;")
w("#define NI __attribute__((noinline))")
for l in range(depth):
    for i in range(fanout):
        w("NI void L%d_%d(long path, long digits);" % (l, i))
for l in range(depth):
    for i in range(fanout):
        w("NI void L%d_%d(long path, long digits) {" % (l, i))
        if l == depth - 1:
            w("  keep[nkeep++] = malloc(32 + (path & 31));")
        else:
            w("  switch (digits %% %d) {" % fanout)
            for j in range(fanout):
                w("  case %d: L%d_%d(path, digits / %d); break;" % (j, l + 1, j, fanout))
            w("  }")
        w("  sink += path; __asm__ volatile(\"\" ::: \"memory\");\n}")
w("int main(void) {")
w("  long n = 1; for (int i = 0; i < %d; i++) n *= %d;" % (depth, fanout))
w("  keep = calloc((size_t)n, sizeof(void *));")
w("  for (long p = 0; p < n; p++) {")
w("    switch (p %% %d) {" % fanout)
for j in range(fanout):
    w("    case %d: L0_%d(p, p / %d); break;" % (j, j, fanout))
w("    }\n  }")
w("  printf(\"%ld paths\\n\", n);\n  return 0;\n}")
print("\n".join(out))
