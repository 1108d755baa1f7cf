/* The socket side of dfukit-emu: listening, accepting, poll(), timing
 * (the monotonic clock handed to the sessions), lingering closes, and the
 * vhci-hcd socket pair. The protocol itself is emu_session.c.
 * Single-threaded poll(), one importing host at a time; while it holds the
 * import, further connections ("side" connections) are served in the same
 * loop, so that a host can list the devices again without dropping its
 * import. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
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

	if (o->stats_path && !emu_write_stats_file(o->dev, o->stats_path, err, sizeof(err)))
		fprintf(stderr, "dfukit-emu: %s\n", err);
}

static bool take_signal(int sigfd)
{
	struct pollfd p = {sigfd, POLLIN, 0};
	return poll(&p, 1, 0) > 0;
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
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	/* A socket file left by an emulator that died is reused; one that
	 * still answers belongs to a running server. */
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
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
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
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

/* The host went away: a USB reset for the device. Returns whether the
 * device re-enumerates because of it (its event is consumed here, so that
 * it does not end the next host's first transfer). */
static bool bus_reset(emu_device *dev)
{
	emu_device_bus_reset(dev);
	return emu_device_take_event(dev) != EMU_EVENT_NONE;
}

enum conn_end { END_DONE, END_PEER, END_SIGNAL };

static void log_end(const emu_server_opts *o, emu_session *s, enum conn_end end);

/* Side connections: served while a host holds the import. Bounded, so
 * that a flood of connections waits in the backlog instead. */
#define MAX_SIDE 8

struct side {
	int fd;
	emu_session *s;
	bool lingering;	   /* reply sent, write side shut: wait for EOF */
	uint64_t deadline; /* flush or linger limit, UINT64_MAX: none */
};

struct sides {
	struct side c[MAX_SIDE];
	size_t n;
};

static void side_drop(const emu_server_opts *o, struct sides *sd, size_t i, enum conn_end end)
{
	struct side *c = &sd->c[i];

	close(c->fd);
	if (!c->lingering)
		log_end(o, c->s, end);
	emu_session_free(c->s);
	sd->c[i] = sd->c[--sd->n];
}

static void side_accept(const emu_server_opts *o, int lfd, struct sides *sd, uint32_t devnum)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	emu_session *s = emu_session_new(o->dev, devnum, false, now_ms());
	if (!s) {
		close(fd);
		return;
	}
	emu_session_set_import_busy(s);
	sd->c[sd->n++] = (struct side){fd, s, false, UINT64_MAX};
}

/* Sends what a side session has, moves it to lingering once its reply is
 * out; false when the connection is finished. */
static bool side_step(const emu_server_opts *o, struct sides *sd, size_t i, uint64_t now)
{
	struct side *c = &sd->c[i];
	size_t olen;
	const uint8_t *out;

	if (c->lingering) {
		if (now >= c->deadline) {
			side_drop(o, sd, i, END_DONE);
			return false;
		}
		return true;
	}
	emu_session_tick(c->s, now);
	out = emu_session_output(c->s, &olen);
	while (olen > 0) {
		ssize_t n = send(c->fd, out, olen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			side_drop(o, sd, i, END_PEER);
			return false;
		}
		emu_session_consume(c->s, (size_t)n);
		out = emu_session_output(c->s, &olen);
	}
	if (emu_session_done(c->s)) {
		if (olen == 0) {
			log_end(o, c->s, END_DONE);
			shutdown(c->fd, SHUT_WR);
			c->lingering = true;
			c->deadline = now + LINGER_MS;
		} else if (c->deadline == UINT64_MAX) {
			c->deadline = now + FLUSH_LIMIT_MS;
		} else if (now >= c->deadline) {
			side_drop(o, sd, i, END_PEER);
			return false;
		}
	}
	return true;
}

static void side_read(const emu_server_opts *o, struct sides *sd, size_t i, short revents)
{
	static uint8_t buf[4096];
	struct side *c = &sd->c[i];

	if (revents & POLLIN) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			side_drop(o, sd, i, c->lingering ? END_DONE : END_PEER);
			return;
		}
		if (!c->lingering)
			emu_session_input(c->s, buf, (size_t)n, now_ms());
	} else if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		side_drop(o, sd, i, END_PEER);
	}
}

/* Moves bytes between fd and one session until the session is done, the
 * peer goes away or a signal arrives. With sd, further connections on lfd
 * are served alongside while the session holds the import. */
