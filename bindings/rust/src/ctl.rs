//! Typed `mallctl` access: read and write a control by name with its C type
//! checked, and errors that say what went wrong.
//!
//! [`read`] and [`write()`] take any [`CtlType`] (the integer types of the C
//! controls: `bool`, `u32`/`unsigned`, `u64`/`uint64_t`, `usize`/`size_t`,
//! `isize`/`ssize_t`, ...); the size the control expects must equal the
//! Rust type's, else [`Error::Size`] (never a partial or misread value).
//! [`read_string`] reads the `const char *` controls, [`write_str`] writes them,
//! and [`run`] triggers a control that takes no value (`arena.0.purge`).
//!
//! ```
//! let page: usize = liballoc::ctl::read("arenas.page").unwrap();
//! assert_eq!(page, 4096);
//! let err = liballoc::ctl::read::<u32>("arenas.page").unwrap_err(); // size_t, not unsigned
//! assert!(matches!(err, liballoc::ctl::Error::Size { expected: 4, .. }));
//! ```
//!
//! The controls and their types are jemalloc 5.3's (see the repository's
//! README, section "mallctl"). All functions are thread-safe.
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

use crate::ffi;

/// Why a control could not be read or written.
///
/// ```
/// use liballoc::ctl::{self, Error};
/// match ctl::read::<usize>("no.such.name") {
///     Err(Error::UnknownName { name }) => assert_eq!(name, "no.such.name"),
///     other => panic!("{:?}", other),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The name does not exist in this build of the library (ENOENT from
    /// the name lookup): a misspelling, or a control of a newer version.
    UnknownName {
        /// The control's name.
        name: String,
    },
    /// The name exists but the feature behind it is off (ENOENT from the
    /// control itself), e.g. `prof.*` without `MALLOC_CONF=prof:true`.
    Unavailable {
        /// The control's name.
        name: String,
    },
    /// The control's value has a different size than the Rust type used.
    Size {
        /// The control's name.
        name: String,
        /// The Rust type's size in bytes.
        expected: usize,
        /// The size the control reported (0 when it did not say).
        actual: usize,
    },
    /// The library returned this errno (EPERM: not readable/writable that
    /// way; EINVAL: invalid value; EFAULT: the operation failed; EAGAIN;
    /// EBADF/EIO: a write to a file descriptor failed; ...).
    Errno {
        /// The control's name.
        name: String,
        /// The errno value.
        errno: i32,
    },
    /// The name, or a string value, contains a NUL byte.
    Nul {
        /// The control's name (up to the NUL when that is where it is).
        name: String,
    },
    /// [`read_string`] or [`write_str`] on a control that is not known to
    /// hold a string (its pointer-sized value is not taken for one).
    NotAString {
        /// The control's name.
        name: String,
    },
    /// The value read is not valid for the Rust type (a `bool` that is not
    /// 0 or 1, a string that is not UTF-8).
    BadValue {
        /// The control's name.
        name: String,
    },
}

impl Error {
    /// The errno behind the error, when there is one (ENOENT for
    /// [`Error::UnknownName`] and [`Error::Unavailable`], EINVAL for
    /// [`Error::Size`]).
    ///
    /// ```
    /// let e = liballoc::ctl::read::<usize>("no.such.name").unwrap_err();
    /// assert_eq!(e.errno(), Some(2)); // ENOENT
    /// ```
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::UnknownName { .. } | Error::Unavailable { .. } => Some(ENOENT),
            Error::Size { .. } => Some(EINVAL),
            Error::Errno { errno, .. } => Some(*errno),
            Error::Nul { .. } | Error::BadValue { .. } | Error::NotAString { .. } => None,
        }
    }

    /// The control's name.
    ///
    /// ```
    /// let e = liballoc::ctl::read::<usize>("no.such.name").unwrap_err();
    /// assert_eq!(e.name(), "no.such.name");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            Error::UnknownName { name }
            | Error::Unavailable { name }
            | Error::Size { name, .. }
            | Error::Errno { name, .. }
            | Error::Nul { name }
            | Error::NotAString { name }
            | Error::BadValue { name } => name,
        }
    }
}

const ENOENT: i32 = 2;
const EIO: i32 = 5;
const EBADF: i32 = 9;
const EAGAIN: i32 = 11;
const ENOMEM: i32 = 12;
const EFAULT: i32 = 14;
const EPERM: i32 = 1;
const EINVAL: i32 = 22;

