/* plumbing: allocator plumbing is not a call site.
 *
 * Between the user's call and malloc sit library frames that allocate on
 * the user's behalf: operator new, std::__new_allocator::allocate,
 * std::allocator_traits, std::vector::_M_realloc_insert, Rust's
 * __rust_alloc, alloc::raw_vec::*, hashbrown's table growth, strdup...
 * (the list is libprof/drop_frames.h, shared with the pprof writers). As
 * jeprof and pprof drop malloc itself, jeprof-c drops the leading run of
 * such frames (after the allocator's own frames) from every stack, by
 * frame, not by location: a user's function inlined into the same address
 * as an allocator helper stays, and so does everything below the first
 * frame that is not plumbing. Two kinds of frames in the run count as
 * plumbing when a plumbing frame follows them: standard library code
 * (std::, __gnu_cxx::, core::, alloc::; format!'s Option::map_or_else) and
 * functions without a name in the library of a plumbing frame next to them
 * (libstdc++'s static helpers, which its symbols do not name). A stack made
 * only of plumbing is kept whole. --keep_plumbing turns this off.
 *
 * Frames are judged by their simplified demangled name (from the mangled
 * system name when there is one), so --full_names does not change what is
 * dropped. Not thread-safe (one profile per process). */
#ifndef JEPROF_PLUMBING_H
#define JEPROF_PLUMBING_H

#include "profile.h"

/* Does this simplified function name ("std::vector::_M_realloc_insert")
 * name allocator plumbing? */
int plumbing_name(const char *simplified);
/* Drops the leading plumbing frames from every sample's stack: locations
 * that are all plumbing leave the stack (the allocator's own locations
 * before them stay, for analyze to trim), and a location whose innermost
 * frames only are plumbing is replaced by a copy without them. Call after
 * symbolization. */
void plumbing_trim(struct profile *p);
/* The regex for pprof's Profile.drop_frames that matches what this run
 * dropped: the allocation functions, plus the plumbing once plumbing_trim
 * has run. A static string. */
const char *plumbing_drop_frames(void);

#endif
