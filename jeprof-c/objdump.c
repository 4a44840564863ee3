/* objdump: see objdump.h. */
#include "objdump.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize.h"

#include "demangle.h"
#include "xalloc.h"
#include "message.h"

/* A function symbol. */
struct fsym {
    uint64_t start, end; /* file addresses */
    const char *name;    /* in the ELF string table (valid while elf is open) */
};

/* One opened ELF file. */
struct elffile {
    char *path;
    int fd;
    Elf *elf;         /* NULL when the file could not be read as ELF */
    GElf_Phdr *loads; /* PT_LOAD headers */
    size_t nloads;
    struct fsym *funcs; /* sorted by start */
    size_t nfuncs;
};

struct od_priv {
    struct elffile *files;
    size_t nfiles, capfiles;
    int32_t *locfile;   /* per location: index into files, -1 = none */
    uint64_t *locaddr;  /* per location: file address */
    double *flat, *cum; /* per location, after trimming and focus */
    size_t nlocs;
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int cmp_fsym(const void *x, const void *y)
{
    const struct fsym *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

static void load_funcs(struct elffile *f)
{
    Elf_Scn *scn = NULL, *dyn = NULL, *use = NULL;
    GElf_Shdr sh, ush;
    while ((scn = elf_nextscn(f->elf, scn))) {
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB)
            use = scn;
        else if (sh.sh_type == SHT_DYNSYM)
            dyn = scn;
    }
    if (!use)
        use = dyn;
    if (!use || !gelf_getshdr(use, &ush) || ush.sh_entsize == 0)
        return;
    Elf_Data *d = elf_getdata(use, NULL);
    if (!d)
        return;
    size_t n = ush.sh_size / ush.sh_entsize, cap = 0;
    for (size_t i = 0; i < n; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym))
            continue;
        int t = GELF_ST_TYPE(sym.st_info);
        if ((t != STT_FUNC && t != STT_GNU_IFUNC) || sym.st_size == 0 || sym.st_shndx == SHN_UNDEF)
            continue;
        const char *name = elf_strptr(f->elf, ush.sh_link, sym.st_name);
        GROW(f->funcs, cap, f->nfuncs + 1);
        f->funcs[f->nfuncs++] =
            (struct fsym){sym.st_value, sym.st_value + sym.st_size, name ? name : "?"};
    }
    if (f->nfuncs)
        qsort(f->funcs, f->nfuncs, sizeof(*f->funcs), cmp_fsym);
}

/* Index of the (possibly unreadable) ELF file for path, opened once. */
static int32_t open_file(struct od_priv *v, const char *path)
{
    for (size_t i = 0; i < v->nfiles; i++)
        if (strcmp(v->files[i].path, path) == 0)
            return (int32_t)i;
    GROW(v->files, v->capfiles, v->nfiles + 1);
    struct elffile *f = &v->files[v->nfiles];
    memset(f, 0, sizeof(*f));
    f->path = xstrdup(path);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd >= 0) {
        f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
        if (f->elf && elf_kind(f->elf) != ELF_K_ELF) {
            elf_end(f->elf);
            f->elf = NULL;
        }
    }
    if (f->elf) {
        size_t nph = 0;
        if (elf_getphdrnum(f->elf, &nph) == 0) {
            f->loads = xcalloc(nph + 1, sizeof(*f->loads));
            for (size_t i = 0; i < nph; i++) {
                GElf_Phdr ph;
                if (gelf_getphdr(f->elf, (int)i, &ph) && ph.p_type == PT_LOAD)
                    f->loads[f->nloads++] = ph;
            }
        }
        load_funcs(f);
    }
    return (int32_t)v->nfiles++;
}

