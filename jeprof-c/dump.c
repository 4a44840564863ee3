/* dump: see dump.h. */
#include "dump.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "filebuf.h"
#include "message.h"
#include "options.h"
#include "xalloc.h"

/* ---- signal names ---- */

int dump_signal_number(const char *s)
{
    char buf[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)toupper((unsigned char)s[i]);
    const char *p = buf;
    char *end;
    if (isdigit((unsigned char)*p)) {
        errno = 0;
        long x = strtol(p, &end, 10);
        return errno || *end || x <= 0 || x >= NSIG ? -1 : (int)x;
    }
    if (strncmp(p, "SIG", 3) == 0)
        p += 3;
    if (strncmp(p, "RTMIN", 5) == 0 || strncmp(p, "RTMAX", 5) == 0) {
        int max = p[4] == 'X';
        long off = 0;
        if (p[5]) {
            if (p[5] != (max ? '-' : '+') || !isdigit((unsigned char)p[6]))
                return -1;
            errno = 0;
            off = strtol(p + 6, &end, 10);
            if (errno || *end || off > SIGRTMAX - SIGRTMIN)
                return -1;
        }
        return max ? SIGRTMAX - (int)off : SIGRTMIN + (int)off;
    }
    for (int i = 1; i < NSIG; i++) {
        const char *name = sigabbrev_np(i);
        if (name && strcmp(name, p) == 0)
            return i;
    }
    return -1;
}

/* ---- the process's configuration ---- */

/* What the allocator of the process read from the sources we can see. */
struct seen_conf {
    int any;      /* some source exists */
    int prof;     /* prof:true (or prof_leak / prof_leak_error) */
    char *prefix; /* prof_prefix (NULL: not set) */
    char *signal; /* prof_dump_signal (NULL: not set) */
    char *format; /* prof_format (NULL: not set) */
};

static void set_str(char **dst, const char *v, size_t n)
{
    free(*dst);
    *dst = xstrndup(v, n);
}

/* Applies "k:v,k:v" as the allocator does (later wins; a malformed pair
 * ends the source; a value the allocator refuses leaves the old one). */
static void conf_apply(struct seen_conf *c, const char *s)
{
    c->any = 1;
    while (*s) {
        const char *k = s;
        while (isalnum((unsigned char)*s) || *s == '_')
            s++;
        if (*s != ':')
            return;
        size_t klen = (size_t)(s - k);
        const char *v = ++s;
        while (*s && *s != ',')
            s++;
        size_t vlen = (size_t)(s - v);
        if (*s == ',')
            s++;
#define KEY(name) (klen == strlen(name) && memcmp(k, name, klen) == 0)
#define VAL(word) (vlen == strlen(word) && memcmp(v, word, vlen) == 0)
        if (KEY("prof") || KEY("prof_leak") || KEY("prof_leak_error")) {
            if (VAL("true"))
                c->prof = c->prof || 1;
            else if (VAL("false") && KEY("prof"))
                c->prof = 0;
        } else if (KEY("prof_prefix")) {
            set_str(&c->prefix, v, vlen);
        } else if (KEY("prof_dump_signal")) {
            char *tmp = xstrndup(v, vlen);
            if (vlen == 0 || dump_signal_number(tmp) > 0)
                set_str(&c->signal, v, vlen);
            free(tmp);
        } else if (KEY("prof_format")) {
            if (VAL("heap_v2") || VAL("pprof") || VAL("both"))
                set_str(&c->format, v, vlen);
        }
#undef KEY
#undef VAL
    }
}

char *dump_conf_get(const char *conf, const char *key)
{
    char *r = NULL;
    size_t kl = strlen(key);
    for (const char *s = conf; s && *s;) {
        const char *colon = strchr(s, ':');
        if (!colon)
            break;
        const char *v = colon + 1, *e = strchr(v, ',');
        size_t vl = e ? (size_t)(e - v) : strlen(v);
        if ((size_t)(colon - s) == kl && memcmp(s, key, kl) == 0) {
            free(r);
            r = xstrndup(v, vl);
        }
        s = e ? e + 1 : NULL;
    }
    return r;
}

