/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu, private: the Linux-only socket and pipe calls of the emulator
 * behind small fallbacks, so that the server (emu_server.c, emu_main.c)
 * ports to a BSD or macOS by filling in this file. The vhci-hcd attach
 * (emu_vhci.c) is Linux by nature and stays so. */
#ifndef DFUKIT_EMU_COMPAT_H
#define DFUKIT_EMU_COMPAT_H

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sets FD_CLOEXEC and O_NONBLOCK on fd; 0 or -1 with errno. */
static inline int emu_fd_cloexec_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) != 0)
		return -1;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	return 0;
}

/* fd with FD_CLOEXEC and O_NONBLOCK set, or -1 (fd closed, errno kept)
 * when fd is -1 or the flags cannot be set. */
static inline int emu_fd_nb_or_close(int fd)
{
	if (fd >= 0 && emu_fd_cloexec_nonblock(fd) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A close-on-exec, non-blocking socket (SOCK_CLOEXEC|SOCK_NONBLOCK where
 * the system has them, fcntl() after socket() elsewhere). */
static inline int emu_socket_nb(int domain, int type, int protocol)
{
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
	return socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
#else
	return emu_fd_nb_or_close(socket(domain, type, protocol));
#endif
}

/* accept() of a close-on-exec, non-blocking connection: accept4() on Linux
 * and the BSDs, accept() + fcntl() elsewhere (macOS). */
static inline int emu_accept_nb(int lfd)
{
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	return emu_fd_nb_or_close(accept(lfd, NULL, NULL));
#endif
}

/* pipe() with both ends close-on-exec and non-blocking (the signal
 * self-pipe): pipe2() on Linux and the BSDs, pipe() + fcntl() elsewhere. */
static inline int emu_pipe_nb(int fds[2])
{
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
	return pipe2(fds, O_CLOEXEC | O_NONBLOCK);
#else
	if (pipe(fds) != 0)
		return -1;
	if (emu_fd_cloexec_nonblock(fds[0]) != 0 || emu_fd_cloexec_nonblock(fds[1]) != 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	return 0;
#endif
}

/* send() flags: no SIGPIPE from a peer that went away (MSG_NOSIGNAL; on
 * macOS the server would set SO_NOSIGPIPE per socket instead), and never
 * block (MSG_DONTWAIT: Linux, the BSDs and macOS have it). */
#ifdef MSG_NOSIGNAL
#define EMU_MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define EMU_MSG_NOSIGNAL 0
#endif

/* Bytes written to a socket that its peer has not read yet (SIOCOUTQ, Linux):
 * -1 where the system cannot tell, and the caller stops waiting. */
#ifdef __linux__
#include <linux/sockios.h>
#include <sys/ioctl.h>
static inline int emu_socket_outq(int fd)
{
	int outq = 0;
	return ioctl(fd, SIOCOUTQ, &outq) != 0 ? -1 : outq;
}
#else
static inline int emu_socket_outq(int fd)
{
	(void)fd;
	return -1;
}
#endif

#endif
