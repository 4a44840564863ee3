/* symbolize: see symbolize.h. libdwfl does the ELF and DWARF work; this file
 * decides which file serves which mapping, computes load biases, keeps a
 * sorted nm-style symbol table per file, and names frames like jeprof. */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdint.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "debugfile.h"
#include "demangle.h"
#include "xalloc.h"
#include "message.h"
#include "strtab.h"
#include "clock.h"

/* One entry of the nm-like symbol table. */
struct esym {
    uint64_t addr;    /* st_value (file address) */
    const char *name; /* raw name, owned by libelf */
    uint8_t text;     /* nm would print 't' or 'T' */
};

/* One ELF file, opened once. */
struct elfobj {
    char *key;         /* path asked for (the cache key) */
    char *path;        /* file opened (NULL: nothing usable) */
    Dwfl *dwfl;        /* its own session, module at its link addresses */
    Dwfl_Module *mod;  /* the one module */
    struct esym *syms; /* one representative per distinct address, sorted */
    size_t nsyms;
    int full_symtab;  /* .symtab (or debug file's): nm semantics, no sizes */
    int has_fini;     /* the file itself names _fini: jeprof expands inlines */
    int own_symtab;   /* the file itself has a .symtab (addr2line uses it) */
    GElf_Phdr *loads; /* PT_LOAD headers, for the load bias */
    size_t nloads;
    uint64_t text_lo;    /* lowest address of an executable PT_LOAD (file addresses) */
    char build_id[128];  /* lowercase hex, "" unknown */
    dev_t dev;           /* stat of the file opened: to tell the file at a */
    ino_t ino;           /* mapping's path from another one */
    int warned;          /* the "not the file profiled" warning was printed */
    int warned_dwo;      /* the "split DWARF unit cannot be read" warning was printed */
    struct curange *cur; /* CU ranges, sorted, when libdwfl finds no CU (see cu_at) */
    size_t ncur;
    int cur_built; /* cur was built (maybe empty) */
};

/* One address range of a compile unit, for files without .debug_aranges. */
struct curange {
    uint64_t lo, hi; /* [lo, hi), module addresses */
    Dwarf_Die cu;    /* the CU's DIE */
};

/* Every ELF file opened, by path: filled by the prefetch thread while the
 * profiles are read, then by symbolize_profile (never both at once: the
 * thread is joined first), emptied at the end of symbolize_profile. */
static struct elfobj **objs;
static size_t nobjs, capobjs;

/* Per-run state. */
struct symctx {
    struct profile *p;
    const struct sym_options *o;
    struct elfobj *prog;    /* the program from the command line */
    struct elfobj **mapobj; /* per mapping: file serving it, NULL none */
    uint64_t *mapbias;      /* per mapping: runtime address - file address */
};

static char *debuginfo_path;

/* libdwfl's lookup of separate debug files, without its cost (debugfile.h) */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    return debugfile_find(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
                          debuginfo_file_name, debuginfo_path);
}

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* nm's preference among symbols at one address: sorted by name, the last
 * text symbol wins, else the first (jeprof's GetProcedureBoundariesViaNm). */
static int cmp_esym(const void *a, const void *b)
{
    const struct esym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void load_symbols(struct elfobj *o)
{
    int n = dwfl_module_getsymtab(o->mod);
    size_t cap = 0, cnt = 0;
    struct esym *v = NULL;
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf;
        Dwarf_Addr bias;
        const char *name = dwfl_module_getsym_info(o->mod, i, &sym, &addr, &shndx, &elf, &bias);
        if (!name || !*name || shndx == SHN_UNDEF)
            continue;
        int type = GELF_ST_TYPE(sym.st_info);
        if (type == STT_SECTION || type == STT_FILE || type == STT_TLS)
            continue;
        int text = 0;
        if (elf && shndx != SHN_ABS && shndx != SHN_COMMON) {
            GElf_Shdr sh;
            Elf_Scn *scn = elf_getscn(elf, shndx);
            if (scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_EXECINSTR))
                text = GELF_ST_BIND(sym.st_info) != STB_WEAK && type != STT_GNU_IFUNC;
        }
        if (type == STT_FUNC && GELF_ST_BIND(sym.st_info) == STB_LOCAL)
            o->full_symtab = 1;
        GROW(v, cap, cnt + 1);
        v[cnt].addr = addr;
        v[cnt].name = name;
        v[cnt].text = (uint8_t)text;
        cnt++;
    }
    if (cnt)
        qsort(v, cnt, sizeof(*v), cmp_esym);
    /* Collapse each address to its representative. */
    size_t w = 0;
    for (size_t i = 0; i < cnt;) {
        size_t j = i, pick = i;
        for (; j < cnt && v[j].addr == v[i].addr; j++)
            if (v[j].text)
                pick = j;
        v[w++] = v[pick];
        i = j;
    }
    o->syms = v;
    o->nsyms = w;
}

/* jeprof runs "addr2line -i" only when nm finds _fini in the file itself
 * (it is the separator between addresses); otherwise it sees just the
 * innermost function. Checks .symtab, else .dynsym, of the file at path;
 * also says whether the file has a .symtab of its own. */
static int file_has_fini(const char *path, int *own_symtab)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0, pass;
    *own_symtab = 0;
    if (fd < 0)
        return 0;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    for (pass = 0; elf && pass < 2 && !found; pass++) {
        Elf_Scn *scn = NULL;
        int have = 0;
        while ((scn = elf_nextscn(elf, scn))) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh) || sh.sh_type != (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM) ||
                !sh.sh_entsize)
                continue;
            Elf_Data *d = elf_getdata(scn, NULL);
            size_t n = sh.sh_size / sh.sh_entsize;
            for (size_t i = 0; d && i < n; i++) {
                GElf_Sym sym;
                if (!gelf_getsym(d, (int)i, &sym))
                    break;
                have = 1;
                const char *nm = elf_strptr(elf, sh.sh_link, sym.st_name);
                if (nm && sym.st_shndx != SHN_UNDEF && strcmp(nm, "_fini") == 0)
                    found = 1;
            }
        }
        if (have) {
            *own_symtab = pass == 0;
            break; /* nm -n had symbols; jeprof does not try nm -D */
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return found;
}

static void load_phdrs(struct elfobj *o)
{
    GElf_Addr bias;
    Elf *elf = dwfl_module_getelf(o->mod, &bias);
    size_t n;
    if (!elf || elf_getphdrnum(elf, &n) != 0)
        return;
    o->loads = xcalloc(n, sizeof(GElf_Phdr));
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
            if ((ph.p_flags & PF_X) && (!o->text_lo || ph.p_vaddr < o->text_lo))
                o->text_lo = ph.p_vaddr;
            o->loads[o->nloads++] = ph;
        }
    }
}

