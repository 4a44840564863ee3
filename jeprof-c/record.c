/* record: see record.h. */
#include "record.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "options.h"
#include "xalloc.h"
#include "message.h"

static const char *out_dir = "jeprof-c.out";
static int lg_sample = -1; /* -1: not given (19, the user's MALLOC_CONF may override) */
static int sum, help;
static double timeout_s = 10;

/* clang-format off */
static const struct option record_options[] = {
    {OPT_STRING, "o", &out_dir, 0, "DIR", "where dumps and flamegraph.svg go (jeprof-c.out)"},
    {OPT_INT, "lg-sample", &lg_sample, 0, "N", "sample every 2^N bytes on average (19; overrides MALLOC_CONF)"},
    {OPT_SET_INT, "sum", &sum, 1, NULL, "one report summing every process (default: one per process)"},
    {OPT_DOUBLE, "timeout", &timeout_s, 0, "S", "on Ctrl-C/SIGTERM/SIGHUP, wait at most S seconds for the dumps (10)"},
    {OPT_SET_INT, "help", &help, 1, NULL, "this text"},
    {0, NULL, NULL, 0, NULL, NULL},
};
/* clang-format on */

static const char usage[] =
    "usage: jeprof-c record [-o DIR] [--lg-sample=N] [--sum] [--timeout=S] -- command [args...]";

/* Directory of the running jeprof-c. */
static char *self_dir(const char *argv0)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) {
        snprintf(buf, sizeof(buf), "%s", argv0);
        n = (ssize_t)strlen(buf);
    }
    buf[n] = 0;
    char *s = strrchr(buf, '/');
    if (s)
        *s = 0;
    else
        strcpy(buf, ".");
    return xstrdup(buf);
}

/* Resolves cmd through PATH, for symbolization. */
static char *which(const char *cmd)
{
    if (strchr(cmd, '/'))
        return realpath(cmd, NULL);
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    char *dup = xstrdup(path), *save = NULL;
    for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *c = xasprintf("%s/%s", *d ? d : ".", cmd);
        if (access(c, X_OK) == 0) {
            free(dup);
            char *r = realpath(c, NULL);
            free(c);
            return r;
        }
        free(c);
    }
    free(dup);
    return NULL;
}

/* ---- the dumps left in DIR ---- */

/* The newest dump of one process. */
struct proc_dump {
    pid_t pid;              /* its process */
    unsigned long long seq; /* dump sequence number (its newest) */
    char kind;              /* 'f' final, 'm' manual (signal), 'i', 'u', 'p' */
    char *path;             /* the file */
};

/* Parses "heap.<pid>.<seq>.<kind>[N].heap" (or .pb.gz); 1 on a match. */
static int parse_dump_name(const char *name, struct proc_dump *d)
{
    char *end;
    if (strncmp(name, "heap.", 5) != 0 || !isdigit((unsigned char)name[5]))
        return 0;
    long pid = strtol(name + 5, &end, 10);
    if (*end != '.' || !isdigit((unsigned char)end[1]))
        return 0;
    unsigned long long seq = strtoull(end + 1, &end, 10);
    if (*end != '.' || !isalpha((unsigned char)end[1]))
        return 0;
    char kind = end[1];
    end += 2;
    while (isdigit((unsigned char)*end))
        end++;
    if (strcmp(end, ".heap") != 0 && strcmp(end, ".pb.gz") != 0)
        return 0;
    d->pid = (pid_t)pid;
    d->seq = seq;
    d->kind = kind;
    return 1;
}

/* Newest dump of every process in dir (heap_v2 preferred to pprof for one seq). */
static struct proc_dump *collect_dumps(const char *dir, size_t *n)
{
    struct proc_dump *v = NULL;
    size_t cap = 0;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct proc_dump x;
        if (!parse_dump_name(e->d_name, &x))
            continue;
        int heap = strstr(e->d_name, ".heap") != NULL;
        size_t i = 0;
        while (i < *n && v[i].pid != x.pid)
            i++;
        if (i == *n) {
            GROW(v, cap, *n + 1);
            v[(*n)++] = (struct proc_dump){.pid = x.pid, .seq = x.seq, .kind = x.kind};
        } else if (x.seq < v[i].seq || (x.seq == v[i].seq && !heap)) {
            continue;
        }
        free(v[i].path);
        v[i].seq = x.seq;
        v[i].kind = x.kind;
        v[i].path = xasprintf("%s/%s", dir, e->d_name);
    }
    closedir(d);
    return v;
}

