/* source: see source.h. */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "filebuf.h"
#include "message.h"

/* One file's lines. */
struct srcfile {
    char *path;  /* as asked for */
    char *data;  /* whole file, newlines replaced by NULs; NULL = not found */
    char **line; /* line[i] = line i+1 */
    int n;       /* line count */
};

static struct srcfile *files;
static size_t nfiles, capfiles;

static struct srcfile *load(const char *path)
{
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    GROW(files, capfiles, nfiles + 1);
    struct srcfile *f = &files[nfiles++];
    memset(f, 0, sizeof(*f));
    f->path = xstrdup(path);
    struct filebuf fb;
    const char *at = path;
    int rc = filebuf_read(&fb, path);
    for (const char *s = strchr(path, '/'); rc && s; s = strchr(s + 1, '/'))
        if (s[1])
            rc = filebuf_read(&fb, at = s + 1);
    if (rc)
        return f;
    /* Found under a suffix of the debug information's path, from the
     * current directory: perhaps other sources than the program's (a
     * checkout of another version). Said once per file. */
    if (at != path)
        warning("%s: not found; showing the lines of %s (relative to the current directory)", path, at);
    f->data = fb.data; /* taken over: freed in source_free */
    size_t cap = 0;
    for (char *p = f->data; p < f->data + fb.len;) {
        char *nl = memchr(p, '\n', (size_t)(f->data + fb.len - p));
        GROW(f->line, cap, (size_t)f->n + 1);
        f->line[f->n++] = p;
        if (!nl)
            break;
        *nl = 0;
        if (nl > p && nl[-1] == '\r')
            nl[-1] = 0;
        p = nl + 1;
    }
    return f;
}

const char *source_line(const char *file, int l)
{
    struct srcfile *f = load(file);
    return f->data && l >= 1 && l <= f->n ? f->line[l - 1] : NULL;
}

int source_nlines(const char *file)
{
    struct srcfile *f = load(file);
    return f->data ? f->n : -1;
}

void source_free(void)
{
    for (size_t i = 0; i < nfiles; i++) {
        free(files[i].path);
        free(files[i].data);
        free(files[i].line);
    }
    free(files);
    files = NULL;
    nfiles = capfiles = 0;
}