/* Opens path (cached); returns an object whose path is NULL when unusable. */
static struct elfobj *elfobj_get(const char *path)
{
    for (size_t i = 0; i < nobjs; i++)
        if (strcmp(objs[i]->key, path) == 0)
            return objs[i];
    struct elfobj *o = xcalloc(1, sizeof(*o));
    o->key = xstrdup(path);
    GROW(objs, capobjs, nobjs + 1);
    objs[nobjs++] = o;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return o;
    o->dwfl = dwfl_begin(&callbacks);
    if (!o->dwfl)
        return o;
    /* the file's own compressed DWARF read through the same inflated copy
     * as a debug file's (libdw cannot read zstd); an unreadable section
     * warned about and the DWARF hidden (debugfile.h) */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        fd = debugfile_inflated(fd, path);
    dwfl_report_begin(o->dwfl);
    o->mod = dwfl_report_elf(o->dwfl, basename_of(path), path, fd, 0, false);
    dwfl_report_end(o->dwfl, NULL, NULL);
    if (!o->mod && fd >= 0)
        close(fd); /* (consumed only on success) */
    if (!o->mod) {
        dwfl_end(o->dwfl);
        o->dwfl = NULL;
        return o;
    }
    o->path = xstrdup(path);
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    const unsigned char *bits;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(o->mod, &bits, &vaddr);
    for (int i = 0; i < len && i < 63; i++)
        sprintf(o->build_id + 2 * i, "%02x", bits[i]);
    load_symbols(o);
    load_phdrs(o);
    o->has_fini = file_has_fini(path, &o->own_symtab);
    return o;
}

static void elfobj_free(struct elfobj *o)
{
    if (o->dwfl)
        dwfl_end(o->dwfl);
    free(o->syms);
    free(o->loads);
    free(o->cur);
    free(o->path);
    free(o->key);
    free(o);
}

/* Runtime minus file address for mapping m served by o. */
static uint64_t map_bias(const struct elfobj *o, const struct pmap *m)
{
    /* The mappings kept are executable; one file page can hold the end of
     * a read-only segment and the start of the code (lld's layout), so an
     * executable segment wins over another that covers the same offset. */
    for (int want_x = 1; want_x >= 0; want_x--)
        for (size_t i = 0; i < o->nloads; i++) {
            const GElf_Phdr *ph = &o->loads[i];
            uint64_t lo = ph->p_offset & ~(uint64_t)0xfff;
            if (want_x && !(ph->p_flags & PF_X))
                continue;
            if (m->offset >= lo && m->offset < ph->p_offset + (ph->p_filesz ? ph->p_filesz : 1))
                return m->start - m->offset + ph->p_offset - ph->p_vaddr;
        }
    /* No header matched (e.g. a debug-only file): assume the first segment. */
    if (o->nloads)
        return m->start - m->offset + o->loads[0].p_offset - o->loads[0].p_vaddr;
    return m->start - m->offset;
}

static int is_shared_lib_name(const char *path)
{
    const char *b = basename_of(path);
    return strstr(b, ".so") != NULL || path[0] == '[' || path[0] == 0;
}

/* Opens f when it is an ELF file with build id bid; NULL otherwise. */
static struct elfobj *get_with_build_id(char *f, const char *bid)
{
    struct elfobj *o = elfobj_get(f);
    free(f);
    return o->path && strcmp(o->build_id, bid) == 0 ? o : NULL;
}

/* A file with this build id for a mapping whose own file is gone or is
 * another: pprof's $PPROF_BINARY_PATH layout (<dir>/<id>/<basename>,
 * <dir>/<basename>), then <dir>/.build-id/xx/rest.debug for every absolute
 * directory of the debug-file search path (default /usr/lib/debug). The
 * file found must carry the build id (a debug file does). */
static struct elfobj *find_by_build_id(const char *path, const char *bid)
{
    const char *env = getenv("PPROF_BINARY_PATH");
    char *dirs = env ? xstrdup(env) : NULL, *save = NULL;
    struct elfobj *o = NULL;
    for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !o;
         d = strtok_r(NULL, ":", &save)) {
        o = get_with_build_id(xasprintf("%s/%s/%s", d, bid, basename_of(path)), bid);
        if (!o)
            o = get_with_build_id(xasprintf("%s/%s", d, basename_of(path)), bid);
    }
    free(dirs);
    if (strlen(bid) <= 2)
        return o;
    dirs = xstrdup(debuginfo_path);
    save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d && !o; d = strtok_r(NULL, ":", &save)) {
        if (*d == '+' || *d == '-')
            d++; /* libdwfl's CRC-check flags */
        if (*d == '/')
            o = get_with_build_id(xasprintf("%s/.build-id/%.2s/%s.debug", d, bid, bid + 2), bid);
    }
    free(dirs);
    return o;
}

/* Why o is not the code that ran in mapping m, or NULL when it may be:
 * the build id differs (when the dump has one), or, for a dump without
 * build ids, the mapping was deleted or the file at its path is another
 * inode on the same device changed after the dump. A file we cannot check
 * is trusted, as jeprof does. */
