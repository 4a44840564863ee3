#!/usr/bin/env bash
# jeprof-c reads a heap profile written by Go's runtime/pprof (gzip'd
# profile.proto, already symbolized, Go's sample types) with no binary:
# the two allocating functions carry the bytes they allocated. A Go CPU
# profile is reported in its own unit (nanoseconds). Skips without Go.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need go
export HOME=$WORK GOCACHE=$WORK/gocache GO111MODULE=off GOFLAGS= GOPROXY=off
cp "$TESTDIR/../gopprof/main.go" "$WORK/main.go"
(cd "$WORK" && timeout 120 go build -o gheap main.go) || skip "go build failed (offline toolchain?)"
"$WORK/gheap" "$WORK/heap.pb.gz" || fail "the Go program failed"
"$JEPROF_C" --quiet --text --show_bytes "$WORK/heap.pb.gz" >"$WORK/out.txt" || fail "jeprof-c failed"
# With the binary: its profile is symbolized already, so no file is weighed
# and nothing is warned about.
"$JEPROF_C" --quiet --text "$WORK/gheap" "$WORK/heap.pb.gz" >/dev/null 2>"$WORK/err.txt" || fail "jeprof-c failed"
[ ! -s "$WORK/err.txt" ] || { cat "$WORK/err.txt"; fail "warnings reading Go's profile with its binary"; }
cat "$WORK/out.txt" | head -8
big=$(awk '$6 == "main.allocBig" {print $1}' "$WORK/out.txt")
small=$(awk '$6 == "main.allocSmall" {print $1}' "$WORK/out.txt")
# 100 x 64 KiB and 1000 x 1 KiB, all live, sampled exactly (rate 1). The Go
# runtime sometimes charges a small internal allocation (seen: 96 B) to the
# same stack, so allow up to 4 KiB and 2 objects over the exact figures.
within() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
within "$big" 6553600 6557696 || fail "main.allocBig: '$big', want 6553600 (+ at most 4096)"
within "$small" 1024000 1028096 || fail "main.allocSmall: '$small', want 1024000 (+ at most 4096)"
objs=$("$JEPROF_C" --quiet --inuse_objects --text "$WORK/heap.pb.gz" | awk '$6 == "main.allocBig" {print $1}')
within "$objs" 100 102 || fail "inuse_objects of main.allocBig is '$objs', want 100"
col=$("$JEPROF_C" --quiet --collapsed "$WORK/heap.pb.gz" | awk '$1 ~ /main\.main;main\.allocBig$/ {s += $2} END {print s + 0}')
within "$col" 6553600 6557696 || fail "collapsed stack main.main;main.allocBig is '$col', want 6553600"
"$WORK/gheap" "$WORK/cpu.pb.gz" cpu || fail "the Go program failed (cpu)"
"$JEPROF_C" --quiet --text "$WORK/cpu.pb.gz" >"$WORK/cpu.txt" || fail "jeprof-c failed on a CPU profile"
head -n 3 "$WORK/cpu.txt"
grep -q "^Total: [0-9]* nanoseconds$" "$WORK/cpu.txt" || fail "CPU profile total not in nanoseconds"
grep -q " main.burn$" "$WORK/cpu.txt" || fail "main.burn missing from the CPU profile"
echo "ok"
