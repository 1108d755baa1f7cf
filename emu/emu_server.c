/* The USB/IP server of dfukit-emu.
 *
 * First the protocol engine of one connection (protocols.md C.2-C.4):
 * OP_REQ_DEVLIST / OP_REQ_IMPORT, then URBs; or URBs straight away when the
 * peer is vhci-hcd. Control transfers on ep0 run one at a time in arrival
 * order, as on a real device's control pipe: a reply the model delays (a
 * NAKing busy device) holds back the URBs behind it, while CMD_UNLINK is
 * answered at once.
 * Then the socket loop: single-threaded poll(), one importing host at a
 * time; while it holds the import, further connections ("side"
 * connections) are served in the same loop, so that a host can list the
 * devices again without dropping its import; or the vhci-hcd socket pair. */
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
#include "emu_vhci.h"
#include "usbip_wire.h"

/* No honest host gets near these; they bound the memory a peer can make
 * the server hold. */
#define MAX_QUEUED_URBS 1024
#define INPUT_PAUSE_URBS 64
#define INPUT_PAUSE_OUTPUT (1u << 20)
/* A peer that connects and says nothing must not block the single host
 * slot forever. */
#define HANDSHAKE_IDLE_MS 30000
#define MAX_CONTROL_LEN 0xFFFFu

enum phase { PH_START, PH_OP, PH_URB };

typedef struct urb {
	struct urb *next;
	uint32_t seqnum;
	uint32_t direction;
	uint32_t len; /* transfer_buffer_length */
	uint8_t setup[8];
	uint8_t *data; /* OUT data (len bytes) */
	bool started;
	uint64_t due;	/* when the reply may go out; UINT64_MAX: never */
	uint8_t *reply; /* RET_SUBMIT PDU, prepared when started */
	size_t reply_len;
	emu_event event; /* bus event the model raised with this transfer */
} urb;

struct emu_session {
	emu_device *dev;
	uint32_t devnum;
	bool direct;
	enum phase phase;
	bool host;
	bool closing; /* a bus event is pending: accept no more input */
	bool done;
	bool import_busy; /* another connection holds the import */
	emu_event event;
	char reason[160];
	uint64_t idle_deadline;

	uint8_t *in;
	size_t in_len, in_cap;
	uint64_t skip; /* payload bytes to discard (URB to a missing endpoint) */

	uint8_t *out;
	size_t out_off, out_len, out_cap;

	urb *head, *tail;
	size_t nurbs;
	/* A transfer the host unlinked while the device was still busy
	 * with it keeps the control pipe busy until then. */
	uint64_t pipe_busy_until;
};

static void finish(emu_session *s, const char *reason)
{
	if (!s->done) {
		s->done = true;
		size_t n = strnlen(reason, sizeof(s->reason) - 1); /* cut to fit */
		memcpy(s->reason, reason, n);
		s->reason[n] = '\0';
	}
}

static bool reserve(uint8_t **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	uint8_t *p;

	if (need <= *cap)
		return true;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*buf, ncap);
	if (!p)
		return false;
	*buf = p;
	*cap = ncap;
	return true;
}

static void emit(emu_session *s, const void *data, size_t len)
{
	if (s->out_off > 0 && s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
	if (!reserve(&s->out, &s->out_cap, s->out_len + len)) {
		finish(s, "out of memory for output");
		return;
	}
	memcpy(s->out + s->out_len, data, len);
	s->out_len += len;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

emu_session *emu_session_new(emu_device *dev, uint32_t devnum, bool direct, uint64_t now_ms)
{
	emu_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->dev = dev;
	s->devnum = devnum;
	s->direct = direct;
	s->phase = direct ? PH_URB : PH_START;
	s->idle_deadline = direct ? UINT64_MAX : now_ms + HANDSHAKE_IDLE_MS;
	return s;
}

static void urb_free(urb *u)
{
	free(u->data);
	free(u->reply);
	free(u);
}

void emu_session_free(emu_session *s)
{
	if (!s)
		return;
	while (s->head) {
		urb *u = s->head;
		s->head = u->next;
		urb_free(u);
	}
	free(s->in);
	free(s->out);
	free(s);
}

/* ---- OP_* handshake ---- */

static void usb_device_of(const emu_session *s, const emu_usb_identity *id, dfk_usbip_device *d)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->path, EMU_SYSFS_PATH);
	strcpy(d->busid, EMU_BUSID);
	d->busnum = EMU_BUSNUM;
	d->devnum = s->devnum;
	d->speed = DFK_USBIP_SPEED_FULL;
	d->idVendor = id->idVendor;
	d->idProduct = id->idProduct;
	d->bcdDevice = id->bcdDevice;
	d->bDeviceClass = id->bDeviceClass;
	d->bDeviceSubClass = id->bDeviceSubClass;
	d->bDeviceProtocol = id->bDeviceProtocol;
	d->bConfigurationValue = id->bConfigurationValue;
	d->bNumConfigurations = id->bNumConfigurations;
	d->bNumInterfaces = id->bNumInterfaces > 8 ? 8 : id->bNumInterfaces;
}

