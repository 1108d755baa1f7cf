/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The socket side of dfukit-emu: listening, accepting, poll(), timing
 * (the monotonic clock handed to the sessions), lingering closes, and the
 * vhci-hcd socket pairs. The protocol itself is emu_session.c.
 * One single-threaded poll() loop serves every connection at once: hosts
 * holding imports of different devices, device lists, refused imports; or
 * one vhci-hcd port per device. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "emu_compat.h"
#include "emu_server.h"
#include "emu_session.h"
#include "emu_vhci.h"
#include "usbip_wire.h"
/* ---- sockets ---- */

/* Once a session is done, how long its last replies may take to drain
 * before the connection is closed anyway. */
#define FLUSH_LIMIT_MS 2000
#define LINGER_MS 500

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int poll_timeout(uint64_t deadline, uint64_t now)
{
	if (deadline == UINT64_MAX)
		return -1;
	if (deadline <= now)
		return 0;
	return deadline - now > 60000 ? 60000 : (int)(deadline - now);
}

static void write_stats(const emu_server_opts *o)
{
	char err[512];

	if (o->stats_path && !emu_bus_write_stats_file(o->bus, o->stats_path, err, sizeof(err)))
		fprintf(stderr, "dfukit-emu: %s\n", err);
}

static int split_hostport(const char *spec, char *host, size_t hostsz, char *port, size_t portsz)
{
	const char *colon;
	size_t hl;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		if (!end || end[1] != ':')
			return -1;
		hl = (size_t)(end - spec - 1);
		spec++;
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - spec);
	}
	if (hl == 0 || hl >= hostsz || strlen(colon + 1) == 0 || strlen(colon + 1) >= portsz)
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	for (const char *c = port; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	if (atol(port) > 65535)
		return -1;
	return 0;
}

static int listen_unix(const char *path, char *desc, size_t descsz, char *err, size_t errsz)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errsz, "bad unix socket path \"%s\" (1 to %zu bytes)", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = emu_socket_nb(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	/* A socket file left by an emulator that died is reused; one that
	 * still answers belongs to a running server. */
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM, 0); /* closed at once: no exec in between */
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			snprintf(err, errsz, "%s: another server is listening there", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errsz, "cannot listen on unix:%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(desc, descsz, "unix:%s", path);
	return fd;
}

