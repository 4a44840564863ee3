// Rust call sites for tests/cli/jeprof_callsite_rust.sh: malloc called
// directly as the last call before a line change, Vec::with_capacity and
// Box::new (the std allocator, or System with --cfg sysalloc, both end in
// malloc). Allocating lines are marked "@NAME"; blocks stay live.
use std::hint::black_box;

extern "C" {
    fn malloc(n: usize) -> *mut u8;
}

#[cfg(sysalloc)]
#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

#[inline(never)]
fn make_raw(n: usize) -> *mut u8 {
    let p = unsafe { malloc(n) }; // @RAW
    black_box(p);
    unsafe { *p = 1 };
    p
}

#[inline(never)]
fn make_vec(n: usize) -> Vec<u8> {
    let v: Vec<u8> = Vec::with_capacity(n); // @VEC
    black_box(&v);
    v
}

#[inline(never)]
fn make_box(x: u64) -> Box<[u64; 4096]> {
    let b = Box::new([x; 4096]); // @BOX
    black_box(&b);
    b
}

fn main() {
    let mut raws = Vec::with_capacity(100);
    let mut vecs = Vec::with_capacity(100);
    let mut boxes = Vec::with_capacity(100);
    for i in 0..40 {
        raws.push(make_raw(6000 + i));
        vecs.push(make_vec(10000 + i));
        boxes.push(make_box(i as u64));
    }
    black_box(&raws);
    std::mem::forget(raws);
    std::mem::forget(vecs);
    std::mem::forget(boxes);
}
