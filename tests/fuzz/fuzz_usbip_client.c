/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libFuzzer target: a hostile USB/IP server against libdfukit's USB/IP
 * client (lib/transport/transport_usbip.c), as a farm's controller meets
 * one on another host: device lists, import replies and URB returns with
 * any lengths, status and sequence numbers.
 *
 * The client does what dfukit does: lists the devices (one connection for
 * the list, one import per device), opens a DFU interface, asks its status,
 * reads a block and brings it to dfuIDLE. The server is a thread on a Unix
 * socket. The input is its replies: records of a connection number byte
 * (0 to 7, in the order the client connects), a 2-byte little-endian length
 * and that many bytes; each complete request the client sends on a
 * connection (OP_REQ_*, CMD_SUBMIT with its OUT data, CMD_UNLINK) is
 * answered with that connection's next record, and with nothing once they
 * run out. The client's clock is a fake one that moves only when the
 * server has nothing left to do (no connection to accept, no request to
 * answer): every deadline is reached at once, and runs are fast and
 * reproducible.
 *
 * Seeds: FUZZ_USBIP_CLIENT_RECORD=FILE runs the same client against
 * dfukit-emu's session code (an STM32F405 and a plain DFU 1.1 device) on
 * the system clock and writes that server's replies, in the input format,
 * to FILE (tests/fuzz/corpus/usbip_client/). FUZZ_USBIP_CLIENT_VERBOSE=1
 * prints the client's log and requests. */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dfukit/dfukit.h"
#include "emu_device.h"
#include "emu_session.h"

#define MAX_CONN 8
#define MAX_REC 256
#define REQ_MAX (48 + 65536) /* a CMD_SUBMIT header and the largest OUT data */
#define REC_BYTES (1 << 20)

typedef struct conn {
	int fd;
	uint8_t *in; /* a request being received */
	size_t inlen;
	bool urb_phase; /* after OP_REQ_IMPORT: URB commands */
	size_t next;	/* replay: the next record of this connection */
	emu_session *s; /* record mode */
} conn;

typedef struct server {
	int lfd;
	int wake[2]; /* written when the client is done */
	/* Replay: the records, in input order. */
	const uint8_t *rec[MAX_REC];
	size_t reclen[MAX_REC];
	uint8_t recconn[MAX_REC];
	size_t nrec;
	conn c[MAX_CONN];
	size_t nconn;
	pthread_mutex_t lock; /* nconn, c[].fd: read by the client's clock */
	atomic_bool busy;     /* the server is answering */
	atomic_uint gen;      /* counts what the server did: accepts and answers */
	unsigned seen_gen;    /* gen at the client's last sleep */
	atomic_bool stop;
	uint64_t now; /* the client's clock (ms) */
	/* Record mode: the emulator answers; its replies are kept here. */
	emu_bus *bus;
	uint8_t *out;
	size_t outlen;
} server;

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int listen_fd = -1;

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* How long the request at the start of c->in is, 0 while unknown. */
static size_t request_len(const conn *c)
{
	if (!c->urb_phase) {
		if (c->inlen < 8)
			return 0;
		uint16_t code = (uint16_t)(c->in[2] << 8 | c->in[3]);
		return code == 0x8003 ? 8 + 32 : 8; /* OP_REQ_IMPORT carries a bus id */
	}
	if (c->inlen < 48)
		return 0;
	uint32_t cmd = be32(c->in), dir = be32(c->in + 12), len = be32(c->in + 24);
	if (cmd == 1 && dir == 0) /* CMD_SUBMIT, OUT: its data follows */
		return 48 + (len < 65536 ? len : 65536);
	return 48;
}

static void record_reply(server *sv, size_t k, const uint8_t *p, size_t n)
{
	if (sv->outlen + 3 + n > REC_BYTES)
		return;
	sv->out[sv->outlen++] = (uint8_t)k;
	sv->out[sv->outlen++] = (uint8_t)n;
	sv->out[sv->outlen++] = (uint8_t)(n >> 8);
	memcpy(sv->out + sv->outlen, p, n);
	sv->outlen += n;
}

/* One complete request on connection k: its reply. */
static void answer(server *sv, size_t k, const uint8_t *req, size_t len)
{
	conn *c = &sv->c[k];
	if (!c->urb_phase && len == 40)
		c->urb_phase = true; /* after an import, URBs (whatever the reply) */
	if (!sv->bus) {
		while (c->next < sv->nrec && sv->recconn[c->next] != k)
			c->next++;
		if (c->next < sv->nrec) {
			write_all(c->fd, sv->rec[c->next], sv->reclen[c->next]);
			c->next++;
		}
		return;
	}
	emu_session_input(c->s, req, len, 1000);
	emu_session_tick(c->s, 1000);
	size_t olen;
	const uint8_t *o = emu_session_output(c->s, &olen);
	write_all(c->fd, o, olen);
	record_reply(sv, k, o, olen);
	emu_session_consume(c->s, olen);
}