/* ---- the command's processes ---- */

struct proc {
    pid_t pid, ppid, pgrp;
};

/* Every process on the system (pid, ppid, pgrp from /proc/N/stat). */
static struct proc *list_procs(size_t *n)
{
    struct proc *v = NULL;
    size_t cap = 0;
    *n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t k = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (k <= 0)
            continue;
        buf[k] = 0;
        char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
        char state;
        int ppid, pgrp;
        if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) != 3 || state == 'Z')
            continue;
        GROW(v, cap, *n + 1);
        v[(*n)++] = (struct proc){(pid_t)atoi(e->d_name), (pid_t)ppid, (pid_t)pgrp};
    }
    closedir(d);
    return v;
}

/* The live processes of the command: root, its descendants, its group. */
static pid_t *command_procs(pid_t root, size_t *n)
{
    size_t np;
    struct proc *ps = list_procs(&np);
    pid_t *out = xcalloc(np + 1, sizeof(pid_t));
    *n = 0;
    for (size_t i = 0; i < np; i++)
        if (ps[i].pid == root || ps[i].pgrp == root)
            out[(*n)++] = ps[i].pid;
    /* Descendants: add children of members until nothing changes. */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < np; i++) {
            int member = 0, parent_in = 0;
            for (size_t j = 0; j < *n; j++) {
                member |= out[j] == ps[i].pid;
                parent_in |= out[j] == ps[i].ppid;
            }
            if (!member && parent_in) {
                out[(*n)++] = ps[i].pid;
                changed = 1;
            }
        }
    }
    free(ps);
    return out;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Asks every process of the command for a dump and waits for them. */
static void dump_all(pid_t root, const char *sig, const char *prefix)
{
    size_t n;
    pid_t *pids = command_procs(root, &n);
    struct dump_target *t = xcalloc(n + 1, sizeof(*t));
    int *asked = xcalloc(n + 1, sizeof(int));
    for (size_t i = 0; i < n; i++)
        asked[i] =
            dump_target_open(&t[i], pids[i], sig, prefix) == 0 && dump_target_signal(&t[i]) == 0;
    long until = now_ms() + (long)(timeout_s * 1000);
    for (size_t i = 0; i < n; i++) {
        char *path = NULL;
        long left = until - now_ms();
        if (asked[i] && dump_target_wait(&t[i], left > 0 ? left : 1, &path) == 0)
            fprintf(stderr, "jeprof-c: process %d: dump %s\n", (int)pids[i], path);
        free(path);
        dump_target_free(&t[i]);
    }
    free(asked);
    free(t);
    free(pids);
}

/* ---- running the command ---- */

static volatile sig_atomic_t stop_sig; /* the last Ctrl-C/SIGTERM/SIGHUP received */
static volatile sig_atomic_t nstops;   /* how many */

static volatile sig_atomic_t nquits; /* SIGQUITs received (forwarded as they are) */

static void on_stop(int sig)
{
    stop_sig = sig;
    nstops++;
}

static void on_quit(int sig)
{
    (void)sig;
    nquits++;
}

/* The terminal record runs on as the foreground job, or -1. */
static int foreground_tty(void)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (tcgetpgrp(fd) != getpgrp()) {
        close(fd);
        return -1;
    }
    return fd;
}

/* True when the ELF program at path already contains liballoc, linked
 * statically (liballoc.a, e.g. the Rust crate's default): its note
 * ("liballoc", type 0x4c41, libprof/foreign.h; kept by strip), or, for a
 * build older than the note, the symbols mallocx and alloc_malloc in its
 * .symtab. Such a program is not given LD_PRELOAD: its own copy is the one
 * that serves malloc and writes the profile. */