int emu_listen(const char *spec, char *desc, size_t descsz, char *err, size_t errsz)
{
	char host[256], port[16], h[NI_MAXHOST], p[NI_MAXSERV];
	struct addrinfo hints, *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, rc, e = 0;

	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, desc, descsz, err, errsz);
	if (split_hostport(spec, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(err, errsz, "bad listen address \"%s\" (expected HOST:PORT, [IPV6]:PORT or unix:PATH)", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errsz, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;
		fd = emu_socket_nb(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errsz, "cannot listen on %s: %s", spec, strerror(e));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(desc, descsz, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
	else
		snprintf(desc, descsz, "%s", spec);
	return fd;
}

/* ---- the connection table ---- */

enum conn_end { END_DONE, END_PEER, END_SIGNAL };

typedef struct vport {
	emu_vhci v;
	emu_port *port;
	bool finished; /* detached by the host, or off the bus for good */
} vport;

typedef struct conn {
	int fd;
	emu_session *s;	   /* NULL once lingering */
	vport *vp;	   /* the vhci port of a socket pair, NULL for a listener connection */
	uint64_t deadline; /* flush or linger limit, UINT64_MAX: none */
	enum conn_end end; /* how the session ended, */
	emu_event ev;	   /* and with which bus event */
} conn;

typedef struct server {
	const emu_server_opts *o;
	conn *c;
	size_t n, cap;
	int status;
} server;

static void log_end(const emu_server_opts *o, emu_session *s, enum conn_end end)
{
	if (end == END_SIGNAL)
		return;
	/* Device lists are routine; broken streams and hosts are worth a line. */
	if (end == END_DONE && !emu_session_port(s) && !o->verbose &&
	    strncmp(emu_session_reason(s), "malformed", 9) != 0)
		return;
	fprintf(stderr, "dfukit-emu: connection closed: %s%s%s\n",
		end == END_PEER ? "host went away" : emu_session_reason(s), emu_session_port(s) ? " on " : "",
		emu_session_port(s) ? emu_session_port(s)->busid : "");
}

static void attach_vport(server *sv, vport *vp);

/* The session is over: its host's departure reaches the device (bus reset,
 * statistics: emu_session_free). */
static void end_session(server *sv, conn *c, enum conn_end end)
{
	emu_session *s = c->s;
	emu_port *port = emu_session_port(s);

	log_end(sv->o, s, end);
	c->end = end;
	c->ev = emu_session_event(s);
	c->s = NULL;
	emu_session_free(s);
	if (port)
		write_stats(sv->o);
}

/* The connection of a vhci port is closed: the port is detached, or
 * attached again when the device re-enumerates. */
static void vport_closed(server *sv, vport *vp, enum conn_end end, emu_event ev)
{
	char err[768];

	if (end == END_SIGNAL)
		return; /* detached at exit */
	if (end == END_PEER && ev == EMU_EVENT_NONE) {
		/* vhci closed its end: the port was detached by the host
		 * (usbip detach, a protocol error); it is not ours any more,
		 * so no detach is written. */
		fprintf(stderr, "dfukit-emu: vhci port %d detached by the host\n", vp->v.port);
		vp->v.port = -1;
		vp->finished = true;
		return;
	}
	if (emu_vhci_detach(&vp->v, err, sizeof(err)) != 0) {
		fprintf(stderr, "dfukit-emu: %s\n", err);
		sv->status = 74;
		vp->finished = true;
		return;
	}
	if (ev == EMU_EVENT_NONE) {
		vp->finished = true;
		return;
	}
	emu_usb_identity id;
	emu_device_identity(vp->port->dev, &id);
	if (!id.present) {
		fprintf(stderr, "dfukit-emu: %s off the bus; waiting for SIGINT/SIGTERM\n", vp->port->busid);
		return;
	}
	attach_vport(sv, vp); /* at the device's new address */
}

static void drop(server *sv, size_t i, enum conn_end end)
{
	if (sv->c[i].s)
		end_session(sv, &sv->c[i], end);
	conn c = sv->c[i];
	sv->c[i] = sv->c[--sv->n];
	/* Detached before the close, as the kernel expects; a re-attach
	 * may grow the table, hence the copy. */
	if (c.vp)
		vport_closed(sv, c.vp, c.end, c.ev);
	close(c.fd);
}

static conn *add_conn(server *sv, int fd, emu_session *s, vport *vp)
{
	if (sv->n == sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 16;
		conn *nc = realloc(sv->c, ncap * sizeof(*nc));
		if (!nc)
			return NULL;
		sv->c = nc;
		sv->cap = ncap;
	}
	sv->c[sv->n] = (conn){fd, s, vp, UINT64_MAX, END_DONE, EMU_EVENT_NONE};
	return &sv->c[sv->n++];
}

static void attach_vport(server *sv, vport *vp)
{
	char err[768];
	uint32_t devid = (vp->port->busnum << 16) | vp->port->devnum;
	int fd = emu_vhci_attach(&vp->v, devid, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "dfukit-emu: %s\n", err);
		sv->status = 74;
		vp->finished = true;
		return;
	}
	fprintf(stderr, "dfukit-emu: %s listening on vhci port %d (%s, devid 0x%08x, %s)\n",
		emu_profile_name(emu_device_profile(vp->port->dev)), vp->v.port, vp->v.dir, devid, vp->port->busid);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	emu_session *s = emu_session_new_direct(sv->o->bus, vp->port, now_ms());
	if (!s || !add_conn(sv, fd, s, vp)) {
		emu_session_free(s);
		close(fd);
		emu_vhci_detach(&vp->v, err, sizeof(err));
		fprintf(stderr, "dfukit-emu: out of memory\n");
		sv->status = 70;
		vp->finished = true;
	}
}

static void accept_conn(server *sv, int lfd)
{
	int fd = emu_accept_nb(lfd);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
			struct timespec ts = {0, 100000000};
			fprintf(stderr, "dfukit-emu: accept: %s\n", strerror(errno));
			nanosleep(&ts, NULL);
		}
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on unix sockets */
	emu_session *s = emu_session_new(sv->o->bus, now_ms());
	if (!s || !add_conn(sv, fd, s, NULL)) {
		emu_session_free(s);
		close(fd);
		fprintf(stderr, "dfukit-emu: out of memory\n");
	}
}

/* Sends what a session has; once it is done and flushed, the connection
 * lingers: the peer reads our last reply before the close, so that unread
 * input on our side does not turn the close into a reset (TCP), or vhci
 * has consumed it (socket pair: SIOCOUTQ counts the bytes it has not).
 * False when the connection was dropped. */
static bool step(server *sv, size_t i, uint64_t now)
{
	conn *c = &sv->c[i];
	size_t olen;
	const uint8_t *out;

	if (!c->s) {
		if (now >= c->deadline || (c->vp && emu_socket_outq(c->fd) <= 0)) {
			drop(sv, i, END_DONE);
			return false;
		}
		return true;
	}
	emu_session_tick(c->s, now);
	out = emu_session_output(c->s, &olen);
	while (olen > 0) {
		ssize_t n = send(c->fd, out, olen, EMU_MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (sv->o->verbose)
				fprintf(stderr, "dfukit-emu: send: %s\n", strerror(errno));
			drop(sv, i, END_PEER);
			return false;
		}
		emu_session_consume(c->s, (size_t)n);
		out = emu_session_output(c->s, &olen);
	}
	if (emu_session_done(c->s)) {
		if (olen == 0) {
			end_session(sv, c, END_DONE);
			if (!c->vp)
				shutdown(c->fd, SHUT_WR);
			c->deadline = now + (c->vp ? 2 * LINGER_MS : LINGER_MS);
		} else if (c->deadline == UINT64_MAX) {
			c->deadline = now + FLUSH_LIMIT_MS;
		} else if (now >= c->deadline) {
			drop(sv, i, END_PEER);
			return false;
		}
	}
	return true;
}

static void read_conn(server *sv, size_t i, short revents)
{
	static uint8_t buf[65536];
	conn *c = &sv->c[i];

	if (revents & POLLIN) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			drop(sv, i, c->s ? END_PEER : END_DONE);
			return;
		}
		if (c->s)
			emu_session_input(c->s, buf, (size_t)n, now_ms());
	} else if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		drop(sv, i, c->s ? END_PEER : END_DONE);
	}
}

