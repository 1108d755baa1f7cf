/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The USB/IP client transport against a fake USB/IP server running in
 * threads of the test (one per connection, as usbipd forks): device list,
 * import, descriptors, control IN/OUT, STALL, timeout + unlink, disconnect,
 * reset, and hostile servers. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend.h" /* white-box: the backend's operations */
#include "dfukit/device.h"
#include "dfukit/transport.h"
#include "usbip_wire.h"

/* ---- the fake server ------------------------------------------------------ */

enum devlist_mode {
	DL_OK,
	DL_HUGE_NDEV,	  /* ndev = 0xFFFFFFFF */
	DL_TRUNCATED,	  /* ndev = 3, one entry, then close */
	DL_BAD_VERSION,	  /* version 0x0106 */
	DL_BAD_CODE,	  /* replies OP_REP_IMPORT */
	DL_BAD_STATUS,	  /* status ST_ERROR */
	DL_TRUNC_INTF,	  /* bNumInterfaces 255, two interfaces sent */
	DL_CLOSE_AT_ONCE, /* accept and close */
	DL_SILENT,	  /* accept and say nothing */
	DL_GARBAGE,	  /* valid op header, small ndev, then random bytes */
};

enum import_mode {
	IM_OK,
	IM_WRONG_BUSID,
	IM_REFUSE,	/* ST_NODEV */
	IM_BAD_VERSION, /* version 0x0106 */
	IM_TRUNCATED,	/* status OK, then a third of the device record */
};

/* What the fake device does with a request (matched on bRequest, for
 * non-standard requests). */
enum urb_mode {
	U_OK,
	U_STALL,
	U_HANG,	     /* no reply; answers the UNLINK */
	U_HANG_RACE, /* no reply until the UNLINK, then RET_SUBMIT then RET_UNLINK */
	U_HANG_DEAF, /* no reply, ignores the UNLINK too */
	U_CLOSE,     /* closes the connection */
	U_BAD_SEQ,   /* replies with a wrong seqnum */
	U_OVERSIZE,  /* actual_length > wLength */
	U_ENODEV,    /* status -ENODEV */
	U_BAD_CMD,   /* header with command 0x77 */
	U_TORN,	     /* half a header, then close */
	U_GARBAGE,   /* a plausible header with random fields and tail */
};

struct fake_dev {
	char busid[32];
	uint32_t busnum, devnum;
	const uint8_t *dev_desc; /* 18 bytes */
	const uint8_t *cfg_desc[2];
	size_t cfg_len[2];
};

struct server {
	int lfd;
	char path[108];
	int port; /* TCP when nonzero */
	pthread_t acceptor;
	pthread_mutex_t lock;
	bool stop;
	pthread_t conns[64];
	bool threaded[64];
	int conn_fds[64];
	bool single_host; /* one connection at a time, as dfukit-emu serves */
	int nconns;

	/* scenario */
	struct fake_dev devs[2];
	int ndevs;
	enum devlist_mode devlist;
	enum import_mode import;
	uint8_t special_request; /* bRequest the urb mode applies to */
	unsigned seed;		 /* for the garbage modes */
	enum urb_mode urb;

	/* observations */
	int imports;
	int import_closed; /* import connections that saw EOF */
	int unlinks;
	uint32_t last_unlink_target;
	uint32_t last_submit_seq;
	uint32_t last_devid;
	uint8_t last_setup[8];
	uint8_t out_data[4096];
	size_t out_len;
	int set_interface_calls;
};

/* DFU device: 0483:df11, one configuration, DFU interface 0 with two alts
 * and a DFU 1.1 functional descriptor after the last one. */
static const uint8_t dfu_dev_desc[18] = {18,   1,    0x00, 0x02, 0,    0, 0, 64, 0x83,
					 0x04, 0x11, 0xdf, 0x00, 0x22, 1, 2, 3,	 1};
static const uint8_t dfu_cfg_desc[36] = {
    9, 2,    36,   0,	 1, 1,	  0, 0x80, 50, /* config */
    9, 4,    0,	   0,	 0, 0xFE, 1, 2,	   4,  /* intf 0 alt 0 */
    9, 4,    0,	   1,	 0, 0xFE, 1, 2,	   5,  /* intf 0 alt 1 */
    9, 0x21, 0x0B, 0xFF, 0, 0,	  8, 0x1A, 1   /* functional: wTransferSize 2048, DFU 1.1a */
};
/* A vendor device with two configurations. */
static const uint8_t vnd_dev_desc[18] = {18,   1,    0x00, 0x02, 0xFF, 0, 0, 64, 0x34,
					 0x12, 0x78, 0x56, 0x01, 0x00, 0, 0, 0,	 2};
static const uint8_t vnd_cfg1[18] = {9, 2, 18, 0, 1, 1, 0, 0x80, 50, 9, 4, 0, 0, 0, 0xFF, 0, 0, 0};
static const uint8_t vnd_cfg2[18] = {9, 2, 18, 0, 1, 2, 0, 0x80, 50, 9, 4, 0, 0, 0, 0xFF, 1, 0, 0};

static bool rd(int fd, void *buf, size_t len)
{
	return dfk_usbip_read_full(fd, buf, len, NULL) == DFK_OK;
}

static bool wr(int fd, const void *buf, size_t len)
{
	return dfk_usbip_write_full(fd, buf, len, NULL) == DFK_OK;
}

static void put32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void pack_dev(const struct fake_dev *f, uint8_t nintf, uint8_t out[DFK_USBIP_DEVICE_LEN])
{
	dfk_usbip_device d = {0};
	snprintf(d.path, sizeof(d.path), "/sys/devices/fake/usb%u/%s", f->busnum, f->busid);
	snprintf(d.busid, sizeof(d.busid), "%s", f->busid);
	d.busnum = f->busnum;
	d.devnum = f->devnum;
	d.speed = DFK_USBIP_SPEED_FULL;
	d.idVendor = (uint16_t)(f->dev_desc[8] | f->dev_desc[9] << 8);
	d.idProduct = (uint16_t)(f->dev_desc[10] | f->dev_desc[11] << 8);
	d.bNumConfigurations = f->dev_desc[17];
	d.bConfigurationValue = 1;
	d.bNumInterfaces = nintf;
	dfk_usbip_device_pack(&d, out);
}

