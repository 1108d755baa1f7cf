/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfk_firmware and the loader: detection, suffix handling, prefixes, raw
 * placement, dispatch, errors naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/formats.h"

static char dir[64];

static const char *path_in(const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/dfk-fw-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "123456789" + suffix by dfu-suffix -v 0483 -p df11 -a */
static const uint8_t peer_file[25] = {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0xff, 0xff, 0x11, 0xdf,
				      0x83, 0x04, 0x00, 0x01, 0x55, 0x46, 0x44, 0x10, 0x8b, 0x1e, 0x39, 0x39};

static void targets(void **state)
{
	dfk_firmware fw;
	dfk_target *t;
	char longname[400];
	(void)state;
	dfk_firmware_init(&fw);
	assert_int_equal(fw.ntargets, 0);
	t = dfk_firmware_add_target(&fw, 3, NULL, NULL);
	assert_non_null(t);
	assert_int_equal(t->alt, 3);
	assert_false(t->named);
	assert_int_equal(dfk_image_add(&t->image, 0, "abc", 3, NULL), DFK_OK);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	t = dfk_firmware_add_target(&fw, 4, longname, NULL);
	assert_true(t->named);
	assert_int_equal(strlen(t->name), 255);
	assert_int_equal(dfk_image_add(&t->image, 0, "abcd", 4, NULL), DFK_OK);
	assert_int_equal(dfk_firmware_bytes(&fw), 7);
	dfk_firmware_free(&fw);
	assert_int_equal(fw.ntargets, 0);
	assert_null(fw.targets);
	dfk_firmware_free(&fw);
}

static void detect(void **state)
{
	(void)state;
	assert_int_equal(dfk_format_detect("x.bin", (const uint8_t *)"DfuSe\x01", 6), DFK_FORMAT_DFUSE);
	assert_int_equal(dfk_format_detect("x", (const uint8_t *)":10000000", 9), DFK_FORMAT_IHEX);
	assert_int_equal(dfk_format_detect("x", (const uint8_t *)"S00600", 6), DFK_FORMAT_SREC);
	/* .bin stays raw when its bytes look like text records */
	assert_int_equal(dfk_format_detect("x.bin", (const uint8_t *)":10000000", 9), DFK_FORMAT_RAW);
	assert_int_equal(dfk_format_detect("x.bin", (const uint8_t *)"S00600", 6), DFK_FORMAT_RAW);
	assert_int_equal(dfk_format_detect("x.bin",
					   (const uint8_t *)"\x7f"
							    "ELF\x01",
					   5),
			 DFK_FORMAT_ELF);
	/* content wins over the extension */
	assert_int_equal(dfk_format_detect("x.hex", (const uint8_t *)"DfuSe", 5), DFK_FORMAT_DFUSE);
	/* then the extension, any case */
	assert_int_equal(dfk_format_detect("x.dfu", (const uint8_t *)"\0\0", 2), DFK_FORMAT_DFUSE);
	{
		/* A plain DFU file named .dfu (suffix bcdDFU 0x0100) is raw data;
		 * with a DfuSe suffix but no signature it is a damaged DfuSe file. */
		uint8_t f[20] = {0xAA, 0xBB, 0xCC, 0xDD, 0xff, 0xff, 0x11, 0xdf,
				 0x83, 0x04, 0x00, 0x01, 'U',  'F',  'D',  16};
		assert_int_equal(dfk_format_detect("x.dfu", f, sizeof(f)), DFK_FORMAT_RAW);
		f[10] = 0x1A;
		f[11] = 0x01;
		assert_int_equal(dfk_format_detect("x.dfu", f, sizeof(f)), DFK_FORMAT_DFUSE);
	}
	assert_int_equal(dfk_format_detect("x.HEX", (const uint8_t *)"\0", 1), DFK_FORMAT_IHEX);
	assert_int_equal(dfk_format_detect("x.ihx", NULL, 0), DFK_FORMAT_IHEX);
	assert_int_equal(dfk_format_detect("a/b.srec", NULL, 0), DFK_FORMAT_SREC);
	assert_int_equal(dfk_format_detect("x.s19", NULL, 0), DFK_FORMAT_SREC);
	assert_int_equal(dfk_format_detect("x.s28", NULL, 0), DFK_FORMAT_SREC);
	assert_int_equal(dfk_format_detect("x.s37", NULL, 0), DFK_FORMAT_SREC);
	assert_int_equal(dfk_format_detect("x.mot", NULL, 0), DFK_FORMAT_SREC);
	assert_int_equal(dfk_format_detect("x.elf", NULL, 0), DFK_FORMAT_ELF);
	assert_int_equal(dfk_format_detect("x.axf", NULL, 0), DFK_FORMAT_ELF);
	/* else raw */
	assert_int_equal(dfk_format_detect("x.bin", (const uint8_t *)":x", 2), DFK_FORMAT_RAW);
	assert_int_equal(dfk_format_detect("x.bin", (const uint8_t *)"Sx", 2), DFK_FORMAT_RAW);
	assert_int_equal(dfk_format_detect("hex", NULL, 0), DFK_FORMAT_RAW);
	assert_int_equal(dfk_format_detect(".hex", NULL, 0), DFK_FORMAT_RAW);
	assert_int_equal(dfk_format_detect(NULL, NULL, 0), DFK_FORMAT_RAW);
	assert_string_equal(dfk_format_name(DFK_FORMAT_DFUSE), "dfuse");
	assert_string_equal(dfk_format_name(DFK_FORMAT_RAW), "raw");
	assert_string_equal(dfk_format_name(DFK_FORMAT_IHEX), "ihex");
	assert_string_equal(dfk_format_name(DFK_FORMAT_SREC), "srec");
	assert_string_equal(dfk_format_name(DFK_FORMAT_ELF), "elf");
	assert_string_equal(dfk_format_name((dfk_format)99), "unknown");
}

static dfk_load_opts load_opts(uint8_t alt, bool has_address, uint32_t address)
{
	dfk_load_opts o;
	dfk_load_opts_init(&o);
	o.alt = alt;
	o.has_address = has_address;
	o.address = address;
	return o;
}

static void load_opts_not_initialised(void **state)
{
	dfk_firmware fw;
	dfk_load_opts zero;
	dfk_error err;
	(void)state;
	write_file(path_in("z.bin"), "abc", 3);
	memset(&zero, 0, sizeof(zero));
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_firmware_load(path_in("z.bin"), &zero, &fw, &err), DFK_ERR_USAGE);
	assert_non_null(strstr(err.msg, "dfk_load_opts_init"));
	assert_int_equal(fw.ntargets, 0);
	/* NULL: the defaults. */
	assert_int_equal(dfk_firmware_load(path_in("z.bin"), NULL, &fw, &err), DFK_OK);
	assert_int_equal(fw.ntargets, 1);
	assert_int_equal(fw.targets[0].alt, 0);
	dfk_firmware_free(&fw);
}

