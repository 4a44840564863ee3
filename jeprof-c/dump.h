/* dump: jeprof-c dump [--timeout=S] [--signal=SIG] [--prefix=P] PID
 * Asks a running process for a heap dump: finds its dump signal, prefix and
 * format (its MALLOC_CONF in /proc/PID/environ after the target of its
 * /etc/malloc.conf link: later settings win, as in the allocator), checks
 * that it runs liballoc and catches that signal (/proc/PID/status SigCgt),
 * sends the signal and waits for a new manual dump
 * <prefix>.<PID>.<seq>.m<N>.heap (or .pb.gz) to appear (dumps are written to
 * a temporary name and renamed: a visible file is whole). Prints its path
 * as the last line. A malloc_conf compiled into the program is not visible
 * from outside: --signal and --prefix give what it set. record.c uses the
 * same steps for the processes it follows. */
#ifndef JEPROF_DUMP_H
#define JEPROF_DUMP_H

#include <sys/types.h>

/* A dump file seen before the signal. A file of the same name that is
 * another file later (a new inode or time: the process exec'd, or its pid
 * was reused, and its sequence started again at 0) is a new dump. */
struct dump_seen {
    char *name;             /* file name in the dump directory */
    int in_progress;        /* a temporary file: the dump of that name is old when it comes */
    unsigned long long ino; /* inode of the whole file (not in_progress) */
    long long mtime_ns;     /* its modification time */
};

/* One process to ask for a dump. */
struct dump_target {
    pid_t pid;       /* the process */
    int signo;       /* its dump signal */
    char *dir;       /* absolute directory of its dumps */
    char *base;      /* file name prefix inside dir (prof_prefix's last part) */
    int want_heap;   /* prof_format writes .heap files */
    int want_pb;     /* prof_format writes .pb.gz files */
    int format_known; /* prof_format was seen (else: whichever file comes) */
    struct dump_seen *before; /* dumps that existed (or were being written) before the signal */
    size_t nbefore;
};

/* Fills t for pid from /proc (sig_opt/prefix_opt: NULL, or what the user
 * gave instead of the process's configuration). Returns 0, or 1 after an
 * "error: ..." naming the reason (no such process, another user's, not
 * running liballoc, profiling off, no dump signal, signal not caught). */
int dump_target_open(struct dump_target *t, pid_t pid, const char *sig_opt,
                     const char *prefix_opt);
/* Notes the existing dumps and sends the signal; 0 or 1 after error(). */
int dump_target_signal(struct dump_target *t);
/* Waits until a new dump is whole or timeout_ms passed; 0 and *path
 * (malloc'd, the .heap unless prof_format:pprof), or 1 after error(). */
int dump_target_wait(struct dump_target *t, long timeout_ms, char **path);
void dump_target_free(struct dump_target *t);
/* Signal number of "USR2", "SIGUSR2", "12", "RTMIN+1" (any case), or -1. */
int dump_signal_number(const char *s);

/* The last value of key in a "k:v,k:v" string (malloc'd), or NULL. */
char *dump_conf_get(const char *conf, const char *key);

int dump_main(int argc, char **argv);

#endif
