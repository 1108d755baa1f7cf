/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit suffix`: dfu-suffix's options and meaning. Unlike dfu-suffix the
 * rewrite goes to a temporary file renamed over the original (dfk_out), and
 * values that do not fit 16 bits are refused instead of truncated. */
#include <getopt.h>
#include <string.h>

#include "tool_files.h"

static const char cmd[] = "suffix";

static void usage(FILE *f)
{
	fprintf(f, "Usage: dfukit suffix (-c|-a|-D) FILE [options]\n"
		   "Check, add or delete the 16-byte DFU suffix at the end of FILE.\n"
		   "  -c, --check FILE    print the suffix; exit 0 only if it is valid (CRC included)\n"
		   "  -a, --add FILE      append a suffix (the file must not have a valid one)\n"
		   "  -D, --delete FILE   remove a valid suffix\n"
		   "  -v, --vid HEX       idVendor for -a (default ffff)\n"
		   "  -p, --pid HEX       idProduct for -a (default ffff)\n"
		   "  -d, --did HEX       bcdDevice for -a (default ffff)\n"
		   "  -S, --spec HEX      bcdDFU for -a: 0100 (default) or 011a (DfuSe)\n"
		   "  -h, --help          this text\n"
		   "  -V, --version       print the version\n"
		   "The file is replaced atomically: on any failure the original is kept.\n"
		   "Exit: 0 ok, 64 usage, 65 bad or missing suffix, 66 cannot read, 73/74 cannot write.\n");
}

/* Reads the raw suffix fields even when the suffix is not valid, for display. */
static void show_fields(const char *path, const uint8_t *buf, size_t len, bool crc_ok)
{
	const uint8_t *s = buf + len - DFK_SUFFIX_LEN;
	uint32_t stored = (uint32_t)s[12] | (uint32_t)s[13] << 8 | (uint32_t)s[14] << 16 | (uint32_t)s[15] << 24;

	printf("File:      %s\n", path);
	printf("bcdDevice: 0x%04X\n", s[0] | s[1] << 8);
	printf("idProduct: 0x%04X\n", s[2] | s[3] << 8);
	printf("idVendor:  0x%04X\n", s[4] | s[5] << 8);
	printf("bcdDFU:    0x%04X\n", s[6] | s[7] << 8);
	printf("bLength:   %u\n", s[11]);
	if (crc_ok)
		printf("dwCRC:     0x%08X (valid)\n", stored);
	else
		printf("dwCRC:     0x%08X (INVALID: computed 0x%08X)\n", stored, dfk_dfu_crc(buf, len - 4));
}

static int do_check(const char *path)
{
	dfk_error err = {0};
	dfk_blob blob;
	dfk_suffix sfx;
	dfk_code rc;

	if (dfk_blob_read(path, &blob, &err) != DFK_OK)
		return tf_fail(cmd, &err);
	rc = dfk_suffix_parse(blob.data, blob.len, &sfx, &err);
	if (dfk_suffix_present(blob.data, blob.len))
		show_fields(path, blob.data, blob.len, rc == DFK_OK);
	dfk_blob_free(&blob);
	if (rc != DFK_OK) {
		dfk_error_prefix(&err, "%s", path);
		return tf_fail(cmd, &err);
	}
	return 0;
}

static int do_add(const char *path, const dfk_suffix *fields)
{
	dfk_error err = {0};
	dfk_blob blob;
	dfk_suffix old;
	int ret;

	if (dfk_blob_read(path, &blob, &err) != DFK_OK)
		return tf_fail(cmd, &err);
	if (dfk_suffix_present(blob.data, blob.len)) {
		if (dfk_suffix_parse(blob.data, blob.len, &old, &err) == DFK_OK) {
			dfk_blob_free(&blob);
			fprintf(stderr, "dfukit suffix: %s already has a valid DFU suffix; delete it first (-D)\n",
				path);
			return 65;
		}
		/* As dfu-suffix: a broken suffix is taken for payload and a new one is appended. */
		fprintf(stderr, "dfukit suffix: warning: %s: %s; treating those bytes as payload\n", path, err.msg);
	}
	ret = tf_rewrite(cmd, path, NULL, 0, blob.data, blob.len, fields);
	dfk_blob_free(&blob);
	if (ret == 0)
		printf("Added DFU suffix to %s\n", path);
	return ret;
}

static int do_delete(const char *path)
{
	dfk_error err = {0};
	dfk_blob blob;
	dfk_suffix sfx;
	int ret;

	if (dfk_blob_read(path, &blob, &err) != DFK_OK)
		return tf_fail(cmd, &err);
	if (dfk_suffix_parse(blob.data, blob.len, &sfx, &err) != DFK_OK) {
		dfk_blob_free(&blob);
		dfk_error_prefix(&err, "%s", path);
		return tf_fail(cmd, &err);
	}
	ret = tf_rewrite(cmd, path, NULL, 0, blob.data, blob.len - sfx.bLength, NULL);
	dfk_blob_free(&blob);
	if (ret == 0)
		printf("Removed DFU suffix from %s\n", path);
	return ret;
}

int tool_file_suffix(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},	      {"version", no_argument, NULL, 'V'},
	    {"check", required_argument, NULL, 'c'},  {"add", required_argument, NULL, 'a'},
	    {"delete", required_argument, NULL, 'D'}, {"vid", required_argument, NULL, 'v'},
	    {"pid", required_argument, NULL, 'p'},    {"did", required_argument, NULL, 'd'},
	    {"spec", required_argument, NULL, 'S'},   {NULL, 0, NULL, 0},
	};
	dfk_suffix fields = {.bcdDevice = 0xFFFF, .idProduct = 0xFFFF, .idVendor = 0xFFFF, .bcdDFU = 0x0100};
	const char *file = NULL;
	int mode = 0, c;
	uint16_t *dst;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hVc:a:D:v:p:d:S:", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'V': tool_version(stdout); return 0;
		case 'c':
		case 'a':
		case 'D':
			if (tf_mode_opt(cmd, c, optarg, &mode, &file))
				return 64;
			break;
		case 'v':
		case 'p':
		case 'd':
		case 'S':
			dst = c == 'v'	 ? &fields.idVendor
			      : c == 'p' ? &fields.idProduct
			      : c == 'd' ? &fields.bcdDevice
					 : &fields.bcdDFU;
			if (!tf_parse_u16_hex(optarg, dst))
				return tf_usage(cmd, "-%c needs a hex value from 0 to ffff, not '%s'", c, optarg);
			if (c == 'S' && fields.bcdDFU != 0x0100 && fields.bcdDFU != 0x011A)
				return tf_usage(cmd, "-S: only DFU specification 0x0100 and 0x011a exist, not 0x%04x",
						fields.bcdDFU);
			break;
		case ':': return tf_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
		default: return tf_usage(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (tf_mode_end(cmd, argc, argv, mode))
		return 64;
	if (mode == 'c')
		return do_check(file);
	if (mode == 'a')
		return do_add(file, &fields);
	return do_delete(file);
}
