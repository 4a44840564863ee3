//! Rust bindings for **liballoc**, a jemalloc-compatible `malloc` with a
//! built-in sampled heap profiler.
//!
//! * [`LibAlloc`]: a `#[global_allocator]` over `mallocx`/`rallocx`/`sdallocx`
//!   (alignment flags only when the default alignment does not suffice,
//!   sized deallocation).
//! * [`ctl`]: typed `mallctl` access with an [`Error`](ctl::Error) type, and
//!   the common controls: [`epoch`], [`stats`], [`prof`].
//! * [`ffi`]: the raw C functions.
//!
//! The crate has no dependencies outside `std`. Its build script links the C
//! library: from `LIBALLOC_DIR`, from the repository's `build/` when the crate
//! is used in-tree, or through `pkg-config alloc`; statically by default,
//! dynamically with `LIBALLOC_LINK=dynamic` (see `docs/rust.md`).
//!
//! ```no_run
//! use liballoc::LibAlloc;
//!
//! #[global_allocator]
//! static GLOBAL: LibAlloc = LibAlloc;
//!
//! fn main() {
//!     let v: Vec<u64> = (0..1000).collect();
//!     liballoc::epoch::advance().unwrap();
//!     println!("allocated: {} bytes", liballoc::stats::allocated().unwrap());
//!     drop(v);
//! }
//! ```
//!
//! Heap profiling needs no code: run the program with
//! `MALLOC_CONF=prof:true,prof_final:true` and read the dump with `jeprof-c`.
//! [`prof::dump`] writes one on demand.
//!
//! Linking this crate (even without `#[global_allocator]`) makes liballoc the
//! process's `malloc`: C code in the same process allocates from it too, as
//! with jemalloc.
#![warn(missing_docs)]

use std::alloc::{GlobalAlloc, Layout};
use std::os::raw::{c_int, c_void};

pub mod ctl;
pub mod epoch;
pub mod ffi;
pub mod prof;
pub mod stats;

/// The alignment every block of at least this many bytes has without an
/// alignment flag: liballoc's size classes are multiples of 16 bytes from
/// 16 B up (8 B blocks are 8-aligned), as jemalloc's on 64-bit targets.
#[cfg(target_pointer_width = "64")]
const MIN_ALIGN: usize = 16;
#[cfg(not(target_pointer_width = "64"))]
const MIN_ALIGN: usize = 8;

/// The `mallocx` flags for a layout: none when plain `malloc` alignment
/// already suffices (the alignment is at most [`MIN_ALIGN`] and at most the
/// size, since a block of n < 16 bytes is only aligned to n rounded up to
/// a power of two), else `MALLOCX_LG_ALIGN(log2(align))`.
#[inline(always)]
fn layout_flags(align: usize, size: usize) -> c_int {
    if align <= MIN_ALIGN && align <= size {
        0
    } else {
        ffi::mallocx_lg_align(align.trailing_zeros())
    }
}

/// The global allocator type: every Rust allocation goes to liballoc.
///
/// * `alloc` is `mallocx(size, flags)`, `alloc_zeroed` `calloc` (or
///   `mallocx` with `MALLOCX_ZERO` when an alignment flag is needed),
///   `realloc` `rallocx`, `dealloc` the sized `sdallocx`; `flags` carries
///   `MALLOCX_LG_ALIGN` only when the layout's alignment exceeds what an
///   unaligned block of that size has (the rule tikv-jemallocator uses).
/// * Zero sizes: `GlobalAlloc` callers never ask for 0 bytes (Rust's
///   collections do not allocate for them); if one does, the block is a
///   valid, unique minimal block, freed normally.
/// * Failure returns null, and Rust's `handle_alloc_error` reports it.
///
/// Allocations are sampled by the profiler like C `malloc` calls, and the
/// allocator's frames and Rust's allocation shims (`__rust_alloc`,
/// `RawVec`...) are left out of `jeprof-c`'s call sites.
///
/// ```
/// use liballoc::LibAlloc;
/// use std::alloc::{GlobalAlloc, Layout};
///
/// let layout = Layout::from_size_align(100, 64).unwrap();
/// unsafe {
///     let p = LibAlloc.alloc(layout);
///     assert_eq!(p as usize % 64, 0);
///     p.write_bytes(0xab, 100);
///     let q = LibAlloc.realloc(p, layout, 5000);
///     assert_eq!(*q.add(99), 0xab);
///     LibAlloc.dealloc(q, Layout::from_size_align(5000, 64).unwrap());
/// }
/// ```
///
/// As the program's allocator:
///
/// ```no_run
/// #[global_allocator]
/// static GLOBAL: liballoc::LibAlloc = liballoc::LibAlloc;
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LibAlloc;

