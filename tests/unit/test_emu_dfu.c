/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The DFU 1.1 state machine of the plain dfu11 profiles: every request in
 * every state (protocols.md A.6), runtime mode, detach variants,
 * manifestation, and a download/upload round trip. */
#include "test_emu_util.h"

enum { S_OK = EMU_URB_OK, S_STALL = EMU_URB_STALL };
enum { RUNTIME_STATES = 2 };

static const uint8_t blk[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* Puts a fresh device into `state`; *now is the time requests are sent at. */
static emu_device *into(uint8_t state, uint64_t *now)
{
	bool real = state == DFK_STATE_DNBUSY || state == DFK_STATE_MANIFEST;
	const char *prof = state == DFK_STATE_MANIFEST_WAIT_RESET ? "dfu11-wait-reset" : "dfu11";
	emu_device *d = mkdev(prof, real ? EMU_TIMING_REAL : EMU_TIMING_FAST);
	uint8_t st[6], buf[1024];
	uint32_t n;
	*now = 0;
	if (state == DFK_STATE_APP_IDLE)
		return d;
	if (state == DFK_STATE_APP_DETACH) {
		assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 500, 0, NULL, 0, NULL, 0), S_OK);
		return d;
	}
	to_dfu_mode(d);
	switch (state) {
	case DFK_STATE_IDLE: break;
	case DFK_STATE_DNLOAD_SYNC: assert_int_equal(dnload(d, 0, blk, 16), S_OK); break;
	case DFK_STATE_DNBUSY:
		assert_int_equal(dnload(d, 0, blk, 16), S_OK);
		assert_int_equal(getstatus(d, st), S_OK);
		assert_int_equal(st[4], DFK_STATE_DNBUSY);
		assert_true(poll_of(st) > 0);
		break;
	case DFK_STATE_DNLOAD_IDLE:
		assert_int_equal(dnload(d, 0, blk, 16), S_OK);
		assert_int_equal(getstatus(d, st), S_OK);
		break;
	case DFK_STATE_MANIFEST_SYNC:
	case DFK_STATE_MANIFEST:
	case DFK_STATE_MANIFEST_WAIT_RESET:
		assert_int_equal(dnload(d, 0, blk, 16), S_OK);
		assert_int_equal(getstatus_at(d, st, 0, NULL), S_OK);
		if (real) { /* DNBUSY in real timing: wait it out */
			*now = 1000;
			assert_int_equal(getstatus_at(d, st, *now, NULL), S_OK);
		}
		assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
		assert_int_equal(dnload_at(d, 1, NULL, 0, *now), S_OK);
		if (state == DFK_STATE_MANIFEST_SYNC)
			break;
		assert_int_equal(getstatus_at(d, st, *now, NULL), S_OK);
		assert_int_equal(st[4], DFK_STATE_MANIFEST);
		if (state == DFK_STATE_MANIFEST)
			break;
		assert_int_equal(getstatus_at(d, st, *now, NULL), S_OK);
		break;
	case DFK_STATE_UPLOAD_IDLE:
		assert_int_equal(upload(d, 0, buf, 1024, &n), S_OK);
		assert_int_equal(n, 1024);
		break;
	case DFK_STATE_ERROR: assert_int_equal(simple(d, DFK_REQ_CLRSTATUS), S_STALL); break;
	default: fail();
	}
	assert_int_equal(d->state, state);
	return d;
}

static int request(emu_device *d, uint8_t req, uint64_t now)
{
	uint8_t buf[1024];
	switch (req) {
	case DFK_REQ_DETACH: return ctl(d, 0x21, req, 100, 0, NULL, 0, NULL, now);
	case DFK_REQ_DNLOAD: return dnload_at(d, 1, blk, 16, now);
	case DFK_REQ_UPLOAD: return ctl(d, 0xA1, req, 0, 0, buf, 1024, NULL, now);
	case DFK_REQ_GETSTATUS: return ctl(d, 0xA1, req, 0, 0, buf, 6, NULL, now);
	case DFK_REQ_GETSTATE: return ctl(d, 0xA1, req, 0, 0, buf, 1, NULL, now);
	default: return ctl(d, 0x21, req, 0, 0, NULL, 0, NULL, now);
	}
}

/* One row per state: for DETACH, DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS,
 * GETSTATE, ABORT the URB result and the state after it. */
