/* record: jeprof-c record [-o DIR] [--lg-sample=N] -- cmd args...
 * Runs the command under the profiling allocator (LD_PRELOAD of liballoc.so
 * next to jeprof-c, or $JEPROF_C_PRELOAD, e.g. Debian's libjemalloc.so.2)
 * with MALLOC_CONF=prof:true,prof_final:true,prof_prefix:DIR/heap,
 * lg_prof_sample:N; when it exits, prints the top sites of the final dump
 * and writes DIR/flamegraph.svg. Exit status: the command's, or 1. */
#ifndef JEPROF_RECORD_H
#define JEPROF_RECORD_H

int record_main(int argc, char **argv, const char *argv0);

#endif
