//! The prof module with the profiler on. This test binary turns it on by
//! re-running itself with MALLOC_CONF=prof:true (the option is read once at
//! start-up), so a plain `cargo test` covers it.
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use liballoc::ctl::Error;
use liballoc::{prof, LibAlloc};

#[global_allocator]
static GLOBAL: LibAlloc = LibAlloc;

const CHILD: &str = "LIBALLOC_RS_PROF_CHILD";

/// Runs this test in a child with the profiler on; true in the child.
fn in_profiled_child(test: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        assert!(prof::enabled(), "child started without the profiler");
        return true;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("MALLOC_CONF", "prof:true,lg_prof_sample:12")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    print!("{}", text);
    assert!(out.status.success(), "profiled child failed");
    assert!(text.contains("1 passed"), "the child ran no test");
    false
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("liballoc-rs-{}-{}", name, std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Estimated live bytes of a heap_v2 dump, un-sampled as jeprof does: each
/// site's "t*: objs: bytes" line holds sampled counts (heap_v2/<R> header),
/// scaled by 1 / (1 - exp(-avg / R)) with avg its mean object size.
fn heap_v2_live_bytes(path: &Path) -> f64 {
    let text = fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or("");
    let rate: f64 = first
        .strip_prefix("heap_v2/")
        .unwrap_or_else(|| panic!("{} is not heap_v2", path.display()))
        .trim()
        .parse()
        .unwrap();
    let mut total = 0.0;
    let mut in_site = false;
    for line in text.lines() {
        if line.starts_with('@') {
            in_site = true;
        } else if in_site && line.trim_start().starts_with("t*:") {
            in_site = false;
            let f: Vec<&str> = line.split(|c| c == ':' || c == '[').map(str::trim).collect();
            let objs: f64 = f[1].parse().unwrap();
            let bytes: f64 = f[2].parse().unwrap();
            if objs > 0.0 {
                let avg = bytes / objs;
                total += if rate <= 1.0 { bytes } else { bytes / (1.0 - (-avg / rate).exp()) };
            }
        }
    }
    total
}

#[inline(never)]
fn hold(n: usize, size: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i as u8; size]).collect()
}

#[test]
fn active_switch() {
    if !in_profiled_child("active_switch") {
        return;
    }
    assert!(prof::active().unwrap());
    assert!(prof::set_active(false).unwrap());
    assert!(!prof::active().unwrap());
    assert!(!prof::set_active(true).unwrap());
    assert!(prof::active().unwrap());
    assert_eq!(prof::lg_sample().unwrap(), 12);
}

#[test]
fn dumps_to_a_path_and_by_prefix() {
    if !in_profiled_child("dumps_to_a_path_and_by_prefix") {
        return;
    }
    let dir = scratch("dump");
    prof::reset(None).unwrap();
    let held = hold(2000, 8192); // 16,384,000 bytes live
    let path = dir.join("explicit.heap");
    prof::dump(Some(&path)).unwrap();
    let live = heap_v2_live_bytes(&path);
    let want = 2000.0 * 8192.0;
    assert!((live - want).abs() <= 0.15 * want, "dump says {} live bytes, held {}", live, want);

    // The automatic name: <prefix>.<pid>.<seq>.m<N>.heap
    prof::set_prefix(dir.join("auto").to_str().unwrap()).unwrap();
    prof::dump(None).unwrap();
    let autos: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(&format!("auto.{}.", std::process::id())) && n.ends_with(".heap"))
        .collect();
    assert_eq!(autos.len(), 1, "{:?}", autos);
    assert!(autos[0].contains(".m"), "{}", autos[0]);
    drop(held);

    // A path that cannot be written: EFAULT, as jemalloc.
    let e = prof::dump(Some(Path::new("/nonexistent-dir/x.heap"))).unwrap_err();
    assert_eq!(e, Error::Errno { name: "prof.dump".into(), errno: 14 });
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn dump_pprof_to_fd() {
    if !in_profiled_child("dump_pprof_to_fd") {
        return;
    }
    let dir = scratch("pprof");
    let held = hold(500, 4096);
    let path = dir.join("heap.pb.gz");
    let f = fs::File::create(&path).unwrap();
    prof::dump_pprof_fd(&f).unwrap();
    drop(f);
    let mut bytes = Vec::new();
    fs::File::open(&path).unwrap().read_to_end(&mut bytes).unwrap();
    assert!(bytes.len() > 100, "{} bytes", bytes.len());
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "not gzip");
    // A descriptor open for reading only: the write fails with an errno.
    let ro = fs::File::open(&path).unwrap();
    let e = prof::dump_pprof_fd(&ro).unwrap_err();
    assert!(matches!(e.errno(), Some(9) | Some(5)), "{:?}", e);
    drop(held);
    let _ = fs::remove_dir_all(&dir);
}
