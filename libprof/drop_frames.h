/* drop_frames: the frames a heap profile reader should not show as the
 * allocating call site, as regular expressions over simplified demangled
 * function names (pprof's, e.g. "std::vector::_M_realloc_insert",
 * "alloc::raw_vec::RawVec::grow_one"; jeprof-c's are the same).
 *
 * Written into pprof's Profile.drop_frames by libprof's pprof writer and by
 * jeprof-c --pprof; go tool pprof matches it in full ("^(...)$") after
 * demangling and cuts each stack at the first matching frame from the
 * root, so a pattern must only name functions that do not call back into
 * user code that allocates (a container's growth path: yes;
 * std::function::operator() or Rust's lang_start: never). jeprof-c drops
 * the leading run of matching frames (jeprof-c/plumbing.c). The two agree
 * except where a listed function runs user code that allocates in turn (a
 * user constructor run by std::vector::emplace_back, a closure run by
 * collect() or format!): pprof then charges the container's caller,
 * jeprof-c the user's constructor or closure.
 *
 * The syntax is the common subset of RE2 and POSIX extended regexes.
 * Included by libprof/dump_pprof.c and jeprof-c/plumbing.c only. */
#ifndef PROF_DROP_FRAMES_H
#define PROF_DROP_FRAMES_H

/* The allocation functions themselves (what jeprof and pprof drop). */
#define DROP_FRAMES_MALLOC                                                                         \
    "malloc|calloc|realloc|reallocarray|free|cfree|posix_memalign|aligned_alloc|memalign|valloc|" \
    "pvalloc|mallocx|rallocx|xallocx|dallocx|sdallocx|__libc_(malloc|calloc|realloc|free|"         \
    "memalign)|operator new.*|operator delete.*|_Zn[wa].*|_Zd[la].*"

/* Allocator plumbing: library code between the user's call and the
 * allocation function (C++ allocators and containers of libstdc++ and
 * libc++, Rust's alloc crate, hashbrown and global-allocator shims, libc
 * string duplication). */
