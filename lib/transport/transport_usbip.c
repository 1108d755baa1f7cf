/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* USB/IP client transport: talks to a USB/IP server (dfukit-emu, or Linux
 * usbipd exporting a real board) directly over TCP or a Unix socket, doing
 * in user space what the usbip tool and vhci-hcd do in the kernel.
 *
 * Each device is imported once (OP_REQ_IMPORT) and that connection is kept
 * in the transport's cache for later enumerations and opens: the server
 * treats a closed import connection as the host going away (a bus reset for
 * dfukit-emu), so it is closed only by reset(), a dead peer, or destroy.
 *
 * Time is read only on the context's clock (see wait_fd). */
#include "backend.h"
#include "ctx_internal.h"
#include "dynbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "usbip_wire.h"

#define CONNECT_TIMEOUT_MS 5000
#define OP_TIMEOUT_MS 5000   /* one OP_* exchange */
#define DESC_TIMEOUT_MS 2000 /* one GET_DESCRIPTOR during enumeration */
#define UNLINK_WAIT_MS 1000  /* how long RET_UNLINK may take after a timeout */
/* How long a device list may take to start while we hold imports (see
 * usbip_enumerate): far above a local or LAN round trip. */
#define BUSY_DEVLIST_MS 500
/* All descriptor reading of one enumeration: a hostile server listing many
 * devices that answer slowly is cut short (the rest are listed without
 * descriptors) instead of stalling the caller for hours. */
#define ENUM_BUDGET_MS 30000
/* More devices than any server exports; bounds what a hostile devlist can
 * make us allocate or read. */
#define MAX_DEVICES 1024
/* With a clock other than the system's: how long the clock sleeps between
 * two looks at a socket. */
#define WAIT_SLICE_MS 1

/* One imported device: the socket on which URBs flow. Shared by the cache,
 * device list entries and open handles; freed at the last reference. */
struct conn {
	const dfk_ctx *ctx; /* the transport's, for its clock */
	unsigned refs;
	int fd; /* -1 once dead */
	char busid[32];
	dfk_usbip_device info; /* from OP_REP_IMPORT */
	uint32_t devid;
	uint32_t seqnum;
};

/* A device listed without descriptors and warned about: callers that wait
 * for a device list every few milliseconds, so the warning is given once
 * per device and reason, again only after the device was described or
 * left the list in between. */
struct skip_note {
	char busid[32];
	uint64_t why; /* FNV-1a of the warning */
};

/* The backend's part of the transport. */
struct usbip_transport {
	const dfk_ctx *ctx;
	char *host; /* NULL for a Unix socket */
	char *port;
	char *unix_path;
	char *spec; /* as given, for messages */
	struct conn **cache;
	size_t ncache;
	size_t cache_cap;	   /* entries allocated in cache */
	struct skip_note *skipped; /* devices warned about as skipped */
	size_t nskipped;
	size_t skipped_cap;
};

/* dfk_usb_node.backend */
struct devdata {
	struct conn *c; /* NULL when the import failed during enumeration */
	char busid[32];
};

/* The backend's part of an open handle. */
struct usbip_handle {
	struct conn *c;
	char busid[32];
};

static int64_t now_ms(const dfk_ctx *ctx)
{
	return (int64_t)dfk__now(ctx);
}

/* Waits until fd is ready for events, or until deadline (ms on ctx's
 * clock; -1: none) passes: 1 ready, 0 timed out, -1 poll failed (errno).
 * Time is read on ctx's clock only. With the system clock, poll() itself
 * waits; with another clock, poll() only looks and the clock's sleep
 * passes the time in slices, so that a test's clock decides how fast the
 * time limits go by. */
static int wait_fd(const dfk_ctx *ctx, int fd, short events, int64_t deadline)
{
	bool real = dfk__clock_is_system(ctx);

	for (;;) {
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms(ctx);
			if (left <= 0)
				return 0;
			wait = left > INT_MAX ? INT_MAX : (int)left;
		}
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, real ? wait : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 0)
			return n > 0 ? 1 : -1;
		if (!real)
			dfk__sleep(ctx, wait >= 0 && wait < WAIT_SLICE_MS ? (uint32_t)wait : WAIT_SLICE_MS);
	}
}