static const char *not_the_file(const struct pmap *m, const char *path, const char *bid,
                                const struct elfobj *o, char *why, size_t whylen)
{
    if (*bid) {
        if (strcmp(bid, o->build_id) == 0)
            return NULL;
        snprintf(why, whylen, "its build ID is %s, the profile's is %s",
                 *o->build_id ? o->build_id : "missing", bid);
        return why;
    }
    struct stat st;
    int at_path =
        *path == '/' && stat(path, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
    if (at_path && m->deleted) {
        snprintf(why, whylen, "the profiled file was deleted (replaced) before the dump");
        return why;
    }
    /* Another inode at the path on the same device, changed since the dump
     * was written: replaced after the dump. (One older than the dump is a
     * copy deployed elsewhere, e.g. the dump read on another machine: a
     * replacement before the dump shows as " (deleted)" instead.) */
    int64_t changed = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
    if (at_path && m->inode &&
        (major(st.st_dev) == m->dev_major && minor(st.st_dev) == m->dev_minor) &&
        st.st_ino != m->inode && (!m->dump_time || changed >= m->dump_time)) {
        snprintf(why, whylen, "replaced since the dump (inode %ju, the profile's is %ju)",
                 (uintmax_t)st.st_ino, (uintmax_t)m->inode);
        return why;
    }
    return NULL;
}

/* Says once per file that it is not used for a mapping. */
static void warn_not_the_file(struct elfobj *o, const char *path, const char *why)
{
    if (o->warned)
        return;
    o->warned = 1;
    warning("'%s' is not the file profiled as '%s' (%s): its symbols are not used; frames "
            "there are shown as %s+0xoffset unless a file with the profile's build ID is found",
            o->path, path, why, basename_of(path));
}

/* The file for mapping m: the first of the candidates (the program when
 * it matches by build id or basename, the file at the mapping's path, a
 * file found by build id) that passes not_the_file. When a candidate was
 * refused and nothing else fits, warns (naming the file) and returns NULL:
 * the frames stay module+0xoffset. */
static struct elfobj *choose_file(struct symctx *c, const struct pmap *m, int try_prog)
{
    const char *path = pstr(c->p, m->path), *bid = pstr(c->p, m->build_id);
    struct elfobj *cand[3] = {NULL, NULL, NULL}, *refused = NULL;
    char why[256], first_why[256] = "";
    if (try_prog)
        cand[0] = c->prog;
    if (*path && path[0] != '[') {
        cand[1] = elfobj_get(path);
        if (!cand[1]->path)
            cand[1] = NULL;
    }
    for (int k = 0; k < 3; k++) {
        if (k == 2 && *bid)
            cand[2] = find_by_build_id(path, bid);
        struct elfobj *o = cand[k];
        if (!o)
            continue;
        if (!not_the_file(m, path, bid, o, why, sizeof(why)))
            return o;
        if (!refused) {
            refused = o;
            snprintf(first_why, sizeof(first_why), "%s", why);
        }
    }
    if (refused)
        warn_not_the_file(refused, path, first_why);
    return NULL;
}

/* Chooses the file for every mapping (see choose_file), so a file rebuilt
 * or replaced since the dump never lends its names. */
static void attach_files(struct symctx *c)
{
    struct profile *p = c->p;
    int prog_used = 0;
    c->mapobj = xcalloc(p->nmaps + 1, sizeof(*c->mapobj));
    c->mapbias = xcalloc(p->nmaps + 1, sizeof(*c->mapbias));
    /* Only mappings with addresses left to symbolize are weighed (and
     * warned about): an input that carried its names needs no file. */
    uint8_t *needed = xcalloc(p->nmaps + 1, 1);
    for (size_t i = 0; i < p->nlocs; i++)
        if (!p->locs[i].done && p->locs[i].map >= 0)
            needed[p->locs[i].map] = 1;
    for (size_t i = 0; i < p->nmaps; i++) {
        const struct pmap *m = &p->maps[i];
        const char *path = pstr(p, m->path);
        const char *bid = pstr(p, m->build_id);
        if (!needed[i])
            continue;
        int try_prog =
            c->prog && ((*bid && strcmp(bid, c->prog->build_id) == 0) ||
                        (*path && strcmp(basename_of(path), basename_of(c->o->program)) == 0));
        struct elfobj *o = choose_file(c, m, try_prog);
        if (try_prog)
            prog_used = 1; /* the program was weighed for this mapping */
        c->mapobj[i] = o;
        if (o)
            c->mapbias[i] = map_bias(o, m);
        /* --list and --disasm take the code from the same file, or none */
        p->maps[i].no_code = o == NULL;
        p->maps[i].code_path = o ? strtab_intern(&p->strings, o->path) : 0;
        /* Remember the build id (jemalloc's heap_v2 maps have none) for --pprof. */
        if (o && !m->build_id && *o->build_id)
            p->maps[i].build_id = strtab_intern(&p->strings, o->build_id);
    }
    /* Renamed program: give it the first mapping that is not a library,
     * if that mapping's own file is gone (never replace a file we have)
     * and the program passes the same checks. */
    if (c->prog && !prog_used)
        for (size_t i = 0; i < p->nmaps; i++)
            if (needed[i] && !is_shared_lib_name(pstr(p, p->maps[i].path))) {
                const struct pmap *m = &p->maps[i];
                char why[256];
                if (c->mapobj[i])
                    break;
                if (not_the_file(m, pstr(p, m->path), pstr(p, m->build_id), c->prog, why,
                                 sizeof(why))) {
                    warn_not_the_file(c->prog, pstr(p, m->path), why);
                    break;
                }
                c->mapobj[i] = c->prog;
                c->mapbias[i] = map_bias(c->prog, m);
                p->maps[i].no_code = 0;
                p->maps[i].code_path = strtab_intern(&p->strings, c->prog->path);
                if (!m->build_id && *c->prog->build_id)
                    p->maps[i].build_id = strtab_intern(&p->strings, c->prog->build_id);
                break;
            }
    free(needed);
}

/* nm-style lookup: the last symbol at or below addr; NULL past the last one. */
static const struct esym *find_sym(const struct elfobj *o, uint64_t addr)
{
    size_t lo = 0, hi = o->nsyms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || lo == o->nsyms) /* jeprof gives the last symbol no size */
        return NULL;
    return &o->syms[lo - 1];
}

/* Qualified names built for DIEs without a linkage name, by the DIE's
 * (Dwarf, offset); they live until exit, like the DWARF strings. */
struct qname {
    const Dwarf *dbg; /* the DIE's debug info */
    Dwarf_Off off;    /* the declaration DIE's offset */
    char *name;       /* "std::__final_insertion_sort<...>", NULL: none */
};
static struct qname *qnames; /* open addressing, size a power of two */
static size_t nqnames, capqnames;

/* The slot of (dbg, off) in qnames: its entry, or the empty slot for it. */
static struct qname *qname_slot(const Dwarf *dbg, Dwarf_Off off)
{
    size_t h = ((uintptr_t)dbg >> 4) * 31 + (size_t)off * 0x9e3779b97f4a7c15ull;
    for (size_t i = h & (capqnames - 1);; i = (i + 1) & (capqnames - 1))
        if (!qnames[i].dbg || (qnames[i].dbg == dbg && qnames[i].off == off))
            return &qnames[i];
}

/* Makes room for one more entry (load at most one half). */
static void qname_reserve(void)
{
    if ((nqnames + 1) * 2 <= capqnames)
        return;
    struct qname *old = qnames;
    size_t oldcap = capqnames;
    capqnames = capqnames ? capqnames * 2 : 256;
    qnames = xcalloc(capqnames, sizeof(*qnames));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].dbg)
            *qname_slot(old[i].dbg, old[i].off) = old[i];
    free(old);
}

static const char *die_name(Dwarf_Die *die, int *is_linkage);

/* The scope prefix of decl, "ns::Class::" or "f()::{lambda}::", built from
 * its parent DIEs (empty when it has none). */
