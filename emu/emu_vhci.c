/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* vhci-hcd attach/detach through sysfs (protocols.md C.5). The kernel takes
 * its own reference on the socket it is given, so our copy of that end is
 * closed right after the attach, as the usbip tool does. */
#include "emu_vhci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int emu_vhci_open(emu_vhci *v, const char *dir, char *err, size_t errsz)
{
	struct stat st;

	v->port = -1;
	if (strlen(dir) >= sizeof(v->dir) - 16) {
		snprintf(err, errsz, "vhci sysfs path too long: %s", dir);
		return -1;
	}
	snprintf(v->dir, sizeof(v->dir), "%s", dir);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "%s not found: vhci-hcd is not loaded (run 'modprobe vhci-hcd' as root)", dir);
		return -1;
	}
	return 0;
}

int emu_vhci_free_ports(const char *status, int *ports, int max)
{
	int n = 0;
	const char *line = status;

	while (line && *line && n < max) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[256], hub[8] = "hs";
		unsigned port, sta;

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = eol ? eol + 1 : NULL;

		/* Current layout "hs  0000 004 ...", older one "0000 004 ...";
		 * the header line matches neither. */
		if (buf[0] >= 'a' && buf[0] <= 'z') {
			if (sscanf(buf, "%7s %u %u", hub, &port, &sta) != 3 || strcmp(hub, "hs") != 0)
				continue;
		} else if (sscanf(buf, "%u %u", &port, &sta) != 2) {
			continue;
		}
		if (sta == 4 /* VDEV_ST_NULL */ && port < EMU_VHCI_HS_PORTS)
			ports[n++] = (int)port;
	}
	return n;
}

static int read_text(const char *path, char *buf, size_t size, char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0) {
		snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (done + 1 < size) {
		ssize_t n = read(fd, buf + done, size - 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = '\0';
	close(fd);
	return 0;
}

/* One write() of the whole text: sysfs attributes take a store per write.
 * Returns 0 or the errno. */
static int write_attr(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int e = 0;
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		e = errno;
	else if ((size_t)n != strlen(text))
		e = EIO;
	if (close(fd) != 0 && e == 0)
		e = errno;
	return e;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int emu_vhci_attach(emu_vhci *v, uint32_t devid, char *err, size_t errsz)
{
	char path[600], status[16384];
	int sv[2];
	/* A port freed by a detach just before comes back asynchronously, so
	 * "all ports busy" is retried for a while before giving up. */
	for (int attempt = 0; attempt < 30; attempt++) {
		int ports[EMU_VHCI_HS_PORTS];
		int nfree;

		snprintf(path, sizeof(path), "%s/status", v->dir);
		if (read_text(path, status, sizeof(status), err, errsz) != 0)
			return -1;
		nfree = emu_vhci_free_ports(status, ports, EMU_VHCI_HS_PORTS);
		for (int i = 0; i < nfree; i++) {
			char line[64];
			int e;

			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
				snprintf(err, errsz, "socketpair: %s", strerror(errno));
				return -1;
			}
			snprintf(line, sizeof(line), "%d %d %u %d", ports[i], sv[1], devid, EMU_VHCI_SPEED_FULL);
			snprintf(path, sizeof(path), "%s/attach", v->dir);
			e = write_attr(path, line);
			close(sv[1]);
			if (e == 0) {
				v->port = ports[i];
				return sv[0];
			}
			close(sv[0]);
			if (e != EBUSY && e != EAGAIN) {
				snprintf(err, errsz, "writing \"%s\" to %s: %s", line, path, strerror(e));
				return -1;
			}
		}
		sleep_ms(100);
	}
	snprintf(err, errsz, "no free port on %s (hs ports 0-%d all busy)", v->dir, EMU_VHCI_HS_PORTS - 1);
	return -1;
}

int emu_vhci_detach(emu_vhci *v, char *err, size_t errsz)
{
	char path[600], line[16];
	int e;

	if (v->port < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/detach", v->dir);
	snprintf(line, sizeof(line), "%d", v->port);
	e = write_attr(path, line);
	v->port = -1;
	if (e != 0) {
		snprintf(err, errsz, "writing \"%s\" to %s: %s", line, path, strerror(e));
		return -1;
	}
	return 0;
}
