/* debugfile: see debugfile.h. */
#include "debugfile.h"

#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>

#include "xalloc.h"

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

int debugfile_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name, const char *search_path)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    const char *mainfile = NULL;
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
    int fd;
    if (!file_name || !mainfile || strcmp(file_name, mainfile) != 0) {
        /* another lookup than the main file's (a dwz alt file): libdwfl's */
        fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
                                          debuglink_file, debuglink_crc, debuginfo_file_name);
    } else if ((fd = by_build_id(mod, search_path, debuginfo_file_name)) < 0) {
        /* then the search by name, and a server when one is configured */
        if ((urls && *urls) || may_exist(file_name, debuglink_file, search_path))
            fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
                                              debuglink_file, debuglink_crc, debuginfo_file_name);
        else
            errno = ENOENT;
    }
    return fd >= 0 ? debugfile_inflated(fd) : fd;
}

/* One compressed section to inflate. */
struct zsec {
    size_t index;              /* section index */
    const unsigned char *src;  /* zlib stream (after the Elf64_Chdr) */
    size_t srclen;
    uint64_t size, align;      /* inflated size and alignment (the Chdr's) */
    uint64_t off;              /* where it goes in the copy */
};

int debugfile_inflated(int fd)
{
#if __BYTE_ORDER == __LITTLE_ENDIAN
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
        return fd;
    size_t flen = (size_t)st.st_size;
    const unsigned char *img = mmap(NULL, flen, PROT_READ, MAP_PRIVATE, fd, 0);
    if (img == MAP_FAILED)
        return fd;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    struct zsec *z = NULL;
    size_t nz = 0, capz = 0;
    int out = -1;
    /* 64-bit little-endian ELF with a sane section header table (the
     * section count is in e_shnum, or in section 0's sh_size past 0xff00) */
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        eh->e_shoff == 0 || eh->e_shoff > flen || eh->e_shoff % 8)
        goto done;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    size_t shnum = eh->e_shnum;
    if ((flen - eh->e_shoff) < sizeof(Elf64_Shdr))
        goto done;
    if (shnum == 0)
        shnum = sh[0].sh_size;
    if (shnum == 0 || shnum > (flen - eh->e_shoff) / sizeof(Elf64_Shdr))
        goto done;
    for (size_t i = 1; i < shnum; i++) {
        if (!(sh[i].sh_flags & SHF_COMPRESSED) || sh[i].sh_type == SHT_NOBITS)
            continue;
        if (sh[i].sh_offset > flen || sh[i].sh_size > flen - sh[i].sh_offset ||
            sh[i].sh_size < sizeof(Elf64_Chdr))
            goto done;
        const Elf64_Chdr *ch = (const Elf64_Chdr *)(img + sh[i].sh_offset);
        Elf64_Chdr c;
        memcpy(&c, ch, sizeof(c)); /* (the section may be unaligned) */
        if (c.ch_type != ELFCOMPRESS_ZLIB || c.ch_size > ((uint64_t)1 << 34) ||
            (c.ch_addralign & (c.ch_addralign - 1)))
            goto done; /* zstd, or nonsense: leave it to libdw */
        GROW(z, capz, nz + 1);
        z[nz].index = i;
        z[nz].src = img + sh[i].sh_offset + sizeof(Elf64_Chdr);
        z[nz].srclen = sh[i].sh_size - sizeof(Elf64_Chdr);
        z[nz].size = c.ch_size;
        z[nz].align = c.ch_addralign ? c.ch_addralign : 1;
        nz++;
    }
    if (nz == 0)
        goto done;
    /* The copy: the file's bytes (compressed sections left out: holes of
     * the sparse memfd), then the inflated sections, then a new section
     * header table. */
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t base = (flen + pg - 1) / pg * pg; /* inflated bytes from here: one populated mapping */
    uint64_t end = base;
    for (size_t k = 0; k < nz; k++) {
        end = (end + z[k].align - 1) & ~(z[k].align - 1);
        z[k].off = end;
        end += z[k].size;
    }
    uint64_t shoff = (end + 7) & ~(uint64_t)7;
    uint64_t total = shoff + shnum * sizeof(Elf64_Shdr);
    out = memfd_create("jeprof-c-debuginfo", MFD_CLOEXEC);
    if (out < 0 || ftruncate(out, (off_t)total) != 0)
        goto fail;
    /* the file's part mostly stays holes; the inflated part is written whole */
    unsigned char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, out, 0);
    if (m == MAP_FAILED)
        goto fail;
    if (mmap(m + base, total - base, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED | MAP_POPULATE,
             out, (off_t)base) == MAP_FAILED) {
        munmap(m, total);
        goto fail;
    }
    /* ELF and program headers, then each section that has file bytes */
    size_t head = sizeof(Elf64_Ehdr);
    if (eh->e_phoff && eh->e_phnum && eh->e_phoff <= flen &&
        (uint64_t)eh->e_phnum * eh->e_phentsize <= flen - eh->e_phoff &&
        eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize > head)
        head = eh->e_phoff + (size_t)eh->e_phnum * eh->e_phentsize;
    memcpy(m, img, head);
    for (size_t i = 1; i < shnum; i++)
        if (sh[i].sh_type != SHT_NOBITS && !(sh[i].sh_flags & SHF_COMPRESSED) &&
            sh[i].sh_offset <= flen && sh[i].sh_size <= flen - sh[i].sh_offset)
            memcpy(m + sh[i].sh_offset, img + sh[i].sh_offset, sh[i].sh_size);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    int ok = d != NULL;
    for (size_t k = 0; k < nz && ok; k++) {
        size_t got = 0;
        ok = libdeflate_zlib_decompress(d, z[k].src, z[k].srclen, m + z[k].off, z[k].size,
                                        &got) == LIBDEFLATE_SUCCESS &&
             got == z[k].size;
    }
    if (d)
        libdeflate_free_decompressor(d);
    if (ok) {
        Elf64_Shdr *nsh = (Elf64_Shdr *)(m + shoff);
        memcpy(nsh, sh, shnum * sizeof(Elf64_Shdr));
        for (size_t k = 0; k < nz; k++) {
            Elf64_Shdr *s = &nsh[z[k].index];
            s->sh_offset = z[k].off;
            s->sh_size = z[k].size;
            s->sh_addralign = z[k].align;
            s->sh_flags &= ~(uint64_t)SHF_COMPRESSED;
        }
        ((Elf64_Ehdr *)m)->e_shoff = shoff;
    }
    munmap(m, total);
    if (!ok)
        goto fail; /* a corrupt stream: libdw reports it its way */
    munmap((void *)img, flen);
    free(z);
    close(fd);
    return out;
fail:
    if (out >= 0)
        close(out);
done:
    munmap((void *)img, flen);
    free(z);
    return fd;
#else
    return fd;
#endif
}
