/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu's per-connection protocol engine (emu_session) without
 * sockets: any split of the input stream gives the same replies, the
 * control pipe is serialised behind a transfer the device does not answer,
 * unlink of queued and pending URBs, input back-pressure, malformed input,
 * URBs without a handshake (the vhci-hcd path), and a bus of several
 * devices (device list, one import per device). */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "emu_device.h"
#include "emu_session.h"
#include "usbip_wire.h"

typedef struct buf {
	uint8_t d[1 << 16];
	size_t n;
} buf;

static void add(buf *b, const void *p, size_t n)
{
	if (n == 0 || p == NULL) /* gcc 12 -O3 warns of memcpy from NULL otherwise */
		return;
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void add_import(buf *b)
{
	uint8_t req[DFK_USBIP_IMPORT_REQ_LEN] = {0};
	dfk_usbip_op op = {DFK_USBIP_VERSION, DFK_USBIP_OP_REQ_IMPORT, 0};
	dfk_usbip_op_pack(&op, req);
	strcpy((char *)req + DFK_USBIP_OP_COMMON_LEN, "1-1");
	add(b, req, sizeof(req));
}

static void add_submit(buf *b, uint32_t seq, uint8_t bm, uint8_t rq, uint16_t val, uint16_t len, const uint8_t *out)
{
	uint8_t pdu[DFK_USBIP_HEADER_LEN];
	dfk_usbip_header h;
	bool in = (bm & 0x80) && len;

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_CMD_SUBMIT;
	h.seqnum = seq;
	h.devid = 0x10002;
	h.direction = in ? DFK_USBIP_DIR_IN : DFK_USBIP_DIR_OUT;
	h.u.submit.transfer_buffer_length = len;
	uint8_t setup[8] = {bm, rq, (uint8_t)val, (uint8_t)(val >> 8), 0, 0, (uint8_t)len, (uint8_t)(len >> 8)};
	memcpy(h.u.submit.setup, setup, 8);
	dfk_usbip_header_pack(&h, pdu);
	add(b, pdu, sizeof(pdu));
	if (!in && len)
		add(b, out, len);
}

static void add_unlink(buf *b, uint32_t seq, uint32_t target)
{
	uint8_t pdu[DFK_USBIP_HEADER_LEN];
	dfk_usbip_header h;

	memset(&h, 0, sizeof(h));
	h.command = DFK_USBIP_CMD_UNLINK;
	h.seqnum = seq;
	h.u.unlink.seqnum = target;
	dfk_usbip_header_pack(&h, pdu);
	add(b, pdu, sizeof(pdu));
}

static emu_device *new_dev(const char *profile, const char *fault)
{
	emu_config cfg;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.profile = profile;
	if (fault) {
		cfg.faults[0] = fault;
		cfg.nfaults = 1;
	}
	emu_device *d = emu_device_new(&cfg, err, sizeof(err));
	assert_non_null(d);
	return d;
}

/* A bus holding only d (as port 1-1). */
static emu_bus *bus_of(emu_bus *b, emu_device *d)
{
	memset(b, 0, sizeof(*b));
	assert_true(emu_bus_add(b, d));
	return b;
}

static emu_session *new_direct(emu_bus *b, emu_device *d)
{
	bus_of(b, d);
	return emu_session_new_direct(b, &b->ports[0], 0);
}

/* Feeds in pieces of `step` bytes and collects everything sent back. */
static void feed(emu_session *s, const buf *in, size_t step, buf *out)
{
	for (size_t off = 0; off < in->n; off += step) {
		size_t n = in->n - off < step ? in->n - off : step, olen;
		emu_session_input(s, in->d + off, n, 1000);
		const uint8_t *o = emu_session_output(s, &olen);
		add(out, o, olen);
		emu_session_consume(s, olen);
	}
}

static void test_any_split_same_replies(void **state)
{
	(void)state;
	static buf in, whole, bytewise;
	static const uint8_t clr[1] = {0};

	in.n = whole.n = bytewise.n = 0;
	add_import(&in);
	add_submit(&in, 1, 0x80, 6, 0x0100, 18, NULL);
	add_submit(&in, 2, 0xA1, 3, 0, 6, NULL);
	add_submit(&in, 3, 0x21, 4, 0, 0, clr);
	add_submit(&in, 4, 0xC0, 0x55, 0, 4, NULL); /* vendor: stalls */
	add_unlink(&in, 5, 1);

	emu_device *d1 = new_dev("stm32f405", NULL), *d2 = new_dev("stm32f405", NULL);
	static emu_bus b1, b2;
	emu_session *s1 = emu_session_new(bus_of(&b1, d1), 0), *s2 = emu_session_new(bus_of(&b2, d2), 0);
	feed(s1, &in, in.n, &whole);
	feed(s2, &in, 1, &bytewise);
	assert_false(emu_session_done(s1));
	assert_ptr_equal(emu_session_port(s1), &b1.ports[0]);
	assert_true(b1.ports[0].held);
	assert_int_equal(whole.n, bytewise.n);
	assert_memory_equal(whole.d, bytewise.d, whole.n);

	/* import reply (8 + 312), then 48 + 18, 48 + 6, 48, 48, RET_UNLINK */
	assert_int_equal(whole.n, 320 + 66 + 54 + 48 + 48 + 48);
	dfk_usbip_header h;
	dfk_error err;
	assert_int_equal(dfk_usbip_header_unpack(whole.d + 320, &h, &err), DFK_OK);
	assert_int_equal(h.command, DFK_USBIP_RET_SUBMIT);
	assert_int_equal(h.seqnum, 1);
	assert_int_equal(h.u.ret_submit.actual_length, 18);
	assert_int_equal(whole.d[320 + 48 + 1], 1); /* bDescriptorType DEVICE */
	assert_int_equal(dfk_usbip_header_unpack(whole.d + 320 + 66 + 54 + 48, &h, &err), DFK_OK);
	assert_int_equal(h.seqnum, 4);
	assert_int_equal(h.u.ret_submit.status, -32);
	assert_int_equal(dfk_usbip_header_unpack(whole.d + whole.n - 48, &h, &err), DFK_OK);
	assert_int_equal(h.command, DFK_USBIP_RET_UNLINK);
	assert_int_equal(h.u.ret_unlink.status, 0); /* already completed */

	emu_session_free(s1);
	emu_session_free(s2);
	assert_false(b1.ports[0].held);
	emu_device_free(d1);
	emu_device_free(d2);
}

static void test_stuck_device_serialises_and_unlinks(void **state)
{
	(void)state;
	static buf in, out;

	in.n = out.n = 0;
	/* Direct URBs (vhci path); the second transfer is never answered. */
	emu_device *d = new_dev("stm32f405", "timeout@req=2");
	static emu_bus b;
	emu_session *s = new_direct(&b, d);
	add_submit(&in, 1, 0x80, 6, 0x0100, 18, NULL);
	add_submit(&in, 2, 0xA1, 3, 0, 6, NULL);
	add_submit(&in, 3, 0xA1, 3, 0, 6, NULL);
	feed(s, &in, in.n, &out);
	assert_int_equal(out.n, 48 + 18); /* only the first */
	assert_int_equal(emu_session_deadline(s), UINT64_MAX);

	/* Unlink the queued one, then the pending one: -ECONNRESET each,
	 * and no RET_SUBMIT ever. */
	in.n = out.n = 0;
	add_unlink(&in, 4, 3);
	add_unlink(&in, 5, 2);
	feed(s, &in, in.n, &out);
	emu_session_tick(s, 1000000);
	size_t olen;
	emu_session_output(s, &olen);
	assert_int_equal(olen, 0);
	assert_int_equal(out.n, 96);
	dfk_usbip_header h;
	dfk_error err;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dfk_usbip_header_unpack(out.d + 48 * i, &h, &err), DFK_OK);
		assert_int_equal(h.command, DFK_USBIP_RET_UNLINK);
		assert_int_equal(h.seqnum, 4 + i);
		assert_int_equal(h.u.ret_unlink.status, -104);
	}
	assert_false(emu_session_done(s));

	/* Back-pressure: URBs queue behind the stuck pipe until reading stops. */
	in.n = out.n = 0;
	for (uint32_t i = 0; i < 70; i++)
		add_submit(&in, 10 + i, 0xA1, 3, 0, 6, NULL);
	feed(s, &in, in.n, &out);
	assert_false(emu_session_wants_input(s));
	assert_int_equal(out.n, 0);

	emu_session_free(s);
	emu_device_free(d);
}

