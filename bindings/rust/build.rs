//! Finds and links the C library liballoc (`liballoc.a` or `liballoc.so`).
//!
//! Where, first match wins:
//! 1. `LIBALLOC_DIR`: a directory holding `liballoc.a` and/or `liballoc.so`.
//! 2. The repository's own `build/` (this crate lives in `bindings/rust/`),
//!    when `make` has produced the library there.
//! 3. `pkg-config --libs alloc` (the `alloc.pc` that `make install` writes;
//!    `PKG_CONFIG` names another pkg-config binary), parsed by hand here.
//!
//! How (`LIBALLOC_LINK`): `static` links `liballoc.a` into the program (the
//! default when the archive is found: nothing to deploy, no run-time search
//! path) plus the system libraries it needs; `dynamic` links `liballoc.so`
//! (the program then needs it at run time: an installed copy, an rpath or
//! `LD_LIBRARY_PATH`). Either way the library's `malloc`/`free` replace
//! glibc's for the whole process, as jemalloc's do when linked.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// System libraries `liballoc.a` calls into (liballoc/liballoc.mk's
/// LIBALLOC_LIBS): threads and `dlopen`. The profiler's own libraries
/// (libunwind, protobuf-c, zlib) are opened with `dlopen` when a profile
/// first needs them (libprof/dynload.h), so a program links none of them.
/// (The C++ operators' member pulls in libstdc++, but Rust programs never
/// reference it, so it is not linked.)
const STATIC_DEPS: &[&str] = &["pthread", "dl"];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Static,
    Dynamic,
}

fn main() {
    for v in [
        "LIBALLOC_DIR",
        "LIBALLOC_LINK",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSTEM_LIBRARY_PATH",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={}", v);
    }
    println!("cargo:rerun-if-changed=build.rs");

    let want = match env::var("LIBALLOC_LINK").as_deref() {
        Ok("static") => Some(Kind::Static),
        Ok("dynamic") | Ok("dylib") | Ok("shared") => Some(Kind::Dynamic),
        Ok("") | Err(_) => None,
        Ok(other) => fail(&format!(
            "LIBALLOC_LINK={:?}: expected \"static\" or \"dynamic\"",
            other
        )),
    };

    if let Some(dir) = env::var_os("LIBALLOC_DIR") {
        let dir = PathBuf::from(dir);
        if !link_from_dir(&dir, want) {
            fail(&format!(
                "LIBALLOC_DIR={}: no {} there",
                dir.display(),
                match want {
                    Some(Kind::Static) => "liballoc.a",
                    Some(Kind::Dynamic) => "liballoc.so",
                    None => "liballoc.a or liballoc.so",
                }
            ));
        }
        return;
    }
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let in_tree = manifest.join("../../build");
    if in_tree.join("liballoc.so").is_file() || in_tree.join("liballoc.a").is_file() {
        let dir = in_tree.canonicalize().unwrap_or(in_tree);
        if link_from_dir(&dir, want) {
            return;
        }
    }
    if link_from_pkg_config(want) {
        return;
    }
    fail(
        "liballoc not found: run `make` at the top of the repository (this crate links its \
         build/), set LIBALLOC_DIR to the directory holding liballoc.a or liballoc.so, or \
         install it (`make install`) so that `pkg-config --libs alloc` finds it",
    );
}

fn fail(msg: &str) -> ! {
    eprintln!("error: liballoc build script: {}", msg);
    std::process::exit(1);
}

/// Links from a directory; false when the wanted file is not there.
fn link_from_dir(dir: &Path, want: Option<Kind>) -> bool {
    let a = dir.join("liballoc.a");
    let so = dir.join("liballoc.so");
    let kind = match want {
        Some(Kind::Static) if a.is_file() => Kind::Static,
        Some(Kind::Dynamic) if so.is_file() => Kind::Dynamic,
        Some(_) => return false,
        None if a.is_file() => Kind::Static,
        None if so.is_file() => Kind::Dynamic,
        None => return false,
    };
    println!("cargo:rustc-link-search=native={}", dir.display());
    let file = if kind == Kind::Static { &a } else { &so };
    // A rebuilt library must be relinked (a static one is copied into the rlib).
    println!("cargo:rerun-if-changed={}", file.display());
    emit_lib(kind, &[]);
    if kind == Kind::Dynamic {
        // This package's own tests and examples find the library at run time;
        // a dependent program needs its own rpath (see the crate docs).
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    // DEP_ALLOC_ROOT in dependents' build scripts: where the library is
    // (for their own rpath with LIBALLOC_LINK=dynamic).
    println!("cargo:root={}", dir.display());
    true
}

fn emit_lib(kind: Kind, extra: &[String]) {
    match kind {
        Kind::Static => {
            println!("cargo:rustc-link-lib=static=alloc");
            let mut seen: Vec<String> = Vec::new();
            for l in STATIC_DEPS.iter().map(|s| s.to_string()).chain(extra.iter().cloned()) {
                if l != "alloc" && !seen.contains(&l) {
                    println!("cargo:rustc-link-lib=dylib={}", l);
                    seen.push(l);
                }
            }
        }
        Kind::Dynamic => println!("cargo:rustc-link-lib=dylib=alloc"),
    }
}

/// `pkg-config [--static] --libs alloc`, its -L and -l flags taken by hand.
fn link_from_pkg_config(want: Option<Kind>) -> bool {
    let pc = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let kind = want.unwrap_or(Kind::Static);
    let mut cmd = Command::new(&pc);
    if kind == Kind::Static {
        cmd.arg("--static");
    }
    let out = match cmd.args(["--libs", "alloc"]).output() {
        Ok(o) if o.status.success() => o,
        _ => return false,
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut dirs = Vec::new();
    let mut libs = Vec::new();
    for tok in text.split_whitespace() {
        if let Some(d) = tok.strip_prefix("-L") {
            dirs.push(PathBuf::from(d));
        } else if let Some(l) = tok.strip_prefix("-l") {
            libs.push(l.to_string());
        }
    }
    // pkg-config leaves out -L for the linker's default directories (an
    // install under /usr, the .deb), but rustc searches only -L directories
    // for a static library: take the directory from alloc.pc's libdir then.
    if !libs.iter().any(|l| l == "alloc") {
        return false;
    }
    if dirs.is_empty() {
        if let Ok(o) = Command::new(&pc).args(["--variable=libdir", "alloc"]).output() {
            let d = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if o.status.success() && !d.is_empty() {
                dirs.push(PathBuf::from(d));
            }
        }
    }
    // The static archive must really be there; else try the shared library.
    let found = |f: &str| dirs.iter().any(|d| d.join(f).is_file());
    let kind = if kind == Kind::Static && !found("liballoc.a") && want.is_none() {
        Kind::Dynamic
    } else {
        kind
    };
    if !found(if kind == Kind::Static { "liballoc.a" } else { "liballoc.so" }) {
        return false;
    }
    for d in &dirs {
        println!("cargo:rustc-link-search=native={}", d.display());
    }
    emit_lib(kind, &libs);
    if let Some(d) = dirs.first() {
        println!("cargo:root={}", d.display());
    }
    true
}