static void send_op(int fd, uint16_t version, uint16_t code, uint32_t status)
{
	uint8_t b[8];
	dfk_usbip_op op = {version, code, status};
	dfk_usbip_op_pack(&op, b);
	wr(fd, b, sizeof(b));
}

static void serve_devlist(struct server *s, int fd)
{
	uint8_t b[DFK_USBIP_DEVICE_LEN], n[4], intf[4] = {0xFE, 1, 2, 0};

	switch (s->devlist) {
	case DL_BAD_VERSION: send_op(fd, 0x0106, DFK_USBIP_OP_REP_DEVLIST, 0); break;
	case DL_BAD_CODE: send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_IMPORT, 0); break;
	case DL_BAD_STATUS: send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, DFK_USBIP_ST_ERROR); break;
	case DL_HUGE_NDEV:
		send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, 0);
		put32be(n, 0xFFFFFFFF);
		wr(fd, n, 4);
		break;
	case DL_TRUNCATED:
		send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, 0);
		put32be(n, 3);
		wr(fd, n, 4);
		pack_dev(&s->devs[0], 1, b);
		wr(fd, b, sizeof(b));
		wr(fd, intf, 4);
		break;
	case DL_TRUNC_INTF:
		send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, 0);
		put32be(n, 1);
		wr(fd, n, 4);
		pack_dev(&s->devs[0], 255, b);
		wr(fd, b, sizeof(b));
		wr(fd, intf, 4);
		wr(fd, intf, 4);
		break;
	case DL_GARBAGE: {
		unsigned r = s->seed;
		uint8_t junk[1200];
		send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, 0);
		put32be(n, rand_r(&r) % 4);
		wr(fd, n, 4);
		size_t len = (size_t)(rand_r(&r) % (int)sizeof(junk));
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)rand_r(&r);
		wr(fd, junk, len);
		break;
	}
	default:
		send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, 0);
		put32be(n, (uint32_t)s->ndevs);
		wr(fd, n, 4);
		for (int i = 0; i < s->ndevs; i++) {
			pack_dev(&s->devs[i], 1, b);
			wr(fd, b, sizeof(b));
			wr(fd, intf, 4);
		}
		break;
	}
}

static bool send_ret(int fd, uint32_t seq, int32_t status, const uint8_t *data, size_t len, int32_t alen)
{
	dfk_usbip_header h = {0};
	uint8_t b[DFK_USBIP_HEADER_LEN + 4096];
	h.command = DFK_USBIP_RET_SUBMIT;
	h.seqnum = seq;
	h.u.ret_submit.status = status;
	h.u.ret_submit.actual_length = alen;
	dfk_usbip_header_pack(&h, b);
	if (len)
		memcpy(b + DFK_USBIP_HEADER_LEN, data, len);
	return wr(fd, b, DFK_USBIP_HEADER_LEN + len);
}

static bool send_ret_unlink(int fd, uint32_t seq, int32_t status)
{
	dfk_usbip_header h = {0};
	uint8_t b[DFK_USBIP_HEADER_LEN];
	h.command = DFK_USBIP_RET_UNLINK;
	h.seqnum = seq;
	h.u.ret_unlink.status = status;
	dfk_usbip_header_pack(&h, b);
	return wr(fd, b, sizeof(b));
}

