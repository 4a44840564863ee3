#!/usr/bin/env bash
# jeprof-c's names, unit by unit, on a table of tricky names
# (tests/cli/jeprof/names.table): C++ and Rust (legacy and v0) symbols are
# demangled by libiberty and simplified as pprof does (operators, lambdas,
# anonymous namespaces, <T as Trait> and closures kept; parameters,
# templates, return types, clone suffixes and Rust hashes gone), and each
# simplified name is or is not allocator plumbing as the table says.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
# The driver is built by tests/tests.mk (jeprof-c's objects, the build's flags).
NAMES=$ROOT/build/tests/cli/names_table
[ -x "$NAMES" ] || fail "$NAMES is not built (run make test)"
"$NAMES" "$TESTDIR/names.table" || fail "names differ"
echo "ok"
