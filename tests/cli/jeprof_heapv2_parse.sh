#!/usr/bin/env bash
# The heap_v2 reader's shortcuts keep its answers (read_heapv2.c): an
# address read again is found by its text, which must not mix a leaf with
# the same text as a caller (callers are moved back one byte), nor differ
# from the same value written otherwise (upper case, no 0x, leading zeros);
# a known address followed by a bad character, a bad address after known
# ones and an address of 16 digits are still read or refused as before;
# equal (count, bytes) pairs are unsampled to the same values as others.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
cd "$WORK"
# Addresses outside every mapping: shown raw, 0x<addr>, one row each.
{
    echo 'heap_v2/524288'
    echo '  t*: 4: 4096 [0: 0]'
    echo '@ 0x401100 0x401200 0x401300'
    echo '  t*: 1: 1024 [0: 0]'
    echo '@ 0x0000000000401200 0x0000000000401100 0x0000000000401300'
    echo '  t*: 1: 1024 [0: 0]'
    echo '@ 0x0000000000401200 0x0000000000401100 0x0000000000401300'
    echo '  t*: 1: 1024 [0: 0]'
    echo '@ 0X401200 401101 0x0000000000401301'
    echo '  t*: 1: 1024 [0: 0]'
    echo ''
    echo 'MAPPED_LIBRARIES:'
} >p.heap
"$JEPROF_C" --quiet --show_bytes --addresses --text p.heap >p.txt 2>p.err || { cat p.err; fail "exit $?"; }
# Leaves: 401100 (1), 401200 (3: twice as 0x0000000000401200, once as
# 0X401200; 0x401200 as a caller). Callers, one byte back: 4011ff (1), 4010ff (2), 401100 (from
# 401101: the leaf's row), 4012ff (3), 401300 (from 0x...401301).
unscaled() { # count bytes -> jeprof's unsampled bytes, %d
    awk -v n="$1" -v s="$2" -v r=524288 'BEGIN { sc = 1 / (1 - exp(-(s / n) / r)); printf "%d", s * sc }'
}
one=$(unscaled 1 1024)
check() { # addr flat cum
    local got
    got=$(awk -v a="$(printf '%016x' $((0x$1)))" '$6 == a {print $1, $4}' p.txt)
    [ "$got" = "$2 $3" ] || { cat p.txt; fail "address $1: flat cum '$got', want '$2 $3'"; }
}
check 401200 "$((3 * one))" "$((3 * one))"
check 401100 "$one" "$((2 * one))"
check 4010ff 0 "$((2 * one))"
check 4011ff 0 "$one"
check 4012ff 0 "$((3 * one))"
check 401300 0 "$one"
[ "$(grep -c . p.txt)" = 7 ] || { cat p.txt; fail "want the total and 6 rows"; }
echo "ok   leaf and caller of one text apart; 0X/no prefix/zeros the same address; same unsampling"

# Bad addresses: a known address glued to a bad character, a bad one after
# known ones: "line N: malformed backtrace address", exit 1.
for bad in '0x401100\f0x401200' '0x401100 0x4012g0' '0x401100,0x1' '0x401100x' '0x0000000000401200x'; do
    sed "5s/.*/@ $bad/" p.heap >bad.heap
    "$JEPROF_C" --quiet --text bad.heap >/dev/null 2>bad.err && fail "'$bad' accepted"
    grep -q "^error: 'bad.heap': line 5: malformed backtrace address" bad.err || { cat bad.err; fail "'$bad': wrong error"; }
done
echo "ok   bad addresses after known ones refused with their line"

# 16 digits (and more: refused); with a tab as separator.
sed "5s/.*/@ 0x00007fffffff0000\t0x0000000000401100/" p.heap >long.heap
"$JEPROF_C" --quiet --show_bytes --addresses --text long.heap >long.txt 2>/dev/null || fail "16 digits refused"
grep -q ' 00007fffffff0000 ' long.txt || { cat long.txt; fail "no row for the 16-digit address"; }
sed "5s/.*/@ 0x000007fffffff00000/" p.heap >toolong.heap
"$JEPROF_C" --quiet --text toolong.heap >/dev/null 2>&1 && fail "an address of 18 digits accepted"
echo "ok   16-digit addresses and tabs read, longer ones refused"

# A sampling rate near 2^64 with small objects: 1 - e^-ratio underflows to
# 0, which gave "Total: inf MB", "-nan%" rows and, in integer outputs,
# INT64_MIN or 0. The scale comes from expm1 there: one 1-byte object at
# R = 2^64 - 1 unsamples to 2^64 B, which every output clamps at 9.2e18 alike.
printf 'heap_v2/18446744073709551615\n  t*: 1: 1 [0: 0]\n@ 0x1\n  t*: 1: 1 [0: 0]\nMAPPED_LIBRARIES:\n' >huge.heap
"$JEPROF_C" --quiet --text --show_bytes huge.heap >huge.txt 2>/dev/null || fail "huge rate: jeprof-c failed"
grep -qiE 'inf|nan' huge.txt && { cat huge.txt; fail "huge rate: inf or nan printed"; }
grep -q '^Total: 9200000000000000000 B$' huge.txt || { cat huge.txt; fail "huge rate: total not clamped"; }
"$JEPROF_C" --quiet --json huge.heap 2>/dev/null | grep -q '"total":9200000000000000000,' ||
    fail "huge rate: --json total not clamped to 9200000000000000000"
[ "$("$JEPROF_C" --quiet --collapsed huge.heap 2>/dev/null)" = "0x1 9200000000000000000" ] ||
    fail "huge rate: --collapsed differs"
echo "ok   a rate near 2^64: finite totals, integer outputs clamped alike"
