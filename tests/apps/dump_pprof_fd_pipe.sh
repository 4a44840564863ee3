#!/usr/bin/env bash
# dump_pprof_fd_pipe: mallctl prof.dump_pprof_fd from a program (tests/dumpsig/
# hostile pprof_fd, lg_prof_sample:14, known_site 32 MiB):
#   - to a file: 0, and the file's known_site is within 15% of 32 MiB;
#   - to a pipe whose reader is gone (a service streaming to a helper that
#     died): EIO (5) is returned and the process lives on (it was killed by
#     SIGPIPE, exit 141, before the fix).
. "$(dirname "$0")/lib_dumpsig.sh"
HOSTILE=$(app_bin dumpsig/hostile) || exit 1
cd "$TMP"
out=$(env LD_PRELOAD="$LIB" MALLOC_CONF=prof:true,lg_prof_sample:14 "$HOSTILE" pprof_fd "$TMP/p.pb.gz")
rc=$?
[ "$rc" = 0 ] || fail "the program exited with $rc (141: killed by SIGPIPE); output '$out'"
[ "$out" = "file=0 pipe=5" ] || fail "mallctl results '$out', want 'file=0 pipe=5'"
within15 "known_site via prof.dump_pprof_fd" "$(site_bytes "$HOSTILE" "$TMP/p.pb.gz" known_site)" "$KNOWN_BYTES"
echo "dump_pprof_fd_pipe: ok"