/* MALLOC_CONF from /proc/PID/environ, or NULL. */
static char *environ_conf(pid_t pid, int *err)
{
    char path[64];
    struct filebuf fb;
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    *err = filebuf_read(&fb, path);
    if (*err)
        return NULL;
    /* The first MALLOC_CONF=, as getenv in the process (the allocator's
     * secure_getenv) finds it when the environment holds two. */
    char *r = NULL;
    for (size_t i = 0; i < fb.len && !r; i += strlen(fb.data + i) + 1)
        if (strncmp(fb.data + i, "MALLOC_CONF=", 12) == 0)
            r = xstrdup(fb.data + i + 12);
    filebuf_free(&fb);
    return r;
}

static void read_conf(pid_t pid, struct seen_conf *c, int *err)
{
    char path[80], link[4096];
    memset(c, 0, sizeof(*c));
    /* The link as the process sees it (its root: containers too). */
    snprintf(path, sizeof(path), "/proc/%d/root/etc/malloc.conf", (int)pid);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n > 0) {
        link[n] = 0;
        conf_apply(c, link);
    }
    char *env = environ_conf(pid, err);
    if (env)
        conf_apply(c, env);
    free(env);
}

static void conf_free(struct seen_conf *c)
{
    free(c->prefix);
    free(c->signal);
    free(c->format);
}

/* ---- /proc checks ---- */

/* A "Name:\t..." line of /proc/PID/status, or NULL. */
static char *status_field(pid_t pid, const char *name)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = strlen(name);
    char *r = NULL;
    while (!r && fgets(line, sizeof(line), f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            char *v = line + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = 0;
            r = xstrdup(v);
        }
    fclose(f);
    return r;
}

/* Does the process run liballoc: mapped as a library, or linked into the
 * executable (our option names are in its bytes)? -1 when unreadable. */
static int runs_liballoc(pid_t pid)
{
    char path[64];
    struct filebuf fb;
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    if (filebuf_read(&fb, path))
        return -1;
    int found = 0;
    for (char *l = fb.data; l && *l && !found;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = 0;
        char *slash = strrchr(l, '/');
        if (slash && strncmp(slash + 1, "liballoc", 8) == 0)
            found = 1;
        l = nl ? nl + 1 : NULL;
    }
    filebuf_free(&fb);
    if (found)
        return 1;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    if (filebuf_read(&fb, path))
        return 0;
    found = memmem(fb.data, fb.len, "prof_dump_signal", 16) != NULL;
    filebuf_free(&fb);
    return found;
}

/* Is signal sig caught (a handler installed) in the process? */
static int catches(pid_t pid, int sig)
{
    char *v = status_field(pid, "SigCgt");
    if (!v)
        return 0;
    unsigned long long mask = strtoull(v, NULL, 16);
    free(v);
    return sig >= 1 && sig <= 64 && (mask >> (sig - 1) & 1);
}

static int gone(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    char *st = status_field(pid, "State");
    int z = !st || st[0] == 'Z' || st[0] == 'X';
    free(st);
    return z;
}

/* Field k (0-based) of a numeric /proc/PID/status line ("Uid", "Gid"), or -1. */
static long status_id(pid_t pid, const char *name, int k)
{
    char *v = status_field(pid, name);
    long r = -1;
    char *p = v, *end;
    for (int i = 0; p && i <= k; i++, p = end) {
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno)
            break;
        if (i == k)
            r = x;
    }
    free(v);
    return r;
}

/* Can the process create files in dir (its file-system uid and groups
 * against the directory's mode; a read-only mount)? 0 yes or unsure (an
 * ACL decides: the process will tell), else 1 after error(). */
