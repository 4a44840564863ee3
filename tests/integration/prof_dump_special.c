/*
 * prof_dump_special: prof.dump to a path that names something other than a
 * regular file writes into it, as jemalloc does, and never replaces it.
 * Dumps are written to "<path>.tmp.<pid>" and renamed into place, which
 * over a FIFO, a device or a symbolic link replaced the node itself with a
 * regular file (run as root, `prof.dump` to "/dev/full" replaced the
 * device). Checked here on nodes of our own (a FIFO, symbolic links):
 *   - a FIFO a reader holds open: the reader gets the whole heap_v2 dump,
 *     and the FIFO is still a FIFO;
 *   - a FIFO with no reader: EFAULT at once (the open fails with ENXIO),
 *     not a dump blocked until a reader comes;
 *   - a symbolic link to a regular file: the link stays a link, its target
 *     holds the dump;
 *   - a symbolic link to such a FIFO: as for the FIFO, the link kept;
 *   - a directory: EFAULT, nothing created beside it;
 *   - something at the temporary's name "<path>.tmp.<pid>" (a symbolic
 *     link planted to make the dump overwrite another file): replaced,
 *     the other file untouched;
 *   - a FIFO of another user at the dump's name (run as root): replaced,
 *     nothing written into it;
 *   - a regular file and a new name: written (atomically) as before.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* F_SETPIPE_SZ */
#endif
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>

static char dir[] = "/tmp/prof_dump_special.XXXXXX";
static char fifo[256];
static char got[1 << 20];
static size_t got_len;

static int dump_to(const char *path)
{
    return mallctl("prof.dump", NULL, NULL, &path, sizeof(path));
}

/* A reader holds the FIFO open (as `cat fifo` would, started earlier), with
 * room for the whole dump, so the dump needs no reader thread. */
static void check_fifo_read(const char *via)
{
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    CHECK(rfd >= 0);
    CHECK(fcntl(rfd, F_SETPIPE_SZ, 1 << 20) >= (1 << 16));
    CHECK_I(dump_to(via), ==, 0);
    got_len = 0;
    ssize_t k;
    while ((k = read(rfd, got + got_len, sizeof(got) - 1 - got_len)) > 0)
        got_len += (size_t)k;
    got[got_len] = 0;
    close(rfd);
    CHECK_MSG(got_len > 100 && strncmp(got, "heap_v2/", 8) == 0,
              "the FIFO's reader got %zu bytes: '%.40s'", got_len, got);
    CHECK_MSG(strstr(got, "MAPPED_LIBRARIES:") != NULL, "the dump read from the FIFO is not whole");
    struct stat st;
    CHECK_I(lstat(fifo, &st), ==, 0);
    CHECK_MSG(S_ISFIFO(st.st_mode), "the FIFO was replaced (mode %o)", (unsigned)st.st_mode);
}

