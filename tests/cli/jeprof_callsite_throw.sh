#!/usr/bin/env bash
# The throwing line owns its exception (issue 12, point 2): the exception
# object (__cxa_allocate_exception) and the copy of the message that
# std::runtime_error keeps (an old-ABI std::string made through a static
# libstdc++ function without a symbol) are plumbing, so jeprof-c --lines
# charges all their bytes to the marked throw of tests/cli/callsite/throw.cc
# (g++ -O2), on our heap_v2 and .pb.gz; no unnamed libstdc++ address is a
# row on the way.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need g++
SRC=$CS/throw.cc
THROW=throw.cc:$(mark "$SRC" THROW)
g++ -O2 -g -o "$WORK/throw" "$SRC" || fail "cannot build throw.cc"
ours "$WORK/throw" throw
for input in "$HEAP" "$PB"; do
    "$JEPROF_C" --quiet --text --lines --show_bytes --focus=fail_with "$WORK/throw" "$input" \
        >"$WORK/out.txt" || fail "jeprof-c failed on ${input##*.}"
    # 20 copies of the 3000-byte message at least, all on the throw
    if ! awk -v want="$THROW" '$1 >= 60000 && $NF ~ ("/" want "$") && /fail_with/ { ok = 1 } END { exit !ok }' "$WORK/out.txt"; then
        cat "$WORK/out.txt"; fail "${input##*.}: the exceptions' bytes are not on $THROW"
    fi
    if awk '$1 != 0 && /\+0x[0-9a-f]+$/' "$WORK/out.txt" | grep -q .; then
        cat "$WORK/out.txt"; fail "${input##*.}: an unnamed libstdc++ address holds bytes"
    fi
    echo "ok   ${input##*.}: the exceptions are on $THROW"
done
echo "ok"