/* Serves URBs on an imported connection until EOF. */
static void serve_urbs(struct server *s, int fd, const struct fake_dev *f)
{
	uint8_t b[DFK_USBIP_HEADER_LEN], data[4096];
	dfk_usbip_header h;
	uint32_t pending = 0;
	bool have_pending = false;

	while (rd(fd, b, sizeof(b))) {
		if (dfk_usbip_header_unpack(b, &h, NULL) != DFK_OK)
			return;
		if (h.command == DFK_USBIP_CMD_UNLINK) {
			pthread_mutex_lock(&s->lock);
			s->unlinks++;
			s->last_unlink_target = h.u.unlink.seqnum;
			enum urb_mode m = s->urb;
			pthread_mutex_unlock(&s->lock);
			if (m == U_HANG_DEAF)
				continue;
			if (m == U_HANG_RACE && have_pending) {
				uint8_t st[6] = {0, 0x64, 0, 0, 4, 0};
				send_ret(fd, pending, 0, st, sizeof(st), sizeof(st));
				send_ret_unlink(fd, h.seqnum, 0);
			} else {
				send_ret_unlink(fd, h.seqnum, have_pending ? -DFK_USBIP_ECONNRESET : 0);
			}
			have_pending = false;
			continue;
		}
		if (h.command != DFK_USBIP_CMD_SUBMIT)
			return;
		size_t len = (size_t)h.u.submit.transfer_buffer_length;
		if (len > sizeof(data))
			return;
		bool in = h.direction == DFK_USBIP_DIR_IN;
		if (!in && len && !rd(fd, data, len))
			return;
		const uint8_t *su = h.u.submit.setup;
		pthread_mutex_lock(&s->lock);
		s->last_submit_seq = h.seqnum;
		s->last_devid = h.devid;
		memcpy(s->last_setup, su, 8);
		if (!in) {
			memcpy(s->out_data, data, len);
			s->out_len = len;
		}
		enum urb_mode m = (su[0] & 0x60) != 0 && su[1] == s->special_request ? s->urb : U_OK;
		pthread_mutex_unlock(&s->lock);

		/* The wLength in the SETUP packet must match the header. */
		if ((size_t)(su[6] | su[7] << 8) != len)
			return;
		switch (m) {
		case U_STALL: send_ret(fd, h.seqnum, -DFK_USBIP_EPIPE, NULL, 0, 0); continue;
		case U_HANG:
		case U_HANG_RACE:
		case U_HANG_DEAF:
			pending = h.seqnum;
			have_pending = true;
			continue;
		case U_CLOSE: return;
		case U_BAD_SEQ: send_ret(fd, h.seqnum + 100, 0, NULL, 0, 0); continue;
		case U_OVERSIZE: {
			uint8_t big[64] = {0};
			send_ret(fd, h.seqnum, 0, big, len + 1, (int32_t)len + 1);
			continue;
		}
		case U_ENODEV: send_ret(fd, h.seqnum, -DFK_USBIP_ENODEV, NULL, 0, 0); continue;
		case U_BAD_CMD: {
			dfk_usbip_header x = {0};
			x.command = 0x77;
			x.seqnum = h.seqnum;
			dfk_usbip_header_pack(&x, b);
			put32be(b, 0x77);
			wr(fd, b, sizeof(b));
			continue;
		}
		case U_TORN: wr(fd, b, 20); return;
		case U_GARBAGE: {
			unsigned r = s->seed;
			uint8_t junk[200];
			dfk_usbip_header x = {0};
			x.command = (uint32_t)(rand_r(&r) % 6);
			x.seqnum = rand_r(&r) % 2 ? h.seqnum : (uint32_t)rand_r(&r);
			dfk_usbip_header_pack(&x, junk);
			put32be(junk + 0x14, rand_r(&r) % 2 ? 0 : (uint32_t) - (rand_r(&r) % 120));
			put32be(junk + 0x18, (uint32_t)(rand_r(&r) % 2 ? rand_r(&r) % 16 : rand_r(&r)));
			size_t tail = (size_t)(rand_r(&r) % 150);
			for (size_t i = 0; i < tail; i++)
				junk[48 + i] = (uint8_t)rand_r(&r);
			wr(fd, junk, 48 + tail);
			if (rand_r(&r) % 2)
				return;
			continue;
		}
		default: break;
		}

		/* Standard requests. */
		if (su[0] == 0x80 && su[1] == 6) {
			uint8_t type = su[3], idx = su[2];
			const uint8_t *d = NULL;
			size_t dl = 0;
			if (type == 1) {
				d = f->dev_desc;
				dl = 18;
			} else if (type == 2 && idx < f->dev_desc[17] && idx < 2) {
				d = f->cfg_desc[idx];
				dl = f->cfg_len[idx];
			}
			if (!d) {
				send_ret(fd, h.seqnum, -DFK_USBIP_EPIPE, NULL, 0, 0);
				continue;
			}
			if (dl > len)
				dl = len;
			send_ret(fd, h.seqnum, 0, d, dl, (int32_t)dl);
			continue;
		}
		if (su[0] == 0x01 && su[1] == 11) {
			pthread_mutex_lock(&s->lock);
			s->set_interface_calls++;
			pthread_mutex_unlock(&s->lock);
			send_ret(fd, h.seqnum, 0, NULL, 0, 0);
			continue;
		}
		/* Class requests: IN answers a counting pattern, OUT accepts. */
		if (in) {
			for (size_t i = 0; i < len; i++)
				data[i] = (uint8_t)(i + su[1]);
			send_ret(fd, h.seqnum, 0, data, len, (int32_t)len);
		} else {
			send_ret(fd, h.seqnum, 0, NULL, 0, (int32_t)len);
		}
	}
}

struct conn_arg {
	struct server *s;
	int fd;
};

