/* main: jeprof-c [options] [program] profile...  and  jeprof-c record ...
 * Parses the option table, reads and sums the profiles (subtracting
 * --base), symbolizes, analyses and hands off to one report. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze.h"
#include "demangle.h"
#include "dump.h"
#include "options.h"
#include "plumbing.h"
#include "read.h"
#include "record.h"
#include "report.h"
#include "symbolize.h"
#include "message.h"
#include "xalloc.h"
#include "filebuf.h"
#include "growth.h"

enum mode {
    M_NONE,
    M_TEXT,
    M_COLLAPSED,
    M_JSON,
    M_DOT,
    M_SVG,
    M_PDF,
    M_TRACES,
    M_TREE,
    M_CALLGRIND,
    M_RAW,
    M_LIST,   /* set from --list=RE */
    M_DISASM, /* set from --disasm=RE */
    M_PEEK,   /* set from --peek=RE */
    M_HTML,   /* --growth --html */
    M_TEMPORARY, /* --temporary: short-lived allocations of a recent-ring dump */
};

/* jeprof's version line names the jemalloc it ships with; ours names the
 * jemalloc release whose formats and flags it follows. */
#define JEPROF_C_FOLLOWS "jemalloc 5.3.0"
/* The project's release, from the VERSION file (jeprof-c.mk). */
#ifndef ALLOC_RELEASE
#error "ALLOC_RELEASE must be defined (jeprof-c.mk passes the VERSION file)"
#endif

/* Everything the command line sets. */
struct cli {
    int mode;  /* one enum mode */
    int value; /* PV_* */
    int gran;  /* enum granularity */
    int show_bytes, cum, quiet, help, version;
    int keep_plumbing; /* keep allocator plumbing frames on top of stacks */
    int full_names;    /* full demangled names (parameters, templates) */
    int nodecount; /* -1 = default */
    int thread;    /* -1 = all */
    double nodefraction, edgefraction;
    const char *focus, *ignore, *base, *flamegraph, *pprof, *maps;
    const char *list, *disasm, *peek; /* the RE of --list, --disasm, --peek */
    int growth;         /* --growth: rank sites by growth over the dumps */
    const char *output; /* --output: the growth report's file instead of stdout */
    const char *max_lifetime;         /* --temporary's threshold, as typed */
    double max_life_ns;               /* the same in ns (1 ms by default, see report_temporary.c) */
};

static struct cli cli = {.value = PV_INUSE_SPACE,
                         .nodecount = -1,
                         .thread = -1,
                         .nodefraction = 0.005,
                         .edgefraction = 0.001,
                         .max_life_ns = 1e6};

static const char usage_line[] =
    "usage: jeprof-c [options] [program] profile...\n"
    "   or: jeprof-c --growth [--svg|--html|--json] [--output=FILE] [program] dump...\n"
    "   or: jeprof-c record [-o DIR] [--lg-sample=N] [--sum] -- command [args...]\n"
    "   or: jeprof-c dump [--timeout=S] [--signal=SIG] [--prefix=P] PID   (dump a running process's heap now)";

