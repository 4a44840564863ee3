#!/usr/bin/env bash
# Separate debug files: a fully stripped copy of golden/prog still gets its
# function names from prog.debug found through .gnu_debuglink (beside it),
# or by build id under a debug directory (JEPROF_C_DEBUGINFO_PATH); with no
# debug file its frames are module+0xoffset, never dropped.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need objcopy readelf
G=$ROOT/tests/cli/golden
cd "$WORK"
objcopy --only-keep-debug "$G/prog" prog.debug || fail objcopy
mkdir -p link bid plain
objcopy --strip-all "$G/prog" plain/prog
(cd link && objcopy --strip-all --add-gnu-debuglink=../prog.debug "$G/prog" prog && cp ../prog.debug .)
bid=$(readelf -n "$G/prog" | awk '/Build ID/ {print $3}')
[ -n "$bid" ] || skip "no build id in golden/prog"
mkdir -p "dbg/.build-id/${bid:0:2}"
cp prog.debug "dbg/.build-id/${bid:0:2}/${bid:2}.debug"
cp plain/prog bid/prog

# (The stripped file names no _fini, so, as jeprof, only the innermost of
# inlined frames is shown: hold and inlined_mid, not their callers.)
want=$(printf '%s\n' _start helper@12a0 helper@1450 hold inlined_mid main path_two)
check() { # label output
    local got
    got=$(grep -Eo ' (_start|helper@[0-9a-f]+|hold|inlined_mid|main|path_two)$' "$2" | tr -d ' ' | sort -u)
    if [ "$got" = "$want" ]; then echo "ok   $1"; else echo "FAIL $1:"; cat "$2"; exit 1; fi
}
"$JEPROF_C" --quiet --text link/prog "$G/prog.heap" >link.txt || fail "debuglink run"
check "debug file by .gnu_debuglink" link.txt
JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/dbg" "$JEPROF_C" --quiet --text bid/prog "$G/prog.heap" >bid.txt ||
    fail "build-id run"
check "debug file by build id" bid.txt
JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/nowhere" "$JEPROF_C" --quiet --text plain/prog "$G/prog.heap" >plain.txt
grep -q ' gprog+0x' plain.txt || { cat plain.txt; fail "stripped frames not shown as gprog+0xoffset (the mapping's name)"; }
total=$(head -n 1 plain.txt)
[ "$total" = "$(head -n 1 "$G/text.expected")" ] || fail "stripped: total changed: $total"
echo "ok   stripped: module+0xoffset, same total"
