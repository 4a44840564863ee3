/* debugfile: see debugfile.h. */
#include "debugfile.h"

#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "message.h"
#include "xalloc.h"

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2 /* (elf.h of glibc before 2.37) */
#endif

static int cut_short(int fd, const char *name, const unsigned char *img, size_t flen);

/* Warns when the file at path is an ELF file cut short (cut_short): a
 * debug file that the lookups then pass over without a word. */
static void check_cut_short(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char hdr[64];
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(hdr) &&
        pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr))
        cut_short(fd, path, hdr, (size_t)st.st_size);
    close(fd);
}

/* Is dir/name, for one of the names, a regular file other than the main
 * file (main: its stat, when have_main)? */
static int any_name(const char *dir, const char *const *names, size_t n, const struct stat *main,
                    int have_main)
{
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i])
            continue;
        char *p = xasprintf("%s/%s", dir, names[i]);
        struct stat st;
        int hit = stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
                  !(have_main && st.st_dev == main->st_dev && st.st_ino == main->st_ino);
        if (hit)
            check_cut_short(p);
        free(p);
        if (hit)
            return 1;
    }
    return 0;
}

/* Could libdwfl's search by name (the debuglink, else basename.debug) find
 * a debug file for file_name? Checks a superset of its candidates: the
 * names (the debuglink, basename.debug and the basename) in the file's
 * directory, in each relative element of the search path below it, and
 * in each absolute element alone and joined with every tail of the
 * file's directory (libdwfl explores /usr/lib/debug/usr/lib/x, then
 * /usr/lib/debug/lib/x, ...), for the path as given and resolved. The
 * main file itself does not count. */
static int may_exist(const char *file_name, const char *debuglink, const char *search_path)
{
    char *real = realpath(file_name, NULL);
    const char *variants[2] = {file_name, real};
    struct stat main;
    int have_main = stat(file_name, &main) == 0, found = 0;
    for (int v = 0; v < 2 && !found; v++) {
        const char *f = variants[v];
        if (!f)
            continue;
        const char *slash = strrchr(f, '/');
        char *dir = slash ? xstrndup(f, (size_t)(slash - f)) : xstrdup(".");
        if (!*dir) {
            free(dir);
            dir = xstrdup("/");
        }
        const char *base = slash ? slash + 1 : f;
        char *based = xasprintf("%s.debug", base);
        const char *names[3] = {debuglink, based, base};
        found = any_name(dir, names, 3, &main, have_main);
        char *sp = xstrdup(search_path);
        for (char *d = sp, *next; d && !found; d = next) {
            next = strchr(d, ':');
            if (next)
                *next++ = 0;
            while (*d == '+' || *d == '-')
                d++;
            if (*d == '/') {
                found = any_name(d, names, 3, &main, have_main);
                for (const char *t = dir; t && !found; t = strchr(t + 1, '/')) {
                    char *cd = xasprintf("%s%s%s", d, *t == '/' ? "" : "/", t);
                    found = any_name(cd, names, 3, &main, have_main);
                    free(cd);
                }
            } else if (*d) {
                char *cd = xasprintf("%s/%s", dir, d);
                found = any_name(cd, names, 3, &main, have_main);
                free(cd);
            }
        }
        free(sp);
        free(based);
        free(dir);
    }
    free(real);
    return found;
}

/* Does the ELF file open on fd carry this build id? */
static int has_build_id(int fd, const unsigned char *bits, int len)
{
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *id = NULL;
    ssize_t n = e ? dwelf_elf_gnu_build_id(e, &id) : -1;
    int same = n == len && memcmp(id, bits, (size_t)len) == 0;
    if (e)
        elf_end(e);
    return same;
}

/* libdwfl's first step, <dir>/.build-id/xx/rest.debug under each absolute
 * directory of the search path, the file's build id checked; done here
 * because libdwfl's own version keeps the libelf handle it opened on the
 * file for the module (so the inflated copy would not be used). */
