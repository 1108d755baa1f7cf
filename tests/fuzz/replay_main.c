/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Replays fuzz inputs (seed corpus and crash regressions) through a fuzz
 * target's LLVMFuzzerTestOneInput without libFuzzer, so that every build,
 * the sanitizer one included, runs them under CTest.
 * Usage: replay_NAME FILE|DIR... */
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
	uint8_t *buf;
	long n;

	if (!f) {
		perror(path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		fprintf(stderr, "%s: read failed\n", path);
		fclose(f);
		free(buf);
		return 1;
	}
	fclose(f);
	/* An exact-size copy, so ASan catches a read one past the end. */
	uint8_t *exact = malloc(n > 0 ? (size_t)n : 1);
	if (n > 0)
		memcpy(exact, buf, (size_t)n);
	LLVMFuzzerTestOneInput(exact, (size_t)n);
	free(exact);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0, count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0)
			continue; /* an area with no regressions yet */
		if (!S_ISDIR(st.st_mode)) {
			rc |= replay_file(argv[i]);
			count++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char p[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			rc |= replay_file(p);
			count++;
		}
		if (d)
			closedir(d);
	}
	printf("replayed %d inputs\n", count);
	/* A replay of nothing would prove nothing. */
	return rc || count == 0;
}