static int dir_check(pid_t pid, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return error("the dump directory '%s' of process %d: %s: it cannot write a dump there", dir,
                     (int)pid, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return error("the dump directory '%s' of process %d is not a directory", dir, (int)pid);
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        return error("the dump directory '%s' of process %d is on a read-only file system", dir,
                     (int)pid);
    long uid = status_id(pid, "Uid", 3), gid = status_id(pid, "Gid", 3);
    if (uid < 0 || gid < 0 || uid == 0)
        return 0; /* unknown, or root (may override modes) */
    if (getxattr(dir, "system.posix_acl_access", NULL, 0) > 0)
        return 0;
    mode_t need;
    if ((long)st.st_uid == uid) {
        need = S_IWUSR | S_IXUSR;
    } else {
        int member = (long)st.st_gid == gid;
        char *groups = status_field(pid, "Groups");
        char *p = groups, *end;
        while (!member && p && *p) {
            long g = strtol(p, &end, 10);
            if (end == p)
                break;
            member = g == (long)st.st_gid;
            p = end;
        }
        free(groups);
        need = member ? S_IWGRP | S_IXGRP : S_IWOTH | S_IXOTH;
    }
    if ((st.st_mode & need) != need)
        return error("process %d (uid %ld) cannot write in its dump directory '%s' (mode %04o, "
                     "owner uid %ld): no dump would come; make it writable or start the process "
                     "with another prof_prefix",
                     (int)pid, uid, dir, (unsigned)(st.st_mode & 07777), (long)st.st_uid);
    return 0;
}

/* Is sig set in the hexadecimal mask of status line name? */
static int mask_has(pid_t pid, const char *name, int sig)
{
    char *v = status_field(pid, name);
    if (!v)
        return 0;
    unsigned long long mask = strtoull(v, NULL, 16);
    free(v);
    return sig >= 1 && sig <= 64 && (mask >> (sig - 1) & 1);
}

/* The id of the process's thread named prof_dump_sig (the dump thread),
 * 0 when it has none, -1 when /proc cannot tell. */
static long dump_thread(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char cp[600];
        snprintf(cp, sizeof(cp), "%s/%s/comm", path, e->d_name);
        FILE *f = fopen(cp, "r");
        if (!f)
            continue;
        char comm[32] = "";
        if (fgets(comm, sizeof(comm), f))
            found = strcmp(comm, "prof_dump_sig\n") == 0 ? strtol(e->d_name, NULL, 10) : 0;
        fclose(f);
    }
    closedir(d);
    return found;
}

/* The dump signal as the dump thread shows it: that thread blocks every
 * signal but the dump signal (and those that cannot be blocked: KILL, STOP,
 * glibc's 32 and 33). 0 when there is no such thread or no single answer. */
static int dump_thread_signal(pid_t pid)
{
    long tid = dump_thread(pid);
    if (tid <= 0)
        return 0;
    char path[96], line[256];
    snprintf(path, sizeof(path), "/proc/%d/task/%ld/status", (int)pid, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int sig = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "SigBlk:", 7) != 0)
            continue;
        unsigned long long blk = strtoull(line + 7, NULL, 16);
        for (int i = 1; i <= 64; i++) {
            if ((blk >> (i - 1) & 1) || i == SIGKILL || i == SIGSTOP || i == 32 || i == 33)
                continue;
            sig = sig ? -1 : i;
        }
    }
    fclose(f);
    return sig > 0 ? sig : 0;
}

