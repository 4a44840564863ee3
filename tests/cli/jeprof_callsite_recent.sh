#!/usr/bin/env bash
# The allocating line in our recent-allocation JSON (issue 12, point 1):
# the first address of each alloc_trace is a call site (the rest are return
# addresses, as in heap_v2, which readers move back themselves), so
# addr2line on it names the malloc line of tests/cli/callsite/recent_site.c
# (gcc -O1 and -O2), not the statement after it.
# The subject is compiled here on purpose: the test is about the
# optimisation levels it is built with.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc addr2line
SRC=$CS/recent_site.c
WANT=recent_site.c:$(mark "$SRC" RECENT)
cd "$WORK"
for opt in -O1 -O2; do
    gcc $opt -g -o rsite "$SRC" -ldl || fail "cannot build recent_site.c $opt"
    LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,prof_recent_alloc_max:100,lg_prof_sample:0 \
        ./rsite recent.json maps.txt || fail "$opt: recent_site failed"
    # The first address of the trace of a 4000-byte allocation.
    a=$(grep -o '"size":4000,[^]]*' recent.json | head -n 1 | grep -o '"alloc_trace":\["0x[0-9a-f]*' | grep -o '0x[0-9a-f]*$')
    [ -n "$a" ] || { head -c 2000 recent.json; fail "$opt: no 4000-byte allocation in the recent JSON"; }
    # Its file address in rsite (the mapping holding it; GNU ld lays
    # segments out with file offset = address).
    f=""
    while read -r range perms off dev ino path; do
        [ "$path" = "$WORK/rsite" ] || continue
        lo=$((16#${range%-*})); hi=$((16#${range#*-}))
        if [ $((a)) -ge $lo ] && [ $((a)) -lt $hi ]; then f=$(printf '0x%x' $((a - lo + 16#$off))); fi
    done <maps.txt
    [ -n "$f" ] || fail "$opt: $a is not in rsite's mappings"
    got=$(addr2line -e rsite "$f" | sed 's/ (discriminator [0-9]*)$//')
    case "$got" in
        */"$WANT") echo "ok   $opt: first address $a -> $got" ;;
        *) fail "$opt: the first address $a ($f) is at '$got', want $WANT" ;;
    esac
done
echo ok
