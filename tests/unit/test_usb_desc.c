/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Descriptor parsers, state/status names, string decoding and sanitising,
 * and dfk_usb_get_string / dfk_usb_control against a scripted fake device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h" /* the fake device is a transport backend */
#include "dfukit/transport.h"
#include "dfukit/usb.h"

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dfk_state_name(DFK_STATE_APP_IDLE), "appIDLE");
	assert_string_equal(dfk_state_name(DFK_STATE_IDLE), "dfuIDLE");
	assert_string_equal(dfk_state_name(DFK_STATE_DNLOAD_SYNC), "dfuDNLOAD-SYNC");
	assert_string_equal(dfk_state_name(DFK_STATE_DNBUSY), "dfuDNBUSY");
	assert_string_equal(dfk_state_name(DFK_STATE_MANIFEST_WAIT_RESET), "dfuMANIFEST-WAIT-RESET");
	assert_string_equal(dfk_state_name(DFK_STATE_UPLOAD_IDLE), "dfuUPLOAD-IDLE");
	assert_string_equal(dfk_state_name(DFK_STATE_ERROR), "dfuERROR");
	assert_string_equal(dfk_state_name(11), "unknown state");
	assert_string_equal(dfk_state_name(~0u), "unknown state");
	assert_string_equal(dfk_status_name(DFK_STATUS_OK), "OK");
	assert_string_equal(dfk_status_name(DFK_STATUS_ERR_TARGET), "errTARGET");
	assert_string_equal(dfk_status_name(DFK_STATUS_ERR_CHECK_ERASED), "errCHECK_ERASED");
	assert_string_equal(dfk_status_name(DFK_STATUS_ERR_ADDRESS), "errADDRESS");
	assert_string_equal(dfk_status_name(DFK_STATUS_ERR_STALLEDPKT), "errSTALLEDPKT");
	assert_string_equal(dfk_status_name(0x10), "unknown status");
	assert_string_equal(dfk_status_name(0xFF), "unknown status");
}

static void test_status_decode(void **state)
{
	const uint8_t b[6] = {0x0A, 0x34, 0x12, 0xAB, 0x0A, 0x05};
	dfk_status st;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_status_decode(b, 6, &st, &err), DFK_OK);
	assert_int_equal(st.status, DFK_STATUS_ERR_FIRMWARE);
	assert_int_equal(st.poll_timeout_ms, 0xAB1234);
	assert_int_equal(st.state, DFK_STATE_ERROR);
	assert_int_equal(st.istring, 5);
	assert_int_equal(dfk_status_decode(b, 5, &st, &err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "5 bytes"));
	assert_int_equal(dfk_status_decode(b, 0, &st, &err), DFK_ERR_PROTOCOL);
	assert_int_equal(dfk_status_decode(NULL, 6, &st, NULL), DFK_ERR_PROTOCOL);
}

static void test_func_desc(void **state)
{
	const uint8_t d11[9] = {9, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01};
	const uint8_t d10[7] = {7, 0x21, 0x03, 0xE8, 0x03, 0x00, 0x04};
	const uint8_t d8[8] = {8, 0x21, 0x03, 0, 0, 0, 4, 0};
	const uint8_t wrongtype[9] = {9, 0x04, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01};
	dfk_func_desc fd;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_func_desc_parse(d11, 9, &fd, &err), DFK_OK);
	assert_int_equal(fd.bLength, 9);
	assert_int_equal(fd.bmAttributes, 0x0B);
	assert_int_equal(fd.wDetachTimeOut, 255);
	assert_int_equal(fd.wTransferSize, 2048);
	assert_int_equal(fd.bcdDFUVersion, 0x011A);
	assert_int_equal(dfk_func_desc_parse(d10, 7, &fd, &err), DFK_OK);
	assert_int_equal(fd.bLength, 7);
	assert_int_equal(fd.wDetachTimeOut, 1000);
	assert_int_equal(fd.wTransferSize, 1024);
	assert_int_equal(fd.bcdDFUVersion, 0x0100);
	assert_int_equal(dfk_func_desc_parse(d8, 8, &fd, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "bLength 8"));
	assert_int_equal(dfk_func_desc_parse(d11, 8, &fd, &err), DFK_ERR_DATA); /* short */
	assert_int_equal(dfk_func_desc_parse(d11, 1, &fd, &err), DFK_ERR_DATA);
	assert_int_equal(dfk_func_desc_parse(wrongtype, 9, &fd, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "0x04"));
}