static void conn_kill(struct conn *c)
{
	if (c && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static struct conn *conn_ref(struct conn *c)
{
	if (c)
		c->refs++;
	return c;
}

static void conn_unref(struct conn *c)
{
	if (c && --c->refs == 0) {
		conn_kill(c);
		free(c);
	}
}

/* ---- socket plumbing ------------------------------------------------- */

/* Reads exactly len bytes before deadline (ms on the monotonic clock, or
 * -1 for none). *got tells how far it came, so that a timeout before the
 * first byte can be told from a torn message. */
static dfk_code read_deadline(const dfk_ctx *ctx, int fd, void *buf, size_t len, int64_t deadline, size_t *got,
			      dfk_error *err)
{
	uint8_t *p = buf;
	size_t done = 0;
	dfk_code rc = DFK_OK;

	while (done < len) {
		int n = wait_fd(ctx, fd, POLLIN, deadline);
		if (n == 0) {
			rc = dfk_error_set(err, DFK_ERR_TIMEOUT, "USB/IP: no reply from server (%zu of %zu bytes)",
					   done, len);
			break;
		}
		if (n < 0) {
			rc = dfk_error_set(err, DFK_ERR_IO, "USB/IP: poll: %s", DFK_STRERROR(errno));
			break;
		}
		ssize_t r = read(fd, p + done, len - done);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = dfk_error_set(err, errno == ECONNRESET ? DFK_ERR_NODEV : DFK_ERR_IO, "USB/IP: read: %s",
					   DFK_STRERROR(errno));
			break;
		}
		if (r == 0) {
			rc = dfk_error_set(err, DFK_ERR_NODEV,
					   "USB/IP: server closed the connection (%zu of %zu bytes)", done, len);
			break;
		}
		done += (size_t)r;
	}
	if (got)
		*got = done;
	return rc;
}

/* Reads and drops len bytes (a reply nobody waits for any more). */
static dfk_code skip_deadline(const dfk_ctx *ctx, int fd, size_t len, int64_t deadline, dfk_error *err)
{
	uint8_t junk[512];
	while (len > 0) {
		size_t n = len < sizeof(junk) ? len : sizeof(junk);
		dfk_code rc = read_deadline(ctx, fd, junk, n, deadline, NULL, err);
		if (rc)
			return rc;
		len -= n;
	}
	return DFK_OK;
}

static dfk_code connect_addr(const dfk_ctx *ctx, int fd, const struct sockaddr *sa, socklen_t salen, const char *what,
			     dfk_error *err)
{
	int fl = fcntl(fd, F_GETFL);
	/* Non-blocking connect so that an unreachable host costs at most
	 * CONNECT_TIMEOUT_MS rather than the kernel's minutes. */
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return dfk_error_set(err, DFK_ERR_IO, "USB/IP: %s: fcntl: %s", what, DFK_STRERROR(errno));
	if (connect(fd, sa, salen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return dfk_error_set(err, DFK_ERR_NODEV, "USB/IP: cannot connect to %s: %s", what,
					     DFK_STRERROR(errno));
		if (wait_fd(ctx, fd, POLLOUT, now_ms(ctx) + CONNECT_TIMEOUT_MS) <= 0)
			return dfk_error_set(err, DFK_ERR_TIMEOUT, "USB/IP: cannot connect to %s: timed out", what);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr)
			return dfk_error_set(err, DFK_ERR_NODEV, "USB/IP: cannot connect to %s: %s", what,
					     DFK_STRERROR(soerr));
	}
	if (fcntl(fd, F_SETFL, fl) < 0)
		return dfk_error_set(err, DFK_ERR_IO, "USB/IP: %s: fcntl: %s", what, DFK_STRERROR(errno));
	return DFK_OK;
}

static dfk_code server_connect(struct usbip_transport *t, int *out, dfk_error *err)
{
	*out = -1;
	if (t->unix_path) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		memcpy(sun.sun_path, t->unix_path, strlen(t->unix_path)); /* length checked in _new */
		int fd = dfk_socket_cloexec(AF_UNIX, SOCK_STREAM, 0, 0);
		if (fd < 0)
			return dfk_error_set(err, DFK_ERR_IO, "USB/IP: socket: %s", DFK_STRERROR(errno));
		char what[sizeof(sun.sun_path) + 8];
		snprintf(what, sizeof(what), "unix:%s", t->unix_path);
		dfk_code rc = connect_addr(t->ctx, fd, (struct sockaddr *)&sun, sizeof(sun), what, err);
		if (rc) {
			close(fd);
			return rc;
		}
		dfk_socket_nosigpipe(fd);
		*out = fd;
		return DFK_OK;
	}

	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int gai = getaddrinfo(t->host, t->port, &hints, &res);
	if (gai)
		return dfk_error_set(err, DFK_ERR_NODEV, "USB/IP: cannot resolve %s: %s", t->host, gai_strerror(gai));
	char what[300];
	snprintf(what, sizeof(what), "%s port %s", t->host, t->port);
	dfk_error e;
	dfk_code rc = dfk_error_set(&e, DFK_ERR_NODEV, "USB/IP: no address for %s", what);
	for (struct addrinfo *ai = res; ai && *out < 0; ai = ai->ai_next) {
		int fd = dfk_socket_cloexec(ai->ai_family, ai->ai_socktype, ai->ai_protocol, 0);
		if (fd < 0) {
			rc = dfk_error_set(&e, DFK_ERR_IO, "USB/IP: socket: %s", DFK_STRERROR(errno));
			continue;
		}
		rc = connect_addr(t->ctx, fd, ai->ai_addr, ai->ai_addrlen, what, &e);
		if (rc) {
			close(fd);
			continue;
		}
		/* Control transfers are small request/reply pairs: no Nagle. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		dfk_socket_nosigpipe(fd);
		*out = fd;
	}
	freeaddrinfo(res);
	if (rc && err)
		*err = e;
	return rc;
}

/* ---- OP_* handshakes ------------------------------------------------- */

static dfk_code send_op(int fd, uint16_t code, const char *busid, dfk_error *err)
{
	uint8_t buf[DFK_USBIP_IMPORT_REQ_LEN] = {0};
	dfk_usbip_op op = {DFK_USBIP_VERSION, code, 0};
	size_t len = DFK_USBIP_OP_COMMON_LEN;

	dfk_usbip_op_pack(&op, buf);
	if (busid) {
		strncpy((char *)buf + DFK_USBIP_OP_COMMON_LEN, busid, 31);
		len = DFK_USBIP_IMPORT_REQ_LEN;
	}
	return dfk_usbip_write_full(fd, buf, len, err);
}

static dfk_code recv_op(const dfk_ctx *ctx, int fd, uint16_t want, int64_t deadline, dfk_usbip_op *op, dfk_error *err)
{
	uint8_t buf[DFK_USBIP_OP_COMMON_LEN];
	dfk_code rc = read_deadline(ctx, fd, buf, sizeof(buf), deadline, NULL, err);
	if (rc)
		return rc;
	rc = dfk_usbip_op_unpack(buf, op, err);
	if (rc)
		return rc;
	if (op->code != want)
		return dfk_error_set(err, DFK_ERR_PROTOCOL, "USB/IP: server replied with code 0x%04x, expected 0x%04x",
				     op->code, want);
	return DFK_OK;
}

static const char *op_status_name(uint32_t st)
{
	switch (st) {
	case DFK_USBIP_ST_NA: return "not available";
	case DFK_USBIP_ST_DEV_BUSY: return "device busy (already imported)";
	case DFK_USBIP_ST_DEV_ERR: return "device error";
	case DFK_USBIP_ST_NODEV: return "no such device";
	case DFK_USBIP_ST_ERROR: return "error";
	default: return "unknown status";
	}
}

struct devlist {
	dfk_usbip_device *devs;
	size_t n;
};

/* Fetches the device list. The reply must start within first_ms; when it
 * does not, *unanswered tells the caller (see usbip_enumerate). */
static dfk_code fetch_devlist(struct usbip_transport *t, struct devlist *dl, int first_ms, bool *unanswered,
			      dfk_error *err)
{
	int fd;
	uint8_t buf[DFK_USBIP_DEVICE_LEN];
	dfk_usbip_op op;
	int64_t deadline;
	size_t got = 0;
	dfk_code rc;

	dl->devs = NULL;
	dl->n = 0;
	*unanswered = false;
	rc = server_connect(t, &fd, err);
	if (rc)
		return rc;
	rc = send_op(fd, DFK_USBIP_OP_REQ_DEVLIST, NULL, err);
	if (!rc) {
		rc = read_deadline(t->ctx, fd, buf, DFK_USBIP_OP_COMMON_LEN, now_ms(t->ctx) + first_ms, &got, err);
		*unanswered = rc == DFK_ERR_TIMEOUT && got == 0;
	}
	deadline = now_ms(t->ctx) + OP_TIMEOUT_MS;
	if (rc == DFK_ERR_TIMEOUT && got > 0)
		rc = read_deadline(t->ctx, fd, buf + got, DFK_USBIP_OP_COMMON_LEN - got, deadline, NULL, err);
	if (!rc)
		rc = dfk_usbip_op_unpack(buf, &op, err);
	if (!rc && op.code != DFK_USBIP_OP_REP_DEVLIST)
		rc = dfk_error_set(err, DFK_ERR_PROTOCOL,
				   "USB/IP: server answered the device list request with code 0x%04x", op.code);
	if (!rc && op.status != DFK_USBIP_ST_OK)
		rc = dfk_error_set(err, DFK_ERR_PROTOCOL, "USB/IP: device list refused: status %u (%s)", op.status,
				   op_status_name(op.status));
	if (!rc)
		rc = read_deadline(t->ctx, fd, buf, 4, deadline, NULL, err);
	if (rc)
		goto out;
	uint32_t ndev = ((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) | ((uint32_t)buf[2] << 8) | buf[3];
	if (ndev > MAX_DEVICES) {
		rc = dfk_error_set(err, DFK_ERR_PROTOCOL, "USB/IP: device list claims %u devices (at most %d)", ndev,
				   MAX_DEVICES);
		goto out;
	}
	if (ndev) {
		/* ndev is bounded, and the entries must arrive before the
		 * deadline anyway. */
		dl->devs = calloc(ndev, sizeof(*dl->devs));
		if (!dl->devs) {
			rc = dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory for %u devices", ndev);
			goto out;
		}
	}
	for (uint32_t i = 0; i < ndev; i++) {
		rc = read_deadline(t->ctx, fd, buf, DFK_USBIP_DEVICE_LEN, deadline, NULL, err);
		if (rc) {
			dfk_error_prefix(err, "USB/IP: device list entry %u of %u", i, ndev);
			goto out;
		}
		dfk_usbip_device_unpack(buf, &dl->devs[i]);
		/* The interface list adds nothing that the descriptors
		 * fetched after import do not tell; skip it. */
		rc = skip_deadline(t->ctx, fd, (size_t)dl->devs[i].bNumInterfaces * DFK_USBIP_INTERFACE_LEN, deadline,
				   err);
		if (rc) {
			dfk_error_prefix(err, "USB/IP: device list entry %u of %u", i, ndev);
			goto out;
		}
		dl->n++;
	}
out:
	close(fd);
	if (rc) {
		dfk_error_prefix(err, "device list from %s", t->spec);
		free(dl->devs);
		dl->devs = NULL;
		dl->n = 0;
	}
	return rc;
}

static dfk_code import_dev(struct usbip_transport *t, const char *busid, struct conn **out, dfk_error *err)
{
	int fd;
	uint8_t buf[DFK_USBIP_DEVICE_LEN];
	dfk_usbip_op op;
	dfk_code rc;
	struct conn *c;

	*out = NULL;
	rc = server_connect(t, &fd, err);
	if (rc)
		return rc;
	int64_t deadline = now_ms(t->ctx) + OP_TIMEOUT_MS;
	rc = send_op(fd, DFK_USBIP_OP_REQ_IMPORT, busid, err);
	if (!rc)
		rc = recv_op(t->ctx, fd, DFK_USBIP_OP_REP_IMPORT, deadline, &op, err);
	if (!rc && op.status != DFK_USBIP_ST_OK)
		rc = dfk_error_set(err, op.status == DFK_USBIP_ST_NODEV ? DFK_ERR_NODEV : DFK_ERR_IO,
				   "USB/IP: import of %s refused: status %u (%s)", busid, op.status,
				   op_status_name(op.status));
	if (!rc)
		rc = read_deadline(t->ctx, fd, buf, DFK_USBIP_DEVICE_LEN, deadline, NULL, err);
	if (rc)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
		goto fail;
	}
	dfk_usbip_device_unpack(buf, &c->info);
	if (strncmp(c->info.busid, busid, sizeof(c->info.busid)) != 0) {
		rc = dfk_error_set(err, DFK_ERR_PROTOCOL, "USB/IP: asked to import %s, server sent %s", busid,
				   c->info.busid);
		free(c);
		goto fail;
	}
	c->ctx = t->ctx;
	c->refs = 1;
	c->fd = fd;
	snprintf(c->busid, sizeof(c->busid), "%s", busid);
	/* As the usbip tool tells vhci-hcd: devid = busnum << 16 | devnum. */
	c->devid = (c->info.busnum << 16) | (c->info.devnum & 0xFFFF);
	c->seqnum = 0;
	*out = c;
	return DFK_OK;
fail:
	close(fd);
	return rc;
}

/* ---- URBs -------------------------------------------------------------- */

static dfk_code submit_fail(struct conn *c, dfk_code rc)
{
	/* A torn or unexpected PDU leaves the stream unparseable. */
	conn_kill(c);
	return rc;
}

/* Waits for the RET_UNLINK of a timed-out URB; drops its RET_SUBMIT if that
 * crossed the unlink on the wire. The connection survives only if the
 * server answers in time and in sync. */
static void unlink_urb(struct conn *c, uint32_t seq, bool in, size_t wlength)
{
	dfk_usbip_header h = {0};
	uint8_t buf[DFK_USBIP_HEADER_LEN];
	dfk_error e;
	uint32_t useq = ++c->seqnum;

	h.command = DFK_USBIP_CMD_UNLINK;
	h.seqnum = useq;
	h.devid = c->devid;
	h.u.unlink.seqnum = seq;
	dfk_usbip_header_pack(&h, buf);
	if (dfk_usbip_write_full(c->fd, buf, sizeof(buf), &e)) {
		conn_kill(c);
		return;
	}
	int64_t deadline = now_ms(c->ctx) + UNLINK_WAIT_MS;
	for (;;) {
		if (read_deadline(c->ctx, c->fd, buf, sizeof(buf), deadline, NULL, &e) ||
		    dfk_usbip_header_unpack(buf, &h, &e)) {
			conn_kill(c);
			return;
		}
		if (h.command == DFK_USBIP_RET_UNLINK && h.seqnum == useq)
			return;
		if (h.command == DFK_USBIP_RET_SUBMIT && h.seqnum == seq) {
			size_t n = (size_t)h.u.ret_submit.actual_length;
			if (in && (n > wlength || skip_deadline(c->ctx, c->fd, n, deadline, &e))) {
				conn_kill(c);
				return;
			}
			continue;
		}
		conn_kill(c);
		return;
	}
}

static dfk_code conn_control(struct conn *c, const char *busid, const dfk_setup *s, uint8_t *data, size_t *actual,
			     unsigned timeout_ms, dfk_error *err)
{
	size_t wlength = s->wLength;
	/* Direction from bmRequestType, except that a transfer without data
	 * goes on the OUT pipe, as usbcore (and so vhci-hcd) sends it. */
	bool in = (s->bmRequestType & 0x80) != 0 && wlength > 0;
	uint8_t hdr[DFK_USBIP_HEADER_LEN];
	dfk_usbip_header h = {0};
	dfk_code rc;

	if (actual)
		*actual = 0;
	if (!c || c->fd < 0)
		return dfk_error_set(err, DFK_ERR_NODEV, "USB/IP: %s: device is gone (connection closed)", busid);
	if (wlength > 0 && !data)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "USB/IP: %s: control transfer of %zu bytes without buffer",
				     busid, wlength);

	uint32_t seq = ++c->seqnum;
	h.command = DFK_USBIP_CMD_SUBMIT;
	h.seqnum = seq;
	h.devid = c->devid;
	h.direction = in ? DFK_USBIP_DIR_IN : DFK_USBIP_DIR_OUT;
	h.ep = 0;
	h.u.submit.transfer_flags = in ? 0x200 : 0; /* USBIP_URB_DIR_IN, as vhci sends */
	h.u.submit.transfer_buffer_length = (int32_t)wlength;
	h.u.submit.setup[0] = s->bmRequestType;
	h.u.submit.setup[1] = s->bRequest;
	h.u.submit.setup[2] = (uint8_t)s->wValue;
	h.u.submit.setup[3] = (uint8_t)(s->wValue >> 8);
	h.u.submit.setup[4] = (uint8_t)s->wIndex;
	h.u.submit.setup[5] = (uint8_t)(s->wIndex >> 8);
	h.u.submit.setup[6] = (uint8_t)s->wLength;
	h.u.submit.setup[7] = (uint8_t)(s->wLength >> 8);
	dfk_usbip_header_pack(&h, hdr);

	/* Header and OUT data in one write: one TCP segment for small
	 * transfers, and the server never sees a header without its data. */
	if (!in && wlength > 0) {
		uint8_t *msg = malloc(sizeof(hdr) + wlength);
		if (!msg)
			return dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
		memcpy(msg, hdr, sizeof(hdr));
		memcpy(msg + sizeof(hdr), data, wlength);
		rc = dfk_usbip_write_full(c->fd, msg, sizeof(hdr) + wlength, err);
		free(msg);
	} else {
		rc = dfk_usbip_write_full(c->fd, hdr, sizeof(hdr), err);
	}
	if (rc) {
		dfk_error_prefix(err, "%s: sending request 0x%02x", busid, s->bRequest);
		return submit_fail(c, rc);
	}

	int64_t deadline = timeout_ms ? now_ms(c->ctx) + timeout_ms : -1; /* 0 = no limit, as in libusb */
	size_t got = 0;
	rc = read_deadline(c->ctx, c->fd, hdr, sizeof(hdr), deadline, &got, err);
	if (rc == DFK_ERR_TIMEOUT && got == 0) {
		unlink_urb(c, seq, in, wlength);
		return dfk_error_set(err, DFK_ERR_TIMEOUT,
				     "USB/IP: %s: no reply to request 0x%02x (bmRequestType 0x%02x) within %u ms",
				     busid, s->bRequest, s->bmRequestType, timeout_ms);
	}
	if (rc) {
		dfk_error_prefix(err, "%s: waiting for reply to request 0x%02x", busid, s->bRequest);
		return submit_fail(c, rc == DFK_ERR_TIMEOUT ? DFK_ERR_PROTOCOL : rc);
	}
	rc = dfk_usbip_header_unpack(hdr, &h, err);
	if (rc) {
		dfk_error_prefix(err, "%s", busid);
		return submit_fail(c, rc);
	}
	if (h.command != DFK_USBIP_RET_SUBMIT || h.seqnum != seq)
		return submit_fail(c,
				   dfk_error_set(err, DFK_ERR_PROTOCOL,
						 "USB/IP: %s: expected RET_SUBMIT seqnum %u, got command %u seqnum %u",
						 busid, seq, h.command, h.seqnum));
	size_t alen = (size_t)h.u.ret_submit.actual_length;
	if (alen > wlength)
		return submit_fail(c, dfk_error_set(err, DFK_ERR_PROTOCOL,
						    "USB/IP: %s: request 0x%02x returned %zu bytes, asked for %zu",
						    busid, s->bRequest, alen, wlength));
	if (in && alen > 0) {
		/* The data is on its way: a short wait past the deadline is
		 * fine, a server that never sends it is not. */
		int64_t dl = now_ms(c->ctx) + OP_TIMEOUT_MS;
		rc = read_deadline(c->ctx, c->fd, data, alen, dl, NULL, err);
		if (rc) {
			dfk_error_prefix(err, "%s: reading %zu data bytes", busid, alen);
			return submit_fail(c, rc == DFK_ERR_TIMEOUT ? DFK_ERR_PROTOCOL : rc);
		}
	}

	int32_t st = h.u.ret_submit.status;
	if (st == 0) {
		if (actual)
			*actual = alen;
		return DFK_OK;
	}
	if (st == -DFK_USBIP_EPIPE)
		return dfk_error_set(err, DFK_ERR_STALL, "%s: device stalled request 0x%02x (bmRequestType 0x%02x)",
				     busid, s->bRequest, s->bmRequestType);
	if (st == -DFK_USBIP_ENODEV || st == -DFK_USBIP_ESHUTDOWN) {
		conn_kill(c);
		return dfk_error_set(err, DFK_ERR_NODEV, "USB/IP: %s: device is gone (status %d)", busid, (int)st);
	}
	if (st == -DFK_USBIP_ETIMEDOUT)
		return dfk_error_set(err, DFK_ERR_TIMEOUT, "USB/IP: %s: request 0x%02x timed out on the server", busid,
				     s->bRequest);
	return dfk_error_set(err, DFK_ERR_IO, "USB/IP: %s: request 0x%02x failed with status %d", busid, s->bRequest,
			     (int)st);
}

/* ---- descriptors --------------------------------------------------------- */

static dfk_code get_descriptor(struct conn *c, uint8_t type, uint8_t index, uint8_t *buf, size_t len, size_t *actual,
			       dfk_error *err)
{
	dfk_setup s = {0x80, 6 /* GET_DESCRIPTOR */, (uint16_t)(type << 8 | index), 0, (uint16_t)len};
	return conn_control(c, c->busid, &s, buf, actual, DESC_TIMEOUT_MS, err);
}

static dfk_code read_descriptors(struct conn *c, dfk_usb_dev *d, int64_t deadline, dfk_error *err)
{
	uint8_t buf[18];
	size_t n;
	dfk_code rc;

	rc = get_descriptor(c, 1, 0, buf, sizeof(buf), &n, err);
	if (!rc)
		rc = dfk_device_desc_parse(buf, n, &d->desc, err);
	if (rc)
		return dfk_error_prefix(err, "%s: device descriptor", c->busid);
	if (d->desc.bNumConfigurations == 0)
		return DFK_OK;
	d->configs = calloc(d->desc.bNumConfigurations, sizeof(*d->configs));
	if (!d->configs)
		return dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
	for (unsigned i = 0; i < d->desc.bNumConfigurations; i++) {
		uint8_t head[9];
		if (now_ms(c->ctx) > deadline)
			return dfk_error_set(err, DFK_ERR_TIMEOUT, "USB/IP: %s: enumeration took too long", c->busid);
		rc = get_descriptor(c, 2, (uint8_t)i, head, sizeof(head), &n, err);
		if (!rc && n < 4)
			rc = dfk_error_set(err, DFK_ERR_PROTOCOL, "USB/IP: short configuration descriptor (%zu bytes)",
					   n);
		if (rc)
			return dfk_error_prefix(err, "%s: configuration %u", c->busid, i);
		size_t total = (size_t)head[2] | ((size_t)head[3] << 8);
		uint8_t *full = malloc(total ? total : 1);
		if (!full)
			return dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
		rc = get_descriptor(c, 2, (uint8_t)i, full, total, &n, err);
		if (!rc)
			rc = dfk_config_desc_parse(full, n, &d->configs[i], err);
		free(full);
		if (rc)
			return dfk_error_prefix(err, "%s: configuration %u", c->busid, i);
		d->nconfigs++;
	}
	return DFK_OK;
}

static void dev_clear(dfk_usb_node *n)
{
	dfk_usb_dev *d = &n->dev;
	for (size_t i = 0; i < d->nconfigs; i++)
		dfk_config_desc_free(&d->configs[i]);
	free(d->configs);
	d->configs = NULL;
	d->nconfigs = 0;
	struct devdata *dd = n->backend;
	if (dd) {
		conn_unref(dd->c);
		free(dd);
	}
	n->backend = NULL;
}

/* ---- the cache of imported connections ----------------------------------- */

/* An idle imported connection has nothing to read: readable means the
 * server closed it (the device detached or went away) or sent junk. */
static bool conn_alive(struct conn *c)
{
	if (c->fd < 0)
		return false;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	int n = poll(&pfd, 1, 0);
	if (n < 0 && errno != EINTR)
		return false;
	if (n > 0) {
		conn_kill(c);
		return false;
	}
	return true;
}

static void cache_prune(struct usbip_transport *t)
{
	size_t j = 0;
	for (size_t i = 0; i < t->ncache; i++) {
		if (conn_alive(t->cache[i]))
			t->cache[j++] = t->cache[i];
		else
			conn_unref(t->cache[i]);
	}
	t->ncache = j;
}

static struct conn *cache_find(struct usbip_transport *t, const char *busid)
{
	for (size_t i = 0; i < t->ncache; i++)
		if (t->cache[i]->fd >= 0 && strcmp(t->cache[i]->busid, busid) == 0)
			return t->cache[i];
	return NULL;
}

static dfk_code cache_add(struct usbip_transport *t, struct conn *c, dfk_error *err)
{
	void *cache = t->cache;
	dfk_code rc =
	    dfk_grow(&cache, &t->cache_cap, t->ncache + 1, sizeof(*t->cache), SIZE_MAX, "USB/IP connections", err);
	t->cache = cache;
	if (rc != DFK_OK)
		return rc;
	t->cache[t->ncache++] = conn_ref(c);
	return DFK_OK;
}

/* The cached connection for busid, importing the device if there is none
 * (*fresh tells which). */
static dfk_code get_conn(struct usbip_transport *t, const char *busid, struct conn **out, bool *fresh, dfk_error *err)
{
	cache_prune(t);
	struct conn *c = cache_find(t, busid);
	*fresh = c == NULL;
	if (c) {
		*out = conn_ref(c);
		return DFK_OK;
	}
	dfk_code rc = import_dev(t, busid, &c, err);
	if (rc)
		return rc;
	rc = cache_add(t, c, err);
	if (rc) {
		conn_unref(c);
		return rc;
	}
	*out = c;
	return DFK_OK;
}

/* ---- skipped devices ------------------------------------------------------ */

static uint64_t text_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* Warns that the device busid is skipped (msg says why), unless it was
 * already said for the same reason. */
static void warn_skipped(struct usbip_transport *t, const char *busid, const char *msg)
{
	uint64_t why = text_hash(msg);
	struct skip_note *note = NULL;
	for (size_t i = 0; i < t->nskipped && !note; i++)
		if (strcmp(t->skipped[i].busid, busid) == 0)
			note = &t->skipped[i];
	if (note && note->why == why)
		return;
	if (!note) {
		void *p = t->skipped;
		dfk_error e = {0};
		if (dfk_grow(&p, &t->skipped_cap, t->nskipped + 1, sizeof(*t->skipped), MAX_DEVICES, "skipped devices",
			     &e) == DFK_OK) {
			t->skipped = p;
			note = &t->skipped[t->nskipped++];
			snprintf(note->busid, sizeof(note->busid), "%s", busid);
		}
	}
	if (note)
		note->why = why;
	dfk_log(t->ctx, DFK_LOG_WARN, "%s", msg);
}

/* Forgets busid's note (it was described), or with busid NULL the notes of
 * devices that list no longer holds. */
static void forget_skipped(struct usbip_transport *t, const char *busid, const dfk_usb_list *list)
{
	size_t j = 0;
	for (size_t i = 0; i < t->nskipped; i++) {
		bool keep;
		if (busid) {
			keep = strcmp(t->skipped[i].busid, busid) != 0;
		} else {
			keep = false;
			for (size_t k = 0; k < list->count && !keep; k++)
				keep = strcmp(list->devs[k].dev.path, t->skipped[i].busid) == 0;
		}
		if (keep)
			t->skipped[j++] = t->skipped[i];
	}
	t->nskipped = j;
}

/* ---- ops ------------------------------------------------------------------ */

static void fill_from_devlist(dfk_usb_dev *d, const dfk_usbip_device *u)
{
	memset(&d->desc, 0, sizeof(d->desc));
	snprintf(d->path, sizeof(d->path), "%s", u->busid);
	d->busnum = (uint8_t)u->busnum;
	d->devnum = (uint8_t)u->devnum;
	d->desc.idVendor = u->idVendor;
	d->desc.idProduct = u->idProduct;
	d->desc.bcdDevice = u->bcdDevice;
	d->desc.bDeviceClass = u->bDeviceClass;
	d->desc.bDeviceSubClass = u->bDeviceSubClass;
	d->desc.bDeviceProtocol = u->bDeviceProtocol;
	d->desc.bNumConfigurations = u->bNumConfigurations;
}

static dfk_code describe(struct usbip_transport *t, dfk_usb_node *n, const dfk_usbip_device *u, int64_t deadline,
			 dfk_error *err)
{
	dfk_usb_dev *d = &n->dev;
	struct devdata *dd = calloc(1, sizeof(*dd));
	if (!dd)
		return dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
	fill_from_devlist(d, u);
	snprintf(dd->busid, sizeof(dd->busid), "%s", u->busid);
	n->backend = dd;

	/* A device that cannot be imported or described is still listed
	 * (with the devlist's IDs and no configurations), so that it shows
	 * up rather than vanishing without a word. A cached connection that
	 * turns out dead gets one fresh import. */
	for (int attempt = 0; attempt < 2 && now_ms(t->ctx) <= deadline; attempt++) {
		struct conn *c;
		bool fresh;
		dfk_error e = {0};
		char msg[DFK_ERROR_MSG_MAX + 128]; /* the reason and what it names */
		if (get_conn(t, u->busid, &c, &fresh, &e)) {
			snprintf(msg, sizeof(msg), "USB/IP device %s (%04x:%04x) skipped: %s", u->busid, u->idVendor,
				 u->idProduct, e.msg);
			warn_skipped(t, u->busid, msg);
			return DFK_OK;
		}
		dfk_code rc = read_descriptors(c, d, deadline, &e);
		if (!rc) {
			dd->c = c;
			forget_skipped(t, u->busid, NULL);
			return DFK_OK;
		}
		if (fresh || c->fd >= 0) {
			snprintf(msg, sizeof(msg),
				 "USB/IP device %s (%04x:%04x) skipped: its descriptors are unusable: %s", u->busid,
				 u->idVendor, u->idProduct, e.msg);
			warn_skipped(t, u->busid, msg);
		}
		for (size_t i = 0; i < d->nconfigs; i++)
			dfk_config_desc_free(&d->configs[i]);
		free(d->configs);
		d->configs = NULL;
		d->nconfigs = 0;
		fill_from_devlist(d, u);
		bool dead = c->fd < 0;
		conn_unref(c);
		if (rc == DFK_ERR_NOMEM) {
			if (err)
				*err = e;
			return rc;
		}
		/* A live connection stays imported: the device answered, if
		 * not with descriptors we could use. */
		if (fresh || !dead)
			break;
	}
	return DFK_OK;
}

static void usbip_list_free(dfk_transport *t, dfk_usb_list *list)
{
	(void)t;
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		dev_clear(&list->devs[i]);
	free(list->devs);
	list->devs = NULL;
	list->count = 0;
}

static dfk_code usbip_enumerate(dfk_transport *tp, dfk_usb_list *list, dfk_error *err)
{
	struct usbip_transport *t = dfk__transport_priv(tp);
	struct devlist dl;
	dfk_usbip_device *held = NULL;
	size_t nheld = 0;
	bool unanswered;
	dfk_code rc;

	list->devs = NULL;
	list->count = 0;
	cache_prune(t);
	/* A server that serves one connection at a time (usbip servers
	 * exist that do; dfukit-emu and usbipd answer device lists while a
	 * device is imported) leaves a new connection waiting while we hold
	 * an import: only then, as a fallback, a device list that does not
	 * come quickly means the server is busy with us, and the devices we
	 * hold are the list. A server that answers costs no wait. */
	bool holding = t->ncache > 0;
	rc = fetch_devlist(t, &dl, holding ? BUSY_DEVLIST_MS : OP_TIMEOUT_MS, &unanswered, err);
	if (rc && !(holding && unanswered))
		return rc;
	if (rc)
		dfk_error_clear(err);
	/* Held devices the devlist leaves out (a busy server, or one that
	 * lists only devices free for import) come from the import replies. */
	cache_prune(t);
	if (t->ncache) {
		held = calloc(t->ncache, sizeof(*held));
		if (!held) {
			free(dl.devs);
			return dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
		}
	}
	for (size_t i = 0; i < t->ncache; i++) {
		bool listed = false;
		for (size_t k = 0; k < dl.n && !listed; k++)
			listed = strcmp(dl.devs[k].busid, t->cache[i]->busid) == 0;
		if (!listed)
			held[nheld++] = t->cache[i]->info;
	}
	size_t total = dl.n + nheld;
	rc = DFK_OK;
	if (total) {
		list->devs = calloc(total, sizeof(*list->devs));
		if (!list->devs)
			rc = dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
	}
	int64_t deadline = now_ms(t->ctx) + ENUM_BUDGET_MS;
	for (size_t i = 0; i < total && !rc; i++) {
		const dfk_usbip_device *u = i < dl.n ? &dl.devs[i] : &held[i - dl.n];
		/* Another device's import would keep it from its own thread. */
		if (!dfk__transport_wants(tp, u->busid))
			continue;
		rc = describe(t, &list->devs[list->count], u, deadline, err);
		list->count++;
	}
	free(dl.devs);
	free(held);
	if (rc)
		usbip_list_free(tp, list);
	else
		forget_skipped(t, NULL, list);
	return rc;
}

static dfk_code usbip_open(dfk_transport *tp, const dfk_usb_node *node, dfk_usb *hb, dfk_error *err)
{
	struct usbip_transport *t = dfk__transport_priv(tp);
	struct usbip_handle *h = dfk__usb_priv(hb);
	const struct devdata *dd = node->backend;
	struct conn *c = NULL;
	dfk_code rc;

	if (!dd)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "USB/IP: %s: not a device of this transport",
				     node->dev.path);
	if (dd->c && dd->c->fd >= 0) {
		c = conn_ref(dd->c);
	} else {
		bool fresh;
		rc = get_conn(t, dd->busid, &c, &fresh, err);
		if (rc)
			return dfk_error_prefix(err, "USB/IP: opening %s", dd->busid);
	}
	h->c = c;
	snprintf(h->busid, sizeof(h->busid), "%s", dd->busid);
	return DFK_OK;
}

