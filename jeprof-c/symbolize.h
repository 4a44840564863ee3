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

/* 0, or an errno after printing "error: ..." (e.g. a missing program). */
int symbolize_profile(struct profile *p, const struct sym_options *o) WUR;

#endif
