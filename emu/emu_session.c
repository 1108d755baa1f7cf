/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The USB/IP protocol engine of one connection (protocols.md C.2-C.4):
 * OP_REQ_DEVLIST / OP_REQ_IMPORT, then URBs; or URBs straight away when the
 * peer is vhci-hcd. Control transfers on ep0 run one at a time in arrival
 * order, as on a real device's control pipe: a reply the model delays (a
 * NAKing busy device) holds back the URBs behind it, while CMD_UNLINK is
 * answered at once. No sockets, no clock of its own: the caller passes the
 * time in, so that tests and fuzz targets drive it with plain buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_session.h"
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
	emu_bus *bus;
	emu_port *port;	 /* the device this session holds, NULL before import */
	emu_device *dev; /* port->dev */
	enum phase phase;
	bool closing; /* a bus event is pending: accept no more input */
	bool done;
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

bool emu_bus_add_at(emu_bus *bus, emu_device *dev, const char *busid, uint32_t devnum)
{
	unsigned long busnum = strtoul(busid, NULL, 10);
	if (bus->n >= EMU_MAX_DEVICES || strlen(busid) >= sizeof(bus->ports[0].busid) || busnum == 0 || devnum == 0 ||
	    devnum > 127)
		return false;
	for (size_t i = 0; i < bus->n; i++)
		if (strcmp(bus->ports[i].busid, busid) == 0 ||
		    (bus->ports[i].busnum == busnum && bus->ports[i].devnum == devnum))
			return false;
	emu_port *p = &bus->ports[bus->n++];
	memset(p, 0, sizeof(*p));
	p->dev = dev;
	snprintf(p->busid, sizeof(p->busid), "%s", busid);
	p->busnum = (uint32_t)busnum;
	p->devnum = devnum;
	/* A device that comes back on the bus gets the next free address,
	 * as on a real bus. */
	if (devnum + 1 > bus->next_devnum)
		bus->next_devnum = devnum + 1;
	return true;
}

bool emu_bus_add(emu_bus *bus, emu_device *dev)
{
	char busid[32];
	snprintf(busid, sizeof(busid), "%u-%zu", EMU_BUSNUM, bus->n + 1);
	/* Addresses in plugging order. */
	return emu_bus_add_at(bus, dev, busid, EMU_FIRST_DEVNUM + (uint32_t)bus->n);
}

emu_port *emu_bus_find(emu_bus *bus, const char *busid)
{
	for (size_t i = 0; i < bus->n; i++)
		if (strcmp(bus->ports[i].busid, busid) == 0)
			return &bus->ports[i];
	return NULL;
}

static void hold(emu_session *s, emu_port *port)
{
	port->held = true;
	s->port = port;
	s->dev = port->dev;
	s->phase = PH_URB;
	s->idle_deadline = UINT64_MAX;
}

emu_session *emu_session_new(emu_bus *bus, uint64_t now_ms)
{
	emu_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->bus = bus;
	s->phase = PH_START;
	s->idle_deadline = now_ms + HANDSHAKE_IDLE_MS;
	return s;
}

emu_session *emu_session_new_direct(emu_bus *bus, emu_port *port, uint64_t now_ms)
{
	emu_session *s = emu_session_new(bus, now_ms);

	if (s)
		hold(s, port);
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
	if (s->port) {
		emu_port *p = s->port;
		/* The host went away: a USB reset for the device (its event is
		 * consumed here, so that it does not end the next host's first
		 * transfer). A device that left the bus or changes mode on the
		 * reset comes back at a new address. */
		emu_device_bus_reset(p->dev);
		bool back = emu_device_take_event(p->dev) != EMU_EVENT_NONE;
		if (back || s->event != EMU_EVENT_NONE)
			p->devnum = s->bus->next_devnum++;
		p->held = false;
	}
	free(s);
}

/* ---- OP_* handshake ---- */

