/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit, private: the few Linux-only system interfaces the library uses,
 * each behind a small fallback, so that a BSD or macOS port only has to fill
 * in this file. Everything else in lib/ is C11 + POSIX.1-2008 (open with
 * O_CLOEXEC, mkostemp, fsync, link, getaddrinfo). Static inline: no global
 * state, no extra symbols. */
#ifndef DFUKIT_BASE_COMPAT_H
#define DFUKIT_BASE_COMPAT_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* strerror() may use one static buffer for all threads (POSIX lets it);
 * this writes into buf (a compound literal of the caller's statement with
 * DFK_STRERROR) and returns the text: glibc's GNU strerror_r, or the XSI
 * one elsewhere. */
static inline const char *dfk_strerror(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(e, buf, size);
#else
	if (strerror_r(e, buf, size) != 0)
		snprintf(buf, size, "error %d", e);
	return buf;
#endif
}
#define DFK_STRERROR(e) dfk_strerror((e), (char[128]){0}, 128)

/* rename() that fails with EEXIST instead of replacing `to`. Linux has
 * renameat2(RENAME_NOREPLACE) (glibc 2.28); elsewhere (and on file systems
 * without it) this fails with EINVAL and the caller falls back to link(),
 * which never replaces either. macOS would use renamex_np(RENAME_EXCL). */
static inline int dfk_rename_noreplace(const char *from, const char *to)
{
#if defined(__linux__) && defined(RENAME_NOREPLACE)
	return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
#else
	(void)from;
	(void)to;
	errno = EINVAL;
	return -1;
#endif
}

/* Sets FD_CLOEXEC (and O_NONBLOCK when nonblock) on fd; 0 or -1. */
static inline int dfk_fd_flags(int fd, int nonblock)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) != 0)
		return -1;
	if (nonblock) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
			return -1;
	}
	return 0;
}

/* socket() whose descriptor is close-on-exec (and non-blocking when asked)
 * from the start where the system can (SOCK_CLOEXEC: Linux, FreeBSD, NetBSD,
 * OpenBSD), else set right after creation (macOS: a fork in between may
 * inherit it, harmless for a library that never execs). */
static inline int dfk_socket_cloexec(int domain, int type, int protocol, int nonblock)
{
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
	return socket(domain, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), protocol);
#else
	int fd = socket(domain, type, protocol);
	if (fd >= 0 && dfk_fd_flags(fd, nonblock) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
#endif
}

/* send() flag that keeps a peer that went away from raising SIGPIPE. Where
 * MSG_NOSIGNAL is missing (macOS), dfk_socket_nosigpipe() sets the socket
 * option SO_NOSIGPIPE instead, once after connect. */
#ifdef MSG_NOSIGNAL
#define DFK_MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define DFK_MSG_NOSIGNAL 0
#endif
static inline void dfk_socket_nosigpipe(int fd)
{
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#else
	(void)fd;
#endif
}

#endif
