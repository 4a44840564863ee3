#!/usr/bin/env bash
# zstd-compressed DWARF (SHF_COMPRESSED, ELFCOMPRESS_ZSTD: gcc -gz=zstd,
# objcopy --compress-debug-sections=zstd), which libdw 0.188 skips without
# a word: golden/prog with its .debug_* sections compressed with zstd (by
# jeprof_zstd_elf.c: Debian 12's gcc rejects -gz=zstd and its objcopy
# leaves the sections as they are) gives the same --text --lines as the
# uncompressed one, hold (inline) on prog_a.c:16 and main on prog_a.c:77,
# with no warning; so does a zstd-compressed separate debug file, found by
# .gnu_debuglink and by build id. (Broken sections: jeprof_zstd_corrupt.sh.)
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need gcc objcopy readelf python3
G=$ROOT/tests/cli/golden
cd "$WORK"
gcc -O1 -o zelf "$ROOT/tests/cli/jeprof_zstd_elf.c" -lzstd || fail "cannot build jeprof_zstd_elf (libzstd-dev)"

# jeprof OUT PROG: --text --lines of golden/prog.heap with PROG into OUT
# (stderr into OUT.err); exit status checked.
jeprof() {
    "$JEPROF_C" --quiet --text --lines "$2" "$G/prog.heap" >"$1" 2>"$1.err" ||
        { cat "$1.err"; fail "jeprof-c on $2: exit $?"; }
}

# The program itself compressed.
mkdir -p z
./zelf "$G/prog" z/prog || fail "jeprof_zstd_elf on golden/prog"
readelf -t z/prog | grep -q 'ZSTD' || fail "z/prog has no zstd-compressed section"
jeprof u.txt "$G/prog"
jeprof z.txt z/prog
[ ! -s z.txt.err ] || { cat z.txt.err; fail "a warning for a good zstd file"; }
cmp -s u.txt z.txt || { diff u.txt z.txt; fail "zstd-compressed program: --lines differs from uncompressed"; }
grep -Eq '^ +3\.9 +85\.2% .* hold \(inline\) /.*/prog_a\.c:16$' z.txt ||
    { cat z.txt; fail "no 'hold (inline) prog_a.c:16' row (3.9 MB)"; }
grep -Eq '^ +0\.0 +0\.4% .* main /.*/prog_a\.c:77$' z.txt || { cat z.txt; fail "no 'main prog_a.c:77' row"; }
echo "ok   zstd-compressed program: hold (inline) prog_a.c:16, main prog_a.c:77, same as uncompressed"

# A separate debug file compressed, found by .gnu_debuglink and by build id.
objcopy --only-keep-debug "$G/prog" plain.debug || fail objcopy
./zelf plain.debug prog.debug || fail "jeprof_zstd_elf on the debug file"
mkdir -p du dz bid
(cd du && cp ../plain.debug prog.debug && objcopy --strip-all --add-gnu-debuglink=prog.debug "$G/prog" prog) ||
    fail "debuglink (plain)"
(cd dz && cp ../prog.debug . && objcopy --strip-all --add-gnu-debuglink=prog.debug "$G/prog" prog) ||
    fail "debuglink (zstd)"
objcopy --strip-all "$G/prog" bid/prog || fail "strip"
id=$(readelf -n "$G/prog" | awk '/Build ID/ {print $3}')
[ -n "$id" ] || fail "no build id in golden/prog"
mkdir -p "dbg/.build-id/${id:0:2}"
cp prog.debug "dbg/.build-id/${id:0:2}/${id:2}.debug"
jeprof du.txt du/prog
jeprof dz.txt dz/prog
JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/dbg" jeprof bid.txt bid/prog
[ ! -s dz.txt.err ] && [ ! -s bid.txt.err ] || { cat dz.txt.err bid.txt.err; fail "a warning for a good zstd debug file"; }
grep -Eq ' main /.*/prog_a\.c:77$' du.txt || { cat du.txt; fail "plain debug file: no 'main prog_a.c:77' row"; }
cmp -s du.txt dz.txt || { diff du.txt dz.txt; fail "zstd debug file (debuglink): --lines differs from uncompressed"; }
cmp -s du.txt bid.txt || { diff du.txt bid.txt; fail "zstd debug file (build id): --lines differs from uncompressed"; }
echo "ok   zstd-compressed debug file (debuglink, build id): same --lines as uncompressed"

echo "ok"
