#!/usr/bin/env bash
# The allocating line in C++ (issue 12, point 1), g++ -O2:
# tests/cli/callsite/lambda.cc calls malloc as the last call of a lambda
# that is inlined into std::function's invoker: the lambda's inlined frame
# and its line must carry the bytes (a return address lands after the
# inlined code and loses it). std::vector growth must be charged to the
# push_back line. Readers: jeprof-c --lines on our heap_v2 and .pb.gz,
# Debian's jeprof --lines on our heap_v2, go tool pprof -lines on our
# .pb.gz and on jeprof-c --pprof output (each skipped when not installed).
# Built with GNU ld and (when installed) lld, whose layout puts the start
# of the code in the same file page as read-only data (the symbolizer must
# take the executable segment's bias, or every name and line is shifted).
# Fails with a profiler that writes the return address as the first frame.
# The subject is compiled here on purpose: the test is about the linkers it
# is built with.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need g++
SRC=$CS/lambda.cc
LAMBDA=lambda.cc:$(mark "$SRC" LAMBDA)
GROW=lambda.cc:$(mark "$SRC" GROW)
lds=bfd
command -v ld.lld >/dev/null && lds="bfd lld"
for ld in $lds; do
    g++ -O2 -g -fuse-ld=$ld -o "$WORK/lambda" "$SRC" || fail "cannot build lambda.cc with ld.$ld"
    ours "$WORK/lambda" lam
    "$JEPROF_C" --quiet --text --lines "$WORK/lambda" "$HEAP" >"$WORK/hv2.txt" || fail "jeprof-c failed"
    has_flat "$ld: jeprof-c heap_v2" "$WORK/hv2.txt" "$LAMBDA" 'operator.*\(inline\)'
    has_cum "$ld: jeprof-c heap_v2" "$WORK/hv2.txt" "$GROW" fill
    "$JEPROF_C" --quiet --text --lines "$WORK/lambda" "$PB" >"$WORK/pb.txt" || fail "jeprof-c failed on .pb.gz"
    has_flat "$ld: jeprof-c pprof" "$WORK/pb.txt" "$LAMBDA" 'operator.*\(inline\)'
    has_cum "$ld: jeprof-c pprof" "$WORK/pb.txt" "$GROW" fill
    "$JEPROF_C" --quiet --pprof="$WORK/sym.pb.gz" "$WORK/lambda" "$HEAP" || fail "jeprof-c --pprof failed"
    if command -v jeprof >/dev/null; then
        jeprof --text --lines "$WORK/lambda" "$HEAP" >"$WORK/jeprof.txt" 2>/dev/null || fail "jeprof failed"
        has_flat "$ld: Debian jeprof heap_v2" "$WORK/jeprof.txt" "$LAMBDA"
        has_cum "$ld: Debian jeprof heap_v2" "$WORK/jeprof.txt" "$GROW"
    else
        echo "skip Debian jeprof: not installed"
    fi
    if command -v go >/dev/null; then
        go_top "go pprof" "$PB" "$WORK/go.txt" "$WORK/lambda"
        # (go tool pprof symbolizes C++ itself with one line per address, the
        # innermost: it shows no caller line of inlined code, so only the
        # allocating line is checked on our raw .pb.gz.)
        has_flat "$ld: go tool pprof our .pb.gz" "$WORK/go.txt" "$LAMBDA"
        go_top "go pprof" "$WORK/sym.pb.gz" "$WORK/gosym.txt"
        has_flat "$ld: go tool pprof jeprof-c --pprof" "$WORK/gosym.txt" "$LAMBDA" 'operator'
        has_cum "$ld: go tool pprof jeprof-c --pprof" "$WORK/gosym.txt" "$GROW" fill
    else
        echo "skip go tool pprof: not installed"
    fi
    # _start (no DWARF) is named, and given no line from another file.
    grep -q ' _start$' "$WORK/hv2.txt" || { cat "$WORK/hv2.txt"; fail "$ld: no _start row"; }
    ! grep -Eq ' _start .*:[0-9]+$' "$WORK/hv2.txt" || { cat "$WORK/hv2.txt"; fail "$ld: _start given a line"; }
done
[ $NFAIL -eq 0 ] || fail "$NFAIL checks failed"
echo "ok"
