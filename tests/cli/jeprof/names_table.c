/* Driver for tests/cli/jeprof_names.sh: reads "input<TAB>expected<TAB>P"
 * lines (P: 1 when the name is allocator plumbing, else 0; '#' lines are
 * comments) and checks jeprof-c's demangler, simplifier and plumbing
 * matcher on each. Prints one line per mismatch; exits 1 on any. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"
#include "plumbing.h"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    FILE *f = fopen(argv[1], "r");
    if (!f)
        return 2;
    char line[8192];
    int bad = 0, n = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *in = line, *want = strchr(in, '\t'), *pl;
        if (!want || !(pl = strchr(want + 1, '\t'))) {
            fprintf(stderr, "bad table line: %s\n", line);
            return 2;
        }
        *want++ = 0;
        *pl++ = 0;
        char *d = demangle(in), *s = demangle_simplify(d);
        int p = plumbing_name(s);
        if (strcmp(s, want) != 0) {
            printf("name  %s\n  got  %s\n  want %s\n", in, s, want);
            bad = 1;
        }
        if (p != atoi(pl)) {
            printf("plumbing %s: got %d, want %s\n", s, p, pl);
            bad = 1;
        }
        free(d);
        free(s);
        n++;
    }
    fclose(f);
    printf("%d names checked\n", n);
    return bad;
}
