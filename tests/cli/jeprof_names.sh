#!/usr/bin/env bash
# jeprof-c's names, unit by unit, on a table of tricky names
# (tests/cli/jeprof/names.table): C++ and Rust (legacy and v0) symbols are
# demangled by libiberty and simplified as pprof does (operators, lambdas,
# anonymous namespaces, <T as Trait> and closures kept; parameters,
# templates, return types, clone suffixes and Rust hashes gone), and each
# simplified name is or is not allocator plumbing as the table says.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need gcc
objs=$(ls "$ROOT"/build/obj/jeprof-c/*.o | grep -v '/main\.o$')
gcc -O1 -g -I"$ROOT/jeprof-c" -o "$WORK/names" "$TESTDIR/names_table.c" $objs \
    "$ROOT/build/obj/proto/profile.pb-c.o" -ldw -lelf -lz -lprotobuf-c -liberty -lm ||
    fail "cannot build the names driver"
"$WORK/names" "$TESTDIR/names.table" || fail "names differ"
echo "ok"