static const struct row {
	uint8_t state;
	struct {
		int rc;
		uint8_t next;
	} r[7];
} table[] = {
    {DFK_STATE_APP_IDLE, {{S_OK, 1}, {S_STALL, 0}, {S_STALL, 0}, {S_OK, 0}, {S_STALL, 0}, {S_OK, 0}, {S_STALL, 0}}},
    {DFK_STATE_APP_DETACH,
     {{S_STALL, 0}, {S_STALL, 0}, {S_STALL, 0}, {S_OK, 1}, {S_STALL, 0}, {S_OK, 1}, {S_STALL, 0}}},
    {DFK_STATE_IDLE, {{S_STALL, 10}, {S_OK, 3}, {S_OK, 9}, {S_OK, 2}, {S_STALL, 10}, {S_OK, 2}, {S_OK, 2}}},
    {DFK_STATE_DNLOAD_SYNC,
     {{S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_OK, 5}, {S_STALL, 10}, {S_OK, 3}, {S_STALL, 10}}},
    {DFK_STATE_DNBUSY,
     {{S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}}},
    {DFK_STATE_DNLOAD_IDLE, {{S_STALL, 10}, {S_OK, 3}, {S_STALL, 10}, {S_OK, 5}, {S_STALL, 10}, {S_OK, 5}, {S_OK, 2}}},
    {DFK_STATE_MANIFEST_SYNC,
     {{S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_OK, 7}, {S_STALL, 10}, {S_OK, 6}, {S_STALL, 10}}},
    {DFK_STATE_MANIFEST,
     {{S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}}},
    {DFK_STATE_MANIFEST_WAIT_RESET,
     {{S_STALL, 8}, {S_STALL, 8}, {S_STALL, 8}, {S_OK, 8}, {S_STALL, 8}, {S_OK, 8}, {S_STALL, 8}}},
    {DFK_STATE_UPLOAD_IDLE, {{S_STALL, 10}, {S_STALL, 10}, {S_OK, 9}, {S_OK, 9}, {S_STALL, 10}, {S_OK, 9}, {S_OK, 2}}},
    {DFK_STATE_ERROR, {{S_STALL, 10}, {S_STALL, 10}, {S_STALL, 10}, {S_OK, 10}, {S_OK, 2}, {S_OK, 10}, {S_STALL, 10}}},
};

static void test_state_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		for (uint8_t req = 0; req < 7; req++) {
			uint64_t now;
			emu_device *d = into(table[i].state, &now);
			int rc = request(d, req, now);
			if (rc != table[i].r[req].rc || d->state != table[i].r[req].next)
				print_error("state %u request %u: rc %d state %u, expected rc %d state %u\n",
					    table[i].state, req, rc, d->state, table[i].r[req].rc,
					    table[i].r[req].next);
			assert_int_equal(rc, table[i].r[req].rc);
			assert_int_equal(d->state, table[i].r[req].next);
			/* A stall into dfuERROR reports errSTALLEDPKT. */
			if (table[i].state != DFK_STATE_ERROR && d->state == DFK_STATE_ERROR)
				assert_int_equal(d->status, DFK_STATUS_ERR_STALLEDPKT);
			emu_device_free(d);
		}
	}
}

static void test_status_reply(void **state)
{
	(void)state;
	emu_device *d = into(DFK_STATE_ERROR, &(uint64_t){0});
	uint8_t b[6];
	uint32_t n;
	assert_int_equal(getstatus(d, b), S_OK);
	assert_int_equal(b[0], DFK_STATUS_ERR_STALLEDPKT);
	assert_int_equal(poll_of(b), 0);
	assert_int_equal(b[4], DFK_STATE_ERROR);
	assert_int_equal(b[5], 0);
	/* GETSTATUS with a short wLength gets that many bytes */
	assert_int_equal(ctl(d, 0xA1, DFK_REQ_GETSTATUS, 0, 0, b, 3, &n, 0), S_OK);
	assert_int_equal(n, 3);
	/* wrong direction: stall */
	assert_int_equal(ctl(d, 0x21, DFK_REQ_GETSTATUS, 0, 0, b, 6, &n, 0), S_STALL);
	assert_int_equal(ctl(d, 0xA1, DFK_REQ_GETSTATE, 0, 0, b, 1, &n, 0), S_OK);
	assert_int_equal(n, 1);
	assert_int_equal(b[0], DFK_STATE_ERROR);
	emu_device_free(d);
}

