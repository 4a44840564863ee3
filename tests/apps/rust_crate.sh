#!/usr/bin/env bash
# rust_crate: the Rust crate in bindings/rust (issue 16, point 1).
#  1. `cargo test --offline` passes with an empty CARGO_HOME: unit,
#     integration (tests/alloc.rs, conf.rs, ctl.rs, prof.rs) and doc tests,
#     against build/liballoc.a.
#  2. The example service (examples/service.rs, release build, statically
#     linked: no liballoc.so needed) is profiled end to end: MALLOC_CONF=
#     prof:true,lg_prof_sample:13 and prof::dump to a path, then
#     jeprof-c --text names the Rust sites demangled and simplified
#     (service::Cache::insert, service::build_index,
#     <service::Echo as service::Handler>::handle, the closure in main), with
#     no mangled names, hashes or escapes left, and Cache::insert's retained
#     bytes within 15% of the 2000 x 8 KiB it holds. Done for the default
#     (legacy) symbol mangling and for v0 (-C symbol-mangling-version=v0,
#     stable rustc), and for the legacy build with prof_final (the dump at
#     exit) and with prof::dump_pprof_fd (gzip'd pprof; skipped while the
#     library lacks prof.dump_pprof_fd).
#  3. LIBALLOC_LINK=dynamic: the example links liballoc.so (NEEDED, found by
#     the rpath the build script gives the crate's own examples) and runs on it.
#     So does a program of its own depending on the crate, its rpath taken
#     from DEP_ALLOC_ROOT, its options from malloc_conf!.
#  4. A copy of the crate outside the tree finds the library through
#     pkg-config (an alloc.pc from scripts/alloc.pc.in) and links it
#     statically; with nothing to find, or a LIBALLOC_DIR without the
#     library, the build fails with a message saying where to look.
# Cargo's outputs stay under build/cargo (reused between runs). Skipped (77)
# without cargo.
. "$(dirname "$0")/lib.sh"
export PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
need cargo
need rustc
JEPROF_C=$ROOT/build/jeprof-c
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
MANIFEST=$ROOT/bindings/rust/Cargo.toml
CT=$ROOT/build/cargo
unset MALLOC_CONF RUSTFLAGS LIBALLOC_DIR LIBALLOC_LINK
# An empty CARGO_HOME, as on a machine that never fetched a crate: nothing
# may come from a registry cache or a user's cargo config.
export CARGO_HOME=$TMP/cargo-home
mkdir -p "$CARGO_HOME"

# ---- 1. cargo test --offline ----
CARGO_TARGET_DIR=$CT/test cargo test --offline --manifest-path "$MANIFEST" >"$TMP/test.log" 2>&1 ||
    { tail -n 40 "$TMP/test.log"; fail "cargo test --offline"; }
grep -E '^test result|SKIP' "$TMP/test.log"
n=$(grep -c '^test result: ok' "$TMP/test.log")
[ "$n" -ge 6 ] || fail "cargo test: expected 6 test groups (unit, 4 integration, doc), saw $n"
echo "ok   cargo test --offline"

