/* debugfile: separate debug files for libdwfl, found as its standard
 * lookup finds them, at a fraction of its cost.
 *
 * - No server, no libdebuginfod: libdwfl 0.188 dlopens libdebuginfod (and
 *   with it libcurl, GnuTLS and a dozen more libraries, about 5 ms) for
 *   every module whose debug file is not on disk, even when no server is
 *   configured. When $DEBUGINFOD_URLS is unset or empty (the server would
 *   not be asked anyway), the standard lookup is made only if a file it
 *   could find exists.
 * - Compressed DWARF inflated fast: libdw inflates every SHF_COMPRESSED
 *   section with zlib when it opens a file (all of Debian's -dbg and
 *   -dbgsym files are compressed: libc6-dbg's 10 MB cost 33 ms of CPU).
 *   The debug file is handed to libdwfl as an in-memory copy (memfd) whose
 *   compressed sections were inflated with libdeflate (2.6 times zlib's
 *   speed); the bytes libdw sees are the same. */
#ifndef JEPROF_DEBUGFILE_H
#define JEPROF_DEBUGFILE_H

#include <elfutils/libdwfl.h>

/* libdwfl's find_debuginfo callback (dwfl_standard_find_debuginfo's
 * arguments and result: a file descriptor, -1 when none is found), with
 * search_path the debuginfo_path of the session's callbacks. */
int debugfile_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name, const char *search_path);

/* A descriptor of an in-memory copy of the ELF file open on fd with its
 * zlib-compressed sections inflated (fd is then closed), or fd itself when
 * it has none, is not a 64-bit little-endian ELF file, or anything fails
 * (libdw then inflates them itself). Thread-safe. */
int debugfile_inflated(int fd);

#endif
