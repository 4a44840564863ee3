// C++ program for tests/cli/jeprof_cxx_rust.sh: each user function below
// allocates through a different piece of libstdc++ plumbing and must be the
// top frame of its stack (exact, simplified name) in every jeprof-c output.
#include <cstdio>
#include <functional>
#include <map>
#include <string>
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
    printf("%zu\n", keep.size());
    return 0;
}