# ---- 2. the example service, profiled ----
EXPECT=16384000 # Cache::insert: 2000 values of 8192 bytes (its table adds < 1%)
# check_report MANGLING REPORT
check_report() {
    local m=$1 rep=$2 closure
    head -n 8 "$rep"
    for name in 'service::Cache::insert' 'service::build_index' '<service::Echo as service::Handler>::handle' \
        'service::main'; do
        awk -v w="$name" '{l = $0; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", l)} l == w {f = 1} END {exit !f}' "$rep" ||
            fail "$m: no row named '$name'"
    done
    closure='service::main::{{closure}}'
    [ $m = v0 ] && closure='service::main::{closure#0}'
    grep -qF "$closure" "$rep" || fail "$m: the closure in main is not named '$closure'"
    if grep -E '_ZN|(^| )_R[A-Z0-9]|17h[0-9a-f]{16}|::h[0-9a-f]{16}|\$LT\$|\$u20\$|\.\.' "$rep"; then
        fail "$m: mangled names, hashes or escapes in the report"
    fi
    local top got
    top=$(awk '/^Total:/ {go = 1; next} go {sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, ""); print; exit}' "$rep")
    [ "$top" = 'service::Cache::insert' ] || fail "$m: top row is '$top', not service::Cache::insert"
    got=$(awk '{l = $0; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", l)} l == "service::Cache::insert" {print $1; exit}' "$rep")
    awk -v g="$got" -v e=$EXPECT 'BEGIN {d = g - e; if (d < 0) d = -d; exit !(d <= 0.15 * e)}' ||
        fail "$m: service::Cache::insert retains $got bytes, expected $EXPECT within 15%"
    echo "ok   $m: demangled names, Cache::insert $got bytes (expected $EXPECT)"
}

for m in legacy v0; do
    flags=""
    [ $m = v0 ] && flags="-C symbol-mangling-version=v0" # stable since Rust 1.59
    RUSTFLAGS=$flags CARGO_TARGET_DIR=$CT/$m cargo build --offline --release --example service \
        --manifest-path "$MANIFEST" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; fail "$m: cargo build --example service"; }
    SVC=$CT/$m/release/examples/service
    if readelf -d "$SVC" | grep -q 'NEEDED.*liballoc'; then fail "$m: static build needs liballoc.so"; fi
    if [ $m = v0 ]; then
        nm "$SVC" | grep -q ' _RNv' || fail "v0: the binary has no v0 (_R) symbols"
    else
        nm "$SVC" | grep -q ' _ZN.*17h[0-9a-f]\{16\}E$' || fail "legacy: the binary has no legacy (_ZN...17h) symbols"
    fi
    MALLOC_CONF=prof:true,lg_prof_sample:13 "$SVC" "$TMP/svc_$m.heap" >"$TMP/run.log" 2>&1 ||
        { cat "$TMP/run.log"; fail "$m: the service failed"; }
    grep -q "Cache::insert values: $EXPECT bytes" "$TMP/run.log" || { cat "$TMP/run.log"; fail "$m: service output"; }
    "$JEPROF_C" --text --show_bytes "$SVC" "$TMP/svc_$m.heap" >"$TMP/rep_$m" 2>"$TMP/err" ||
        { cat "$TMP/err"; fail "$m: jeprof-c --text"; }
    check_report $m "$TMP/rep_$m"
done

# The pprof profile written through prof::dump_pprof_fd (the mallctl
# prof.dump_pprof_fd), read by jeprof-c.
SVC=$CT/legacy/release/examples/service
MALLOC_CONF=prof:true,lg_prof_sample:13 "$SVC" "$TMP/svc.pb.gz" >"$TMP/run.log" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$TMP/run.log"; fail "pprof: the service failed (exit $rc)"; }
[ "$(head -c 2 "$TMP/svc.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] || fail "pprof: $TMP/svc.pb.gz is not gzip"
"$JEPROF_C" --text --show_bytes "$SVC" "$TMP/svc.pb.gz" >"$TMP/rep_pb" 2>"$TMP/err" ||
    { cat "$TMP/err"; fail "pprof: jeprof-c --text on the .pb.gz"; }
check_report legacy "$TMP/rep_pb"

# The dump at exit (prof_final), from the legacy build.
SVC=$CT/legacy/release/examples/service
MALLOC_CONF=prof:true,lg_prof_sample:13,prof_final:true,prof_prefix:$TMP/final "$SVC" >/dev/null ||
    fail "prof_final run failed"
F=$(ls "$TMP"/final.*.f.heap 2>/dev/null | head -n 1)
[ -n "$F" ] || fail "prof_final: no $TMP/final.<pid>.<seq>.f.heap"
"$JEPROF_C" --text --show_bytes "$SVC" "$F" >"$TMP/rep_final" || fail "jeprof-c on the final dump"
check_report legacy "$TMP/rep_final"

