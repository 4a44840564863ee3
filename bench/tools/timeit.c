/*
 * timeit: run a command and write its wall time, peak RSS and CPU times
 * with microsecond resolution (what /usr/bin/time -f "%e %M %U %S" gives,
 * but /usr/bin/time rounds CPU times to 10 ms: 3% of a 0.3 s run, more
 * than the differences bench/check_cost measures).
 *
 * Usage: timeit -o FILE command [args...]
 * Writes one line "ELAPSED_S MAXRSS_KB USER_S SYS_S" to FILE (seconds with
 * six decimals; user and sys from wait4's rusage of the child and all the
 * children it waited for). Exits with the command's exit status, 128+N if
 * a signal N ended it, 127 if it could not be run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "-o") != 0) {
		fprintf(stderr, "usage: timeit -o FILE command [args...]\n");
		return 127;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("timeit: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		fprintf(stderr, "timeit: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("timeit: wait4");
			return 127;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	FILE *f = fopen(argv[2], "w");
	if (f == NULL) {
		fprintf(stderr, "timeit: %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	fprintf(f, "%.6f %ld %.6f %.6f\n", wall, ru.ru_maxrss, tv_s(ru.ru_utime), tv_s(ru.ru_stime));
	if (fclose(f) != 0) {
		fprintf(stderr, "timeit: %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