/* clang-format off */
static const struct option options[] = {
    {OPT_GROUP, "Output (one of):", NULL, 0, NULL, NULL},
    {OPT_ONE_OF, "text", &cli.mode, M_TEXT, NULL, "jeprof's text report (the default)"},
    {OPT_ONE_OF, "collapsed", &cli.mode, M_COLLAPSED, NULL, "folded stacks: root;...;leaf count (--base: old new)"},
    {OPT_ONE_OF, "json", &cli.mode, M_JSON, NULL, "the report as JSON, for machines (also --growth)"},
    {OPT_ONE_OF, "dot", &cli.mode, M_DOT, NULL, "call graph as Graphviz dot text"},
    {OPT_ONE_OF, "svg", &cli.mode, M_SVG, NULL, "call graph as SVG (runs Graphviz); --growth: the chart"},
    {OPT_ONE_OF, "pdf", &cli.mode, M_PDF, NULL, "call graph as PDF (runs Graphviz)"},
    {OPT_ONE_OF, "traces", &cli.mode, M_TRACES, NULL, "every stack with its value (pprof -traces)"},
    {OPT_ONE_OF, "tree", &cli.mode, M_TREE, NULL, "callers and callees of each function (pprof -tree)"},
    {OPT_STRING, "peek", &cli.peek, 0, "RE", "--tree for the functions matching RE only"},
    {OPT_STRING, "list", &cli.list, 0, "RE", "source lines of functions matching RE, annotated"},
    {OPT_STRING, "disasm", &cli.disasm, 0, "RE", "instructions of functions matching RE (objdump)"},
    {OPT_ONE_OF, "callgrind", &cli.mode, M_CALLGRIND, NULL, "callgrind format (KCachegrind, callgrind_annotate)"},
    {OPT_ONE_OF, "raw", &cli.mode, M_RAW, NULL, "the profile with its symbols, readable without the program"},
    {OPT_STRING, "flamegraph", &cli.flamegraph, 0, "FILE", "also write an interactive SVG flame graph (--base: differential)"},
    {OPT_STRING, "pprof", &cli.pprof, 0, "FILE", "also write symbolized gzip'd pprof"},
    {OPT_SET_INT, "growth", &cli.growth, 1, NULL, "rank sites by steady growth over a series of dumps (time-ordered)"},
    {OPT_ONE_OF, "html", &cli.mode, M_HTML, NULL, "--growth: the chart as a self-contained HTML page"},
    {OPT_STRING, "output", &cli.output, 0, "FILE", "--growth: write the table or chart to FILE, not stdout"},
    {OPT_GROUP, "Values:", NULL, 0, NULL, NULL},
    {OPT_ONE_OF, "inuse_space", &cli.value, PV_INUSE_SPACE, NULL, "live bytes (the default)"},
    {OPT_ONE_OF, "inuse_objects", &cli.value, PV_INUSE_OBJECTS, NULL, "live objects"},
    {OPT_ONE_OF, "alloc_space", &cli.value, PV_ALLOC_SPACE, NULL, "bytes ever allocated"},
    {OPT_ONE_OF, "alloc_objects", &cli.value, PV_ALLOC_OBJECTS, NULL, "objects ever allocated"},
    {OPT_SET_INT, "show_bytes", &cli.show_bytes, 1, NULL, "bytes instead of MB"},
    {OPT_GROUP, "Granularity:", NULL, 0, NULL, NULL},
    {OPT_ONE_OF, "functions", &cli.gran, GRAN_FUNCTIONS, NULL, "by function (the default)"},
    {OPT_ONE_OF, "lines", &cli.gran, GRAN_LINES, NULL, "by source line"},
    {OPT_ONE_OF, "addresses", &cli.gran, GRAN_ADDRESSES, NULL, "by address"},
    {OPT_ONE_OF, "files", &cli.gran, GRAN_FILES, NULL, "by source file"},
    {OPT_GROUP, "Filtering:", NULL, 0, NULL, NULL},
    {OPT_STRING, "focus", &cli.focus, 0, "RE", "only stacks with a frame matching RE"},
    {OPT_STRING, "ignore", &cli.ignore, 0, "RE", "drop stacks with a frame matching RE"},
    {OPT_INT, "thread", &cli.thread, 0, "N", "only thread N's counts (heap_v2)"},
    {OPT_STRING, "base", &cli.base, 0, "FILE", "subtract this profile (flame graph, --collapsed: old vs new)"},
    {OPT_STRING, "maps", &cli.maps, 0, "FILE", "mappings for a recent-ring dump (maps or heap_v2)"},
    {OPT_SET_INT, "cum", &cli.cum, 1, NULL, "sort by cumulative value"},
    {OPT_INT, "nodecount", &cli.nodecount, 0, "N", "show at most N rows/nodes (graphs: 80)"},
    {OPT_DOUBLE, "nodefraction", &cli.nodefraction, 0, "F", "graphs: hide nodes below F of total (.005)"},
    {OPT_DOUBLE, "edgefraction", &cli.edgefraction, 0, "F", "graphs: hide edges below F of total (.001)"},
    {OPT_SET_INT, "keep_plumbing", &cli.keep_plumbing, 1, NULL, "keep allocator plumbing frames (operator new, std::allocator, RawVec...)"},
    {OPT_SET_INT, "full_names", &cli.full_names, 1, NULL, "full demangled names: parameters, templates, clones"},
    {OPT_GROUP, "Other:", NULL, 0, NULL, NULL},
    {OPT_SET_INT, "quiet", &cli.quiet, 1, NULL, "no progress messages"},
    {OPT_SET_INT, "help", &cli.help, 1, NULL, "this text"},
    {OPT_SET_INT, "version", &cli.version, 1, NULL, "the version and what it follows"},
    {OPT_GROUP, "Churn (recent-ring dumps):", NULL, 0, NULL, NULL},
    {OPT_ONE_OF, "temporary", &cli.mode, M_TEMPORARY, NULL, "temporary (short-lived) allocations per site"},
    {OPT_STRING, "max-lifetime", &cli.max_lifetime, 0, "DUR", "--temporary: freed within DUR (1ms; ns/us/ms/s)"},
    {0, NULL, NULL, 0, NULL, NULL},
};
/* clang-format on */