static void test_device_desc(void **state)
{
	const uint8_t d[18] = {18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x83, 0x04, 0x11, 0xDF, 0x00, 0x22, 1, 2, 3, 1};
	uint8_t bad[18];
	dfk_device_desc dd;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_device_desc_parse(d, 18, &dd, &err), DFK_OK);
	assert_int_equal(dd.bcdUSB, 0x0200);
	assert_int_equal(dd.bMaxPacketSize0, 64);
	assert_int_equal(dd.idVendor, 0x0483);
	assert_int_equal(dd.idProduct, 0xDF11);
	assert_int_equal(dd.bcdDevice, 0x2200);
	assert_int_equal(dd.iManufacturer, 1);
	assert_int_equal(dd.iProduct, 2);
	assert_int_equal(dd.iSerialNumber, 3);
	assert_int_equal(dd.bNumConfigurations, 1);
	assert_int_equal(dfk_device_desc_parse(d, 17, &dd, &err), DFK_ERR_DATA);
	memcpy(bad, d, 18);
	bad[1] = 2;
	assert_int_equal(dfk_device_desc_parse(bad, 18, &dd, &err), DFK_ERR_DATA);
	bad[1] = 1;
	bad[0] = 0;
	assert_int_equal(dfk_device_desc_parse(bad, 18, &dd, &err), DFK_ERR_DATA);
}

/* An STM32 ROM configuration: 4 alts of interface 0, then one DFU 1.1a
 * functional descriptor after the last. */
static size_t st_config(uint8_t *b)
{
	size_t n = 0;
	int alt;
	const uint8_t cfg[9] = {9, 2, 0, 0, 1, 1, 0, 0xC0, 50};
	const uint8_t fd[9] = {9, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01};
	memcpy(b, cfg, 9);
	n = 9;
	for (alt = 0; alt < 4; alt++) {
		const uint8_t itf[9] = {9, 4, 0, (uint8_t)alt, 0, 0xFE, 1, 2, (uint8_t)(4 + alt)};
		memcpy(b + n, itf, 9);
		n += 9;
	}
	memcpy(b + n, fd, 9);
	n += 9;
	b[2] = (uint8_t)n;
	b[3] = (uint8_t)(n >> 8);
	return n;
}

static void test_config_st(void **state)
{
	uint8_t b[128];
	size_t n = st_config(b);
	dfk_config_desc cfg;
	dfk_error err;
	size_t i;
	(void)state;
	assert_int_equal(n, 54);
	assert_int_equal(dfk_config_desc_parse(b, n, &cfg, &err), DFK_OK);
	assert_int_equal(cfg.bConfigurationValue, 1);
	assert_int_equal(cfg.bNumInterfaces, 1);
	assert_int_equal(cfg.nalts, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(cfg.alts[i].index, 0);
		assert_int_equal(cfg.alts[i].bInterfaceNumber, 0);
		assert_int_equal(cfg.alts[i].bAlternateSetting, i);
		assert_int_equal(cfg.alts[i].bInterfaceClass, 0xFE);
		assert_int_equal(cfg.alts[i].bInterfaceSubClass, 1);
		assert_int_equal(cfg.alts[i].bInterfaceProtocol, 2);
		assert_int_equal(cfg.alts[i].iInterface, 4 + i);
	}
	assert_false(cfg.alts[0].has_func);
	assert_true(cfg.alts[3].has_func);
	assert_int_equal(cfg.alts[3].func.bcdDFUVersion, 0x011A);
	assert_true(cfg.has_func);
	assert_int_equal(cfg.func.wTransferSize, 2048);
	dfk_config_desc_free(&cfg);
	assert_null(cfg.alts);
	dfk_config_desc_free(&cfg); /* twice is harmless */
}