static void reply_devlist(emu_session *s)
{
	emu_usb_identity id;
	dfk_usbip_op op = {DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, DFK_USBIP_ST_OK};
	uint8_t buf[DFK_USBIP_OP_COMMON_LEN + 4 + DFK_USBIP_DEVICE_LEN + 8 * DFK_USBIP_INTERFACE_LEN];
	size_t n = 0;

	memset(&id, 0, sizeof(id));
	emu_device_identity(s->dev, &id);
	dfk_usbip_op_pack(&op, buf);
	n += DFK_USBIP_OP_COMMON_LEN;
	put32(buf + n, id.present ? 1 : 0);
	n += 4;
	if (id.present) {
		dfk_usbip_device d;
		usb_device_of(s, &id, &d);
		dfk_usbip_device_pack(&d, buf + n);
		n += DFK_USBIP_DEVICE_LEN;
		for (unsigned i = 0; i < d.bNumInterfaces; i++) {
			dfk_usbip_interface intf = {id.intf_class[i], id.intf_subclass[i], id.intf_protocol[i]};
			dfk_usbip_interface_pack(&intf, buf + n);
			n += DFK_USBIP_INTERFACE_LEN;
		}
	}
	emit(s, buf, n);
	finish(s, "device list sent");
}

static void reply_import(emu_session *s, const uint8_t *req)
{
	emu_usb_identity id;
	char busid[32];
	dfk_usbip_op op = {DFK_USBIP_VERSION, DFK_USBIP_OP_REP_IMPORT, DFK_USBIP_ST_OK};
	uint8_t buf[DFK_USBIP_OP_COMMON_LEN + DFK_USBIP_DEVICE_LEN];

	memcpy(busid, req + DFK_USBIP_OP_COMMON_LEN, sizeof(busid));
	busid[sizeof(busid) - 1] = '\0';
	memset(&id, 0, sizeof(id));
	emu_device_identity(s->dev, &id);
	if (s->import_busy && strcmp(busid, EMU_BUSID) == 0) {
		/* As usbipd does for an exported device already in use. */
		op.status = DFK_USBIP_ST_DEV_BUSY;
		dfk_usbip_op_pack(&op, buf);
		emit(s, buf, DFK_USBIP_OP_COMMON_LEN);
		finish(s, "import refused: device busy with another host");
		return;
	}
	if (strcmp(busid, EMU_BUSID) != 0 || !id.present) {
		op.status = DFK_USBIP_ST_NODEV;
		dfk_usbip_op_pack(&op, buf);
		emit(s, buf, DFK_USBIP_OP_COMMON_LEN);
		finish(s, id.present ? "import of an unknown busid refused" : "import refused: device off the bus");
		return;
	}
	dfk_usbip_device d;
	usb_device_of(s, &id, &d);
	dfk_usbip_op_pack(&op, buf);
	dfk_usbip_device_pack(&d, buf + DFK_USBIP_OP_COMMON_LEN);
	emit(s, buf, sizeof(buf));
	s->phase = PH_URB;
	s->host = true;
	s->idle_deadline = UINT64_MAX;
}

/* ---- URBs ---- */

static void ret_submit(uint8_t *pdu, uint32_t seqnum, int32_t status, uint32_t actual)
{
	dfk_usbip_header h;

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_RET_SUBMIT;
	h.seqnum = seqnum;
	h.u.ret_submit.status = status;
	h.u.ret_submit.actual_length = (int32_t)actual;
	dfk_usbip_header_pack(&h, pdu);
}

