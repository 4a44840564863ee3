#!/usr/bin/env bash
# Never a borrowed name (issue 12, point 4): a library rebuilt after the
# dump, a program rebuilt after the dump, and a library replaced while the
# process ran (the dump marks it " (deleted)") must each be refused with a
# warning on stderr naming the file, their frames kept as file+0xoffset and
# none of the new file's names shown; this for our heap_v2 (build IDs), the
# same dump without its build_id lines (what jemalloc writes: "(deleted)",
# and another inode changed after the dump was written), our .pb.gz, and a dump of Debian's jemalloc. With
# the original kept under a .build-id debug path, the names are right.
# go tool pprof and Debian's jeprof must not show the replaced library's
# names either for the "(deleted)" case (when installed).
# The library and program are compiled here on purpose: the test replaces
# the library file under a recorded profile and rebuilds it.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc readelf
R=$ROOT/tests/cli/replaced
NEW='lib_alloc_rebuilt|rebuilt_pad_|prog_alloc_rebuilt|prog_pad_'
cd "$WORK"
build_lib() { gcc -O1 -g -shared -fPIC $1 -o "$2" "$R/lib.c" || fail "cannot build lib.c $1"; }
build_prog() { gcc -O1 -g $1 -o "$2" "$R/main.c" -L"$WORK" -lreplaced -Wl,-rpath,"$WORK" || fail "cannot build main.c $1"; }
replace() { # builder flags path: a new file (new inode) renamed over path
    "$1" "$2" "$3.new" && mv -f "$3.new" "$3"
}
strip_bid() { grep -v '^# build_id ' "$1" >"$2"; }

# refused LABEL FILE-RE OFFSET-NAME PROG PROFILE...: jeprof-c warns naming
# FILE-RE, shows OFFSET-NAME+0x..., and no name of the rebuilt files.
refused() {
    local label=$1 file=$2 off=$3; shift 3
    "$JEPROF_C" --quiet --text "$@" >out.txt 2>err.txt || { cat err.txt; fail "$label: jeprof-c failed"; }
    grep -Eq "^warning: .*'[^']*$file'" err.txt || { cat err.txt out.txt; fail "$label: no warning naming $file"; }
    grep -q " $off+0x[0-9a-f]*\$" out.txt || { cat err.txt out.txt; fail "$label: no $off+0xoffset frame"; }
    ! grep -Eq "$NEW" out.txt || { cat out.txt; fail "$label: a name borrowed from the rebuilt file"; }
    echo "ok   $label"
}

build_lib "" libreplaced.so
build_prog "" prog
mkdir -p keep && cp libreplaced.so prog keep/
ours "$WORK/prog" a
cp "$HEAP" a.heap; cp "$PB" a.pb.gz; strip_bid a.heap a_nobid.heap
grep -q '^# build_id ' a.heap || fail "our heap_v2 dump has no build_id lines"
"$JEPROF_C" --quiet --text ./prog a.heap >out.txt 2>err.txt || fail "jeprof-c failed"
grep -q ' lib_alloc_original$' out.txt && grep -q ' prog_alloc_original$' out.txt && [ ! -s err.txt ] ||
    { cat err.txt out.txt; fail "unchanged files: names missing or a warning"; }
echo "ok   unchanged files: names, no warning"
JE=""
if [ -f "$JEMALLOC_SO" ] && JE=$(jemalloc_dump ./prog 0 je); then cp "$JE" je.heap; else JE=""; fi

"$JEPROF_C" --quiet --pprof=sym.pb.gz ./prog a.heap || fail "jeprof-c --pprof failed"

# 1. The library rebuilt after the dump.
replace build_lib -DREBUILT "$WORK/libreplaced.so"
# A profile that carries its names (jeprof-c --pprof output) needs no file:
# no warning, its own names.
"$JEPROF_C" --quiet --text ./prog sym.pb.gz >out.txt 2>err.txt || fail "jeprof-c failed on sym.pb.gz"
grep -q ' lib_alloc_original$' out.txt && [ ! -s err.txt ] ||
    { cat err.txt out.txt; fail "symbolized pprof: a warning, or its names lost"; }
echo "ok   library rebuilt: a symbolized pprof keeps its names, no warning"
refused "library rebuilt: our heap_v2" libreplaced.so libreplaced.so ./prog a.heap
refused "library rebuilt: heap_v2 without build IDs" libreplaced.so libreplaced.so ./prog a_nobid.heap
"$JEPROF_C" --quiet --text ./prog a.pb.gz >out.txt 2>err.txt || fail "jeprof-c failed on .pb.gz"
grep -q "^warning: .*libreplaced.so" err.txt && ! grep -Eq "$NEW" out.txt ||
    { cat err.txt out.txt; fail "library rebuilt: our .pb.gz: no warning or a borrowed name"; }