int dump_target_open(struct dump_target *t, pid_t pid, const char *sig_opt, const char *prefix_opt)
{
    memset(t, 0, sizeof(*t));
    t->pid = pid;
    if (pid <= 0)
        return error("'%d' is not a process id", (int)pid);
    if (kill(pid, 0) != 0) {
        if (errno == ESRCH)
            return error("no such process '%d'", (int)pid);
        if (errno == EPERM) {
            char *uid = status_field(pid, "Uid");
            error("process %d belongs to another user (uid %s): run jeprof-c dump as that "
                  "user or as root",
                  (int)pid, uid ? strtok(uid, " \t") : "?");
            free(uid);
            return 1;
        }
        return error("process %d: %s", (int)pid, strerror(errno));
    }
    int lib = runs_liballoc(pid);
    if (lib < 0)
        return error("cannot read /proc/%d/maps: %s", (int)pid, strerror(errno));
    if (!lib)
        return error("process %d does not run liballoc (no liballoc in /proc/%d/maps): it "
                     "cannot dump on a signal",
                     (int)pid, (int)pid);
    struct seen_conf c;
    int err = 0;
    read_conf(pid, &c, &err);
    if (err) {
        conf_free(&c);
        return error("cannot read /proc/%d/environ: %s", (int)pid, strerror(err));
    }
    const char *hidden = "a malloc_conf compiled into the program is not visible from "
                         "outside: give --signal and --prefix";
    int rc = 1;
    if (sig_opt) {
        t->signo = dump_signal_number(sig_opt);
        if (t->signo <= 0) {
            error("'%s' is not a signal", sig_opt);
            goto out;
        }
    } else if (!c.prof && !c.any && dump_thread_signal(pid) > 0 && prefix_opt) {
        /* Its environment was rewritten (setproctitle: redis, nginx,
         * postgres) and the user gave the prefix: the dump thread shows
         * the signal. */
        t->signo = dump_thread_signal(pid);
    } else {
        if (!c.prof && !c.any && dump_thread_signal(pid) > 0) {
            int sig = dump_thread_signal(pid);
            error("process %d dumps on SIG%s (its dump thread says so), but its configuration is "
                  "not visible from outside (a malloc_conf compiled into the program is not "
                  "visible, and a program that rewrites its environment for its process title, "
                  "as redis and nginx do, hides /proc/%d/environ): give its prof_prefix with "
                  "--prefix=P",
                  (int)pid, sigabbrev_np(sig) ? sigabbrev_np(sig) : "RT", (int)pid);
            goto out;
        }
        if (!c.prof) {
            if (c.any)
                error("profiling is off in process %d (no prof:true in its MALLOC_CONF; %s)",
                      (int)pid, hidden);
            else
                /* Not "profiling is off": a program that rewrites its
                 * environment for its process title (redis, nginx) hides
                 * a MALLOC_CONF it runs with, and this one shows no dump
                 * thread (its dump signal, if any, is not installed). */
                error("process %d shows no MALLOC_CONF in /proc/%d/environ and no dump thread: "
                      "either profiling is off, or it is on without a dump signal (a program "
                      "that rewrites its environment for its process title, as redis and nginx "
                      "do, hides its MALLOC_CONF); start it with "
                      "MALLOC_CONF=prof:true,prof_dump_signal:USR2 (%s)",
                      (int)pid, (int)pid, hidden);
            goto out;
        }
        if (!c.signal || !c.signal[0]) {
            error("process %d has no dump signal: start it with "
                  "MALLOC_CONF=prof:true,prof_dump_signal:USR2 (%s)",
                  (int)pid, hidden);
            goto out;
        }
        t->signo = dump_signal_number(c.signal);
    }
    if (!catches(pid, t->signo)) {
        error("process %d does not catch signal %d (SIG%s): its dump signal is not installed "
              "(profiling off?); not sending it",
              (int)pid, t->signo, sigabbrev_np(t->signo) ? sigabbrev_np(t->signo) : "RT");
        goto out;
    }
    const char *prefix = prefix_opt ? prefix_opt : c.prefix ? c.prefix : "jeprof";
    if (!prefix[0]) {
        error("process %d has an empty prof_prefix: it writes no dumps", (int)pid);
        goto out;
    }
    char *full;
    if (prefix[0] == '/') {
        /* Absolute in the process's root (chroot, a container's mount). */
        char rootlink[64], root[PATH_MAX];
        snprintf(rootlink, sizeof(rootlink), "/proc/%d/root", (int)pid);
        ssize_t n = readlink(rootlink, root, sizeof(root) - 1);
        if (n <= 0) {
            error("cannot read %s: %s", rootlink, strerror(errno));
            goto out;
        }
        root[n] = 0;
        full = strcmp(root, "/") == 0 ? xstrdup(prefix) : xasprintf("%s%s", root, prefix);
    } else {
        /* The process writes relative to its own working directory. */
        char cwdlink[64], cwd[PATH_MAX];
        snprintf(cwdlink, sizeof(cwdlink), "/proc/%d/cwd", (int)pid);
        ssize_t n = readlink(cwdlink, cwd, sizeof(cwd) - 1);
        if (n <= 0) {
            error("cannot read %s: %s", cwdlink, strerror(errno));
            goto out;
        }
        cwd[n] = 0;
        full = xasprintf("%s/%s", cwd, prefix);
    }
    char *slash = strrchr(full, '/');
    t->dir = slash == full ? xstrdup("/") : xstrndup(full, (size_t)(slash - full));
    t->base = xstrdup(slash + 1);
    free(full);
    if (dir_check(pid, t->dir))
        goto out;
    /* Not in the visible sources: the default, unless the program's
     * malloc_conf set it; then either kind of file will do. */
    const char *fmt = c.format ? c.format : "heap_v2";
    t->format_known = c.format != NULL;
    t->want_heap = strcmp(fmt, "pprof") != 0;
    t->want_pb = strcmp(fmt, "heap_v2") != 0;
    rc = 0;
out:
    conf_free(&c);
    return rc;
}

