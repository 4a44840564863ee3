// Rust allocations behind library plumbing, for
// tests/cli/jeprof_callsite_rust_plumbing.sh: str::repeat (inlined at -O,
// named "str::repeat" by DWARF and v0), format! of an integer (core::fmt
// code and Option::map_or_else run between String's growth and
// alloc::fmt::format), a panic!'s message (formatted by std's panic
// machinery), and the global allocator's shims,
// which current rustc names "__rustc::__rust_alloc" (with --cfg sysalloc,
// `#[global_allocator] System` inlines into them). Allocating lines are
// marked "@NAME"; blocks stay live until the final dump.
use std::hint::black_box;

#[cfg(sysalloc)]
#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

// --cfg countalloc: the user's own global allocator, counting bytes around
// System; its alloc() is an allocator, not the call site.
#[cfg(countalloc)]
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering};
    pub struct Counting;
    pub static BYTES: AtomicUsize = AtomicUsize::new(0);
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            BYTES.fetch_add(l.size(), Ordering::Relaxed);
            System.alloc(l)
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            BYTES.fetch_sub(l.size(), Ordering::Relaxed);
            System.dealloc(p, l)
        }
    }
    #[global_allocator]
    static GLOBAL: Counting = Counting;
}

#[inline(never)]
fn mk_repeat(n: usize) -> String {
    let s = "ab".repeat(n); // @REPEAT
    black_box(&s);
    s
}

#[inline(never)]
fn mk_vec(n: usize) -> Vec<u32> {
    let v = vec![3u32; n]; // @VEC
    black_box(&v);
    v
}

#[inline(never)]
fn mk_fmt(i: u64) -> String {
    let s = format!("{:0>1$}", i, 20000); // @FMT
    black_box(&s);
    s
}

#[inline(never)]
fn boom(n: usize) {
    panic!("{}", "p".repeat(n)); // @PANIC
}

fn main() {
    // panics caught, their payloads (formatted by the panic machinery) kept
    std::panic::set_hook(Box::new(|_| {}));
    let mut payloads = Vec::new();
    for _ in 0..10 {
        payloads.push(std::panic::catch_unwind(|| boom(9000)).unwrap_err());
    }
    black_box(&payloads);
    std::mem::forget(payloads);
    let mut keep = Vec::new();
    let mut keep32 = Vec::new();
    for _ in 0..10 {
        keep.push(mk_repeat(3000));
        keep.push(mk_fmt(7));
        keep32.push(mk_vec(2500));
    }
    black_box((&keep, &keep32));
    std::mem::forget((keep, keep32));
}
