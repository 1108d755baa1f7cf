/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu front end: the socket server. emu_serve_* run the
 * single-threaded poll() loop that moves bytes between sockets and
 * sessions (emu_session.h, the protocol engine) and keeps the clock. */
#ifndef DFUKIT_EMU_SERVER_H
#define DFUKIT_EMU_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu_session.h"

/* The socket loop. */
typedef struct emu_server_opts {
	emu_bus *bus;
	const char *profile;	/* for the ready line */
	const char *stats_path; /* NULL: no statistics file */
	int signal_fd;		/* readable when SIGINT/SIGTERM arrived */
	bool verbose;
} emu_server_opts;

/* Opens the listening socket for "HOST:PORT", "[V6]:PORT" or "unix:PATH"
 * and writes the address actually bound (port 0 resolved) to desc.
 * Returns the fd or -1 with a message in err. */
int emu_listen(const char *spec, char *desc, size_t descsz, char *err, size_t errsz);

/* Serves every connection until a signal arrives: each device importable by
 * one host at a time (a second import is refused as busy), device lists
 * and other devices' imports served meanwhile. Returns the exit status. */
int emu_serve_listener(const emu_server_opts *o, int listen_fd, const char *desc);
/* Attaches every device to vhci-hcd (sysfs dir vhci_dir), one port each,
 * and serves the kernel until a signal arrives or the host has detached
 * every port. Returns the exit status. */
int emu_serve_vhci(const emu_server_opts *o, const char *vhci_dir);

#endif