static void scope_prefix(Dwarf_Die *decl, char **out)
{
    Dwarf_Die *scopes = NULL;
    int ns = dwarf_getscopes_die(decl, &scopes);
    *out = xstrdup("");
    /* scopes[0] is decl itself, scopes[ns - 1] its CU */
    for (int i = ns - 2; i >= 1; i--) {
        Dwarf_Die *d = &scopes[i];
        const char *n = dwarf_diename(d);
        char *part = NULL;
        switch (dwarf_tag(d)) {
        case DW_TAG_namespace:
            part = xstrdup(n ? n : "(anonymous namespace)");
            break;
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
            /* An unnamed class in a function is a lambda's closure type;
             * DWARF does not give its number, so none is printed. */
            part = xstrdup(n ? n : "{lambda}");
            break;
        case DW_TAG_subprogram: {
            int lk;
            const char *f = die_name(d, &lk);
            /* an enclosing function keeps its parameter list, as
             * demangled local names do: "f(int)::{lambda}" */
            if (f)
                part = lk ? demangle(f) : xstrdup(f);
            break;
        }
        default:
            break;
        }
        if (part) {
            char *o = xasprintf("%s%s::", *out, part);
            free(*out);
            free(part);
            *out = o;
        }
    }
    free(scopes);
}

/* Name of a DWARF function DIE, following abstract origins/specifications.
 * Without a linkage name (g++ gives none to the operator() of a lambda or
 * to a template instantiated with a lambda's type), the DW_AT_name is
 * qualified by the DIE's enclosing namespaces, classes and functions, as
 * the symbol table would name it: "operator()" alone would merge every
 * lambda of the program into one row. */
static const char *die_name(Dwarf_Die *die, int *is_linkage)
{
    Dwarf_Attribute a;
    const char *n = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
        n = dwarf_formstring(&a);
    *is_linkage = n != NULL;
    if (n || !dwarf_attr_integrate(die, DW_AT_name, &a) || !(n = dwarf_formstring(&a)))
        return n;
    /* the DIE that declares the name: the end of the origin chain */
    Dwarf_Die decl = *die, next;
    for (int hops = 0; hops < 16; hops++) {
        if ((dwarf_attr(&decl, DW_AT_abstract_origin, &a) ||
             dwarf_attr(&decl, DW_AT_specification, &a)) &&
            dwarf_formref_die(&a, &next))
            decl = next;
        else
            break;
    }
    const Dwarf *dbg = dwarf_cu_getdwarf(decl.cu);
    Dwarf_Off off = dwarf_dieoffset(&decl);
    qname_reserve();
    struct qname *q = qname_slot(dbg, off);
    if (!q->dbg) {
        char *prefix;
        scope_prefix(&decl, &prefix);
        q->dbg = dbg;
        q->off = off;
        q->name = *prefix ? xasprintf("%s%s", prefix, n) : NULL;
        free(prefix);
        nqnames++;
    }
    return q->name ? q->name : n;
}

#define MAXFRAMES 64

/* A DWARF frame before naming. */
struct rawframe {
    const char *name; /* DWARF name (may be mangled), NULL unknown */
    const char *file; /* source file, NULL unknown */
    int line;         /* source line, 0 unknown */
    int is_linkage;   /* name is a linkage (mangled) name */
    int64_t entry;    /* out-of-line function: its entry (file address), else -1 */
};

/* Depth of inlining followed (the frames kept are the innermost MAXFRAMES). */
#define MAXCHAIN 512


/* function_chain's steps without walking DIEs again: each scope it enters
 * (the CU, then a function, an inlined call, a block) is indexed once by
 * the address ranges of the children the walk would stop at, numbered in
 * DIE order (the first child holding pc wins, as in the walk). Walking
 * the DIEs for every address cost O(addresses x DIEs): seconds for a few
 * thousand addresses in a C++ unit, or in a main() with thousands of
 * call-site DIEs. At the CU level (n == 0) the children are its functions
 * and, flattened in walk order, those of its namespaces and modules; below,
 * the functions, inlined calls and blocks directly inside the scope. */
struct scoperange {
    Dwarf_Addr lo, hi; /* [lo, hi), CU (file) addresses */
    uint32_t order;    /* the DIE's rank in the walk */
    int tag;           /* its DW_TAG_* */
    Dwarf_Die die;     /* the child */
};
struct scopeidx {
    const void *key;       /* the scope DIE's address in the debug data, NULL = empty slot */
    struct scoperange *r;  /* sorted by lo */
    Dwarf_Addr *maxhi;     /* maxhi[i]: the largest hi of r[0..i] (ranges may overlap) */
    size_t n;
};
static struct scopeidx *scopes; /* open addressing by key, size a power of two */
static size_t nscopes, capscopes;

static int cmp_scoperange(const void *a, const void *b)
{
    const struct scoperange *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Does function_chain stop at a child with this tag (at the CU level or below)? */
static int chain_tag(int tag, int top)
{
    if (tag == DW_TAG_subprogram)
        return 1;
    return !top && (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
                    tag == DW_TAG_try_block || tag == DW_TAG_catch_block);
}

/* Appends the children of parent the walk stops at, with their ranges. */
static void collect_scope(Dwarf_Die *parent, int top, struct scoperange **v, size_t *n,
                          size_t *cap, uint32_t *order)
{
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0)
        return;
    do {
        int tag = dwarf_tag(&child);
        if (chain_tag(tag, top)) {
            uint32_t ord = (*order)++;
            Dwarf_Addr base, start, end;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&child, off, &base, &start, &end)) > 0) {
                if (end <= start)
                    continue;
                GROW(*v, *cap, *n + 1);
                (*v)[*n] = (struct scoperange){
                    .lo = start, .hi = end, .order = ord, .tag = tag, .die = child};
                (*n)++;
            }
        } else if (top && (tag == DW_TAG_namespace || tag == DW_TAG_module)) {
            collect_scope(&child, top, v, n, cap, order);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

static struct scopeidx *scope_slot(const void *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 17) & (capscopes - 1);
    while (scopes[i].key && scopes[i].key != key)
        i = (i + 1) & (capscopes - 1);
    return &scopes[i];
}