/* ---- waiting for the dump ---- */

/* 1 for "<base>.<pid>.<seq>.m<N>.heap", 2 for the same ".pb.gz", else 0;
 * *seq and *stemlen (up to the suffix) set on a match. */
static int dump_name(const struct dump_target *t, const char *name, unsigned long long *seq,
                     size_t *stemlen)
{
    size_t bl = strlen(t->base);
    if (strncmp(name, t->base, bl) != 0 || name[bl] != '.')
        return 0;
    const char *p = name + bl + 1;
    char *end;
    if (!isdigit((unsigned char)*p) || strtol(p, &end, 10) != t->pid || *end != '.')
        return 0;
    p = end + 1;
    if (!isdigit((unsigned char)*p))
        return 0;
    *seq = strtoull(p, &end, 10);
    if (end[0] != '.' || end[1] != 'm' || !isdigit((unsigned char)end[2]))
        return 0;
    strtoull(end + 2, &end, 10);
    *stemlen = (size_t)(end - name);
    if (strcmp(end, ".heap") == 0)
        return 1;
    if (strcmp(end, ".pb.gz") == 0)
        return 2;
    return 0;
}

/* The writer's temporary suffix ".tmp.<digits>" at the end of name, or NULL. */
static const char *tmp_suffix(const char *name)
{
    size_t n = strlen(name), i = n;
    while (i > 0 && isdigit((unsigned char)name[i - 1]))
        i--;
    if (i == n || i < 5 || memcmp(name + i - 5, ".tmp.", 5) != 0)
        return NULL;
    return name + i - 5;
}

/* Inode and time of dir/name; 0, or -1 when it cannot be read. */
static int file_id(const char *dir, const char *name, unsigned long long *ino, long long *mtime_ns)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct stat st;
    int r = stat(path, &st);
    free(path);
    if (r != 0)
        return -1;
    *ino = (unsigned long long)st.st_ino;
    *mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    return 0;
}