/* --timing real: a GETSTATUS that comes while the F405 still erases is
 * held (the chip NAKs) until the erase is done; unlinking it does not make
 * the device any faster for the next request. */
static void test_delayed_reply_and_busy_pipe(void **state)
{
	(void)state;
	static buf in, out;
	static const uint8_t erase[5] = {0x41, 0x00, 0x40, 0x00, 0x08};
	emu_config cfg;
	char err[256];
	size_t olen;

	memset(&cfg, 0, sizeof(cfg));
	cfg.profile = "stm32f405";
	cfg.timing = EMU_TIMING_REAL;
	emu_device *d = emu_device_new(&cfg, err, sizeof(err));
	assert_non_null(d);
	static emu_bus b;
	emu_session *s = new_direct(&b, d);

	in.n = out.n = 0;
	add_submit(&in, 1, 0x21, 4, 0, 0, NULL);  /* CLRSTATUS */
	add_submit(&in, 2, 0x21, 1, 0, 5, erase); /* erase 0x08004000 */
	add_submit(&in, 3, 0xA1, 3, 0, 6, NULL);  /* -> dfuDNBUSY */
	add_submit(&in, 4, 0xA1, 3, 0, 6, NULL);  /* too early */
	feed(s, &in, in.n, &out);
	assert_int_equal(out.n, 48 + 48 + 54);
	assert_int_equal(out.d[out.n - 2], 4); /* bState dfuDNBUSY */
	uint64_t due = emu_session_deadline(s);
	assert_true(due > 1000 && due != UINT64_MAX);
	emu_session_tick(s, due - 1);
	emu_session_output(s, &olen);
	assert_int_equal(olen, 0);
	emu_session_tick(s, due);
	emu_session_output(s, &olen);
	assert_int_equal(olen, 54);
	emu_session_consume(s, olen);

	/* Again, but the host gives up on the early GETSTATUS. */
	in.n = out.n = 0;
	add_submit(&in, 5, 0x21, 1, 0, 5, erase);
	add_submit(&in, 6, 0xA1, 3, 0, 6, NULL);
	add_submit(&in, 7, 0xA1, 3, 0, 6, NULL);
	feed(s, &in, in.n, &out); /* at t=1000 */
	assert_int_equal(out.n, 48 + 54);
	due = emu_session_deadline(s);
	assert_true(due > 1000 && due != UINT64_MAX);
	in.n = out.n = 0;
	add_unlink(&in, 8, 7);
	add_submit(&in, 9, 0xA1, 3, 0, 6, NULL);
	feed(s, &in, in.n, &out);
	assert_int_equal(out.n, 48); /* RET_UNLINK -ECONNRESET only */
	assert_int_equal(emu_session_deadline(s), due);
	emu_session_tick(s, due);
	emu_session_output(s, &olen);
	assert_int_equal(olen, 54);

	emu_session_free(s);
	emu_device_free(d);
}

