// SPDX-License-Identifier: Apache-2.0
/*
 * replay.c - runs a fuzz harness over files without libFuzzer, so that every corpus entry and
 * every crash reproducer under tests/fuzz/corpus/<name>/ is part of the normal test run (with
 * ASan/UBSan under SAN=1). Arguments are files or directories.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: fopen %s: %m\n", path);
		return -1;
	}
	uint8_t *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!buf)
		return -1;
	/* An exact-size copy so that ASan sees reads past the input's end. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, errors = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			errors += replay_file(argv[i]) != 0;
			files++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char p[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			errors += replay_file(p) != 0;
			files++;
		}
		if (d)
			closedir(d);
	}
	if (errors)
		printf("FAIL replay: %d of %d inputs unreadable\n", errors, files);
	else
		printf("PASS replay: %d inputs\n", files);
	return errors ? 1 : 0;
}
