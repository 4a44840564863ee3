// Rust program for tests/cli/jeprof_cxx_rust.sh: each user function below
// allocates through a different piece of the alloc crate (RawVec growth,
// Box::new, String, HashMap) and must be the top frame of its stack, with a
// readable name, whichever symbol mangling the binary uses.
use std::collections::HashMap;
use std::hint::black_box;

#[inline(never)]
fn grow_vec(n: usize) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(i as u64);
    }
    v
}

#[inline(never)]
fn make_box() -> Box<[u8; 300000]> {
    Box::new([7u8; 300000])
}

#[inline(never)]
fn build_string(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str("abcdefghij");
        s.push((b'a' + (i % 26) as u8) as char);
    }
    s
}

#[inline(never)]
fn fill_map(n: u64) -> HashMap<u64, u64> {
    let mut m = HashMap::new();
    for i in 0..n {
        m.insert(i, i * 2);
    }
    m
}

struct Shape {
    pts: Vec<f64>,
}
trait Grow {
    fn grow(&mut self, n: usize);
}
impl Grow for Shape {
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        self.pts.resize(n, 1.0);
    }
}

fn main() {
    let v = black_box(grow_vec(100000));
    let b = black_box(make_box());
    let s = black_box(build_string(20000));
    let m = black_box(fill_map(20000));
    let mut sh = Shape { pts: Vec::new() };
    sh.grow(50000);
    println!("{} {} {} {} {}", v.len(), b[0], s.len(), m.len(), sh.pts.len());
    // Keep everything live for the final dump.
    std::mem::forget((v, b, s, m, sh));
}
