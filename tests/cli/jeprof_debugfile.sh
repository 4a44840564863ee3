#!/usr/bin/env bash
# Separate debug files as debugfile.c hands them to libdwfl:
# - a zlib-compressed debug file (as Debian's -dbg/-dbgsym ship them), found
#   by .gnu_debuglink or by build id, gives the same report, byte for byte,
#   as the uncompressed one, and is read through the inflated in-memory copy
#   (a memfd named jeprof-c-debuginfo); a corrupt compressed section is no
#   crash (names from the symbol table, the same total);
# - the files are opened on the prefetch thread, not the main one;
# - with no debug file and no server configured (DEBUGINFOD_URLS unset),
#   libdebuginfod is not loaded; with a server configured it is (asked).
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need objcopy readelf python3
G=$ROOT/tests/cli/golden
cd "$WORK"
objcopy --only-keep-debug "$G/prog" plain.debug || fail objcopy
objcopy --only-keep-debug --compress-debug-sections=zlib "$G/prog" prog.debug || fail "objcopy --compress-debug-sections"
readelf -SW prog.debug | grep -q '\.debug_info .* C ' || skip "objcopy made no compressed .debug_info"
mkdir -p z u bid stripped
(cd z && objcopy --strip-all --add-gnu-debuglink=../prog.debug "$G/prog" prog && cp ../prog.debug .)
(cd u && objcopy --strip-all --add-gnu-debuglink=../plain.debug "$G/prog" prog && cp ../plain.debug .)
bid=$(readelf -n "$G/prog" | awk '/Build ID/ {print $3}')
[ -n "$bid" ] || skip "no build id in golden/prog"
mkdir -p "dbg/.build-id/${bid:0:2}"
cp prog.debug "dbg/.build-id/${bid:0:2}/${bid:2}.debug"
objcopy --strip-all "$G/prog" bid/prog
objcopy --strip-all "$G/prog" stripped/prog

for mode in --text --lines --addresses; do
    "$JEPROF_C" --quiet $mode u/prog "$G/prog.heap" >"u$mode.txt" || fail "uncompressed $mode"
    "$JEPROF_C" --quiet $mode z/prog "$G/prog.heap" >"z$mode.txt" || fail "compressed $mode"
    JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/dbg" "$JEPROF_C" --quiet $mode bid/prog "$G/prog.heap" \
        >"b$mode.txt" || fail "build id $mode"
    cmp -s "u$mode.txt" "z$mode.txt" || { diff "u$mode.txt" "z$mode.txt"; fail "$mode: compressed debuglink file differs"; }
    cmp -s "u$mode.txt" "b$mode.txt" || { diff "u$mode.txt" "b$mode.txt"; fail "$mode: compressed build-id file differs"; }
done
grep -Eq ' main [^ ]*prog_a?\.c:[0-9]+$|main .*:[0-9]+$' u--lines.txt || { cat u--lines.txt; fail "--lines has no main with a line"; }
grep -q ' hold$' u--text.txt || { cat u--text.txt; fail "no 'hold' row: DWARF names missing"; }
echo "ok   compressed debug file (debuglink, build id): same --text, --lines, --addresses as uncompressed"

if command -v strace >/dev/null 2>&1; then
    strace -f -o trace.txt -e trace=memfd_create,openat "$JEPROF_C" --quiet --text z/prog "$G/prog.heap" >/dev/null ||
        fail "strace run"
    grep -q 'memfd_create("jeprof-c-debuginfo"' trace.txt || { cat trace.txt; fail "the compressed file was not inflated into a memfd"; }
    main=$(head -n 1 trace.txt | awk '{print $1}')
    opener=$(grep 'z/prog.debug"' trace.txt | grep -v ENOENT | head -n 1 | awk '{print $1}')
    [ -n "$opener" ] || { cat trace.txt; fail "prog.debug never opened"; }
    [ "$opener" != "$main" ] || { cat trace.txt; fail "prog.debug opened by the main thread ($main), not the prefetch thread"; }
    echo "ok   inflated into a memfd; debug file opened by the prefetch thread ($opener, main $main)"
else
    echo "skip strace checks (no strace)"
fi

# A corrupt zlib stream in .debug_info: libdeflate refuses it, libdw too;
# the report still comes, names from the symbol table, same total.
python3 - prog.debug bad.debug <<'EOF' || fail "cannot corrupt"
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', d, 0x3a)
def sh(i):
    return struct.unpack_from('<IIQQQQIIQQ', d, shoff + i * shentsize)
stro = sh(shstrndx)[4]
for i in range(shnum):
    s = sh(i)
    name = d[stro + s[0]:d.index(b'\0', stro + s[0])]
    if name == b'.debug_info':
        off, size = s[4], s[5]
        for k in range(off + 24 + 2, off + size - 4):   # past Chdr and zlib header
            d[k] ^= 0x5a
open(sys.argv[2], 'wb').write(d)
EOF
mkdir -p bad
(cd bad && objcopy --strip-all --add-gnu-debuglink=../bad.debug "$G/prog" prog && cp ../bad.debug .)
"$JEPROF_C" --quiet --text bad/prog "$G/prog.heap" >bad.txt 2>bad.err || { cat bad.err; fail "corrupt debug file: exit $?"; }
[ "$(head -n 1 bad.txt)" = "$(head -n 1 u--text.txt)" ] || { cat bad.txt; fail "corrupt debug file: total changed"; }
grep -q ' main$' bad.txt || { cat bad.txt; fail "corrupt debug file: no symbol-table names"; }
echo "ok   corrupt compressed section: report from the symbol table, same total"

# No debug file anywhere: libdwfl would dlopen libdebuginfod (libcurl,
# GnuTLS...) for nothing unless a server is configured.
if ldconfig -p 2>/dev/null | grep -q 'libdebuginfod\.so'; then
    env -u DEBUGINFOD_URLS LD_DEBUG=files JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/nowhere" \
        "$JEPROF_C" --quiet --text stripped/prog "$G/prog.heap" >none.txt 2>ld.txt || fail "stripped run"
    ! grep -q 'file=libdebuginfod' ld.txt || fail "libdebuginfod loaded with no server configured"
    grep -q ' gprog+0x' none.txt || { cat none.txt; fail "stripped frames not module+0xoffset"; }
    mkdir -p cache
    XDG_CACHE_HOME=$WORK/cache DEBUGINFOD_CACHE_PATH=$WORK/cache/d DEBUGINFOD_TIMEOUT=2 \
        DEBUGINFOD_URLS=http://127.0.0.1:1/ LD_DEBUG=files JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/nowhere" \
        "$JEPROF_C" --quiet --text stripped/prog "$G/prog.heap" >srv.txt 2>ld2.txt || fail "run with a server"
    grep -q 'file=libdebuginfod' ld2.txt || fail "a configured server was not asked (libdebuginfod not loaded)"
    cmp -s none.txt srv.txt || fail "the unreachable server changed the report"
    echo "ok   libdebuginfod loaded only when DEBUGINFOD_URLS names a server"
else
    echo "skip debuginfod checks (no libdebuginfod)"
fi
