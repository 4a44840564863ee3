#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer target in build/fuzz/ for FUZZ_SECONDS
# (default 600) each, one after the other (one process each), from its seed corpus
# tests/fuzz/corpus/<name>; new inputs go to build/fuzz/corpus-<name>,
# crashes, leaks and timeouts to build/fuzz/findings-<name>/. FUZZ_ONLY=a,b
# limits the run to those targets. Prints one line per target (executions,
# findings) and exits 1 when any target found something. A finding is
# fixed in the code and its input kept in tests/fuzz/corpus/<name>/ (named
# regress-*), which tests/cli/fuzz_smoke.sh replays in `make test`.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${FUZZ_SECONDS:-600}
status=0
for bin in "$ROOT"/build/fuzz/fuzz_*; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue
    t=${bin##*/fuzz_}
    if [ -n "${FUZZ_ONLY:-}" ] && [[ ",$FUZZ_ONLY," != *",$t,"* ]]; then continue; fi
    seeds=$ROOT/tests/fuzz/corpus/$t
    [ -d "$seeds" ] || { echo "fuzz_$t: no seed corpus $seeds"; status=1; continue; }
    work=$ROOT/build/fuzz/corpus-$t findings=$ROOT/build/fuzz/findings-$t
    mkdir -p "$work" "$findings"
    log=$ROOT/build/fuzz/fuzz_$t.log
    # TMPDIR: where a target keeps scratch files (fuzz_mallctl's sandbox).
    scratch=$(mktemp -d)
    (cd "$findings" && TMPDIR=$scratch "$bin" -max_total_time="$SECS" -max_len=65536 \
        -artifact_prefix="$findings/" "$work" "$seeds" >"$log" 2>&1)
    rc=$?
    rm -rf "$scratch"
    runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -n 1 | grep -Eo '[0-9]+')
    n=$(ls "$findings" | grep -cE '^(crash|leak|timeout|oom)-')
    echo "fuzz_$t: ${SECS}s, ${runs:-?} executions, $n findings (exit $rc; log $log)"
    [ "$n" -eq 0 ] && [ $rc -eq 0 ] || status=1
done
exit $status
