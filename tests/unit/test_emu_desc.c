/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Device descriptions (emu/emu_desc.c, doc/device-format.md): the built-in
 * files, defaults, inheritance of the run-time mode, strings, contents,
 * quirks, timing tables, USB bus time, composite devices, the functional
 * descriptor's length and placement, and the error messages. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_emu_util.h"

/* A description from text; fails the test with the message if it does not parse. */
static emu_profile *parse_ok(const char *json)
{
	char err[512] = "";
	emu_profile *p = emu_desc_parse(json, strlen(json), "t.json", NULL, err, sizeof err);
	if (!p)
		print_error("%s\n", err);
	assert_non_null(p);
	return p;
}

/* The message of a description that must not parse. */
static void parse_bad(const char *json, const char *want)
{
	char err[512] = "";
	emu_profile *p = emu_desc_parse(json, strlen(json), "t.json", NULL, err, sizeof err);
	if (p || strcmp(err, want) != 0)
		print_error("got \"%s\"\nwant \"%s\"\n", p ? "(parsed)" : err, want);
	assert_null(p);
	assert_string_equal(err, want);
}

static emu_device *dev_of(const emu_profile *p, emu_timing timing)
{
	emu_config cfg = {.desc = p, .timing = timing};
	char err[256] = "";
	emu_device *d = emu_device_new(&cfg, err, sizeof err);
	if (!d)
		print_error("%s\n", err);
	assert_non_null(d);
	return d;
}

#define MINIMAL_ALTS "\"alts\": [{\"memory\": [{\"pages\": 4, \"page_size\": 1024}]}]"
#define MINIMAL "{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, " MINIMAL_ALTS "}}"

static void test_builtins(void **state)
{
	(void)state;
	assert_true(emu_nbuiltins >= 9);
	for (size_t i = 0; i < emu_nbuiltins; i++) {
		char err[256] = "";
		emu_profile *p = emu_profile_builtin(emu_builtins[i].name, err, sizeof err);
		if (!p)
			print_error("%s\n", err);
		assert_non_null(p);
		assert_string_equal(emu_profile_name(p), emu_builtins[i].name);
		assert_non_null(p->desc);
		assert_true(strlen(p->desc) > 10);
		assert_true(p->nalts >= 1);
		emu_profile_free(p);
	}
	char err[256];
	assert_null(emu_profile_builtin("nope", err, sizeof err));
	assert_string_equal(err, "unknown profile 'nope' (see --list-profiles)");
	assert_null(emu_profile_builtin(NULL, err, sizeof err));
}

