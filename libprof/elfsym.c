/* elfsym: ELF symbol tables for in-process symbolization (see elfsym.h). */
#include "elfsym.h"
#include "bss_large.h"
#include "heapsort.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOTE_ALIGN(x) (((x) + 3) & ~(size_t)3)

int elfsym_notes_build_id(const unsigned char *buf, size_t len, char *out, size_t outlen)
{
    size_t off = 0;
    while (off + sizeof(Elf64_Nhdr) <= len) {
        Elf64_Nhdr nh;
        memcpy(&nh, buf + off, sizeof(nh));
        size_t name_off = off + sizeof(nh);
        size_t desc_off = name_off + NOTE_ALIGN((size_t)nh.n_namesz);
        size_t next = desc_off + NOTE_ALIGN((size_t)nh.n_descsz);
        if (next > len || next <= off)
            return 0;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            memcmp(buf + name_off, "GNU", 4) == 0 && nh.n_descsz > 0 && nh.n_descsz * 2 < outlen) {
            static const char hex[] = "0123456789abcdef";
            for (size_t k = 0; k < nh.n_descsz; k++) {
                out[2 * k] = hex[buf[desc_off + k] >> 4];
                out[2 * k + 1] = hex[buf[desc_off + k] & 15];
            }
            out[2 * nh.n_descsz] = 0;
            return 1;
        }
        off = next;
    }
    return 0;
}

void elfsym_file_build_id(const char *path, char *out, size_t outlen)
{
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
        goto out;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
            goto out;
        if (ph.p_type != PT_NOTE || ph.p_filesz > 4096)
            continue;
        unsigned char buf[4096];
        if (pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
            continue;
        if (elfsym_notes_build_id(buf, ph.p_filesz, out, outlen))
            goto out;
    }
out:
    close(fd);
}

/* A pipe that memory is copied through: write() from an address that is
 * not mapped (a concurrent dlclose) fails with EFAULT instead of faulting,
 * and unlike process_vm_readv it is never refused by a seccomp filter. The
 * raw system call, not libc's write: a sanitizer's write interceptor would
 * check these deliberate reads of other objects' headers and notes against
 * its own redzones (e.g. around our .note.liballoc) and abort. */
static int peek_pipe[2] = {-1, -1};

/* Copies len (at most the pipe's capacity) bytes at addr of this process
 * into buf; 0 or an errno. */
static int peek(uintptr_t addr, void *buf, size_t len)
{
    ssize_t w;
    do
        w = syscall(SYS_write, peek_pipe[1], (const void *)addr, len);
    while (w < 0 && errno == EINTR);
    size_t got = 0;
    /* Drain what went in, even a short write, so the pipe stays empty. */
    while (w > 0 && got < (size_t)w) {
        ssize_t r = read(peek_pipe[0], (char *)buf + got, (size_t)w - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return EIO;
        got += (size_t)r;
    }
    return w == (ssize_t)len ? 0 : w < 0 ? errno : EFAULT;
}

/* The object whose ELF header is mapped at base (a file mapping at offset
 * 0): reports its executable segments with its build ID. */
static void object_build_id(uintptr_t base,
                            void (*cb)(void *arg, uintptr_t lo, uintptr_t hi, const char *hex),
                            void *arg)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    if (peek(base, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum == 0 || eh.e_phnum > 64 ||
        peek(base + eh.e_phoff, ph, eh.e_phnum * sizeof(Elf64_Phdr)))
        return;
    /* The header page is the first PT_LOAD's start: that gives the bias. */
    uint64_t first = UINT64_MAX;
    for (unsigned i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0 && ph[i].p_vaddr < first)
            first = ph[i].p_vaddr;
    if (first == UINT64_MAX)
        return;
    uintptr_t bias = base - (first & ~(uint64_t)4095);
    char hex[130] = "";
    for (unsigned i = 0; i < eh.e_phnum && !hex[0]; i++) {
        unsigned char note[1024];
        if (ph[i].p_type != PT_NOTE || ph[i].p_memsz == 0 || ph[i].p_memsz > sizeof(note) ||
            peek(bias + ph[i].p_vaddr, note, ph[i].p_memsz))
            continue;
        elfsym_notes_build_id(note, ph[i].p_memsz, hex, sizeof(hex));
    }
    if (!hex[0])
        return;
    for (unsigned i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) && ph[i].p_memsz)
            cb(arg, bias + ph[i].p_vaddr, bias + ph[i].p_vaddr + ph[i].p_memsz, hex);
}

int elfsym_maps_each(char *buf, size_t cap, int (*cb)(void *arg, char *line), void *arg)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t have = 0;
    int stop = 0;
    while (!stop) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        char *line = buf, *nl;
        while (!stop && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
            *nl = 0;
            stop = cb(arg, line);
            line = nl + 1;
        }
        /* Keep the incomplete last line; a line longer than the buffer is dropped. */
        size_t rest = have - (size_t)(line - buf);
        if (rest == cap - 1)
            rest = 0;
        memmove(buf, line, rest);
        have = rest;
    }
    close(fd);
    return stop;
}

/* elfsym_loaded_build_ids' walk over the maps lines: it visits every file
 * mapping at offset 0 whose file is then mapped executable. */
struct bid_walk {
    void (*cb)(void *arg, uintptr_t lo, uintptr_t hi, const char *hex);
    void *arg;
    uintptr_t head;              /* last file mapping at offset 0 */
    unsigned long long head_ino; /* its inode */
    uint64_t head_dev;           /* and device */
    int head_done;               /* its object was reported */
    unsigned long long prev_ino; /* the previous file mapping: inode, */
    uint64_t prev_dev;           /* device */
    unsigned long long prev_end; /* and end */
};

