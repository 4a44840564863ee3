// Rust allocations behind library plumbing, for
// tests/cli/jeprof_callsite_rust_plumbing.sh: str::repeat (inlined at -O,
// named "str::repeat" by DWARF and v0), and the global allocator's shims,
// which current rustc names "__rustc::__rust_alloc" (with --cfg sysalloc,
// `#[global_allocator] System` inlines into them). Allocating lines are
// marked "@NAME"; blocks stay live until the final dump.
use std::hint::black_box;

#[cfg(sysalloc)]
#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

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

fn main() {
    let mut keep = Vec::new();
    let mut keep32 = Vec::new();
    for _ in 0..10 {
        keep.push(mk_repeat(3000));
        keep32.push(mk_vec(2500));
    }
    black_box((&keep, &keep32));
    std::mem::forget((keep, keep32));
}
