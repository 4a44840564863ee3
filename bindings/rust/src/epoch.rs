//! The statistics epoch: [`advance`] refreshes the snapshot every
//! `stats.*` control reads (jemalloc's `epoch`).
//!
//! ```
//! let e1 = liballoc::epoch::advance().unwrap();
//! let e2 = liballoc::epoch::advance().unwrap();
//! assert!(e2 > e1);
//! ```
use crate::ctl;

/// Refreshes the statistics snapshot and returns the new epoch number.
/// Call it before reading [`stats`](crate::stats): their values are those
/// of the last refresh. Thread-safe; an epoch costs up to a few ms (it
/// measures `stats.resident` with `mincore`).
///
/// ```
/// let v = vec![0u8; 1 << 20];
/// liballoc::epoch::advance().unwrap();
/// assert!(liballoc::stats::allocated().unwrap() >= v.len());
/// ```
pub fn advance() -> ctl::Result<u64> {
    // One call: the write refreshes, the read in the same call returns the
    // new epoch.
    ctl::replace("epoch", 1u64)
}

/// The current epoch number, without refreshing.
///
/// ```
/// let e = liballoc::epoch::advance().unwrap();
/// assert_eq!(liballoc::epoch::current().unwrap(), e);
/// ```
pub fn current() -> ctl::Result<u64> {
    ctl::read("epoch")
}
