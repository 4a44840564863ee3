#!/usr/bin/env bash
# A short libFuzzer run (FUZZ_SECONDS, default 5 s) of each target, from the
# seed corpora in tests/fuzz/corpus (every seed, the regress-* inputs of past
# findings included, is replayed first): the readers (heap_v2, pprof,
# recent-ring JSON, jeprof's symbolized/legacy text) and the allocator's own
# parsers (conf: MALLOC_CONF; mallctl: names and MIBs; http: the profile
# server's request parser), and any other
# build/fuzz/fuzz_<name> with a corpus tests/fuzz/corpus/<name>.
# Skips when clang's fuzzer runtime is missing (libclang-rt-14-dev).
# The long run is `make fuzz` and then, per target, for ten minutes:
#   build/fuzz/fuzz_heapv2 -max_total_time=600 build/fuzz/corpus-heapv2 tests/fuzz/corpus/heapv2
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SECS=${FUZZ_SECONDS:-5}
cd "$ROOT"
if [ ! -x build/fuzz/fuzz_heapv2 ] || [ ! -x build/fuzz/fuzz_pprof ] || [ ! -x build/fuzz/fuzz_recent ] ||
    [ ! -x build/fuzz/fuzz_raw ] || [ ! -x build/fuzz/fuzz_http ] || [ ! -x build/fuzz/fuzz_conf ] || [ ! -x build/fuzz/fuzz_mallctl ]; then
    command -v clang >/dev/null || { echo "skip: clang is not installed"; exit 77; }
    rt=$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a
    [ -f "$rt" ] || { echo "skip: clang's libFuzzer runtime is missing (libclang-rt-14-dev)"; exit 77; }
    make --no-print-directory fuzz-build >/dev/null || { echo "FAIL: make fuzz-build"; exit 1; }
fi
status=0
targets=""
for bin in build/fuzz/fuzz_*; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue
    t=${bin##*/fuzz_}
    [ -d "tests/fuzz/corpus/$t" ] && targets="$targets $t"
done
for t in $targets; do
    work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX")
    if (cd "$work" && TMPDIR=$work "$ROOT/build/fuzz/fuzz_$t" -max_total_time="$SECS" -max_len=8192 \
            "$work" "$ROOT/tests/fuzz/corpus/$t" >log 2>&1); then
        echo "ok   fuzz_$t: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$work/log" | head -n 1)"
    else
        echo "FAIL fuzz_$t"; tail -n 30 "$work/log"; status=1
        cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* /tmp/ 2>/dev/null
    fi
    rm -rf "$work"
done
exit $status
