#include "prof.h"
#include <errno.h>
int prof_dump_pprof_file(const char *path) { (void)path; return ENOTSUP; }