static void test_roundtrip(void **state)
{
	(void)state;
	emu_device *d = mkdev("dfu11", EMU_TIMING_FAST);
	to_dfu_mode(d);
	uint8_t img[5000], st[6], back[1024];
	for (size_t i = 0; i < sizeof img; i++)
		img[i] = (uint8_t)(i * 7 + 3);
	uint16_t blkno = 0;
	for (size_t off = 0; off < sizeof img; off += 1024) {
		uint16_t len = (uint16_t)(sizeof img - off < 1024 ? sizeof img - off : 1024);
		assert_int_equal(dnload(d, blkno++, img + off, len), S_OK);
		assert_int_equal(getstatus(d, st), S_OK);
		assert_int_equal(st[0], 0);
		assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	}
	assert_int_equal(dnload(d, blkno, NULL, 0), S_OK);
	assert_int_equal(getstatus(d, st), S_OK);
	assert_int_equal(st[4], DFK_STATE_MANIFEST);
	assert_int_equal(getstatus(d, st), S_OK);
	assert_int_equal(st[4], DFK_STATE_IDLE);
	assert_memory_equal(d->mem[0].data, img, sizeof img);
	assert_int_equal(d->mem[0].data[sizeof img], 0xFF);
	assert_int_equal(d->stats.erased_pages, 5);
	/* upload returns exactly the downloaded image, then a short frame */
	size_t got = 0;
	uint32_t n;
	do {
		assert_int_equal(upload(d, (uint16_t)(got / 1024), back, 1024, &n), S_OK);
		assert_memory_equal(back, img + got, n);
		got += n;
	} while (n == 1024);
	assert_int_equal(got, sizeof img);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	assert_int_equal(d->stats.bytes_down, 5000);
	assert_int_equal(d->stats.bytes_up, 5000);

	/* A second download over the same pages erases them again. */
	memset(img, 0x5A, sizeof img);
	assert_int_equal(dnload(d, 0, img, 1024), S_OK);
	assert_int_equal(getstatus(d, st), S_OK);
	assert_int_equal(st[0], 0);
	assert_memory_equal(d->mem[0].data, img, 1024);

	/* alt 1 (EEPROM): overwritten without erase */
	assert_int_equal(simple(d, DFK_REQ_ABORT), S_OK);
	assert_int_equal(ctl(d, 0x01, 11, 1, 0, NULL, 0, NULL, 0), S_OK);
	assert_int_equal(dnload(d, 0, blk, 16), S_OK);
	assert_int_equal(getstatus(d, st), S_OK);
	assert_int_equal(st[0], 0);
	assert_memory_equal(d->mem[1].data, blk, 16);
	emu_device_free(d);
}

static void test_download_past_end(void **state)
{
	(void)state;
	emu_device *d = mkdev("dfu11", EMU_TIMING_FAST);
	to_dfu_mode(d);
	assert_int_equal(ctl(d, 0x01, 11, 1, 0, NULL, 0, NULL, 0), S_OK); /* EEPROM, 4 KiB */
	uint8_t b[1024] = {0}, st[6];
	for (int i = 0; i < 4; i++) {
		assert_int_equal(dnload(d, (uint16_t)i, b, 1024), S_OK);
		assert_int_equal(getstatus(d, st), S_OK);
		assert_int_equal(st[0], 0);
	}
	assert_int_equal(dnload(d, 4, b, 1024), S_OK);
	assert_int_equal(getstatus(d, st), S_OK);
	assert_int_equal(st[0], DFK_STATUS_ERR_ADDRESS);
	assert_int_equal(st[4], DFK_STATE_ERROR);
	/* more than wTransferSize: stall */
	assert_int_equal(simple(d, DFK_REQ_CLRSTATUS), S_OK);
	uint8_t big[2048] = {0};
	assert_int_equal(dnload(d, 0, big, 2048), S_STALL);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	emu_device_free(d);
}