static void serve_conn(struct server *s, int fd)
{
	uint8_t b[8], busid[32];
	dfk_usbip_op op;

	if (s->devlist == DL_CLOSE_AT_ONCE)
		return;
	if (s->devlist == DL_SILENT) {
		while (rd(fd, b, 1)) /* until the client gives up */
			;
		return;
	}
	if (!rd(fd, b, sizeof(b)) || dfk_usbip_op_unpack(b, &op, NULL) != DFK_OK)
		return;
	if (op.code == DFK_USBIP_OP_REQ_DEVLIST) {
		serve_devlist(s, fd);
		return;
	}
	if (op.code != DFK_USBIP_OP_REQ_IMPORT || !rd(fd, busid, sizeof(busid)))
		return;
	busid[31] = 0;
	const struct fake_dev *f = NULL;
	for (int i = 0; i < s->ndevs; i++)
		if (strcmp((char *)busid, s->devs[i].busid) == 0)
			f = &s->devs[i];
	if (!f || s->import == IM_REFUSE) {
		send_op(fd, DFK_USBIP_VERSION, DFK_USBIP_OP_REP_IMPORT, DFK_USBIP_ST_NODEV);
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->imports++;
	pthread_mutex_unlock(&s->lock);
	uint8_t dev[DFK_USBIP_DEVICE_LEN];
	struct fake_dev other = *f;
	if (s->import == IM_WRONG_BUSID)
		snprintf(other.busid, sizeof(other.busid), "9-9");
	pack_dev(&other, 1, dev);
	send_op(fd, s->import == IM_BAD_VERSION ? 0x0106 : DFK_USBIP_VERSION, DFK_USBIP_OP_REP_IMPORT, 0);
	if (s->import == IM_TRUNCATED) {
		wr(fd, dev, sizeof(dev) / 3);
		return;
	}
	wr(fd, dev, sizeof(dev));
	serve_urbs(s, fd, f);
	pthread_mutex_lock(&s->lock);
	s->import_closed++;
	pthread_mutex_unlock(&s->lock);
}

static void *conn_thread(void *p)
{
	struct conn_arg *a = p;
	struct server *s = a->s;
	int fd = a->fd;

	free(a);
	serve_conn(s, fd);
	/* The client sees EOF now; server_stop closes the descriptor. */
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static void *accept_thread(void *p)
{
	struct server *s = p;
	for (;;) {
		struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
		int n = poll(&pfd, 1, 20);
		pthread_mutex_lock(&s->lock);
		bool stop = s->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			return NULL;
		if (n <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (s->single_host) {
			pthread_mutex_lock(&s->lock);
			bool room = s->nconns < 64;
			if (room)
				s->conn_fds[s->nconns++] = fd;
			pthread_mutex_unlock(&s->lock);
			if (!room) {
				close(fd);
				continue;
			}
			serve_conn(s, fd);
			shutdown(fd, SHUT_RDWR);
			continue;
		}
		struct conn_arg *a = malloc(sizeof(*a));
		a->s = s;
		a->fd = fd;
		pthread_mutex_lock(&s->lock);
		if (s->nconns == 64) {
			pthread_mutex_unlock(&s->lock);
			close(fd);
			free(a);
			continue;
		}
		s->conn_fds[s->nconns] = fd;
		s->threaded[s->nconns] = true;
		pthread_create(&s->conns[s->nconns++], NULL, conn_thread, a);
		pthread_mutex_unlock(&s->lock);
	}
}

static struct server *server_start(bool tcp)
{
	struct server *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	pthread_mutex_init(&s->lock, NULL);
	s->devs[0] = (struct fake_dev){"1-1", 1, 2, dfu_dev_desc, {dfu_cfg_desc}, {sizeof(dfu_cfg_desc)}};
	s->devs[1] = (struct fake_dev){"1-2", 1, 3, vnd_dev_desc, {vnd_cfg1, vnd_cfg2}, {18, 18}};
	s->ndevs = 2;
	if (tcp) {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->lfd = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(s->lfd >= 0);
		assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		socklen_t sl = sizeof(sin);
		assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
		s->port = ntohs(sin.sin_port);
	} else {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		snprintf(s->path, sizeof(s->path), "/tmp/dfk-usbip-test-%d-%p.sock", (int)getpid(), (void *)s);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
		unlink(s->path);
		s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_true(s->lfd >= 0);
		assert_int_equal(bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	}
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(pthread_create(&s->acceptor, NULL, accept_thread, s), 0);
	return s;
}

static void server_stop(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->acceptor, NULL);
	for (int i = 0; i < s->nconns; i++)
		shutdown(s->conn_fds[i], SHUT_RDWR);
	for (int i = 0; i < s->nconns; i++) {
		if (s->threaded[i])
			pthread_join(s->conns[i], NULL);
		close(s->conn_fds[i]);
	}
	close(s->lfd);
	if (!s->port)
		unlink(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int get_int(struct server *s, const int *field)
{
	pthread_mutex_lock(&s->lock);
	int v = *field;
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* Server threads count events after the client moved on: wait a little. */
static int wait_int(struct server *s, const int *field, int want)
{
	for (int i = 0; i < 200 && get_int(s, field) != want; i++)
		usleep(5000);
	return get_int(s, field);
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The contexts of the clients: on the system clock, and on a clock that
 * runs FAST_FACTOR times faster than the real one (its sleeps are real,
 * but shorter), for the tests of time limits. The transport reads time
 * only on its context's clock, so these take a fraction of the time
 * limits they test. */
#define FAST_FACTOR 10
static dfk_ctx *sys_ctx, *fast_ctx;
static uint64_t fast_ms; /* the fast clock's time (the test thread's only) */

static uint64_t fast_now(void *user)
{
	(void)user;
	return fast_ms;
}

static void fast_sleep(void *user, uint32_t ms)
{
	(void)user;
	fast_ms += ms;
	usleep(ms * 1000u / FAST_FACTOR);
}

static dfk_transport *client_on(struct server *s, dfk_ctx *ctx)
{
	char spec[160];
	dfk_transport *t = NULL;
	dfk_error err = {0};
	if (s->port)
		snprintf(spec, sizeof(spec), "127.0.0.1:%d", s->port);
	else
		snprintf(spec, sizeof(spec), "unix:%s", s->path);
	assert_int_equal(dfk_transport_usbip_new(&t, ctx, spec, &err), DFK_OK);
	assert_non_null(t);
	assert_string_equal(dfk_transport_name(t), "usbip");
	return t;
}

static dfk_transport *client(struct server *s)
{
	return client_on(s, sys_ctx);
}

static dfk_transport *client_fast(struct server *s)
{
	return client_on(s, fast_ctx);
}

/* Enumerates and opens the DFU device "1-1". */
static dfk_usb *open_dfu(dfk_transport *t, dfk_usb_list *l)
{
	dfk_error err = {0};
	dfk_usb *h = NULL;
	assert_int_equal(dfk__transport_enumerate(t, l, &err), DFK_OK);
	assert_true(l->count >= 1);
	assert_string_equal(l->devs[0].dev.path, "1-1");
	assert_ptr_equal(l->devs[0].transport, t);
	assert_int_equal(dfk_usb_open(t, &l->devs[0].dev, &h, &err), DFK_OK);
	assert_non_null(h);
	assert_ptr_equal(h->ops, t->ops);
	assert_ptr_equal(h->transport, t);
	return h;
}

/* ---- tests ------------------------------------------------------------- */

static void test_spec(void **state)
{
	(void)state;
	const char *good[] = {"localhost", "127.0.0.1:3240",   "[::1]",		"[::1]:4000",
			      "::1",	   "unix:/tmp/x.sock", "host.example:1"};
	const char *bad[] = {"",     "host:",  "host:0", "host:65536", "host:12x", "[::1",
			     "[]:1", "[::1]x", "unix:",	 ":3240",      "host:-1"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		dfk_transport *t = NULL;
		dfk_error err = {0};
		assert_int_equal(dfk_transport_usbip_new(&t, sys_ctx, good[i], &err), DFK_OK);
		dfk_transport_free(t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dfk_transport *t = (dfk_transport *)1;
		dfk_error err = {0};
		assert_int_equal(dfk_transport_usbip_new(&t, sys_ctx, bad[i], &err), DFK_ERR_USAGE);
		assert_null(t);
		assert_true(strlen(err.msg) > 0);
	}
	/* A transport needs a context (its clock). */
	dfk_transport *t = (dfk_transport *)1;
	dfk_error err = {0};
	assert_int_equal(dfk_transport_usbip_new(&t, NULL, "localhost", &err), DFK_ERR_USAGE);
	assert_null(t);
}

static void test_enumerate(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	dfk_transport *t = client(s);
	dfk_usb_list l;
	dfk_error err = {0};

	assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_OK);
	assert_int_equal(l.count, 2);
	dfk_usb_dev *d = &l.devs[0].dev;
	assert_string_equal(d->path, "1-1");
	assert_int_equal(d->busnum, 1);
	assert_int_equal(d->devnum, 2);
	assert_int_equal(d->desc.idVendor, 0x0483);
	assert_int_equal(d->desc.idProduct, 0xdf11);
	assert_int_equal(d->desc.bcdDevice, 0x2200);
	assert_int_equal(d->desc.iSerialNumber, 3);
	assert_int_equal(d->nconfigs, 1);
	assert_int_equal(d->configs[0].nalts, 2);
	assert_int_equal(d->configs[0].alts[1].bAlternateSetting, 1);
	assert_int_equal(d->configs[0].alts[1].iInterface, 5);
	assert_true(d->configs[0].has_func);
	assert_int_equal(d->configs[0].func.wTransferSize, 2048);
	assert_int_equal(d->configs[0].func.bcdDFUVersion, 0x011a);
	assert_true(d->configs[0].alts[1].has_func);

	d = &l.devs[1].dev;
	assert_string_equal(d->path, "1-2");
	assert_int_equal(d->devnum, 3);
	assert_int_equal(d->desc.idVendor, 0x1234);
	assert_int_equal(d->nconfigs, 2);
	assert_int_equal(d->configs[1].bConfigurationValue, 2);
	assert_int_equal(d->configs[1].alts[0].bInterfaceSubClass, 1);
	assert_int_equal(get_int(s, &s->imports), 2);
	t->ops->list_free(t, &l);
	assert_null(l.devs);

	/* Enumerating again reuses the imports: the server sees no host
	 * going away and coming back. It answers the device list, so the
	 * busy-server fallback (a 500 ms wait) is not taken. */
	int64_t t0 = ms_now();
	assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_OK);
	assert_true(ms_now() - t0 < 400);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.devs[0].dev.nconfigs, 1);
	assert_int_equal(get_int(s, &s->imports), 2);
	assert_int_equal(get_int(s, &s->import_closed), 0);

	/* So does open, even after the list is gone. */
	dfk_usb *h = NULL;
	assert_int_equal(dfk_usb_open(t, &l.devs[1].dev, &h, &err), DFK_OK);
	t->ops->list_free(t, &l);
	uint8_t buf[4];
	size_t n = 0;
	dfk_setup in = {0xC0, 0x42, 0, 0, 4};
	assert_int_equal(t->ops->control(h, &in, buf, &n, 1000, &err), DFK_OK);
	assert_int_equal(n, 4);
	assert_int_equal(get_int(s, &s->imports), 2);
	/* devid = busnum << 16 | devnum, as vhci-hcd would send it. */
	assert_int_equal(get_int(s, (int *)&s->last_devid), 0x00010003);
	dfk_usb_close(h);

	dfk_transport_free(t);
	assert_int_equal(wait_int(s, &s->import_closed, 2), 2);
	server_stop(s);
}

static void test_control(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	dfk_transport *t = client(s);
	dfk_usb_list l;
	dfk_error err = {0};
	dfk_usb *h = open_dfu(t, &l);
	uint8_t buf[2048];
	size_t n = 99;

	assert_int_equal(t->ops->claim(h, 0, &err), DFK_OK);
	/* IN: DFU_GETSTATUS-shaped. */
	dfk_setup gs = {0xA1, 3, 0, 0, 6};
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_OK);
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(buf[i], (uint8_t)(i + 3));
	assert_memory_equal(s->last_setup, ((uint8_t[]){0xA1, 3, 0, 0, 0, 0, 6, 0}), 8);
	uint32_t seq1 = s->last_submit_seq;

	/* OUT with data: DFU_DNLOAD block 2 of 2048 bytes. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	dfk_setup dn = {0x21, 1, 2, 0, 2048};
	assert_int_equal(t->ops->control(h, &dn, buf, &n, 1000, &err), DFK_OK);
	assert_int_equal(n, 2048);
	assert_int_equal(s->out_len, 2048);
	assert_memory_equal(s->out_data, buf, 2048);
	assert_memory_equal(s->last_setup, ((uint8_t[]){0x21, 1, 2, 0, 0, 0, 0, 8}), 8);
	assert_int_equal(s->last_submit_seq, seq1 + 1);

	/* Zero-length OUT (DFU_CLRSTATUS) without a buffer. */
	dfk_setup clr = {0x21, 4, 0, 0, 0};
	assert_int_equal(t->ops->control(h, &clr, NULL, &n, 1000, &err), DFK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(s->out_len, 0);

	assert_int_equal(t->ops->set_alt(h, 0, 1, &err), DFK_OK);
	assert_int_equal(s->set_interface_calls, 1);
	assert_memory_equal(s->last_setup, ((uint8_t[]){0x01, 11, 1, 0, 0, 0, 0, 0}), 8);
	t->ops->release(h, 0);

	/* Through the engine's wrapper too. */
	assert_int_equal(dfk_usb_control(h, &gs, buf, &n, 1000, &err), DFK_OK);
	assert_int_equal(n, 6);

	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	assert_int_equal(get_int(s, &s->imports), 2);
	dfk_transport_free(t);
	server_stop(s);
}

static void test_stall(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	s->special_request = 2;
	s->urb = U_STALL;
	dfk_transport *t = client(s);
	dfk_usb_list l;
	dfk_error err = {0};
	dfk_usb *h = open_dfu(t, &l);
	uint8_t buf[16];
	size_t n = 5;

	dfk_setup up = {0xA1, 2, 0, 0, 16};
	assert_int_equal(t->ops->control(h, &up, buf, &n, 1000, &err), DFK_ERR_STALL);
	assert_int_equal(err.code, DFK_ERR_STALL);
	assert_non_null(strstr(err.msg, "1-1"));
	assert_int_equal(n, 0);
	/* A STALL leaves the connection usable. */
	dfk_setup gs = {0xA1, 3, 0, 0, 6};
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_OK);
	assert_int_equal(get_int(s, &s->import_closed), 0);

	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	dfk_transport_free(t);
	server_stop(s);
}

static void run_timeout(enum urb_mode mode, bool survives)
{
	struct server *s = server_start(false);
	s->special_request = 3;
	s->urb = mode;
	dfk_transport *t = client_fast(s);
	dfk_usb_list l;
	dfk_error err = {0};
	dfk_usb *h = open_dfu(t, &l);
	uint8_t buf[16];
	size_t n = 5;

	dfk_setup gs = {0xA1, 3, 0, 0, 6};
	uint64_t t0 = fast_ms;
	int64_t real0 = ms_now();
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 2000, &err), DFK_ERR_TIMEOUT);
	uint64_t took = fast_ms - t0;
	assert_true(took >= 2000);
	assert_true(took < 2000 + 1000 + 100); /* the unlink wait is bounded */
	/* Timed on the context's clock: far less real time went by. */
	assert_true(ms_now() - real0 < 2000);
	assert_int_equal(n, 0);
	assert_int_equal(wait_int(s, &s->unlinks, 1), 1);
	assert_int_equal(s->last_unlink_target, s->last_submit_seq);

	/* Another request goes through on the same import, or the broken
	 * connection was dropped and the device is gone. */
	dfk_setup other = {0xA1, 5, 0, 0, 1};
	dfk_code want = survives ? DFK_OK : DFK_ERR_NODEV;
	assert_int_equal(t->ops->control(h, &other, buf, &n, 1000, &err), want);
	if (survives)
		assert_int_equal(buf[0], 5);
	assert_int_equal(get_int(s, &s->imports), 2);

	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	dfk_transport_free(t);
	server_stop(s);
}

static void test_timeout_unlink(void **state)
{
	(void)state;
	run_timeout(U_HANG, true);
}

static void test_timeout_unlink_race(void **state)
{
	(void)state;
	run_timeout(U_HANG_RACE, true);
}

static void test_timeout_unlink_ignored(void **state)
{
	(void)state;
	run_timeout(U_HANG_DEAF, false);
}

static void test_disconnect(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	s->special_request = 0; /* DFU_DETACH */
	s->urb = U_CLOSE;
	dfk_transport *t = client(s);
	dfk_usb_list l;
	dfk_error err = {0};
	dfk_usb *h = open_dfu(t, &l);
	uint8_t buf[8];
	size_t n;

	dfk_setup det = {0x21, 0, 1000, 0, 0};
	assert_int_equal(t->ops->control(h, &det, NULL, &n, 1000, &err), DFK_ERR_NODEV);
	dfk_setup gs = {0xA1, 3, 0, 0, 6};
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_ERR_NODEV);
	assert_int_equal(t->ops->claim(h, 0, &err), DFK_ERR_NODEV);
	dfk_usb_close(h);
	t->ops->list_free(t, &l);

	/* The device comes back on a fresh import. */
	assert_int_equal(wait_int(s, &s->import_closed, 1), 1);
	h = open_dfu(t, &l);
	assert_int_equal(get_int(s, &s->imports), 3);
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_OK);
	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	dfk_transport_free(t);
	server_stop(s);
}