static void test_defaults(void **state)
{
	(void)state;
	emu_profile *p = parse_ok(MINIMAL);
	assert_string_equal(p->name, "t");
	assert_false(p->dfuse);
	assert_false(p->has_runtime);
	const emu_mode_def *m = &p->mode[0];
	assert_int_equal(m->vid, 1);
	assert_int_equal(m->pid, 2);
	assert_int_equal(m->bcd, 0);
	assert_int_equal(m->bcd_usb, 0x0200);
	assert_int_equal(m->ep0_size, 64);
	assert_int_equal(m->config_attrs, 0xC0);
	assert_int_equal(m->max_power, 50);
	assert_int_equal(m->nlangids, 1);
	assert_int_equal(m->langids[0], 0x0409);
	assert_int_equal(m->manufacturer.kind, EMU_STR_NONE);
	assert_int_equal(m->serial.kind, EMU_STR_NONE);
	assert_int_equal(m->nintfs, 0);
	assert_int_equal(m->dfu_intf, 0);
	assert_int_equal(m->func.length, 9);
	assert_int_equal(m->func.attrs, DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD);
	assert_int_equal(m->func.detach_timeout, 255);
	assert_int_equal(m->func.xfer_size, 1024);
	assert_int_equal(m->func.bcd_dfu, 0x0110);
	assert_int_equal(m->func.place, EMU_FUNC_END);
	assert_int_equal(p->alts[0].kind, EMU_MEM_FLASH);
	assert_int_equal(p->alts[0].size, 4096);
	assert_int_equal(p->alts[0].segs[0].rights, EMU_R | EMU_E | EMU_W);
	assert_int_equal(p->alts[0].fill, 0xFF);
	assert_int_equal(p->start_state, DFK_STATE_IDLE);
	assert_int_equal(p->start_status, DFK_STATUS_OK);
	assert_int_equal(p->quirks, 0);
	assert_int_equal(p->t.early, EMU_EARLY_SPEC);
	assert_int_equal(p->t.report_pct, 100);
	assert_int_equal(p->rdp_alt, -1);
	assert_false(p->has_unprotect);
	assert_string_equal(emu_profile_busid(p), "");
	assert_int_equal(emu_profile_devnum(p), 0);
	assert_null(emu_profile_serial(p));
	assert_int_equal(emu_profile_memsize(p), 4096);

	/* A device of it: no strings at all, DFU mode, dfuIDLE. */
	emu_device *d = dev_of(p, EMU_TIMING_FAST);
	uint8_t b[255];
	uint32_t n;
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 0), EMU_URB_OK);
	assert_int_equal(b[14], 0);
	assert_int_equal(b[15], 0);
	assert_int_equal(b[16], 0);
	assert_int_equal(ctl(d, 0x80, 6, 0x0301, 0x409, b, 255, &n, 0), EMU_URB_STALL);
	assert_int_equal(ctl(d, 0x80, 6, 0x0304, 0x409, b, 255, &n, 0), EMU_URB_STALL);
	assert_null(emu_device_serial(d));
	assert_false(d->runtime);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	emu_device_free(d);
	emu_profile_free(p);
}

