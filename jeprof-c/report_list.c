/* report_list: jeprof's --list=RE. For each function matching RE (display
 * or ELF symbol name) that holds sampled addresses, sorted by name:
 *
 *   ROUTINE ====================== name in file
 *     flat    cum Total MB (flat / cumulative)
 *        .      .   12: source line            (five lines of context)
 *   ---
 *     flat    cum   17: source line            (the function's lines)
 *   ---
 *
 * Lines come from objdump's line table (per instruction, the function's own
 * line: the outermost "inlined by" position, as jeprof's
 * GetTopLevelLineNumbers); the function spans the first instruction's
 * line (or a smaller one of its own with values, below) to the largest line seen in its
 * file, extended over deeper-indented lines as jeprof does; an instruction
 * outside that span hands its values to the next one inside, leftovers go
 * to the last line. "." is zero. A source file that cannot be
 * found (see source.h) is warned about and only lines with values are shown,
 * without text. When nothing matches, "Total: ..." is printed and a warning
 * names the RE. */
#include <stdlib.h>
#include <string.h>

#include "objdump.h"
#include "report.h"
#include "source.h"
#include "xalloc.h"
#include "message.h"

static int indentation(const char *s)
{
    if (!s)
        return -1; /* past the end of the file (source_line) */
    int n = 0;
    for (; *s == ' ' || *s == '\t'; s++)
        n++;
    return *s ? n : -1;
}

/* Prints one routine; returns 1 when printed. */
static int list_routine(FILE *out, const struct od_routine *r, struct od_insn *in, size_t n,
                        const struct report_options *o)
{
    const char *fname = NULL;
    for (size_t i = 0; i < n && !fname; i++)
        if (in[i].top_line >= 0 && in[i].top_file)
            fname = in[i].top_file;
    if (!fname) {
        warning("no source file found for '%s'", r->name);
        return 0;
    }
    int first = -1, last = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].top_file || strcmp(in[i].top_file, fname) != 0)
            continue;
        if (first < 0)
            first = in[i].top_line;
        if (in[i].top_line > last)
            last = in[i].top_line;
    }
    if (first < 1)
        first = 1;
    int oldlast = last, nlines = source_nlines(fname);
    /* jeprof starts the span at the first instruction's line. Optimised
     * code may begin with a later line than a call's own (its argument on
     * the next line), which moved the call's bytes down a line; so the
     * span starts at the smallest line of an instruction with values
     * between the function's opening -- the nearest line at or above first
     * that starts at column 0 (its name or its brace) -- and first.
     * Otherwise the span is jeprof's: lines above the opening (an inlined
     * function's, which an instruction without "inlined by" information
     * carries) stay outside. */
    if (nlines >= 0 && first <= nlines) { /* (a shorter file: not this build's source) */
        int open = first;
        while (open > 1 && first - open < 64 && indentation(source_line(fname, open)) != 0)
            open--;
        if (indentation(source_line(fname, open)) == 0)
            for (size_t i = 0; i < n; i++)
                if (in[i].top_file && strcmp(in[i].top_file, fname) == 0 && in[i].top_line >= open &&
                    in[i].top_line < first && (in[i].flat != 0 || in[i].cum != 0))
                    first = in[i].top_line;
    }
    if (nlines < 0)
        warning("'%s': source not found; lines shown without text", fname);
    /* jeprof's Hack 4: extend the end over lines indented at least as deep
     * as the first line (unless that one starts at column 0). */
    int first_ind = -1;
    for (int l = first; l <= nlines; l++) {
        int ind = indentation(source_line(fname, l));
        if (first_ind < 0 && ind >= 0) {
            first_ind = ind;
            if (first_ind == 0)
                break;
        }
        if (l >= last && ind >= 0) {
            if (ind >= first_ind)
                last = l + 1;
            else
                break;
        }
    }
    int span = last + 1;
    double *fl = xcalloc((size_t)span + 1, sizeof(double)),
           *cu = xcalloc((size_t)span + 1, sizeof(double));
    double run1 = 0, run2 = 0, t1 = 0, t2 = 0;
    for (size_t i = 0; i < n; i++) {
        run1 += in[i].flat;
        run2 += in[i].cum;
        t1 += in[i].flat;
        t2 += in[i].cum;
        if (in[i].top_file && strcmp(in[i].top_file, fname) == 0 && in[i].top_line >= first &&
            in[i].top_line <= last) {
            fl[in[i].top_line] += run1;
            cu[in[i].top_line] += run2;
            run1 = run2 = 0;
        }
    }
    fl[last] += run1;
    cu[last] += run2;
    char a[64], b[64];
    report_unparse(a, sizeof(a), t1, o);
    report_unparse(b, sizeof(b), t2, o);
    const char *clean = fname;
    if (strncmp(clean, "/proc/self/cwd/", 15) == 0)
        clean += 15;
    if (strncmp(clean, "./", 2) == 0)
        clean += 2;
    fprintf(out, "ROUTINE ====================== %s in %s\n%6s %6s Total %s (flat / cumulative)\n",
            r->name, clean, a, b, report_units(o));
    int hi = nlines >= 0 ? nlines : last;
    for (int l = first - 5 < 1 ? 1 : first - 5; l <= hi && (l <= oldlast + 5 || l <= last); l++) {
        const char *text = source_line(fname, l);
        double f = l <= last ? fl[l] : 0, c = l <= last ? cu[l] : 0;
        if (nlines < 0 && f == 0 && c == 0)
            continue;
        if (l == first)
            fputs("---\n", out);
        od_unparse_alt(a, sizeof(a), f, o);
        od_unparse_alt(b, sizeof(b), c, o);
        fprintf(out, "%6s %6s %4d: %s\n", a, b, l, text ? text : "");
        if (l == last)
            fputs("---\n", out);
    }
    free(fl);
    free(cu);
    return 1;
}

/* Nothing listed by --list or --disasm: the total, and why (nocode: sampled
 * addresses named by RE whose machine code was not found). */
void report_list_none(FILE *out, const struct analysis *a, const struct report_options *o,
                      size_t nocode)
{
    char t[64];
    report_unparse(t, sizeof(t), a->total, o);
    fprintf(out, "Total: %s %s\n", t, report_units(o));
    if (nocode)
        warning("functions matching '%s' hold samples, but their binary was not found "
                "(name the program on the command line)",
                o->re_src ? o->re_src : "");
    else
        warning("no function matching '%s' holds samples", o->re_src ? o->re_src : "");
}

int report_list(FILE *out, const struct analysis *a, const struct report_options *o)
{
    struct od_set s;
    int rc = od_collect(&s, a, o);
    if (rc)
        return rc;
    size_t listed = 0;
    for (size_t r = 0; r < s.nr && !rc; r++) {
        struct od_insn *in;
        size_t n;
        rc = od_disassemble(&s, &s.r[r], &in, &n);
        if (rc)
            break;
        listed += (size_t)list_routine(out, &s.r[r], in, n, o);
        od_insn_free(in, n);
    }
    if (!rc && !listed)
        report_list_none(out, a, o, s.nocode);
    od_free(&s);
    source_free();
    return rc;
}
