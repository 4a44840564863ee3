#!/usr/bin/env bash
# The allocating line in Rust (issue 12, point 1), built with the machine's
# rustc -g -O, legacy and v0 symbol mangling, with std's default allocator
# and with #[global_allocator] System: tests/cli/callsite/rsalloc.rs calls
# malloc directly as the last call before a line change (its line must
# carry the bytes), and allocates with Vec::with_capacity and Box::new
# (their lines must be on the stacks: inlined frames inside Rust's
# namespaces). Readers: jeprof-c --lines on our heap_v2 and .pb.gz, Debian's
# jeprof --lines on our heap_v2, go tool pprof -lines on our .pb.gz and on
# jeprof-c --pprof output (each skipped when not installed). Function names
# are matched on the bare name, mangled or not (demangling is another test).
# The subject is compiled here on purpose: Rust via rustc, with the flags
# the test is about.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need rustc
SRC=$CS/rsalloc.rs
RAW=rsalloc.rs:$(mark "$SRC" RAW)
VEC=rsalloc.rs:$(mark "$SRC" VEC)
BOX=rsalloc.rs:$(mark "$SRC" BOX)
have_jeprof=0; command -v jeprof >/dev/null && have_jeprof=1
have_go=0; command -v go >/dev/null && have_go=1

for variant in "legacy" "v0 sysalloc"; do
    flags="-g -O"
    case $variant in v0*) flags="$flags -C symbol-mangling-version=v0" ;; esac
    case $variant in *sysalloc) flags="$flags --cfg sysalloc" ;; esac
    (cd "$WORK" && rustc $flags -o rsalloc "$SRC") >"$WORK/rustc.log" 2>&1 ||
        { cat "$WORK/rustc.log"; fail "rustc $flags failed"; }
    ours "$WORK/rsalloc" rs
    for input in "$HEAP" "$PB"; do
        kind=heap_v2; [ "$input" = "$PB" ] && kind=pprof
        "$JEPROF_C" --quiet --text --lines "$WORK/rsalloc" "$input" >"$WORK/j.txt" || fail "jeprof-c failed on $kind"
        has_flat "$variant: jeprof-c $kind" "$WORK/j.txt" "$RAW" make_raw
        has_cum "$variant: jeprof-c $kind" "$WORK/j.txt" "$VEC" make_vec
        has_cum "$variant: jeprof-c $kind" "$WORK/j.txt" "$BOX" make_box
    done
    "$JEPROF_C" --quiet --pprof="$WORK/sym.pb.gz" "$WORK/rsalloc" "$HEAP" || fail "jeprof-c --pprof failed"
    if [ $have_jeprof = 1 ]; then
        jeprof --text --lines "$WORK/rsalloc" "$HEAP" >"$WORK/jeprof.txt" 2>/dev/null || fail "jeprof failed"
        has_flat "$variant: Debian jeprof heap_v2" "$WORK/jeprof.txt" "$RAW"
        has_cum "$variant: Debian jeprof heap_v2" "$WORK/jeprof.txt" "$VEC"
        has_cum "$variant: Debian jeprof heap_v2" "$WORK/jeprof.txt" "$BOX"
    else
        echo "skip Debian jeprof: not installed"
    fi
    if [ $have_go = 1 ]; then
        # (go tool pprof symbolizes our raw .pb.gz itself, one line per
        # address, the innermost: only the direct malloc's line is checked.)
        go_top "go pprof" "$PB" "$WORK/go.txt" "$WORK/rsalloc"
        has_flat "$variant: go tool pprof our .pb.gz" "$WORK/go.txt" "$RAW"
        go_top "go pprof" "$WORK/sym.pb.gz" "$WORK/gosym.txt"
        has_flat "$variant: go tool pprof jeprof-c --pprof" "$WORK/gosym.txt" "$RAW" make_raw
        has_cum "$variant: go tool pprof jeprof-c --pprof" "$WORK/gosym.txt" "$VEC" make_vec
        has_cum "$variant: go tool pprof jeprof-c --pprof" "$WORK/gosym.txt" "$BOX" make_box
    else
        echo "skip go tool pprof: not installed"
    fi
done
[ $NFAIL -eq 0 ] || fail "$NFAIL checks failed"
echo "ok"
