/* symbolize: addresses -> function, file:line and inlined frames.
 *
 * Each mapping is tied to an ELF file: its own path, or the program given on
 * the command line when the basename or build id matches (or, failing that,
 * for the first mapping that is not a shared library), or a debug file found
 * by build id. The load bias comes from the file's PT_LOAD headers, so PIE
 * executables and shared libraries work. Names come from DWARF (libdw, with
 * separate debug files by build id and .gnu_debuglink) and the symbol table,
 * combined the way jeprof combines addr2line and nm so reports agree.
 * $JEPROF_C_DEBUGINFO_PATH overrides the debug-file search path.
 * Each ELF file is opened once and each distinct address symbolized once.
 * An address nothing resolves becomes "module+0xoffset", never dropped. */
#ifndef JEPROF_SYMBOLIZE_H
#define JEPROF_SYMBOLIZE_H

#include "profile.h"
#include "compiler.h"

struct sym_options {
    const char *program; /* the binary named on the command line, or NULL */
    int quiet;           /* no progress lines on stderr */
};

/* 0, or an errno after printing "error: ..." (e.g. a missing program).
 * Ends the prefetch first (symbolize_prefetch_end). The files it opened
 * are closed on another thread, joined by symbolize_wait or at exit. */
int symbolize_profile(struct profile *p, const struct sym_options *o) WUR;
/* Waits until the files symbolize_profile opened are closed: call it
 * before using libelf or libdw elsewhere (objdump.c). */
void symbolize_wait(void);

/* Prefetch: opening the ELF files and loading their DWARF is most of the
 * symbolizer's cost (libdw inflates a distribution's compressed debug
 * sections, tens of ms for libc6-dbg's), and it needs only the mappings'
 * paths, so a second thread does it while the profiles are still being
 * read. symbolize_prefetch_start starts the thread (it opens the program
 * first); each symbolize_prefetch_file queues the file of a mapping that
 * holds addresses of the profile (readers call it through
 * profile.prefetch); symbolize_prefetch_end joins the thread. The thread
 * only fills the cache of opened files: which file serves a mapping, and
 * every check and warning, stay with symbolize_profile, so the results are
 * those of a run without prefetch. Call the three from one thread (the
 * CLI's main); without a thread (pthread_create failed) they do nothing. */
void symbolize_prefetch_start(const char *program);
void symbolize_prefetch_file(const char *path, const char *build_id, int deleted);
void symbolize_prefetch_end(void);

#endif