# ---- 3. dynamic linking ----
LIBALLOC_LINK=dynamic CARGO_TARGET_DIR=$CT/dyn cargo build --offline --release --example service \
    --manifest-path "$MANIFEST" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; fail "dynamic: cargo build"; }
SVC=$CT/dyn/release/examples/service
readelf -d "$SVC" | grep -q 'NEEDED.*\[liballoc\.so\(\.[0-9]*\)\?\]' || fail "dynamic: the service does not need liballoc.so"
env -u LD_LIBRARY_PATH MALLOC_CONF=prof:true,lg_prof_sample:13 "$SVC" "$TMP/svc_dyn.heap" >"$TMP/run.log" 2>&1 ||
    { cat "$TMP/run.log"; fail "dynamic: the service failed"; }
grep -q '^stats.allocated: ' "$TMP/run.log" || fail "dynamic: no stats line"
"$JEPROF_C" --text --show_bytes "$SVC" "$TMP/svc_dyn.heap" >"$TMP/rep_dyn" || fail "dynamic: jeprof-c"
check_report dynamic "$TMP/rep_dyn"
echo "ok   dynamic link"

# A program of its own that depends on the crate (path dependency), links
# it dynamically and sets its rpath from DEP_ALLOC_ROOT in its build script,
# with options compiled in by malloc_conf!.
mkdir -p "$TMP/user/src"
cat >"$TMP/user/Cargo.toml" <<EOT
[package]
name = "user"
version = "0.1.0"
edition = "2021"
[dependencies]
liballoc = { path = "$ROOT/bindings/rust" }
EOT
cat >"$TMP/user/build.rs" <<'EOT'
fn main() {
    let dir = std::env::var("DEP_ALLOC_ROOT").expect("DEP_ALLOC_ROOT");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
}
EOT
cat >"$TMP/user/src/main.rs" <<'EOT'
#[global_allocator]
static GLOBAL: liballoc::LibAlloc = liballoc::LibAlloc;
liballoc::malloc_conf!("prof:true,lg_prof_sample:12");
fn main() {
    let v: Vec<u64> = (0..(1 << 20)).collect();
    liballoc::epoch::advance().unwrap();
    let a = liballoc::stats::allocated().unwrap();
    println!("{} {} {}", v.len(), a >= 8 << 20, liballoc::prof::lg_sample().unwrap());
}
EOT
LIBALLOC_LINK=dynamic CARGO_TARGET_DIR=$CT/user cargo build --offline --manifest-path "$TMP/user/Cargo.toml" \
    >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; fail "user program: cargo build"; }
readelf -d "$CT/user/debug/user" | grep -q "R.*PATH.*\[$ROOT/build\]" || fail "user program: no rpath from DEP_ALLOC_ROOT"
out=$(env -u LD_LIBRARY_PATH "$CT/user/debug/user") || fail "user program failed"
[ "$out" = "1048576 true 12" ] || fail "user program printed '$out', expected '1048576 true 12'"
echo "ok   a dependent program: dynamic link, rpath from DEP_ALLOC_ROOT, malloc_conf!"

