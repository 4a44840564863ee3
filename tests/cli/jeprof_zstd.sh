#!/usr/bin/env bash
# zstd-compressed DWARF (SHF_COMPRESSED, ELFCOMPRESS_ZSTD), which libdw
# 0.188 skips without a word. Made by binutils (objcopy and ld
# --compress-debug-sections=zstd; Debian 12's gcc rejects -gz=zstd) and by
# jeprof_zstd_elf.c (every .debug_* section, checksummed frames; it stands
# in where binutils writes no zstd):
# - golden/prog compressed gives the same --text --lines as uncompressed,
#   hold (inline) on prog_a.c:16 and main on prog_a.c:77, with no warning;
# - so does a zstd-compressed separate debug file, found by .gnu_debuglink
#   and by build id;
# - callsite/leaf.c built with gcc -O2 -g, linked with zstd DWARF, and run
#   under liballoc: every marked allocating line, the inlined one too,
#   carries its bytes in --lines (heap_v2 and pprof).
# (Broken sections: jeprof_zstd_corrupt.sh.)
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc objcopy readelf
G=$ROOT/tests/cli/golden
cd "$WORK"
gcc -O1 -o zelf "$ROOT/tests/cli/jeprof_zstd_elf.c" -lzstd || fail "cannot build jeprof_zstd_elf (libzstd-dev)"

# jeprof OUT PROG: --text --lines of golden/prog.heap with PROG into OUT
# (stderr into OUT.err); exit status checked.
jeprof() {
    "$JEPROF_C" --quiet --text --lines "$2" "$G/prog.heap" >"$1" 2>"$1.err" ||
        { cat "$1.err"; fail "jeprof-c on $2: exit $?"; }
}
is_zstd() { readelf -t "$1" 2>/dev/null | grep -q 'ZSTD'; }

# zstd_copy IN OUT [objcopy options]: OUT, IN with its DWARF compressed by
# objcopy, or by the helper when this objcopy writes no zstd.
binutils_zstd=1
zstd_copy() {
    local in=$1 out=$2; shift 2
    objcopy "$@" --compress-debug-sections=zstd "$in" "$out" 2>/dev/null && is_zstd "$out" && return 0
    binutils_zstd=0
    objcopy "$@" "$in" "$out.plain" && ./zelf "$out.plain" "$out" || fail "jeprof_zstd_elf on $in"
}

# The program itself compressed, by objcopy and by the helper.
jeprof u.txt "$G/prog"
mkdir -p z h
zstd_copy "$G/prog" z/prog
./zelf "$G/prog" h/prog || fail "jeprof_zstd_elf on golden/prog"
for p in z/prog h/prog; do
    is_zstd $p || fail "$p has no zstd-compressed section"
    jeprof $p.txt $p
    [ ! -s $p.txt.err ] || { cat $p.txt.err; fail "$p: a warning for a good zstd file"; }
    cmp -s u.txt $p.txt || { diff u.txt $p.txt; fail "$p: --lines differs from uncompressed"; }
    grep -Eq '^ +3\.9 +85\.2% .* hold \(inline\) /.*/prog_a\.c:16$' $p.txt ||
        { cat $p.txt; fail "$p: no 'hold (inline) prog_a.c:16' row (3.9 MB)"; }
    grep -Eq '^ +0\.0 +0\.4% .* main /.*/prog_a\.c:77$' $p.txt || { cat $p.txt; fail "$p: no 'main prog_a.c:77' row"; }
    echo "ok   $p, zstd: hold (inline) prog_a.c:16, main prog_a.c:77, same as uncompressed"
done

# A separate debug file compressed, found by .gnu_debuglink and by build id.
objcopy --only-keep-debug "$G/prog" plain.debug || fail objcopy
zstd_copy "$G/prog" prog.debug --only-keep-debug
is_zstd prog.debug || fail "prog.debug has no zstd-compressed section"
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

# A program built and profiled here, linked with zstd DWARF.
SRC=$CS/leaf.c
gcc -O2 -g -Wl,--compress-debug-sections=zstd -o leafz "$SRC" 2>/dev/null && is_zstd leafz || {
    binutils_zstd=0
    gcc -O2 -g -o leaf "$SRC" && ./zelf leaf leafz && chmod +x leafz || fail "cannot build leafz"
}
ours "$WORK/leafz" leafz
"$JEPROF_C" --quiet --text --lines "$WORK/leafz" "$HEAP" >leaf_hv2.txt 2>leaf.err || fail "jeprof-c on leafz"
"$JEPROF_C" --quiet --text --lines "$WORK/leafz" "$PB" >leaf_pb.txt 2>>leaf.err || fail "jeprof-c on leafz .pb.gz"
[ ! -s leaf.err ] || { cat leaf.err; fail "a warning for leafz"; }
for out in leaf_hv2.txt leaf_pb.txt; do
    has_flat "zstd gcc -O2 $out" $out "leaf.c:$(mark "$SRC" REC)" make_record
    has_flat "zstd gcc -O2 $out" $out "leaf.c:$(mark "$SRC" ZERO)" make_zeroed
    has_flat "zstd gcc -O2 $out" $out "leaf.c:$(mark "$SRC" GROW)" grow
    has_flat "zstd gcc -O2 $out" $out "leaf.c:$(mark "$SRC" INL)" 'inl_alloc \(inline\)'
done
[ $NFAIL -eq 0 ] || fail "$NFAIL checks failed"
[ $binutils_zstd = 1 ] || echo "note: this binutils writes no zstd; jeprof_zstd_elf made those files"
echo "ok"
