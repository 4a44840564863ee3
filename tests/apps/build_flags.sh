#!/usr/bin/env bash
# The build tree's flags stamp (Makefile, FLAGS_STAMP): building into a
# tree with other flags recompiles its objects. In a scratch tree (BUILD=,
# so the suite's own build/ is never touched), one library object:
#   - built, it is up to date (make -q answers 0);
#   - asked for with MODE=debug, it is out of date (make -q answers 1;
#     before the stamp it answered 0 and `make MODE=debug` reused the
#     release object), and rebuilt it is -O0, up to date again;
#   - asked for with the release flags again, it is out of date once more.
. "$(dirname "$0")/lib.sh"
need readelf
unset MAKEFLAGS MFLAGS MAKELEVEL # a make of its own, not a part of the caller's
cd "$ROOT" || fail "cd $ROOT"
B=$TMP/tree
OBJ=$B/obj/liballoc/base.o
opt_of() { readelf --debug-dump=info "$OBJ" 2>/dev/null | grep -m1 DW_AT_producer | grep -o -- ' -O[0-9s]' | tr -d ' '; }

make -s BUILD="$B" "$OBJ" >/dev/null 2>&1 || fail "building $OBJ"
make -q BUILD="$B" "$OBJ" || fail "release object out of date right after its build"
[ "$(opt_of)" = -O2 ] || fail "release object built with '$(opt_of)', not -O2"

make -q BUILD="$B" MODE=debug "$OBJ" && fail "MODE=debug finds the release object up to date"
make -s BUILD="$B" MODE=debug "$OBJ" >/dev/null 2>&1 || fail "building $OBJ with MODE=debug"
[ "$(opt_of)" = -O0 ] || fail "MODE=debug object built with '$(opt_of)', not -O0"
make -q BUILD="$B" MODE=debug "$OBJ" || fail "debug object out of date right after its build"

make -q BUILD="$B" "$OBJ" && fail "the release flags find the debug object up to date"
echo "ok: objects follow the tree's flags"