static enum conn_end serve_conn(const emu_server_opts *o, int fd, emu_session *s, int lfd, struct sides *sd,
				uint32_t devnum)
{
	static uint8_t buf[65536];
	uint64_t flush_deadline = UINT64_MAX;

	for (;;) {
		uint64_t now = now_ms();
		size_t olen;
		const uint8_t *out;

		emu_session_tick(s, now);
		out = emu_session_output(s, &olen);
		while (olen > 0) {
			ssize_t n = send(fd, out, olen, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0) {
				if (o->verbose)
					fprintf(stderr, "dfukit-emu: send: %s\n", strerror(errno));
				return END_PEER;
			}
			emu_session_consume(s, (size_t)n);
			out = emu_session_output(s, &olen);
		}
		if (emu_session_done(s)) {
			if (olen == 0)
				return END_DONE;
			if (flush_deadline == UINT64_MAX)
				flush_deadline = now + FLUSH_LIMIT_MS;
			else if (now >= flush_deadline)
				return END_PEER;
		}

		struct pollfd pf[3 + MAX_SIDE] = {{fd, 0, 0}, {o->signal_fd, POLLIN, 0}, {-1, 0, 0}};
		if (emu_session_wants_input(s))
			pf[0].events |= POLLIN;
		if (olen > 0)
			pf[0].events |= POLLOUT;
		uint64_t deadline = emu_session_deadline(s);
		if (flush_deadline < deadline)
			deadline = flush_deadline;
		size_t nside = 0;
		if (sd) {
			for (size_t i = 0; i < sd->n;)
				if (side_step(o, sd, i, now))
					i++;
			if (emu_session_is_host(s) && !emu_session_done(s) && sd->n < MAX_SIDE) {
				pf[2].fd = lfd;
				pf[2].events = POLLIN;
			}
			nside = sd->n;
			for (size_t i = 0; i < nside; i++) {
				struct side *c = &sd->c[i];
				size_t sl;
				emu_session_output(c->s, &sl);
				pf[3 + i].fd = c->fd;
				pf[3 + i].events = (c->lingering || emu_session_wants_input(c->s) ? POLLIN : 0) |
						   (sl > 0 && !c->lingering ? POLLOUT : 0);
				uint64_t d = c->lingering ? c->deadline : emu_session_deadline(c->s);
				if (!c->lingering && c->deadline < d)
					d = c->deadline;
				if (d < deadline)
					deadline = d;
			}
		}
		int rc = poll(pf, 3 + nside, poll_timeout(deadline, now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "dfukit-emu: poll: %s\n", strerror(errno));
			return END_PEER;
		}
		if (pf[1].revents)
			return END_SIGNAL;
		if (sd) {
			/* Backwards: side_drop moves the last entry into i. */
			for (size_t i = nside; i-- > 0;)
				if (pf[3 + i].revents)
					side_read(o, sd, i, pf[3 + i].revents);
			if (pf[2].revents & POLLIN)
				side_accept(o, lfd, sd, devnum);
		}
		if (pf[0].revents & POLLIN) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (n <= 0)
				return END_PEER;
			emu_session_input(s, buf, (size_t)n, now_ms());
		} else if (pf[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			return END_PEER;
		}
	}
}

/* After our last reply: let the peer read it before the close, so that
 * unread input on our side does not turn the close into a reset. */