#define DROP_FRAMES_PLUMBING                                                                       \
    /* libstdc++ allocators and the containers' allocation paths */                                \
    "std::__new_allocator::.*|__gnu_cxx::new_allocator::.*|std::allocator::.*|"                    \
    "std::allocator_traits::.*|__gnu_cxx::__alloc_traits::.*|std::__allocate_guarded.*|"           \
    "std::__allocated_ptr::.*|std::vector::.*|std::_Vector_base::.*|"                              \
    "std::(__cxx11::)?basic_string::.*|std::(__cxx11::)?to_string|std::operator\\+|"               \
    "std::__str_concat|std::_Rb_tree::.*|std::(multi)?(map|set)::.*|std::_Hashtable::.*|"          \
    "std::__detail::_(Hashtable_alloc|Map_base|Insert_base|Insert|ReuseOrAllocNode|AllocNode)::.*|" \
    "std::unordered_(multi)?(map|set)::.*|std::deque::.*|std::_Deque_base::.*|"                    \
    "std::(__cxx11::)?list::.*|std::(__cxx11::)?_List_base::.*|std::forward_list::.*|"             \
    "std::_Fwd_list_base::.*|std::_Function_base::.*|std::function::function|std::_Bvector_base::.*|" \
    "std::thread::(thread|_M_start_thread)|"                                                       \
    "std::__shared_count::.*|std::__shared_ptr::.*|std::shared_ptr::shared_ptr|"                   \
    "std::_Sp_counted_ptr_inplace::.*|std::(__)?(make|allocate)_shared|std::make_unique|"          \
    "std::(__cxx11::)?basic_stringbuf::.*|std::basic_streambuf::.*|std::__ostream_insert|"         \
    "std::(__cxx11::)?basic_(i|o)?stringstream::.*|std::(_Construct|construct_at|__construct_at)|" \
    "std::(__)?get_temporary_buffer|std::_Temporary_buffer::.*|std::getline|std::operator>>|"      \
    "__cxa_allocate_(dependent_)?exception|"                                                       \
    /* the old-ABI strings (std::string, as "_ZNSs" demangles) and the copy                        \
     * of the message the standard exception classes keep */                                      \
    "std::(w|u8|u16|u32)?string::.*|std::__cow_string::.*|std::(runtime_error|logic_error|"        \
    "domain_error|invalid_argument|length_error|out_of_range|range_error|overflow_error|"          \
    "underflow_error|system_error)::.*|"                                                           \
    /* libc++ */                                                                                   \
    "std::__1::(allocator|allocator_traits|__libcpp_allocate|vector|__vector_base|"                \
    "__split_buffer|basic_string|__tree|map|set|__hash_table|unordered_map|unordered_set|deque|"   \
    "__deque_base|list|__list_imp|__shared_ptr_emplace|make_shared|allocate_shared)(::.*)?|"       \
    /* Rust: global allocator shims, the alloc crate's allocation paths */                         \
    "(__rustc::)?(__rust_alloc.*|__rust_realloc|__rdl_.*|__rg_.*)|"                                \
    "std::alloc::.*|<std::alloc::System as .*|"                                                    \
    /* any global allocator or Allocator implementation (a user's counting                         \
     * wrapper around System is an allocator, never the call site) */                              \
    "<.* as core::alloc::global::GlobalAlloc>::(alloc|alloc_zeroed|realloc)|"                      \
    "<.* as core::alloc::Allocator>::(allocate|allocate_zeroed|grow|grow_zeroed|shrink)|"          \
    /* the panic machinery that formats a panic!'s message into its payload                        \
     * (never std::panicking::catch_unwind or __rust_begin_short_backtrace:                        \
     * they lie under every Rust main) */                                                          \
    "core::panicking::.*|std::panicking::(begin_panic.*|panic_with_hook|panic_handler.*|"          \
    "rust_panic.*)|(__rustc::)?(rust_begin_unwind|rust_panic|__rust_start_panic)|panic_unwind::.*|"\
    "std::sys::backtrace::__rust_end_short_backtrace|"                                             \
    "<std::panicking::.* as core::panic::PanicPayload>::.*|"                                       \
    "std::sys::(.*::)?alloc::.*|alloc::alloc::.*|<alloc::alloc::Global as .*|"                     \
    "alloc::raw_vec::.*|<alloc::raw_vec::.*|alloc::vec::.*|<alloc::vec::Vec.*|"                    \
    "alloc::string::.*|<alloc::string::String.*|<.* as alloc::string::ToString>::to_string|"       \
    "alloc::str::.*|alloc::slice::.*|<.* as alloc::slice::hack::ConvertVec>::to_vec|"              \
    "alloc::borrow::.*|alloc::fmt::format.*|alloc::boxed::box_.*|"                                 \
    "alloc::boxed::Box::(try_)?(new|pin|from)(_uninit|_zeroed)?(_in)?|"                            \
    "alloc::sync::Arc::(new|pin|from).*|alloc::rc::Rc::(new|pin|from).*|alloc::collections::.*|"   \
    "alloc::ffi::c_str::CString::.*|hashbrown::.*|"                                                \
    "<.* as alloc::(vec|string|slice|str|borrow)::[^>]*>::.*|core::fmt::.*|"                      \
    /* the formatting of primitives, which format! runs between String and the caller */           \
    "<(bool|char|str|[ui](8|16|32|64|128|size)|f32|f64) as core::fmt::[A-Za-z]+>::fmt|"            \
    "<&(mut )?alloc::string::String as core::fmt::.*|"                                             \
    "core::iter::traits::iterator::Iterator::collect|<.* as core::iter::traits::iterator::"        \
    "Iterator>::collect|<.* as core::iter::traits::collect::FromIterator.*>::from_iter|"           \
    "std::collections::.*|"                                                                        \
    /* the same, as pprof prints Rust v0 inherent methods: "<alloc::raw_vec::RawVec<u8>>::m" */     \
    "<alloc::boxed::Box.*>::(try_)?(new|pin|from)(_uninit|_zeroed)?(_in)?|"                        \
    "<alloc::(sync::Arc|rc::Rc).*>::(new|pin|from).*|<alloc::collections::.*|"                     \
    "<alloc::(str|slice|borrow|ffi::c_str::CString).*|<hashbrown::raw::.*|"                        \
    /* str and slice methods that allocate, as inlined frames and v0 name them ("str::repeat") */  \
    "<?(str|\\[[^]]*\\])>?::(repeat|to_owned|to_string|to_vec|to_(ascii_)?(lowercase|uppercase)|"  \
    "replacen?|concat|join|into_vec|into_string|into_boxed_[a-z]+)|"                               \
    "<std::collections::hash::(map::HashMap|set::HashSet).*>::(insert|with_capacity|reserve|"      \
    "entry|extend).*|"                                                                             \
    /* libc functions that return malloc'd memory */                                               \
    "(__GI_)?_*(strdup|strndup|wcsdup|asprintf|vasprintf|asprintf_chk|vasprintf_chk|"              \
    "vasprintf_internal|getline|getdelim)"

#endif