# ---- 4. outside the tree: pkg-config, or a clear error ----
# A copy of the crate has no ../../build; it finds the library through the
# alloc.pc that `make install` writes into a temp prefix.
if command -v pkg-config >/dev/null 2>&1; then
    cp -r "$ROOT/bindings/rust" "$TMP/crate"
    rm -rf "$TMP/crate/target"
    make -s -C "$ROOT" install PREFIX="$TMP/prefix" >"$TMP/install.log" 2>&1 ||
        { cat "$TMP/install.log"; fail "make install into a temp prefix"; }
    PKG_CONFIG_PATH=$TMP/prefix/lib/pkgconfig CARGO_TARGET_DIR=$CT/pc cargo build --offline --release \
        --example service --manifest-path "$TMP/crate/Cargo.toml" >"$TMP/build.log" 2>&1 ||
        { cat "$TMP/build.log"; fail "pkg-config: cargo build"; }
    SVC=$CT/pc/release/examples/service
    if readelf -d "$SVC" | grep -q 'NEEDED.*liballoc'; then fail "pkg-config: static link expected"; fi
    "$SVC" >"$TMP/run.log" 2>&1 || { cat "$TMP/run.log"; fail "pkg-config: the service failed"; }
    grep -q '^stats.allocated: ' "$TMP/run.log" || fail "pkg-config: no stats line"
    echo "ok   found by pkg-config (static)"
    # Installed in a system directory (make install PREFIX=/usr, the .deb):
    # pkg-config then prints no -L, yet rustc finds a static library only in
    # -L directories. PKG_CONFIG_SYSTEM_LIBRARY_PATH makes the temp prefix
    # such a directory; the build must take it from alloc.pc's libdir.
    export PKG_CONFIG_PATH=$TMP/prefix/lib/pkgconfig PKG_CONFIG_SYSTEM_LIBRARY_PATH=$TMP/prefix/lib
    case " $(pkg-config --static --libs alloc) " in *" -L"*) fail "pkg-config still prints -L" ;; esac
    CARGO_TARGET_DIR=$CT/pcsys cargo build --offline --release --example service \
        --manifest-path "$TMP/crate/Cargo.toml" >"$TMP/build.log" 2>&1 ||
        { cat "$TMP/build.log"; fail "pkg-config without -L (system directory): cargo build"; }
    SVC=$CT/pcsys/release/examples/service
    if readelf -d "$SVC" | grep -q 'NEEDED.*liballoc'; then fail "pkg-config without -L: static link expected"; fi
    "$SVC" >"$TMP/run.log" 2>&1 || { cat "$TMP/run.log"; fail "pkg-config without -L: the service failed"; }
    grep -q '^stats.allocated: ' "$TMP/run.log" || fail "pkg-config without -L: no stats line"
    unset PKG_CONFIG_PATH PKG_CONFIG_SYSTEM_LIBRARY_PATH
    echo "ok   found by pkg-config in a system directory (no -L; libdir from alloc.pc)"
    # Nothing to find: the build stops and says where to look.
    PKG_CONFIG=false CARGO_TARGET_DIR=$CT/pc cargo build --offline --release --example service \
        --manifest-path "$TMP/crate/Cargo.toml" >"$TMP/build.log" 2>&1 && fail "built with no library to link"
    grep -q 'liballoc not found: run `make`.*LIBALLOC_DIR.*pkg-config --libs alloc' "$TMP/build.log" ||
        { cat "$TMP/build.log"; fail "no library: unclear build error"; }
    LIBALLOC_DIR=$TMP/nowhere CARGO_TARGET_DIR=$CT/pc cargo build --offline --release --example service \
        --manifest-path "$TMP/crate/Cargo.toml" >"$TMP/build.log" 2>&1 && fail "built with a bad LIBALLOC_DIR"
    grep -q "LIBALLOC_DIR=$TMP/nowhere: no liballoc.a or liballoc.so there" "$TMP/build.log" ||
        { cat "$TMP/build.log"; fail "bad LIBALLOC_DIR: unclear build error"; }
    LIBALLOC_LINK=bogus CARGO_TARGET_DIR=$CT/pc cargo build --offline --release --example service \
        --manifest-path "$TMP/crate/Cargo.toml" >"$TMP/build.log" 2>&1 && fail "built with LIBALLOC_LINK=bogus"
    grep -q 'LIBALLOC_LINK="bogus": expected "static" or "dynamic"' "$TMP/build.log" ||
        { cat "$TMP/build.log"; fail "bad LIBALLOC_LINK: unclear build error"; }
    echo "ok   build errors"
else
    echo "skip pkg-config part: pkg-config not installed"
fi
echo "ok"