static void usb_device_of(const emu_port *p, const emu_usb_identity *id, dfk_usbip_device *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s%u/%s", EMU_SYSFS_USB, p->busnum, p->busid);
	snprintf(d->busid, sizeof(d->busid), "%s", p->busid);
	d->busnum = p->busnum;
	d->devnum = p->devnum;
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

/* Every device on the bus, held by a host or not (as usbipd lists them). */
/* On the bus: present, and arrived (emu_port.arrive_ms). */
static bool on_bus(const emu_port *port, const emu_usb_identity *id, uint64_t now)
{
	return id->present && now >= port->arrive_ms;
}

static void reply_devlist(emu_session *s, uint64_t now)
{
	dfk_usbip_op op = {DFK_USBIP_VERSION, DFK_USBIP_OP_REP_DEVLIST, DFK_USBIP_ST_OK};
	uint8_t buf[DFK_USBIP_DEVICE_LEN + 8 * DFK_USBIP_INTERFACE_LEN];
	uint32_t count = 0;

	for (size_t i = 0; i < s->bus->n; i++) {
		emu_usb_identity id;
		emu_device_identity(s->bus->ports[i].dev, &id);
		count += on_bus(&s->bus->ports[i], &id, now);
	}
	dfk_usbip_op_pack(&op, buf);
	put32(buf + DFK_USBIP_OP_COMMON_LEN, count);
	emit(s, buf, DFK_USBIP_OP_COMMON_LEN + 4);
	for (size_t i = 0; i < s->bus->n; i++) {
		emu_usb_identity id;
		dfk_usbip_device d;
		size_t n = DFK_USBIP_DEVICE_LEN;

		emu_device_identity(s->bus->ports[i].dev, &id);
		if (!on_bus(&s->bus->ports[i], &id, now))
			continue;
		usb_device_of(&s->bus->ports[i], &id, &d);
		dfk_usbip_device_pack(&d, buf);
		for (unsigned j = 0; j < d.bNumInterfaces; j++) {
			dfk_usbip_interface intf = {id.intf_class[j], id.intf_subclass[j], id.intf_protocol[j]};
			dfk_usbip_interface_pack(&intf, buf + n);
			n += DFK_USBIP_INTERFACE_LEN;
		}
		emit(s, buf, n);
	}
	finish(s, "device list sent");
}

static void reply_import(emu_session *s, const uint8_t *req, uint64_t now)
{
	emu_usb_identity id;
	char busid[32];
	dfk_usbip_op op = {DFK_USBIP_VERSION, DFK_USBIP_OP_REP_IMPORT, DFK_USBIP_ST_OK};
	uint8_t buf[DFK_USBIP_OP_COMMON_LEN + DFK_USBIP_DEVICE_LEN];

	memcpy(busid, req + DFK_USBIP_OP_COMMON_LEN, sizeof(busid));
	busid[sizeof(busid) - 1] = '\0';
	emu_port *port = emu_bus_find(s->bus, busid);
	memset(&id, 0, sizeof(id));
	if (port)
		emu_device_identity(port->dev, &id);
	if (port && port->held) {
		/* As usbipd does for an exported device already in use. */
		op.status = DFK_USBIP_ST_DEV_BUSY;
		dfk_usbip_op_pack(&op, buf);
		emit(s, buf, DFK_USBIP_OP_COMMON_LEN);
		finish(s, "import refused: device busy with another host");
		return;
	}
	if (!port || !on_bus(port, &id, now)) {
		op.status = DFK_USBIP_ST_NODEV;
		dfk_usbip_op_pack(&op, buf);
		emit(s, buf, DFK_USBIP_OP_COMMON_LEN);
		finish(s, port ? "import refused: device off the bus" : "import of an unknown busid refused");
		return;
	}
	dfk_usbip_device d;
	usb_device_of(port, &id, &d);
	dfk_usbip_op_pack(&op, buf);
	dfk_usbip_device_pack(&d, buf + DFK_USBIP_OP_COMMON_LEN);
	emit(s, buf, sizeof(buf));
	hold(s, port);
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
		free(buf);
		if (u->event != EMU_EVENT_NONE) {
			/* Gone without answering (a chip that resets on the
			 * request): no reply, and no unlink would be read any
			 * more, so the connection goes down now. */
			s->event = u->event;
			finish(s, u->event == EMU_EVENT_DISCONNECT ? "device disconnected" : "device re-enumerates");
			return;
		}
		u->due = UINT64_MAX;
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
	if (h.command != DFK_USBIP_CMD_SUBMIT && h.command != DFK_USBIP_CMD_UNLINK) {
		malformed(s, "a RET_* PDU sent to the device");
		return 0;
	}
	if (!s->port) {
		/* URBs without a handshake: for the first device, as if
		 * imported, when no other host holds it. */
		if (s->bus->n == 0 || s->bus->ports[0].held) {
			finish(s, "URBs without import for a device another host holds");
			return 0;
		}
		hold(s, &s->bus->ports[0]);
	}
	if (h.command == DFK_USBIP_CMD_UNLINK) {
		unlink_urb(s, h.seqnum, h.u.unlink.seqnum, now);
		run_queue(s, now);
		return DFK_USBIP_HEADER_LEN;
	}
	uint64_t payload = h.direction == DFK_USBIP_DIR_OUT ? (uint64_t)h.u.submit.transfer_buffer_length : 0;
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

static size_t parse_op(emu_session *s, const uint8_t *p, size_t avail, uint64_t now)
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
		reply_devlist(s, now);
		return DFK_USBIP_OP_COMMON_LEN;
	}
	if (op.code == DFK_USBIP_OP_REQ_IMPORT) {
		if (avail < DFK_USBIP_IMPORT_REQ_LEN)
			return 0;
		reply_import(s, p, now);
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
		used = s->phase == PH_OP ? parse_op(s, s->in + pos, avail, now_ms)
					 : parse_urb(s, s->in + pos, avail, now_ms);
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

bool emu_session_done(const emu_session *s)
{
	return s->done;
}

emu_port *emu_session_port(const emu_session *s)
{
	return s->port;
}

emu_event emu_session_event(const emu_session *s)
{
	return s->event;
}

const char *emu_session_reason(const emu_session *s)
{
	return s->reason;
}