static int usage_error(void)
{
    print_usage(stderr, usage_line, options);
    return 2;
}

/* Is path an ELF file (the program) rather than a profile? Only a regular
 * file can be: a FIFO or a process substitution is never opened here (the
 * open would block, and a read would take bytes from the profile). */
static int is_elf(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    char m[4] = {0};
    if (!f)
        return 0;
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(m, "\177ELF", 4) == 0;
}

/* Same file (device and inode) as an existing path b? */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* An output FILE (--flamegraph, --pprof, --output) must not replace an
 * input or a program: "--flamegraph prog dump" takes prog as the FILE
 * (getopt's separate-argument form) and would overwrite the binary with an
 * SVG. Reports and returns 1 when out is the program, a profile, --base,
 * --maps or any existing ELF file. */
static int clobbers_input(const char *out, const char *opt, const char *program, char **pos, int npos)
{
    if (!out)
        return 0;
    int hit = is_elf(out) || same_file(out, program) || same_file(out, cli.base) ||
              same_file(out, cli.maps);
    for (int i = 0; i < npos && !hit; i++)
        hit = same_file(out, pos[i]);
    if (hit)
        error("--%s: refusing to write over '%s', an input or an ELF file (the form is --%s=FILE)",
              opt, out, opt);
    return hit;
}

static int load(struct profile *p, const char *path, double sign)
{
    char err[READ_ERRLEN] = "";
    p->sign = sign;
    p->no_accum = NULL;
    p->cut_warning = NULL;
    int rc = read_profile_file(p, path, err);
    if (rc)
        return error("'%s': %s", path, err), rc;
    if (p->cut_warning)
        warning("'%s': %s", path, p->cut_warning);
    if ((rc = read_accum_check(p, cli.value, err)) != 0)
        return error("'%s': %s", path, err), rc;
    return 0;
}

static int load_maps(struct profile *p, const char *path)
{
    char err[READ_ERRLEN] = "";
    struct filebuf fb;
    int rc = filebuf_read(&fb, path);
    if (rc)
        return error("'%s': %s", path, strerror(rc));
    rc = read_maps(p, fb.data, fb.len, err);
    filebuf_free(&fb);
    if (rc)
        error("'%s': %s", path, err);
    return rc;
}

static int compile(regex_t *re, const char *src, const char *what)
{
    int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[128];
        regerror(rc, re, msg, sizeof(msg));
        return error("bad --%s regex '%s': %s", what, src, msg);
    }
    return 0;
}

/* --base with --flamegraph or --collapsed: per merged stack, its value in
 * the base and in the new profiles (NULL otherwise). */
static const double *diff_old, *diff_new;

/* Runs the selected report(s) on an analysed profile; title names the
 * program (or the first profile) in pictures. */