static void emit_ret_unlink(emu_session *s, uint32_t seqnum, int32_t status)
{
	dfk_usbip_header h;
	uint8_t pdu[DFK_USBIP_HEADER_LEN];

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_RET_UNLINK;
	h.seqnum = seqnum;
	h.u.ret_unlink.status = status;
	dfk_usbip_header_pack(&h, pdu);
	emit(s, pdu, sizeof(pdu));
}

/* GET_DESCRIPTOR(DEVICE) with wLength 64: usbcore's enumeration probe. */
static const uint8_t enum_probe[8] = {0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x40, 0x00};

/* Runs the control transfer on the model and prepares its reply. */
static void start_urb(emu_session *s, urb *u, uint64_t now)
{
	uint16_t wlength = (uint16_t)(u->setup[6] | (u->setup[7] << 8));
	bool in = (u->setup[0] & 0x80) != 0;
	uint8_t *buf = NULL;
	uint32_t actual = 0, delay = 0;
	int32_t status;
	int rc;

	u->started = true;
	u->due = now;
	/* usbcore submits control URBs with transfer_buffer_length ==
	 * wLength and sends a zero-length IN request as OUT; anything else
	 * is a broken host, answered as a device would: a STALL. */
	if (u->len != wlength || (wlength > 0 && in != (u->direction == DFK_USBIP_DIR_IN))) {
		status = -DFK_USBIP_EPIPE;
	} else {
		if (memcmp(u->setup, enum_probe, sizeof(enum_probe)) == 0) {
			/* vhci-hcd resets ports locally, so the device never
			 * sees a reset; usbcore's first request after one (a
			 * 64-byte device descriptor read at address 0, which
			 * nothing else sends) stands for it. A device that
			 * changes mode here answers with its new descriptor
			 * and usbcore re-enumerates it by itself: its event
			 * needs no action from us. */
			emu_device_bus_reset(s->dev);
			(void)emu_device_take_event(s->dev);
		}
		buf = malloc(wlength ? wlength : 1);
		if (!buf) {
			finish(s, "out of memory for a transfer");
			return;
		}
		if (!in && wlength)
			memcpy(buf, u->data, wlength);
		actual = in ? 0 : wlength;
		rc = emu_device_control(s->dev, u->setup, buf, &actual, now, &delay);
		if (actual > wlength)
			actual = wlength;
		if (rc == EMU_URB_OK)
			status = 0;
		else if (rc == EMU_URB_TIMEOUT)
			status = 1; /* never answered: the host gives up and unlinks */
		else if (rc < 0 && rc >= -4095)
			status = rc;
		else
			status = -DFK_USBIP_EPROTO;
		u->event = emu_device_take_event(s->dev);
		if (u->event != EMU_EVENT_NONE) {
			/* Nothing after this transfer reaches the device: the
			 * connection goes down once its reply is out. */
			s->closing = true;
			while (u->next) {
				urb *n = u->next;
				u->next = n->next;
				urb_free(n);
				s->nurbs--;
			}
			s->tail = u;
		}
	}
	if (status == 1) {
		u->due = UINT64_MAX;
		free(buf);
		return;
	}
	if (status != 0)
		actual = 0;
	size_t data_len = (status == 0 && in) ? actual : 0;
	u->reply = malloc(DFK_USBIP_HEADER_LEN + data_len);
	if (!u->reply) {
		free(buf);
		finish(s, "out of memory for a reply");
		return;
	}
	ret_submit(u->reply, u->seqnum, status, actual);
	if (data_len)
		memcpy(u->reply + DFK_USBIP_HEADER_LEN, buf, data_len);
	u->reply_len = DFK_USBIP_HEADER_LEN + data_len;
	u->due = now + delay;
	free(buf);
}

static void pop_head(emu_session *s)
{
	urb *u = s->head;

	s->head = u->next;
	if (!s->head)
		s->tail = NULL;
	s->nurbs--;
	if (u->event != EMU_EVENT_NONE) {
		s->event = u->event;
		finish(s, u->event == EMU_EVENT_DISCONNECT ? "device disconnected" : "device re-enumerates");
	}
	urb_free(u);
}

