// C++ program for tests/cli/jeprof_cxx_rust.sh: each user function below
// allocates through a different piece of libstdc++ plumbing and must be the
// top frame of its stack (exact, simplified name) in every jeprof-c output.
#include <cstdio>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

static std::vector<void *> keep; // everything stays live for the final dump

namespace {
// std::vector growth: operator new <- __new_allocator::allocate <-
// allocator_traits <- _M_allocate <- _M_realloc_insert <- push_back.
__attribute__((noinline)) void grow_vector(int n)
{
    auto *v = new std::vector<long>;
    for (int i = 0; i < n; i++)
        v->push_back(i);
    keep.push_back(v);
}
} // namespace

namespace app {
template <typename T> struct Pool {
    // A template's member: the vector's constructor allocates.
    __attribute__((noinline)) static void reserve_block(int n) { keep.push_back(new std::vector<T>(n)); }
};

struct Matrix {
    std::vector<double> d;
    // An operator: vector::resize -> _M_default_append allocates.
    __attribute__((noinline)) Matrix operator+(const Matrix &o) const
    {
        Matrix r;
        r.d.resize(o.d.size() + 120000);
        return r;
    }
};

// std::map nodes and std::string buffers.
__attribute__((noinline)) void fill_map(int n)
{
    auto *m = new std::map<int, std::string>;
    for (int i = 0; i < n; i++)
        (*m)[i] = std::string(300, 'x');
    keep.push_back(m);
}
} // namespace app

// More containers: hash table nodes and buckets, deque blocks, list nodes,
// make_shared's control block with a vector built in it, string concatenation,
// an ostringstream's buffer and str().
namespace more {
__attribute__((noinline)) void hash_map(int n)
{
    auto *m = new std::unordered_map<int, long>;
    for (int i = 0; i < n; i++)
        (*m)[i] = i;
    keep.push_back(m);
}
__attribute__((noinline)) void deque_blocks(int n)
{
    auto *d = new std::deque<long>;
    for (int i = 0; i < n; i++)
        d->push_back(i);
    keep.push_back(d);
}
__attribute__((noinline)) void list_nodes(int n)
{
    auto *l = new std::list<long>;
    for (int i = 0; i < n; i++)
        l->push_back(i);
    keep.push_back(l);
}
__attribute__((noinline)) void shared_vectors(int n)
{
    for (int i = 0; i < n; i++)
        keep.push_back(new std::shared_ptr<std::vector<int>>(std::make_shared<std::vector<int>>(1000)));
}
__attribute__((noinline)) void concat(int n)
{
    auto *s = new std::string;
    for (int i = 0; i < n; i++)
        *s = *s + std::to_string(i);
    keep.push_back(s);
}
__attribute__((noinline)) void stream(int n)
{
    std::ostringstream o;
    for (int i = 0; i < n; i++)
        o << i << ' ';
    keep.push_back(new std::string(o.str()));
}
} // namespace more

__attribute__((noinline)) void run_callback()
{
    // A lambda called through std::function; it allocates a vector.
    std::function<void()> f = []() __attribute__((noinline)) { keep.push_back(new std::vector<char>(700000)); };
    f();
}

int main()
{
    keep.reserve(16);
    grow_vector(100000);             // live: 131072 * 8 = 1048576 B
    app::Pool<int>::reserve_block(300000); // 1200000 B
    app::fill_map(2000);
    run_callback();                  // 700000 B
    app::Matrix a, b;
    auto *c = new app::Matrix(a + b); // 960000 B
    keep.push_back(c);
    more::hash_map(5000);
    more::deque_blocks(20000);
    more::list_nodes(3000);
    more::shared_vectors(100);
    more::concat(2000);
    more::stream(5000);
    printf("%zu\n", keep.size());
    return 0;
}
