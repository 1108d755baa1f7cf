/* dfukit-emu's per-connection protocol engine (emu_session) without
 * sockets: any split of the input stream gives the same replies, the
 * control pipe is serialised behind a transfer the device does not answer,
 * unlink of queued and pending URBs, input back-pressure, malformed input,
 * and URBs without a handshake (the vhci-hcd path). */
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
	if (n == 0)
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
	emu_session *s1 = emu_session_new(d1, 2, false, 0), *s2 = emu_session_new(d2, 2, false, 0);
	feed(s1, &in, in.n, &whole);
	feed(s2, &in, 1, &bytewise);
	assert_false(emu_session_done(s1));
	assert_true(emu_session_is_host(s1));
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
	emu_session *s = emu_session_new(d, 2, true, 0);
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
	emu_session *s = emu_session_new(d, 2, true, 0);

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

	emu_session *s = emu_session_new(d, 2, false, 0);
	emu_session_input(s, bad_version, sizeof(bad_version), 0);
	assert_true(emu_session_done(s));
	assert_non_null(strstr(emu_session_reason(s), "malformed"));
	assert_false(emu_session_is_host(s));
	emu_session_free(s);

	s = emu_session_new(d, 2, false, 0);
	in.n = out.n = 0;
	add_import(&in);
	add(&in, bad_cmd, sizeof(bad_cmd));
	feed(s, &in, 7, &out);
	assert_true(emu_session_done(s));
	assert_true(emu_session_is_host(s));
	assert_int_equal(out.n, 320); /* the import reply only */
	emu_session_free(s);

	/* Silence before any request ends the session after the idle limit. */
	s = emu_session_new(d, 2, false, 0);
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
	emu_session *s = emu_session_new(d, 7, false, 0);
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

/* A session opened while another holds the import: busy, not a host. */
static void test_import_busy(void **state)
{
	(void)state;
	emu_device *d = new_dev("dfu11", NULL);
	emu_session *s = emu_session_new(d, 2, false, 0);
	buf in = {.n = 0};
	size_t olen;

	emu_session_set_import_busy(s);
	add_import(&in);
	emu_session_input(s, in.d, in.n, 0);
	const uint8_t *o = emu_session_output(s, &olen);
	assert_int_equal(olen, DFK_USBIP_OP_COMMON_LEN);
	dfk_usbip_op op;
	dfk_error err = {0};
	assert_int_equal(dfk_usbip_op_unpack(o, &op, &err), DFK_OK);
	assert_int_equal(op.code, DFK_USBIP_OP_REP_IMPORT);
	assert_int_equal(op.status, DFK_USBIP_ST_DEV_BUSY);
	assert_true(emu_session_done(s));
	assert_false(emu_session_is_host(s));
	emu_session_free(s);
	emu_device_free(d);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