static void test_detach_variants(void **state)
{
	(void)state;
	/* will-detach: DETACH alone re-enumerates into DFU mode */
	emu_device *d = mkdev("dfu11-will-detach", EMU_TIMING_FAST);
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 1000, 0, NULL, 0, NULL, 0), S_OK);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_NONE);
	emu_usb_identity id;
	emu_device_identity(d, &id);
	assert_int_equal(id.idProduct, 0xdf11);
	assert_int_equal(id.intf_protocol[0], 2);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	emu_device_free(d);

	/* plain: no reset before the detach timeout -> back to appIDLE */
	d = mkdev("dfu11", EMU_TIMING_FAST);
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 200, 0, NULL, 0, NULL, 1000), S_OK);
	assert_int_equal(d->state, DFK_STATE_APP_DETACH);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_NONE);
	uint8_t st[6];
	assert_int_equal(getstatus_at(d, st, 1100, NULL), S_OK);
	assert_int_equal(st[4], DFK_STATE_APP_DETACH);
	assert_int_equal(getstatus_at(d, st, 1300, NULL), S_OK);
	assert_int_equal(st[4], DFK_STATE_APP_IDLE);
	emu_device_bus_reset(d); /* too late: stays in the application */
	assert_true(d->runtime);
	/* a reset after the timer ran out, with no request in between */
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 200, 0, NULL, 0, NULL, 2000), S_OK);
	assert_int_equal(getstatus_at(d, st, 2300, NULL), S_OK);
	assert_int_equal(d->state, DFK_STATE_APP_IDLE);
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 200, 0, NULL, 0, NULL, 3000), S_OK);
	assert_int_equal(ctl(d, 0x80, 0, 0, 0, st, 2, NULL, 3250), S_OK); /* GET_STATUS (standard) */
	assert_int_equal(d->state, DFK_STATE_APP_DETACH);
	emu_device_bus_reset(d);
	assert_true(d->runtime);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_NONE);
	emu_device_identity(d, &id);
	assert_int_equal(id.idProduct, 0xdf10);
	assert_int_equal(id.intf_protocol[0], 1);
	emu_device_free(d);
}

/* Over vhci-hcd the port reset is local: the 64-byte device descriptor
 * read that follows it is the device's cue. */
static void test_vhci_reset_probe(void **state)
{
	(void)state;
	uint8_t b[64];
	uint32_t n;
	emu_device *d = mkdev("dfu11", EMU_TIMING_FAST);
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 64, &n, 0), EMU_URB_OK); /* enumeration: no effect */
	assert_true(d->runtime);
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 1000, 0, NULL, 0, NULL, 10), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 20), EMU_URB_OK); /* a plain read: no reset */
	assert_true(d->runtime);
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 64, &n, 30), EMU_URB_OK);
	assert_false(d->runtime);
	assert_int_equal(n, 18);
	assert_int_equal(emu_le16(b + 10), 0xdf11);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_NONE);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	emu_device_free(d);

	/* too late: the detach timer ran out */
	d = mkdev("dfu11", EMU_TIMING_FAST);
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 100, 0, NULL, 0, NULL, 10), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 64, &n, 500), EMU_URB_OK);
	assert_true(d->runtime);
	emu_device_free(d);
}

static void test_no_upload(void **state)
{
	(void)state;
	emu_device *d = mkdev("dfu11-dnload-only", EMU_TIMING_FAST);
	to_dfu_mode(d);
	uint8_t b[64];
	uint32_t n;
	assert_int_equal(upload(d, 0, b, 64, &n), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(d->status, DFK_STATUS_ERR_STALLEDPKT);
	assert_int_equal(ctl(d, 0x80, 6, 0x2100, 0, b, 9, &n, 0), EMU_URB_OK);
	assert_int_equal(b[2], DFK_ATTR_CAN_DNLOAD | DFK_ATTR_MANIFEST_TOLERANT);
	emu_device_free(d);
}

static void test_wait_reset(void **state)
{
	(void)state;
	uint64_t now;
	emu_device *d = into(DFK_STATE_MANIFEST_WAIT_RESET, &now);
	uint8_t st[6];
	assert_int_equal(getstatus(d, st), S_OK);
	assert_int_equal(st[4], DFK_STATE_MANIFEST_WAIT_RESET);
	emu_device_bus_reset(d);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_true(d->runtime);
	assert_int_equal(d->state, DFK_STATE_APP_IDLE);
	assert_memory_equal(d->mem[0].data, blk, 16);
	emu_device_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_table),	     cmocka_unit_test(test_status_reply),
	    cmocka_unit_test(test_roundtrip),	     cmocka_unit_test(test_download_past_end),
	    cmocka_unit_test(test_detach_variants),  cmocka_unit_test(test_wait_reset),
	    cmocka_unit_test(test_vhci_reset_probe), cmocka_unit_test(test_no_upload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