static void test_reset(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	dfk_transport *t = client(s);
	dfk_usb_list l;
	dfk_error err = {0};
	dfk_usb *h = open_dfu(t, &l);
	uint8_t buf[8];
	size_t n;

	assert_int_equal(t->ops->reset(h, &err), DFK_OK);
	/* The server sees the host go away: that is the bus reset. */
	assert_int_equal(wait_int(s, &s->import_closed, 1), 1);
	dfk_setup gs = {0xA1, 3, 0, 0, 6};
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_ERR_NODEV);
	assert_int_equal(t->ops->reset(h, &err), DFK_ERR_NODEV);
	dfk_usb_close(h);
	t->ops->list_free(t, &l);

	/* The next enumeration imports afresh. */
	h = open_dfu(t, &l);
	assert_int_equal(get_int(s, &s->imports), 3);
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_OK);
	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	dfk_transport_free(t);
	server_stop(s);
}

static void test_hostile_devlist(void **state)
{
	(void)state;
	const enum devlist_mode modes[] = {DL_HUGE_NDEV,  DL_TRUNCATED,	 DL_BAD_VERSION,  DL_BAD_CODE,
					   DL_BAD_STATUS, DL_TRUNC_INTF, DL_CLOSE_AT_ONCE};
	const dfk_code want[] = {DFK_ERR_PROTOCOL, DFK_ERR_NODEV, DFK_ERR_PROTOCOL, DFK_ERR_PROTOCOL,
				 DFK_ERR_PROTOCOL, DFK_ERR_NODEV, DFK_ERR_NODEV};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct server *s = server_start(false);
		s->devlist = modes[i];
		dfk_transport *t = client(s);
		dfk_usb_list l = {(dfk_usb_node *)1, 7};
		dfk_error err = {0};
		assert_int_equal(t->ops->enumerate(t, &l, &err), want[i]);
		assert_null(l.devs);
		assert_int_equal(l.count, 0);
		assert_true(strlen(err.msg) > 0);
		dfk_transport_free(t);
		server_stop(s);
	}
}