static void linger_tcp(int fd, int sigfd)
{
	static uint8_t junk[4096];
	uint64_t end = now_ms() + LINGER_MS;

	shutdown(fd, SHUT_WR);
	for (;;) {
		uint64_t now = now_ms();
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {sigfd, POLLIN, 0}};
		if (now >= end || poll(pf, 2, poll_timeout(end, now)) <= 0 || pf[1].revents)
			return;
		ssize_t n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

/* The kernel end of a socket pair: wait until vhci has read our last
 * reply (SIOCOUTQ counts bytes not yet consumed by the peer). */
static void linger_pair(int fd)
{
	uint64_t end = now_ms() + LINGER_MS * 2;

	while (now_ms() < end) {
		int outq = 0;
		struct timespec ts = {0, 5000000};
		if (ioctl(fd, SIOCOUTQ, &outq) != 0 || outq <= 0)
			return;
		nanosleep(&ts, NULL);
	}
}

static void log_end(const emu_server_opts *o, emu_session *s, enum conn_end end)
{
	if (end == END_SIGNAL)
		return;
	/* Device lists are routine; broken streams and hosts are worth a line. */
	if (end == END_DONE && !emu_session_is_host(s) && !o->verbose &&
	    strncmp(emu_session_reason(s), "malformed", 9) != 0)
		return;
	fprintf(stderr, "dfukit-emu: connection closed: %s\n",
		end == END_PEER ? "host went away" : emu_session_reason(s));
}

/* Side connections still open when the host left: those that have not had
 * their answer yet get it now, one at a time as before (still refusing an
 * import: the host's departure was not theirs to see). */
static void drain_sides(const emu_server_opts *o, struct sides *sd, bool signalled)
{
	while (sd->n > 0) {
		struct side *c = &sd->c[sd->n - 1];
		if (!c->lingering && !signalled) {
			enum conn_end end = serve_conn(o, c->fd, c->s, -1, NULL, 0);
			if (end == END_DONE)
				linger_tcp(c->fd, o->signal_fd);
			log_end(o, c->s, end);
			c->lingering = true;
		}
		side_drop(o, sd, sd->n - 1, END_SIGNAL);
	}
}

int emu_serve_listener(const emu_server_opts *o, int lfd, const char *desc)
{
	uint32_t devnum = EMU_FIRST_DEVNUM;

	fprintf(stderr, "dfukit-emu: %s listening on %s\n", o->profile, desc);
	for (;;) {
		struct pollfd pf[2] = {{lfd, POLLIN, 0}, {o->signal_fd, POLLIN, 0}};
		int rc = poll(pf, 2, -1);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "dfukit-emu: poll: %s\n", strerror(errno));
			return 74;
		}
		if (pf[1].revents)
			return 0;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
				struct timespec ts = {0, 100000000};
				fprintf(stderr, "dfukit-emu: accept: %s\n", strerror(errno));
				nanosleep(&ts, NULL);
			}
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on unix sockets */

		emu_session *s = emu_session_new(o->dev, devnum, false, now_ms());
		if (!s) {
			close(fd);
			fprintf(stderr, "dfukit-emu: out of memory\n");
			return 70;
		}
		struct sides sd = {.n = 0};
		enum conn_end end = serve_conn(o, fd, s, lfd, &sd, devnum);
		if (end == END_DONE)
			linger_tcp(fd, o->signal_fd);
		close(fd);
		log_end(o, s, end);
		if (emu_session_is_host(s)) {
			/* The device left the bus, or changes mode on the reset
			 * (it may raise its event right there): either way it
			 * comes back at a new address. */
			bool left = emu_session_event(s) != EMU_EVENT_NONE;
			if (bus_reset(o->dev) || left)
				devnum++;
			write_stats(o);
		}
		emu_session_free(s);
		drain_sides(o, &sd, end == END_SIGNAL);
		if (end == END_SIGNAL || take_signal(o->signal_fd))
			return 0;
	}
}

/* Waits for SIGINT/SIGTERM while the device is off the bus. */
static void idle_until_signal(int sigfd)
{
	for (;;) {
		struct pollfd pf = {sigfd, POLLIN, 0};
		if (poll(&pf, 1, -1) > 0 || (errno != EINTR))
			return;
	}
}

int emu_serve_vhci(const emu_server_opts *o, const char *vhci_dir)
{
	emu_vhci v;
	char err[768];
	uint32_t devnum = EMU_FIRST_DEVNUM;
	int status = 0;

	if (emu_vhci_open(&v, vhci_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "dfukit-emu: %s\n", err);
		return 74;
	}
	for (;;) {
		uint32_t devid = (EMU_BUSNUM << 16) | devnum;
		int fd = emu_vhci_attach(&v, devid, err, sizeof(err));
		if (fd < 0) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			return 74;
		}
		fprintf(stderr, "dfukit-emu: %s listening on vhci port %d (%s, devid 0x%08x)\n", o->profile, v.port,
			v.dir, devid);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

		emu_session *s = emu_session_new(o->dev, devnum, true, now_ms());
		if (!s) {
			close(fd);
			emu_vhci_detach(&v, err, sizeof(err));
			fprintf(stderr, "dfukit-emu: out of memory\n");
			return 70;
		}
		enum conn_end end = serve_conn(o, fd, s, -1, NULL, devnum);
		emu_event ev = emu_session_event(s);
		log_end(o, s, end);
		if (end == END_DONE)
			linger_pair(fd);
		if (end == END_PEER && ev == EMU_EVENT_NONE) {
			/* vhci closed its end: the port was detached by the host
			 * (usbip detach, a protocol error); it is not ours any
			 * more, so no detach is written. */
			fprintf(stderr, "dfukit-emu: vhci port %d detached by the host\n", v.port);
			v.port = -1;
		} else if (emu_vhci_detach(&v, err, sizeof(err)) != 0) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			status = 74;
		}
		close(fd);
		bus_reset(o->dev);
		write_stats(o);
		emu_session_free(s);
		if (end == END_SIGNAL || take_signal(o->signal_fd) || status != 0)
			return status;
		if (ev == EMU_EVENT_NONE)
			return 0;

		emu_usb_identity id;
		memset(&id, 0, sizeof(id));
		emu_device_identity(o->dev, &id);
		if (!id.present) {
			fprintf(stderr, "dfukit-emu: device off the bus; waiting for SIGINT/SIGTERM\n");
			idle_until_signal(o->signal_fd);
			return 0;
		}
		devnum++;
	}
}