static void raw_with_suffix(void **state)
{
	dfk_firmware fw;
	dfk_load_opts o = load_opts(2, false, 0);
	dfk_error err;
	(void)state;
	write_file(path_in("s.bin"), peer_file, sizeof(peer_file));
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_firmware_load(path_in("s.bin"), &o, &fw, &err), DFK_OK);
	assert_int_equal(fw.format, DFK_FORMAT_RAW);
	assert_false(fw.addressed);
	assert_true(fw.has_suffix);
	assert_int_equal(fw.suffix.idVendor, 0x0483);
	assert_int_equal(fw.suffix.dwCRC, 0x39391E8B);
	assert_int_equal(fw.prefix, DFK_PREFIX_NONE);
	assert_int_equal(fw.ntargets, 1);
	assert_int_equal(fw.targets[0].alt, 2);
	assert_int_equal(fw.targets[0].image.count, 1);
	assert_int_equal(fw.targets[0].image.elements[0].addr, 0);
	assert_int_equal(fw.targets[0].image.elements[0].size, 9);
	assert_true(fw.targets[0].image.elements[0].borrowed);
	assert_memory_equal(fw.targets[0].image.elements[0].data, "123456789", 9);
	assert_non_null(fw.source);
	dfk_firmware_free(&fw);
	assert_null(fw.source);

	/* at an address, no suffix, NULL opts */
	write_file(path_in("p.bin"), "payload", 7);
	o.has_address = true;
	o.address = 0x08004000;
	assert_int_equal(dfk_firmware_load(path_in("p.bin"), &o, &fw, &err), DFK_OK);
	assert_true(fw.addressed);
	assert_false(fw.has_suffix);
	assert_int_equal(fw.targets[0].image.elements[0].addr, 0x08004000);
	assert_int_equal(fw.targets[0].image.elements[0].size, 7);
	/* loading into a used firmware is refused */
	assert_int_equal(dfk_firmware_load(path_in("p.bin"), &o, &fw, &err), DFK_ERR_SOFTWARE);
	dfk_firmware_free(&fw);
	assert_int_equal(dfk_firmware_load(path_in("p.bin"), NULL, &fw, &err), DFK_OK);
	assert_false(fw.addressed);
	assert_int_equal(fw.targets[0].alt, 0);
	dfk_firmware_free(&fw);

	/* address + size past 4 GiB */
	o.address = 0xFFFFFFFC;
	assert_int_equal(dfk_firmware_load(path_in("p.bin"), &o, &fw, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "p.bin: "));
	assert_int_equal(fw.ntargets, 0);
}

