/* message: git-style "error: ..." and "warning: ..." lines on stderr, the
 * CLI's only way of telling the user about a problem. */
#ifndef JEPROF_MESSAGE_H
#define JEPROF_MESSAGE_H

/* "error: ..." on stderr (git style); returns 1 for `return error(...)`. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "warning: ..." on stderr. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