/* The import stays cached in the transport: closing it now would look
 * like the host going away to the server. */
static void usbip_close(dfk_usb *hb)
{
	struct usbip_handle *h = dfk__usb_priv(hb);
	conn_unref(h->c);
	h->c = NULL;
}

static dfk_code usbip_control(dfk_usb *hb, const dfk_setup *setup, uint8_t *data, size_t *actual, unsigned timeout_ms,
			      dfk_error *err)
{
	struct usbip_handle *h = dfk__usb_priv(hb);
	return conn_control(h->c, h->busid, setup, data, actual, timeout_ms, err);
}

/* No kernel driver sits between us and a USB/IP server. */
static dfk_code usbip_claim(dfk_usb *hb, uint8_t intf, dfk_error *err)
{
	struct usbip_handle *h = dfk__usb_priv(hb);
	(void)intf;
	if (!h->c || h->c->fd < 0)
		return dfk_error_set(err, DFK_ERR_NODEV, "USB/IP: %s: device is gone (connection closed)", h->busid);
	return DFK_OK;
}

static void usbip_release(dfk_usb *hb, uint8_t intf)
{
	(void)hb;
	(void)intf;
}

static dfk_code usbip_set_alt(dfk_usb *hb, uint8_t intf, uint8_t alt, dfk_error *err)
{
	struct usbip_handle *h = dfk__usb_priv(hb);
	dfk_setup s = {0x01, 11 /* SET_INTERFACE */, alt, intf, 0};
	dfk_code rc =
	    conn_control(h->c, h->busid, &s, NULL, NULL, dfk_ctx_timeout(hb->transport->ctx, DFK_TIMEOUT_USB), err);
	if (rc)
		return dfk_error_prefix(err, "SET_INTERFACE %u alt %u", intf, alt);
	return DFK_OK;
}

