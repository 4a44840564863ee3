/* warn: the message writer, malloc_message and opt.abort (see warn.h). */
#include "warn.h"
#include "alloc.h"
#include "config.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* All of s on stderr with write(2): no stdio, which may allocate or lock. */
static void write_stderr(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Weak: a program may define it too (with an initialiser), and its
 * definition then wins, also when liballoc.a is linked statically. */
ALLOC_EXPORT void (*malloc_message)(void *cbopaque, const char *s) __attribute__((weak));

void alloc_write_err(const char *s)
{
    if (malloc_message)
        malloc_message(NULL, s);
    else
        write_stderr(s);
}

void warn_print(const char *msg)
{
    alloc_write_err(msg);
    if (opt.abort)
        abort();
}

void alloc_fatal(const char *file, int line, const char *what)
{
    /* The line number in decimal without snprintf (which may allocate). */
    char num[16];
    int n = 0, v = line;
    char tmp[16];
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < 15);
    for (int i = 0; i < n; i++)
        num[i] = tmp[n - 1 - i];
    num[n] = 0;
    write_stderr("<liballoc>: ");
    write_stderr(file);
    write_stderr(":");
    write_stderr(num);
    write_stderr(": failed assertion: ");
    write_stderr(what);
    write_stderr("\n");
    abort();
}
