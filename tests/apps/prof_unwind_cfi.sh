#!/usr/bin/env bash
# prof_unwind:auto (the walk with cached .eh_frame rules, libprof/cfi.c)
# records the same stacks as prof_unwind:libunwind in programs of other
# languages and build modes: C++ -O2 without and with frame pointers, and
# Rust -O, run under LD_PRELOAD with every allocation sampled
# (lg_prof_sample:0). Each program is run twice with address-space
# randomization off (setarch -R), once per unwinder; the stacks of the two
# final heap_v2 dumps (their "@ pc pc ..." lines with the counts of each
# site) must be identical, and there must be many distinct ones (recursion
# at several depths, virtual calls, std containers, threads).
# The subjects are compiled here on purpose: the point is other compilers'
# and languages' unwind tables.
. "$(dirname "$0")/lib.sh"
need g++
need setarch
setarch -R true 2>/dev/null || skip "setarch -R not permitted here"
[ -f "$LIB" ] || fail "build/liballoc.so not built (run make)"

cat >"$TMP/cx.cc" <<'X'
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>
struct Shape {
    virtual ~Shape() {}
    virtual std::vector<int> *grow(int n) = 0;
};
struct Square : Shape {
    std::vector<int> *grow(int n) override { return new std::vector<int>(n * 3 + 1); }
};
struct Circle : Shape {
    std::vector<int> *grow(int n) override {
        auto *v = new std::vector<int>();
        for (int i = 0; i < n; i++)
            v->push_back(i);
        return v;
    }
};
__attribute__((noinline)) std::string *deep(int d, int n)
{
    if (d == 0)
        return new std::string(static_cast<size_t>(n) + 40, 'x');
    std::string *s = deep(d - 1, n + 1);
    s->append(std::to_string(d));
    return s;
}
static std::vector<void *> keep;
__attribute__((noinline)) void work(int seed)
{
    std::map<int, std::string> m;
    for (int i = 0; i < 40; i++) {
        m[i * seed] = std::string(static_cast<size_t>(i) + 30, 'y');
        keep.push_back(deep(i % 13, i));
    }
    std::unique_ptr<Shape> a(new Square), b(new Circle);
    for (int i = 1; i < 30; i++) {
        keep.push_back(a->grow(i));
        keep.push_back(b->grow(i));
    }
}
int main()
{
    work(1);
    std::thread t(work, 2);
    t.join();
    return 0;
}
X

cat >"$TMP/rs.rs" <<'X'
use std::collections::HashMap;
use std::hint::black_box;
trait Grow {
    fn grow(&self, n: usize) -> Vec<u64>;
}
struct Shape(u64);
impl Grow for Shape {
    fn grow(&self, n: usize) -> Vec<u64> {
        (0..n as u64).map(|i| i * self.0).collect()
    }
}
#[inline(never)]
fn deep(d: usize, n: usize) -> String {
    if d == 0 {
        return "z".repeat(n + 40);
    }
    let mut s = deep(d - 1, n + 1);
    s.push_str(&format!("{}", d));
    s
}
#[inline(never)]
fn work(seed: u64) -> Vec<Box<dyn std::any::Any + Send>> {
    let mut keep: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    let mut m = HashMap::new();
    for i in 0..40u64 {
        m.insert(i * seed, vec![0u8; i as usize + 30]);
        keep.push(Box::new(deep((i % 13) as usize, i as usize)));
    }
    let g: Box<dyn Grow> = Box::new(Shape(seed));
    for i in 1..30 {
        keep.push(Box::new(black_box(g.grow(i))));
    }
    keep.push(Box::new(m));
    keep
}
fn main() {
    let a = work(1);
    let b = std::thread::spawn(|| work(2)).join().unwrap();
    std::mem::forget(black_box(a)); // live at the final dump
    std::mem::forget(black_box(b));
}
X

progs=()
g++ -O2 -g -o "$TMP/cx_nofp" "$TMP/cx.cc" -pthread || fail "g++ -O2"
progs+=(cx_nofp)
g++ -O2 -g -fno-omit-frame-pointer -o "$TMP/cx_fp" "$TMP/cx.cc" -pthread || fail "g++ -O2 -fno-omit-frame-pointer"
progs+=(cx_fp)
if command -v rustc >/dev/null 2>&1; then
    rustc -O -g -o "$TMP/rs" "$TMP/rs.rs" 2>"$TMP/rustc.err" || { cat "$TMP/rustc.err"; fail "rustc"; }
    progs+=(rs)
else
    echo "note: rustc not installed, Rust not checked"
fi

# The stacks of a heap_v2 dump with their counts, sorted: "@ pcs" lines
# followed by their "t*:" line.
stacks() {
    awk '/^@/ { at = $0; next } at != "" && $1 == "t*:" { print at " | " $2; at = "" }' "$1" | sort
}

for p in "${progs[@]}"; do
    for u in libunwind auto; do
        rm -f "$TMP/d.$p.$u".*
        setarch -R env LD_PRELOAD="$LIB" \
            MALLOC_CONF="prof:true,lg_prof_sample:0,prof_final:true,prof_prefix:$TMP/d.$p.$u,prof_unwind:$u" \
            "$TMP/$p" || fail "$p ($u) exited non-zero"
        f=$(ls "$TMP/d.$p.$u".*.f.heap 2>/dev/null | head -n 1)
        [ -n "$f" ] || fail "$p ($u): no final dump"
        stacks "$f" >"$TMP/s.$p.$u"
    done
    n=$(wc -l <"$TMP/s.$p.$u")
    [ "$n" -ge 30 ] || fail "$p: only $n distinct stacks"
    if ! cmp -s "$TMP/s.$p.libunwind" "$TMP/s.$p.auto"; then
        diff "$TMP/s.$p.libunwind" "$TMP/s.$p.auto" | head -n 20
        fail "$p: prof_unwind:auto's stacks differ from libunwind's"
    fi
    echo "$p: $n stacks, identical"
done
echo "PASS"