static void test_malformed_ends_session(void **state)
{
	(void)state;
	static const uint8_t bad_version[8] = {0x01, 0x12, 0x80, 0x05, 0, 0, 0, 0};
	static const uint8_t bad_cmd[48] = {0, 0, 0, 9};
	static buf in, out;
	emu_device *d = new_dev("dfu11", NULL);

	static emu_bus b;
	emu_session *s = emu_session_new(bus_of(&b, d), 0);
	emu_session_input(s, bad_version, sizeof(bad_version), 0);
	assert_true(emu_session_done(s));
	assert_non_null(strstr(emu_session_reason(s), "malformed"));
	assert_null(emu_session_port(s));
	emu_session_free(s);

	s = emu_session_new(&b, 0);
	in.n = out.n = 0;
	add_import(&in);
	add(&in, bad_cmd, sizeof(bad_cmd));
	feed(s, &in, 7, &out);
	assert_true(emu_session_done(s));
	assert_non_null(emu_session_port(s));
	assert_int_equal(out.n, 320); /* the import reply only */
	emu_session_free(s);

	/* Silence before any request ends the session after the idle limit. */
	s = emu_session_new(&b, 0);
	assert_true(emu_session_deadline(s) <= 30000);
	emu_session_tick(s, 30000);
	assert_true(emu_session_done(s));
	emu_session_free(s);
	emu_device_free(d);
}