int main(void)
{
    tl_require_liballoc();
    void *keep = malloc(200000); /* something to dump */
    CHECK(keep != NULL);
    CHECK(mkdtemp(dir) != NULL);
    char reg[256], link_reg[256], link_fifo[256], newname[256];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    snprintf(reg, sizeof(reg), "%s/reg.heap", dir);
    snprintf(link_reg, sizeof(link_reg), "%s/link_reg.heap", dir);
    snprintf(link_fifo, sizeof(link_fifo), "%s/link_fifo", dir);
    snprintf(newname, sizeof(newname), "%s/new.heap", dir);
    CHECK_I(mkfifo(fifo, 0600), ==, 0);
    CHECK_I(symlink(fifo, link_fifo), ==, 0);
    int fd = open(reg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK_I(write(fd, "old\n", 4), ==, 4);
    close(fd);
    CHECK_I(symlink(reg, link_reg), ==, 0);

    check_fifo_read(fifo);
    check_fifo_read(link_fifo);
    struct stat st;
    CHECK_I(lstat(link_fifo, &st), ==, 0);
    CHECK_MSG(S_ISLNK(st.st_mode), "the link to the FIFO was replaced (mode %o)",
              (unsigned)st.st_mode);

    /* No reader: a prompt failure, not a hang. */
    double t0 = tl_now();
    CHECK_I(dump_to(fifo), ==, EFAULT);
    CHECK(tl_now() - t0 < 2.0);
    CHECK_I(lstat(fifo, &st), ==, 0);
    CHECK(S_ISFIFO(st.st_mode));

    /* A link to a regular file: the link stays, its target gets the dump. */
    CHECK_I(dump_to(link_reg), ==, 0);
    CHECK_I(lstat(link_reg, &st), ==, 0);
    CHECK_MSG(S_ISLNK(st.st_mode), "the link was replaced by a regular file (mode %o)",
              (unsigned)st.st_mode);
    char buf[16] = {0};
    fd = open(reg, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_I(read(fd, buf, 8), ==, 8);
    close(fd);
    CHECK_MSG(strncmp(buf, "heap_v2/", 8) == 0, "the link's target holds '%.8s'", buf);

    /* A directory: refused, nothing left beside it. */
    CHECK_I(dump_to(dir), ==, EFAULT);
    CHECK_I(lstat(dir, &st), ==, 0);
    CHECK(S_ISDIR(st.st_mode));

    /* Something already at the temporary's name (a symbolic link planted
     * to make the dump overwrite another file): replaced, never followed. */
    char victim[256], planted[300];
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    snprintf(planted, sizeof(planted), "%s.tmp.%d", newname, (int)getpid());
    fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK_I(write(fd, "precious\n", 9), ==, 9);
    close(fd);
    CHECK_I(symlink(victim, planted), ==, 0);
    CHECK_I(dump_to(newname), ==, 0);
    CHECK_I(lstat(newname, &st), ==, 0);
    CHECK_MSG(S_ISREG(st.st_mode), "the dump's name became a symbolic link (mode %o)",
              (unsigned)st.st_mode);
    memset(buf, 0, sizeof(buf));
    fd = open(victim, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_I(read(fd, buf, 15), ==, 9);
    close(fd);
    CHECK_MSG(strcmp(buf, "precious\n") == 0, "the dump went through the planted link: '%.8s'",
              buf);
    CHECK_I(unlink(victim), ==, 0);
    CHECK_I(unlink(newname), ==, 0);

    /* A FIFO another user put at the dump's name (to read the profile):
     * replaced by the dump, never written into. Needs root to make one. */
    if (geteuid() == 0) {
        char other[256];
        snprintf(other, sizeof(other), "%s/other_fifo", dir);
        CHECK_I(mkfifo(other, 0666), ==, 0);
        CHECK_I(chown(other, 65534, 65534), ==, 0);
        int rfd = open(other, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        CHECK(rfd >= 0);
        CHECK_I(dump_to(other), ==, 0);
        char c;
        CHECK_MSG(read(rfd, &c, 1) <= 0, "another user's FIFO received the dump");
        close(rfd);
        CHECK_I(lstat(other, &st), ==, 0);
        CHECK_MSG(S_ISREG(st.st_mode) && st.st_uid == 0, "another user's FIFO kept (mode %o)",
                  (unsigned)st.st_mode);
        CHECK_I(unlink(other), ==, 0);
    }

    /* A regular file and a new name: written as before. */
    CHECK_I(unlink(link_reg), ==, 0);
    CHECK_I(dump_to(reg), ==, 0);
    CHECK_I(dump_to(newname), ==, 0);
    CHECK_I(stat(newname, &st), ==, 0);
    CHECK(S_ISREG(st.st_mode) && st.st_size > 100);

    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls -A %s | sort | tr '\\n' ' '", dir);
    FILE *ls = popen(cmd, "r");
    char names[512] = {0};
    CHECK(ls != NULL && fgets(names, sizeof(names), ls) != NULL);
    pclose(ls);
    CHECK_MSG(strcmp(names, "fifo link_fifo new.heap reg.heap ") == 0, "left in the directory: %s",
              names);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_I(system(cmd), ==, 0);
    free(keep);
    printf("ok\n");
    return 0;
}