/* A composite run-time device: interface 0 (CDC) with an endpoint, interface
 * 2 (DFU run-time) with a DFU 1.0 functional descriptor; an IAD first. */
static void test_config_composite(void **state)
{
	const uint8_t b[] = {
	    9, 2,    0,	   0,	 2,    3,    0,	   0x80, 50, /* config, value 3 */
	    8, 11,   0,	   2,	 2,    2,    1,	   0,	     /* IAD */
	    9, 4,    0,	   0,	 1,    2,    2,	   1,	 0,  /* interface 0 */
	    7, 5,    0x81, 3,	 8,    0,    16,	     /* endpoint */
	    9, 4,    2,	   0,	 0,    0xFE, 1,	   1,	 7,  /* interface 2 (index 1), DFU run-time */
	    7, 0x21, 0x09, 0xFF, 0x00, 0x00, 0x04,	     /* DFU 1.0 functional */
	    3, 0xFF, 0,					     /* an odd vendor descriptor */
	};
	uint8_t buf[sizeof(b)];
	dfk_config_desc cfg;
	(void)state;
	memcpy(buf, b, sizeof(b));
	buf[2] = sizeof(b);
	assert_int_equal(dfk_config_desc_parse(buf, sizeof(b), &cfg, NULL), DFK_OK);
	assert_int_equal(cfg.bConfigurationValue, 3);
	assert_int_equal(cfg.nalts, 2);
	assert_int_equal(cfg.alts[0].index, 0);
	assert_false(cfg.alts[0].has_func);
	assert_int_equal(cfg.alts[1].index, 1);
	assert_int_equal(cfg.alts[1].bInterfaceNumber, 2);
	assert_true(cfg.alts[1].has_func);
	assert_int_equal(cfg.alts[1].func.bLength, 7);
	assert_int_equal(cfg.alts[1].func.bcdDFUVersion, 0x0100);
	assert_int_equal(cfg.alts[1].func.wTransferSize, 1024);
	assert_true(cfg.has_func);
	dfk_config_desc_free(&cfg);
}

static void test_config_hostile(void **state)
{
	uint8_t b[128], h[128];
	size_t n = st_config(b);
	dfk_config_desc cfg;
	dfk_error err;
	size_t cut;
	(void)state;

	/* bLength 0 in the middle: an error, not an endless loop. */
	memcpy(h, b, n);
	h[18] = 0;
	assert_int_equal(dfk_config_desc_parse(h, n, &cfg, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "offset 18"));
	assert_null(cfg.alts);
	/* bLength 1 */
	h[18] = 1;
	assert_int_equal(dfk_config_desc_parse(h, n, &cfg, &err), DFK_ERR_DATA);
	/* a descriptor claiming to run past the end */
	memcpy(h, b, n);
	h[45] = 200;
	assert_int_equal(dfk_config_desc_parse(h, n, &cfg, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "offset 45"));
	/* short interface descriptor */
	memcpy(h, b, n);
	h[9] = 5;
	assert_int_equal(dfk_config_desc_parse(h, n, &cfg, &err), DFK_ERR_DATA);
	/* truncated: wTotalLength says more than was received, at every cut */
	for (cut = 0; cut < n; cut++)
		assert_int_equal(dfk_config_desc_parse(b, cut, &cfg, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "truncated"));
	/* wTotalLength less than bLength; wrong type */
	memcpy(h, b, n);
	h[2] = 5;
	h[3] = 0;
	assert_int_equal(dfk_config_desc_parse(h, n, &cfg, &err), DFK_ERR_DATA);
	memcpy(h, b, n);
	h[1] = 4;
	assert_int_equal(dfk_config_desc_parse(h, n, &cfg, &err), DFK_ERR_DATA);
	/* a stray last byte inside wTotalLength */
	memcpy(h, b, n);
	h[n] = 9;
	h[2] = (uint8_t)(n + 1);
	assert_int_equal(dfk_config_desc_parse(h, n + 1, &cfg, &err), DFK_ERR_DATA);
	/* trailing bytes beyond wTotalLength are ignored */
	memcpy(h, b, n);
	h[n] = 0;
	assert_int_equal(dfk_config_desc_parse(h, n + 1, &cfg, &err), DFK_OK);
	assert_int_equal(cfg.nalts, 4);
	dfk_config_desc_free(&cfg);
	/* a malformed functional descriptor is ignored, not fatal */
	memcpy(h, b, n);
	h[45] = 8; /* bLength 8: neither DFU 1.0 nor 1.1 */
	h[2] = 53;
	assert_int_equal(dfk_config_desc_parse(h, 53, &cfg, &err), DFK_OK);
	assert_false(cfg.has_func);
	assert_false(cfg.alts[3].has_func);
	dfk_config_desc_free(&cfg);
}

