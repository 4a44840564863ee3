/* source: source files for --list and --disasm, read once and kept.
 * A path from the debug information is tried as written, then (when the
 * sources moved, e.g. the program was built elsewhere) each shorter suffix
 * of it relative to the current directory: /build/x/src/a.c, src/a.c, a.c;
 * a file found that way is named in a warning on stderr, once (it may be
 * other sources than the program's). Single-threaded. */
#ifndef JEPROF_SOURCE_H
#define JEPROF_SOURCE_H

/* Line l (1-based) of file without its newline, or NULL when the file
 * cannot be found or has fewer lines. */
const char *source_line(const char *file, int l);
/* Number of lines of file, or -1 when it cannot be found. */
int source_nlines(const char *file);
/* Frees the cache. */
void source_free(void);

#endif