/* Completes due transfers and starts the next ones. */
static void run_queue(emu_session *s, uint64_t now)
{
	while (s->head && !s->done) {
		urb *u = s->head;
		if (!u->started) {
			if (now < s->pipe_busy_until)
				return;
			start_urb(s, u, now);
		}
		if (s->done || u->due > now)
			return;
		emit(s, u->reply, u->reply_len);
		pop_head(s);
	}
}

static void unlink_urb(emu_session *s, uint32_t unlink_seqnum, uint32_t target, uint64_t now)
{
	urb *prev = NULL, *u = s->head;

	while (u && u->seqnum != target) {
		prev = u;
		u = u->next;
	}
	if (!u) {
		/* Already completed (its RET_SUBMIT went out) or never seen. */
		emit_ret_unlink(s, unlink_seqnum, 0);
		return;
	}
	emit_ret_unlink(s, unlink_seqnum, -DFK_USBIP_ECONNRESET);
	if (prev) {
		prev->next = u->next;
		if (s->tail == u)
			s->tail = prev;
		s->nurbs--;
		urb_free(u);
	} else {
		/* The transfer in progress: its effect on the device stays,
		 * its RET_SUBMIT is never sent, and a device that was busy
		 * with it (NAKing) stays busy for the next request. */
		if (u->started && u->due != UINT64_MAX && u->due > now)
			s->pipe_busy_until = u->due;
		pop_head(s);
	}
}

static void malformed(emu_session *s, const char *what)
{
	char msg[DFK_ERROR_MSG_MAX + 32];
	snprintf(msg, sizeof(msg), "malformed USB/IP stream: %s", what);
	finish(s, msg);
}

/* Handles the PDU at the start of p if it is complete; returns how many
 * bytes it took (0: need more). */
static size_t parse_urb(emu_session *s, const uint8_t *p, size_t avail, uint64_t now)
{
	dfk_usbip_header h;
	dfk_error err;

	if (avail < DFK_USBIP_HEADER_LEN)
		return 0;
	if (dfk_usbip_header_unpack(p, &h, &err) != DFK_OK) {
		malformed(s, err.msg);
		return 0;
	}
	if (h.command == DFK_USBIP_CMD_UNLINK) {
		s->host = true;
		unlink_urb(s, h.seqnum, h.u.unlink.seqnum, now);
		run_queue(s, now);
		return DFK_USBIP_HEADER_LEN;
	}
	if (h.command != DFK_USBIP_CMD_SUBMIT) {
		malformed(s, "a RET_* PDU sent to the device");
		return 0;
	}
	uint64_t payload = h.direction == DFK_USBIP_DIR_OUT ? (uint64_t)h.u.submit.transfer_buffer_length : 0;
	s->host = true;
	if (h.ep != 0) {
		/* The device has only its control endpoint. */
		uint8_t pdu[DFK_USBIP_HEADER_LEN];
		ret_submit(pdu, h.seqnum, -DFK_USBIP_EPIPE, 0);
		emit(s, pdu, sizeof(pdu));
		s->skip = payload;
		return DFK_USBIP_HEADER_LEN;
	}
	if (payload > MAX_CONTROL_LEN) {
		malformed(s, "control transfer longer than 65535 bytes");
		return 0;
	}
	if (avail < DFK_USBIP_HEADER_LEN + payload)
		return 0;
	if (s->nurbs >= MAX_QUEUED_URBS) {
		malformed(s, "too many URBs queued");
		return 0;
	}
	urb *u = calloc(1, sizeof(*u));
	if (!u) {
		finish(s, "out of memory for a URB");
		return 0;
	}
	u->seqnum = h.seqnum;
	u->direction = h.direction;
	u->len = (uint32_t)h.u.submit.transfer_buffer_length;
	memcpy(u->setup, h.u.submit.setup, 8);
	if (payload) {
		u->data = malloc((size_t)payload);
		if (!u->data) {
			free(u);
			finish(s, "out of memory for a URB");
			return 0;
		}
		memcpy(u->data, p + DFK_USBIP_HEADER_LEN, (size_t)payload);
	}
	if (s->tail)
		s->tail->next = u;
	else
		s->head = u;
	s->tail = u;
	s->nurbs++;
	run_queue(s, now);
	return DFK_USBIP_HEADER_LEN + (size_t)payload;
}