static int by_build_id(Dwfl_Module *mod, const char *search_path, char **name)
{
    const unsigned char *bits;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(mod, &bits, &vaddr);
    if (len < 2)
        return -1;
    char *hex = xmalloc(2 * (size_t)len + 1);
    for (int i = 0; i < len; i++)
        sprintf(hex + 2 * i, "%02x", bits[i]);
    char *sp = xstrdup(search_path);
    int fd = -1;
    for (char *d = sp, *next; d && fd < 0; d = next) {
        next = strchr(d, ':');
        if (next)
            *next++ = 0;
        while (*d == '+' || *d == '-')
            d++;
        if (*d != '/')
            continue;
        char *p = xasprintf("%s/.build-id/%.2s/%s.debug", d, hex, hex + 2);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && !has_build_id(fd, bits, len)) {
            check_cut_short(p);
            close(fd);
            fd = -1;
        }
        if (fd >= 0) {
            free(*name);
            *name = realpath(p, NULL);
            if (!*name) {
                *name = p;
                p = NULL;
            }
        }
        free(p);
    }
    free(sp);
    free(hex);
    return fd;
}

/* libdwfl's search by name (and its server, when one is configured), made
 * for a scratch module of the same file: when the file has a build id,
 * the standard search checks a candidate's with a libelf handle that it
 * then keeps in the module, which reads the debug file through it and
 * never through the descriptor returned (so not the inflated copy).
 * Returns a descriptor of the file found (name: its path), or -1. */
static int by_name(const char *modname, Dwarf_Addr base, const char *file_name,
                   const char *debuglink, GElf_Word crc, char **name, const char *search_path)
{
    char *path = (char *)search_path; /* (libdwfl only reads it) */
    const Dwfl_Callbacks cb = {.find_elf = dwfl_build_id_find_elf,
                               .find_debuginfo = dwfl_standard_find_debuginfo,
                               .section_address = dwfl_offline_section_address,
                               .debuginfo_path = &path};
    Dwfl *scratch = dwfl_begin(&cb);
    if (!scratch)
        return -1;
    dwfl_report_begin(scratch);
    Dwfl_Module *m = dwfl_report_elf(scratch, modname, file_name, -1, 0, false);
    dwfl_report_end(scratch, NULL, NULL);
    int fd = -1, err = ENOENT;
    if (m) {
        void *userdata = NULL;
        fd = dwfl_standard_find_debuginfo(m, &userdata, modname, base, file_name, debuglink, crc,
                                          name);
        err = errno;
    }
    dwfl_end(scratch); /* (fd stays open: the module's debug file is not its own) */
    errno = err;
    return fd;
}

/* The largest inflated section taken (16 GiB): past it, a corrupt header. */
#define INFLATED_MAX ((uint64_t)1 << 34)

/* A 64-bit little-endian ELF file mapped in memory, its section headers
 * checked to lie in the file. */
struct elfview {
    const unsigned char *img; /* the file's bytes */
    size_t flen;              /* its length */
    const Elf64_Ehdr *eh;     /* its ELF header */
    const Elf64_Shdr *sh;     /* its section headers */
    size_t shnum;             /* how many (e_shnum, or section 0's sh_size) */
    const char *strs;         /* section names (NULL: unusable .shstrtab) */
    size_t strslen;           /* their length */
    size_t strndx;            /* the index of their section */
};

/* One compressed section to inflate. */
struct zsec {
    size_t index;             /* section index */
    uint32_t type;            /* ELFCOMPRESS_ZLIB or ELFCOMPRESS_ZSTD */
    const unsigned char *src; /* compressed stream (after the Elf64_Chdr) */
    size_t srclen;            /* its length in bytes */
    uint64_t size, align;     /* inflated size and alignment (the Chdr's) */
    uint64_t off;             /* where it goes in the copy */
    int gnu;                  /* a .zdebug_* section: .debug_* in the copy */
};

/* The sections that cannot be read: the first, why, and how many. */
struct unreadable {
    size_t index;  /* the first one found */
    size_t count;  /* how many in all (0: every section reads) */
    char why[192]; /* the first one's reason */
};

static void note_unreadable(struct unreadable *u, size_t index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_unreadable(struct unreadable *u, size_t index, const char *fmt, ...)
{
    if (u->count++ > 0)
        return;
    u->index = index;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->why, sizeof(u->why), fmt, ap);
    va_end(ap);
}

