#!/usr/bin/env bash
# make demo: profile the bundled example under the allocator and show where
# its memory is held (text report and an interactive flamegraph).
set -eu
cd "$(dirname "$0")/.."
OUT=build/demo
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== running build/examples/leaky with profiling on (one sample per 16 KiB) =="
build/jeprof-c record -o "$OUT" --lg-sample=14 -- build/examples/leaky
dump=$(ls -t "$OUT"/heap.*.f.heap | head -n 1)
echo
echo "== retained bytes per call site: build/jeprof-c --text --show_bytes build/examples/leaky $dump =="
build/jeprof-c --text --show_bytes --nodecount=12 build/examples/leaky "$dump"
echo
build/jeprof-c --collapsed build/examples/leaky "$dump" > "$OUT/leaky.collapsed"
build/jeprof-c --flamegraph="$OUT/leaky.svg" --pprof="$OUT/leaky.pb.gz" build/examples/leaky "$dump" >/dev/null
echo "flamegraph: $OUT/leaky.svg (open it in a browser: hover, click to zoom, Ctrl-F to search)"
echo "pprof:      $OUT/leaky.pb.gz (go tool pprof -top build/examples/leaky $OUT/leaky.pb.gz)"