/* The index of scope (built on first use); top: scope is a CU. */
static const struct scopeidx *scope_index(Dwarf_Die *scope, int top)
{
    if ((nscopes + 1) * 2 > capscopes) {
        struct scopeidx *old = scopes;
        size_t oldcap = capscopes;
        capscopes = capscopes ? capscopes * 2 : 256;
        scopes = xcalloc(capscopes, sizeof(*scopes));
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].key)
                *scope_slot(old[i].key) = old[i];
        free(old);
    }
    struct scopeidx *f = scope_slot(scope->addr);
    if (f->key)
        return f;
    size_t cap = 0;
    uint32_t order = 0;
    f->key = scope->addr;
    collect_scope(scope, top, &f->r, &f->n, &cap, &order);
    if (f->n)
        qsort(f->r, f->n, sizeof(*f->r), cmp_scoperange);
    f->maxhi = xmalloc((f->n + 1) * sizeof(*f->maxhi));
    for (size_t i = 0; i < f->n; i++)
        f->maxhi[i] = i && f->maxhi[i - 1] > f->r[i].hi ? f->maxhi[i - 1] : f->r[i].hi;
    nscopes++;
    return f;
}

/* The first child (in DIE order) of the indexed scope holding pc, or NULL. */
static const struct scoperange *scope_find(const struct scopeidx *f, Dwarf_Addr pc)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->r[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct scoperange *best = NULL;
    for (size_t i = lo; i-- > 0 && f->maxhi[i] > pc;)
        if (pc < f->r[i].hi && (!best || f->r[i].order < best->order))
            best = &f->r[i];
    return best;
}

/* The function DIEs of the concrete tree that contain pc (a CU-relative
 * address), outermost first: the out-of-line function, then each inlined
 * call in it (through blocks); a nested function starts the chain again.
 * Returns its length. Walks the DIE tree itself (through scope_index)
 * rather than dwarf_getscopes, which does not look inside namespaces
 * (Rust puts every function in one) and so finds nothing. */
static int cu_function_chain(Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die *chain)
{
    Dwarf_Die cur = *cu;
    int n = 0;
    for (;;) {
        const struct scoperange *e = scope_find(scope_index(&cur, n == 0), pc);
        if (!e)
            return n;
        cur = e->die;
        if (e->tag == DW_TAG_subprogram) {
            chain[0] = cur; /* (a nested function is a frame of its own, not a callee) */
            n = 1;
        } else if (e->tag == DW_TAG_inlined_subroutine && n < MAXCHAIN) {
            chain[n++] = cur;
        }
    }
}

static int cmp_curange(const void *a, const void *b)
{
    const struct curange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The CU holding faddr when libdwfl finds none: elfutils before 0.189
 * looks CUs up through .debug_aranges only, which clang does not emit, so
 * every clang-built file lost its lines. The CUs' own ranges are read once
 * per file and searched. Sets *bias; NULL when no CU holds faddr. */
static Dwarf_Die *cu_at(struct elfobj *o, uint64_t faddr, Dwarf_Addr *bias)
{
    if (!o->cur_built) {
        size_t cap = 0;
        Dwarf_Addr b;
        o->cur_built = 1;
        for (Dwarf_Die *cu = NULL; (cu = dwfl_module_nextcu(o->mod, cu, &b));) {
            Dwarf_Addr base, start, end;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(cu, off, &base, &start, &end)) > 0) {
                if (end <= start || start == 0)
                    continue; /* empty, or a discarded function's */
                GROW(o->cur, cap, o->ncur + 1);
                o->cur[o->ncur].lo = start + b;
                o->cur[o->ncur].hi = end + b;
                o->cur[o->ncur].cu = *cu;
                o->ncur++;
            }
        }
        if (o->ncur)
            qsort(o->cur, o->ncur, sizeof(*o->cur), cmp_curange);
    }
    size_t lo = 0, hi = o->ncur;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->cur[mid].lo <= faddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Ranges of different CUs do not overlap; check the nearest ones. */
    for (size_t i = lo; i-- > 0 && lo - i <= 4;)
        if (faddr < o->cur[i].hi) {
            dwfl_module_getdwarf(o->mod, bias);
            return &o->cur[i].cu;
        }
    return NULL;
}

/* Relative source paths joined with their CU's directory, by (CU
 * directory, path) pointers into libdw's strings; they live until exit. */
struct abspath {
    const char *dir, *file; /* libdw's strings */
    const char *joined;     /* dir/file */
};
static struct abspath *abspaths;
static size_t nabspaths, capabspaths;

/* file with a relative path joined with the CU's DW_AT_comp_dir, as
 * DWARF defines it and addr2line (so Debian's jeprof) prints it: split
 * DWARF's skeleton line tables give "../x.c", Rust's standard library
 * "library/std/src/rt.rs" under comp_dir "/rustc/<hash>". Left as the
 * line table gives it, one function came out under two spellings (its
 * inlined copies named from a table with absolute directories). A path
 * that exists nowhere here is still looked up by suffix for --list
 * (source.h). */
static const char *abs_source(Dwarf_Die *cu, const char *file)
{
    if (!file || file[0] == '/')
        return file;
    Dwarf_Attribute a;
    const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
    if (!dir || dir[0] != '/')
        return file;
    for (size_t i = 0; i < nabspaths; i++)
        if (abspaths[i].dir == dir && abspaths[i].file == file)
            return abspaths[i].joined;
    GROW(abspaths, capabspaths, nabspaths + 1);
    abspaths[nabspaths].dir = dir;
    abspaths[nabspaths].file = file;
    abspaths[nabspaths].joined = xasprintf("%s/%s", dir, file);
    return abspaths[nabspaths++].joined;
}

/* The DIE whose tree holds cu's functions in *tree: cu itself, or for a
 * split-DWARF skeleton (-gsplit-dwarf, DWARF 5 or GNU's DWARF 4 form) the
 * split unit libdw reads from the .dwo file its DW_AT_dwo_name names
 * (beside the binary or in DW_AT_comp_dir). A skeleton has no function
 * DIEs and its line table gives the innermost inlined call's line, so
 * without the split unit the line would be paired with the out-of-line
 * function's name (wrong): returns 0 then, after a warning once per file,
 * and the frame keeps the symbol table's name without a line. */
static int cu_tree(struct elfobj *o, Dwarf_Die *cu, Dwarf_Die *tree)
{
    uint8_t type = 0;
    Dwarf_Die sub;
    if (dwarf_cu_info(cu->cu, NULL, &type, NULL, &sub, NULL, NULL, NULL) != 0 ||
        type != DW_UT_skeleton) {
        *tree = *cu;
        return 1;
    }
    if (sub.addr != NULL && dwarf_tag(&sub) == DW_TAG_compile_unit) {
        *tree = sub;
        return 1;
    }
    if (!o->warned_dwo) {
        Dwarf_Attribute a;
        const char *dwo = dwarf_formstring(dwarf_attr(cu, DW_AT_dwo_name, &a));
        if (!dwo)
            dwo = dwarf_formstring(dwarf_attr(cu, DW_AT_GNU_dwo_name, &a));
        const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
        o->warned_dwo = 1;
        warning("'%s' was built with split DWARF and its unit '%s' (compiled in '%s') cannot be "
                "read: frames there get the symbol table's names, without lines or inlined calls",
                o->path, dwo ? dwo : "?", dir ? dir : "?");
    }
    return 0;
}