/* Fills v for the file mapped at img; 0, or -1 when it is not a 64-bit
 * little-endian ELF file with a sane section header table (the section
 * count is in e_shnum, or in section 0's sh_size past 0xff00). */
static int elfview_init(struct elfview *v, const unsigned char *img, size_t flen)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        eh->e_shoff == 0 || eh->e_shoff > flen || eh->e_shoff % 8 ||
        (flen - eh->e_shoff) < sizeof(Elf64_Shdr))
        return -1;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    size_t shnum = eh->e_shnum ? eh->e_shnum : sh[0].sh_size;
    if (shnum == 0 || shnum > (flen - eh->e_shoff) / sizeof(Elf64_Shdr))
        return -1;
    *v = (struct elfview){.img = img, .flen = flen, .eh = eh, .sh = sh, .shnum = shnum};
    size_t str = eh->e_shstrndx == SHN_XINDEX ? sh[0].sh_link : eh->e_shstrndx;
    if (str < shnum && sh[str].sh_type != SHT_NOBITS && sh[str].sh_offset <= flen &&
        sh[str].sh_size <= flen - sh[str].sh_offset && !(sh[str].sh_flags & SHF_COMPRESSED)) {
        v->strs = (const char *)img + sh[str].sh_offset;
        v->strslen = sh[str].sh_size;
        v->strndx = str;
    }
    return 0;
}

/* Section i's name, "" when it has none that can be read. */
static const char *elfview_name(const struct elfview *v, size_t i)
{
    size_t at = v->sh[i].sh_name;
    if (!v->strs || at >= v->strslen || !memchr(v->strs + at, 0, v->strslen - at))
        return "";
    return v->strs + at;
}

/* Is section i DWARF, which libdw reads (.debug_*, or .zdebug_* that
 * libdw inflates itself)? */
static int elfview_is_dwarf(const struct elfview *v, size_t i)
{
    const char *n = elfview_name(v, i);
    return strncmp(n, ".debug_", 7) == 0 || strncmp(n, ".zdebug_", 8) == 0;
}

/* Can srclen bytes of this compressed stream inflate to size bytes? NULL
 * when they can, else why not (written into buf). For zstd, the frame
 * headers must be whole and, where they state their content sizes, add up
 * to size; deflate inflates 1032 times at most. Catches corrupt headers
 * before a memfd of their size is made. */
static const char *implausible(uint32_t type, const unsigned char *src, size_t srclen,
                               uint64_t size, char *buf, size_t n)
{
    uint64_t most = 0, exact = 0;
    int known = 1;
    if (type == ELFCOMPRESS_ZSTD) {
        for (size_t at = 0; at < srclen;) {
            size_t len = ZSTD_findFrameCompressedSize(src + at, srclen - at);
            if (ZSTD_isError(len)) {
                snprintf(buf, n, "corrupt zstd data: %s", ZSTD_getErrorName(len));
                return buf;
            }
            unsigned long long c = ZSTD_getFrameContentSize(src + at, srclen - at);
            if (c == ZSTD_CONTENTSIZE_ERROR) {
                snprintf(buf, n, "corrupt zstd data: bad frame header at byte %zu", at);
                return buf;
            }
            /* a frame of unknown content size: at most a 128 KiB block per 3 bytes */
            known &= c != ZSTD_CONTENTSIZE_UNKNOWN;
            most += c != ZSTD_CONTENTSIZE_UNKNOWN ? c : (uint64_t)len * (ZSTD_BLOCKSIZE_MAX / 3);
            exact += c != ZSTD_CONTENTSIZE_UNKNOWN ? c : 0;
            at += len;
        }
    } else {
        most = (uint64_t)srclen * 1032 + 64;
        known = 0;
    }
    if (known && exact != size)
        snprintf(buf, n, "its zstd frames hold %" PRIu64 " bytes, its header says %" PRIu64, exact,
                 size);
    else if (size > most || size > INFLATED_MAX)
        snprintf(buf, n, "its header says %" PRIu64 " bytes, more than %zu compressed bytes hold",
                 size, srclen);
    else
        return NULL;
    return buf;
}