unsafe impl GlobalAlloc for LibAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let flags = layout_flags(layout.align(), layout.size());
        ffi::mallocx(layout.size(), flags) as *mut u8
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let flags = layout_flags(layout.align(), layout.size());
        if flags == 0 {
            ffi::calloc(1, layout.size()) as *mut u8
        } else {
            ffi::mallocx(layout.size(), flags | ffi::MALLOCX_ZERO) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let flags = layout_flags(layout.align(), layout.size());
        ffi::sdallocx(ptr as *mut c_void, layout.size(), flags)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let flags = layout_flags(layout.align(), new_size);
        ffi::rallocx(ptr as *mut c_void, new_size, flags) as *mut u8
    }
}

/// The usable size of a block from this allocator (at least the size it
/// was allocated with): `sallocx`.
///
/// # Safety
/// `ptr` must be a live block from [`LibAlloc`] (or from liballoc's `malloc`).
///
/// ```
/// use std::alloc::{GlobalAlloc, Layout};
/// let l = Layout::from_size_align(100, 8).unwrap();
/// unsafe {
///     let p = liballoc::LibAlloc.alloc(l);
///     assert_eq!(liballoc::usable_size(p), 112); // the 112-byte size class
///     liballoc::LibAlloc.dealloc(p, l);
/// }
/// ```
pub unsafe fn usable_size(ptr: *const u8) -> usize {
    ffi::sallocx(ptr as *const c_void, 0)
}

/// The type of the `malloc_conf` symbol [`malloc_conf!`] defines: a
/// pointer to a NUL-terminated string, as C's `const char *malloc_conf`.
#[doc(hidden)]
#[repr(transparent)]
pub struct ConfPtr(pub *const u8);

// Safety: it points to an immutable string literal.
unsafe impl Sync for ConfPtr {}

/// Compiles options into the program: defines the `malloc_conf` symbol the
/// allocator reads at start-up (jemalloc's `malloc_conf` global), with the
/// same syntax as `MALLOC_CONF`, which still overrides it. Use it once, in
/// the binary crate.
///
/// Works with both link modes: statically the definition replaces the
/// library's empty default; dynamically the executable exports it and the
/// library's reference binds to it.
///
/// ```
/// liballoc::malloc_conf!("prof:true,lg_prof_sample:16");
/// fn main() {
///     assert!(liballoc::prof::enabled());
///     assert_eq!(liballoc::prof::lg_sample().unwrap(), 16);
/// }
/// ```
#[macro_export]
macro_rules! malloc_conf {
    ($conf:expr) => {
        #[no_mangle]
        #[used]
        static malloc_conf: $crate::ConfPtr = $crate::ConfPtr(concat!($conf, "\0").as_ptr());
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_the_min_align_rule() {
        assert_eq!(layout_flags(1, 1), 0);
        assert_eq!(layout_flags(8, 8), 0);
        assert_eq!(layout_flags(16, 16), 0);
        assert_eq!(layout_flags(16, 100), 0);
        // 8 bytes are only 8-aligned: a 16-byte alignment needs the flag.
        assert_eq!(layout_flags(16, 8), 4);
        assert_eq!(layout_flags(32, 1000), 5);
        assert_eq!(layout_flags(4096, 1), 12);
    }
}