/* vhci-hcd resets the port locally and the server never hears of it, so
 * the only reset a USB/IP server can see is the host going away. */
static dfk_code usbip_reset(dfk_usb *hb, dfk_error *err)
{
	struct usbip_handle *h = dfk__usb_priv(hb);
	if (!h->c || h->c->fd < 0)
		return dfk_error_set(err, DFK_ERR_NODEV, "USB/IP: %s: device is gone (connection closed)", h->busid);
	conn_kill(h->c);
	return DFK_OK;
}

static void usbip_destroy(dfk_transport *tp)
{
	struct usbip_transport *t = dfk__transport_priv(tp);
	for (size_t i = 0; i < t->ncache; i++) {
		conn_kill(t->cache[i]);
		conn_unref(t->cache[i]);
	}
	free(t->cache);
	free(t->skipped);
	free(t->host);
	free(t->port);
	free(t->unix_path);
	free(t->spec);
	memset(t, 0, sizeof(*t));
}

static const dfk_transport_ops usbip_ops = {
    .name = "usbip",
    .transport_size = sizeof(struct usbip_transport),
    .handle_size = sizeof(struct usbip_handle),
    .destroy = usbip_destroy,
    .enumerate = usbip_enumerate,
    .list_free = usbip_list_free,
    .open = usbip_open,
    .close = usbip_close,
    .control = usbip_control,
    .claim = usbip_claim,
    .release = usbip_release,
    .set_alt = usbip_set_alt,
    .reset = usbip_reset,
};