static int emit(const struct analysis *a, const struct profile *p, const char *title,
                const char *program, const regex_t *symbol, int exact_rate)
{
    struct report_options ro = {
        .title = title,
        .unit = p->generic_unit ? pstr(p, p->generic_unit) : NULL,
        .value = cli.value,
        .show_bytes = cli.show_bytes,
        .by_cum = cli.cum,
        .nodecount = cli.nodecount,
        .nodefraction = cli.nodefraction,
        .edgefraction = cli.edgefraction,
        .thread = cli.thread,
        .program = program,
        .re = symbol,
        .re_src = cli.list     ? cli.list
                  : cli.disasm ? cli.disasm
                               : cli.peek,
        .diff_old = diff_old,
        .diff_new = diff_new,
        .base_path = cli.base,
    };
    int rc = 0;
    if (cli.flamegraph && (rc = report_flamegraph(cli.flamegraph, a, &ro)))
        return rc;
    if (cli.pprof && (rc = report_pprof(cli.pprof, p, cli.value)))
        return rc;
    switch (cli.mode) {
    case M_COLLAPSED:
        return report_collapsed(stdout, a, &ro);
    case M_JSON:
        return report_json(stdout, a, &ro);
    case M_DOT:
        return report_graph(stdout, "dot", a, &ro);
    case M_SVG:
        return report_graph(stdout, "svg", a, &ro);
    case M_PDF:
        return report_graph(stdout, "pdf", a, &ro);
    case M_TRACES:
        return report_traces(stdout, a, &ro);
    case M_TREE:
    case M_PEEK:
        return report_tree(stdout, a, &ro);
    case M_CALLGRIND:
        return report_callgrind(stdout, a, &ro);
    case M_LIST:
        return report_list(stdout, a, &ro);
    case M_DISASM:
        return report_disasm(stdout, a, &ro);
    case M_RAW:
        return report_raw(stdout, p, &ro, exact_rate);
    case M_TEMPORARY:
        return report_temporary(stdout, a, &ro, cli.max_life_ns);
    case M_NONE:
        if (cli.flamegraph || cli.pprof)
            return 0;
        __attribute__((fallthrough)); /* text is the default */
    default:
        if (p->format && strcmp(p->format, "recent") == 0)
            return report_recent(stdout, a, &ro);
        return report_text(stdout, a, &ro);
    }
}

/* Folds --list/--disasm/--peek into cli.mode; checks the combinations
 * jeprof refuses. Returns 0 or 2 (usage) after printing "error: ...". */
static int check_modes(void)
{
    const char *re_modes[] = {cli.list, cli.disasm, cli.peek};
    const int re_mode_ids[] = {M_LIST, M_DISASM, M_PEEK};
    for (int i = 0; i < 3; i++) {
        if (!re_modes[i])
            continue;
        if (cli.mode != M_NONE) {
            error("only one output mode can be given");
            return 2;
        }
        cli.mode = re_mode_ids[i];
    }
    if (cli.growth) {
        if (cli.mode != M_NONE && cli.mode != M_TEXT && cli.mode != M_SVG && cli.mode != M_HTML &&
            cli.mode != M_JSON) {
            error("--growth writes a table (--text, --json), or a chart with --svg or --html");
            return 2;
        }
        if (cli.base || cli.flamegraph || cli.pprof) {
            error("--growth takes no --base, --flamegraph or --pprof");
            return 2;
        }
    } else if (cli.mode == M_HTML || cli.output) {
        error("--html and --output go with --growth");
        return 2;
    }
    if (cli.max_lifetime && cli.mode != M_TEMPORARY) {
        error("--max-lifetime goes with --temporary");
        return 2;
    }
    if (cli.max_lifetime && report_parse_duration(cli.max_lifetime, &cli.max_life_ns)) {
        error("--max-lifetime expects a duration such as 500us, 1ms or 2s, not '%s'", cli.max_lifetime);
        return 2;
    }
    if (cli.mode == M_TEMPORARY && cli.base) {
        error("--temporary reads the lifetimes of one recent-ring dump: it takes no --base");
        return 2;
    }
    if (cli.mode == M_RAW && (cli.focus || cli.ignore || cli.base || cli.thread >= 0)) {
        error("--raw writes the whole profile: it takes no --focus, --ignore, --base or --thread");
        return 2;
    }
    return 0;
}