/* A .zdebug_* section i of v (GNU's older form: "ZLIB", the inflated size
 * in 8 big-endian bytes, a zlib stream), which libdw inflates itself but
 * drops without a word when it is corrupt: listed in z (capz: its
 * capacity), or noted in u. */
static void find_gnu(const struct elfview *v, size_t i, struct zsec **z, size_t *nz, size_t *capz,
                     struct unreadable *u)
{
    const Elf64_Shdr *s = &v->sh[i];
    const unsigned char *p = v->img + s->sh_offset;
    uint64_t size;
    char buf[160];
    const char *why;
    if (s->sh_size < 12 || memcmp(p, "ZLIB", 4) != 0) {
        note_unreadable(u, i, "no \"ZLIB\" header, which a .zdebug section starts with");
        return;
    }
    memcpy(&size, p + 4, sizeof(size));
    size = be64toh(size);
    if (s->sh_addralign & (s->sh_addralign - 1))
        note_unreadable(u, i, "bad alignment %" PRIu64, (uint64_t)s->sh_addralign);
    else if ((why = implausible(ELFCOMPRESS_ZLIB, p + 12, s->sh_size - 12, size, buf, sizeof(buf))))
        note_unreadable(u, i, "%s", why);
    else {
        GROW(*z, *capz, *nz + 1);
        (*z)[(*nz)++] = (struct zsec){.index = i,
                                      .type = ELFCOMPRESS_ZLIB,
                                      .src = p + 12,
                                      .srclen = s->sh_size - 12,
                                      .size = size,
                                      .align = s->sh_addralign ? s->sh_addralign : 1,
                                      .gnu = 1};
    }
}

/* Lists the compressed sections of v in z (SHF_COMPRESSED, and .zdebug_*)
 * and notes in u the sections that cannot be read: a compressed section
 * or a DWARF one that runs past the end of the file, a compression header
 * that is cut short, of an unknown type, or that cannot describe its
 * stream. */
static void find_compressed(const struct elfview *v, struct zsec **z, size_t *nz,
                            struct unreadable *u)
{
    size_t capz = 0;
    char buf[160];
    for (size_t i = 1; i < v->shnum; i++) {
        const Elf64_Shdr *s = &v->sh[i];
        int comp = (s->sh_flags & SHF_COMPRESSED) != 0;
        if (s->sh_type == SHT_NOBITS || (!comp && !elfview_is_dwarf(v, i)))
            continue;
        if (s->sh_offset > v->flen || s->sh_size > v->flen - s->sh_offset) {
            note_unreadable(u, i, "truncated: it ends at byte %" PRIu64 ", the file has %zu",
                            (uint64_t)s->sh_offset + s->sh_size, v->flen);
            continue;
        }
        if (!comp) {
            if (strncmp(elfview_name(v, i), ".zdebug_", 8) == 0)
                find_gnu(v, i, z, nz, &capz, u);
            continue;
        }
        if (s->sh_size < sizeof(Elf64_Chdr)) {
            note_unreadable(u, i, "truncated: %" PRIu64 " bytes, less than its compression header",
                            (uint64_t)s->sh_size);
            continue;
        }
        Elf64_Chdr c;
        memcpy(&c, v->img + s->sh_offset, sizeof(c)); /* (the section may be unaligned) */
        const unsigned char *src = v->img + s->sh_offset + sizeof(c);
        size_t srclen = s->sh_size - sizeof(c);
        const char *why;
        if (c.ch_type != ELFCOMPRESS_ZLIB && c.ch_type != ELFCOMPRESS_ZSTD)
            note_unreadable(u, i, "compressed with an unknown method (ch_type %" PRIu32 ")",
                            c.ch_type);
        else if (c.ch_addralign & (c.ch_addralign - 1))
            note_unreadable(u, i, "bad alignment %" PRIu64 " in its compression header",
                            (uint64_t)c.ch_addralign);
        else if ((why = implausible(c.ch_type, src, srclen, c.ch_size, buf, sizeof(buf))))
            note_unreadable(u, i, "%s", why);
        else {
            GROW(*z, capz, *nz + 1);
            (*z)[(*nz)++] = (struct zsec){.index = i,
                                          .type = c.ch_type,
                                          .src = src,
                                          .srclen = srclen,
                                          .size = c.ch_size,
                                          .align = c.ch_addralign ? c.ch_addralign : 1};
        }
    }
}

