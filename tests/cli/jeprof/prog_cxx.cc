// C++ test program: namespaces, templates, operator new and std containers,
// so names go through demangling and jeprof's short-name rules.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace store {
template <typename T> struct Pool {
    std::vector<T *> items;
    __attribute__((noinline)) void add(int n)
    {
        for (int i = 0; i < n; i++)
            items.push_back(new T[64]);
    }
};

class Index {
  public:
    __attribute__((noinline)) void fill(int n)
    {
        for (int i = 0; i < n; i++)
            names_[i] = std::string(200 + i % 50, 'x');
    }

  private:
    std::map<int, std::string> names_;
};
} // namespace store

// A function in an anonymous namespace called with a constant: GCC clones it
// ("[clone .constprop.0]") and its DWARF has no linkage name.
namespace {
__attribute__((noinline)) void fill_all(store::Pool<int> *p, int n)
{
    for (int i = 0; i < n; i++)
        p->add(2);
}
} // namespace

static store::Pool<long> *lp;
static store::Pool<char> *cp;
static store::Index *ix;

int main()
{
    lp = new store::Pool<long>();
    cp = new store::Pool<char>();
    ix = new store::Index();
    lp->add(300);
    cp->add(500);
    ix->fill(400);
    fill_all(new store::Pool<int>(), 100);
    std::printf("%zu %zu\n", lp->items.size(), cp->items.size());
    return 0;
}