static void bad_inputs(void **state)
{
	dfk_firmware fw;
	dfk_error err;
	uint8_t f[25];
	(void)state;
	dfk_firmware_init(&fw);

	memcpy(f, peer_file, sizeof(f));
	f[0] = '0';
	write_file(path_in("crc.bin"), f, sizeof(f));
	assert_int_equal(dfk_firmware_load(path_in("crc.bin"), NULL, &fw, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "crc.bin: "));
	assert_non_null(strstr(err.msg, "0x39391E8B"));
	{
		char computed[16];
		snprintf(computed, sizeof(computed), "0x%08X", dfk_dfu_crc(f, 21));
		assert_non_null(strstr(err.msg, computed));
	}
	assert_int_equal(fw.ntargets, 0);
	assert_null(fw.source);

	assert_int_equal(dfk_firmware_load(path_in("none.bin"), NULL, &fw, &err), DFK_ERR_NOINPUT);
	assert_non_null(strstr(err.msg, "none.bin"));

	write_file(path_in("empty.bin"), "", 0);
	assert_int_equal(dfk_firmware_load(path_in("empty.bin"), NULL, &fw, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "empty.bin: "));
	assert_non_null(strstr(err.msg, "empty"));

	/* only a suffix */
	write_file(path_in("only.bin"), peer_file + 9, 16);
	{
		uint8_t s[16];
		dfk_suffix fields = {.bcdDevice = 0xFFFF, .idProduct = 1, .idVendor = 2, .bcdDFU = 0x100};
		dfk_suffix_build(s, &fields, 0);
		write_file(path_in("only.bin"), s, 16);
	}
	assert_int_equal(dfk_firmware_load(path_in("only.bin"), NULL, &fw, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "only.bin: "));

	/* broken DfuSe container: message has file name and offset */
	write_file(path_in("t.dfu"), "DfuSe\x01\x00\x00\x00\x00\x01", 11);
	assert_int_equal(dfk_firmware_load(path_in("t.dfu"), NULL, &fw, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "t.dfu: offset"));

	/* an ELF signature with nothing behind it goes to the ELF reader and fails */
	write_file(path_in("x.bin"),
		   "\x7f"
		   "ELF",
		   4);
	assert_int_equal(dfk_firmware_load(path_in("x.bin"), NULL, &fw, &err), DFK_ERR_DATA);
	assert_non_null(strstr(err.msg, "x.bin: "));
	assert_int_equal(fw.ntargets, 0);
}

static void stellaris_prefix(void **state)
{
	uint8_t f[8 + 100 + 16], pre[16];
	size_t n;
	dfk_suffix fields = {.bcdDevice = 0xFFFF, .idProduct = 0xFFFF, .idVendor = 0xFFFF, .bcdDFU = 0x100};
	dfk_firmware fw;
	(void)state;
	assert_int_equal(dfk_prefix_build(DFK_PREFIX_STELLARIS, 0x2000, 100, pre, &n, NULL), DFK_OK);
	memcpy(f, pre, 8);
	memset(f + 8, 0x77, 100);
	dfk_suffix_build(f + 108, &fields, dfk_crc32_update(0, f, 108));
	write_file(path_in("st.bin"), f, sizeof(f));
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_firmware_load(path_in("st.bin"), NULL, &fw, NULL), DFK_OK);
	assert_int_equal(fw.prefix, DFK_PREFIX_STELLARIS);
	assert_int_equal(fw.prefix_len, 8);
	assert_int_equal(fw.prefix_address, 0x2000);
	/* the prefix stays in the payload, as dfu-util sends it */
	assert_int_equal(fw.targets[0].image.elements[0].size, 108);
	dfk_firmware_free(&fw);
}

