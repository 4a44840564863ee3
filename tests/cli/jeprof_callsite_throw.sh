#!/usr/bin/env bash
# The throwing line owns its exception (issue 12, point 2): the exception
# object (__cxa_allocate_exception) and the copy of the message that
# std::runtime_error keeps (an old-ABI std::string made through a static
# libstdc++ function without a symbol) are plumbing, so jeprof-c --lines
# charges all their bytes to the marked throw of tests/cli/callsite/throw.cc
# (g++ -std=c++20 -O2 and -O0), on our heap_v2 and .pb.gz; no unnamed libstdc++
# address is a row on the way. The same for an ostringstream's str() at -O0,
# whose leaf after operator new is an unnamed libstdc++ function.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need g++
SRC=$CS/throw.cc
THROW=throw.cc:$(mark "$SRC" THROW)
RENDER=throw.cc:$(mark "$SRC" RENDER)
for opt in -O2 -O0; do
g++ $opt -g -std=c++20 -o "$WORK/throw" "$SRC" || fail "cannot build throw.cc"
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
    echo "ok   $opt ${input##*.}: the exceptions are on $THROW"
    "$JEPROF_C" --quiet --text --lines --show_bytes --focus=render "$WORK/throw" "$input" \
        >"$WORK/out.txt" || fail "jeprof-c failed on ${input##*.}"
    if ! awk -v want="$RENDER" '$1 >= 50000 && $NF ~ ("/" want "$") && /render/ { ok = 1 } END { exit !ok }' "$WORK/out.txt" ||
        awk '$1 != 0 && /\+0x[0-9a-f]+$/' "$WORK/out.txt" | grep -q .; then
        cat "$WORK/out.txt"; fail "$opt ${input##*.}: the strings are not on $RENDER"
    fi
    echo "ok   $opt ${input##*.}: the strings are on $RENDER"
done
done
echo "ok"