static int program_has_liballoc(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    int found = 0, mallocx = 0, alloc_malloc = 0;
    Elf_Scn *scn = NULL;
    while (elf && !found && (scn = elf_nextscn(elf, scn))) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(scn, &sh) || !(d = elf_getdata(scn, NULL)))
            continue;
        if (sh.sh_type == SHT_NOTE) {
            GElf_Nhdr nh;
            size_t off = 0, name_off, desc_off, next;
            while (!found && (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
                found = nh.n_type == 0x4c41 && nh.n_namesz == 9 &&
                        memcmp((const char *)d->d_buf + name_off, "liballoc", 9) == 0;
                off = next;
            }
        } else if (sh.sh_type == SHT_SYMTAB && sh.sh_entsize) {
            for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
                GElf_Sym sym;
                const char *name;
                if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
                    !(name = elf_strptr(elf, sh.sh_link, sym.st_name)))
                    continue;
                mallocx |= strcmp(name, "mallocx") == 0;
                alloc_malloc |= strcmp(name, "alloc_malloc") == 0;
            }
            found = mallocx && alloc_malloc;
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return found;
}

/* Runs the command; returns its wait status (or -1 after error()). */
static int run_child(char **cmd, const char *preload, const char *conf, const char *sig,
                     const char *prefix, pid_t *pid_out, int *stopped_by)
{
    /* Handlers first (a signal right after fork must not kill record and
     * leave the command running); the command gets the old dispositions
     * back (an inherited SIG_IGN stays ignored, as without record). */
    struct sigaction sa, old[3], old_quit;
    const int stops[3] = {SIGINT, SIGTERM, SIGHUP};
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        sigaction(stops[i], &sa, &old[i]);
    sa.sa_handler = on_quit;
    sigaction(SIGQUIT, &sa, &old_quit);
    void (*old_ttou)(int) = signal(SIGTTOU, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            sigaction(stops[i], &old[i], NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        signal(SIGTTOU, old_ttou);
        setpgid(0, 0); /* terminal signals reach record, which dumps first */
        if (preload)
            setenv("LD_PRELOAD", preload, 1);
        setenv("MALLOC_CONF", conf, 1);
        execvp(cmd[0], cmd);
        fprintf(stderr, "error: cannot run '%s': %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    int st = 0;
    if (pid < 0) {
        error("cannot fork: %s", strerror(errno));
        st = -1;
        goto out_restore;
    }
    setpgid(pid, pid);
    *pid_out = pid;
    int tty = foreground_tty(), gave_tty = 0, handled = 0, quits = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG | WUNTRACED);
        if (r < 0 && errno != EINTR) {
            error("waitpid: %s", strerror(errno));
            st = -1;
            break;
        }
        if (r == pid && WIFSTOPPED(st)) {
            int s = WSTOPSIG(st);
            if ((s == SIGTTIN || s == SIGTTOU) && tty >= 0 && !gave_tty) {
                /* It wants the terminal: let it be the foreground job. */
                tcsetpgrp(tty, pid);
                gave_tty = 1;
                kill(-pid, SIGCONT);
            }
            continue; /* stopped by someone else: theirs to continue */
        }
        if (r == pid)
            break;
        if (nquits > quits) { /* SIGQUIT is the command's: no dump */
            quits = nquits;
            if (kill(-pid, SIGQUIT) != 0)
                kill(pid, SIGQUIT);
        }
        if (nstops > handled) {
            int s = stop_sig;
            if (handled == 0) {
                fprintf(stderr, "jeprof-c: got SIG%s: asking '%s' for a heap dump\n",
                        sigabbrev_np(s), cmd[0]);
                dump_all(pid, sig, prefix);
                *stopped_by = s;
            }
            handled = nstops;
            if (kill(-pid, s) != 0) /* it left its process group */
                kill(pid, s);
            continue;
        }
        poll(NULL, 0, 50);
    }
    if (gave_tty)
        tcsetpgrp(tty, getpgrp());
    if (tty >= 0)
        close(tty);
out_restore:
    for (int i = 0; i < 3; i++)
        sigaction(stops[i], &old[i], NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    signal(SIGTTOU, old_ttou);
    return st;
}

/* Runs "jeprof-c --text --nodecount=20 --flamegraph=SVG [program] dumps..."
 * from the same directory as this jeprof-c; 0 on success. */
static int run_report(const char *self, const char *svg, const char *prog, char **dumps,
                      size_t ndumps)
{
    char *exe = xasprintf("%s/jeprof-c", self);
    char *fg = xasprintf("--flamegraph=%s", svg);
    char **args = xcalloc(ndumps + 8, sizeof(char *));
    int k = 0, st = 1;
    args[k++] = exe;
    args[k++] = "--text";
    args[k++] = "--nodecount=20";
    args[k++] = fg;
    if (prog)
        args[k++] = (char *)prog;
    for (size_t i = 0; i < ndumps; i++)
        args[k++] = dumps[i];
    args[k] = NULL;
    fflush(stdout);
    pid_t rp = fork();
    if (rp == 0) {
        execv(exe, args);
        _exit(127);
    }
    if (rp > 0)
        while (waitpid(rp, &st, 0) < 0 && errno == EINTR)
            ;
    int ok = rp > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok)
        fprintf(stderr, "jeprof-c: flame graph in %s\n", svg);
    free(args);
    free(exe);
    free(fg);
    return ok ? 0 : 1;
}

static const char *kind_name(char k)
{
    switch (k) {
    case 'f':
        return "final dump";
    case 'm':
        return "dump taken on signal";
    case 'p':
        return "peak dump";
    case 'i':
        return "interval dump";
    case 'u':
        return "high-water dump";
    default:
        return "dump";
    }
}

/* Reports on the newest dump of every process (or their sum). */
static int report(const char *self, const char *dir, const char *cmd0, pid_t root, int st,
                  int stopped_by)
{
    size_t n;
    struct proc_dump *d = collect_dumps(dir, &n);
    if (!n) {
        free(d);
        return error("'%s' left no heap dump in '%s'", cmd0, dir);
    }
    /* The command's own process first, the others in pid order. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (d[j].pid == root || (d[i].pid != root && d[j].pid < d[i].pid)) {
                struct proc_dump t = d[i];
                d[i] = d[j];
                d[j] = t;
            }
    char *prog = which(cmd0);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *how = "";
        char buf[128] = "";
        if (d[i].pid == root && st >= 0 && WIFSIGNALED(st)) {
            snprintf(buf, sizeof(buf), "; it was killed by SIG%s, so this is its newest dump",
                     sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
            how = buf;
        } else if (stopped_by && d[i].kind != 'f') {
            snprintf(buf, sizeof(buf), "; stopped by SIG%s", sigabbrev_np(stopped_by));
            how = buf;
        }
        fprintf(stderr, "jeprof-c: process %d: %s %s%s\n", (int)d[i].pid, kind_name(d[i].kind),
                d[i].path, how);
    }
    if (sum || n == 1) {
        char **paths = xcalloc(n, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            paths[i] = d[i].path;
        char *svg = xasprintf("%s/flamegraph.svg", dir);
        if (n > 1)
            fprintf(stderr, "jeprof-c: the sum of %zu processes:\n", n);
        rc = run_report(self, svg, d[0].pid == root ? prog : NULL, paths, n);
        free(svg);
        free(paths);
    } else {
        for (size_t i = 0; i < n; i++) {
            char *svg = d[i].pid == root ? xasprintf("%s/flamegraph.svg", dir)
                                         : xasprintf("%s/flamegraph.%d.svg", dir, (int)d[i].pid);
            printf("%s== process %d (%s) ==\n", i ? "\n" : "", (int)d[i].pid,
                   d[i].pid == root ? cmd0 : "child");
            rc |= run_report(self, svg, d[i].pid == root ? prog : NULL, &d[i].path, 1);
            free(svg);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(d[i].path);
    free(d);
    free(prog);
    return rc;
}

/* MALLOC_CONF for the command: record's defaults, the user's, record's musts. */
static char *build_conf(const char *dir, int ours, char **sig_out)
{
    const char *user = getenv("MALLOC_CONF");
    char *user_sig = user ? dump_conf_get(user, "prof_dump_signal") : NULL;
    /* Another allocator (JEPROF_C_PRELOAD=jemalloc) would refuse the option. */
    int keep_sig = !ours || (user_sig && dump_signal_number(user_sig) > 0);
    char *lg = xasprintf("lg_prof_sample:%d", lg_sample < 0 ? 19 : lg_sample);
    char *before = xasprintf("%s%s", lg_sample < 0 ? lg : "", lg_sample < 0 ? "," : "");
    char *after = xasprintf("prof:true,prof_final:true,prof_prefix:%s/heap%s%s%s", dir,
                            keep_sig ? "" : ",prof_dump_signal:USR2", lg_sample < 0 ? "" : ",",
                            lg_sample < 0 ? "" : lg);
    char *conf = user && *user ? xasprintf("%s%s,%s", before, user, after)
                               : xasprintf("%s%s", before, after);
    if (keep_sig) {
        *sig_out = user_sig ? user_sig : xstrdup("USR2");
    } else {
        free(user_sig);
        *sig_out = xstrdup("USR2");
    }
    free(lg);
    free(before);
    free(after);
    return conf;
}

int record_main(int argc, char **argv, const char *argv0)
{
    int npos = parse_options(argc - 1, argv + 1, record_options);
    if (help) {
        print_usage(stdout, usage, record_options);
        return 0;
    }
    if (npos <= 0 || lg_sample < -1 || lg_sample > 63 || !(timeout_s > 0)) {
        print_usage(stderr, usage, record_options);
        return 2;
    }
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        return error("cannot create '%s': %s", out_dir, strerror(errno));
    char **cmd = xcalloc((size_t)npos + 1, sizeof(char *));
    memcpy(cmd, argv + 1, (size_t)npos * sizeof(char *));
    char *dir = realpath(out_dir, NULL);
    char *self = self_dir(argv0);
    char *preload = getenv("JEPROF_C_PRELOAD") ? xstrdup(getenv("JEPROF_C_PRELOAD"))
                                               : xasprintf("%s/liballoc.so", self);
    if (!getenv("JEPROF_C_PRELOAD") && access(preload, R_OK) != 0) {
        /* Installed layout: PREFIX/bin/jeprof-c and PREFIX/lib/liballoc.so. */
        free(preload);
        preload = xasprintf("%s/../lib/liballoc.so", self);
    }
    int rc = 1;
    char *prog = which(cmd[0]);
    int built_in = prog && program_has_liballoc(prog);
    free(prog);
    if (!dir || (!built_in && access(preload, R_OK) != 0)) {
        error("cannot find the allocator '%s' (set JEPROF_C_PRELOAD)", preload);
        goto out;
    }
    if (built_in)
        fprintf(stderr,
                "jeprof-c: '%s' contains liballoc (linked statically): not preloading %s, "
                "only setting MALLOC_CONF\n",
                cmd[0], preload);
    char *sig = NULL;
    const char *base = strrchr(preload, '/') ? strrchr(preload, '/') + 1 : preload;
    char *conf = build_conf(dir, built_in || strncmp(base, "liballoc", 8) == 0, &sig);
    char *prefix = xasprintf("%s/heap", dir);
    pid_t pid = 0;
    int stopped_by = 0;
    int st = run_child(cmd, built_in ? NULL : preload, conf, sig, prefix, &pid, &stopped_by);
    free(conf);
    free(sig);
    free(prefix);
    if (st < 0)
        goto out;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    rc = code ? code : 1; /* the command's own failure comes first */
    if (report(self, dir, cmd[0], pid, st, stopped_by) == 0 || code)
        rc = code;
out:
    free(cmd);
    free(dir);
    free(self);
    free(preload);
    return rc;
}
