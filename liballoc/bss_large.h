/*
 * bss_large: BSS_LARGE places a zero-initialised static array of 2 KiB or
 * more in the input section .bss.liballoc_large, which liballoc/text.ld
 * gathers into the section liballoc_bss, placed by the final link after
 * .bss, so that the library's small variables lie together in a few pages
 * of .bss instead of scattered between big arrays. (Not x86-64's .lbss:
 * the linker does not turn GOT loads of a large section's symbols into
 * PC-relative addresses, so free's fast path would load pagemap_map's
 * address from the GOT.) A page of .bss counts in
 * a process's RSS once written, and most of these arrays are touched in one
 * page or not at all: with them in .bss, each small variable next to one
 * cost its process a page (tests/apps/startup_rss.sh). Included by both
 * liballoc and libprof (tests/apps/layering.sh allows it: it includes
 * nothing).
 */
#ifndef BSS_LARGE_H
#define BSS_LARGE_H

#define BSS_LARGE __attribute__((section(".bss.liballoc_large")))

#endif
