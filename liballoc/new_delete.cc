/*
 * new_delete: every standard replaceable operator new / operator delete
 * (plain, array, nothrow, sized, aligned, aligned+sized, aligned+nothrow), so
 * a C++ program linked with -lalloc (or running under LD_PRELOAD) keeps C and
 * C++ blocks in one heap, and sized delete reaches the sized free path.
 *
 * Semantics are libstdc++'s:
 *  - new: on failure call std::get_new_handler() and retry while a handler
 *    is installed; with none, throw std::bad_alloc. A size of 0 yields a
 *    unique non-null block.
 *  - nothrow new: the same loop, but returns nullptr instead of throwing
 *    (also when the handler itself throws).
 *  - aligned new: the alignment must be a power of two (else bad_alloc /
 *    nullptr); blocks are aligned to at least alignof(max_align_t)'s 16.
 *  - delete of nullptr does nothing; every delete form accepts any block of
 *    ours, whichever new form made it (sizes and alignments given to sized
 *    and aligned deletes must match the new, as the standard requires).
 * Thread-safe (as malloc). Differences from jemalloc: none intended.
 *
 * Built with g++ as a separate object: in liballoc.a it is its own member,
 * pulled in only when a program references an operator, so C programs linked
 * statically never need libstdc++. liballoc.so does not depend on libstdc++
 * either (jemalloc's does): its copy of this object has its references to
 * the C++ runtime (std::get_new_handler, std::bad_alloc, __cxa_throw, ...)
 * made weak (liballoc.mk), so a C program does not load libstdc++ (about
 * 0.9 MB of resident memory) just because the allocator is preloaded, while
 * in a C++ program, which loads libstdc++ itself, they bind to it. A caller
 * of these operators without any C++ runtime loaded (a C program that
 * dlopens a C++ plugin after start-up) gets everything but the new-handler
 * and bad_alloc: out of memory there is reported and aborts
 * (cxx_runtime_missing).
 */
#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
#include "config.h" /* includes warn.h: C names */
}
#include "malloc_entry.h"

namespace {

/* True if the weak references to the C++ runtime did not bind (see above).
 * The address is read through a volatile so the compiler cannot assume a
 * function's address is non-null. */
inline bool cxx_runtime_missing()
{
    std::new_handler (*volatile get)() noexcept = &std::get_new_handler;
    return get == nullptr;
}

NOINLINE void cxx_oom_abort()
{
    alloc_write_err("<jemalloc>: operator new: out of memory, and no C++ runtime is loaded to "
                    "throw std::bad_alloc\n");
    abort();
}

/* The failure path of every new form: the new-handler loop. try_alloc is
 * retried after each handler call. Returns nullptr only when nothrow. */
template <typename Alloc> NOINLINE void *new_retry(Alloc try_alloc, bool nothrow)
{
    for (;;) {
        void *p = try_alloc();
        if (p != nullptr)
            return p;
        if (unlikely(cxx_runtime_missing())) {
            if (nothrow)
                return nullptr;
            cxx_oom_abort();
        }
        std::new_handler handler = std::get_new_handler();
        if (handler == nullptr) {
            if (nothrow)
                return nullptr;
            throw std::bad_alloc();
        }
        if (!nothrow) {
            handler();
            continue;
        }
        try {
            handler();
        } catch (...) {
            return nullptr;
        }
    }
}

inline void *new_plain(std::size_t size, bool nothrow)
{
    void *p = alloc_malloc(size);
    if (likely(p != nullptr))
        return p;
    return new_retry([size] { return alloc_malloc(size); }, nothrow);
}

inline void *aligned_once(std::size_t size, std::size_t align)
{
    void *p = nullptr;
    if (alloc_posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1) != 0)
        return nullptr;
    return p;
}

inline void *new_aligned(std::size_t size, std::align_val_t al, bool nothrow)
{
    std::size_t align = static_cast<std::size_t>(al);
    if (unlikely(align == 0 || (align & (align - 1)) != 0)) {
        if (nothrow)
            return nullptr;
        throw std::bad_alloc();
    }
    void *p = aligned_once(size, align);
    if (likely(p != nullptr))
        return p;
    return new_retry([size, align] { return aligned_once(size, align); }, nothrow);
}

} // namespace

/* operator new's failure path (malloc_entry.h): the new-handler loop. */
void *alloc_new_fail(std::size_t size)
{
    return new_retry([size] { return alloc_malloc(size); }, false);
}

namespace {

/* MALLOCX_ALIGN(align) for a power-of-two alignment. */
inline int align_flags(std::align_val_t al)
{
    std::size_t align = static_cast<std::size_t>(al);
    return align > 1 && (align & (align - 1)) == 0 ? __builtin_ctzl(align) : 0;
}

} // namespace

/* ---- new ---- */

/* The throwing plain forms: malloc's fast path inline in alloc_new
 * (malloc.c), which calls alloc_new_fail when it fails; a tail call. */
ALLOC_EXPORT void *operator new(std::size_t size)
{
    return alloc_new(size);
}

ALLOC_EXPORT void *operator new[](std::size_t size)
{
    return alloc_new(size);
}

ALLOC_EXPORT void *operator new(std::size_t size, const std::nothrow_t &) noexcept
{
    return new_plain(size, true);
}

ALLOC_EXPORT void *operator new[](std::size_t size, const std::nothrow_t &) noexcept
{
    return new_plain(size, true);
}

ALLOC_EXPORT void *operator new(std::size_t size, std::align_val_t al)
{
    return new_aligned(size, al, false);
}

ALLOC_EXPORT void *operator new[](std::size_t size, std::align_val_t al)
{
    return new_aligned(size, al, false);
}

ALLOC_EXPORT void *operator new(std::size_t size, std::align_val_t al, const std::nothrow_t &) noexcept
{
    return new_aligned(size, al, true);
}

ALLOC_EXPORT void *operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t &) noexcept
{
    return new_aligned(size, al, true);
}

/* ---- delete ---- */

/* operator delete(void *), delete[](void *) and their sized forms
 * (void *, size_t) are defined in malloc.c: free's and the sized free's
 * fast paths with no call layer. */

ALLOC_EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept
{
    alloc_free(p);
}

ALLOC_EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept
{
    alloc_free(p);
}

ALLOC_EXPORT void operator delete(void *p, std::align_val_t) noexcept
{
    alloc_free(p);
}

ALLOC_EXPORT void operator delete[](void *p, std::align_val_t) noexcept
{
    alloc_free(p);
}

ALLOC_EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept
{
    alloc_free(p);
}

ALLOC_EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept
{
    alloc_free(p);
}

ALLOC_EXPORT void operator delete(void *p, std::size_t size, std::align_val_t al) noexcept
{
    alloc_sdallocx(p, size, align_flags(al));
}

ALLOC_EXPORT void operator delete[](void *p, std::size_t size, std::align_val_t al) noexcept
{
    alloc_sdallocx(p, size, align_flags(al));
}