static void test_silent_server(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	s->devlist = DL_SILENT;
	dfk_transport *t = client_fast(s);
	dfk_usb_list l;
	dfk_error err = {0};
	uint64_t t0 = fast_ms;
	int64_t real0 = ms_now();
	assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_ERR_TIMEOUT);
	/* The device list's time limit (5 s) on the context's clock, in a
	 * tenth of it. */
	assert_true(fast_ms - t0 >= 5000 && fast_ms - t0 < 10000);
	assert_true(ms_now() - real0 < 5000);
	dfk_transport_free(t);
	server_stop(s);
}

static void test_hostile_import(void **state)
{
	(void)state;
	const enum import_mode modes[] = {IM_WRONG_BUSID, IM_REFUSE, IM_BAD_VERSION, IM_TRUNCATED};
	const dfk_code want[] = {DFK_ERR_PROTOCOL, DFK_ERR_NODEV, DFK_ERR_PROTOCOL, DFK_ERR_NODEV};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct server *s = server_start(false);
		s->import = modes[i];
		dfk_transport *t = client(s);
		dfk_usb_list l;
		dfk_error err = {0};
		/* Still listed from the devlist, but without descriptors. */
		assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_OK);
		assert_int_equal(l.count, 2);
		assert_int_equal(l.devs[0].dev.desc.idVendor, 0x0483);
		assert_int_equal(l.devs[0].dev.nconfigs, 0);
		dfk_usb *h = (dfk_usb *)1;
		dfk_code rc = dfk_usb_open(t, &l.devs[0].dev, &h, &err);
		assert_int_equal(rc, want[i]);
		assert_null(h);
		t->ops->list_free(t, &l);
		dfk_transport_free(t);
		server_stop(s);
	}
}

