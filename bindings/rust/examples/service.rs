//! A small "service" on liballoc, for profiling end to end: a cache, an
//! index built by a generic function, sessions made by a closure, and a
//! request handler behind a trait. It holds what it allocated and, when
//! given a path, writes a heap profile there: heap_v2, or gzip'd pprof when
//! the path ends in `.pb.gz` (or run it with
//! `MALLOC_CONF=prof:true,prof_final:true` for a dump at exit).
//!
//! ```sh
//! cargo run --release --example service -- /tmp/service.heap   # with MALLOC_CONF=prof:true
//! jeprof-c target/release/examples/service /tmp/service.heap
//! ```
//!
//! Sites and the bytes they hold (also printed by the program):
//! `service::Cache::insert` 2000 x 8 KiB values plus its table;
//! `service::build_index` 4000 strings of 256 bytes plus the vector;
//! `service::main::{{closure}}` 1000 sessions of 1 KiB;
//! `<service::Echo as service::Handler>::handle` 300 responses of 4 KiB.
//! The named functions are not inlined so that each is its own frame.
use std::collections::HashMap;
use std::path::Path;

use liballoc::LibAlloc;

#[global_allocator]
static GLOBAL: LibAlloc = LibAlloc;

/// Values kept by key.
struct Cache {
    map: HashMap<u64, Vec<u8>>,
}

impl Cache {
    fn new() -> Cache {
        Cache { map: HashMap::new() }
    }

    /// Stores a value of `size` bytes under `key`.
    #[inline(never)]
    fn insert(&mut self, key: u64, size: usize) {
        let value = vec![(key & 0xff) as u8; size];
        self.map.insert(key, value);
    }
}

/// One string per item, padded to `width` bytes.
#[inline(never)]
fn build_index<T: ToString>(items: &[T], width: usize) -> Vec<String> {
    items
        .iter()
        .map(|it| {
            let mut s = String::with_capacity(width);
            s.push_str(&it.to_string());
            while s.len() < width {
                s.push('.');
            }
            s
        })
        .collect()
}

/// A connection's state.
struct Session {
    id: u32,
    buf: [u8; 1024 - 8],
}

/// Something that answers requests.
trait Handler {
    fn handle(&self, req: &[u8]) -> Vec<u8>;
}

/// Answers with the request repeated to 4 KiB.
struct Echo;

impl Handler for Echo {
    #[inline(never)]
    fn handle(&self, req: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        while out.len() + req.len() <= 4096 {
            out.extend_from_slice(req);
        }
        out
    }
}

/// Reads one byte of a heap buffer through a volatile load, so that the
/// optimizer cannot drop the allocation (std::hint::black_box is newer than
/// the crate's minimum Rust, 1.63).
fn keep(buf: &[u8]) -> u8 {
    match buf.first() {
        // Safety: a valid reference to a byte.
        Some(b) => unsafe { std::ptr::read_volatile(b) },
        None => 0,
    }
}

/// Writes the heap profile to `path`: gzip'd pprof through a file
/// descriptor (prof.dump_pprof_fd) when it ends in ".pb.gz", else heap_v2
/// (prof.dump). Exits 3 when the library has no prof.dump_pprof_fd, 1 on
/// other errors.
fn dump(path: &Path) {
    let r = if path.to_string_lossy().ends_with(".pb.gz") {
        match std::fs::File::create(path) {
            Ok(f) => liballoc::prof::dump_pprof_fd(&f),
            Err(e) => {
                eprintln!("error: {}: {}", path.display(), e);
                std::process::exit(1);
            }
        }
    } else {
        liballoc::prof::dump(Some(path))
    };
    match r {
        Ok(()) => println!("dump: {}", path.display()),
        Err(e) => {
            eprintln!("error: {}", e);
            std::process::exit(if matches!(e, liballoc::ctl::Error::UnknownName { .. }) { 3 } else { 1 });
        }
    }
}

fn main() {
    let mut cache = Cache::new();
    for k in 0..2000u64 {
        cache.insert(k, 8192);
    }
    let keys: Vec<u64> = (0..4000).collect();
    let index = build_index(&keys, 256);
    let make_session = |id: u32| -> Box<Session> { Box::new(Session { id, buf: [id as u8; 1024 - 8] }) };
    let sessions: Vec<Box<Session>> = (0..1000).map(make_session).collect();
    let handler: Box<dyn Handler> = Box::new(Echo);
    let responses: Vec<Vec<u8>> = (0..300).map(|_| handler.handle(b"ping")).collect();

    println!("Cache::insert values: {} bytes", cache.map.values().map(|v| v.capacity()).sum::<usize>());
    println!("build_index strings: {} bytes", index.iter().map(|s| s.capacity()).sum::<usize>());
    println!("sessions: {} bytes", sessions.len() * std::mem::size_of::<Session>());
    println!("responses: {} bytes", responses.iter().map(|r| r.capacity()).sum::<usize>());
    let mut check = 0u64;
    check += cache.map.values().map(|v| keep(v) as u64).sum::<u64>();
    check += index.iter().map(|s| keep(s.as_bytes()) as u64).sum::<u64>();
    check += sessions.iter().map(|s| s.id as u64 + keep(&s.buf) as u64).sum::<u64>();
    check += responses.iter().map(|r| keep(r) as u64).sum::<u64>();
    println!("check: {}", check);

    if let Some(path) = std::env::args_os().nth(1) {
        dump(Path::new(&path));
    }
    liballoc::epoch::advance().unwrap();
    println!("stats.allocated: {} bytes", liballoc::stats::allocated().unwrap());
    // Exit holding the state, as a service stopped by a signal would: a
    // prof_final dump at exit then shows what it held (returning from main
    // would free it all first).
    std::process::exit(0);
}
