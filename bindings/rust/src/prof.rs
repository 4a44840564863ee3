//! The heap profiler: turn sampling on and off, write dumps.
//!
//! The profiler exists only when the process starts with
//! `MALLOC_CONF=prof:true` (or the `malloc_conf` symbol); otherwise these
//! calls return [`Error::Unavailable`] and
//! [`enabled`] is false. Sampling then runs at one sample per
//! 2^`lg_prof_sample` bytes (default 19: 512 KiB) while [`active`].
//!
//! ```no_run
//! // MALLOC_CONF=prof:true,lg_prof_sample:16 ./service
//! let dir = std::env::temp_dir();
//! liballoc::prof::dump(Some(&dir.join("service.heap"))).unwrap();
//! // jeprof-c ./service /tmp/service.heap
//! ```
use std::ffi::CString;
use std::os::raw::c_int;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::{AsFd, AsRawFd};
use std::path::Path;

use crate::ctl::{self, Error};

/// Whether the profiler runs in this process (`opt.prof`, from
/// `MALLOC_CONF=prof:true`); false also when the library was built without
/// it.
///
/// ```
/// let on = liballoc::prof::enabled();
/// assert_eq!(on, std::env::var("MALLOC_CONF").map_or(false, |c| c.contains("prof:true")));
/// ```
pub fn enabled() -> bool {
    ctl::read::<bool>("opt.prof").unwrap_or(false)
}

/// `prof.active`: whether allocations are being sampled now (false when
/// profiling is off).
///
/// ```
/// if !liballoc::prof::enabled() {
///     assert!(!liballoc::prof::active().unwrap());
/// }
/// ```
pub fn active() -> ctl::Result<bool> {
    ctl::read("prof.active")
}

/// Starts (`true`) or pauses (`false`) sampling for every thread; returns
/// the previous state. Blocks sampled before stay in the profile until
/// freed. Errors: [`Error::Unavailable`] when turning it on without
/// `prof:true`.
///
/// ```no_run
/// let was = liballoc::prof::set_active(false).unwrap();
/// // ... a phase not to profile ...
/// liballoc::prof::set_active(was).unwrap();
/// ```
pub fn set_active(on: bool) -> ctl::Result<bool> {
    ctl::replace("prof.active", on)
}

/// Writes a heap profile now: to `path` (heap_v2 text; with
/// `prof_format:pprof`/`both` also or instead a gzip'd pprof file beside it),
/// or with `None` to `<prof_prefix>.<pid>.<seq>.m<N>.heap` like jemalloc's
/// `prof.dump`. Read it with `jeprof-c <program> <dump>`.
///
/// Errors: [`Error::Unavailable`] without `prof:true`; [`Error::Errno`]
/// with EFAULT when the file cannot be written; [`Error::Nul`] for a path
/// with a NUL byte.
///
/// ```no_run
/// liballoc::prof::dump(None).unwrap();
/// liballoc::prof::dump(Some(std::path::Path::new("/tmp/now.heap"))).unwrap();
/// ```
pub fn dump(path: Option<&Path>) -> ctl::Result<()> {
    match path {
        None => ctl::run("prof.dump"),
        Some(p) => {
            let c = CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::Nul { name: "prof.dump".to_string() })?;
            ctl::write_cstr("prof.dump", &c)
        }
    }
}

/// Sets `prof.prefix`, the start of the automatic dump names
/// (`<prefix>.<pid>.<seq>.<kind>.heap`), e.g. a directory plus a name.
///
/// ```no_run
/// liballoc::prof::set_prefix("/var/tmp/service").unwrap();
/// liballoc::prof::dump(None).unwrap(); // /var/tmp/service.<pid>.0.m0.heap
/// ```
pub fn set_prefix(prefix: &str) -> ctl::Result<()> {
    ctl::write_str("prof.prefix", prefix)
}

/// Writes the current heap profile as a gzip'd pprof `profile.proto` to
/// `fd` (the bytes the `prof_http` endpoint `/debug/pprof/heap` serves):
/// the mallctl `prof.dump_pprof_fd`. The descriptor is written to, not
/// closed or rewound.
///
/// Errors: [`Error::Unavailable`] without `prof:true`;
/// [`Error::UnknownName`] when the library predates this control;
/// [`Error::Errno`] with EBADF or EIO when the write fails.
///
/// ```no_run
/// let f = std::fs::File::create("/tmp/heap.pb.gz").unwrap();
/// liballoc::prof::dump_pprof_fd(&f).unwrap();
/// // go tool pprof -top /tmp/heap.pb.gz, or jeprof-c ./service /tmp/heap.pb.gz
/// ```
pub fn dump_pprof_fd<F: AsFd>(fd: F) -> ctl::Result<()> {
    let raw: c_int = fd.as_fd().as_raw_fd();
    ctl::write("prof.dump_pprof_fd", raw)
}

/// `prof.reset`: forgets every sample (live and accumulated), and sets the
/// sampling rate to 2^`lg_sample` bytes when given.
///
/// ```no_run
/// liballoc::prof::reset(Some(16)).unwrap();
/// ```
pub fn reset(lg_sample: Option<usize>) -> ctl::Result<()> {
    match lg_sample {
        None => ctl::run("prof.reset"),
        Some(lg) => ctl::write("prof.reset", lg),
    }
}

/// `prof.lg_sample`: the current sampling rate, log2 of the mean bytes
/// between samples.
///
/// ```no_run
/// assert_eq!(liballoc::prof::lg_sample().unwrap(), 19); // the default
/// ```
pub fn lg_sample() -> ctl::Result<usize> {
    ctl::read("prof.lg_sample")
}
