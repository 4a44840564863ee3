/* read: format detection and dispatch; see read.h. */
#include "read.h"
#include "filebuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *read_sniff(const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 8 && memcmp(data, "heap_v2/", 8) == 0)
        return "heap_v2";
    if (len >= 10 && memcmp(data, "--- symbol", 10) == 0)
        return "raw";
    if (len >= 13 && memcmp(data, "heap profile:", 13) == 0)
        return "heap";
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r'))
        i++;
    if (i < len && data[i] == '{')
        return "recent";
    /* A serialized Profile starts with a field key: fields 1..15 as varint
     * (wire type 0) or length-delimited (wire type 2). */
    /* Text that is none of the above is not a protobuf either. */
    size_t printable = 0, look = len < 64 ? len : 64;
    for (size_t j = 0; j < look; j++)
        printable += (data[j] >= 0x20 && data[j] < 0x7f) || data[j] == '\n' || data[j] == '\t';
    if (printable == look)
        return NULL;
    if (len > 0) {
        unsigned char k = (unsigned char)data[0];
        unsigned field = k >> 3, wt = k & 7;
        if (field >= 1 && field <= 15 && (wt == 0 || wt == 2))
            return "pprof";
    }
    return NULL;
}

int read_profile_mem(struct profile *p, const char *data, size_t len, char *err)
{
    if (len == 0) {
        snprintf(err, READ_ERRLEN, "empty profile");
        return EINVAL;
    }
    const char *kind = read_sniff(data, len);
    if (!kind) {
        snprintf(err, READ_ERRLEN, "unknown profile format");
        return EINVAL;
    }
    if (!p->format)
        p->format = kind;
    size_t first_map = p->nmaps;
    int rc;
    if (strcmp(kind, "heap_v2") == 0)
        rc = read_heapv2(p, data, len, err);
    else if (strcmp(kind, "recent") == 0)
        rc = read_recent(p, data, len, err);
    else if (strcmp(kind, "raw") == 0)
        rc = read_raw(p, data, len, err);
    else if (strcmp(kind, "heap") == 0)
        rc = read_legacy_heap(p, data, len, err);
    else
        rc = read_pprof(p, data, len, err);
    if (!rc)
        profile_assign_maps(p, first_map);
    return rc;
}

/* read_profile_mem's arguments, for filebuf_guard. */
struct parse_job {
    struct profile *p;
    const struct filebuf *fb;
    char *err;
};
static int parse_run(void *arg)
{
    struct parse_job *j = arg;
    return read_profile_mem(j->p, j->fb->data, j->fb->len, j->err);
}

int read_accum_check(const struct profile *p, enum pvalue value, char *err)
{
    if (!p->no_accum || (value != PV_ALLOC_SPACE && value != PV_ALLOC_OBJECTS))
        return 0;
    snprintf(err, READ_ERRLEN, "this dump has no cumulative counts for --%s: %s",
             value == PV_ALLOC_SPACE ? "alloc_space" : "alloc_objects", p->no_accum);
    return EINVAL;
}

int read_profile_file(struct profile *p, const char *path, char *err)
{
    struct filebuf fb;
    int rc = filebuf_map(&fb, path);
    if (rc) {
        if (rc == EBADMSG)
            snprintf(err, READ_ERRLEN, "corrupt or truncated gzip data");
        else if (rc == EIO)
            snprintf(err, READ_ERRLEN, "the file shrank while it was read");
        else
            snprintf(err, READ_ERRLEN, "%s", strerror(rc));
        return rc;
    }
    size_t first = p->nmaps;
    struct parse_job job = {.p = p, .fb = &fb, .err = err};
    err[0] = 0;
    rc = filebuf_guard(&fb, parse_run, &job);
    if (rc == EIO && !err[0])
        snprintf(err, READ_ERRLEN, "the file shrank while it was read");
    filebuf_free(&fb);
    /* When the dump was written: a file at a mapping's path changed since
     * then is not the one that ran (see symbolize.c). */
    struct stat st;
    if (!rc && stat(path, &st) == 0)
        for (size_t i = first; i < p->nmaps; i++)
            p->maps[i].dump_time = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return rc;
}
