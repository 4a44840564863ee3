// A C++ leak into a global container, for jeprof-c --growth tests: every
// other step remember() adds a 200-byte string to a static unordered_map
// that is never pruned (what keeps growing); work() builds and drops a
// vector of strings each step (churn, nothing retained). At exit the
// map's static destructor frees everything before the final dump is
// written, so only the interval dumps show the growth.
// usage: global_cache STEPS
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

static std::unordered_map<int, std::string> g_cache;
static volatile size_t sink;

__attribute__((noinline)) void remember(int i)
{
    g_cache.emplace(i, std::string(200, 'c'));
}

__attribute__((noinline)) void work(int i)
{
    std::vector<std::string> v;
    for (int k = 0; k < 10; k++)
        v.emplace_back(100 + k, 'w');
    sink += v.size() + (size_t)i;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    for (int i = 0; i < n; i++) {
        work(i);
        if (i % 2 == 0)
            remember(i);
    }
    return 0;
}
