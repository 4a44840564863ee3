/* record: jeprof-c record [-o DIR] [--lg-sample=N] [--sum] [--timeout=S] -- cmd args...
 * Runs the command under the profiling allocator (LD_PRELOAD of liballoc.so
 * next to jeprof-c, or $JEPROF_C_PRELOAD, e.g. Debian's libjemalloc.so.2)
 * and reports on it when it ends.
 *
 * MALLOC_CONF: the user's own is kept, record's settings are added around
 * it (the allocator applies pairs in order, later wins): before it, the
 * default the user may override (lg_prof_sample:19 unless --lg-sample is
 * given); after it, what record needs (prof:true,prof_final:true,
 * prof_prefix:DIR/heap, --lg-sample, and prof_dump_signal:USR2 unless the
 * user set a valid dump signal: record then sends that one). With another
 * allocator (JEPROF_C_PRELOAD) no prof_dump_signal is added.
 *
 * Children: fork and exec children inherit both variables and write their
 * own dumps (the prefix is followed by the pid). The report covers every
 * process that left a dump: one report per process (its newest dump: the
 * final one, or the latest taken on a signal), or one summed report (--sum).
 *
 * Stopping: the command runs in its own process group, so a Ctrl-C (or a
 * SIGTERM/SIGHUP sent to record) reaches record first: record asks every
 * process of the command (descendants and group) for a dump through the
 * dump signal, waits for the dumps (--timeout), then forwards the signal to
 * the group, waits for the command to end and reports. A second such signal
 * is forwarded at once; SIGQUIT is forwarded with no dump. A command
 * stopped for reading the terminal is given the terminal (it becomes the
 * foreground group; a Ctrl-C then reaches it directly). A process killed by a signal is reported from its newest dump,
 * and the report says so.
 * Exit status: the command's (128+N when killed by signal N), or 1. */
#ifndef JEPROF_RECORD_H
#define JEPROF_RECORD_H

int record_main(int argc, char **argv, const char *argv0);

#endif
