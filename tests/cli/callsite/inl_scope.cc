// Inlined frames without a DWARF linkage name, for
// tests/cli/jeprof_inline_scope.sh: at g++ -O2 a lambda's operator() and
// the std::sort templates instantiated with the lambda's type (internal
// linkage) carry only DW_AT_name ("operator()", "__sort<...>"), so their
// names must be qualified by their enclosing scopes. Two lambdas allocate
// (inlined into std::sort and into a function of a named namespace); each
// must keep its own row. Allocating lines are marked "@NAME".
#include <algorithm>
#include <vector>

static std::vector<void *> keep;

namespace shapes {
template <typename F> __attribute__((noinline)) void run_twice(F f)
{
    f();
    f();
}
} // namespace shapes

int main()
{
    std::vector<int> v(300);
    for (int i = 0; i < 300; i++)
        v[i] = (i * 37) % 300;
    std::sort(v.begin(), v.end(), [](int a, int b) {
        keep.push_back(new char[64]); // @CMP
        return a < b;
    });
    shapes::run_twice([]() { keep.push_back(new char[50000]); }); // @TWICE
    return keep.size() < 3;
}