/* "HOST", "HOST:PORT", "[V6]", "[V6]:PORT", a bare IPv6 address, or
 * "unix:PATH". */
static dfk_code parse_spec(struct usbip_transport *t, const char *spec, dfk_error *err)
{
	const char *host = spec, *port = NULL;
	size_t hlen;

	if (!spec || !*spec)
		return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: empty server address");
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: bad Unix socket path in \"%s\"", spec);
		t->unix_path = strdup(path);
		return t->unix_path ? DFK_OK : dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
	}
	if (spec[0] == '[') {
		const char *close_br = strchr(spec, ']');
		if (!close_br || close_br == spec + 1)
			return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: bad address \"%s\" (unclosed '[')", spec);
		host = spec + 1;
		hlen = (size_t)(close_br - host);
		if (close_br[1] == ':')
			port = close_br + 2;
		else if (close_br[1] != '\0')
			return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: bad address \"%s\"", spec);
	} else {
		const char *colon = strchr(spec, ':');
		if (colon && strchr(colon + 1, ':')) {
			hlen = strlen(spec); /* bare IPv6: no port */
		} else if (colon) {
			hlen = (size_t)(colon - spec);
			port = colon + 1;
		} else {
			hlen = strlen(spec);
		}
	}
	if (hlen == 0 || hlen > 255)
		return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: bad host in \"%s\"", spec);
	if (port) {
		char *end;
		errno = 0;
		unsigned long p = strtoul(port, &end, 10);
		if (!*port || *end || errno || p == 0 || p > 65535 || port[0] == '-' || port[0] == '+')
			return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: bad port in \"%s\"", spec);
	}
	t->host = strndup(host, hlen);
	if (port)
		t->port = strdup(port);
	else if (asprintf(&t->port, "%d", DFK_USBIP_PORT) < 0)
		t->port = NULL;
	if (!t->host || !t->port)
		return dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
	return DFK_OK;
}

dfk_code dfk_transport_usbip_new(dfk_transport **out, const dfk_ctx *ctx, const char *spec, dfk_error *err)
{
	dfk_transport *tp;
	if (!out)
		return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: no place for the new transport");
	*out = NULL;
	if (!ctx)
		return dfk_error_set(err, DFK_ERR_USAGE, "USB/IP: a transport needs a context");
	dfk_code rc = dfk__transport_new(&usbip_ops, ctx, &tp, err);
	if (rc)
		return rc;
	struct usbip_transport *t = dfk__transport_priv(tp);
	t->ctx = ctx;
	rc = parse_spec(t, spec, err);
	if (!rc && !(t->spec = strdup(spec)))
		rc = dfk_error_set(err, DFK_ERR_NOMEM, "USB/IP: out of memory");
	if (rc) {
		dfk_transport_free(tp);
		return rc;
	}
	*out = tp;
	return DFK_OK;
}
