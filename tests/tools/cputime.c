// SPDX-License-Identifier: Apache-2.0
/*
 * cputime.c - what the benchmarks time a command with: runs CMD ARGS... and writes one line
 *
 *   WALL USER SYS MAXRSS_KB
 *
 * (seconds with six decimals, from clock_gettime and wait4's rusage) to FILE. /usr/bin/time
 * prints hundredths, and a capture read in 0.3 s then moves by 3% with one tick.
 *
 * Usage: cputime -o FILE CMD [ARGS...]. Exits with CMD's status (128 + signal when it was
 * killed), 127 when CMD cannot be run, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 4 || strcmp(argv[1], "-o")) {
		fprintf(stderr, "usage: cputime -o FILE CMD [ARGS...]\n");
		return 2;
	}
	FILE *out = fopen(argv[2], "w");
	if (!out) {
		fprintf(stderr, "cputime: fopen %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "cputime: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		fclose(out);
		execvp(argv[3], argv + 3);
		fprintf(stderr, "cputime: execvp %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "cputime: wait4: %s\n", strerror(errno));
			return 127;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(out, "%.6f %ld.%06ld %ld.%06ld %ld\n", wall, (long)ru.ru_utime.tv_sec,
		(long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec,
		ru.ru_maxrss);
	fclose(out);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