static void test_hostile_urbs(void **state)
{
	(void)state;
	const enum urb_mode modes[] = {U_BAD_SEQ, U_OVERSIZE, U_ENODEV, U_BAD_CMD, U_TORN};
	const dfk_code want[] = {DFK_ERR_PROTOCOL, DFK_ERR_PROTOCOL, DFK_ERR_NODEV, DFK_ERR_PROTOCOL, DFK_ERR_NODEV};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct server *s = server_start(false);
		s->special_request = 2;
		s->urb = modes[i];
		dfk_transport *t = client_fast(s);
		dfk_usb_list l;
		dfk_error err = {0};
		dfk_usb *h = open_dfu(t, &l);
		uint8_t buf[8];
		size_t n = 3;
		dfk_setup up = {0xA1, 2, 0, 0, 8};
		assert_int_equal(t->ops->control(h, &up, buf, &n, 1000, &err), want[i]);
		assert_int_equal(n, 0);
		/* The stream cannot be trusted any more: the device is gone. */
		dfk_setup gs = {0xA1, 3, 0, 0, 6};
		assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_ERR_NODEV);
		dfk_usb_close(h);
		t->ops->list_free(t, &l);
		dfk_transport_free(t);
		server_stop(s);
	}
}

/* A server that serves one host at a time (dfukit-emu) cannot answer a
 * device list while we hold an import: enumeration falls back on what is
 * held instead of timing out, and never drops the import. */
/* A device whose configuration descriptor stalls is listed without
 * configurations, and its import is kept (no needless bus reset). */
static void test_bad_descriptors(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	s->devs[1].cfg_desc[0] = NULL;
	s->devs[1].cfg_desc[1] = NULL;
	dfk_transport *t = client(s);
	dfk_usb_list l;
	dfk_error err = {0};

	assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_OK);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.devs[0].dev.nconfigs, 1);
	assert_int_equal(l.devs[1].dev.nconfigs, 0);
	assert_null(l.devs[1].dev.configs);
	assert_int_equal(l.devs[1].dev.desc.idVendor, 0x1234);
	assert_int_equal(l.devs[1].dev.desc.bNumConfigurations, 2);
	dfk_usb *h = NULL;
	assert_int_equal(dfk_usb_open(t, &l.devs[1].dev, &h, &err), DFK_OK);
	uint8_t buf[4];
	size_t n;
	dfk_setup in = {0xC0, 0x42, 0, 0, 4};
	assert_int_equal(t->ops->control(h, &in, buf, &n, 1000, &err), DFK_OK);
	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	assert_int_equal(get_int(s, &s->imports), 2);
	assert_int_equal(get_int(s, &s->import_closed), 0);
	dfk_transport_free(t);
	server_stop(s);
}

static void test_single_host_server(void **state)
{
	(void)state;
	struct server *s = server_start(false);
	s->single_host = true;
	s->ndevs = 1;
	dfk_transport *t = client_fast(s);
	dfk_usb_list l;
	dfk_error err = {0};

	assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_OK);
	assert_int_equal(l.count, 1);
	t->ops->list_free(t, &l);
	for (int round = 0; round < 2; round++) {
		int64_t t0 = ms_now();
		assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_OK);
		assert_true(ms_now() - t0 < 3000);
		assert_int_equal(l.count, 1);
		assert_string_equal(l.devs[0].dev.path, "1-1");
		assert_int_equal(l.devs[0].dev.busnum, 1);
		assert_int_equal(l.devs[0].dev.devnum, 2);
		assert_int_equal(l.devs[0].dev.nconfigs, 1);
		assert_int_equal(l.devs[0].dev.configs[0].nalts, 2);
		if (round == 1)
			break;
		t->ops->list_free(t, &l);
	}
	assert_int_equal(get_int(s, &s->imports), 1);
	assert_int_equal(get_int(s, &s->import_closed), 0);

	/* Open, reset (the host goes away), and the device list is served
	 * again on the next enumeration. */
	dfk_usb *h = NULL;
	assert_int_equal(dfk_usb_open(t, &l.devs[0].dev, &h, &err), DFK_OK);
	t->ops->list_free(t, &l);
	assert_int_equal(t->ops->reset(h, &err), DFK_OK);
	dfk_usb_close(h);
	assert_int_equal(wait_int(s, &s->import_closed, 1), 1);
	h = open_dfu(t, &l);
	assert_int_equal(get_int(s, &s->imports), 2);
	uint8_t buf[6];
	size_t n;
	dfk_setup gs = {0xA1, 3, 0, 0, 6};
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_OK);
	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	dfk_transport_free(t);
	server_stop(s);
}

