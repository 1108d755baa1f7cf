/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfk_blob_read (mmap, stdin, errors) and dfk_out (atomic replace). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/formats.h"

static char dir[64];

static const char *path_in(const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *path, void *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Entries in dir other than . and .. */
static int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/dfk-fileio-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void read_regular(void **state)
{
	dfk_blob b;
	dfk_error err;
	(void)state;
	write_file(path_in("a.bin"), "hello", 5);
	assert_int_equal(dfk_blob_read(path_in("a.bin"), &b, &err), DFK_OK);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	dfk_blob_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	dfk_blob_free(&b); /* twice is harmless */

	write_file(path_in("empty.bin"), "", 0);
	assert_int_equal(dfk_blob_read(path_in("empty.bin"), &b, &err), DFK_OK);
	assert_int_equal(b.len, 0);
	dfk_blob_free(&b);
	unlink(path_in("a.bin"));
	unlink(path_in("empty.bin"));
}

static void read_errors(void **state)
{
	dfk_blob b;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_blob_read(path_in("missing.bin"), &b, &err), DFK_ERR_NOINPUT);
	assert_non_null(strstr(err.msg, "missing.bin"));
	assert_non_null(strstr(err.msg, strerror(ENOENT)));
	assert_null(b.data);
	assert_int_equal(dfk_blob_read(dir, &b, &err), DFK_ERR_NOINPUT);
	assert_non_null(strstr(err.msg, "directory"));
	assert_int_equal(dfk_blob_read("", &b, &err), DFK_ERR_NOINPUT);
	assert_int_equal(dfk_blob_read(NULL, &b, &err), DFK_ERR_NOINPUT);
}

/* "-" reads stdin to its end, also beyond a pipe buffer. */
static void read_stdin(void **state)
{
	enum { N = 300000 };
	int fds[2], saved;
	pid_t pid;
	dfk_blob b;
	dfk_error err;
	(void)state;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static uint8_t buf[N];
		close(fds[0]);
		for (size_t i = 0; i < N; i++)
			buf[i] = (uint8_t)(i * 7);
		_exit(write(fds[1], buf, N) == N ? 0 : 1);
	}
	close(fds[1]);
	saved = dup(0);
	dup2(fds[0], 0);
	close(fds[0]);
	assert_int_equal(dfk_blob_read("-", &b, &err), DFK_OK);
	dup2(saved, 0);
	close(saved);
	waitpid(pid, NULL, 0);
	assert_int_equal(b.len, N);
	for (size_t i = 0; i < N; i++)
		if (b.data[i] != (uint8_t)(i * 7))
			fail_msg("byte %zu differs", i);
	dfk_blob_free(&b);
}

/* stdin redirected from a regular file is mapped, not copied. */
static void read_stdin_file(void **state)
{
	int fd, saved;
	dfk_blob b;
	(void)state;
	write_file(path_in("in.bin"), "from a file", 11);
	fd = open(path_in("in.bin"), O_RDONLY);
	assert_true(fd >= 0);
	saved = dup(0);
	dup2(fd, 0);
	close(fd);
	assert_int_equal(dfk_blob_read("-", &b, NULL), DFK_OK);
	dup2(saved, 0);
	close(saved);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "from a file", 11);
	dfk_blob_free(&b);
	unlink(path_in("in.bin"));
}

/* A 64 MiB file costs about its size in memory, not twice. */
static void read_large(void **state)
{
	const size_t len = (size_t)64 << 20;
	uint8_t *chunk = malloc(1 << 20);
	FILE *f = fopen(path_in("big.bin"), "wb");
	struct rusage before, after;
	uint32_t crc = 0;
	dfk_blob b;
	(void)state;
	assert_non_null(chunk);
	assert_non_null(f);
	for (size_t i = 0; i < len >> 20; i++) {
		memset(chunk, (int)i, 1 << 20);
		crc = dfk_crc32_update(crc, chunk, 1 << 20);
		assert_int_equal(fwrite(chunk, 1, 1 << 20, f), 1 << 20);
	}
	assert_int_equal(fclose(f), 0);
	free(chunk);

	getrusage(RUSAGE_SELF, &before);
	assert_int_equal(dfk_blob_read(path_in("big.bin"), &b, NULL), DFK_OK);
	assert_int_equal(b.len, len);
	assert_int_equal(dfk_crc32_update(0, b.data, b.len), crc);
	getrusage(RUSAGE_SELF, &after);
	/* ru_maxrss is in KiB */
	assert_true(after.ru_maxrss - before.ru_maxrss <= (long)(len * 12 / 10 / 1024));
	dfk_blob_free(&b);
	unlink(path_in("big.bin"));
}

