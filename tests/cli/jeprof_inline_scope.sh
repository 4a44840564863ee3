#!/usr/bin/env bash
# Names of inlined frames without a DWARF linkage name (issue 12, point 3):
# g++ -O2 gives none to a lambda's operator() or to a template instantiated
# with a lambda's type, so jeprof-c qualifies DW_AT_name by the enclosing
# namespaces, classes and functions (tests/cli/callsite/inl_scope.cc).
# Checked: the two allocating lambdas have rows of their own named
# "main::{lambda...}::operator()" on their lines (never a bare "operator()"
# row merging them), and the sort comparator's stack shows std::sort and
# std::__final_insertion_sort qualified.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need g++
SRC=$CS/inl_scope.cc
CMP=inl_scope.cc:$(mark "$SRC" CMP)
TWICE=inl_scope.cc:$(mark "$SRC" TWICE)
g++ -O2 -g -o "$WORK/inl" "$SRC" || fail "cannot build inl_scope.cc"
ours "$WORK/inl" inl
"$JEPROF_C" --quiet --text --lines "$WORK/inl" "$HEAP" >"$WORK/lines.txt" || fail "jeprof-c failed"
has_flat "g++ -O2 --lines" "$WORK/lines.txt" "$CMP" '^ *[0-9.]+ .* main::\{lambda\}::operator\(\) \(inline\)'
has_flat "g++ -O2 --lines" "$WORK/lines.txt" "$TWICE" 'main::\{lambda[^}]*\}::operator\(\)'
"$JEPROF_C" --quiet --text "$WORK/inl" "$HEAP" >"$WORK/text.txt" || fail "jeprof-c failed"
if grep -Eq '[0-9]% (operator\(\)|__sort|sort)( \(inline\))?$' "$WORK/text.txt"; then
    cat "$WORK/text.txt"; fail "an unqualified inlined name is a row"
fi
echo "ok   no unqualified row"
"$JEPROF_C" --quiet --traces "$WORK/inl" "$HEAP" >"$WORK/traces.txt" || fail "jeprof-c --traces failed"
for f in 'std::sort \(inline\)' 'std::__final_insertion_sort \(inline\)'; do
    grep -Eq "^ +$f\$" "$WORK/traces.txt" || { cat "$WORK/traces.txt"; fail "no frame /$f/ in --traces"; }
    echo "ok   --traces: $f"
done
# go tool pprof on jeprof-c --pprof keeps the name whole (a system name
# equal to the name would have it strip "()": "main::{lambda}::operator").
if command -v go >/dev/null; then
    "$JEPROF_C" --quiet --pprof="$WORK/sym.pb.gz" "$WORK/inl" "$HEAP" || fail "jeprof-c --pprof failed"
    HOME=$WORK PPROF_TMPDIR=$WORK go tool pprof -top -nodecount=100 "$WORK/sym.pb.gz" >"$WORK/go.txt" 2>"$WORK/go.err" ||
        { cat "$WORK/go.err"; fail "go tool pprof failed"; }
    grep -Eq ' main::\{lambda\}::operator\(\) \(inline\)$' "$WORK/go.txt" ||
        { cat "$WORK/go.txt"; fail "go tool pprof -top: no main::{lambda}::operator() row"; }
    echo "ok   go tool pprof -top: main::{lambda}::operator()"
else
    echo "skip go tool pprof: not installed"
fi
[ $NFAIL -eq 0 ] || fail "$NFAIL checks failed"
echo "ok"