/* Inline chain for faddr, innermost first; returns the count (0 = no DWARF). */
static size_t dwarf_frames(struct elfobj *o, uint64_t faddr, struct rawframe *rf)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(o->mod, faddr, &bias);
    int by_ranges = 0;
    size_t n = 0;
    if (!cu) {
        cu = cu_at(o, faddr, &bias);
        by_ranges = cu != NULL;
    }
    /* libdwfl hands an address in a gap between CUs (code without DWARF:
     * _start, crt files, hand-written assembly) to the CU before it; only
     * a CU whose own ranges hold the address may name it: no line is
     * better than a line of an unrelated file. */
    Dwarf_Die tree;
    if (!cu || dwarf_haspc(cu, faddr - bias) <= 0 || !cu_tree(o, cu, &tree))
        return 0;
    const char *file = NULL;
    int line = 0;
    Dwarf_Addr lineaddr = 0;
    if (by_ranges) {
        /* (libdwfl's line lookup goes through the same missing aranges) */
        Dwarf_Line *dl = dwarf_getsrc_die(cu, faddr - bias);
        if (dl && dwarf_lineno(dl, &line) == 0 && dwarf_lineaddr(dl, &lineaddr) == 0) {
            file = dwarf_linesrc(dl, NULL, NULL);
            lineaddr += bias;
        }
    } else {
        Dwfl_Line *ln = dwfl_module_getsrc(o->mod, faddr);
        if (ln)
            file = dwfl_lineinfo(ln, &lineaddr, &line, NULL, NULL, NULL);
    }
    if (!file)
        line = 0;
    /* A row below the file's code is a discarded function's (the linker
     * resolves its addresses to 0): not this address's line. */
    if (file && (lineaddr > faddr || lineaddr < o->text_lo)) {
        file = NULL;
        line = 0;
    }
    Dwarf_Die chain[MAXCHAIN];
    int nc = cu_function_chain(&tree, faddr - bias, chain);
    /* A function DIE at address 0 is a discarded copy (see above). */
    Dwarf_Addr low;
    if (nc > 0 && o->text_lo > 0 && dwarf_lowpc(&chain[0], &low) == 0 && low == 0)
        nc = 0;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    /* Innermost first: the innermost frame has the line table's position,
     * each caller the call site of the inlined call it holds. */
    for (int i = nc - 1; i >= 0 && n < MAXFRAMES; i--) {
        Dwarf_Die *die = &chain[i];
        Dwarf_Addr entry;
        rf[n].name = die_name(die, &rf[n].is_linkage);
        rf[n].file = abs_source(cu, file);
        rf[n].line = line;
        /* A function split into hot and cold parts has DW_AT_ranges and no
         * entry pc: its first range starts at its entry. */
        Dwarf_Addr rbase, rend;
        rf[n].entry = dwarf_tag(die) == DW_TAG_subprogram &&
                              (dwarf_entrypc(die, &entry) == 0 ||
                               dwarf_ranges(die, 0, &rbase, &entry, &rend) > 0)
                          ? (int64_t)(entry + bias)
                          : -1;
        n++;
        Dwarf_Attribute a;
        Dwarf_Word cf = 0, cl = 0;
        file = NULL;
        line = 0;
        if (dwarf_attr(die, DW_AT_call_file, &a) && dwarf_formudata(&a, &cf) == 0) {
            if (!files && dwarf_getsrcfiles(&tree, &files, &nfiles) != 0)
                files = NULL;
            if (files && cf < nfiles)
                file = dwarf_filesrc(files, cf, NULL, NULL);
        }
        if (dwarf_attr(die, DW_AT_call_line, &a) && dwarf_formudata(&a, &cl) == 0)
            line = (int)cl;
    }
    if (n == 0 && file) {
        rf[0].name = NULL;
        rf[0].file = abs_source(cu, file);
        rf[0].line = line;
        n = 1;
    }
    return n;
}

/* Demangled and display names by the address of the name (ELF and DWARF
 * strings, qnames): a function's name is met at each of its addresses, and
 * demangling is the costly part of naming one. Emptied by dm_clear at the
 * end of symbolize_profile, before the strings go. */
struct dmname {
    const char *key; /* the name, NULL = empty slot */
    char *full;      /* demangle(key) */
    char *shrt;      /* short_function_name(full) */
};
static struct dmname *dms; /* open addressing, size a power of two */
static size_t ndms, capdms;

static struct dmname *dm_slot(const char *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 20) & (capdms - 1);
    while (dms[i].key && dms[i].key != key)
        i = (i + 1) & (capdms - 1);
    return &dms[i];
}

static const struct dmname *dm_get(const char *name)
{
    if ((ndms + 1) * 2 > capdms) {
        struct dmname *old = dms;
        size_t oldcap = capdms;
        capdms = capdms ? capdms * 2 : 256;
        dms = xcalloc(capdms, sizeof(*dms));
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].key)
                *dm_slot(old[i].key) = old[i];
        free(old);
    }
    struct dmname *d = dm_slot(name);
    if (!d->key) {
        d->key = name;
        d->full = demangle(name);
        d->shrt = short_function_name(d->full);
        ndms++;
    }
    return d;
}

static void dm_clear(void)
{
    for (size_t i = 0; i < capdms; i++)
        if (dms[i].key) {
            free(dms[i].full);
            free(dms[i].shrt);
        }
    free(dms);
    dms = NULL;
    ndms = capdms = 0;
}

/* The symbol-table view of one address (jeprof's nm). */
struct symname {
    const struct esym *sym; /* NULL: none */
    int own_symtab;         /* the file has its own .symtab (addr2line's view) */
    const char *full;       /* demangled name (dm_get's) */
    const char *shrt;       /* short_function_name(full) */
};

/* nm-style symbol for faddr; with exported symbols only (no .symtab), one
 * is trusted only within its size. */
static void lookup_symbol(const struct elfobj *o, uint64_t faddr, struct symname *sn)
{
    memset(sn, 0, sizeof(*sn));
    sn->sym = find_sym(o, faddr);
    if (sn->sym && !o->full_symtab) {
        GElf_Sym s;
        GElf_Off off;
        const char *nm = dwfl_module_addrinfo(o->mod, faddr, &off, &s, NULL, NULL, NULL);
        if (!nm || strcmp(nm, sn->sym->name) != 0)
            sn->sym = NULL;
    }
    sn->own_symtab = o->own_symtab;
    if (sn->sym) {
        const struct dmname *d = dm_get(sn->sym->name);
        sn->full = d->full;
        sn->shrt = d->shrt;
    }
}

