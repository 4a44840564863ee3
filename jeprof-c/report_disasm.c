/* report_disasm: jeprof's --disasm=RE. For each function matching RE (its
 * display name or its ELF symbol name) that holds sampled addresses, sorted
 * by name: "ROUTINE ====================== name", the function's flat and
 * cum totals with their share of the total, then its instructions from
 * objdump grouped by source line: a "-------------------- file" line when the
 * file changes, the source line with the flat and cum of its instructions,
 * then each instruction "flat cum address: text" ("." for zero). Addresses
 * are file addresses (as objdump shows them). Positions are the innermost
 * (inlined) ones, as jeprof's. When nothing matches, "Total: ..." is
 * printed and a warning names the RE. */
#include <stdlib.h>
#include <string.h>

#include "objdump.h"
#include "report.h"
#include "source.h"
#include "message.h"

int report_disasm(FILE *out, const struct analysis *a, const struct report_options *o)
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
        double ft = 0, ct = 0;
        for (size_t i = 0; i < n; i++) {
            ft += in[i].flat;
            ct += in[i].cum;
        }
        char f[64], c[64], pc[32];
        report_unparse(f, sizeof(f), ft, o);
        report_unparse(c, sizeof(c), ct, o);
        if (s.total != 0)
            snprintf(pc, sizeof(pc), "%.1f%%", ct * 100.0 / s.total);
        else
            snprintf(pc, sizeof(pc), "%s", ct == 0 ? "nan" : ct > 0 ? "+inf" : "-inf");
        fprintf(out,
                "ROUTINE ====================== %s\n%6s %6s %s (flat, cumulative) %s of total\n",
                s.r[r].name, f, c, report_units(o), pc);
        const char *cur = NULL;
        for (size_t i = 0; i < n;) {
            const char *file = in[i].file ? in[i].file : "";
            if (!cur || strcmp(cur, file) != 0) {
                cur = file;
                const char *fn = strncmp(file, "./", 2) == 0 ? file + 2 : file;
                size_t len = strlen(fn);
                if (len >= 58)
                    fprintf(out, "-------------------- ...%s\n", fn + len - 55);
                else
                    fprintf(out, "-------------------- %s\n", fn);
            }
            /* The run of instructions on this line (and this file). */
            size_t j = i;
            double lf = 0, lc = 0;
            while (j < n && in[j].line == in[i].line &&
                   strcmp(in[j].file ? in[j].file : "", file) == 0) {
                lf += in[j].flat;
                lc += in[j].cum;
                j++;
            }
            const char *src = in[i].line > 0 ? source_line(file, in[i].line) : NULL;
            while (src && (*src == ' ' || *src == '\t'))
                src++;
            if (src) {
                od_unparse_alt(f, sizeof(f), lf, o);
                od_unparse_alt(c, sizeof(c), lc, o);
                fprintf(out, "%6s %6s %5d: %s\n", f, c, in[i].line, src);
            }
            for (; i < j; i++) {
                od_unparse_alt(f, sizeof(f), in[i].flat, o);
                od_unparse_alt(c, sizeof(c), in[i].cum, o);
                char addr[32];
                snprintf(addr, sizeof(addr), "%llx", (unsigned long long)in[i].addr);
                fprintf(out, "%6s %6s    %8s: %6s\n", f, c, addr, in[i].text);
            }
        }
        od_insn_free(in, n);
        listed++;
    }
    if (!rc && !listed)
        report_list_none(out, a, o, s.nocode);
    od_free(&s);
    source_free();
    return rc;
}
