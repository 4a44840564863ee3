#!/usr/bin/env bash
# Allocator plumbing in Rust programs (issue 12, point 2), built with rustc
# -g at -O and -O0, legacy and v0 mangling, with std's allocator and with
# `#[global_allocator] System` or a counting GlobalAlloc of the user's
# around it (an allocator, never the call site): the allocator shims named
# "__rustc::__rust_alloc", inlined str methods ("str::repeat",
# "[u8]::repeat"), format!'s core::fmt code, the std code between
# plumbing frames (Option::map_or_else) and the panic machinery that
# formats a panic!'s payload are plumbing, so jeprof-c --lines
# puts the flat bytes on
# the user's marked lines of tests/cli/callsite/rsplumb.rs, on our heap_v2
# and our .pb.gz.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need rustc
SRC=$CS/rsplumb.rs
REPEAT=rsplumb.rs:$(mark "$SRC" REPEAT)
VEC=rsplumb.rs:$(mark "$SRC" VEC)
FMT=rsplumb.rs:$(mark "$SRC" FMT)
PANIC=rsplumb.rs:$(mark "$SRC" PANIC)
for variant in "legacy" "v0" "legacy sysalloc" "v0 sysalloc" "debug legacy" "debug v0 sysalloc" \
    "v0 countalloc" "debug legacy countalloc"; do
    flags="-g -C opt-level=2"
    case $variant in debug*) flags="-g -C opt-level=0"; variant=${variant#debug } ;; esac
    case $variant in v0*) flags="$flags -C symbol-mangling-version=v0" ;; esac
    case $variant in *sysalloc) flags="$flags --cfg sysalloc" ;; esac
    case $variant in *countalloc) flags="$flags --cfg countalloc" ;; esac
    (cd "$WORK" && rustc $flags -o rsplumb "$SRC") >"$WORK/rustc.log" 2>&1 ||
        { cat "$WORK/rustc.log"; fail "rustc $flags failed"; }
    ours "$WORK/rsplumb" rsplumb
    for input in "$HEAP" "$PB"; do
        "$JEPROF_C" --quiet --text --lines "$WORK/rsplumb" "$input" >"$WORK/out.txt" ||
            fail "jeprof-c failed on $input"
        has_flat "$variant ${input##*.}" "$WORK/out.txt" "$REPEAT" 'mk_repeat'
        has_flat "$variant ${input##*.}" "$WORK/out.txt" "$VEC" 'mk_vec'
        has_flat "$variant ${input##*.}" "$WORK/out.txt" "$FMT" 'mk_fmt'
        has_flat "$variant ${input##*.}" "$WORK/out.txt" "$PANIC" 'boom'
        # no plumbing row carries bytes
        if awk '$2 != "0.0%" && /__rust_alloc|str::repeat|\]::repeat|core::fmt|map_or_else|GlobalAlloc|panic/' "$WORK/out.txt" | grep -q .; then
            cat "$WORK/out.txt"; NFAIL=$((NFAIL + 1)); echo "FAIL $variant: a plumbing row has bytes"
        fi
    done
done
[ $NFAIL -eq 0 ] || fail "$NFAIL checks failed"
echo "ok"
