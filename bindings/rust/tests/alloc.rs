//! LibAlloc as the global allocator: blocks at many sizes and alignments,
//! zeroing, realloc keeping contents, zero sizes, and blocks freed by other
//! threads. Also checks that allocations really reach liballoc (its
//! per-thread byte counters move): the crate links it as the process's
//! malloc (so even `std::alloc::System` lands there); the alignment checks
//! are what fails if LibAlloc passes the wrong mallocx flags.
use std::alloc::{GlobalAlloc, Layout};
use std::sync::mpsc;
use std::thread;

use liballoc::LibAlloc;

#[global_allocator]
static GLOBAL: LibAlloc = LibAlloc;

const SIZES: &[usize] = &[
    1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 511,
    512, 1000, 1024, 4095, 4096, 4097, 8192, 10000, 32768, 32769, 40960, 65536, 100000, 1 << 20,
    (1 << 20) + 1, 3 << 20,
];
const ALIGNS: &[usize] = &[1, 2, 4, 8, 16, 32, 64, 128, 256, 4096, 8192, 65536, 1 << 21];

fn pattern(i: usize, seed: usize) -> u8 {
    (i.wrapping_mul(31) ^ seed) as u8
}

unsafe fn fill(p: *mut u8, n: usize, seed: usize) {
    for i in 0..n {
        *p.add(i) = pattern(i, seed);
    }
}

unsafe fn check(p: *const u8, n: usize, seed: usize, what: &str) {
    for i in 0..n {
        assert_eq!(*p.add(i), pattern(i, seed), "{}: byte {} of {}", what, i, n);
    }
}

fn thread_counter(name: &str) -> u64 {
    liballoc::ctl::read::<u64>(name).unwrap()
}

#[test]
fn round_trip_sizes_and_alignments() {
    for &align in ALIGNS {
        for &size in SIZES {
            let l = Layout::from_size_align(size, align).unwrap();
            unsafe {
                let p = GLOBAL.alloc(l);
                assert!(!p.is_null(), "alloc {} align {}", size, align);
                assert_eq!(p as usize % align, 0, "alignment of size {} align {}", size, align);
                assert!(liballoc::usable_size(p) >= size, "usable size of {}", size);
                fill(p, size, size ^ align);
                // A second block must not overlap the first.
                let q = GLOBAL.alloc(l);
                assert_eq!(q as usize % align, 0);
                fill(q, size, 0x55);
                check(p, size, size ^ align, "first block after second written");
                GLOBAL.dealloc(q, l);
                GLOBAL.dealloc(p, l);
            }
        }
    }
}

#[test]
fn zeroed_blocks_are_zero_even_when_reused() {
    for &align in &[1usize, 8, 16, 64, 4096] {
        for &size in SIZES {
            let l = Layout::from_size_align(size, align).unwrap();
            unsafe {
                // Dirty a block of the same class, free it, then ask for zeros.
                let d = GLOBAL.alloc(l);
                d.write_bytes(0xee, size);
                GLOBAL.dealloc(d, l);
                let p = GLOBAL.alloc_zeroed(l);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                for i in 0..size {
                    assert_eq!(*p.add(i), 0, "alloc_zeroed({}, {}): byte {}", size, align, i);
                }
                GLOBAL.dealloc(p, l);
            }
        }
    }
}

#[test]
fn realloc_grows_and_shrinks_keeping_contents() {
    let steps: &[usize] = &[1, 24, 100, 3000, 40000, 500000, 3 << 20, 70000, 200, 8, 5 << 20, 1];
    for &align in &[1usize, 8, 16, 32, 4096, 1 << 21] {
        let mut size = steps[0];
        let mut layout = Layout::from_size_align(size, align).unwrap();
        unsafe {
            let mut p = GLOBAL.alloc(layout);
            fill(p, size, align);
            for &next in &steps[1..] {
                let q = GLOBAL.realloc(p, layout, next);
                assert!(!q.is_null(), "realloc {} -> {} align {}", size, next, align);
                assert_eq!(q as usize % align, 0, "realloc {} -> {} keeps align {}", size, next, align);
                check(q, size.min(next), align, "realloc");
                assert!(liballoc::usable_size(q) >= next);
                fill(q, next, align);
                p = q;
                size = next;
                layout = Layout::from_size_align(size, align).unwrap();
            }
            GLOBAL.dealloc(p, layout);
        }
    }
    // Through the standard containers.
    let mut v: Vec<u32> = Vec::new();
    for i in 0..300_000u32 {
        v.push(i);
    }
    v.truncate(10);
    v.shrink_to_fit();
    assert_eq!(v, (0..10).collect::<Vec<u32>>());
}