/* Names one frame: jeprof takes the nm name when it starts with
 * addr2line's (DWARF) name, or when DWARF has none. Leaves name 0 when
 * neither knows the function. */
static void name_frame(struct profile *p, struct pframe *f, const struct rawframe *rf,
                       const struct symname *sn)
{
    const char *shrt = NULL;
    int by_sym = 0;
    /* Like addr2line (binutils' dwarf2.c): a function whose DWARF has no
     * linkage name is named by the symbol at its entry when the file has a
     * .symtab of its own, which keeps namespaces and "[clone .constprop.0]";
     * the symbol is then its full name too (the DWARF one may lack its
     * scopes: clang -gline-tables-only), which the plumbing patterns read. */
    if (rf && rf->name && !rf->is_linkage && sn->sym && sn->own_symtab && rf->entry >= 0 &&
        sn->sym->addr == (uint64_t)rf->entry) {
        shrt = sn->shrt;
        by_sym = 1;
    } else if (rf && rf->name) {
        shrt = dm_get(rf->name)->shrt;
    }
    memset(f, 0, sizeof(*f));
    if (sn->shrt && (by_sym || !shrt || strncmp(sn->full, shrt, strlen(shrt)) == 0)) {
        f->name = strtab_intern(&p->strings, sn->shrt);
        f->sysname = strtab_intern(&p->strings, sn->sym->name);
        f->tagged = 1;
        f->symaddr = sn->sym->addr;
    } else if (shrt) {
        f->name = strtab_intern(&p->strings, shrt);
        f->sysname = strtab_intern(&p->strings, rf->name);
    }
    if (rf) {
        f->file = rf->file ? strtab_intern(&p->strings, rf->file) : 0;
        f->line = rf->line;
    }
}

/* "module+0xoffset" (file address) or "0xaddr" for an unknown function. */
static uint32_t unresolved_name(struct profile *p, const struct ploc *l, const struct elfobj *o,
                                uint64_t faddr)
{
    char *u;
    if (l->map >= 0 && *pstr(p, p->maps[l->map].path)) {
        const struct pmap *m = &p->maps[l->map];
        u = xasprintf("%s+0x%" PRIx64, basename_of(pstr(p, m->path)),
                      o ? faddr : l->addr - m->start + m->offset);
    } else {
        u = xasprintf("0x%" PRIx64, l->addr);
    }
    uint32_t id = strtab_intern(&p->strings, u);
    free(u);
    return id;
}

/* Symbolizes one location into frames, innermost first. */
static void symbolize_loc(struct symctx *c, uint32_t li)
{
    struct profile *p = c->p;
    const struct ploc *l = &p->locs[li];
    struct pframe fr[MAXFRAMES];
    struct rawframe rf[MAXFRAMES];
    struct elfobj *o = l->map >= 0 ? c->mapobj[l->map] : NULL;
    struct symname sn = {0};
    size_t n = 0;
    uint64_t faddr = 0;

    if (o) {
        faddr = l->addr - c->mapbias[l->map];
        lookup_symbol(o, faddr, &sn);
        n = dwarf_frames(o, faddr, rf);
        if (n > 1 && !o->has_fini)
            n = 1; /* jeprof's addr2line without -i: innermost only */
    }
    for (size_t i = 0; i < n; i++)
        name_frame(p, &fr[i], &rf[i], &sn);
    if (n == 0) {
        name_frame(p, &fr[0], NULL, &sn);
        n = 1;
    }
    /* Nothing named here: the frames the input carried, if any. */
    int named = 0;
    for (size_t i = 0; i < n; i++)
        named |= fr[i].name != 0;
    if (!named && l->nfb) {
        size_t k = l->nfb < MAXFRAMES ? l->nfb : MAXFRAMES;
        memcpy(fr, p->frames + l->fb0, k * sizeof(*fr));
        profile_set_frames(p, li, fr, k);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!fr[i].name) {
            fr[i].name = unresolved_name(p, l, o, faddr);
            fr[i].unnamed = 1;
        }
    profile_set_frames(p, li, fr, n);
}

/* jeprof's FillFullnameToShortnameMap: a short name used by two different
 * symbols becomes name@address for both. */
static void disambiguate(struct profile *p)
{
    size_t ns = p->strings.n;
    uint64_t *first = xcalloc(ns, sizeof(uint64_t));
    uint8_t *state = xcalloc(ns, 1); /* 0 unseen, 1 once, 2 ambiguous */
    for (size_t i = 0; i < p->nlocs; i++) {
        const struct ploc *l = &p->locs[i];
        if (!l->nframes)
            continue;
        const struct pframe *f = &p->frames[l->frame0 + l->nframes - 1];
        if (!f->tagged)
            continue;
        if (state[f->name] == 0) {
            state[f->name] = 1;
            first[f->name] = f->symaddr;
        } else if (first[f->name] != f->symaddr) {
            state[f->name] = 2;
        }
    }
    for (size_t i = 0; i < p->nframes; i++) {
        struct pframe *f = &p->frames[i];
        if (f->tagged && f->name < ns && state[f->name] == 2) {
            char *u = xasprintf("%s@%" PRIx64, pstr(p, f->name), f->symaddr);
            f->name = strtab_intern(&p->strings, u);
            free(u);
        }
    }
    free(first);
    free(state);
}

/* Closing the files (libdw's trees, the inflated copies) takes a few ms
 * the reports need not wait for: a thread does it, joined at exit. */
static struct {
    pthread_t thread;
    int running;
    pid_t pid; /* the process that started it (a forked child has no thread to join) */
    struct elfobj **objs;
    size_t n;
} reaper;

static void *reaper_main(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < reaper.n; i++)
        elfobj_free(reaper.objs[i]);
    free(reaper.objs);
    return NULL;
}

static void reaper_join(void)
{
    if (reaper.running && reaper.pid == getpid())
        pthread_join(reaper.thread, NULL);
    reaper.running = 0;
}

void symbolize_wait(void)
{
    reaper_join();
}

/* Frees every opened file (on the reaper thread when it can start) and
 * empties the cache. */
static void release_objs(void)
{
    static int registered;
    reaper_join();
    reaper.objs = objs;
    reaper.n = nobjs;
    objs = NULL;
    nobjs = capobjs = 0;
    if (!registered)
        registered = atexit(reaper_join) == 0;
    reaper.pid = getpid();
    if (!registered || pthread_create(&reaper.thread, NULL, reaper_main, NULL) != 0)
        reaper_main(NULL);
    else
        reaper.running = 1;
}

