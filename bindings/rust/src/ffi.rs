//! The C API this crate calls: jemalloc's non-standard allocation functions
//! and the mallctl family, as `include/alloc.h` declares them.
//!
//! Everything here is `unsafe` and mirrors the C contract exactly (see
//! `include/alloc.h` and the `liballoc(3)` notes in the repository's README);
//! prefer [`LibAlloc`](crate::LibAlloc) and the [`ctl`](crate::ctl) module.
//!
//! ```
//! use liballoc::ffi;
//! unsafe {
//!     let p = ffi::mallocx(100, ffi::MALLOCX_ZERO);
//!     assert!(!p.is_null());
//!     assert_eq!(*(p as *const u8).add(99), 0);
//!     assert!(ffi::sallocx(p, 0) >= 100);
//!     ffi::sdallocx(p, 100, 0);
//! }
//! ```
use std::os::raw::{c_char, c_int, c_void};

/// Flag: align the block to `2^la` bytes (`la` < 64). The C macro
/// `MALLOCX_LG_ALIGN(la)`.
///
/// ```
/// assert_eq!(liballoc::ffi::mallocx_lg_align(12), 12);
/// ```
#[inline]
pub const fn mallocx_lg_align(la: u32) -> c_int {
    la as c_int
}

/// Flag: align the block to `a` bytes, a power of two. The C macro
/// `MALLOCX_ALIGN(a)` (the same flag as [`mallocx_lg_align`] of log2(a)).
///
/// ```
/// assert_eq!(liballoc::ffi::mallocx_align(4096), liballoc::ffi::mallocx_lg_align(12));
/// ```
#[inline]
pub const fn mallocx_align(a: usize) -> c_int {
    a.trailing_zeros() as c_int
}

/// Flag: zero the new block (`mallocx`), or the grown part (`rallocx`).
///
/// ```
/// assert_eq!(liballoc::ffi::MALLOCX_ZERO, 0x40);
/// ```
pub const MALLOCX_ZERO: c_int = 0x40;

/// Flag: bypass the thread cache (`MALLOCX_TCACHE_NONE`).
///
/// ```
/// unsafe {
///     let p = liballoc::ffi::mallocx(64, liballoc::ffi::MALLOCX_TCACHE_NONE);
///     assert!(!p.is_null());
///     liballoc::ffi::dallocx(p, liballoc::ffi::MALLOCX_TCACHE_NONE);
/// }
/// ```
pub const MALLOCX_TCACHE_NONE: c_int = (-1 + 2) << 8;