/* The ELF file serving mapping m (see objdump.h). */
static int32_t map_file(struct od_priv *v, const struct profile *p, size_t mi, const char *program)
{
    const struct pmap *m = &p->maps[mi];
    const char *path = m->path ? pstr(p, m->path) : "";
    /* The symbolizer's choice when it weighed the mapping: never the code
     * of a file rebuilt or replaced since the dump (its lines would be
     * borrowed). */
    if (m->code_path)
        return open_file(v, pstr(p, m->code_path));
    if (m->no_code)
        return -1;
    if (program && *path && strcmp(base_name(program), base_name(path)) == 0)
        return open_file(v, program);
    int32_t fi = *path ? open_file(v, path) : -1;
    if (fi >= 0 && v->files[fi].elf)
        return fi;
    if (program) {
        size_t first = 0;
        while (first < p->nmaps && p->maps[first].path &&
               strstr(pstr(p, p->maps[first].path), ".so"))
            first++;
        if (first == mi)
            return open_file(v, program);
    }
    return fi;
}

static const struct fsym *find_func(const struct elffile *f, uint64_t a)
{
    size_t lo = 0, hi = f->nfuncs;
    while (lo < hi) { /* last function starting at or before a */
        size_t mid = (lo + hi) / 2;
        if (f->funcs[mid].start <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Symbols may nest (aliases, local labels with a size): look back a little. */
    for (size_t i = lo, steps = 0; i-- > 0 && steps < 16; steps++)
        if (a < f->funcs[i].end)
            return &f->funcs[i];
    return NULL;
}

static int cmp_routine(const void *x, const void *y)
{
    const struct od_routine *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    c = strcmp(a->path, b->path);
    return c ? c : (a->start < b->start ? -1 : a->start > b->start);
}

int od_collect(struct od_set *s, const struct analysis *a, const struct report_options *o)
{
    const struct profile *p = a->p;
    memset(s, 0, sizeof(*s));
    struct od_priv *v = xcalloc(1, sizeof(*v));
    s->priv = v;
    symbolize_wait(); /* no libelf work of the symbolizer's left running */
    elf_version(EV_CURRENT);
    v->nlocs = p->nlocs;
    v->locfile = xmalloc((p->nlocs + 1) * sizeof(int32_t));
    v->locaddr = xcalloc(p->nlocs + 1, sizeof(uint64_t));
    v->flat = xcalloc(p->nlocs + 1, sizeof(double));
    v->cum = xcalloc(p->nlocs + 1, sizeof(double));
    int32_t *mapfile = xmalloc((p->nmaps + 1) * sizeof(int32_t));
    for (size_t i = 0; i < p->nmaps; i++)
        mapfile[i] = -2; /* not resolved yet */
    /* Per-address flat and cum: each address once per stack. */
    uint32_t *mark = xcalloc(p->nlocs + 1, sizeof(uint32_t));
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        for (uint32_t j = 0; j < t->depth; j++) {
            uint32_t li = a->pool[t->off + j];
            if (j == 0)
                v->flat[li] += t->v;
            if (mark[li] != i + 1) {
                mark[li] = (uint32_t)i + 1;
                v->cum[li] += t->v;
            }
        }
    }
    free(mark);
    for (size_t i = 0; i < a->nodes.n; i++)
        s->total += a->flat[i];
    size_t capr = 0;
    for (size_t li = 0; li < p->nlocs; li++) {
        v->locfile[li] = -1;
        const struct ploc *l = &p->locs[li];
        if ((v->cum[li] == 0 && v->flat[li] == 0) || l->map < 0 || l->nframes == 0)
            continue;
        if (mapfile[l->map] == -2)
            mapfile[l->map] = map_file(v, p, (size_t)l->map, o->program);
        int32_t fi = mapfile[l->map];
        if (fi < 0 || !v->files[fi].elf) {
            const char *nm = pstr(p, p->frames[l->frame0 + l->nframes - 1].name);
            s->nocode += o->re && regexec(o->re, nm, 0, NULL, 0) == 0;
            continue;
        }
        const struct elffile *f = &v->files[fi];
        const struct pmap *m = &p->maps[l->map];
        uint64_t off = l->addr - m->start + m->offset, fa = 0;
        int found = 0;
        for (size_t k = 0; k < f->nloads && !found; k++)
            if (off >= f->loads[k].p_offset && off < f->loads[k].p_offset + f->loads[k].p_filesz) {
                fa = off - f->loads[k].p_offset + f->loads[k].p_vaddr;
                found = 1;
            }
        if (!found)
            continue;
        v->locfile[li] = fi;
        v->locaddr[li] = fa;
        const struct fsym *fn = find_func(f, fa);
        if (!fn)
            continue;
        const char *name = pstr(p, p->frames[l->frame0 + l->nframes - 1].name);
        if (o->re && regexec(o->re, name, 0, NULL, 0) != 0 &&
            regexec(o->re, fn->name, 0, NULL, 0) != 0) {
            /* jeprof matches nm -C's full names: "ns::Pool<int>::add(int)". */
            char *full = demangle(fn->name);
            int hit = regexec(o->re, full, 0, NULL, 0) == 0;
            free(full);
            if (!hit)
                continue;
        }
        size_t r;
        for (r = 0; r < s->nr; r++)
            if (s->r[r].path == f->path && s->r[r].start == fn->start)
                break;
        if (r == s->nr) {
            GROW(s->r, capr, s->nr + 1);
            s->r[s->nr++] = (struct od_routine){f->path, fn->name, name, fn->start, fn->end, 0, 0};
        }
        s->r[r].flat += v->flat[li];
        s->r[r].cum += v->cum[li];
    }
    free(mapfile);
    if (s->nr)
        qsort(s->r, s->nr, sizeof(*s->r), cmp_routine);
    return 0;
}

/* Runs objdump on [start, end) of path; returns its output (NUL-terminated)
 * or NULL after printing "error: ...". */
static char *run_objdump(const char *path, uint64_t start, uint64_t end)
{
    const char *tool = getenv("JEPROF_OBJDUMP");
    if (!tool || !*tool)
        tool = "objdump";
    char sa[40], ea[40];
    snprintf(sa, sizeof(sa), "--start-address=0x%" PRIx64, start);
    snprintf(ea, sizeof(ea), "--stop-address=0x%" PRIx64, end);
    int fds[2];
    if (pipe(fds) != 0) {
        error("pipe: %s", strerror(errno));
        return NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        error("fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp(tool, tool, "-d", "-l", "--inlines", "-C", "--no-show-raw-insn", sa, ea, path,
               (char *)NULL);
        fprintf(stderr, "error: cannot run '%s': %s (install binutils)\n", tool, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        GROW(buf, cap, len + 65536);
        ssize_t r = read(fds[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = 0;
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 127)
            error("'%s' failed on '%s'", tool, path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* jeprof's CleanDisassembly: drops argument lists (not "(%rax)") and
 * template arguments from symbol names in the disassembly. */
static void clean_disassembly(char *d)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (char *c = strchr(d, ')'); c; c = strchr(c + 1, ')')) {
            char *o = c;
            while (o > d && o[-1] != '(' && o[-1] != ')' && o[-1] != '%')
                o--;
            if (o == d || o[-1] != '(')
                continue;
            char *after = c + 1;
            if (strncmp(after, " const", 6) == 0)
                after += 6;
            memmove(o - 1, after, strlen(after) + 1);
            changed = 1;
            break;
        }
        for (char *c = strchr(d, '>'); c && !changed; c = strchr(c + 1, '>')) {
            char *o = c;
            while (o > d && o[-1] != '<' && o[-1] != '>')
                o--;
            if (o - 1 <= d || o[-1] != '<')
                continue;
            char w = o[-2];
            if (!(w == '_' || (w >= '0' && w <= '9') || (w >= 'a' && w <= 'z') ||
                  (w >= 'A' && w <= 'Z')))
                continue;
            memmove(o - 1, c + 1, strlen(c + 1) + 1);
            changed = 1;
        }
    }
}

/* "FILE:LINE" (optionally followed by " (discriminator N)" or more):
 * splits at the last ':' followed by digits. */
static int parse_fileline(const char *s, size_t n, char **file, int *line)
{
    const char *sp = memchr(s, ' ', n);
    size_t m = sp ? (size_t)(sp - s) : n;
    const char *c = NULL;
    for (size_t i = m; i-- > 0;)
        if (s[i] == ':') {
            c = s + i;
            break;
        }
    if (!c || c == s || c + 1 >= s + m)
        return 0;
    for (const char *d = c + 1; d < s + m; d++)
        if (*d < '0' || *d > '9')
            return 0;
    *file = xstrndup(s, (size_t)(c - s));
    *line = atoi(c + 1);
    return 1;
}

int od_disassemble(struct od_set *s, const struct od_routine *r, struct od_insn **insn, size_t *n)
{
    struct od_priv *v = s->priv;
    *insn = NULL;
    *n = 0;
    char *outp = run_objdump(r->path, r->start, r->end);
    if (!outp)
        return EIO;
    size_t cap = 0;
    char *file = NULL, *top = NULL;
    int line = -1, topline = -1;
    for (char *ln = outp; *ln;) {
        char *nl = strchr(ln, '\n');
        size_t len = nl ? (size_t)(nl - ln) : strlen(ln);
        if (nl)
            *nl = 0;
        char *tab = strchr(ln, '\t');
        if (ln[0] == ' ' && tab && tab[-1] == ':') {
            /* "    12a4:\tcall   1070 <malloc@plt>" */
            uint64_t a = strtoull(ln, NULL, 16);
            if (*n)
                (*insn)[*n - 1].end = a;
            GROW(*insn, cap, *n + 1);
            struct od_insn *e = &(*insn)[(*n)++];
            memset(e, 0, sizeof(*e));
            e->addr = a;
            e->end = r->end;
            char *t = tab + 1;
            while (*t == ' ' || *t == '\t')
                t++;
            e->text = xstrdup(t);
            clean_disassembly(e->text);
            e->file = file ? xstrdup(file) : NULL;
            e->line = line;
            e->top_file = top ? xstrdup(top) : NULL;
            e->top_line = topline;
        } else if (strncmp(ln, "inlined by ", 11) == 0) {
            char *f;
            int l;
            if (parse_fileline(ln + 11, len - 11, &f, &l)) {
                free(top);
                top = f;
                topline = l;
            }
        } else if (ln[0] != ' ' && ln[0] != 0) {
            char *f;
            int l;
            if (parse_fileline(ln, len, &f, &l)) {
                free(file);
                free(top);
                file = f;
                line = l;
                top = xstrdup(f);
                topline = l;
            }
        }
        ln = nl ? nl + 1 : ln + len;
    }
    free(file);
    free(top);
    free(outp);
    /* Values of the sampled addresses inside each instruction. */
    int32_t fi = -1;
    for (size_t i = 0; i < v->nfiles; i++)
        if (v->files[i].path == r->path)
            fi = (int32_t)i;
    for (size_t li = 0; li < v->nlocs; li++) {
        if (v->locfile[li] != fi || v->locaddr[li] < r->start || v->locaddr[li] >= r->end)
            continue;
        for (size_t i = 0; i < *n; i++)
            if (v->locaddr[li] >= (*insn)[i].addr && v->locaddr[li] < (*insn)[i].end) {
                (*insn)[i].flat += v->flat[li];
                (*insn)[i].cum += v->cum[li];
                break;
            }
    }
    return 0;
}

void od_insn_free(struct od_insn *insn, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(insn[i].text);
        free(insn[i].file);
        free(insn[i].top_file);
    }
    free(insn);
}

void od_free(struct od_set *s)
{
    struct od_priv *v = s->priv;
    if (v) {
        for (size_t i = 0; i < v->nfiles; i++) {
            free(v->files[i].path);
            free(v->files[i].loads);
            free(v->files[i].funcs);
            if (v->files[i].elf)
                elf_end(v->files[i].elf);
            if (v->files[i].fd >= 0)
                close(v->files[i].fd);
        }
        free(v->files);
        free(v->locfile);
        free(v->locaddr);
        free(v->flat);
        free(v->cum);
        free(v);
    }
    free(s->r);
    memset(s, 0, sizeof(*s));
}

void od_unparse_alt(char *buf, size_t n, double v, const struct report_options *o)
{
    if (v == 0)
        snprintf(buf, n, ".");
    else
        report_unparse(buf, n, v, o);
}