static void test_runtime_inherits(void **state)
{
	(void)state;
	emu_profile *p =
	    parse_ok("{\"dfu_mode\": {\"device\": {\"vid\": \"0x1234\", \"pid\": \"0x0001\", \"bcd_device\": "
		     "\"0x0100\", \"manufacturer\": \"M\", \"product\": \"P\", \"serial\": \"S1\", "
		     "\"langids\": [1033, 1031]}, \"functional\": {\"attributes\": [\"can_download\", "
		     "\"will_detach\"], \"transfer_size\": 256}, " MINIMAL_ALTS "},"
		     " \"runtime\": {\"device\": {\"pid\": 2, \"product\": \"App\"}, \"interface_name\": "
		     "\"rt\", \"functional\": {\"detach_timeout\": 50}},"
		     " \"power_on\": {\"mode\": \"runtime\", \"state\": 10, \"status\": \"errVENDOR\"}}");
	const emu_mode_def *r = &p->mode[1];
	assert_true(p->has_runtime);
	assert_true(p->starts_runtime);
	assert_int_equal(r->vid, 0x1234);
	assert_int_equal(r->pid, 2);
	assert_int_equal(r->bcd, 0x0100);
	assert_string_equal(r->manufacturer.text, "M");
	assert_string_equal(r->product.text, "App");
	assert_string_equal(r->serial.text, "S1");
	assert_int_equal(r->nlangids, 2);
	assert_int_equal(r->langids[1], 1031);
	assert_int_equal(r->func.attrs, DFK_ATTR_CAN_DNLOAD | DFK_ATTR_WILL_DETACH);
	assert_int_equal(r->func.xfer_size, 256);
	assert_int_equal(r->func.detach_timeout, 50);
	assert_int_equal(p->mode[0].func.detach_timeout, 255);
	assert_string_equal(r->dfu_name.text, "rt");
	assert_int_equal(p->start_state, DFK_STATE_ERROR);
	assert_int_equal(p->start_status, DFK_STATUS_ERR_VENDOR);
	assert_string_equal(emu_profile_serial(p), "S1");

	emu_device *d = dev_of(p, EMU_TIMING_FAST);
	uint8_t b[255];
	uint32_t n;
	assert_true(d->runtime);
	assert_int_equal(ctl(d, 0x80, 6, 0x0300, 0, b, 255, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 6);
	assert_int_equal(ctl(d, 0x80, 6, 0x0304, 0x409, b, 255, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 6); /* "rt" */
	/* will_detach: DETACH re-enumerates into DFU mode, in dfuERROR/errVENDOR */
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 0, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_false(d->runtime);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(d->status, DFK_STATUS_ERR_VENDOR);
	emu_device_free(d);
	emu_profile_free(p);
}

static void test_strings(void **state)
{
	(void)state;
	emu_profile *p = parse_ok(
	    "{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2, \"manufacturer\": \"\xc3\xa9\xf0\x9f\x98\x80\", "
	    "\"product\": null, \"serial\": {\"bytes\": \"06 03 41 42 43 44\"}, \"langids\": []}, " MINIMAL_ALTS "}}");
	emu_device *d = dev_of(p, EMU_TIMING_FAST);
	uint8_t b[255];
	uint32_t n;
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 0), EMU_URB_OK);
	assert_int_equal(b[14], 1);
	assert_int_equal(b[15], 0);
	assert_int_equal(b[16], 3);
	/* é, then U+1F600 as a surrogate pair */
	assert_int_equal(ctl(d, 0x80, 6, 0x0301, 0x409, b, 255, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(b, ((uint8_t[]){8, 3, 0xE9, 0x00, 0x3D, 0xD8, 0x00, 0xDE}), 8);
	assert_int_equal(ctl(d, 0x80, 6, 0x0302, 0x409, b, 255, &n, 0), EMU_URB_STALL);
	assert_int_equal(ctl(d, 0x80, 6, 0x0303, 0x409, b, 255, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 6);
	assert_memory_equal(b, ((uint8_t[]){6, 3, 'A', 'B', 'C', 'D'}), 6);
	assert_null(emu_device_serial(d));
	assert_int_equal(ctl(d, 0x80, 6, 0x0300, 0, b, 255, &n, 0), EMU_URB_STALL); /* no LANGIDs */
	emu_device_free(d);

	/* --serial replaces a raw serial with text */
	emu_config cfg = {.desc = p, .serial = "TXT"};
	char err[200];
	d = emu_device_new(&cfg, err, sizeof err);
	assert_non_null(d);
	assert_string_equal(emu_device_serial(d), "TXT");
	assert_int_equal(ctl(d, 0x80, 6, 0x0303, 0x409, b, 255, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 8);
	emu_device_free(d);
	emu_profile_free(p);
}

static void test_contents_and_layout(void **state)
{
	(void)state;
	emu_profile *p = parse_ok(
	    "{\"protocol\": \"dfuse\", \"address_pointer\": \"0x08000800\", \"dfu_mode\": {\"device\": {\"vid\": 1, "
	    "\"pid\": 2}, \"alts\": [{\"name\": \"@F /0x08000000/4*2Kg\", \"memory\": [{\"address\": \"0x08000000\", "
	    "\"pages\": 4, \"page_size\": 1024}, {\"address\": \"0x08001000\", \"pages\": 4, \"page_size\": 1024, "
	    "\"rights\": \"r\"}], \"contents\": {\"fill\": 17, \"data\": [{\"address\": \"0x08000FFE\", \"hex\": "
	    "\"a1:a2-a3 a4\"}, {\"offset\": 0, \"base64\": \"AAEC\"}]}}]}, \"quirks\": [\"always-dnbusy\"]}");
	const emu_alt_def *a = &p->alts[0];
	assert_int_equal(a->nsegs, 2);
	assert_int_equal(a->size, 8192);
	assert_int_equal(a->segs[1].rights, EMU_R);
	assert_int_equal(a->segs[1].off, 4096);
	assert_int_equal(a->npatches, 2);
	assert_int_equal(a->patches[0].off, 0xFFE);
	assert_int_equal(p->dfuse_addr, 0x08000800);
	emu_device *d = dev_of(p, EMU_TIMING_FAST);
	const uint8_t *m = d->mem[0].data;
	assert_memory_equal(m, ((uint8_t[]){0, 1, 2, 17}), 4);
	assert_memory_equal(m + 0xFFE, ((uint8_t[]){0xA1, 0xA2, 0xA3, 0xA4, 17}), 5);
	assert_int_equal(d->addr_ptr, 0x08000800);
	/* The real 1 KiB pages, not the advertised 2 KiB: a page erase at
	 * 0x08000400 clears 0x400..0x7FF only. */
	assert_int_equal(dfuse_erase(d, 0x08000400), 0);
	assert_int_equal(m[0x3FF], 17);
	assert_int_equal(m[0x400], 0xFF);
	assert_int_equal(m[0x7FF], 0xFF);
	assert_int_equal(m[0x800], 17);
	/* the read-only segment: no erase */
	assert_int_equal(dfuse_erase(d, 0x08001000), DFK_STATUS_ERR_TARGET);
	emu_device_free(d);
	emu_profile_free(p);

	/* An address range across segments that are not back to back. */
	parse_bad(
	    "{\"protocol\": \"dfuse\", \"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"memory\": "
	    "[{\"address\": 0, \"pages\": 1, \"page_size\": 16}, {\"address\": 64, \"pages\": 1, \"page_size\": 16}], "
	    "\"contents\": {\"data\": [{\"address\": 8, \"hex\": \"0102030405060708090a\"}]}}]}}",
	    "t.json: dfu_mode.alts[0].contents.data[0]: 0x00000008 + 10 bytes: not inside the memory's segments (in "
	    "one piece)");
}

static void test_file_contents(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_emu_desc.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], bin[256];
	snprintf(bin, sizeof bin, "%s/boot.bin", dir);
	FILE *f = fopen(bin, "wb");
	assert_non_null(f);
	fwrite("BOOT", 1, 4, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/dev.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"memory\": [{\"pages\": 1, "
	      "\"page_size\": 64}], \"contents\": {\"data\": [{\"offset\": 60, \"file\": \"boot.bin\"}]}}]}}",
	      f);
	fclose(f);
	bool unreadable = true;
	char err[512] = "";
	emu_profile *p = emu_desc_load(path, &unreadable, err, sizeof err);
	if (!p)
		print_error("%s\n", err);
	assert_non_null(p);
	assert_false(unreadable);
	assert_string_equal(emu_profile_name(p), "dev");
	assert_int_equal(p->alts[0].patches[0].off, 60);
	assert_memory_equal(p->alts[0].patches[0].data, "BOOT", 4);
	emu_profile_free(p);
	/* a built-in description (no directory) may not name files */
	const char *txt =
	    "{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"memory\": [{\"pages\": 1, "
	    "\"page_size\": 64}], \"contents\": {\"data\": [{\"file\": \"boot.bin\"}]}}]}}";
	assert_null(emu_desc_parse(txt, strlen(txt), "b.json", NULL, err, sizeof err));
	assert_string_equal(err, "b.json: dfu_mode.alts[0].contents.data[0].file: files are not allowed here (a "
				 "built-in description)");
	unlink(bin);
	unlink(path);
	snprintf(path, sizeof path, "%s/none.json", dir);
	assert_null(emu_desc_load(path, &unreadable, err, sizeof err));
	assert_true(unreadable);
	rmdir(dir);
}

static void test_quirks(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint32_t bit;
	} q[] = {
	    {"write-unerased-ands", EMU_Q_WRITE_UNERASED_ANDS}, {"clrstatus-errunknown", EMU_Q_CLRSTATUS_ERRUNKNOWN},
	    {"abort-anywhere", EMU_Q_ABORT_ANYWHERE},		{"detach-reenumerates", EMU_Q_DETACH_REENUMERATES},
	    {"stall-keeps-state", EMU_Q_STALL_KEEPS_STATE},	{"always-dnbusy", EMU_Q_ALWAYS_DNBUSY},
	    {"leave-checks-vector", EMU_Q_LEAVE_CHECKS_VECTOR}};
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, " MINIMAL_ALTS
			 "}, \"quirks\": [\"%s\"]}",
			 q[i].name);
		emu_profile *p = parse_ok(json);
		assert_int_equal(p->quirks, q[i].bit);
		emu_profile_free(p);
	}
	static const struct {
		const char *name;
		emu_early early;
	} e[] = {{"busy-naks", EMU_EARLY_NAK},
		 {"busy-answers-dnbusy", EMU_EARLY_BUSY},
		 {"busy-stalls-first-poll", EMU_EARLY_STALL}};
	for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, " MINIMAL_ALTS
			 "}, \"quirks\": [\"%s\"]}",
			 e[i].name);
		emu_profile *p = parse_ok(json);
		assert_int_equal(p->t.early, e[i].early);
		assert_int_equal(p->quirks, 0);
		emu_profile_free(p);
	}
	/* Hostile-descriptor quirks are the desc=NAME faults, always on. */
	emu_profile *p = parse_ok("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, " MINIMAL_ALTS
				  "}, \"quirks\": [\"xfer0\", \"func-missing\"], \"faults\": [\"stall@req=2\"]}");
	assert_int_equal(p->desc_quirks, EMU_D_XFER0 | EMU_D_FUNC_MISSING);
	emu_device *d = dev_of(p, EMU_TIMING_FAST);
	assert_int_equal(d->xfer_size, 0);
	assert_int_equal(d->nfaults, 1);
	uint8_t b[64];
	uint32_t n;
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 0), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x80, 6, 0x0100, 0, b, 18, &n, 0), EMU_URB_STALL); /* the description's fault */
	assert_int_equal(ctl(d, 0x81, 6, 0x2100, 0, b, 9, &n, 0), EMU_URB_STALL);  /* func-missing */
	emu_device_free(d);
	emu_profile_free(p);
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, " MINIMAL_ALTS
		  "}, \"quirks\": [\"abort-anywhere\", \"abort-anywhere\"]}",
		  "t.json: quirks[1]: \"abort-anywhere\" is listed twice");
}

