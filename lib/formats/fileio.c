/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Whole-file input (mmap for regular files, so a large image costs no copy
 * and no more memory than its page cache) and atomic output (temp file in
 * the target's directory, renamed into place on commit). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfukit/formats.h"
#include "dynbuf.h"

#include "compat.h"

enum { BLOB_NONE = 0, BLOB_MMAP = 1, BLOB_MALLOC = 2 };

static const char *shown_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* Reads fd to its end into a malloc()ed buffer (pipes, terminals, and
 * files whose size stat does not tell). */
static dfk_code read_all(int fd, const char *path, dfk_blob *blob, dfk_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;
		if (cap - len < 65536) {
			void *p = buf;
			/* Room for at least 64 KiB more per read. */
			dfk_code rc = len > SIZE_MAX - 65536
					  ? dfk_error_set(err, DFK_ERR_NOMEM, "input too large")
					  : dfk_grow(&p, &cap, len + 65536, 1, SIZE_MAX, "input", err);
			buf = p;
			if (rc != DFK_OK) {
				free(buf);
				dfk_error_prefix(err, "%s: after %zu bytes", shown_name(path), len);
				return rc;
			}
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			free(buf);
			return dfk_error_set(err, e == EISDIR ? DFK_ERR_NOINPUT : DFK_ERR_IO, "%s: read failed: %s",
					     shown_name(path), DFK_STRERROR(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == 0) {
		free(buf);
		buf = NULL;
	}
	blob->data = buf;
	blob->len = len;
	blob->kind = buf ? BLOB_MALLOC : BLOB_NONE;
	return DFK_OK;
}

/* Reads an open descriptor: a regular file from its start is mapped, anything
 * else (pipe, terminal, /proc file reporting size 0) is read into memory. */
static dfk_code read_fd(int fd, const char *path, dfk_blob *blob, dfk_error *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return dfk_error_set(err, DFK_ERR_NOINPUT, "%s: cannot stat: %s", shown_name(path),
				     DFK_STRERROR(errno));
	if (S_ISDIR(st.st_mode))
		return dfk_error_set(err, DFK_ERR_NOINPUT, "%s: is a directory", shown_name(path));
	if (S_ISREG(st.st_mode) && st.st_size > 0 && lseek(fd, 0, SEEK_CUR) == 0) {
		void *p;
		if ((uint64_t)st.st_size > SIZE_MAX)
			return dfk_error_set(err, DFK_ERR_NOMEM, "%s: too large (%lld bytes)", shown_name(path),
					     (long long)st.st_size);
		/* Writable but private: a consumer that converts in place (libelf
		 * may, for a foreign byte order) gets copy-on-write pages, never
		 * the file.  No MAP_POPULATE: on a writable private mapping it
		 * would copy every page up front. */
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			(void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL); /* a hint only */
			blob->data = p;
			blob->len = (size_t)st.st_size;
			blob->kind = BLOB_MMAP;
			return DFK_OK;
		}
		/* Some file systems cannot map; read() still works there. */
	}
	return read_all(fd, path, blob, err);
}

dfk_code dfk_blob_read(const char *path, dfk_blob *blob, dfk_error *err)
{
	dfk_code rc;
	int fd;

	blob->data = NULL;
	blob->len = 0;
	blob->kind = BLOB_NONE;
	if (!path || !*path)
		return dfk_error_set(err, DFK_ERR_NOINPUT, "no input file name given");
	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, path, blob, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dfk_error_set(err, DFK_ERR_NOINPUT, "%s: cannot open: %s", path, DFK_STRERROR(errno));
	rc = read_fd(fd, path, blob, err);
	close(fd);
	return rc;
}

void dfk_blob_free(dfk_blob *blob)
{
	if (!blob)
		return;
	if (blob->kind == BLOB_MMAP)
		munmap(blob->data, blob->len);
	else if (blob->kind == BLOB_MALLOC)
		free(blob->data);
	blob->data = NULL;
	blob->len = 0;
	blob->kind = BLOB_NONE;
}

/* ---- output ---- */

#define OUT_BUF 65536

struct dfk_out {
	int fd;
	bool to_stdout;
	bool in_place; /* a character device or FIFO: written through, never renamed over */
	bool failed;   /* a write failed: commit must not rename */
	unsigned flags;
	char *path;
	char *tmp;
	uint32_t crc;
	uint64_t size;
	size_t buffered;
	uint8_t buf[OUT_BUF];
};

/* The mode a newly created file would get (0666 minus umask).  umask()
 * itself would have to change the process-wide mask to read it, so ask
 * /proc first and fall back to the usual 022. */
static mode_t new_file_mode(void)
{
	mode_t mask = 022;
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			unsigned m;
			if (sscanf(line, "Umask: %o", &m) == 1) {
				mask = (mode_t)m;
				break;
			}
		}
		fclose(f);
	}
	return 0666 & ~mask;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISCHR(mode))
		return "character device";
	if (S_ISBLK(mode))
		return "block device";
	if (S_ISFIFO(mode))
		return "FIFO";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISLNK(mode))
		return "symbolic link";
	return "special file";
}

