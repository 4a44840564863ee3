#!/usr/bin/env bash
# jeprof-c maps its inputs read-only instead of copying them (filebuf_map):
# a page-sized file still ends in a NUL, an empty file is empty, gzip'd
# files are inflated, a cut gzip stream is EBADMSG, a procfs file (size 0)
# is read, not taken as empty, and a file that shrinks
# under the mapping is EIO from filebuf_guard instead of a SIGBUS.
# Then the same through the CLI: a dump read by mapping gives the same
# report as the same bytes read from a pipe (filebuf_read's path).
set -u
. "$(dirname "$0")/lib_jeprof.sh"
# The driver is built by tests/tests.mk (jeprof-c's objects, the build's flags).
DRIVER=$ROOT/build/tests/cli/filebuf_map
[ -x "$DRIVER" ] || fail "$DRIVER is not built (run make test)"
"$DRIVER" "$WORK" || fail "filebuf_map"
G=$ROOT/tests/cli/golden
(cd "$G" && "$JEPROF_C" --quiet --text prog prog.heap) >"$WORK/mapped.txt" || fail "mapped read"
(cd "$G" && "$JEPROF_C" --quiet --text prog /dev/stdin <prog.heap) >"$WORK/piped.txt" || fail "piped read"
cmp -s "$WORK/mapped.txt" "$G/text.expected" || fail "mapped read differs from text.expected"
cmp -s "$WORK/piped.txt" "$G/text.expected" || fail "piped read differs from text.expected"
echo "ok: mapped and piped reads agree"