/* Was this dump there before the signal (the same file), or being written? */
static int seen_before(const struct dump_target *t, const char *name)
{
    for (size_t i = 0; i < t->nbefore; i++) {
        const struct dump_seen *b = &t->before[i];
        if (strcmp(b->name, name) != 0)
            continue;
        if (b->in_progress)
            return 1;
        unsigned long long ino;
        long long mt;
        if (file_id(t->dir, name, &ino, &mt) != 0)
            return 1; /* gone again: not an answer */
        if (ino == b->ino && mt == b->mtime_ns)
            return 1;
    }
    return 0;
}

int dump_target_signal(struct dump_target *t)
{
    DIR *d = opendir(t->dir);
    if (!d)
        return error("cannot read the dump directory '%s': %s", t->dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long seq;
        size_t stem;
        /* A dump being written now ("<name>.tmp.<pid>") was asked for
         * before our signal: its state is older than the request, so it is
         * not the answer (the process writes one more dump for a signal
         * that comes during a dump). */
        const char *tmp = tmp_suffix(e->d_name);
        char *name = tmp ? xstrndup(e->d_name, (size_t)(tmp - e->d_name)) : xstrdup(e->d_name);
        if (!dump_name(t, name, &seq, &stem)) {
            free(name);
            continue;
        }
        struct dump_seen b = {.name = name, .in_progress = tmp != NULL};
        if (!tmp && file_id(t->dir, name, &b.ino, &b.mtime_ns) != 0) {
            free(name); /* renamed away since readdir */
            continue;
        }
        GROW(t->before, cap, t->nbefore + 1);
        t->before[t->nbefore++] = b;
    }
    closedir(d);
    /* To the dump thread itself when there is one: a signal sent to the
     * process could be taken first by a program reading every signal
     * (signalfd, sigwait); one sent to that thread can only reach it,
     * and it does not block the dump signal. */
    long tid = dump_thread(t->pid);
    if (tid > 0 && syscall(SYS_tgkill, (int)t->pid, (int)tid, t->signo) == 0)
        return 0;
    if (kill(t->pid, t->signo) != 0)
        return error("cannot signal process %d: %s", (int)t->pid, strerror(errno));
    return 0;
}

/* The newest new dump that is complete (both files under prof_format:both). */
static char *find_new(const struct dump_target *t)
{
    DIR *d = opendir(t->dir);
    if (!d)
        return NULL;
    char *best = NULL;
    unsigned long long best_seq = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long seq;
        size_t stem;
        int kind = dump_name(t, e->d_name, &seq, &stem);
        if (!kind || seen_before(t, e->d_name))
            continue;
        if (t->format_known && (kind == 1) != (t->want_heap != 0))
            continue;
        if (!t->format_known && best && seq == best_seq && kind == 2)
            continue; /* both kinds of one dump: the .heap */
        if (t->format_known && t->want_heap && t->want_pb) {
            char *pb = xasprintf("%s/%.*s.pb.gz", t->dir, (int)stem, e->d_name);
            int ok = access(pb, F_OK) == 0;
            free(pb);
            if (!ok)
                continue;
        }
        if (!best || seq >= best_seq) {
            free(best);
            best = xasprintf("%s/%s", t->dir, e->d_name);
            best_seq = seq;
        }
    }
    closedir(d);
    return best;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* No dump came: say why, as far as /proc tells. */