static void test_config_many(void **state)
{
	/* 256 distinct interface numbers: index must not wrap or overflow. */
	size_t n = 9 + 256 * 9 + 9;
	uint8_t *b = calloc(1, n);
	dfk_config_desc cfg;
	int i;
	(void)state;
	assert_non_null(b);
	b[0] = 9;
	b[1] = 2;
	for (i = 0; i < 256; i++) {
		uint8_t *d = b + 9 + 9 * i;
		d[0] = 9;
		d[1] = 4;
		d[2] = (uint8_t)(255 - i);
	}
	/* wTotalLength is 16 bits: put the whole set inside it */
	b[2] = (uint8_t)(n - 9);
	b[3] = (uint8_t)((n - 9) >> 8);
	assert_int_equal(dfk_config_desc_parse(b, n, &cfg, NULL), DFK_OK);
	assert_int_equal(cfg.nalts, 256);
	assert_int_equal(cfg.alts[255].index, 255);
	assert_int_equal(cfg.alts[255].bInterfaceNumber, 0);
	dfk_config_desc_free(&cfg);
	free(b);
}

static void test_string_decode(void **state)
{
	/* "Ab" + U+00E9 + U+20AC + U+1F600 (surrogate pair) */
	const uint8_t s[] = {14, 3, 'A', 0, 'b', 0, 0xE9, 0x00, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE};
	char out[64];
	dfk_error err;
	uint8_t h[16];
	(void)state;
	assert_int_equal(dfk_string_desc_decode(s, sizeof(s), out, sizeof(out), &err), DFK_OK);
	assert_string_equal(out, "Ab\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	/* truncated at a character boundary: never half a UTF-8 sequence */
	assert_int_equal(dfk_string_desc_decode(s, sizeof(s), out, 5, &err), DFK_OK);
	assert_string_equal(out, "Ab\xC3\xA9");
	assert_int_equal(dfk_string_desc_decode(s, sizeof(s), out, 4, &err), DFK_OK);
	assert_string_equal(out, "Ab");
	assert_int_equal(dfk_string_desc_decode(s, sizeof(s), out, 1, &err), DFK_OK);
	assert_string_equal(out, "");
	/* bLength larger than what was received: what came is used */
	assert_int_equal(dfk_string_desc_decode(s, 6, out, sizeof(out), &err), DFK_OK);
	assert_string_equal(out, "Ab");
	/* odd length: the half code unit is dropped */
	memcpy(h, s, 7);
	h[0] = 7;
	assert_int_equal(dfk_string_desc_decode(h, 7, out, sizeof(out), &err), DFK_OK);
	assert_string_equal(out, "Ab");
	/* lone surrogates become '?' */
	{
		const uint8_t l[] = {10, 3, 0x3D, 0xD8, 'x', 0, 0x00, 0xDE, 0x3D, 0xD8};
		assert_int_equal(dfk_string_desc_decode(l, sizeof(l), out, sizeof(out), &err), DFK_OK);
		assert_string_equal(out, "?x??");
	}
	/* NUL padding ends the string */
	{
		const uint8_t z[] = {8, 3, 'h', 0, 0, 0, 'i', 0};
		assert_int_equal(dfk_string_desc_decode(z, sizeof(z), out, sizeof(out), &err), DFK_OK);
		assert_string_equal(out, "h");
	}
	/* empty string */
	{
		const uint8_t e[] = {2, 3};
		assert_int_equal(dfk_string_desc_decode(e, 2, out, sizeof(out), &err), DFK_OK);
		assert_string_equal(out, "");
	}
	/* wrong type, short, bLength < 2 */
	memcpy(h, s, 4);
	h[1] = 2;
	assert_int_equal(dfk_string_desc_decode(h, 4, out, sizeof(out), &err), DFK_ERR_DATA);
	assert_string_equal(out, "");
	assert_int_equal(dfk_string_desc_decode(s, 1, out, sizeof(out), &err), DFK_ERR_DATA);
	h[1] = 3;
	h[0] = 1;
	assert_int_equal(dfk_string_desc_decode(h, 4, out, sizeof(out), &err), DFK_ERR_DATA);
	assert_int_equal(dfk_string_desc_decode(s, sizeof(s), out, 0, &err), DFK_ERR_SOFTWARE);
}

static void test_sanitize(void **state)
{
	char out[64];
	(void)state;
	dfk_sanitize("plain @Flash /0x08000000/", out, sizeof(out));
	assert_string_equal(out, "plain @Flash /0x08000000/");
	dfk_sanitize("a\x1b[2Jb\tc\x7f", out, sizeof(out));
	assert_string_equal(out, "a?[2Jb?c?");
	dfk_sanitize("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", out, sizeof(out));
	assert_string_equal(out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	/* invalid: lone continuation, truncated, overlong, surrogate, C1 control, > U+10FFFF */
	dfk_sanitize("\x80x\xC3", out, sizeof(out));
	assert_string_equal(out, "?x?");
	dfk_sanitize("\xC0\xAF", out, sizeof(out));
	assert_string_equal(out, "??");
	dfk_sanitize("\xE0\x80\xAF|\xED\xA0\x80|\xC2\x9B|\xF4\x90\x80\x80", out, sizeof(out));
	assert_string_equal(out, "???|???|??|????");
	/* truncation never splits a character */
	dfk_sanitize("ab\xC3\xA9", out, 4);
	assert_string_equal(out, "ab");
	dfk_sanitize("abcdef", out, 4);
	assert_string_equal(out, "abc");
	dfk_sanitize(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

/* ---- a scripted fake device behind the backend table ---- */
typedef struct fake_reply {
	dfk_code rc;
	const uint8_t *data;
	size_t len;
	size_t claim; /* reported *actual when nonzero (to lie) */
} fake_reply;

/* What a fake device answers, in turn (dfk_usb_node.backend). */
typedef struct fake_script {
	const fake_reply *replies;
	size_t n;
} fake_script;

/* The fake's part of an open handle. */
typedef struct fake_usb {
	const fake_reply *replies;
	size_t nreplies, next;
	dfk_setup seen[8];
} fake_usb;

static dfk_code fake_control(dfk_usb *h, const dfk_setup *setup, uint8_t *data, size_t *actual, unsigned timeout_ms,
			     dfk_error *err)
{
	fake_usb *f = dfk__usb_priv(h);
	const fake_reply *r;
	size_t n;
	(void)timeout_ms;
	assert_true(f->next < f->nreplies);
	f->seen[f->next] = *setup;
	r = &f->replies[f->next++];
	if (r->rc != DFK_OK)
		return dfk_error_set(err, r->rc, "fake failure");
	n = r->len < setup->wLength ? r->len : setup->wLength;
	memcpy(data, r->data, n);
	*actual = r->claim ? r->claim : n;
	return DFK_OK;
}

static int destroyed, closed;
static void fake_destroy(dfk_transport *t)
{
	(void)t;
	destroyed++;
}

static dfk_code fake_open(dfk_transport *t, const dfk_usb_node *node, dfk_usb *h, dfk_error *err)
{
	const fake_script *s = node->backend;
	fake_usb *f = dfk__usb_priv(h);
	(void)t;
	(void)err;
	assert_int_equal(f->next, 0); /* the core hands over a zeroed part */
	f->replies = s->replies;
	f->nreplies = s->n;
	return DFK_OK;
}

static void fake_close(dfk_usb *h)
{
	(void)h;
	closed++;
}

static const dfk_transport_ops fake_ops = {
    .name = "fake",
    .handle_size = sizeof(fake_usb),
    .destroy = fake_destroy,
    .open = fake_open,
    .close = fake_close,
    .control = fake_control,
};

/* A fake transport listing one device, opened. */
typedef struct fake_rig {
	dfk_transport *t;
	fake_script script;
	dfk_usb_node node;
	dfk_usb *h;
	fake_usb *f; /* h's fake part */
} fake_rig;

static void fake_done(fake_rig *g)
{
	dfk_usb_close(g->h);
	dfk_transport_free(g->t);
	memset(g, 0, sizeof(*g));
}

/* g starts zeroed; a rig in use is closed first. */
static void fake_init(fake_rig *g, const fake_reply *r, size_t n)
{
	dfk_error err;
	if (g->t)
		fake_done(g);
	assert_int_equal(dfk__transport_new(&fake_ops, NULL, &g->t, &err), DFK_OK);
	g->script = (fake_script){r, n};
	g->node.transport = g->t; /* as the core's enumeration sets it */
	g->node.backend = &g->script;
	strcpy(g->node.dev.path, "9-9");
	assert_int_equal(dfk_usb_open(g->t, &g->node.dev, &g->h, &err), DFK_OK);
	g->f = dfk__usb_priv(g->h);
}

static const uint8_t langids[] = {6, 3, 0x07, 0x04, 0x09, 0x04};
static const uint8_t hello[] = {10, 3, 'H', 0, 'e', 0, 'y', 0, '!', 0};

static void test_get_string(void **state)
{
	const fake_reply r[] = {
	    {DFK_OK, langids, sizeof(langids), 0},
	    {DFK_OK, hello, sizeof(hello), 0},
	    {DFK_OK, hello, sizeof(hello), 0},
	};
	fake_rig g = {0};
	uint16_t lang = 0;
	char out[32];
	dfk_error err;
	(void)state;
	fake_init(&g, r, 3);
	assert_int_equal(dfk_usb_get_string(g.h, 5, &lang, out, sizeof(out), 100, &err), DFK_OK);
	assert_string_equal(out, "Hey!");
	assert_int_equal(lang, 0x0407); /* the first LANGID */
	assert_int_equal(g.f->seen[0].bmRequestType, 0x80);
	assert_int_equal(g.f->seen[0].bRequest, 6);
	assert_int_equal(g.f->seen[0].wValue, 0x0300);
	assert_int_equal(g.f->seen[0].wIndex, 0);
	assert_int_equal(g.f->seen[1].wValue, 0x0305);
	assert_int_equal(g.f->seen[1].wIndex, 0x0407);
	assert_int_equal(g.f->seen[1].wLength, 255);
	/* the cached LANGID saves the second read of the table */
	assert_int_equal(dfk_usb_get_string(g.h, 6, &lang, out, sizeof(out), 100, &err), DFK_OK);
	assert_int_equal(g.f->next, 3);
	assert_int_equal(g.f->seen[2].wValue, 0x0306);
	/* index 0 is "" and sends nothing */
	assert_int_equal(dfk_usb_get_string(g.h, 0, &lang, out, sizeof(out), 100, &err), DFK_OK);
	assert_string_equal(out, "");
	assert_int_equal(g.f->next, 3);
	fake_done(&g);
}

static void test_get_string_hostile(void **state)
{
	static const uint8_t empty_tab[] = {2, 3};
	static const uint8_t wrong[] = {4, 2, 9, 4};
	static const uint8_t bad_str[] = {4, 1, 'x', 0};
	fake_rig g = {0};
	uint16_t lang = 0;
	char out[32];
	dfk_error err;
	(void)state;
	{ /* empty LANGID table: US English assumed */
		const fake_reply r[] = {{DFK_OK, empty_tab, 2, 0}, {DFK_OK, hello, sizeof(hello), 0}};
		fake_init(&g, r, 2);
		assert_int_equal(dfk_usb_get_string(g.h, 1, &lang, out, sizeof(out), 100, &err), DFK_OK);
		assert_int_equal(lang, 0x0409);
		assert_int_equal(g.f->seen[1].wIndex, 0x0409);
	}
	{ /* wrong type in the table reply */
		const fake_reply r[] = {{DFK_OK, wrong, 4, 0}, {DFK_OK, hello, sizeof(hello), 0}};
		lang = 0;
		fake_init(&g, r, 2);
		assert_int_equal(dfk_usb_get_string(g.h, 1, &lang, out, sizeof(out), 100, &err), DFK_OK);
		assert_int_equal(lang, 0x0409);
	}
	{ /* the table read stalls: the error is passed on, with context */
		const fake_reply r[] = {{DFK_ERR_STALL, NULL, 0, 0}};
		lang = 0;
		fake_init(&g, r, 1);
		assert_int_equal(dfk_usb_get_string(g.h, 1, &lang, out, sizeof(out), 100, &err), DFK_ERR_STALL);
		assert_non_null(strstr(err.msg, "LANGID"));
		assert_int_equal(lang, 0);
	}
	{ /* a string descriptor with the wrong type */
		const fake_reply r[] = {{DFK_OK, bad_str, 4, 0}};
		lang = 0x0409;
		fake_init(&g, r, 1);
		assert_int_equal(dfk_usb_get_string(g.h, 3, &lang, out, sizeof(out), 100, &err), DFK_ERR_DATA);
		assert_non_null(strstr(err.msg, "string descriptor 3"));
	}
	{ /* a zero-length answer */
		const fake_reply r[] = {{DFK_OK, hello, 0, 0}};
		fake_init(&g, r, 1);
		assert_int_equal(dfk_usb_get_string(g.h, 3, &lang, out, sizeof(out), 100, &err), DFK_ERR_DATA);
	}
	{ /* a backend claiming more bytes than wLength */
		const fake_reply r[] = {{DFK_OK, hello, sizeof(hello), 300}};
		fake_init(&g, r, 1);
		assert_int_equal(dfk_usb_get_string(g.h, 3, &lang, out, sizeof(out), 100, &err), DFK_ERR_PROTOCOL);
	}
	{ /* works without a LANGID cache */
		const fake_reply r[] = {{DFK_OK, langids, sizeof(langids), 0}, {DFK_OK, hello, sizeof(hello), 0}};
		fake_init(&g, r, 2);
		assert_int_equal(dfk_usb_get_string(g.h, 3, NULL, out, sizeof(out), 100, &err), DFK_OK);
		assert_string_equal(out, "Hey!");
	}
	fake_done(&g);
}

static void test_control_and_free(void **state)
{
	static const uint8_t st6[6] = {0, 1, 0, 0, 2, 0};
	const fake_reply r[] = {{DFK_OK, st6, 6, 0}, {DFK_ERR_TIMEOUT, NULL, 0, 0}};
	dfk_setup s = {0xA1, DFK_REQ_GETSTATUS, 0, 0, 6};
	uint8_t buf[6];
	size_t got = 99;
	fake_rig g = {0};
	dfk_error err;
	dfk_usb *h;
	dfk_usb_node copy;
	(void)state;
	fake_init(&g, r, 2);
	assert_int_equal(dfk_usb_control(g.h, &s, buf, &got, 100, &err), DFK_OK);
	assert_int_equal(got, 6);
	assert_memory_equal(buf, st6, 6);
	assert_int_equal(dfk_usb_control(g.h, &s, buf, &got, 100, &err), DFK_ERR_TIMEOUT);
	assert_int_equal(got, 0);
	assert_int_equal(dfk_usb_control(NULL, &s, buf, &got, 100, &err), DFK_ERR_SOFTWARE);
	/* Only a device the transport listed opens: not a copy (as an open
	 * dfk_dev keeps), not another transport's. */
	assert_int_equal(dfk__usb_dev_copy(&copy, &g.node.dev, &err), DFK_OK);
	h = g.h;
	assert_int_equal(dfk_usb_open(g.t, &copy.dev, &h, &err), DFK_ERR_USAGE);
	assert_null(h);
	assert_non_null(strstr(err.msg, "9-9"));
	dfk__usb_dev_clear(&copy);
	g.node.transport = NULL;
	assert_int_equal(dfk_usb_open(g.t, &g.node.dev, &h, &err), DFK_ERR_USAGE);
	/* The core closes the handle, then the backend's destroy, then frees. */
	destroyed = closed = 0;
	fake_done(&g);
	assert_int_equal(closed, 1);
	assert_int_equal(destroyed, 1);
	dfk_transport_free(NULL);
	dfk_usb_close(NULL);
	assert_int_equal(destroyed, 1);
	assert_int_equal(closed, 1);
}

/* Deterministic random corruption of a real configuration: never a crash,
 * and every accepted result stays within the bytes given. */
static void test_config_mutations(void **state)
{
	uint8_t b[128], h[128];
	size_t n = st_config(b), k, j;
	uint32_t rng = 777;
	size_t ok = 0, bad = 0;
	(void)state;
	for (k = 0; k < 20000; k++) {
		dfk_config_desc cfg;
		dfk_error err;
		size_t len = n;
		memcpy(h, b, n);
		for (j = 0; j < 1 + k % 4; j++) {
			rng = rng * 1103515245u + 12345u;
			size_t pos = (rng >> 8) % n;
			rng = rng * 1103515245u + 12345u;
			h[pos] = (uint8_t)(rng >> 16);
		}
		if (k % 5 == 0)
			len = (rng >> 4) % (n + 1);
		if (dfk_config_desc_parse(h, len, &cfg, &err) == DFK_OK) {
			ok++;
			assert_true(cfg.nalts <= len / 9);
			for (j = 0; j < cfg.nalts; j++)
				assert_true(cfg.alts[j].index <= j);
			dfk_config_desc_free(&cfg);
		} else {
			bad++;
			assert_null(cfg.alts);
			assert_true(err.msg[0] != '\0');
		}
		/* strings: any bytes decode or fail cleanly, output always valid */
		{
			char out[40], san[40];
			h[1] = 3;
			if (dfk_string_desc_decode(h, len, out, sizeof(out), &err) == DFK_OK) {
				dfk_sanitize(out, san, sizeof(san));
				for (j = 0; san[j]; j++)
					assert_true((unsigned char)san[j] >= 0x20 && san[j] != 0x7F);
			}
		}
	}
	assert_true(ok > 100 && bad > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_status_decode),
	    cmocka_unit_test(test_func_desc),
	    cmocka_unit_test(test_device_desc),
	    cmocka_unit_test(test_config_st),
	    cmocka_unit_test(test_config_composite),
	    cmocka_unit_test(test_config_hostile),
	    cmocka_unit_test(test_config_many),
	    cmocka_unit_test(test_string_decode),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_get_string),
	    cmocka_unit_test(test_get_string_hostile),
	    cmocka_unit_test(test_control_and_free),
	    cmocka_unit_test(test_config_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