static void dfuse_roundtrip(void **state)
{
	dfk_firmware fw, back;
	dfk_target *t;
	dfk_out *o;
	dfk_load_opts opts = load_opts(7, true, 5);
	(void)state;
	dfk_firmware_init(&fw);
	t = dfk_firmware_add_target(&fw, 1, "Flash", NULL);
	assert_int_equal(dfk_image_add(&t->image, 0x08000000, "abcdef", 6, NULL), DFK_OK);
	t = dfk_firmware_add_target(&fw, 2, NULL, NULL);
	assert_int_equal(dfk_image_add(&t->image, 0x1FFF7800, "ob", 2, NULL), DFK_OK);
	assert_int_equal(dfk_out_open(&o, path_in("fw.img"), 0, NULL), DFK_OK);
	assert_int_equal(dfk_dfuse_write(o, &fw, 0x1209, 0x0001, 0x0200, NULL), DFK_OK);
	assert_int_equal(dfk_out_commit(o, NULL), DFK_OK);
	dfk_firmware_free(&fw);

	/* detected by content (no .dfu extension); raw-only options do not apply */
	dfk_firmware_init(&back);
	assert_int_equal(dfk_firmware_load(path_in("fw.img"), &opts, &back, NULL), DFK_OK);
	assert_int_equal(back.format, DFK_FORMAT_DFUSE);
	assert_true(back.has_suffix);
	assert_int_equal(back.suffix.bcdDFU, 0x011A);
	assert_int_equal(back.suffix.idVendor, 0x1209);
	assert_int_equal(back.suffix.bcdDevice, 0x0200);
	assert_int_equal(back.ntargets, 2);
	assert_string_equal(back.targets[0].name, "Flash");
	assert_int_equal(back.targets[1].alt, 2);
	assert_int_equal(back.targets[1].image.elements[0].addr, 0x1FFF7800);
	assert_true(back.targets[1].image.elements[0].borrowed);
	dfk_firmware_free(&back);
}

static void text_formats(void **state)
{
	static const char hex[] = ":0400000001020304F2\n:00000001FF\n";
	static const char srec[] = "S0060000686472BB\nS107000001020304EE\nS9030000FC\n";
	dfk_firmware fw;
	dfk_load_opts o = load_opts(1, false, 0);
	dfk_error err;
	(void)state;
	write_file(path_in("a.hex"), hex, strlen(hex));
	dfk_firmware_init(&fw);
	assert_int_equal(dfk_firmware_load(path_in("a.hex"), &o, &fw, &err), DFK_OK);
	assert_int_equal(fw.format, DFK_FORMAT_IHEX);
	assert_int_equal(fw.targets[0].alt, 1);
	assert_int_equal(dfk_firmware_bytes(&fw), 4);
	assert_memory_equal(fw.targets[0].image.elements[0].data, "\x01\x02\x03\x04", 4);
	dfk_firmware_free(&fw);

	write_file(path_in("a.txt"), srec, strlen(srec));
	assert_int_equal(dfk_firmware_load(path_in("a.txt"), NULL, &fw, &err), DFK_OK);
	assert_int_equal(fw.format, DFK_FORMAT_SREC);
	assert_true(fw.targets[0].named);
	assert_string_equal(fw.targets[0].name, "hdr");
	assert_int_equal(dfk_firmware_bytes(&fw), 4);
	dfk_firmware_free(&fw);

	/* the format can be forced: the same text loaded raw */
	o.format = DFK_FORMAT_RAW;
	assert_int_equal(dfk_firmware_load(path_in("a.hex"), &o, &fw, &err), DFK_OK);
	assert_int_equal(fw.format, DFK_FORMAT_RAW);
	assert_int_equal(dfk_firmware_bytes(&fw), strlen(hex));
	dfk_firmware_free(&fw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(targets),		cmocka_unit_test(detect),
	    cmocka_unit_test(raw_with_suffix),	cmocka_unit_test(bad_inputs),
	    cmocka_unit_test(stellaris_prefix), cmocka_unit_test(dfuse_roundtrip),
	    cmocka_unit_test(text_formats),	cmocka_unit_test(load_opts_not_initialised),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
