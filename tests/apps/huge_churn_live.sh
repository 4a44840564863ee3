#!/usr/bin/env bash
# bench/huge_churn's HUGE_CHURN_LIVE: the number of live blocks per worker
# (default 16, the bench row's), so churns with other numbers of live
# blocks can be measured. The peak of the live bytes it prints
# (peak_live_kb) is bounded by n blocks of at most 25 MiB: with one slot
# at most 25 MiB, with two at most 50 MiB and more than one block's worth
# (the fixed sequence reaches 41 MiB), unset 16 slots (170 MiB over the
# same 12 steps). A value outside 1..4096 is an error (exit 2), never a
# silent default.
. "$(dirname "$0")/lib.sh"
B=$ROOT/build/bench/huge_churn
[ -x "$B" ] || fail "$B not built (run make test)"

peak() { # live scale
    local out
    if [ -n "$1" ]; then
        out=$(HUGE_CHURN_LIVE=$1 "$B" 1 "$2") || fail "huge_churn with HUGE_CHURN_LIVE=$1 failed"
    else
        out=$(env -u HUGE_CHURN_LIVE "$B" 1 "$2") || fail "huge_churn failed"
    fi
    echo "$out" | sed -n 's/^peak_live_kb=//p'
}

p1=$(peak 1 0.05)
echo "1 live: peak_live_kb=$p1"
[ -n "$p1" ] && [ "$p1" -gt $((5 * 1024)) ] && [ "$p1" -le $((25 * 1024)) ] ||
    fail "1 live block: peak $p1 KiB, not within 5..25 MiB"
p2=$(peak 2 0.02)
echo "2 live: peak_live_kb=$p2"
[ -n "$p2" ] && [ "$p2" -gt $((25 * 1024)) ] && [ "$p2" -le $((50 * 1024)) ] ||
    fail "2 live blocks: peak $p2 KiB, not within 25..50 MiB"
p16=$(peak "" 0.02)
echo "default: peak_live_kb=$p16"
[ -n "$p16" ] && [ "$p16" -gt $((100 * 1024)) ] ||
    fail "default (16 live blocks): peak $p16 KiB, not over 100 MiB"

for bad in "" 0 4097 3x -1; do
    HUGE_CHURN_LIVE=$bad "$B" 1 0.01 >/dev/null 2>"$TMP/err"
    rc=$?
    [ $rc = 2 ] || fail "HUGE_CHURN_LIVE='$bad': exit $rc, not 2"
    grep -q "HUGE_CHURN_LIVE=$bad: not in 1..4096" "$TMP/err" ||
        fail "HUGE_CHURN_LIVE='$bad': no message naming it ($(cat "$TMP/err"))"
done
echo ok
