#!/usr/bin/env bash
# Debug sections jeprof-c cannot read: a spoiled section (bit-flipped,
# truncated, unknown ch_type, running past the file's end, lying about its
# size; by jeprof_zstd_spoil.py), zstd, zlib or GNU's .zdebug, in the
# program or in its separate debug file, gives exit 0, one warning naming
# the file, the section and the reason (one per file, however many
# sections), the same total, symbol-table names and no file:line at all
# (never a line read from part of the DWARF). A file cut short (section
# headers past its end) and a zstd dwz alt file (which libdw reads itself)
# are warned about.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need gcc objcopy readelf python3
G=$ROOT/tests/cli/golden
CORRUPT=$ROOT/tests/cli/jeprof_zstd_spoil.py
cd "$WORK"
gcc -O1 -o zelf "$ROOT/tests/cli/jeprof_zstd_elf.c" -lzstd || fail "cannot build jeprof_zstd_elf (libzstd-dev)"

# jeprof OUT PROG: --text --lines of golden/prog.heap with PROG into OUT
# (stderr into OUT.err); exit status checked.
jeprof() {
    "$JEPROF_C" --quiet --text --lines "$2" "$G/prog.heap" >"$1" 2>"$1.err" ||
        { cat "$1.err"; fail "jeprof-c on $2: exit $?"; }
}

# z/prog: binutils' zstd (the helper's where it writes none); h/prog: the
# helper's, whose frames carry a checksum, so a flipped bit is always
# found (in binutils' frames, one in a literal can inflate to other bytes
# of the right length, as in uncompressed DWARF: nothing can tell).
mkdir -p z h
objcopy --compress-debug-sections=zstd "$G/prog" z/prog 2>/dev/null && readelf -t z/prog | grep -q ZSTD ||
    ./zelf "$G/prog" z/prog || fail "no zstd golden/prog"
./zelf "$G/prog" h/prog || fail "jeprof_zstd_elf on golden/prog"
objcopy --only-keep-debug "$G/prog" plain.debug || fail objcopy
./zelf plain.debug prog.debug || fail "jeprof_zstd_elf on the debug file"
jeprof u.txt "$G/prog"

# bad OUT PROG FILE SECTION REASON-RE: PROG's report (FILE: the file whose
# SECTION was spoiled) has one warning, naming FILE, SECTION and a reason
# matching REASON-RE; the same total as the good one; symbol-table names
# and no line.
bad() {
    local out=$1 prog=$2 file=$3 sec=$4 re=$5
    jeprof "$out" "$prog"
    [ "$(wc -l <"$out.err")" -eq 1 ] || { cat "$out.err"; fail "$out: not one warning line"; }
    grep -Eq "^warning: '[^']*$file': cannot read debug section '$sec'( \(and [0-9]+ more sections?\))?: .*$re" "$out.err" ||
        { cat "$out.err"; fail "$out: no warning naming $file, '$sec' and /$re/"; }
    [ "$(head -n 1 "$out")" = "$(head -n 1 u.txt)" ] || { head -n 3 "$out"; fail "$out: total changed"; }
    ! grep -Eq ':[0-9]+( \(discriminator [0-9]+\))?$' "$out" || { cat "$out"; fail "$out: a file:line from a broken DWARF"; }
    grep -Eq ' main$' "$out" && grep -Eq ' recurse$' "$out" || { cat "$out"; fail "$out: no symbol-table names"; }
    echo "ok   $out: $(cut -c1-150 "$out.err")"
}
mkdir -p b
while read -r src sec mode re; do
    python3 "$CORRUPT" $src/prog "b/$src$sec.$mode" "$sec" "$mode" || fail "cannot spoil $sec ($mode)"
    bad "b$src$sec.$mode.txt" "b/$src$sec.$mode" "b/$src$sec.$mode" "$sec" "$re"
done <<'EOF'
z .debug_info xor corrupt zstd data
h .debug_line flip corrupt zstd data
z .debug_line cut corrupt zstd data
h .debug_rnglists flip corrupt zstd data
z .debug_abbrev type=9 unknown method \(ch_type 9\)
z .debug_str past truncated: it ends at byte [0-9]+, the file has [0-9]+
z .debug_info size header says [0-9]+
EOF

# Two sections spoiled: still one warning for the file.
python3 "$CORRUPT" z/prog two1 .debug_line xor && python3 "$CORRUPT" two1 two .debug_str type=7 ||
    fail "cannot spoil two sections"
bad two.txt ./two two .debug_line 'corrupt zstd data'
grep -q "'.debug_line' (and 1 more section): " two.txt.err || { cat two.txt.err; fail "two: the other section not counted"; }

# zlib too (libdw would drop the section without a word).
objcopy --compress-debug-sections=zlib "$G/prog" zl || fail "objcopy --compress-debug-sections=zlib"
readelf -t zl | grep -q 'ZLIB' || skip "objcopy made no zlib-compressed section"
python3 "$CORRUPT" zl zlbad .debug_line xor || fail "cannot spoil zlib"
bad zl.txt ./zlbad zlbad .debug_line 'corrupt zlib data'