static void test_devlist(void **state)
{
	(void)state;
	static const uint8_t req[8] = {0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0};
	emu_device *d = new_dev("dfu11", NULL);
	static emu_bus b;
	bus_of(&b, d)->ports[0].devnum = 7;
	emu_session *s = emu_session_new(&b, 0);
	size_t olen;

	emu_session_input(s, req, sizeof(req), 0);
	const uint8_t *o = emu_session_output(s, &olen);
	assert_int_equal(olen, 8 + 4 + 312 + 4);
	assert_int_equal(o[11], 1); /* ndev */
	dfk_usbip_device dev;
	dfk_usbip_device_unpack(o + 12, &dev);
	assert_string_equal(dev.busid, "1-1");
	assert_string_equal(dev.path, "/sys/devices/platform/dfukit-emu/usb1/1-1");
	assert_int_equal(dev.devnum, 7);
	assert_int_equal(dev.speed, 2);
	assert_int_equal(o[12 + 312], 0xFE); /* interface class */
	assert_true(emu_session_done(s));
	emu_session_free(s);
	emu_device_free(d);
}

static void import_reply(emu_session *s, const char *busid, uint32_t *status, dfk_usbip_device *dev)
{
	uint8_t req[DFK_USBIP_IMPORT_REQ_LEN] = {0};
	dfk_usbip_op op = {DFK_USBIP_VERSION, DFK_USBIP_OP_REQ_IMPORT, 0};
	dfk_error err = {0};
	size_t olen;

	dfk_usbip_op_pack(&op, req);
	strcpy((char *)req + DFK_USBIP_OP_COMMON_LEN, busid);
	emu_session_input(s, req, sizeof(req), 0);
	const uint8_t *o = emu_session_output(s, &olen);
	assert_true(olen >= DFK_USBIP_OP_COMMON_LEN);
	assert_int_equal(dfk_usbip_op_unpack(o, &op, &err), DFK_OK);
	assert_int_equal(op.code, DFK_USBIP_OP_REP_IMPORT);
	*status = op.status;
	if (op.status == DFK_USBIP_ST_OK) {
		assert_int_equal(olen, DFK_USBIP_OP_COMMON_LEN + DFK_USBIP_DEVICE_LEN);
		dfk_usbip_device_unpack(o + DFK_USBIP_OP_COMMON_LEN, dev);
	} else {
		assert_int_equal(olen, DFK_USBIP_OP_COMMON_LEN);
	}
	emu_session_consume(s, olen);
}

/* Each device is held by one session at a time: a second import is busy
 * (not a host), other devices stay importable, and a released device is
 * importable again. */
