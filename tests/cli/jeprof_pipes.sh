#!/usr/bin/env bash
# Profiles read from pipes (process substitution, /dev/fd/N): the first
# positional argument is probed for an ELF program only when it is a regular
# file, so a pipe's first bytes are never taken from its profile. Two piped
# copies of golden/prog.heap (4.7 MB each) sum to 9.3 MB; one piped copy
# with the program gives the file's own report.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
st=0
cd "$G"
"$JEPROF_C" --quiet --text prog prog.heap >"$WORK/file.out" 2>&1 || fail "the file case failed"
"$JEPROF_C" --quiet --text prog <(cat prog.heap) >"$WORK/pipe.out" 2>&1
cmp -s "$WORK/file.out" "$WORK/pipe.out" && echo "ok   program + piped profile = the file's report" ||
    { echo "FAIL: piped profile differs"; diff "$WORK/file.out" "$WORK/pipe.out" | head; st=1; }
"$JEPROF_C" --quiet --text <(cat prog.heap) <(cat prog.heap) >"$WORK/two.out" 2>&1
head -n 1 "$WORK/two.out" | grep -qx 'Total: 9.3 MB' && echo "ok   two piped profiles sum to 9.3 MB" ||
    { echo "FAIL: two piped profiles: $(head -n 2 "$WORK/two.out")"; st=1; }
exit $st
