// Exceptions kept alive, for tests/cli/jeprof_callsite_throw.sh: a
// std::runtime_error copies its message into a string of the old ABI
// ("std::string::_Rep::_S_create" in libstdc++, called through a static
// function that libstdc++'s symbols do not name) and its object comes from
// __cxa_allocate_exception; both belong to the throwing line. Each
// exception stays referenced by an exception_ptr until the final dump.
// Also an ostringstream's str(), made by libstdc++ code without symbols.
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

/* never destroyed: static destructors run before the final dump */
static std::vector<std::exception_ptr> &keep = *new std::vector<std::exception_ptr>;

__attribute__((noinline)) void fail_with(size_t n)
{
    throw std::runtime_error(std::string(n, 'e')); // @THROW
}

/* At -O0, ostringstream::str() builds its string through an unnamed
 * function of libstdc++ that is the leaf after operator new. */
__attribute__((noinline)) std::string *render(int n)
{
    std::ostringstream os;
    for (int i = 0; i < n; i++)
        os << "item " << i << ' ';
    return new std::string(os.str()); // @RENDER
}

int main()
{
    static std::vector<std::string *> &texts = *new std::vector<std::string *>;
    for (int i = 0; i < 20; i++)
        texts.push_back(render(400));
    keep.reserve(20);
    for (int i = 0; i < 20; i++) {
        try {
            fail_with(3000);
        } catch (...) {
            keep.push_back(std::current_exception());
        }
    }
    return keep.size() != 20;
}
