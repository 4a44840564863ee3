#!/usr/bin/env bash
# A C++ program (tests/cli/jeprof/names_cxx.cc: std::vector growth, a
# template's vector, std::map of std::string, an operator, a lambda in
# std::function, an anonymous namespace, unordered_map, deque, list,
# make_shared, string concatenation, ostringstream) profiled by our allocator: in
# jeprof-c's text, collapsed and flame graph outputs, in jeprof-c reading our
# .pb.gz, and in go tool pprof on jeprof-c --pprof output, the user's functions are the top
# frames with pprof's simplified names (no operator new, no
# std::__new_allocator::allocate, no mangled names); --keep_plumbing
# brings the plumbing back and --full_names the full names.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_names.sh"
need g++
# No hot/cold splitting: a function split into ranges loses its symbol-table
# name in jeprof-c's symbolizer today (DWARF entry lookup), a separate issue.
g++ -O2 -g -fno-reorder-blocks-and-partition -o "$WORK/cxx" "$TESTDIR/names_cxx.cc" ||
    fail "cannot build names_cxx.cc"
ours_dump "$WORK/cxx" cxx
LAMBDA='run_callback()::{lambda()#1}::operator()'
WANT=$(printf '%s\n' '(anonymous namespace)::grow_vector' 'app::Matrix::operator+' \
    'app::Pool::reserve_block' 'app::fill_map' "$LAMBDA" | sort)

"$JEPROF_C" --quiet --text --show_bytes "$WORK/cxx" "$HEAP" >"$WORK/text" || fail "jeprof-c --text"
cat "$WORK/text" | head -n 8
[ "$(top_names 5 "$WORK/text")" = "$WANT" ] || fail "text: top rows are not the user's functions"
want_at_least grow_vector "$(flat_of '(anonymous namespace)::grow_vector' "$WORK/text")" 1048576
want_at_least reserve_block "$(flat_of 'app::Pool::reserve_block' "$WORK/text")" 1200000
want_at_least operator+ "$(flat_of 'app::Matrix::operator+' "$WORK/text")" 960000
want_at_least lambda "$(flat_of "$LAMBDA" "$WORK/text")" 700000
want_at_least fill_map "$(flat_of 'app::fill_map' "$WORK/text")" 600000
want_at_least hash_map "$(flat_of 'more::hash_map' "$WORK/text")" 160000
want_at_least deque_blocks "$(flat_of 'more::deque_blocks' "$WORK/text")" 160000
want_at_least list_nodes "$(flat_of 'more::list_nodes' "$WORK/text")" 72000
want_at_least shared_vectors "$(flat_of 'more::shared_vectors' "$WORK/text")" 400000
want_at_least concat "$(flat_of 'more::concat' "$WORK/text")" 6000
want_at_least stream "$(flat_of 'more::stream' "$WORK/text")" 20000
# No library frame keeps a byte of its own: every flat byte is the user's.
awk '$1 > 0 {l = $0; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", l); print l}' "$WORK/text" |
    grep -E '^(std::|__gnu_cxx::|operator new)' && fail "text: a library frame has flat bytes"
echo "ok   text: the user's functions on top"

"$JEPROF_C" --quiet --collapsed "$WORK/cxx" "$HEAP" >"$WORK/coll" || fail "jeprof-c --collapsed"
grep -q ';main;(anonymous namespace)::grow_vector [0-9]*$' "$WORK/coll" || fail "collapsed: grow_vector stack"
grep -q ';run_callback;std::function::operator();.*;run_callback()::{lambda()#1}::operator() [0-9]*$' "$WORK/coll" ||
    fail "collapsed: lambda stack"
no_mangled "$WORK/text" "$WORK/coll"
if grep -E 'std::__new_allocator|std::allocator_traits|_M_realloc_insert|_M_default_append|operator new|_Rb_tree' \
    "$WORK/text" "$WORK/coll"; then fail "plumbing frames shown by default"; fi
echo "ok   collapsed: user's frames are the leaves, no plumbing, no mangled names"

