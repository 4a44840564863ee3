// C++ call sites for tests/cli/jeprof_callsite_cxx.sh: a lambda inlined
// into std::function whose last call is malloc, and std::vector growth.
// Allocating lines are marked "@NAME"; blocks stay live until the dump.
#include <cstdlib>
#include <functional>
#include <vector>

static volatile int sink;
static std::vector<void *> *kept;

__attribute__((noinline)) static std::vector<long> *fill(int n)
{
    auto *v = new std::vector<long>;
    for (long i = 0; i < n; i++)
        v->push_back(i); // @GROW
    return v;
}

int main()
{
    std::function<void *(size_t)> make = [](size_t n) {
        void *p = malloc(n); // @LAMBDA
        sink = 1;
        return p;
    };
    kept = new std::vector<void *>;
    kept->reserve(64);
    for (int i = 0; i < 40; i++)
        kept->push_back(make(3000));
    std::vector<long> *v = fill(100000);
    return (int)(*v)[3] - 3 + (int)kept->size() - 40;
}