/* --growth: every dump read into one profile, symbolized and analysed once;
 * growth.c splits the values back by dump. */
static int run_growth(int npos, char **pos, const char *program,
                      const struct analyze_options *ao_in)
{
    struct profile p;
    struct growth g;
    profile_init(&p);
    p.keep_threads = cli.thread >= 0;
    symbolize_prefetch_start(program); /* see run() */
    p.prefetch = symbolize_prefetch_file;
    int rc = growth_load(&g, &p, pos, (size_t)npos, cli.value);
    if (!rc && cli.maps)
        rc = load_maps(&p, cli.maps);
    symbolize_prefetch_end();
    p.prefetch = NULL;
    struct sym_options so = {.program = program, .quiet = cli.quiet};
    if (!rc)
        rc = symbolize_profile(&p, &so);
    if (!rc && !cli.keep_plumbing)
        plumbing_trim(&p);
    if (!rc) {
        struct analyze_options ao = *ao_in;
        ao.sample_stack = xcalloc(p.nsamples + 1, sizeof(uint32_t));
        struct analysis a;
        rc = analyze(&a, &p, &ao);
        if (!rc)
            growth_compute(&g, &a, ao.sample_stack, cli.value, cli.cum);
        free(ao.sample_stack);
        FILE *out = stdout;
        if (!rc && cli.output && !(out = fopen(cli.output, "w")))
            rc = error("cannot create '%s': %s", cli.output, strerror(errno));
        if (!rc) {
            struct report_options ro = {
                .title = program ? program : pos[0],
                .unit = p.generic_unit ? pstr(&p, p.generic_unit) : NULL,
                .value = cli.value,
                .show_bytes = cli.show_bytes,
                .nodecount = cli.nodecount,
                .program = program,
            };
            rc = cli.mode == M_SVG    ? report_growth_svg(out, &g, &ro)
                 : cli.mode == M_HTML ? report_growth_html(out, &g, &ro)
                 : cli.mode == M_JSON ? report_growth_json(out, &g, &ro)
                                      : report_growth_text(out, &g, &ro);
            if (out != stdout && (fclose(out) != 0) && !rc)
                rc = error("writing '%s': %s", cli.output, strerror(errno));
        }
        analysis_free(&a);
    }
    growth_free(&g);
    profile_free(&p);
    return rc;
}