#[test]
fn zero_sizes() {
    // Rust never asks GlobalAlloc for 0 bytes; a direct call still gets a
    // valid, distinct, freeable block.
    let l = Layout::from_size_align(0, 1).unwrap();
    let l16 = Layout::from_size_align(0, 16).unwrap();
    unsafe {
        let a = GLOBAL.alloc(l);
        let b = GLOBAL.alloc(l);
        let c = GLOBAL.alloc(l16);
        assert!(!a.is_null() && !b.is_null() && !c.is_null());
        assert_ne!(a, b);
        assert_eq!(c as usize % 16, 0);
        GLOBAL.dealloc(a, l);
        GLOBAL.dealloc(b, l);
        GLOBAL.dealloc(c, l16);
    }
    // Empty collections and zero-sized types do not allocate at all.
    let before = thread_counter("thread.allocated");
    let v: Vec<u8> = Vec::new();
    let s = String::new();
    let z = Box::new(());
    let zs: Vec<()> = vec![(); 1000];
    assert_eq!(thread_counter("thread.allocated"), before);
    drop((v, s, z, zs));
}

#[test]
fn allocations_reach_liballoc() {
    // thread.allocated/deallocated count this thread's bytes in liballoc.
    let a0 = thread_counter("thread.allocated");
    let d0 = thread_counter("thread.deallocated");
    let v: Vec<u8> = Vec::with_capacity(1 << 20);
    let b = Box::new([1u64; 1000]);
    let a1 = thread_counter("thread.allocated");
    assert!(a1 - a0 >= (1 << 20) + 8000, "thread.allocated grew by {} only", a1 - a0);
    drop(v);
    drop(b);
    let d1 = thread_counter("thread.deallocated");
    assert!(d1 - d0 >= (1 << 20) + 8000, "thread.deallocated grew by {} only", d1 - d0);
    // The alignment flag is honoured through the global allocator.
    #[repr(align(4096))]
    struct Page([u8; 4096]);
    let p = Box::new(Page([3; 4096]));
    assert_eq!(&*p as *const Page as usize % 4096, 0);
    assert_eq!(p.0[4095], 3);
}

#[test]
fn threads_free_each_others_blocks() {
    const PRODUCERS: usize = 4;
    const PER: usize = 5000;
    let (tx, rx) = mpsc::channel::<(usize, Vec<u8>, Box<[u64; 16]>)>();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|t| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..PER {
                    let n = 1 + (i * 37 + t) % 3000;
                    let v: Vec<u8> = (0..n).map(|k| pattern(k, t * PER + i)).collect();
                    tx.send((t * PER + i, v, Box::new([i as u64; 16]))).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    // Two consumers free what the producers allocated.
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut n = 0usize;
                loop {
                    let item = rx.lock().unwrap().recv();
                    let (seed, v, b) = match item {
                        Ok(x) => x,
                        Err(_) => return n,
                    };
                    for (k, &byte) in v.iter().enumerate() {
                        assert_eq!(byte, pattern(k, seed));
                    }
                    assert_eq!(b[15], (seed % PER) as u64);
                    n += 1;
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let total: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(total, PRODUCERS * PER);
}

#[test]
fn panics_unwind_through_the_allocator() {
    // Linking liballoc's unwinder dependency must not break Rust panics.
    #[allow(clippy::useless_vec)]
    let r = std::panic::catch_unwind(|| {
        let v = vec![1u8; 100]; // a heap block alive across the unwind
        if v[0] == 1 {
            panic!("expected: {}", String::from("boom"));
        }
    });
    assert!(r.is_err());
}