static void out_new_and_exists(void **state)
{
	dfk_out *o;
	dfk_error err;
	char buf[64];
	struct stat st;
	(void)state;
	assert_int_equal(dfk_out_open(&o, path_in("o.bin"), 0, &err), DFK_OK);
	assert_int_equal(dfk_out_write(o, "abc", 3, &err), DFK_OK);
	assert_int_equal(dfk_out_write(o, "defg", 4, &err), DFK_OK);
	assert_int_equal(dfk_out_crc(o), dfk_crc32_update(0, "abcdefg", 7));
	assert_int_equal(dfk_out_size(o), 7);
	/* nothing visible under the final name before commit */
	assert_int_equal(access(path_in("o.bin"), F_OK), -1);
	assert_int_equal(dfk_out_commit(o, &err), DFK_OK);
	assert_int_equal(read_file(path_in("o.bin"), buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "abcdefg", 7);
	assert_int_equal(dir_entries(), 1);
	/* mode follows the umask like any new file */
	assert_int_equal(stat(path_in("o.bin"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0666 & ~022);

	/* exists, no OVERWRITE: refused before anything is created */
	assert_int_equal(dfk_out_open(&o, path_in("o.bin"), 0, &err), DFK_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "o.bin"));
	assert_null(o);
	assert_int_equal(dir_entries(), 1);

	/* OVERWRITE replaces it and keeps its mode */
	assert_int_equal(chmod(path_in("o.bin"), 0640), 0);
	assert_int_equal(dfk_out_open(&o, path_in("o.bin"), DFK_OUT_OVERWRITE, &err), DFK_OK);
	assert_int_equal(dfk_out_write(o, "XY", 2, &err), DFK_OK);
	/* the old file is intact until commit */
	assert_int_equal(read_file(path_in("o.bin"), buf, sizeof(buf)), 7);
	assert_int_equal(dfk_out_commit(o, &err), DFK_OK);
	assert_int_equal(read_file(path_in("o.bin"), buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "XY", 2);
	assert_int_equal(stat(path_in("o.bin"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(dir_entries(), 1);
	unlink(path_in("o.bin"));
}

static void out_abort_and_race(void **state)
{
	dfk_out *o;
	dfk_error err;
	char buf[64];
	(void)state;
	write_file(path_in("keep.bin"), "original", 8);
	assert_int_equal(dfk_out_open(&o, path_in("keep.bin"), DFK_OUT_OVERWRITE, &err), DFK_OK);
	assert_int_equal(dfk_out_write(o, "new", 3, &err), DFK_OK);
	assert_int_equal(dir_entries(), 2);
	dfk_out_abort(o);
	assert_int_equal(dir_entries(), 1);
	assert_int_equal(read_file(path_in("keep.bin"), buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "original", 8);
	dfk_out_abort(NULL);

	/* a file that appears between open and commit is not replaced */
	assert_int_equal(dfk_out_open(&o, path_in("late.bin"), 0, &err), DFK_OK);
	assert_int_equal(dfk_out_write(o, "mine", 4, &err), DFK_OK);
	write_file(path_in("late.bin"), "theirs", 6);
	assert_int_equal(dfk_out_commit(o, &err), DFK_ERR_EXISTS);
	assert_int_equal(read_file(path_in("late.bin"), buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "theirs", 6);
	assert_int_equal(dir_entries(), 2);
	unlink(path_in("late.bin"));
	unlink(path_in("keep.bin"));
}

static void out_errors(void **state)
{
	dfk_out *o;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_out_open(&o, path_in("nodir/x.bin"), DFK_OUT_OVERWRITE, &err), DFK_ERR_CANTCREAT);
	assert_non_null(strstr(err.msg, "nodir/x.bin"));
	assert_int_equal(dfk_out_open(&o, dir, DFK_OUT_OVERWRITE, &err), DFK_ERR_CANTCREAT);
	assert_int_equal(dfk_out_open(&o, "", 0, &err), DFK_ERR_USAGE);
	assert_int_equal(dir_entries(), 0);
}

/* A 250-character name still gets a temporary file beside it. */
static void out_long_name(void **state)
{
	char name[251];
	char path[400];
	dfk_out *o;
	dfk_error err;
	(void)state;
	memset(name, 'n', 250);
	name[250] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(dfk_out_open(&o, path, 0, &err), DFK_OK);
	assert_int_equal(dfk_out_write(o, "z", 1, &err), DFK_OK);
	assert_int_equal(dfk_out_commit(o, &err), DFK_OK);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(dir_entries(), 1);
	unlink(path);
}

/* "-" streams to standard output (here redirected to a file). */
static void out_stdout(void **state)
{
	int fd, saved;
	dfk_out *o;
	char buf[16];
	(void)state;
	fd = open(path_in("so.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	close(fd);
	assert_int_equal(dfk_out_open(&o, "-", 0, NULL), DFK_OK);
	assert_int_equal(dfk_out_write(o, "streamed", 8, NULL), DFK_OK);
	assert_int_equal(dfk_out_commit(o, NULL), DFK_OK);
	dup2(saved, 1);
	close(saved);
	assert_int_equal(read_file(path_in("so.txt"), buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "streamed", 8);
	unlink(path_in("so.txt"));
}

/* A write that fails (here: file size limit, EFBIG) fails the commit and
 * leaves the existing file alone. */
static void out_write_fails(void **state)
{
	struct rlimit old, lim;
	static uint8_t big[200000];
	dfk_out *o;
	dfk_error err;
	char buf[64];
	dfk_code rc;
	(void)state;
	write_file(path_in("t.bin"), "precious", 8);
	assert_int_equal(dfk_out_open(&o, path_in("t.bin"), DFK_OUT_OVERWRITE, &err), DFK_OK);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 100000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = dfk_out_write(o, big, sizeof(big), &err);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, DFK_ERR_IO);
	assert_non_null(strstr(err.msg, "t.bin"));
	assert_int_equal(dfk_out_write(o, "x", 1, &err), DFK_ERR_IO);
	assert_int_equal(dfk_out_commit(o, &err), DFK_ERR_IO);
	assert_int_equal(read_file(path_in("t.bin"), buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "precious", 8);
	assert_int_equal(dir_entries(), 1);
	unlink(path_in("t.bin"));
}

/* Many small writes and one large: all bytes arrive in order. */
static void out_buffering(void **state)
{
	static uint8_t big[300000], back[400000];
	dfk_out *o;
	uint32_t crc = 0;
	size_t n = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(dfk_out_open(&o, path_in("buf.bin"), 0, NULL), DFK_OK);
	for (int i = 0; i < 10000; i++) {
		uint8_t c = (uint8_t)i;
		assert_int_equal(dfk_out_write(o, &c, 1, NULL), DFK_OK);
		back[n++] = c;
	}
	assert_int_equal(dfk_out_write(o, big, sizeof(big), NULL), DFK_OK);
	memcpy(back + n, big, sizeof(big));
	n += sizeof(big);
	assert_int_equal(dfk_out_write(o, big, 40000, NULL), DFK_OK);
	memcpy(back + n, big, 40000);
	n += 40000;
	crc = dfk_crc32_update(0, back, n);
	assert_int_equal(dfk_out_crc(o), crc);
	assert_int_equal(dfk_out_size(o), n);
	assert_int_equal(dfk_out_commit(o, NULL), DFK_OK);
	{
		dfk_blob b;
		assert_int_equal(dfk_blob_read(path_in("buf.bin"), &b, NULL), DFK_OK);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data, back, n);
		dfk_blob_free(&b);
	}
	unlink(path_in("buf.bin"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(read_regular),	  cmocka_unit_test(read_errors),   cmocka_unit_test(read_stdin),
	    cmocka_unit_test(read_stdin_file),	  cmocka_unit_test(read_large),	   cmocka_unit_test(out_new_and_exists),
	    cmocka_unit_test(out_abort_and_race), cmocka_unit_test(out_errors),	   cmocka_unit_test(out_write_fails),
	    cmocka_unit_test(out_buffering),	  cmocka_unit_test(out_long_name), cmocka_unit_test(out_stdout),
	};
	umask(022);
	return cmocka_run_group_tests(tests, setup, teardown);
}