/* The decompressors of one copy, made when first needed. */
struct inflaters {
    struct libdeflate_decompressor *deflate; /* zlib */
    ZSTD_DCtx *zstd;                         /* zstd */
};

/* Inflates z into dst (z->size bytes); 0, or -1 with the reason noted in u. */
static int inflate_one(const struct zsec *z, unsigned char *dst, struct inflaters *in,
                       struct unreadable *u)
{
    size_t got = 0;
    if (z->type == ELFCOMPRESS_ZSTD) {
        if (!in->zstd && !(in->zstd = ZSTD_createDCtx()))
            goto oom;
        got = ZSTD_decompressDCtx(in->zstd, dst, z->size, z->src, z->srclen);
        if (ZSTD_isError(got)) {
            note_unreadable(u, z->index, "corrupt zstd data: %s", ZSTD_getErrorName(got));
            return -1;
        }
    } else {
        if (!in->deflate && !(in->deflate = libdeflate_alloc_decompressor()))
            goto oom;
        enum libdeflate_result r =
            libdeflate_zlib_decompress(in->deflate, z->src, z->srclen, dst, z->size, &got);
        if (r != LIBDEFLATE_SUCCESS) {
            note_unreadable(u, z->index, "corrupt zlib data%s",
                            r == LIBDEFLATE_INSUFFICIENT_SPACE ? ": longer than its header says"
                                                               : "");
            return -1;
        }
    }
    if (got != z->size) {
        note_unreadable(u, z->index, "inflates to %zu bytes, its header says %" PRIu64, got,
                        z->size);
        return -1;
    }
    return 0;
oom:
    note_unreadable(u, z->index, "out of memory for a decompressor");
    return -1;
}

/* What becomes of a file's DWARF when a section cannot be read. */
#define DWARF_HIDDEN  "its DWARF is not used (no file:line or inlined frames from it)"
#define DWARF_PARTIAL "libdw reads the file itself: what lies in the unreadable sections is missing"

/* A file warned about. */
struct fileid {
    dev_t dev; /* its device */
    ino_t ino; /* and inode */
};

/* Is this the first warning about the file open on fd (its device and
 * inode: one file by two paths is one file)? */
static int first_warning(int fd)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static struct fileid *seen;
    static size_t nseen, capseen;
    struct stat st;
    int again = 0;
    if (fstat(fd, &st) != 0)
        return 1;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < nseen && !again; i++)
        again = seen[i].dev == st.st_dev && seen[i].ino == st.st_ino;
    if (!again) {
        GROW(seen, capseen, nseen + 1);
        seen[nseen].dev = st.st_dev;
        seen[nseen++].ino = st.st_ino;
    }
    pthread_mutex_unlock(&mu);
    return !again;
}

/* Warns, once per file, that a section of the file open on fd (name)
 * cannot be read, why, and what follows (effect). */
static void warn_unreadable(int fd, const char *name, const char *section,
                            const struct unreadable *u, const char *effect)
{
    if (!first_warning(fd))
        return;
    char more[48] = "";
    if (u->count > 1)
        snprintf(more, sizeof(more), " (and %zu more section%s)", u->count - 1,
                 u->count > 2 ? "s" : "");
    warning("'%s': cannot read debug section '%s'%s: %s; %s", name, section, more, u->why, effect);
}

/* The copy of v as a memfd: the file's bytes, the sections of z inflated
 * after them, then a new section header table. When a section cannot be
 * read (u, on entry or while inflating), no section is inflated and every
 * DWARF and compressed section becomes an empty SHT_NOBITS one: libdw
 * then finds no DWARF (and reports no line) rather than part of it.
 * Returns the memfd, or -1 when the copy cannot be made. */