echo "ok   library rebuilt: our .pb.gz"
[ -n "$JE" ] && refused "library rebuilt: jemalloc's heap_v2" libreplaced.so libreplaced.so ./prog je.heap
bid=$(readelf -n keep/libreplaced.so | awk '/Build ID/ {print $3}')
[ -n "$bid" ] || fail "no build id in the library"
mkdir -p "dbg/.build-id/${bid:0:2}" && cp keep/libreplaced.so "dbg/.build-id/${bid:0:2}/${bid:2}.debug"
JEPROF_C_DEBUGINFO_PATH="-:.debug:$WORK/dbg" "$JEPROF_C" --quiet --text ./prog a.heap >out.txt 2>err.txt ||
    fail "jeprof-c failed"
grep -q ' lib_alloc_original$' out.txt && ! grep -Eq "$NEW" out.txt && [ ! -s err.txt ] ||
    { cat err.txt out.txt; fail "library rebuilt, original under .build-id: names not right"; }
echo "ok   library rebuilt, original under a .build-id debug path: its names"
cp keep/libreplaced.so libreplaced.so.new && mv -f libreplaced.so.new libreplaced.so
# The same library at the path under another inode, older than the dump (a
# copy deployed before the dump was taken, e.g. the dump read elsewhere):
# a dump without build IDs cannot tell, and it is trusted, as jeprof does.
cp a_nobid.heap a_nobid_later.heap
"$JEPROF_C" --quiet --text ./prog a_nobid_later.heap >out.txt 2>err.txt || fail "jeprof-c failed"
grep -q ' lib_alloc_original$' out.txt && [ ! -s err.txt ] ||
    { cat err.txt out.txt; fail "a copy older than the dump (no build IDs): refused"; }
echo "ok   same library, other inode, older than the dump: trusted"

# 2. The program rebuilt after the dump (named on the command line, and
# renamed: a copy elsewhere under another name).
replace build_prog -DREBUILT "$WORK/prog"
refused "program rebuilt: our heap_v2" prog prog ./prog a.heap
refused "program rebuilt: heap_v2 without build IDs" prog prog ./prog a_nobid.heap
[ -n "$JE" ] && refused "program rebuilt: jemalloc's heap_v2" prog prog ./prog je.heap
mkdir -p other && cp prog other/renamed
refused "program rebuilt, given under another name" prog prog other/renamed a.heap
cp keep/prog prog.new && mv -f prog.new prog

# 3. The library replaced while the process ran: " (deleted)" in the dump.
build_lib -DREBUILT libnew.so
ours "$WORK/prog" d "$WORK/libreplaced.so" "$WORK/libnew.so"
cp "$HEAP" d.heap; cp "$PB" d.pb.gz; strip_bid d.heap d_nobid.heap
grep -q 'libreplaced.so (deleted)$' d.heap || fail "the dump does not mark the library (deleted)"
refused "mapping (deleted): our heap_v2" libreplaced.so libreplaced.so ./prog d.heap
refused "mapping (deleted): heap_v2 without build IDs" libreplaced.so libreplaced.so ./prog d_nobid.heap
"$JEPROF_C" --quiet --text ./prog d.pb.gz >out.txt 2>err.txt || fail "jeprof-c failed on .pb.gz"
grep -q "^warning: .*libreplaced.so" err.txt && ! grep -Eq "$NEW" out.txt ||
    { cat err.txt out.txt; fail "mapping (deleted): our .pb.gz: no warning or a borrowed name"; }
echo "ok   mapping (deleted): our .pb.gz"
if command -v go >/dev/null; then
    go_top "go pprof" d.pb.gz go.txt ./prog
    ! grep -Eq "$NEW" go.txt || { cat go.txt; fail "mapping (deleted): go tool pprof borrowed a name"; }
    echo "ok   mapping (deleted): go tool pprof shows no borrowed name"
fi
if command -v jeprof >/dev/null; then
    jeprof --text ./prog d.heap >jeprof.txt 2>/dev/null || fail "jeprof failed"
    ! grep -Eq "$NEW" jeprof.txt || { cat jeprof.txt; fail "mapping (deleted): Debian's jeprof borrowed a name"; }
    echo "ok   mapping (deleted): Debian jeprof shows no borrowed name"
fi
echo "ok"
