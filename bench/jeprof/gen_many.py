#!/usr/bin/env python3
"""Writes a C++ program with NFUNCS functions in one translation unit (with
the standard headers' declarations around them), each allocating through
malloc and std::string, all called from main() in ROUNDS rounds: a profile
with thousands of distinct addresses in one big compile unit and in one
function with thousands of call sites, where symbolization (not reading)
dominates.

usage: gen_many.py NFUNCS ROUNDS > many.cc
"""
import sys

nfuncs, rounds = int(sys.argv[1]), int(sys.argv[2])
out = []
w = out.append
for h in ("algorithm", "cstdlib", "cstring", "iostream", "map", "memory", "sstream", "string",
          "unordered_map", "vector"):
    w("#include <%s>" % h)
w("std::vector<void *> keep;")
for i in range(nfuncs):
    w("__attribute__((noinline)) void f%d(int k) { keep.push_back(malloc(16 + k)); "
      "std::string s(40 + k %% 7, 'x'); keep.push_back(strdup(s.c_str())); }" % i)
w("int main() {")
for r in range(rounds):
    for i in range(nfuncs):
        w("    f%d(%d);" % (i, r))
w("    std::cout << keep.size() << std::endl;")
w("}")
print("\n".join(out))
