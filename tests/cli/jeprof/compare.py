#!/usr/bin/env python3
"""Compares a jeprof-c --text report with Debian jeprof's on the same dump.

usage: compare.py [--lenient] MINE THEIRS

Checks: the Total line is identical; every function both reports name has
the same flat and cum columns (--lenient: the same cum, and the flat column sums to the same total); the rows only one
side has are jeprof's guesses from exported symbols (names with '@',
e.g. "std::__throw_ios_failure@@GLIBCXX_3.4.26", jemalloc issue #1418) or
addresses jeprof could not name, and ours "module+0xoffset", and their flat values sum to the same number, so
nothing is lost, only attributed differently. Exit 0 on success.
"""
import re
import sys


def parse(path):
    total, rows, order = None, {}, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("Total"):
            total = line
            continue
        m = re.match(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+) (.*)$", line)
        if not m:
            raise SystemExit("unparsable line in %s: %r" % (path, line))
        rows[m.group(6)] = (m.group(1), m.group(4))
        order.append(m.group(6))
    return total, rows, order


def num(s):
    return float(s)


def main():
    args = sys.argv[1:]
    lenient = False
    if args and args[0] == "--lenient":
        lenient = True
        args = args[1:]
    mine_total, mine, mine_order = parse(args[0])
    their_total, theirs, their_order = parse(args[1])
    # Without a debug file jeprof names a libc frame from the dynamic symbol
    # table with its version ("__libc_start_main@@GLIBC_2.34"); we print the
    # plain name. Treat the versioned name as ours when we have that name.
    def plain(n):
        return re.sub(r"@@?[A-Za-z][A-Za-z0-9_.]*$", "", n)
    renamed = {n: plain(n) for n in theirs if plain(n) != n and plain(n) in mine
               and plain(n) not in theirs}
    theirs = {renamed.get(n, n): v for n, v in theirs.items()}
    their_order = [renamed.get(n, n) for n in their_order]
    bad = []
    if mine_total != their_total:
        bad.append("total differs: %r vs jeprof %r" % (mine_total, their_total))
    for name in sorted(set(mine) & set(theirs)):
        a, b = mine[name], theirs[name]
        if (a[1] != b[1]) or (not lenient and a[0] != b[0]):
            bad.append("%s: flat/cum %s/%s vs jeprof %s/%s" % (name, a[0], a[1], b[0], b[1]))
    if not lenient:  # rows both have come in the same order
        common = set(mine) & set(theirs)
        if [n for n in mine_order if n in common] != [n for n in their_order if n in common]:
            bad.append("row order differs")
    only_m = sorted(set(mine) - set(theirs))
    only_t = sorted(set(theirs) - set(mine))
    if not lenient:
        for n in only_m:
            if not re.search(r"\+0x[0-9a-f]+$", n):
                bad.append("only jeprof-c has %r" % n)
        for n in only_t:
            if "@" not in n and not re.match(r"^0x[0-9a-f]+$", n):
                bad.append("only jeprof has %r" % n)
    if lenient:  # jeprof may misattribute common rows too: compare all flat
        only_m, only_t = sorted(mine), sorted(theirs)
    fm = sum(num(mine[n][0]) for n in only_m)
    ft = sum(num(theirs[n][0]) for n in only_t)
    # Each printed value is truncated, so sums over many rows may differ by
    # less than one per row.
    tol = len(only_m) + len(only_t) if lenient else 1e-9
    if abs(fm - ft) > tol:
        bad.append("re-attributed flat differs: %s vs jeprof %s" % (fm, ft))
    for b in bad:
        print("MISMATCH", b)
    print("%d common rows, %d/%d re-attributed, %s" % (
        len(set(mine) & set(theirs)), len(only_m), len(only_t), "ok" if not bad else "FAILED"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
