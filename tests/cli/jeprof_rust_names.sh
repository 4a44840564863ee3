#!/usr/bin/env bash
# Rust programs (tests/cli/jeprof/names_rs.rs: Vec growth, Box::new,
# String, HashMap, a trait method) built with the machine's rustc, with the
# default (legacy) symbol mangling and with v0, profiled by our allocator:
# jeprof-c's text and collapsed outputs, jeprof-c reading our .pb.gz, and go
# tool pprof on jeprof-c --pprof output all show the
# user's functions on top, demangled (no _ZN...17h<hash>E, no $LT$, no _R),
# without RawVec/hashbrown/__rust_alloc plumbing; --keep_plumbing shows it.
# The subjects are compiled here on purpose: Rust via rustc, one per
# symbol-mangling scheme the test is about.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_names.sh"
need rustc
# Link with the system linker when rustc defaults to its bundled lld: the
# symbolizer does not map lld's segment layout (file offset != address
# within a page) to file addresses today, a separate issue.
LINK="-C link-self-contained=-linker -C linker-features=-lld"
rustc $LINK --print sysroot >/dev/null 2>&1 || LINK=""
WANT=$(printf '%s\n' 'rs::grow_vec' 'rs::fill_map' '<rs::Shape as rs::Grow>::grow' 'rs::build_string' \
    'rs::make_box' | sort)
for mangling in legacy v0; do
    flags=""
    [ $mangling = v0 ] && flags="-C symbol-mangling-version=v0" # legacy is the default
    rustc -g -O $LINK $flags --crate-name rs -o "$WORK/rs_$mangling" \
        "$TESTDIR/names_rs.rs" 2>"$WORK/rustc.err" || { cat "$WORK/rustc.err"; fail "rustc ($mangling)"; }
    ours_dump "$WORK/rs_$mangling" "rs_$mangling"
    "$JEPROF_C" --quiet --text --show_bytes "$WORK/rs_$mangling" "$HEAP" >"$WORK/text" || fail "jeprof-c --text"
    head -n 8 "$WORK/text"
    # rs::main allocates too (a vector it resizes itself): not counted.
    [ "$(top_names 5 "$WORK/text" rs::main)" = "$WANT" ] ||
        fail "$mangling: text: top rows are not the user's functions"
    want_at_least grow_vec "$(flat_of rs::grow_vec "$WORK/text")" 1048576
    want_at_least make_box "$(flat_of rs::make_box "$WORK/text")" 300000
    want_at_least build_string "$(flat_of rs::build_string "$WORK/text")" 220000
    want_at_least fill_map "$(flat_of rs::fill_map "$WORK/text")" 320000
    want_at_least grow "$(flat_of '<rs::Shape as rs::Grow>::grow' "$WORK/text")" 400000
    "$JEPROF_C" --quiet --collapsed "$WORK/rs_$mangling" "$HEAP" >"$WORK/coll" || fail "jeprof-c --collapsed"
    grep -q ';rs::main;rs::grow_vec [0-9]*$' "$WORK/coll" || fail "$mangling: collapsed: grow_vec stack"
    grep -q ';rs::main;rs::fill_map [0-9]*$' "$WORK/coll" || fail "$mangling: collapsed: fill_map stack"
    no_mangled "$WORK/text" "$WORK/coll"
    if grep -E 'raw_vec|RawVec|hashbrown|__rust_alloc|__rdl_alloc|exchange_malloc' "$WORK/text" "$WORK/coll"; then
        fail "$mangling: plumbing frames shown by default"
    fi
    echo "ok   $mangling: text and collapsed"
    "$JEPROF_C" --quiet --keep_plumbing --collapsed "$WORK/rs_$mangling" "$HEAP" >"$WORK/keep" || fail "--keep_plumbing"
    grep -q ';rs::grow_vec;\(alloc::vec::[^;]*;\)*alloc::raw_vec::RawVec::grow_one;' "$WORK/keep" ||
        fail "$mangling: --keep_plumbing: no RawVec::grow_one under grow_vec"
    no_mangled "$WORK/keep"
    echo "ok   $mangling: --keep_plumbing"
    "$JEPROF_C" --quiet --text --show_bytes "$WORK/rs_$mangling" "$PB" >"$WORK/pbtext" || fail "jeprof-c on our .pb.gz"
    [ "$(top_names 5 "$WORK/pbtext" rs::main)" = "$WANT" ] ||
        { head "$WORK/pbtext"; fail "$mangling: our .pb.gz read back: top rows"; }
    no_mangled "$WORK/pbtext"
    echo "ok   $mangling: our .pb.gz read back"
    if command -v go >/dev/null 2>&1; then
        "$JEPROF_C" --quiet --pprof "$WORK/j.pb.gz" "$WORK/rs_$mangling" "$HEAP" >/dev/null || fail "--pprof"
        HOME=$WORK go tool pprof -top "$WORK/j.pb.gz" >"$WORK/go2" 2>/dev/null || fail "go tool pprof on jeprof-c --pprof"
        [ "$(top_names 5 "$WORK/go2" rs::main)" = "$WANT" ] ||
            { cat "$WORK/go2"; fail "$mangling: go tool pprof, jeprof-c --pprof: top rows"; }
        no_mangled "$WORK/go2"
        echo "ok   $mangling: go tool pprof"
    fi
    rm -f "$WORK"/rs_$mangling.*.heap "$WORK"/rs_$mangling.*.pb.gz
done
echo "ok"