/* Random replies: any answer is fine but a crash, a hang or a lie. */
static void test_garbage(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 40; seed++) {
		struct server *s = server_start(false);
		s->seed = seed;
		s->devlist = DL_GARBAGE;
		dfk_transport *t = client_fast(s);
		dfk_usb_list l;
		dfk_error err = {0};
		dfk_code rc = dfk__transport_enumerate(t, &l, &err);
		if (rc == DFK_OK) {
			for (size_t i = 0; i < l.count; i++)
				assert_true(strlen(l.devs[i].dev.path) < sizeof(l.devs[i].dev.path));
			t->ops->list_free(t, &l);
		} else {
			assert_true(strlen(err.msg) > 0);
		}
		dfk_transport_free(t);
		server_stop(s);
	}
	for (unsigned seed = 1; seed <= 40; seed++) {
		struct server *s = server_start(false);
		s->seed = seed;
		s->special_request = 2;
		s->urb = U_GARBAGE;
		dfk_transport *t = client_fast(s);
		dfk_usb_list l;
		dfk_error err = {0};
		dfk_usb *h = open_dfu(t, &l);
		uint8_t buf[16];
		size_t n = 0;
		dfk_setup up = {0xA1, 2, 0, 0, 16};
		for (int i = 0; i < 3; i++) {
			dfk_code rc = t->ops->control(h, &up, buf, &n, 300, &err);
			if (rc == DFK_OK)
				assert_true(n <= 16);
			else
				assert_int_equal(n, 0);
		}
		dfk_usb_close(h);
		t->ops->list_free(t, &l);
		dfk_transport_free(t);
		server_stop(s);
	}
}

static void test_tcp(void **state)
{
	(void)state;
	struct server *s = server_start(true);
	dfk_transport *t = client(s);
	dfk_usb_list l;
	dfk_error err = {0};
	dfk_usb *h = open_dfu(t, &l);
	uint8_t buf[6];
	size_t n;
	dfk_setup gs = {0xA1, 3, 0, 0, 6};
	assert_int_equal(t->ops->control(h, &gs, buf, &n, 1000, &err), DFK_OK);
	assert_int_equal(n, 6);
	dfk_usb_close(h);
	t->ops->list_free(t, &l);
	dfk_transport_free(t);
	server_stop(s);
}

/* Two threads, each with its own context and transport, at the same time:
 * no state is shared between transports (dfukit.h, "Threads"). */
struct parallel_run {
	struct server *s;
	int ok; /* control transfers answered */
};

static void *parallel_client(void *arg)
{
	struct parallel_run *p = arg;
	dfk_ctx *ctx = NULL;
	dfk_transport *t = NULL;
	dfk_usb_list l = {0};
	dfk_usb *h = NULL;
	dfk_error err = {0};
	char spec[160];
	snprintf(spec, sizeof(spec), "unix:%s", p->s->path);
	if (dfk_ctx_new(&ctx, &err) || dfk_transport_usbip_new(&t, ctx, spec, &err) ||
	    dfk__transport_enumerate(t, &l, &err) || l.count < 1 || dfk_usb_open(t, &l.devs[0].dev, &h, &err))
		goto out;
	for (int i = 0; i < 200; i++) {
		uint8_t buf[6];
		size_t n = 0;
		dfk_setup gs = {0xA1, 3, 0, 0, 6};
		if (dfk_usb_control(h, &gs, buf, &n, 5000, &err) == DFK_OK && n == 6)
			p->ok++;
	}
out:
	dfk_usb_close(h);
	if (l.devs)
		t->ops->list_free(t, &l);
	dfk_transport_free(t);
	dfk_ctx_free(ctx);
	return NULL;
}

static void test_two_transports_in_parallel(void **state)
{
	(void)state;
	struct parallel_run runs[2] = {{server_start(false), 0}, {server_start(false), 0}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, parallel_client, &runs[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(runs[i].ok, 200);
		server_stop(runs[i].s);
	}
}

static void test_no_server(void **state)
{
	(void)state;
	dfk_transport *t = NULL;
	dfk_usb_list l;
	dfk_error err = {0};
	assert_int_equal(dfk_transport_usbip_new(&t, sys_ctx, "unix:/nonexistent/dfukit.sock", &err), DFK_OK);
	assert_int_equal(dfk__transport_enumerate(t, &l, &err), DFK_ERR_NODEV);
	assert_non_null(strstr(err.msg, "/nonexistent/dfukit.sock"));
	dfk_transport_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_enumerate),
	    cmocka_unit_test(test_control),
	    cmocka_unit_test(test_stall),
	    cmocka_unit_test(test_timeout_unlink),
	    cmocka_unit_test(test_timeout_unlink_race),
	    cmocka_unit_test(test_timeout_unlink_ignored),
	    cmocka_unit_test(test_disconnect),
	    cmocka_unit_test(test_reset),
	    cmocka_unit_test(test_hostile_devlist),
	    cmocka_unit_test(test_silent_server),
	    cmocka_unit_test(test_hostile_import),
	    cmocka_unit_test(test_hostile_urbs),
	    cmocka_unit_test(test_bad_descriptors),
	    cmocka_unit_test(test_single_host_server),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_two_transports_in_parallel),
	    cmocka_unit_test(test_no_server),
	};
	dfk_clock fast = {fast_now, fast_sleep, NULL};
	if (dfk_ctx_new(&sys_ctx, NULL) || dfk_ctx_new(&fast_ctx, NULL) || dfk_ctx_set_clock(fast_ctx, &fast, NULL))
		return 1;
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	dfk_ctx_free(sys_ctx);
	dfk_ctx_free(fast_ctx);
	return failed;
}