static int bid_line(void *varg, char *line)
{
    struct bid_walk *w = varg;
    unsigned long long lo, hi, off, ino;
    unsigned dmaj, dmin;
    char perms[8];
    int pathpos = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &lo, &hi, perms, &off, &dmaj, &dmin, &ino,
               &pathpos) < 7 ||
        !pathpos || line[pathpos] != '/')
        return 0;
    /* A file's header mapping, then its code mapping: only a file that is
     * mapped executable is reported. lld maps offset 0 again for the code:
     * a mapping that continues the same file is not a new object. */
    uint64_t dev = (uint64_t)dmaj << 32 | dmin;
    int cont = w->prev_ino == ino && w->prev_dev == dev && w->prev_end == lo;
    w->prev_end = hi;
    w->prev_ino = ino;
    w->prev_dev = dev;
    if (off == 0 && perms[0] == 'r' && !cont) {
        w->head = (uintptr_t)lo;
        w->head_ino = ino;
        w->head_dev = dev;
        w->head_done = 0;
    }
    if (perms[2] == 'x' && !w->head_done && w->head && w->head_ino == ino && w->head_dev == dev) {
        object_build_id(w->head, w->cb, w->arg);
        w->head_done = 1;
    }
    return 0;
}

/* The maps lines go through a static buffer (callers are serialized, see
 * elfsym.h). */
static char maps_buf[8192] BSS_LARGE;

void elfsym_loaded_build_ids(void (*cb)(void *arg, uintptr_t lo, uintptr_t hi, const char *hex),
                             void *arg)
{
    if (pipe2(peek_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return;
    struct bid_walk w = {.cb = cb, .arg = arg};
    elfsym_maps_each(maps_buf, sizeof(maps_buf), bid_line, &w);
    close(peek_pipe[0]);
    close(peek_pipe[1]);
    peek_pipe[0] = peek_pipe[1] = -1;
}

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (k <= 0)
            return k < 0 ? errno : EIO;
        done += (size_t)k;
    }
    return 0;
}

int elfsym_load(struct scratch *sc, const char *path, struct elfsym *out)
{
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int err = EINVAL;
    Elf64_Ehdr eh;
    if (read_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shnum > 4096 || eh.e_phnum > 64)
        goto out;
    for (unsigned i = 0; i < eh.e_phnum && out->nseg < 16; i++) {
        Elf64_Phdr ph;
        if (read_at(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)))
            goto out;
        if (ph.p_type == PT_LOAD) {
            out->seg[out->nseg].off = ph.p_offset;
            out->seg[out->nseg].filesz = ph.p_filesz;
            out->seg[out->nseg].vaddr = ph.p_vaddr;
            out->nseg++;
        }
    }
    Elf64_Shdr *sh = scratch_alloc(sc, eh.e_shnum * sizeof(*sh));
    if (!sh || read_at(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff))
        goto out;
    int symidx = -1;
    for (unsigned i = 0; i < eh.e_shnum; i++)
        if (sh[i].sh_type == SHT_SYMTAB)
            symidx = (int)i;
    if (symidx < 0)
        for (unsigned i = 0; i < eh.e_shnum; i++)
            if (sh[i].sh_type == SHT_DYNSYM)
                symidx = (int)i;
    err = 0;
    if (symidx < 0 || sh[symidx].sh_link >= eh.e_shnum ||
        sh[symidx].sh_entsize != sizeof(Elf64_Sym))
        goto out;
    const Elf64_Shdr *ss = &sh[symidx], *st = &sh[ss->sh_link];
    if (ss->sh_size > ((size_t)256 << 20) || st->sh_size > ((size_t)256 << 20))
        goto out;
    Elf64_Sym *syms = scratch_alloc(sc, ss->sh_size);
    char *strs = scratch_alloc(sc, st->sh_size + 1);
    if (!syms || !strs || read_at(fd, syms, ss->sh_size, ss->sh_offset) ||
        read_at(fd, strs, st->sh_size, st->sh_offset))
        goto out;
    strs[st->sh_size] = 0;
    size_t nsyms = ss->sh_size / sizeof(Elf64_Sym), n = 0;
    struct elfsym_fn *fns = scratch_alloc(sc, (nsyms ? nsyms : 1) * sizeof(*fns));
    if (!fns)
        goto out;
    for (size_t i = 0; i < nsyms; i++) {
        const Elf64_Sym *s = &syms[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF || !s->st_value ||
            s->st_name >= st->sh_size)
            continue;
        fns[n].lo = s->st_value;
        fns[n].hi = s->st_value + (s->st_size ? s->st_size : 1);
        fns[n].name = strs + s->st_name;
        n++;
    }
    _Static_assert(offsetof(struct elfsym_fn, lo) == 0 && sizeof(*fns) <= HEAPSORT_ELEM_MAX,
                   "heapsort.h's element");
    heapsort_by_key(fns, n, sizeof(*fns)); /* (qsort may call malloc; dumps must not) */
    out->fns = fns;
    out->n = n;
out:
    close(fd);
    return err;
}

const char *elfsym_lookup(const struct elfsym *t, uint64_t file_off)
{
    uint64_t addr = file_off;
    for (unsigned i = 0; i < t->nseg; i++)
        if (file_off >= t->seg[i].off && file_off < t->seg[i].off + t->seg[i].filesz) {
            addr = file_off - t->seg[i].off + t->seg[i].vaddr;
            break;
        }
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->fns[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct elfsym_fn *f = &t->fns[lo - 1];
    return addr < f->hi ? f->name : NULL;
}