extern "C" {
    /// Allocates at least `size` bytes with `flags` (`MALLOCX_*`); NULL on
    /// failure. See `include/alloc.h`.
    ///
    /// ```
    /// unsafe {
    ///     let p = liballoc::ffi::mallocx(4096, liballoc::ffi::mallocx_align(4096));
    ///     assert_eq!(p as usize % 4096, 0);
    ///     liballoc::ffi::sdallocx(p, 4096, liballoc::ffi::mallocx_align(4096));
    /// }
    /// ```
    pub fn mallocx(size: usize, flags: c_int) -> *mut c_void;
    /// Resizes `ptr` (from this allocator) to `size` bytes, moving it if
    /// needed and keeping the alignment in `flags`; NULL on failure (`ptr`
    /// then stays valid).
    ///
    /// ```
    /// unsafe {
    ///     let p = liballoc::ffi::mallocx(8, 0) as *mut u8;
    ///     *p = 7;
    ///     let q = liballoc::ffi::rallocx(p.cast(), 1 << 20, 0) as *mut u8;
    ///     assert_eq!(*q, 7);
    ///     liballoc::ffi::dallocx(q.cast(), 0);
    /// }
    /// ```
    pub fn rallocx(ptr: *mut c_void, size: usize, flags: c_int) -> *mut c_void;
    /// Resizes `ptr` in place to at least `size` and at most `size + extra`
    /// bytes when it can; returns the block's usable size either way.
    ///
    /// ```
    /// unsafe {
    ///     let p = liballoc::ffi::mallocx(100, 0);
    ///     assert!(liballoc::ffi::xallocx(p, 100, 0, 0) >= 100);
    ///     liballoc::ffi::dallocx(p, 0);
    /// }
    /// ```
    pub fn xallocx(ptr: *mut c_void, size: usize, extra: usize, flags: c_int) -> usize;
    /// The usable size of `ptr`.
    ///
    /// ```
    /// unsafe {
    ///     let p = liballoc::ffi::mallocx(100, 0);
    ///     assert_eq!(liballoc::ffi::sallocx(p, 0), 112);
    ///     liballoc::ffi::dallocx(p, 0);
    /// }
    /// ```
    pub fn sallocx(ptr: *const c_void, flags: c_int) -> usize;
    /// Frees `ptr`.
    ///
    /// ```
    /// unsafe { liballoc::ffi::dallocx(liballoc::ffi::mallocx(1, 0), 0) }
    /// ```
    pub fn dallocx(ptr: *mut c_void, flags: c_int);
    /// Frees `ptr`, given its size: any value from the size it was allocated
    /// with up to its usable size, and the same alignment flags.
    ///
    /// ```
    /// unsafe { liballoc::ffi::sdallocx(liballoc::ffi::mallocx(24, 0), 24, 0) }
    /// ```
    pub fn sdallocx(ptr: *mut c_void, size: usize, flags: c_int);
    /// The usable size `mallocx(size, flags)` would give, without allocating;
    /// 0 when it would overflow.
    ///
    /// ```
    /// assert_eq!(unsafe { liballoc::ffi::nallocx(100, 0) }, 112);
    /// ```
    pub fn nallocx(size: usize, flags: c_int) -> usize;
    /// `calloc(3)`: `n * size` zeroed bytes, NULL on overflow or failure.
    ///
    /// ```
    /// unsafe {
    ///     let p = liballoc::ffi::calloc(4, 8) as *const u64;
    ///     assert_eq!(*p.add(3), 0);
    ///     liballoc::ffi::dallocx(p as *mut _, 0);
    /// }
    /// ```
    pub fn calloc(n: usize, size: usize) -> *mut c_void;
    /// `malloc_usable_size(3)`.
    ///
    /// ```
    /// unsafe {
    ///     let p = liballoc::ffi::mallocx(1000, 0);
    ///     assert!(liballoc::ffi::malloc_usable_size(p) >= 1000);
    ///     liballoc::ffi::dallocx(p, 0);
    /// }
    /// ```
    pub fn malloc_usable_size(ptr: *mut c_void) -> usize;
    /// Reads and/or writes the control named `name`: jemalloc's `mallctl`.
    /// Returns 0 or an errno (ENOENT no such name or feature off, EINVAL
    /// wrong size, EPERM not readable/writable, EFAULT failed).
    ///
    /// ```
    /// use std::os::raw::c_void;
    /// let mut v: usize = 0;
    /// let mut len = std::mem::size_of::<usize>();
    /// let rc = unsafe {
    ///     liballoc::ffi::mallctl(b"arenas.page\0".as_ptr().cast(),
    ///         (&mut v as *mut usize).cast::<c_void>(), &mut len, std::ptr::null_mut(), 0)
    /// };
    /// assert_eq!((rc, v), (0, 4096));
    /// ```
    pub fn mallctl(
        name: *const c_char,
        oldp: *mut c_void,
        oldlenp: *mut usize,
        newp: *mut c_void,
        newlen: usize,
    ) -> c_int;
    /// Translates a control name to a MIB (path of indices); ENOENT when the
    /// name does not exist in this build.
    ///
    /// ```
    /// let mut mib = [0usize; 4];
    /// let mut n = mib.len();
    /// let rc = unsafe { liballoc::ffi::mallctlnametomib(b"stats.allocated\0".as_ptr().cast(), mib.as_mut_ptr(), &mut n) };
    /// assert_eq!((rc, n), (0, 2));
    /// ```
    pub fn mallctlnametomib(name: *const c_char, mibp: *mut usize, miblenp: *mut usize) -> c_int;
    /// `mallctl` by MIB (see [`mallctlnametomib`]).
    ///
    /// ```
    /// let mut mib = [0usize; 4];
    /// let mut n = mib.len();
    /// let mut v = 0usize;
    /// let mut len = std::mem::size_of::<usize>();
    /// unsafe {
    ///     assert_eq!(liballoc::ffi::mallctlnametomib(b"arenas.page\0".as_ptr().cast(), mib.as_mut_ptr(), &mut n), 0);
    ///     assert_eq!(liballoc::ffi::mallctlbymib(mib.as_ptr(), n, (&mut v as *mut usize).cast(), &mut len, std::ptr::null_mut(), 0), 0);
    /// }
    /// assert_eq!(v, 4096);
    /// ```
    pub fn mallctlbymib(
        mib: *const usize,
        miblen: usize,
        oldp: *mut c_void,
        oldlenp: *mut usize,
        newp: *mut c_void,
        newlen: usize,
    ) -> c_int;
    /// Prints the allocator's statistics through `write_cb` (stderr when
    /// NULL); `opts` as jemalloc's (`"J"` for JSON, NULL for all).
    ///
    /// ```
    /// unsafe extern "C" fn collect(out: *mut std::os::raw::c_void, s: *const std::os::raw::c_char) {
    ///     let out = &mut *(out as *mut String);
    ///     out.push_str(&std::ffi::CStr::from_ptr(s).to_string_lossy());
    /// }
    /// let mut text = String::new();
    /// unsafe { liballoc::ffi::malloc_stats_print(Some(collect), (&mut text as *mut String).cast(), std::ptr::null()) };
    /// assert!(text.contains("jemalloc statistics"));
    /// ```
    pub fn malloc_stats_print(
        write_cb: Option<unsafe extern "C" fn(*mut c_void, *const c_char)>,
        cbopaque: *mut c_void,
        opts: *const c_char,
    );
}