/* The loop: until a signal, or (vhci) until no port is left to serve. */
static void run(server *sv, int lfd, vport *vps, size_t nvp)
{
	struct pollfd *pf = NULL;
	size_t pfcap = 0;
	size_t max_conns = 2 * sv->o->bus->n + 16;

	for (;;) {
		uint64_t now = now_ms(), deadline = UINT64_MAX;
		bool pair_linger = false;

		for (size_t i = 0; i < sv->n;)
			if (step(sv, i, now))
				i++;
		if (nvp > 0) {
			bool left = false;
			for (size_t i = 0; i < nvp; i++)
				left |= !vps[i].finished;
			if (!left && sv->n == 0)
				break;
		}
		if (pfcap < sv->n + 2) {
			struct pollfd *np = realloc(pf, (sv->n + 2) * sizeof(*np));
			if (!np) {
				fprintf(stderr, "dfukit-emu: out of memory\n");
				sv->status = 70;
				break;
			}
			pf = np;
			pfcap = sv->n + 2;
		}
		pf[0] = (struct pollfd){sv->o->signal_fd, POLLIN, 0};
		pf[1] = (struct pollfd){lfd >= 0 && sv->n < max_conns ? lfd : -1, POLLIN, 0};
		for (size_t i = 0; i < sv->n; i++) {
			conn *c = &sv->c[i];
			uint64_t d = c->deadline;
			pf[2 + i] = (struct pollfd){c->fd, 0, 0};
			if (!c->s) {
				pf[2 + i].events = c->vp ? 0 : POLLIN; /* EOF of a lingering TCP peer */
				pair_linger |= c->vp != NULL;
			} else {
				size_t olen;
				emu_session_output(c->s, &olen);
				if (emu_session_wants_input(c->s))
					pf[2 + i].events |= POLLIN;
				if (olen > 0)
					pf[2 + i].events |= POLLOUT;
				if (emu_session_deadline(c->s) < d)
					d = emu_session_deadline(c->s);
			}
			if (d < deadline)
				deadline = d;
		}
		int timeout = poll_timeout(deadline, now);
		if (pair_linger && (timeout < 0 || timeout > 5))
			timeout = 5; /* SIOCOUTQ has no poll event */
		size_t npf = 2 + sv->n;
		int rc = poll(pf, npf, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "dfukit-emu: poll: %s\n", strerror(errno));
			sv->status = 74;
			break;
		}
		if (pf[0].revents)
			break;
		/* Backwards: drop moves the last entry into i; entries added by
		 * a re-attach (at the end) have no poll result yet. */
		for (size_t i = npf - 2; i-- > 0;)
			if (i < sv->n && pf[2 + i].revents)
				read_conn(sv, i, pf[2 + i].revents);
		if (pf[1].revents & POLLIN)
			accept_conn(sv, lfd);
	}
	while (sv->n > 0)
		drop(sv, sv->n - 1, END_SIGNAL);
	free(pf);
}

int emu_serve_listener(const emu_server_opts *o, int lfd, const char *desc)
{
	server sv = {o, NULL, 0, 0, 0};

	fprintf(stderr, "dfukit-emu: %s listening on %s\n", o->profile, desc);
	run(&sv, lfd, NULL, 0);
	free(sv.c);
	return sv.status;
}

int emu_serve_vhci(const emu_server_opts *o, const char *vhci_dir)
{
	server sv = {o, NULL, 0, 0, 0};
	vport *vps = calloc(o->bus->n, sizeof(*vps));
	char err[768];

	if (!vps) {
		fprintf(stderr, "dfukit-emu: out of memory\n");
		return 70;
	}
	for (size_t i = 0; i < o->bus->n; i++) {
		if (emu_vhci_open(&vps[i].v, vhci_dir, err, sizeof(err)) != 0) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			free(vps);
			return 74;
		}
		vps[i].port = &o->bus->ports[i];
	}
	for (size_t i = 0; i < o->bus->n && sv.status == 0; i++)
		attach_vport(&sv, &vps[i]);
	if (sv.status == 0)
		run(&sv, -1, vps, o->bus->n);
	/* Still attached (signal, or an attach failed): detach. */
	while (sv.n > 0)
		drop(&sv, sv.n - 1, END_SIGNAL);
	for (size_t i = 0; i < o->bus->n; i++)
		if (emu_vhci_detach(&vps[i].v, err, sizeof(err)) != 0) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			sv.status = 74;
		}
	free(sv.c);
	free(vps);
	return sv.status;
}