/* out->path is a symbolic link: follows it (and the links it names) to
 * what it finally names, which becomes out->path; *st and *exists describe
 * that (a dangling link names a file still to be created). */
static dfk_code resolve_link(dfk_out *out, struct stat *st, bool *exists, dfk_error *err)
{
	char target[PATH_MAX];

	for (int hops = 0; hops < 40; hops++) {
		ssize_t n = readlink(out->path, target, sizeof(target) - 1);
		if (n < 0) {
			int e = errno;
			return dfk_error_set(err, DFK_ERR_CANTCREAT, "%s: cannot read the link: %s", out->path,
					     strerror(e));
		}
		target[n] = '\0';
		const char *slash = strrchr(out->path, '/');
		size_t dirlen = target[0] == '/' || !slash ? 0 : (size_t)(slash - out->path) + 1;
		char *next = malloc(dirlen + (size_t)n + 1);
		if (!next)
			return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory", out->path);
		memcpy(next, out->path, dirlen);
		memcpy(next + dirlen, target, (size_t)n + 1);
		free(out->path);
		out->path = next;
		*exists = lstat(out->path, st) == 0;
		if (!*exists && errno != ENOENT) {
			int e = errno;
			return dfk_error_set(err, DFK_ERR_CANTCREAT, "%s: %s", out->path, strerror(e));
		}
		if (!*exists || !S_ISLNK(st->st_mode))
			return DFK_OK;
	}
	return dfk_error_set(err, DFK_ERR_CANTCREAT, "%s: too many levels of symbolic links", out->path);
}

static void out_free(dfk_out *out)
{
	free(out->path);
	free(out->tmp);
	free(out);
}

dfk_code dfk_out_open(dfk_out **outp, const char *path, unsigned flags, dfk_error *err)
{
	dfk_out *out;
	struct stat st;
	const char *slash;
	size_t dirlen;
	mode_t mode;
	bool exists;

	*outp = NULL;
	if (!path || !*path)
		return dfk_error_set(err, DFK_ERR_USAGE, "no output file name given");
	out = calloc(1, sizeof(*out));
	if (!out)
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory", path);
	out->flags = flags;
	out->fd = -1;
	if (strcmp(path, "-") == 0) {
		/* Standard output cannot be replaced atomically; stream it. */
		out->to_stdout = true;
		out->fd = STDOUT_FILENO;
		*outp = out;
		return DFK_OK;
	}
	out->path = strdup(path);
	if (!out->path) {
		out_free(out);
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory", path);
	}
	exists = lstat(path, &st) == 0;
	if (!exists && errno != ENOENT) {
		int e = errno;
		out_free(out);
		return dfk_error_set(err, DFK_ERR_CANTCREAT, "%s: %s", path, DFK_STRERROR(e));
	}
	if (exists && !(flags & DFK_OUT_OVERWRITE)) {
		out_free(out);
		return dfk_error_set(err, DFK_ERR_EXISTS, "%s: already exists (not overwritten)", path);
	}
	if (exists && S_ISLNK(st.st_mode)) {
		/* Replace what the link names, never the link itself. */
		dfk_code rc = resolve_link(out, &st, &exists, err);
		if (rc) {
			out_free(out);
			return rc;
		}
		path = out->path;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		const char *kind = file_kind(st.st_mode);
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
			/* Written in place as dd does: renaming over it would
			 * destroy the node (a FIFO's open waits for a reader). */
			out->in_place = true;
			out->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
			if (out->fd < 0) {
				int e = errno;
				out_free(out);
				return dfk_error_set(err, DFK_ERR_CANTCREAT, "%s: cannot open the %s: %s", path, kind,
						     strerror(e));
			}
			*outp = out;
			return DFK_OK;
		}
		out_free(out);
		return dfk_error_set(err, DFK_ERR_CANTCREAT,
				     "%s: is a %s: not replaced and not written (only a regular file, a character "
				     "device or a FIFO can be an output)",
				     path, kind);
	}
	/* Keep the mode of a file being replaced. */
	mode = exists && S_ISREG(st.st_mode) ? (st.st_mode & 07777) : new_file_mode();

	slash = strrchr(path, '/');
	dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	/* "<dir>/.<name>.XXXXXX": same directory, so rename() stays atomic. */
	out->tmp = malloc(strlen(path) + 10);
	if (!out->tmp) {
		out_free(out);
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory", path);
	}
	memcpy(out->tmp, path, dirlen);
	/* The base name is cut so that the temp name stays within NAME_MAX. */
	sprintf(out->tmp + dirlen, ".%.200s.XXXXXX", path + dirlen);
	out->fd = mkostemp(out->tmp, O_CLOEXEC);
	if (out->fd < 0) {
		int e = errno;
		out_free(out);
		return dfk_error_set(err, DFK_ERR_CANTCREAT, "%s: cannot create a temporary file beside it: %s", path,
				     DFK_STRERROR(e));
	}
	if (fchmod(out->fd, mode) != 0) {
		int e = errno;
		dfk_out_abort(out);
		return dfk_error_set(err, DFK_ERR_CANTCREAT, "%s: cannot set mode: %s", path, DFK_STRERROR(e));
	}
	*outp = out;
	return DFK_OK;
}