impl fmt::Display for Error {
    /// ```
    /// let e = liballoc::ctl::read::<usize>("no.such.name").unwrap_err();
    /// assert_eq!(e.to_string(), "mallctl \"no.such.name\": no such name in this build of liballoc (ENOENT)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownName { name } => {
                write!(f, "mallctl \"{}\": no such name in this build of liballoc (ENOENT)", name)
            }
            Error::Unavailable { name } => write!(
                f,
                "mallctl \"{}\": the feature is off in this process (ENOENT; prof.* needs MALLOC_CONF=prof:true)",
                name
            ),
            Error::Size { name, expected, actual } => write!(
                f,
                "mallctl \"{}\": the value is {} bytes, the Rust type {} bytes (EINVAL)",
                name, actual, expected
            ),
            Error::Errno { name, errno } => {
                let what = match *errno {
                    EPERM => "not readable or not writable this way (EPERM)".to_string(),
                    EINVAL => "invalid value or size (EINVAL)".to_string(),
                    EFAULT => "the operation failed (EFAULT)".to_string(),
                    EAGAIN => "the allocator could not initialise (EAGAIN)".to_string(),
                    ENOMEM => "out of memory (ENOMEM)".to_string(),
                    EBADF => "bad file descriptor (EBADF)".to_string(),
                    EIO => "write failed (EIO)".to_string(),
                    e => format!("{} (errno {})", std::io::Error::from_raw_os_error(e), e),
                };
                write!(f, "mallctl \"{}\": {}", name, what)
            }
            Error::Nul { name } => write!(f, "mallctl \"{}\": name or value contains a NUL byte", name),
            Error::BadValue { name } => write!(f, "mallctl \"{}\": the value read is not valid for the Rust type", name),
            Error::NotAString { name } => write!(
                f,
                "mallctl \"{}\": not a string control (read it with ctl::read, or read_string_unchecked)",
                name
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    /// Turns a control error into an I/O error of the errno's kind, the
    /// message kept (for callers that already use `io::Result`).
    ///
    /// ```
    /// let e: std::io::Error = liballoc::ctl::read::<usize>("no.such.name").unwrap_err().into();
    /// assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    /// assert!(e.to_string().contains("no.such.name"));
    /// ```
    fn from(e: Error) -> std::io::Error {
        match e.errno() {
            Some(n) => std::io::Error::new(std::io::Error::from_raw_os_error(n).kind(), e),
            None => std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        }
    }
}

/// The result of a control call.
///
/// ```
/// fn heap_bytes() -> liballoc::ctl::Result<usize> {
///     liballoc::epoch::advance()?;
///     liballoc::stats::allocated()
/// }
/// assert!(heap_bytes().unwrap() > 0);
/// ```
pub type Result<T> = std::result::Result<T, Error>;

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that stands for a control's C type: the integer types and
/// `bool`. Sealed: the set is fixed so that every value the library writes
/// is a valid value of the type.
///
/// ```
/// fn read_any<T: liballoc::ctl::CtlType>(name: &str) -> liballoc::ctl::Result<T> {
///     liballoc::ctl::read(name)
/// }
/// assert!(read_any::<bool>("config.prof").unwrap());
/// ```
pub trait CtlType: sealed::Sealed + Copy {
    /// The C representation (the same size; `u8` for `bool`).
    #[doc(hidden)]
    type Raw: Copy + Default;
    #[doc(hidden)]
    fn from_raw(raw: Self::Raw) -> Option<Self>;
    #[doc(hidden)]
    fn to_raw(self) -> Self::Raw;
}

macro_rules! int_ctl_type {
    ($($t:ty)*) => {$(
        impl sealed::Sealed for $t {}
        impl CtlType for $t {
            type Raw = $t;
            fn from_raw(raw: $t) -> Option<$t> { Some(raw) }
            fn to_raw(self) -> $t { self }
        }
    )*};
}
int_ctl_type!(u8 i8 u16 i16 u32 i32 u64 i64 usize isize);