# GNU's older .zdebug_* sections ("ZLIB", size, zlib stream; libdw
# inflates them itself and drops a corrupt one without a word).
objcopy --compress-debug-sections=zlib-gnu "$G/prog" gnu || fail "objcopy --compress-debug-sections=zlib-gnu"
readelf -SW gnu | grep -q '\.zdebug_info' || skip "objcopy made no .zdebug_info"
jeprof gnu.txt ./gnu
[ ! -s gnu.txt.err ] && cmp -s u.txt gnu.txt || { cat gnu.txt.err; diff u.txt gnu.txt; fail ".zdebug: --lines differs"; }
python3 "$CORRUPT" gnu gnubad .zdebug_info xor || fail "cannot spoil .zdebug_info"
bad gnubad.txt ./gnubad gnubad .zdebug_info 'corrupt zlib data'
python3 "$CORRUPT" gnu gnumagic .zdebug_line type=7 || fail "cannot spoil .zdebug_line"
bad gnumagic.txt ./gnumagic gnumagic .zdebug_line 'no "ZLIB" header'

# A spoiled separate debug file: named in the warning.
mkdir -p db
python3 "$CORRUPT" prog.debug db/prog.debug .debug_info flip || fail "cannot spoil the debug file"
(cd db && objcopy --strip-all --add-gnu-debuglink=prog.debug "$G/prog" prog) || fail "debuglink (spoiled)"
bad db.txt db/prog db/prog.debug .debug_info 'corrupt zstd data'
# Files cut short (their section header table past the end): the
# program, and a debug file found by .gnu_debuglink and by build id. No
# symbol and no DWARF can be read; one warning says so, frames are shown
# as module+offset, never with a line.
# cut_short OUT PROG FILE: PROG's report, FILE named in the warning.
cut_short() {
    local out=$1 prog=$2 file=$3
    jeprof "$out" "$prog"
    [ "$(wc -l <"$out.err")" -eq 1 ] || { cat "$out.err"; fail "$out: not one warning line"; }
    grep -Eq "^warning: '[^']*$file': truncated: its section headers end at byte [0-9]+, the file has [0-9]+; no symbols or DWARF" "$out.err" ||
        { cat "$out.err"; fail "$out: no 'truncated' warning naming $file"; }
    [ "$(head -n 1 "$out")" = "$(head -n 1 u.txt)" ] || { head -n 3 "$out"; fail "$out: total changed"; }
    ! grep -Eq ':[0-9]+$' "$out" || { cat "$out"; fail "$out: a file:line from a file cut short"; }
    grep -q ' gprog+0x' "$out" || { cat "$out"; fail "$out: frames not module+offset"; }
    echo "ok   $out: $(cut -c1-150 "$out.err")"
}
mkdir -p short/dl short/bid
head -c $(($(stat -c %s z/prog) / 2)) z/prog >short/prog
cut_short short.txt short/prog short/prog
head -c $(($(stat -c %s prog.debug) / 2)) prog.debug >short/dl/prog.debug
(cd short/dl && objcopy --strip-all --add-gnu-debuglink=prog.debug "$G/prog" prog) || fail "debuglink (cut short)"
cut_short shortdl.txt short/dl/prog short/dl/prog.debug
id=$(readelf -n "$G/prog" | awk '/Build ID/ {print $3}')
mkdir -p "short/dbg/.build-id/${id:0:2}"
cp short/dl/prog.debug "short/dbg/.build-id/${id:0:2}/${id:2}.debug"
objcopy --strip-all "$G/prog" short/bid/prog || fail "strip"
JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/short/dbg" cut_short shortbid.txt short/bid/prog "${id:2}.debug"

# A dwz alt file (.gnu_debugaltlink) compressed with zstd: libdwfl opens
# and reads it itself (no copy can stand in), so it is warned about; the
# program's own DWARF still gives its lines.
mkdir -p alt
echo 'int x; int main(void) { return x; }' >alt/t.c
gcc -g -o alt/t alt/t.c || fail "cannot build alt/t"
./zelf alt/t alt/alt.debug || fail "jeprof_zstd_elf on alt/t"
aid=$(readelf -n alt/alt.debug | awk '/Build ID/ {print $3}')
[ -n "$aid" ] || skip "gcc gives no build id"
python3 -c "import sys; open('alt/link', 'wb').write(b'alt.debug\0' + bytes.fromhex(sys.argv[1]))" "$aid"
objcopy --add-section .gnu_debugaltlink=alt/link "$G/prog" alt/prog || fail "objcopy --add-section"
jeprof alt.txt alt/prog
grep -Eq "^warning: '[^']*alt/alt\.debug': cannot read debug section '\.debug_[a-z_]+' \(and [0-9]+ more sections\): compressed with zstd, in a dwz file; libdw reads the file itself" alt.txt.err ||
    { cat alt.txt.err; fail "zstd dwz alt file: no warning"; }
[ "$(wc -l <alt.txt.err)" -eq 1 ] || { cat alt.txt.err; fail "zstd dwz alt file: not one warning line"; }
cmp -s u.txt alt.txt || { diff u.txt alt.txt; fail "zstd dwz alt file: the program's own lines changed"; }
echo "ok   zstd dwz alt file: $(cut -c1-150 alt.txt.err)"
echo "ok"