/* Reads what the client sent on connection k and answers each complete
 * request; false once the client closed it. */
static bool serve_conn(server *sv, size_t k)
{
	conn *c = &sv->c[k];
	ssize_t n = recv(c->fd, c->in + c->inlen, REQ_MAX - c->inlen, MSG_DONTWAIT);
	if (n <= 0)
		return n < 0;
	c->inlen += (size_t)n;
	for (;;) {
		size_t len = request_len(c);
		if (len == 0 || len > c->inlen)
			break;
		answer(sv, k, c->in, len);
		memmove(c->in, c->in + len, c->inlen - len);
		c->inlen -= len;
	}
	if (c->inlen == REQ_MAX)
		c->inlen = 0; /* cannot happen with REQ_MAX; keeps the buffer bounded */
	return true;
}

static void *serve(void *arg)
{
	server *sv = arg;
	while (!atomic_load(&sv->stop)) {
		struct pollfd p[MAX_CONN + 2];
		size_t n = 0;
		p[n++] = (struct pollfd){sv->wake[0], POLLIN, 0};
		p[n++] = (struct pollfd){sv->lfd, POLLIN, 0};
		for (size_t i = 0; i < sv->nconn; i++)
			p[n++] = (struct pollfd){sv->c[i].fd, POLLIN, 0};
		atomic_store(&sv->busy, false);
		if (poll(p, n, -1) <= 0)
			continue;
		atomic_store(&sv->busy, true);
		atomic_fetch_add(&sv->gen, 1);
		if (p[1].revents & POLLIN) {
			int fd = accept(sv->lfd, NULL, NULL);
			pthread_mutex_lock(&sv->lock);
			if (fd >= 0 && sv->nconn < MAX_CONN) {
				conn *c = &sv->c[sv->nconn];
				c->fd = fd;
				c->in = malloc(REQ_MAX);
				if (!c->in)
					abort();
				if (sv->bus)
					c->s = emu_session_new(sv->bus, 1000);
				sv->nconn++;
			} else if (fd >= 0) {
				close(fd);
			}
			pthread_mutex_unlock(&sv->lock);
		}
		for (size_t i = 0; i < sv->nconn; i++) {
			if (!(p[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) || sv->c[i].fd < 0)
				continue;
			if (!serve_conn(sv, i)) {
				pthread_mutex_lock(&sv->lock);
				close(sv->c[i].fd);
				sv->c[i].fd = -1;
				pthread_mutex_unlock(&sv->lock);
			}
		}
	}
	return NULL;
}

/* True when the server has nothing to do: no connection waiting to be
 * accepted, no request it has not read. */
static bool server_idle(server *sv)
{
	if (atomic_load(&sv->busy))
		return false;
	struct pollfd p[MAX_CONN + 1];
	size_t n = 0;
	pthread_mutex_lock(&sv->lock);
	p[n++] = (struct pollfd){sv->lfd, POLLIN, 0};
	for (size_t i = 0; i < sv->nconn; i++)
		if (sv->c[i].fd >= 0)
			p[n++] = (struct pollfd){sv->c[i].fd, POLLIN, 0};
	pthread_mutex_unlock(&sv->lock);
	return poll(p, n, 0) == 0 && !atomic_load(&sv->busy);
}

static uint64_t fake_now(void *user)
{
	return ((server *)user)->now;
}

/* The client waits in slices of 1 ms; once the server has stayed idle
 * over a whole slice nothing can come but the deadline, so time runs
 * 100 times faster (a deadline is then passed by at most 99 ms). */
static void fake_sleep(void *user, uint32_t ms)
{
	server *sv = user;
	while (!server_idle(sv))
		sched_yield();
	unsigned gen = atomic_load(&sv->gen);
	sv->now += gen == sv->seen_gen ? (uint64_t)ms * 100 : ms;
	sv->seen_gen = gen;
}

static bool verbose(void)
{
	return getenv("FUZZ_USBIP_CLIENT_VERBOSE") != NULL;
}

static void print_trace(void *user, const dfk_trace_event *ev)
{
	(void)user;
	fprintf(stderr, "request %02x %02x wLength %u: %s, %zu bytes\n", ev->setup.bmRequestType, ev->setup.bRequest,
		ev->setup.wLength, dfk_code_name(ev->result), ev->actual);
}

static void print_log(void *user, dfk_log_level level, const char *msg)
{
	(void)user;
	fprintf(stderr, "log %d: %s\n", (int)level, msg);
}

/* What dfukit does with a server: list, open, status, read, to dfuIDLE. */
static void client(server *sv)
{
	char spec[sizeof(sock_path) + 8];
	dfk_ctx *ctx = NULL;
	dfk_transport *t = NULL;
	dfk_found *found = NULL;
	dfk_error err;

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	if (dfk_ctx_new(&ctx, &err))
		abort();
	if (!sv->bus) {
		dfk_clock clock = {fake_now, fake_sleep, sv};
		sv->now = 1000;
		if (dfk_ctx_set_clock(ctx, &clock, &err))
			abort();
	}
	/* Nothing a hostile status asks for is waited out for long. */
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_USB, 200, NULL);
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_POLL_CAP, 2, NULL);
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_OPERATION, 50, NULL);
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_REENUM, 50, NULL);
	dfk_ctx_set_max_error_retries(ctx, 2);
	if (verbose()) {
		dfk_ctx_set_trace(ctx, print_trace, NULL);
		dfk_ctx_set_log(ctx, print_log, NULL);
	}
	if (dfk_transport_usbip_new(&t, ctx, spec, &err) == DFK_OK) {
		dfk_match m;
		dfk_match_init(&m);
		dfk_code rc = dfk_find(ctx, t, &m, &found, &err);
		if (verbose())
			fprintf(stderr, "find: %s, %zu interfaces%s%s\n", dfk_code_name(rc), dfk_found_count(found),
				rc ? ": " : "", rc ? err.msg : "");
		size_t opened = 0;
		for (size_t i = 0; rc == DFK_OK && i < dfk_found_count(found) && opened < 2; i++) {
			const dfk_dfu_if *ifc = dfk_found_get(found, i);
			dfk_dev *dev = NULL;
			if (!ifc->dfu_mode || dfk_dev_open(ctx, ifc, &dev, &err))
				continue;
			opened++;
			dfk_status st;
			uint8_t buf[64];
			size_t got = 0;
			dfk_dfu_get_status(dev, &st, &err);
			dfk_dfu_make_idle(dev, &err);
			dfk_dfu_upload(dev, 2, buf, sizeof(buf), &got, &err);
			dfk_dfu_make_idle(dev, &err);
			dfk_dev_close(dev);
		}
		dfk_found_free(found);
		dfk_transport_free(t);
	}
	dfk_ctx_free(ctx);
}