static int run(int npos, char **pos)
{
    const char *program = NULL;
    struct profile p;
    regex_t focus, ignore, symbol;
    int rc = 0, have_focus = 0, have_ignore = 0, have_symbol = 0;
    const char *symbol_src = cli.list ? cli.list : cli.disasm ? cli.disasm : cli.peek;

    if (npos >= 2 && (is_elf(pos[0]) || access(pos[0], F_OK) != 0)) {
        program = pos[0];
        pos++;
        npos--;
    }
    if (npos < 1)
        return usage_error();
    if (clobbers_input(cli.flamegraph, "flamegraph", program, pos, npos) ||
        clobbers_input(cli.pprof, "pprof", program, pos, npos) ||
        clobbers_input(cli.output, "output", program, pos, npos))
        return 2;
    if (cli.focus && compile(&focus, cli.focus, "focus"))
        return 1;
    have_focus = cli.focus != NULL;
    if (cli.ignore && compile(&ignore, cli.ignore, "ignore")) {
        rc = 1;
        goto out_focus;
    }
    have_ignore = cli.ignore != NULL;
    if (symbol_src && compile(&symbol, symbol_src,
                              cli.list     ? "list"
                              : cli.disasm ? "disasm"
                                           : "peek")) {
        rc = 1;
        goto out_ignore;
    }
    have_symbol = symbol_src != NULL;
    demangle_set_full(cli.full_names);
    if (cli.growth) {
        struct analyze_options ao = {
            .value = cli.value,
            .gran = cli.gran,
            .thread = cli.thread < 0 ? THREAD_ALL : cli.thread,
            .focus = have_focus ? &focus : NULL,
            .ignore = have_ignore ? &ignore : NULL,
        };
        rc = run_growth(npos, pos, program, &ao);
        if (!rc && (fflush(stdout) != 0 || ferror(stdout)))
            rc = error("writing output: %s", strerror(errno));
        goto out_symbol;
    }
    profile_init(&p);
    p.keep_threads = cli.thread >= 0;
    /* ELF and DWARF files load on a second thread while the dumps are read */
    symbolize_prefetch_start(program);
    p.prefetch = symbolize_prefetch_file;
    for (int i = 0; i < npos && !rc; i++)
        rc = load(&p, pos[i], 1.0);
    size_t base_first = p.nsamples; /* the base's samples follow */
    if (!rc && cli.base)
        rc = load(&p, cli.base, -1.0);
    if (!rc && cli.maps)
        rc = load_maps(&p, cli.maps);
    symbolize_prefetch_end();
    p.prefetch = NULL;
    struct sym_options so = {.program = program, .quiet = cli.quiet};
    if (!rc)
        rc = symbolize_profile(&p, &so);
    if (!rc && !cli.keep_plumbing)
        plumbing_trim(&p);
    if (!rc) {
        struct analyze_options ao = {
            .value = cli.value,
            .gran = cli.gran,
            .thread = cli.thread < 0 ? THREAD_ALL : cli.thread,
            .focus = have_focus ? &focus : NULL,
            .ignore = have_ignore ? &ignore : NULL,
        };
        /* A differential picture needs each stack's old and new values apart. */
        int diff = cli.base && (cli.flamegraph || cli.mode == M_COLLAPSED);
        double *dold = NULL, *dnew = NULL;
        if (diff)
            ao.sample_stack = xcalloc(p.nsamples + 1, sizeof(uint32_t));
        struct analysis a;
        rc = analyze(&a, &p, &ao);
        if (!rc && diff) {
            dold = xcalloc(a.nstacks + 1, sizeof(double));
            dnew = xcalloc(a.nstacks + 1, sizeof(double));
            for (size_t i = 0; i < p.nsamples; i++) {
                uint32_t k = ao.sample_stack[i];
                if (k == UINT32_MAX)
                    continue;
                double v = p.samples[i].v[cli.value];
                if (i >= base_first)
                    dold[k] -= v; /* read with sign -1 */
                else
                    dnew[k] += v;
            }
            diff_old = dold;
            diff_new = dnew;
        }
        free(ao.sample_stack);
        if (!rc)
            rc = emit(&a, &p, program ? program : pos[0], program, have_symbol ? &symbol : NULL,
                      npos == 1 && !cli.base && p.format &&
                          (strcmp(p.format, "heap_v2") == 0 || strcmp(p.format, "raw") == 0) &&
                          p.period > 0);
        diff_old = diff_new = NULL;
        free(dold);
        free(dnew);
        analysis_free(&a);
    }
    if (!rc && (fflush(stdout) != 0 || ferror(stdout)))
        rc = error("writing output: %s", strerror(errno));
    profile_free(&p);
out_symbol:
    if (have_symbol)
        regfree(&symbol);
out_ignore:
    if (have_ignore)
        regfree(&ignore);
out_focus:
    if (have_focus)
        regfree(&focus);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "record") == 0)
        return record_main(argc - 1, argv + 1, argv[0]);
    if (argc >= 2 && strcmp(argv[1], "dump") == 0)
        return dump_main(argc - 1, argv + 1);
    int npos = parse_options(argc - 1, argv + 1, options);
    if (npos < 0)
        return usage_error();
    if (cli.help) {
        print_usage(stdout, usage_line, options);
        return 0;
    }
    if (cli.version) {
        printf("jeprof-c %s (part of liballoc; follows jeprof of %s)\n"
               "reads heap_v2, pprof (profile.proto) and recent-allocation JSON dumps\n",
               ALLOC_RELEASE, JEPROF_C_FOLLOWS);
        return 0;
    }
    int urc = check_modes();
    if (urc)
        return urc;
    return run(npos, argv + 1);
}