static void test_import_busy(void **state)
{
	(void)state;
	static emu_bus b;
	emu_device *d[3];
	uint32_t st;
	dfk_usbip_device dev;

	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 3; i++) {
		d[i] = new_dev("dfu11", NULL);
		assert_true(emu_bus_add(&b, d[i]));
	}
	emu_session *h2 = emu_session_new(&b, 0), *h3 = emu_session_new(&b, 0), *late = emu_session_new(&b, 0);
	import_reply(h2, "1-2", &st, &dev);
	assert_int_equal(st, DFK_USBIP_ST_OK);
	assert_string_equal(dev.busid, "1-2");
	assert_string_equal(dev.path, "/sys/devices/platform/dfukit-emu/usb1/1-2");
	assert_int_equal(dev.devnum, 3);
	import_reply(h3, "1-3", &st, &dev);
	assert_int_equal(st, DFK_USBIP_ST_OK);
	assert_int_equal(dev.devnum, 4);
	import_reply(late, "1-2", &st, &dev);
	assert_int_equal(st, DFK_USBIP_ST_DEV_BUSY);
	assert_true(emu_session_done(late));
	assert_null(emu_session_port(late));
	emu_session_free(late);
	assert_true(b.ports[1].held);
	emu_session_free(h2);
	assert_false(b.ports[1].held);
	assert_int_equal(b.ports[1].devnum, 3); /* a plain reset: same address */
	late = emu_session_new(&b, 0);
	import_reply(late, "1-2", &st, &dev);
	assert_int_equal(st, DFK_USBIP_ST_OK);
	emu_session_free(late);
	late = emu_session_new(&b, 0);
	import_reply(late, "1-4", &st, &dev);
	assert_int_equal(st, DFK_USBIP_ST_NODEV);
	emu_session_free(late);
	emu_session_free(h3);
	for (int i = 0; i < 3; i++)
		emu_device_free(d[i]);
}

/* The device list holds every device of the bus with its own busid and
 * address; URBs without a handshake go to 1-1 unless another host holds it. */
static void test_devlist_several(void **state)
{
	(void)state;
	static const uint8_t req[8] = {0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0};
	static emu_bus b;
	static buf in;
	emu_device *d[8];
	size_t olen;

	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 8; i++) {
		d[i] = new_dev(i % 2 ? "dfu11" : "stm32f405", NULL);
		assert_true(emu_bus_add(&b, d[i]));
	}
	emu_session *s = emu_session_new(&b, 0);
	emu_session_input(s, req, sizeof(req), 0);
	const uint8_t *o = emu_session_output(s, &olen);
	assert_int_equal(olen, 8 + 4 + 8 * (312 + 4));
	assert_int_equal(o[11], 8);
	for (int i = 0; i < 8; i++) {
		dfk_usbip_device dev;
		char busid[8];
		dfk_usbip_device_unpack(o + 12 + (size_t)i * 316, &dev);
		snprintf(busid, sizeof(busid), "1-%d", i + 1);
		assert_string_equal(dev.busid, busid);
		assert_int_equal(dev.devnum, 2 + i);
		assert_int_equal(dev.idVendor, i % 2 ? 0x1209 : 0x0483);
	}
	emu_session_free(s);

	emu_session *holder = emu_session_new_direct(&b, &b.ports[0], 0);
	s = emu_session_new(&b, 0);
	in.n = 0;
	add_submit(&in, 1, 0x80, 6, 0x0100, 18, NULL);
	emu_session_input(s, in.d, in.n, 0);
	assert_true(emu_session_done(s));
	emu_session_output(s, &olen);
	assert_int_equal(olen, 0);
	emu_session_free(s);
	emu_session_free(holder);
	s = emu_session_new(&b, 0);
	emu_session_input(s, in.d, in.n, 0);
	assert_false(emu_session_done(s));
	assert_ptr_equal(emu_session_port(s), &b.ports[0]);
	emu_session_output(s, &olen);
	assert_int_equal(olen, 48 + 18);
	emu_session_free(s);
	for (int i = 0; i < 8; i++)
		emu_device_free(d[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_any_split_same_replies),
	    cmocka_unit_test(test_stuck_device_serialises_and_unlinks),
	    cmocka_unit_test(test_delayed_reply_and_busy_pipe),
	    cmocka_unit_test(test_malformed_ends_session),
	    cmocka_unit_test(test_devlist),
	    cmocka_unit_test(test_import_busy),
	    cmocka_unit_test(test_devlist_several),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
