#!/usr/bin/env bash
# The lock-free recent ring under ThreadSanitizer: 8 writers with cross-thread
# frees, a continuous reader and a resizer; built as a unit without the
# allocator interposed.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$ROOT/build/tests/recent
mkdir -p "$out"
# ring_tsan is built by tests/tests.mk when the compiler has a ThreadSanitizer
# runtime (the Makefile probes it the same way); skip only when it has none.
if [ ! -x "$out/ring_tsan" ]; then
    if ! echo 'int main(void){return 0;}' | ${CC:-cc} -fsanitize=thread -x c - -o "$out/probe" 2>/dev/null; then
        echo "no ThreadSanitizer runtime for ${CC:-cc}"
        exit 77
    fi
    echo "FAIL: $out/ring_tsan is not built (run make test)"
    exit 1
fi
RING_JSON="$out/ring.json" TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$out/ring_tsan"
# The dump (thread names with quotes and backslashes) must be strict JSON.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["recent_alloc"]; assert len(e) == 10, d; assert e[0]["alloc_thread_name"] == "tail \"q\" \\b\n", e[0]; print("strict JSON ok")' "$out/ring.json"
