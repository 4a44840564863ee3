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
 *   speed); the bytes libdw sees are the same.
 * - zstd-compressed DWARF read: libdw 0.188 cannot inflate ELFCOMPRESS_ZSTD
 *   sections (gcc -gz=zstd, objcopy --compress-debug-sections=zstd) and
 *   skips them without a word; the copy has them inflated with libzstd
 *   (and GNU's older .zdebug_* sections inflated and renamed .debug_*,
 *   so that a corrupt one is found too).
 * - No part of a broken DWARF: when a DWARF or compressed section cannot
 *   be read (unknown compression, corrupt or truncated data), a warning
 *   names the file, the section and the reason (once per file), and the
 *   copy hides all the file's DWARF from libdw, so its frames get their
 *   symbol-table names and no line rather than lines from part of it. A
 *   file cut short (section headers past its end), which libelf refuses,
 *   is warned about too. */
#ifndef JEPROF_DEBUGFILE_H
#define JEPROF_DEBUGFILE_H

#include <elfutils/libdwfl.h>

/* libdwfl's find_debuginfo callback (dwfl_standard_find_debuginfo's
 * arguments and result: a file descriptor, -1 when none is found), with
 * search_path the debuginfo_path of the session's callbacks. */
int debugfile_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name, const char *search_path);

/* A descriptor of an in-memory copy of the ELF file open on fd (name, for
 * the warning) with its zlib- and zstd-compressed sections inflated, or
 * with its DWARF hidden when a section cannot be read (see above); fd is
 * then closed. fd itself when the file has no compressed section and all
 * its DWARF lies in the file, when it is not a 64-bit little-endian ELF
 * file (libdw inflates zlib there; other compressions are warned about)
 * or when the copy cannot be made. Warns on stderr; thread-safe. */
int debugfile_inflated(int fd, const char *name);

#endif