static dfk_code write_fd(dfk_out *out, const uint8_t *p, size_t len, dfk_error *err)
{
	while (len > 0) {
		ssize_t n = write(out->fd, p, len > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : len);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			out->failed = true;
			return dfk_error_set(err, DFK_ERR_IO, "%s: write failed: %s",
					     out->to_stdout ? "<stdout>" : out->path, DFK_STRERROR(e));
		}
		p += n;
		len -= (size_t)n;
	}
	return DFK_OK;
}

static dfk_code flush(dfk_out *out, dfk_error *err)
{
	dfk_code rc = DFK_OK;

	if (out->buffered) {
		rc = write_fd(out, out->buf, out->buffered, err);
		out->buffered = 0;
	}
	return rc;
}

dfk_code dfk_out_write(dfk_out *out, const void *data, size_t len, dfk_error *err)
{
	dfk_code rc;

	if (out->failed)
		return dfk_error_set(err, DFK_ERR_IO, "%s: an earlier write failed",
				     out->to_stdout ? "<stdout>" : out->path);
	if (len == 0)
		return DFK_OK;
	out->crc = dfk_crc32_update(out->crc, data, len);
	out->size += len;
	/* Small pieces (headers, text lines) are gathered; big ones go straight through. */
	if (len <= OUT_BUF - out->buffered) {
		memcpy(out->buf + out->buffered, data, len);
		out->buffered += len;
		return DFK_OK;
	}
	rc = flush(out, err);
	if (rc != DFK_OK)
		return rc;
	if (len < OUT_BUF) {
		memcpy(out->buf, data, len);
		out->buffered = len;
		return DFK_OK;
	}
	return write_fd(out, data, len, err);
}

uint32_t dfk_out_crc(const dfk_out *out)
{
	return out->crc;
}

uint64_t dfk_out_size(const dfk_out *out)
{
	return out->size;
}

static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	/* Best effort: the file itself is already durable, only the name may not be. */
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

dfk_code dfk_out_commit(dfk_out *out, dfk_error *err)
{
	dfk_code rc;
	int e;

	if (!out)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "no output to commit");
	if (out->failed) {
		rc = dfk_error_set(err, DFK_ERR_IO, "%s: not written because an earlier write failed",
				   out->to_stdout ? "<stdout>" : out->path);
		dfk_out_abort(out);
		return rc;
	}
	rc = flush(out, err);
	if (rc != DFK_OK) {
		dfk_out_abort(out);
		return rc;
	}
	if (out->to_stdout) {
		out_free(out);
		return DFK_OK;
	}
	if (out->in_place) {
		e = close(out->fd) != 0 ? errno : 0;
		out->fd = -1;
		rc = e ? dfk_error_set(err, DFK_ERR_IO, "%s: close failed: %s", out->path, strerror(e)) : DFK_OK;
		out_free(out);
		return rc;
	}
	if ((out->flags & DFK_OUT_SYNC) && fsync(out->fd) != 0) {
		e = errno;
		rc = dfk_error_set(err, DFK_ERR_IO, "%s: fsync failed: %s", out->path, DFK_STRERROR(e));
		dfk_out_abort(out);
		return rc;
	}
	e = close(out->fd) != 0 ? errno : 0;
	out->fd = -1;
	if (e) {
		rc = dfk_error_set(err, DFK_ERR_IO, "%s: close failed: %s", out->path, DFK_STRERROR(e));
		dfk_out_abort(out);
		return rc;
	}
	if (out->flags & DFK_OUT_OVERWRITE) {
		if (rename(out->tmp, out->path) != 0)
			e = errno;
	} else if (dfk_rename_noreplace(out->tmp, out->path) != 0) {
		e = errno;
		/* File systems without RENAME_NOREPLACE: link() never replaces either. */
		if (e == EINVAL || e == ENOSYS) {
			e = link(out->tmp, out->path) != 0 ? errno : 0;
			if (!e)
				unlink(out->tmp);
		}
	}
	if (e) {
		rc =
		    dfk_error_set(err, e == EEXIST ? DFK_ERR_EXISTS : DFK_ERR_IO, "%s: cannot move into place: %s",
				  out->path, e == EEXIST ? "it appeared meanwhile (not overwritten)" : DFK_STRERROR(e));
		dfk_out_abort(out);
		return rc;
	}
	if (out->flags & DFK_OUT_SYNC)
		sync_dir(out->path);
	out_free(out);
	return DFK_OK;
}

void dfk_out_abort(dfk_out *out)
{
	if (!out)
		return;
	if (!out->to_stdout) {
		if (out->fd >= 0)
			close(out->fd);
		if (out->tmp && !out->in_place)
			unlink(out->tmp);
	}
	out_free(out);
}
