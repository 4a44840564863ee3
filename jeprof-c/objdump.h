/* objdump: the machine code behind a profile's addresses, for --list and
 * --disasm (jeprof's Disassemble and GetProcedureBoundaries).
 *
 * Each location is tied to an ELF file (the program named on the command
 * line when its basename matches the mapping or, failing that, when the
 * mapping's own file cannot be opened and it is the first mapping that is not
 * a shared library; else the mapping's file), its file address is computed
 * through the PT_LOAD headers, and the function containing it is found in the
 * symbol table (.symtab, else .dynsym). A function is disassembled by
 * binutils' objdump (-d -l --inlines -C, fork/exec; $JEPROF_OBJDUMP names
 * another objdump). Single-threaded, like the rest of the CLI. */
#ifndef JEPROF_OBJDUMP_H
#define JEPROF_OBJDUMP_H

#include <stdint.h>

#include "analyze.h"
#include "report.h"
#include "compiler.h"

/* One function that holds sampled addresses. */
struct od_routine {
    const char *path;    /* ELF file (owned by the context) */
    const char *symname; /* ELF symbol name (owned by the context) */
    const char *name;    /* display name: the outermost frame's name */
    uint64_t start, end; /* file addresses [start, end) */
    double flat, cum;    /* summed over its addresses */
};

/* One instruction of a disassembled function. */
struct od_insn {
    uint64_t addr, end; /* file addresses [addr, end) */
    char *text;         /* disassembly, argument and template lists removed */
    char *file;         /* innermost source file, NULL = unknown */
    int line;           /* its line, -1 = unknown */
    char *top_file;     /* the function's own position (outermost "inlined by") */
    int top_line;       /* its line, -1 = unknown */
    double flat, cum;   /* values of the sampled addresses inside */
};

/* The routines of an analysis whose display name, ELF symbol name or
 * demangled full symbol name (as jeprof matches nm -C output) matches o->re,
 * sorted by name, and the per-instruction values. */
struct od_set {
    struct od_routine *r; /* matching routines with samples */
    size_t nr;
    double total;  /* flat total of the analysis (percentage base) */
    size_t nocode; /* sampled addresses named by RE whose machine code was not found */
    void *priv;    /* ELF files, per-location values */
};

/* Fills s; 0 or an errno after printing "error: ...". */
int od_collect(struct od_set *s, const struct analysis *a, const struct report_options *o) WUR;
/* Disassembles routine r; *insn gets n instructions with their values.
 * 0 or an errno after printing "error: ..." (objdump missing or failing). */
int od_disassemble(struct od_set *s, const struct od_routine *r, struct od_insn **insn,
                   size_t *n) WUR;
void od_insn_free(struct od_insn *insn, size_t n);
void od_free(struct od_set *s);

/* jeprof's UnparseAlt: "." for zero, else the value in report units. */
void od_unparse_alt(char *buf, size_t n, double v, const struct report_options *o);

#endif