/* Process-wide setup of libelf and of the debug-file search path. */
static void sym_init(void)
{
    /* Where separate debug files are looked for: beside the file, in its
     * .debug/, and under /usr/lib/debug (by build id and by debuglink);
     * JEPROF_C_DEBUGINFO_PATH replaces the list (libdwfl's syntax). */
    if (!debuginfo_path) {
        const char *env = getenv("JEPROF_C_DEBUGINFO_PATH");
        debuginfo_path = xstrdup(env && *env ? env : "-:.debug:/usr/lib/debug");
    }
    elf_version(EV_CURRENT);
}

/* The prefetch thread's work list: files of mappings that hold addresses
 * of the profile, in the order the reader met them. */
struct prefetch_item {
    char *path;     /* the mapping's path */
    char *build_id; /* the dump's build id for it, "" unknown */
    int deleted;    /* the maps line said " (deleted)" */
};
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running; /* the thread was started and not joined yet */
    int closing; /* no more items: the thread ends when the list is empty */
    char *program;
    struct prefetch_item *items;
    size_t nitems, capitems, next;
} pf = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Opens the file that choose_file will most likely pick for the mapping
 * (the program when its build id or basename matches, else the file at
 * the mapping's path) and loads its DWARF, unless the dump already says
 * it is not the code that ran (then choose_file decides, later). */
static void prefetch_one(const struct prefetch_item *it)
{
    struct elfobj *prog = pf.program ? elfobj_get(pf.program) : NULL, *o;
    if (prog && prog->path &&
        ((*it->build_id && strcmp(it->build_id, prog->build_id) == 0) ||
         strcmp(basename_of(it->path), basename_of(pf.program)) == 0))
        o = prog;
    else
        o = elfobj_get(it->path);
    if (!o->path || it->deleted || (*it->build_id && strcmp(it->build_id, o->build_id) != 0))
        return;
    Dwarf_Addr bias;
    dwfl_module_getdwarf(o->mod, &bias);
}

static void *prefetch_main(void *arg)
{
    (void)arg;
    if (pf.program)
        elfobj_get(pf.program);
    pthread_mutex_lock(&pf.mu);
    for (;;) {
        while (pf.next == pf.nitems && !pf.closing)
            pthread_cond_wait(&pf.cv, &pf.mu);
        if (pf.next == pf.nitems)
            break;
        struct prefetch_item it = pf.items[pf.next++];
        pthread_mutex_unlock(&pf.mu);
        prefetch_one(&it);
        pthread_mutex_lock(&pf.mu);
    }
    pthread_mutex_unlock(&pf.mu);
    return NULL;
}

void symbolize_prefetch_start(const char *program)
{
    if (pf.running)
        return;
    sym_init();
    pf.program = program ? xstrdup(program) : NULL;
    pf.closing = 0;
    pf.running = pthread_create(&pf.thread, NULL, prefetch_main, NULL) == 0;
}

void symbolize_prefetch_file(const char *path, const char *build_id, int deleted)
{
    if (!pf.running || !path || !*path || path[0] == '[')
        return;
    pthread_mutex_lock(&pf.mu);
    int dup = 0;
    for (size_t i = 0; i < pf.nitems && !dup; i++)
        dup = strcmp(pf.items[i].path, path) == 0 &&
              strcmp(pf.items[i].build_id, build_id ? build_id : "") == 0;
    if (!dup) {
        GROW(pf.items, pf.capitems, pf.nitems + 1);
        pf.items[pf.nitems].path = xstrdup(path);
        pf.items[pf.nitems].build_id = xstrdup(build_id ? build_id : "");
        pf.items[pf.nitems].deleted = deleted;
        pf.nitems++;
        pthread_cond_signal(&pf.cv);
    }
    pthread_mutex_unlock(&pf.mu);
}

void symbolize_prefetch_end(void)
{
    if (pf.running) {
        pthread_mutex_lock(&pf.mu);
        pf.closing = 1;
        pthread_cond_signal(&pf.cv);
        pthread_mutex_unlock(&pf.mu);
        pthread_join(pf.thread, NULL);
        pf.running = 0;
    }
    for (size_t i = 0; i < pf.nitems; i++) {
        free(pf.items[i].path);
        free(pf.items[i].build_id);
    }
    free(pf.items);
    free(pf.program);
    pf.items = NULL;
    pf.program = NULL;
    pf.nitems = pf.capitems = pf.next = 0;
}

int symbolize_profile(struct profile *p, const struct sym_options *o)
{
    struct symctx c = {.p = p, .o = o};
    symbolize_prefetch_end(); /* its files are in the cache now */
    sym_init();
    if (o->program) {
        if (access(o->program, R_OK) != 0)
            return error("cannot open program '%s': %s", o->program, strerror(errno)), ENOENT;
        c.prog = elfobj_get(o->program);
        if (!c.prog->path)
            return error("'%s' is not an ELF file", o->program), EINVAL;
    }
    attach_files(&c);
    double t0 = now_seconds(), last = t0;
    size_t todo = 0, done = 0, unmapped = 0;
    for (size_t i = 0; i < p->nlocs; i++) {
        todo += !p->locs[i].done;
        unmapped += !p->locs[i].done && p->locs[i].map < 0;
    }
    /* Code that the dump's mappings do not cover was unmapped before the
     * dump (a library dlclose'd, JIT code): its frames can only be raw
     * addresses, and the user should know why. */
    if (unmapped && !p->nmaps)
        warning("the profile lists no mappings (an empty or unreadable maps section): its %zu "
                "address%s are shown raw",
                unmapped, unmapped == 1 ? "" : "es");
    else if (unmapped)
        warning("%zu address%s of the profile lie%s in no mapping the dump lists (code "
                "unloaded before the dump, such as a dlclose'd library?): shown as raw addresses",
                unmapped, unmapped == 1 ? "" : "es", unmapped == 1 ? "s" : "");
    for (size_t i = 0; i < p->nlocs; i++) {
        if (p->locs[i].done)
            continue;
        symbolize_loc(&c, (uint32_t)i);
        if ((++done & 63) == 0 && !o->quiet) {
            double t = now_seconds();
            if (t - last >= 1.0) {
                fprintf(stderr, "symbolizing: %zu/%zu addresses\n", done, todo);
                last = t;
            }
        }
    }
    if (!o->quiet && now_seconds() - t0 >= 1.0)
        fprintf(stderr, "symbolizing: %zu/%zu addresses, done\n", done, todo);
    disambiguate(p);
    dm_clear();
    release_objs();
    free(c.mapobj);
    free(c.mapbias);
    return 0;
}