static int timeout_error(const struct dump_target *t, long timeout_ms)
{
    const char *name = sigabbrev_np(t->signo) ? sigabbrev_np(t->signo) : "RT";
    double s = (double)timeout_ms / 1000;
    int pid = (int)t->pid;
    char *st = status_field(t->pid, "State");
    int stopped = st && (st[0] == 'T' || st[0] == 't');
    free(st);
    if (stopped)
        return error("no new dump from process %d after %.1f s: it is stopped (SIGSTOP or a "
                     "debugger): it answers once continued",
                     pid, s);
    if (mask_has(t->pid, "SigPnd", t->signo) || mask_has(t->pid, "ShdPnd", t->signo))
        return error("no new dump from process %d after %.1f s: SIG%s is still pending (every "
                     "thread blocks it)",
                     pid, s, name);
    if (!mask_has(t->pid, "SigCgt", t->signo))
        return error("no new dump from process %d after %.1f s: it no longer catches SIG%s", pid, s,
                     name);
    if (dump_thread(t->pid) == 0)
        return error("no new dump from process %d after %.1f s: it has no dump thread "
                     "(prof_dump_sig); is profiling on in this process?",
                     pid, s);
    return error("no new dump from process %d in '%s' after %.1f s: SIG%s was delivered; either "
                 "the program installed its own handler for SIG%s or reads it itself (signalfd, "
                 "sigwait: it then never reaches the allocator; start it with another "
                 "prof_dump_signal), or the dump failed (see its stderr)",
                 pid, t->dir, s, name, name);
}

int dump_target_wait(struct dump_target *t, long timeout_ms, char **path)
{
    long until = now_ms() + timeout_ms;
    for (;;) {
        if ((*path = find_new(t)))
            return 0;
        if (gone(t->pid)) {
            /* It may have written the dump just before exiting. */
            if ((*path = find_new(t)))
                return 0;
            return error("process %d exited before its dump was written", (int)t->pid);
        }
        if (now_ms() >= until)
            return timeout_error(t, timeout_ms);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void dump_target_free(struct dump_target *t)
{
    for (size_t i = 0; i < t->nbefore; i++)
        free(t->before[i].name);
    free(t->before);
    free(t->dir);
    free(t->base);
    memset(t, 0, sizeof(*t));
}

/* ---- jeprof-c dump ---- */

static double timeout_s = 10;
static const char *sig_opt, *prefix_opt;
static int help;

/* clang-format off */
static const struct option dump_options[] = {
    {OPT_DOUBLE, "timeout", &timeout_s, 0, "S", "wait at most S seconds for the dump (10)"},
    {OPT_STRING, "signal", &sig_opt, 0, "SIG", "the dump signal, when it is set in the program's malloc_conf"},
    {OPT_STRING, "prefix", &prefix_opt, 0, "P", "the dump prefix, when it is set in the program's malloc_conf"},
    {OPT_SET_INT, "help", &help, 1, NULL, "this text"},
    {0, NULL, NULL, 0, NULL, NULL},
};
/* clang-format on */

static const char usage[] = "usage: jeprof-c dump [--timeout=S] [--signal=SIG] [--prefix=P] PID";

int dump_main(int argc, char **argv)
{
    int npos = parse_options(argc - 1, argv + 1, dump_options);
    if (help) {
        print_usage(stdout, usage, dump_options);
        return 0;
    }
    if (npos != 1 || !(timeout_s > 0) || timeout_s > 1e6) {
        print_usage(stderr, usage, dump_options);
        return 2;
    }
    char *end;
    errno = 0;
    long pid = strtol(argv[1], &end, 10);
    if (errno || *end || end == argv[1] || pid <= 0 || pid > INT_MAX) {
        error("'%s' is not a process id", argv[1]);
        return 2;
    }
    struct dump_target t;
    char *path = NULL;
    int rc = dump_target_open(&t, (pid_t)pid, sig_opt, prefix_opt);
    if (!rc)
        rc = dump_target_signal(&t);
    if (!rc)
        rc = dump_target_wait(&t, (long)(timeout_s * 1000), &path);
    if (!rc) {
        size_t n = strlen(path);
        if (t.format_known && t.want_heap && t.want_pb && n > 5)
            printf("%.*s.pb.gz\n", (int)(n - 5), path);
        printf("%s\n", path);
        if (fflush(stdout) != 0)
            rc = error("writing output: %s", strerror(errno));
    }
    free(path);
    dump_target_free(&t);
    return rc ? 1 : 0;
}