static void test_timing(void **state)
{
	(void)state;
	emu_profile *p =
	    parse_ok("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"functional\": {\"transfer_size\": "
		     "64}, " MINIMAL_ALTS "}, \"timing\": {\"erase_base_ms\": 10, \"erase_us_per_kib\": "
		     "2000, \"erase_page_ms\": [{\"page_size\": 1024, \"ms\": 77}], \"program_ns_per_byte\": "
		     "1500, \"usb_transfer_us\": 300, \"usb_ns_per_byte\": 1000}}");
	emu_device *d = dev_of(p, EMU_TIMING_REAL);
	assert_int_equal(emu_flash_erase_ms(d, 1024), 77); /* from the table */
	assert_int_equal(emu_flash_erase_ms(d, 2048), 14); /* 10 + 2 KiB x 2 ms */
	assert_int_equal(emu_flash_prog_ms(d, 1000), 2);   /* 1.5 ms, rounded up */
	/* Bus time: 300 us + 64 x 1 us a transfer, carried over in ns: ten
	 * 64-byte reads are 3.64 ms, so delays of 3 ms in all. */
	uint32_t total = 0;
	for (int i = 0; i < 10; i++) {
		uint8_t s[8] = {0x80, 6, 0, 2, 0, 0, 64, 0}, buf[64];
		uint32_t actual = 0, delay = 0;
		assert_int_equal(emu_device_control(d, s, buf, &actual, 0, &delay), EMU_URB_OK);
		total += delay;
	}
	assert_int_equal(total, 3);
	emu_device_free(d);
	d = dev_of(p, EMU_TIMING_FAST); /* no bus time when fast */
	for (int i = 0; i < 10; i++) {
		uint8_t s[8] = {0x80, 6, 0, 2, 0, 0, 64, 0}, buf[64];
		uint32_t actual = 0, delay = 0;
		assert_int_equal(emu_device_control(d, s, buf, &actual, 0, &delay), EMU_URB_OK);
		assert_int_equal(delay, 0);
	}
	emu_device_free(d);
	emu_profile_free(p);
}