static int make_copy(const struct elfview *v, struct zsec *z, size_t nz, struct unreadable *u)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t base = (v->flen + pg - 1) / pg * pg; /* inflated bytes from here */
    uint64_t end = base;
    size_t ngnu = 0;
    for (size_t k = 0; k < nz && !u->count; k++) {
        end = (end + z[k].align - 1) & ~(z[k].align - 1);
        z[k].off = end;
        end += z[k].size;
        ngnu += z[k].gnu;
    }
    /* .zdebug_* sections become .debug_*: names added to a new .shstrtab */
    uint64_t stroff = end, strlen_new = 0;
    for (size_t k = 0; k < nz && !u->count && ngnu; k++)
        strlen_new += strlen(elfview_name(v, z[k].index)) + 1;
    if (ngnu && !u->count)
        end += v->strslen + strlen_new;
    uint64_t shoff = (end + 7) & ~(uint64_t)7;
    uint64_t total = shoff + v->shnum * sizeof(Elf64_Shdr);
    int out = memfd_create("jeprof-c-debuginfo", MFD_CLOEXEC);
    if (out < 0)
        return -1;
    if (ftruncate(out, (off_t)total) != 0)
        goto out_close;
    /* the file's part mostly stays holes; the inflated part is written whole */
    unsigned char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, out, 0);
    if (m == MAP_FAILED)
        goto out_close;
    if (shoff > base && mmap(m + base, shoff - base, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_FIXED | MAP_POPULATE, out, (off_t)base) == MAP_FAILED)
        goto out_unmap;
    /* ELF and program headers, then each section that has file bytes */
    const Elf64_Ehdr *eh = v->eh;
    size_t head = sizeof(Elf64_Ehdr);
    if (eh->e_phoff && eh->e_phnum && eh->e_phoff <= v->flen &&
        (uint64_t)eh->e_phnum * eh->e_phentsize <= v->flen - eh->e_phoff &&
        eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize > head)
        head = eh->e_phoff + (size_t)eh->e_phnum * eh->e_phentsize;
    memcpy(m, v->img, head);
    const Elf64_Shdr *sh = v->sh;
    for (size_t i = 1; i < v->shnum; i++)
        if (sh[i].sh_type != SHT_NOBITS && !(sh[i].sh_flags & SHF_COMPRESSED) &&
            sh[i].sh_offset <= v->flen && sh[i].sh_size <= v->flen - sh[i].sh_offset)
            memcpy(m + sh[i].sh_offset, v->img + sh[i].sh_offset, sh[i].sh_size);
    struct inflaters in = {0};
    for (size_t k = 0; k < nz && !u->count; k++)
        if (inflate_one(&z[k], m + z[k].off, &in, u) != 0) /* the inflated bytes: dropped */
            fallocate(out, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)base,
                      (off_t)(shoff - base));
    libdeflate_free_decompressor(in.deflate);
    ZSTD_freeDCtx(in.zstd);
    Elf64_Shdr *nsh = (Elf64_Shdr *)(m + shoff);
    memcpy(nsh, sh, v->shnum * sizeof(Elf64_Shdr));
    for (size_t k = 0; k < nz && !u->count; k++) {
        Elf64_Shdr *s = &nsh[z[k].index];
        s->sh_offset = z[k].off;
        s->sh_size = z[k].size;
        s->sh_addralign = z[k].align;
        s->sh_flags &= ~(uint64_t)SHF_COMPRESSED;
    }
    if (ngnu && !u->count) {
        char *strs = (char *)m + stroff;
        size_t at = v->strslen;
        memcpy(strs, v->strs, v->strslen);
        for (size_t k = 0; k < nz; k++)
            if (z[k].gnu) { /* ".zdebug_x" -> ".debug_x" */
                const char *n = elfview_name(v, z[k].index);
                strs[at] = '.';
                memcpy(strs + at + 1, n + 2, strlen(n + 2) + 1);
                nsh[z[k].index].sh_name = (uint32_t)at;
                at += strlen(n);
            }
        nsh[v->strndx].sh_offset = stroff;
        nsh[v->strndx].sh_size = at;
    }
    for (size_t i = 1; i < v->shnum && u->count; i++)
        if (sh[i].sh_type != SHT_NOBITS &&
            ((sh[i].sh_flags & SHF_COMPRESSED) || elfview_is_dwarf(v, i))) {
            nsh[i].sh_type = SHT_NOBITS;
            nsh[i].sh_flags &= ~(uint64_t)SHF_COMPRESSED;
            nsh[i].sh_offset = 0;
            nsh[i].sh_size = 0;
        }
    ((Elf64_Ehdr *)m)->e_shoff = shoff;
    munmap(m, total);
    return out;