static void remove_socket(void)
{
	unlink(sock_path);
}

static void listen_once(void)
{
	if (listen_fd >= 0)
		return;
	snprintf(sock_path, sizeof(sock_path), "/tmp/dfk-fuzz-usbip-%ld.sock", (long)getpid());
	unlink(sock_path);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(listen_fd, 16) < 0)
		abort();
	atexit(remove_socket);
}

static void run(server *sv)
{
	pthread_t th;
	sv->lfd = listen_fd;
	pthread_mutex_init(&sv->lock, NULL);
	if (pipe(sv->wake) != 0 || pthread_create(&th, NULL, serve, sv) != 0)
		abort();
	client(sv);
	atomic_store(&sv->stop, true);
	if (write(sv->wake[1], "x", 1) != 1)
		abort();
	pthread_join(th, NULL);
	close(sv->wake[0]);
	close(sv->wake[1]);
	for (size_t i = 0; i < sv->nconn; i++) {
		if (sv->c[i].fd >= 0)
			close(sv->c[i].fd);
		free(sv->c[i].in);
		emu_session_free(sv->c[i].s);
	}
	pthread_mutex_destroy(&sv->lock);
}

static void record(const char *path)
{
	server *sv = calloc(1, sizeof(*sv));
	static emu_bus bus;
	char err[256];
	static const char *const profiles[] = {"stm32f405", "dfu11"};
	for (size_t i = 0; i < 2; i++) {
		emu_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.profile = profiles[i];
		emu_device *dev = emu_device_new(&cfg, err, sizeof(err));
		if (!dev || !emu_bus_add(&bus, dev))
			abort();
	}
	if (!sv || !(sv->out = malloc(REC_BYTES)))
		abort();
	sv->bus = &bus;
	run(sv);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(sv->out, 1, sv->outlen, f) != sv->outlen || fclose(f) != 0)
		abort();
	for (size_t i = 0; i < bus.n; i++)
		emu_device_free(bus.ports[i].dev);
	fprintf(stderr, "recorded %zu connections, %zu bytes into %s\n", sv->nconn, sv->outlen, path);
	free(sv->out);
	free(sv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool recorded;
	listen_once();
	const char *rec = getenv("FUZZ_USBIP_CLIENT_RECORD");
	if (rec && !recorded) {
		recorded = true;
		record(rec);
	}
	server *sv = calloc(1, sizeof(*sv));
	if (!sv)
		abort();
	while (size >= 3 && sv->nrec < MAX_REC) {
		size_t n = (size_t)data[1] | (size_t)data[2] << 8;
		sv->recconn[sv->nrec] = data[0] % MAX_CONN;
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		sv->rec[sv->nrec] = data;
		sv->reclen[sv->nrec++] = n;
		data += n;
		size -= n;
	}
	run(sv);
	free(sv);
	return 0;
}