impl sealed::Sealed for bool {}
impl CtlType for bool {
    type Raw = u8;
    fn from_raw(raw: u8) -> Option<bool> {
        match raw {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn to_raw(self) -> u8 {
        self as u8
    }
}

/// Runs `f` with `name` as a C string: on the stack for names under 128
/// bytes, so that reading a control does not allocate (a counter such as
/// `thread.allocated` then reads the same twice in a row).
fn with_cname<R>(name: &str, f: impl FnOnce(&CStr) -> Result<R>) -> Result<R> {
    let nul = || Error::Nul { name: name.split('\0').next().unwrap_or("").to_string() };
    if name.as_bytes().contains(&0) {
        return Err(nul());
    }
    let mut buf = [0u8; 128];
    if name.len() < buf.len() {
        buf[..name.len()].copy_from_slice(name.as_bytes());
        let c = CStr::from_bytes_with_nul(&buf[..=name.len()]).map_err(|_| nul())?;
        f(c)
    } else {
        let c = CString::new(name).map_err(|_| nul())?;
        f(&c)
    }
}

/// Maps a non-zero return of `mallctl` to an [`Error`]; ENOENT is told apart
/// (unknown name or feature off) by looking the name up.
fn error(name: &str, c: &CStr, rc: c_int) -> Error {
    if rc == ENOENT {
        let mut mib = [0usize; 16];
        let mut len = mib.len();
        // Safety: valid NUL-terminated name, a MIB buffer of len entries.
        let found = unsafe { ffi::mallctlnametomib(c.as_ptr(), mib.as_mut_ptr(), &mut len) } == 0;
        return if found {
            Error::Unavailable { name: name.to_string() }
        } else {
            Error::UnknownName { name: name.to_string() }
        };
    }
    Error::Errno { name: name.to_string(), errno: rc }
}

/// Calls mallctl with raw pointers; `Ok` with the old length on success.
///
/// Safety: oldp/newp must point to at least *oldlenp / newlen valid bytes.
unsafe fn raw(name: &str, oldp: *mut c_void, oldlen: Option<usize>, newp: *mut c_void, newlen: usize) -> Result<usize> {
    with_cname(name, |c| {
        let mut len = oldlen.unwrap_or(0);
        let lenp = if oldlen.is_some() { &mut len as *mut usize } else { ptr::null_mut() };
        let rc = ffi::mallctl(c.as_ptr(), oldp, lenp, newp, newlen);
        if rc == 0 {
            return Ok(len);
        }
        if rc == EINVAL {
            // A wrong size, or a value the control refuses: the size a read
            // reports tells them apart.
            let want = oldlen.unwrap_or(newlen);
            if let Some(actual) = probe_size(c) {
                if actual != want {
                    return Err(Error::Size { name: name.to_string(), expected: want, actual });
                }
            }
        }
        Err(error(name, c, rc))
    })
}

/// Reads the control `name` as a `T`.
///
/// Errors: [`Error::UnknownName`] / [`Error::Unavailable`] (ENOENT),
/// [`Error::Size`] when the control's C type is not `T`'s size,
/// [`Error::Errno`] (EPERM for a write-only control, ...).
///
/// ```
/// let narenas: u32 = liballoc::ctl::read("arenas.narenas").unwrap();
/// assert!(narenas >= 1);
/// let prof_compiled: bool = liballoc::ctl::read("config.prof").unwrap();
/// assert!(prof_compiled);
/// ```
pub fn read<T: CtlType>(name: &str) -> Result<T> {
    let mut v = T::Raw::default();
    let size = std::mem::size_of::<T::Raw>();
    // Safety: v is size bytes; the control writes at most size bytes.
    let len = unsafe { raw(name, &mut v as *mut T::Raw as *mut c_void, Some(size), ptr::null_mut(), 0)? };
    if len != size {
        return Err(Error::Size { name: name.to_string(), expected: size, actual: len });
    }
    T::from_raw(v).ok_or_else(|| Error::BadValue { name: name.to_string() })
}

/// Writes `value` to the control `name`.
///
/// Errors as for [`read`]; [`Error::Size`] when the control's value has
/// another size (known only for controls that can also be read; a
/// write-only control answers [`Error::Errno`] EINVAL).
///
/// ```
/// // Give this thread a fresh explicit arena assignment: arena 0.
/// liballoc::ctl::write("thread.arena", 0u32).unwrap();
/// assert_eq!(liballoc::ctl::read::<u32>("thread.arena").unwrap(), 0);
/// ```
pub fn write<T: CtlType>(name: &str, value: T) -> Result<()> {
    let mut v = value.to_raw();
    let size = std::mem::size_of::<T::Raw>();
    // Safety: v is size readable bytes.
    unsafe { raw(name, ptr::null_mut(), None, &mut v as *mut T::Raw as *mut c_void, size) }.map(|_| ())
}

/// Writes `value` and returns the value the control had before, in one call
/// (e.g. toggling `prof.active`).
///
/// ```
/// let old: u32 = liballoc::ctl::read("thread.arena").unwrap();
/// assert_eq!(liballoc::ctl::replace("thread.arena", old).unwrap(), old);
/// ```
pub fn replace<T: CtlType>(name: &str, value: T) -> Result<T> {
    let mut old = T::Raw::default();
    let mut v = value.to_raw();
    let size = std::mem::size_of::<T::Raw>();
    // Safety: old and v are size bytes each.
    let len = unsafe {
        raw(name, &mut old as *mut T::Raw as *mut c_void, Some(size), &mut v as *mut T::Raw as *mut c_void, size)?
    };
    if len != size {
        return Err(Error::Size { name: name.to_string(), expected: size, actual: len });
    }
    T::from_raw(old).ok_or_else(|| Error::BadValue { name: name.to_string() })
}

/// The size of a control's value: a read into a buffer larger than any
/// scalar answers EINVAL and copies (and reports) the value's size. None
/// when the control cannot be read (write-only: EPERM).
fn probe_size(c: &CStr) -> Option<usize> {
    let mut buf = [0u8; 32];
    let mut len = buf.len();
    // Safety: buf has len bytes; a read only.
    let rc = unsafe { ffi::mallctl(c.as_ptr(), buf.as_mut_ptr() as *mut c_void, &mut len, ptr::null_mut(), 0) };
    match rc {
        0 => Some(len),
        EINVAL if len < buf.len() => Some(len),
        _ => None,
    }
}

/// Controls whose value is a `const char *` to read: jemalloc 5.3's and
/// liballoc's (`opt.*` strings and choices of liballoc/options.def).
const STRING_READS: &[&str] = &[
    "version",
    "config.malloc_conf",
    "opt.dss",
    "opt.metadata_thp",
    "opt.thp",
    "opt.percpu_arena",
    "opt.junk",
    "opt.zero_realloc",
    "opt.stats_print_opts",
    "opt.prof_prefix",
    "opt.prof_format",
    "opt.prof_unwind",
    "opt.prof_time_resolution",
    "opt.prof_dump_signal",
    "opt.prof_http",
    "thread.prof.name",
    "arena.<i>.dss",
];

/// Controls that take a `const char *` to write.
const STRING_WRITES: &[&str] = &["prof.dump", "prof.dump_peak", "prof.prefix", "thread.prof.name", "arena.<i>.dss"];

/// Whether `name` is in `list`, "<i>" standing for an index.
fn listed(list: &[&str], name: &str) -> bool {
    list.iter().any(|pat| match pat.split_once("<i>") {
        None => *pat == name,
        Some((head, tail)) => {
            name.len() > head.len() + tail.len()
                && name.starts_with(head)
                && name.ends_with(tail)
                && name[head.len()..name.len() - tail.len()].bytes().all(|b| b.is_ascii_digit())
        }
    })
}

/// Reads a `const char *` control as a `String` (`version`, `opt.prof_prefix`,
/// `opt.thp`, `thread.prof.name`, ...: the string controls of jemalloc 5.3
/// and liballoc). Any other name is [`Error::NotAString`]: its value is not
/// taken for a pointer (see [`read_string_unchecked`]).
///
/// ```
/// let v = liballoc::ctl::read_string("version").unwrap();
/// assert!(v.starts_with("5.3"));
/// assert_eq!(liballoc::ctl::read_string("opt.thp").unwrap(), "default");
/// assert!(liballoc::ctl::read_string("stats.allocated").is_err()); // a size_t
/// ```
pub fn read_string(name: &str) -> Result<String> {
    if !listed(STRING_READS, name) {
        return Err(Error::NotAString { name: name.to_string() });
    }
    // Safety: a string control.
    unsafe { read_string_unchecked(name) }
}

/// [`read_string`] for any control, for string controls this crate does not
/// know.
///
/// # Safety
/// `name` must be a control whose value is a `const char *` to a
/// NUL-terminated string (or NULL): another pointer-sized value would be
/// dereferenced as one.
///
/// ```
/// let v = unsafe { liballoc::ctl::read_string_unchecked("opt.prof_prefix") }.unwrap();
/// assert_eq!(v, "jeprof");
/// ```
pub unsafe fn read_string_unchecked(name: &str) -> Result<String> {
    let mut p: *const c_char = ptr::null();
    let size = std::mem::size_of::<*const c_char>();
    let len = raw(name, &mut p as *mut *const c_char as *mut c_void, Some(size), ptr::null_mut(), 0)?;
    if len != size {
        return Err(Error::Size { name: name.to_string(), expected: size, actual: len });
    }
    if p.is_null() {
        return Ok(String::new());
    }
    // The caller guarantees a string control; those point to NUL-terminated
    // strings that live at least until the next change of that control.
    let s = CStr::from_ptr(p);
    s.to_str().map(str::to_string).map_err(|_| Error::BadValue { name: name.to_string() })
}

/// Writes a `const char *` control (`prof.dump`, `prof.prefix`,
/// `thread.prof.name`, `prof.dump_peak`, `arena.<i>.dss`); the library uses
/// or copies the string during the call only. Any other name is
/// [`Error::NotAString`] (see [`write_cstr_unchecked`]).
///
/// ```
/// liballoc::ctl::write_str("thread.prof.name", "worker").unwrap_or(()); // needs prof:true
/// assert!(liballoc::ctl::write_str("epoch", "1").is_err());
/// ```
pub fn write_str(name: &str, value: &str) -> Result<()> {
    let v = CString::new(value).map_err(|_| Error::Nul { name: name.to_string() })?;
    write_cstr(name, &v)
}

/// [`write_str`] for a C string (a path with non-UTF-8 bytes).
///
/// ```no_run
/// let path = std::ffi::CString::new("/tmp/heap.heap").unwrap();
/// liballoc::ctl::write_cstr("prof.dump", &path).unwrap();
/// ```
pub fn write_cstr(name: &str, value: &CStr) -> Result<()> {
    if !listed(STRING_WRITES, name) {
        return Err(Error::NotAString { name: name.to_string() });
    }
    // Safety: a string control.
    unsafe { write_cstr_unchecked(name, value) }
}

/// [`write_cstr`] for any control.
///
/// # Safety
/// `name` must be a control that takes a `const char *` (another
/// pointer-sized control would get the string's address as its value).
///
/// ```no_run
/// let name = std::ffi::CString::new("/tmp/x.heap").unwrap();
/// unsafe { liballoc::ctl::write_cstr_unchecked("prof.dump", &name) }.unwrap();
/// ```
pub unsafe fn write_cstr_unchecked(name: &str, value: &CStr) -> Result<()> {
    let mut p: *const c_char = value.as_ptr();
    let size = std::mem::size_of::<*const c_char>();
    // p is pointer-sized and points to a NUL-terminated string that outlives
    // the call.
    raw(name, ptr::null_mut(), None, &mut p as *mut *const c_char as *mut c_void, size).map(|_| ())
}

/// Runs a control that takes and returns no value (`arena.<i>.purge`,
/// `prof.dump` with the automatic name, `thread.tcache.flush`).
///
/// ```
/// liballoc::ctl::run("thread.tcache.flush").unwrap();
/// ```
pub fn run(name: &str) -> Result<()> {
    // Safety: no buffers.
    unsafe { raw(name, ptr::null_mut(), None, ptr::null_mut(), 0) }.map(|_| ())
}

/// The generic read of [`read`], under the name the C API uses.
///
/// ```
/// let page = liballoc::ctl::mallctl_read::<usize>("arenas.page").unwrap();
/// assert_eq!(page, 4096);
/// ```
pub fn mallctl_read<T: CtlType>(name: &str) -> Result<T> {
    read(name)
}

/// The generic write of [`write()`], under the name the C API uses.
///
/// ```
/// liballoc::ctl::mallctl_write("thread.tcache.enabled", true).unwrap();
/// ```
pub fn mallctl_write<T: CtlType>(name: &str, value: T) -> Result<()> {
    write(name, value)
}