if "$JEPROF_C" --quiet --flamegraph "$WORK/f.svg" "$WORK/cxx" "$HEAP" >/dev/null 2>&1 && [ -s "$WORK/f.svg" ]; then
    grep -q 'app::Pool::reserve_block' "$WORK/f.svg" || fail "flame graph: no reserve_block"
    if grep -q '__new_allocator' "$WORK/f.svg"; then fail "flame graph shows plumbing"; fi
    echo "ok   flame graph"
fi

if "$JEPROF_C" --quiet --dot "$WORK/cxx" "$HEAP" >"$WORK/dot" 2>/dev/null && [ -s "$WORK/dot" ]; then
    grep -qF 'label="run_callback()::{lambda()#1}::operator()\n' "$WORK/dot" || fail "call graph: lambda label"
    if grep -q '__new_allocator' "$WORK/dot"; then fail "call graph shows plumbing"; fi
    echo "ok   call graph"
fi

"$JEPROF_C" --quiet --keep_plumbing --text --show_bytes "$WORK/cxx" "$HEAP" >"$WORK/keep" || fail "--keep_plumbing"
[ "$(top_names 1 "$WORK/keep")" = "std::__new_allocator::allocate (inline)" ] ||
    { head -n 4 "$WORK/keep"; fail "--keep_plumbing: top row is not std::__new_allocator::allocate"; }
grep -q ' std::vector::_M_realloc_insert$' "$WORK/keep" || fail "--keep_plumbing: no _M_realloc_insert row"
echo "ok   --keep_plumbing keeps the plumbing"

"$JEPROF_C" --quiet --full_names --text --show_bytes "$WORK/cxx" "$HEAP" >"$WORK/full" || fail "--full_names"
grep -q ' app::Pool<int>::reserve_block(int)$' "$WORK/full" || fail "--full_names: no app::Pool<int>::reserve_block(int)"
grep -q ' app::Matrix::operator+(app::Matrix const&) const' "$WORK/full" || fail "--full_names: operator+"
if grep -q 'operator new' "$WORK/full"; then fail "--full_names shows operator new"; fi
echo "ok   --full_names"

"$JEPROF_C" --quiet --text --show_bytes "$WORK/cxx" "$PB" >"$WORK/pbtext" || fail "jeprof-c on our .pb.gz"
[ "$(top_names 5 "$WORK/pbtext")" = "$WANT" ] || { head "$WORK/pbtext"; fail "our .pb.gz read back: top rows"; }
no_mangled "$WORK/pbtext"
echo "ok   our .pb.gz read back by jeprof-c"

if command -v go >/dev/null 2>&1; then
    # (go tool pprof re-symbolizes our raw .pb.gz itself, one frame per
    # address from DWARF: jeprof_callsite_* check its lines; names and inline
    # frames for C++ and Rust come through jeprof-c --pprof.)
    "$JEPROF_C" --quiet --pprof "$WORK/j.pb.gz" "$WORK/cxx" "$HEAP" >/dev/null || fail "jeprof-c --pprof"
    HOME=$WORK go tool pprof -top "$WORK/j.pb.gz" >"$WORK/go2" 2>/dev/null || fail "go tool pprof on jeprof-c --pprof"
    [ "$(top_names 5 "$WORK/go2")" = "$WANT" ] || { cat "$WORK/go2"; fail "go tool pprof, jeprof-c --pprof: top rows"; }
    "$JEPROF_C" --quiet --keep_plumbing --pprof "$WORK/k.pb.gz" "$WORK/cxx" "$HEAP" >/dev/null || fail "--pprof"
    HOME=$WORK go tool pprof -top "$WORK/k.pb.gz" >"$WORK/go3" 2>/dev/null || fail "go tool pprof on --keep_plumbing output"
    grep -q 'std::__new_allocator::allocate' "$WORK/go3" || fail "go tool pprof: --keep_plumbing output lost the plumbing"
    echo "ok   go tool pprof shows the user's functions on top"
fi
echo "ok"