static size_t parse_op(emu_session *s, const uint8_t *p, size_t avail)
{
	dfk_usbip_op op;
	dfk_error err;

	if (avail < DFK_USBIP_OP_COMMON_LEN)
		return 0;
	if (dfk_usbip_op_unpack(p, &op, &err) != DFK_OK) {
		malformed(s, err.msg);
		return 0;
	}
	if (op.code == DFK_USBIP_OP_REQ_DEVLIST) {
		reply_devlist(s);
		return DFK_USBIP_OP_COMMON_LEN;
	}
	if (op.code == DFK_USBIP_OP_REQ_IMPORT) {
		if (avail < DFK_USBIP_IMPORT_REQ_LEN)
			return 0;
		reply_import(s, p);
		return DFK_USBIP_IMPORT_REQ_LEN;
	}
	char msg[64];
	snprintf(msg, sizeof(msg), "unsupported OP code 0x%04x", op.code);
	malformed(s, msg);
	return 0;
}

void emu_session_input(emu_session *s, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	size_t pos = 0;

	if (s->done || s->closing || len == 0)
		return;
	if (!reserve(&s->in, &s->in_cap, s->in_len + len)) {
		finish(s, "out of memory for input");
		return;
	}
	memcpy(s->in + s->in_len, buf, len);
	s->in_len += len;

	while (!s->done && !s->closing && pos < s->in_len) {
		size_t avail = s->in_len - pos, used;

		if (s->skip) {
			used = s->skip < avail ? (size_t)s->skip : avail;
			s->skip -= used;
			pos += used;
			continue;
		}
		if (s->phase == PH_START) {
			/* A URB header starts with its command 0x0000000X,
			 * op_common with the version 0x0111: anything not
			 * starting with 0 is taken as an OP_* request, whose
			 * version check then rejects it at once. */
			if (avail < 1)
				break;
			s->phase = s->in[pos] != 0 ? PH_OP : PH_URB;
			continue;
		}
		used = s->phase == PH_OP ? parse_op(s, s->in + pos, avail) : parse_urb(s, s->in + pos, avail, now_ms);
		if (used == 0)
			break;
		pos += used;
	}
	if (s->done || s->closing) {
		s->in_len = 0;
		return;
	}
	memmove(s->in, s->in + pos, s->in_len - pos);
	s->in_len -= pos;
}

void emu_session_tick(emu_session *s, uint64_t now_ms)
{
	if (s->done)
		return;
	if (now_ms >= s->idle_deadline && s->phase != PH_URB) {
		finish(s, "no request within 30 s");
		return;
	}
	run_queue(s, now_ms);
}

uint64_t emu_session_deadline(const emu_session *s)
{
	uint64_t d = UINT64_MAX;

	if (s->done)
		return d;
	if (s->phase != PH_URB)
		d = s->idle_deadline;
	if (s->head && s->head->started && s->head->due < d)
		d = s->head->due;
	if (s->head && !s->head->started && s->pipe_busy_until < d)
		d = s->pipe_busy_until;
	return d;
}

const uint8_t *emu_session_output(const emu_session *s, size_t *len)
{
	*len = s->out_len - s->out_off;
	return s->out ? s->out + s->out_off : NULL;
}

void emu_session_consume(emu_session *s, size_t n)
{
	size_t left = s->out_len - s->out_off;

	s->out_off += n < left ? n : left;
	if (s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
}

bool emu_session_wants_input(const emu_session *s)
{
	return !s->done && !s->closing && s->nurbs < INPUT_PAUSE_URBS && s->out_len - s->out_off < INPUT_PAUSE_OUTPUT;
}

void emu_session_set_import_busy(emu_session *s)
{
	s->import_busy = true;
}

bool emu_session_done(const emu_session *s)
{
	return s->done;
}

bool emu_session_is_host(const emu_session *s)
{
	return s->host;
}

emu_event emu_session_event(const emu_session *s)
{
	return s->event;
}

const char *emu_session_reason(const emu_session *s)
{
	return s->reason;
}

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

bool emu_write_stats_file(const emu_device *dev, const char *path, char *err, size_t errsz)
{
	char tmp[4096];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errsz, "stats path too long: %s", path);
		return false;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errsz, "cannot create %s: %s", tmp, strerror(errno));
		return false;
	}
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return false;
	}
	emu_device_write_stats(dev, f);
	fchmod(fd, 0644);
	if (fflush(f) != 0 || ferror(f)) {
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return false;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
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
