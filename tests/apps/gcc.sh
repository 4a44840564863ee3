#!/usr/bin/env bash
# gcc under LD_PRELOAD=liballoc: compile (cc1 at -O2, as and ld all
# preloaded) an allocation-heavy C program plus a generated file of 150
# functions; the object files must be byte-identical to the glibc-built
# ones, and the program's output (run preloaded and not) must match. The
# preloaded program checks that its malloc resolves into liballoc.
. "$(dirname "$0")/lib.sh"
need gcc
check_preload_maps
check_stats_print gcc --version

cat >"$TMP/prog.c" <<'CEOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern unsigned long gen_sum(unsigned long);

static uint64_t st = 88172645463325252ULL;
static uint64_t rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    if (argc > 1) { /* malloc must resolve into the named library */
        Dl_info di;
        if (!dladdr((void *)(uintptr_t)&malloc, &di) || !di.dli_fname || strcmp(di.dli_fname, argv[1])) {
            fprintf(stderr, "malloc is in %s, not %s\n", di.dli_fname ? di.dli_fname : "?", argv[1]);
            return 3;
        }
    }
    enum { N = 200000 };
    char **v = malloc(N * sizeof(*v));
    if (!v) return 2;
    for (int i = 0; i < N; i++) {
        size_t n = 1 + rnd() % 40;
        v[i] = malloc(n + 1);
        if (!v[i]) return 2;
        for (size_t j = 0; j < n; j++) v[i][j] = 'a' + rnd() % 26;
        v[i][n] = 0;
        if (i % 7 == 0) { v[i] = realloc(v[i], n * 3 + 1); memset(v[i] + n, 'z', n); v[i][n * 2] = 0; }
    }
    qsort(v, N, sizeof(*v), cmp);
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < N; i++) { for (char *p = v[i]; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL; free(v[i]); }
    free(v);
    printf("%016llx %s %s %lu\n", (unsigned long long)h, v == NULL ? "" : "ok", "done", gen_sum(1000));
    return 0;
}
CEOF
awk 'BEGIN {
    for (i = 0; i < 150; i++) {
        printf "static unsigned long f%d(unsigned long x) {\n  unsigned long a[%d]; unsigned long s = 0;\n", i, 8 + i % 24
        printf "  for (unsigned long k = 0; k < %d; k++) a[k] = x * %d + k * k;\n", 8 + i % 24, i + 3
        printf "  for (unsigned long k = 0; k < %d; k++) s += (a[k] >> (k %% 5)) ^ (s << 1);\n", 8 + i % 24
        printf "  switch (x %% 4) { case 0: s += %d; break; case 1: s ^= %d; break; default: s *= 3; }\n  return s;\n}\n", i, i * 7
    }
    printf "unsigned long gen_sum(unsigned long x) {\n  unsigned long s = 0;\n"
    for (i = 0; i < 150; i++) printf "  s += f%d(x + %d);\n", i, i
    printf "  return s;\n}\n"
}' >"$TMP/gen.c"

build() { # outdir cmd-prefix...
    local d=$1; shift
    mkdir -p "$d"
    (cd "$TMP" && "$@" gcc -O2 -g0 -c prog.c -o "$d/prog.o" && "$@" gcc -O2 -g0 -c gen.c -o "$d/gen.o" &&
        "$@" gcc -o "$d/prog" "$d/prog.o" "$d/gen.o")
}
build "$TMP/ref" env -u MALLOC_CONF >"$TMP/ref.log" 2>&1 || fail "reference compile failed: $(tail -5 "$TMP/ref.log")"
build "$TMP/pre" env -u MALLOC_CONF LD_PRELOAD="$LIB" >"$TMP/pre.log" 2>&1 || fail "gcc under liballoc failed: $(tail -5 "$TMP/pre.log")"
for o in prog.o gen.o; do
    cmp -s "$TMP/ref/$o" "$TMP/pre/$o" || fail "$o compiled under liballoc differs from the glibc build"
done
timeout 300 "$TMP/ref/prog" >"$TMP/ref.out" 2>&1 || fail "reference program failed: $(cat "$TMP/ref.out")"
grep -qE '^[0-9a-f]{16} ok done [0-9]+$' "$TMP/ref.out" || fail "unexpected program output: $(cat "$TMP/ref.out")"
env LD_PRELOAD="$LIB" timeout 300 "$TMP/pre/prog" "$LIB" >"$TMP/pre.out" 2>&1 || fail "program under liballoc failed ($?): $(cat "$TMP/pre.out")"
same_output "gcc-built program" "$TMP/ref.out" "$TMP/pre.out"
echo "gcc: objects identical, program output $(cat "$TMP/ref.out") identical under liballoc"