out_unmap:
    munmap(m, total);
out_close:
    close(out);
    return -1;
}

/* An unsigned field of n bytes at img + off, in the file's byte order. */
static uint64_t field(const unsigned char *img, size_t off, int n, int big)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x |= (uint64_t)img[off + i] << (8 * (big ? n - 1 - i : i));
    return x;
}

/* An ELF file (either class and byte order; flen >= 64) whose section
 * header table runs past its end, cut short: libelf refuses it, and
 * libdwfl reads no symbol and no DWARF from it. Warns (once per file) and
 * returns 1; 0 for any other file. */
static int cut_short(int fd, const char *name, const unsigned char *img, size_t flen)
{
    /* (img: the file's first 64 bytes at least) */
    if (memcmp(img, ELFMAG, SELFMAG) != 0 ||
        (img[EI_CLASS] != ELFCLASS32 && img[EI_CLASS] != ELFCLASS64))
        return 0;
    int wide = img[EI_CLASS] == ELFCLASS64, big = img[EI_DATA] == ELFDATA2MSB;
    uint64_t shoff = field(img, wide ? 0x28 : 0x20, wide ? 8 : 4, big);
    uint64_t shentsize = field(img, wide ? 0x3a : 0x2e, 2, big);
    uint64_t shnum = field(img, wide ? 0x3c : 0x30, 2, big);
    if (shoff == 0 || (shoff < flen && shentsize * (shnum ? shnum : 1) <= flen - shoff))
        return 0;
    if (first_warning(fd))
        warning("'%s': truncated: its section headers end at byte %" PRIu64 ", the file has %zu; "
                "no symbols or DWARF are read from it",
                name, shoff + shentsize * (shnum ? shnum : 1), flen);
    return 1;
}

/* A file that is not 64-bit little-endian: libdw inflates its zlib
 * sections itself; any other compression is warned about. */
static void check_other_elf(int fd, const char *name)
{
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t shstr;
    if (!e || elf_getshdrstrndx(e, &shstr) != 0) {
        if (e)
            elf_end(e);
        return;
    }
    struct unreadable u = {0};
    const char *first = "";
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
        GElf_Shdr sh;
        GElf_Chdr ch;
        if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_COMPRESSED) || sh.sh_type == SHT_NOBITS)
            continue;
        size_t before = u.count;
        if (!gelf_getchdr(scn, &ch))
            note_unreadable(&u, elf_ndxscn(scn), "unreadable compression header");
        else if (ch.ch_type != ELFCOMPRESS_ZLIB)
            note_unreadable(&u, elf_ndxscn(scn),
                            "compressed with method %" PRIu32 " (%s), which jeprof-c reads only "
                            "in 64-bit little-endian files",
                            ch.ch_type, ch.ch_type == ELFCOMPRESS_ZSTD ? "zstd" : "unknown");
        const char *n = elf_strptr(e, shstr, sh.sh_name);
        if (before == 0 && u.count == 1)
            first = n ? n : "";
    }
    if (u.count)
        warn_unreadable(fd, name, first, &u, DWARF_PARTIAL);
    elf_end(e);
}

/* Section i's name for a warning: "#i" when it has none. */
static const char *section_label(const struct elfview *v, size_t i, char *buf, size_t n)
{
    const char *name = elfview_name(v, i);
    if (*name)
        return name;
    snprintf(buf, n, "#%zu", i);
    return buf;
}

/* The whole of fd mapped read-only (its length in *len) when it is a
 * regular file that can hold an ELF header; else NULL (the caller reads
 * it through libelf as it is). */
static const unsigned char *map_regular(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
        return NULL;
    *len = (size_t)st.st_size;
    const unsigned char *img = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
    return img == MAP_FAILED ? NULL : img;
}

/* A dwz alt file (fd, name): libdwfl keeps the libelf handle it checked
 * its build id with and reads the file through it, so no copy can stand
 * in; warns when a section cannot be read (libdw 0.188 cannot inflate
 * zstd). Returns fd. */
