//! Heap statistics as of the last [`epoch::advance`](crate::epoch::advance),
//! in bytes (`size_t` controls `stats.*`).
//!
//! ```
//! liballoc::epoch::advance().unwrap();
//! let (a, b) = (liballoc::stats::allocated().unwrap(), liballoc::stats::active().unwrap());
//! assert!(a <= b); // active counts whole pages of active runs and slabs
//! ```
use crate::ctl;

/// `stats.allocated`: bytes in blocks the program holds (usable sizes).
///
/// ```
/// let v = vec![1u8; 10 << 20];
/// liballoc::epoch::advance().unwrap();
/// assert!(liballoc::stats::allocated().unwrap() >= v.len());
/// ```
pub fn allocated() -> ctl::Result<usize> {
    ctl::read("stats.allocated")
}

/// `stats.active`: bytes in pages that hold blocks (a multiple of the page
/// size, at least [`allocated`]).
///
/// ```
/// liballoc::epoch::advance().unwrap();
/// assert_eq!(liballoc::stats::active().unwrap() % 4096, 0);
/// ```
pub fn active() -> ctl::Result<usize> {
    ctl::read("stats.active")
}

/// `stats.resident`: bytes of the allocator's mappings that are in RAM,
/// measured with `mincore` at the epoch (unlike jemalloc's estimate, it can
/// be below [`active`] when pages were handed out but never touched).
///
/// ```
/// let mut v = vec![0u8; 8 << 20];
/// v.iter_mut().step_by(4096).for_each(|b| *b = 1); // touch every page
/// liballoc::epoch::advance().unwrap();
/// assert!(liballoc::stats::resident().unwrap() >= 8 << 20);
/// ```
pub fn resident() -> ctl::Result<usize> {
    ctl::read("stats.resident")
}

/// `stats.mapped`: bytes of chunks the allocator has mapped.
///
/// ```
/// liballoc::epoch::advance().unwrap();
/// assert!(liballoc::stats::mapped().unwrap() >= liballoc::stats::active().unwrap());
/// ```
pub fn mapped() -> ctl::Result<usize> {
    ctl::read("stats.mapped")
}

/// `stats.metadata`: bytes of the allocator's own metadata.
///
/// ```
/// liballoc::epoch::advance().unwrap();
/// assert!(liballoc::stats::metadata().unwrap() > 0);
/// ```
pub fn metadata() -> ctl::Result<usize> {
    ctl::read("stats.metadata")
}
