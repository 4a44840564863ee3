//! The ctl module against the library in a process without the profiler:
//! typed reads and writes, size checks, error kinds and messages, epoch and
//! the stats it refreshes, and the prof calls failing cleanly.
use std::path::Path;

use liballoc::ctl::{self, Error};
use liballoc::{epoch, prof, stats, LibAlloc};

#[global_allocator]
static GLOBAL: LibAlloc = LibAlloc;

// Tests that read process-wide stats run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn typed_reads_and_writes() {
    assert_eq!(ctl::read::<usize>("arenas.page").unwrap(), 4096);
    assert_eq!(ctl::read::<usize>("arenas.quantum").unwrap(), 16);
    assert!(ctl::read::<bool>("config.prof").unwrap());
    assert!(ctl::read_string("version").unwrap().starts_with("5.3.0"));
    // A write and a read-back on this thread.
    ctl::write("thread.tcache.enabled", false).unwrap();
    assert!(!ctl::read::<bool>("thread.tcache.enabled").unwrap());
    assert!(!ctl::replace("thread.tcache.enabled", true).unwrap());
    assert!(ctl::read::<bool>("thread.tcache.enabled").unwrap());
    ctl::run("thread.tcache.flush").unwrap();
    ctl::run("arena.0.purge").unwrap();
    assert!(matches!(ctl::run("arena.100000.purge"), Err(Error::UnknownName { .. }) | Err(Error::Errno { .. })));
}

#[test]
fn size_mismatches_are_errors() {
    // arenas.page is size_t: 4 and 1 bytes are refused, never half-read.
    match ctl::read::<u32>("arenas.page") {
        Err(Error::Size { expected: 4, actual: 4, .. }) | Err(Error::Size { expected: 4, .. }) => {}
        other => panic!("u32 read of a size_t: {:?}", other),
    }
    assert!(matches!(ctl::read::<bool>("arenas.page"), Err(Error::Size { expected: 1, .. })));
    // A bool control written with 8 bytes.
    let e = ctl::write("thread.tcache.enabled", 1u64).unwrap_err();
    assert!(matches!(e, Error::Size { expected: 8, .. }), "{:?}", e);
    assert_eq!(e.errno(), Some(22));
}

#[test]
fn unknown_names_and_bad_input() {
    let e = ctl::read::<usize>("stats.no_such_counter").unwrap_err();
    assert_eq!(e, Error::UnknownName { name: "stats.no_such_counter".into() });
    assert_eq!(
        e.to_string(),
        "mallctl \"stats.no_such_counter\": no such name in this build of liballoc (ENOENT)"
    );
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(matches!(ctl::read::<usize>("arenas.\0page"), Err(Error::Nul { .. })));
    // A pointer-sized number is never taken for a string (no crash).
    assert_eq!(ctl::read_string("stats.allocated"), Err(Error::NotAString { name: "stats.allocated".into() }));
    assert_eq!(ctl::write_str("epoch", "x"), Err(Error::NotAString { name: "epoch".into() }));
    assert_eq!(ctl::read_string("opt.prof_prefix").unwrap(), "jeprof");
    assert!(matches!(ctl::read_string("arena.0.dss"), Ok(_) | Err(Error::UnknownName { .. })));
    // Read-only control written: EPERM.
    let e = ctl::write("arenas.page", 8192usize).unwrap_err();
    assert_eq!(e, Error::Errno { name: "arenas.page".into(), errno: 1 });
    assert!(e.to_string().contains("EPERM"), "{}", e);
    assert_eq!(ctl::read::<usize>("arenas.page").unwrap(), 4096);
}

#[test]
fn epoch_refreshes_stats() {
    let _g = SERIAL.lock().unwrap();
    let e1 = epoch::advance().unwrap();
    assert_eq!(epoch::current().unwrap(), e1);
    let base = stats::allocated().unwrap();
    let mut v = vec![0u8; 32 << 20];
    for b in v.iter_mut().step_by(4096) {
        *b = 1;
    }
    // Not refreshed yet: the snapshot is the old one.
    assert_eq!(stats::allocated().unwrap(), base);
    let e2 = epoch::advance().unwrap();
    assert!(e2 > e1);
    let grown = stats::allocated().unwrap();
    // Process-wide: the other tests of this binary run on other threads
    // and free their own blocks meanwhile (32 bytes short was seen), so
    // the vector's 32 MiB is checked to within 1 MiB.
    assert!(grown >= base + (31 << 20), "allocated {} -> {}", base, grown);
    assert!(stats::active().unwrap() >= grown);
    assert!(stats::resident().unwrap() >= 32 << 20);
    assert!(stats::mapped().unwrap() >= stats::active().unwrap());
    assert!(stats::metadata().unwrap() > 0);
    drop(v);
    epoch::advance().unwrap();
    let after = stats::allocated().unwrap();
    assert!(after + (30 << 20) <= grown, "allocated {} after freeing 32 MiB of {}", after, grown);
}

#[test]
fn prof_calls_fail_cleanly_without_prof() {
    if prof::enabled() {
        eprintln!("skip: MALLOC_CONF turns the profiler on in this run");
        return;
    }
    assert!(!prof::active().unwrap());
    let e = prof::set_active(true).unwrap_err();
    assert_eq!(e, Error::Unavailable { name: "prof.active".into() });
    assert!(e.to_string().contains("prof:true"), "{}", e);
    assert!(matches!(prof::dump(None), Err(Error::Unavailable { .. })));
    assert!(matches!(prof::dump(Some(Path::new("/tmp/x.heap"))), Err(Error::Unavailable { .. })));
    let f = std::fs::File::open("/dev/null").unwrap();
    match prof::dump_pprof_fd(&f) {
        Err(Error::Unavailable { .. }) => {}
        other => panic!("dump_pprof_fd without prof: {:?}", other),
    }
}