static int alt_checked(int fd, const char *name)
{
    size_t flen;
    const unsigned char *img = map_regular(fd, &flen);
    if (!img)
        return fd;
    struct elfview v;
    struct zsec *z = NULL;
    size_t nz = 0;
    struct unreadable u = {0};
    if (__BYTE_ORDER != __LITTLE_ENDIAN || elfview_init(&v, img, flen) != 0) {
        check_other_elf(fd, name);
    } else {
        find_compressed(&v, &z, &nz, &u);
        for (size_t k = 0; k < nz; k++)
            if (z[k].type == ELFCOMPRESS_ZSTD)
                note_unreadable(&u, z[k].index, "compressed with zstd, in a dwz file");
        char buf[32];
        if (u.count)
            warn_unreadable(fd, name, section_label(&v, u.index, buf, sizeof(buf)), &u,
                            DWARF_PARTIAL);
    }
    munmap((void *)img, flen);
    free(z);
    return fd;
}

int debugfile_inflated(int fd, const char *name)
{
    size_t flen;
    const unsigned char *img = map_regular(fd, &flen);
    if (!img)
        return fd;
    struct elfview v;
    struct zsec *z = NULL;
    size_t nz = 0;
    struct unreadable u = {0};
    int out = fd;
    if (__BYTE_ORDER != __LITTLE_ENDIAN || elfview_init(&v, img, flen) != 0) {
        if (!cut_short(fd, name, img, flen))
            check_other_elf(fd, name);
        goto out_unmap;
    }
    find_compressed(&v, &z, &nz, &u);
    if (nz == 0 && u.count == 0)
        goto out_unmap;
    int copy = make_copy(&v, z, nz, &u);
    char buf[32];
    if (u.count)
        warn_unreadable(fd, name, section_label(&v, u.index, buf, sizeof(buf)), &u,
                        copy >= 0 ? DWARF_HIDDEN : DWARF_PARTIAL);
    if (copy >= 0) {
        close(fd);
        out = copy;
    }
out_unmap:
    munmap((void *)img, flen);
    free(z);
    return out;
}

/* Is this the lookup of a dwz alt file? libdwfl asks for it with the name
 * of the file whose DWARF names it and the .gnu_debugaltlink name (no
 * CRC); the main file's debug file lookup passes the main file's
 * .gnu_debuglink (or none). */
static int is_alt_lookup(Dwfl_Module *mod, const char *file_name, const char *mainfile,
                         const char *debuglink, GElf_Word crc)
{
    if (!file_name || !mainfile || strcmp(file_name, mainfile) != 0)
        return 1; /* named by a separate debug file's DWARF */
    if (!debuglink)
        return 0;
    GElf_Addr bias;
    Elf *e = dwfl_module_getelf(mod, &bias); /* (the main file's, open already) */
    GElf_Word own_crc = 0;
    const char *own = e ? dwelf_elf_gnu_debuglink(e, &own_crc) : NULL;
    return !own || strcmp(own, debuglink) != 0 || own_crc != crc;
}

int debugfile_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name, const char *search_path)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    const char *mainfile = NULL;
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
    int fd;
    if (is_alt_lookup(mod, file_name, mainfile, debuglink_file, debuglink_crc)) {
        /* another lookup than the main file's (a dwz alt file): libdwfl's */
        fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
        return fd >= 0 ? alt_checked(fd, *debuginfo_file_name ? *debuginfo_file_name : file_name)
                       : fd;
    } else if ((fd = by_build_id(mod, search_path, debuginfo_file_name)) < 0) {
        /* then the search by name, and a server when one is configured */
        if ((urls && *urls) || may_exist(file_name, debuglink_file, search_path))
            fd = by_name(modname, base, file_name, debuglink_file, debuglink_crc,
                         debuginfo_file_name, search_path);
        else
            errno = ENOENT;
    }
    if (fd < 0)
        return fd;
    const char *name = *debuginfo_file_name ? *debuginfo_file_name
                       : debuglink_file     ? debuglink_file
                                            : modname;
    return debugfile_inflated(fd, name);
}