static void test_composite_and_functional(void **state)
{
	(void)state;
	emu_profile *p = parse_ok(
	    "{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"interfaces\": [{\"class\": 3, \"name\": \"HID\", "
	    "\"descriptors\": \"09 21 11 01 00 01 22 20 00 07 05 81 03 08 00 0a\"}, {\"class\": 255, \"subclass\": 1, "
	    "\"protocol\": 2}], \"dfu_interface\": 1, \"functional\": {\"length\": 7, \"placement\": "
	    "\"after-first-alt\"}, \"alts\": [{\"name\": \"A\", \"memory\": [{\"pages\": 1, \"page_size\": 64}]}, "
	    "{\"name\": \"B\", \"memory\": [{\"pages\": 1, \"page_size\": 64}]}]}}");
	emu_device *d = dev_of(p, EMU_TIMING_FAST);
	uint8_t b[512];
	uint32_t n;
	assert_int_equal(ctl(d, 0x80, 6, 0x0200, 0, b, 512, &n, 0), EMU_URB_OK);
	static const uint8_t want[] = {
	    9, 2,    68,   0,	 3, 1,	  0,	0xC0, 50, /* configuration: 3 interfaces */
	    9, 4,    0,	   0,	 1, 3,	  0,	0,    6,  /* HID, 1 endpoint, string 6 = 4 + 2 alts */
	    9, 0x21, 0x11, 1,	 0, 1,	  0x22, 0x20, 0,  /* its class descriptor */
	    7, 5,    0x81, 3,	 8, 0,	  10,		  /* its endpoint */
	    9, 4,    1,	   0,	 0, 0xFE, 1,	2,    4,  /* DFU alt 0 at interface 1 */
	    7, 0x21, 3,	   0xFF, 0, 0,	  4,		  /* 7-byte functional descriptor, after alt 0 */
	    9, 4,    1,	   1,	 0, 0xFE, 1,	2,    5,  /* DFU alt 1 */
	    9, 4,    2,	   0,	 0, 0xFF, 1,	2,    0}; /* vendor interface 2, no name */
	assert_int_equal(n, sizeof want);
	assert_memory_equal(b, want, sizeof want);
	assert_int_equal(ctl(d, 0x80, 6, 0x0306, 0x409, b, 255, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 8); /* "HID" */
	emu_usb_identity id;
	emu_device_identity(d, &id);
	assert_int_equal(id.bNumInterfaces, 3);
	assert_int_equal(id.intf_class[0], 3);
	assert_int_equal(id.intf_class[1], 0xFE);
	assert_int_equal(id.intf_protocol[1], 2);
	assert_int_equal(id.intf_class[2], 0xFF);
	/* DFU requests go to interface 1; interface 0 stalls them */
	uint8_t st[6];
	assert_int_equal(ctl(d, 0xA1, DFK_REQ_GETSTATUS, 0, 1, st, 6, &n, 0), EMU_URB_OK);
	assert_int_equal(ctl(d, 0xA1, DFK_REQ_GETSTATUS, 0, 0, st, 6, &n, 0), EMU_URB_STALL);
	assert_int_equal(ctl(d, 0x01, 11, 1, 1, NULL, 0, NULL, 0), EMU_URB_OK); /* DFU alt 1 */
	assert_int_equal(d->alt, 1);
	assert_int_equal(ctl(d, 0x01, 11, 1, 0, NULL, 0, NULL, 0), EMU_URB_STALL); /* HID has alt 0 only */
	assert_int_equal(ctl(d, 0x01, 11, 0, 2, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(ctl(d, 0x01, 11, 0, 3, NULL, 0, NULL, 0), EMU_URB_STALL); /* no interface 3 */
	assert_int_equal(ctl(d, 0x81, 10, 0, 1, b, 1, &n, 0), EMU_URB_OK);
	assert_int_equal(b[0], 1);
	assert_int_equal(ctl(d, 0x81, 10, 0, 0, b, 1, &n, 0), EMU_URB_OK);
	assert_int_equal(b[0], 0);
	assert_int_equal(ctl(d, 0x81, 6, 0x2100, 1, b, 9, &n, 0), EMU_URB_OK);
	assert_int_equal(n, 7);
	emu_device_free(d);
	emu_profile_free(p);
}

static void test_messages(void **state)
{
	(void)state;
	parse_bad(
	    "{\"protocol\": \"dfuse\", \"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"name\": "
	    "\"@F/0x0/1*1Kg\"}, {\"memory\": [{\"address\": 0, \"pages\": true, \"page_size\": 1}]}]}}",
	    "t.json: dfu_mode.alts[1].memory[0].pages: expected an integer, not a boolean");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"memory\": [{\"pages\": 1, "
		  "\"page_size\": 1, \"rigths\": \"r\"}]}]}}",
		  "t.json: dfu_mode.alts[0].memory[0]: unknown key \"rigths\" (known here: address, pages, page_size, "
		  "rights)");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"kind\": \"eeprom\", \"memory\": "
		  "[{\"pages\": 1, \"page_size\": 1}]}]}}",
		  "t.json: dfu_mode.alts[0].kind: \"eeprom\" is not one of \"flash\", \"otp\", \"option\", \"ram\"");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"memory\": [{\"pages\": 1, "
		  "\"page_size\": 1, \"rights\": \"rwx\"}]}]}}",
		  "t.json: dfu_mode.alts[0].memory[0].rights: \"rwx\": each of r (read), w (write), e (erase) at most "
		  "once");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"memory\": [{\"pages\": 1, "
		  "\"page_size\": 1}, {\"pages\": 1, \"page_size\": 1}]}]}}",
		  "t.json: dfu_mode.alts[0].memory: a plain DFU memory is one segment (its size), not 2");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": []}}",
		  "t.json: dfu_mode.alts: 0 alt settings: 1 to 32");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2, \"max_packet_size\": 48}, " MINIMAL_ALTS "}}",
		  "t.json: dfu_mode.device.max_packet_size: 48: a full-speed ep0 has 8, 16, 32 or 64");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"dfu_interface\": 1, " MINIMAL_ALTS "}}",
		  "t.json: dfu_mode.dfu_interface: 1 is out of range (0 to 0)");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2, \"serial\": {\"bytes\": \"03\"}}, " MINIMAL_ALTS
		  "}}",
		  "t.json: dfu_mode.device.serial.bytes: 1 bytes: a string descriptor has 2 to 255");
	parse_bad("{\"name\": \"a b\"}", "t.json: name: \"a b\": 1 to 63 letters, digits, '-', '_', '.' or '+'");
	parse_bad("{\"format\": 2}", "t.json: format: 2 is out of range (1 to 1)");
	parse_bad("{\"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, " MINIMAL_ALTS
		  "}, \"timing\": {\"erase_page_ms\": [{\"page_size\": 1024, \"ms\": 1}, {\"page_size\": 1024, \"ms\": "
		  "2}]}}",
		  "t.json: timing.erase_page_ms[1]: page size 1024 is listed twice");
	parse_bad(
	    "{\"protocol\": \"dfuse\", \"dfu_mode\": {\"device\": {\"vid\": 1, \"pid\": 2}, \"alts\": [{\"name\": "
	    "\"@F/0x0/1*1Kg\"}]}, \"read_protection\": {\"alt\": 0, \"offset\": 1024}}",
	    "t.json: read_protection.offset: 1024 is out of range (0 to 1023)");
	parse_bad("{\"a\": \"\\u0000\"", "t.json:1:15: JSON syntax error: unexpected end of data");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtins),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_runtime_inherits),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_contents_and_layout),
	    cmocka_unit_test(test_file_contents),
	    cmocka_unit_test(test_quirks),
	    cmocka_unit_test(test_timing),
	    cmocka_unit_test(test_composite_and_functional),
	    cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
