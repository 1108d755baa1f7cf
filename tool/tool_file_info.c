/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit info FILE [--json]`: what a firmware file holds (any format the
 * library reads), and whether it is valid. The file is loaded once through
 * dfk_firmware_load, which checks everything (suffix CRC included); only when
 * that fails is the suffix decoded again here, to show what it says. */
#include <getopt.h>
#include <string.h>

#include "tool_files.h"

static const char cmd[] = "info";

static void usage(FILE *f)
{
	fprintf(f, "Usage: dfukit info FILE [--json]\n"
		   "Show what a firmware file holds: format, DFU suffix and CRC, prefix, DfuSe targets,\n"
		   "alt settings, names, element addresses and sizes. Reads DfuSe .dfu, raw binaries\n"
		   "(with or without suffix/prefix), Intel HEX, S-record and ELF.\n"
		   "  -j, --json   print one JSON object instead of text\n"
		   "Exit: 0 only when the file is valid; 65 bad data, 66 cannot read, 64 usage.\n");
}

static const char *format_title(dfk_format f)
{
	switch (f) {
	case DFK_FORMAT_RAW: return "raw binary";
	case DFK_FORMAT_DFUSE: return "DfuSe (UM0391)";
	case DFK_FORMAT_IHEX: return "Intel HEX";
	case DFK_FORMAT_SREC: return "Motorola S-record";
	case DFK_FORMAT_ELF: return "ELF";
	case DFK_FORMAT_UNKNOWN: break;
	}
	return "unknown";
}

static const char *prefix_name(dfk_prefix_type t)
{
	switch (t) {
	case DFK_PREFIX_STELLARIS: return "stellaris";
	case DFK_PREFIX_LPC: return "lpc";
	case DFK_PREFIX_NONE: break;
	}
	return "none";
}

/* Names come from the file: never send control characters to the terminal. */
static void print_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

/* The raw view of a file, for the fields dfk_firmware does not keep. */
typedef struct raw_view {
	size_t len;
	bool suffix_present;
	dfk_suffix sfx; /* as stored, valid or not */
	uint32_t crc_computed;
	bool dfuse;
	uint32_t dfuse_image_size;
} raw_view;

static void raw_view_fill(raw_view *rv, const uint8_t *buf, size_t len, bool want_crc)
{
	memset(rv, 0, sizeof(*rv));
	rv->len = len;
	if (dfk_suffix_present(buf, len)) {
		rv->suffix_present = true;
		dfk_suffix_parse(buf, len, &rv->sfx, NULL);
		if (want_crc)
			rv->crc_computed = dfk_dfu_crc(buf, len - 4);
	}
	if (len >= 11 && memcmp(buf, "DfuSe", 5) == 0) {
		rv->dfuse = true;
		rv->dfuse_image_size =
		    (uint32_t)buf[6] | (uint32_t)buf[7] << 8 | (uint32_t)buf[8] << 16 | (uint32_t)buf[9] << 24;
	}
}

static void text_suffix(const raw_view *rv, bool crc_ok)
{
	if (!rv->suffix_present) {
		printf("Suffix:   none\n");
		return;
	}
	printf("Suffix:   bcdDFU 0x%04X%s, idVendor 0x%04X, idProduct 0x%04X, bcdDevice 0x%04X, bLength %u\n",
	       rv->sfx.bcdDFU, rv->sfx.bcdDFU == DFK_BCD_DFU_DFUSE ? " (DfuSe)" : "", rv->sfx.idVendor,
	       rv->sfx.idProduct, rv->sfx.bcdDevice, rv->sfx.bLength);
	if (crc_ok)
		printf("CRC:      0x%08X (valid)\n", rv->sfx.dwCRC);
	else
		printf("CRC:      0x%08X stored, 0x%08X computed%s\n", rv->sfx.dwCRC, rv->crc_computed,
		       rv->sfx.dwCRC == rv->crc_computed ? "" : " (MISMATCH)");
}

static void json_suffix(const raw_view *rv, bool crc_ok)
{
	if (!rv->suffix_present) {
		printf("\"suffix\":null");
		return;
	}
	printf("\"suffix\":{\"bcdDFU\":%u,\"idVendor\":%u,\"idProduct\":%u,\"bcdDevice\":%u,\"bLength\":%u,"
	       "\"crc\":\"0x%08X\",\"crc_valid\":%s}",
	       rv->sfx.bcdDFU, rv->sfx.idVendor, rv->sfx.idProduct, rv->sfx.bcdDevice, rv->sfx.bLength, rv->sfx.dwCRC,
	       crc_ok ? "true" : "false");
}

static void text_fw(const char *path, const raw_view *rv, const dfk_firmware *fw)
{
	printf("File:     %s (%zu bytes)\n", path, rv->len);
	printf("Format:   %s\n", format_title(fw->format));
	if (fw->format == DFK_FORMAT_DFUSE) {
		uint64_t body = rv->len - (fw->has_suffix ? fw->suffix.bLength : 0);
		printf("DfuSe:    version 1, DFUImageSize %u (%s), %zu target(s)\n", rv->dfuse_image_size,
		       rv->dfuse_image_size == body ? "file length without suffix" : "file length with suffix",
		       fw->ntargets);
	}
	text_suffix(rv, true);
	if (fw->prefix != DFK_PREFIX_NONE) {
		printf("Prefix:   %s, %zu bytes", prefix_name(fw->prefix), fw->prefix_len);
		if (fw->prefix == DFK_PREFIX_STELLARIS)
			printf(", address 0x%08X", fw->prefix_address);
		printf("\n");
	}
	for (size_t t = 0; t < fw->ntargets; t++) {
		const dfk_target *tg = &fw->targets[t];
		printf("Target %zu: alt %u, ", t, tg->alt);
		if (tg->named) {
			printf("name \"");
			print_safe(tg->name);
			printf("\"");
		} else {
			printf("unnamed");
		}
		printf(", %zu element(s), %llu bytes\n", tg->image.count,
		       (unsigned long long)dfk_image_bytes(&tg->image));
		for (size_t e = 0; e < tg->image.count; e++) {
			const dfk_element *el = &tg->image.elements[e];
			if (fw->format == DFK_FORMAT_RAW && !fw->addressed)
				printf("  element %zu: no address (plain DFU payload), size %u (0x%X)\n", e, el->size,
				       el->size);
			else
				printf("  element %zu: address 0x%08X, size %u (0x%X), end 0x%08llX\n", e, el->addr,
				       el->size, el->size, (unsigned long long)el->addr + el->size - 1);
		}
	}
	printf("Valid:    yes\n");
}

static void json_fw(const char *path, const raw_view *rv, const dfk_firmware *fw)
{
	printf("{\"file\":");
	tool_json_string(stdout, path);
	printf(",\"size\":%zu,\"valid\":true,\"format\":\"%s\",", rv->len, dfk_format_name(fw->format));
	if (fw->format == DFK_FORMAT_DFUSE)
		printf("\"dfuse_image_size\":%u,", rv->dfuse_image_size);
	json_suffix(rv, true);
	printf(",\"prefix\":");
	if (fw->prefix == DFK_PREFIX_NONE)
		printf("null");
	else
		printf("{\"type\":\"%s\",\"length\":%zu,\"address\":%u}", prefix_name(fw->prefix), fw->prefix_len,
		       fw->prefix_address);
	printf(",\"bytes\":%llu,\"targets\":[", (unsigned long long)dfk_firmware_bytes(fw));
	for (size_t t = 0; t < fw->ntargets; t++) {
		const dfk_target *tg = &fw->targets[t];
		printf("%s{\"index\":%zu,\"alt\":%u,\"name\":", t ? "," : "", t, tg->alt);
		if (tg->named)
			tool_json_string(stdout, tg->name);
		else
			printf("null");
		printf(",\"elements\":[");
		for (size_t e = 0; e < tg->image.count; e++) {
			const dfk_element *el = &tg->image.elements[e];
			printf("%s{\"address\":", e ? "," : "");
			if (fw->format == DFK_FORMAT_RAW && !fw->addressed)
				printf("null");
			else
				printf("%u", el->addr);
			printf(",\"size\":%u}", el->size);
		}
		printf("]}");
	}
	printf("]}\n");
}

int tool_file_info(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	const char *path;
	dfk_firmware fw;
	dfk_error err = {0};
	raw_view rv;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hj", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'j': json = true; break;
		default: return tf_usage(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return tf_usage(cmd, "%s", optind >= argc ? "no file given" : "give exactly one file");
	path = argv[optind];

	dfk_firmware_init(&fw);
	if (dfk_firmware_load(path, NULL, &fw, &err) == DFK_OK && dfk_firmware_bytes(&fw) == 0) {
		/* Well formed but empty (a DfuSe file without targets or elements): nothing to flash. */
		dfk_firmware_free(&fw);
		dfk_error_set(&err, DFK_ERR_DATA, "%s: holds no data (no targets or only empty elements)", path);
	} else if (err.code == DFK_OK) {
		const dfk_blob *b = fw.source;
		raw_view_fill(&rv, b ? b->data : NULL, b ? b->len : 0, false);
		if (json)
			json_fw(path, &rv, &fw);
		else
			text_fw(path, &rv, &fw);
		dfk_firmware_free(&fw);
		return 0;
	}

	/* Invalid: show what can still be read, then the error. */
	{
		dfk_blob blob;
		dfk_error e2 = {0};
		bool readable = dfk_blob_read(path, &blob, &e2) == DFK_OK;

		if (readable)
			raw_view_fill(&rv, blob.data, blob.len, true);
		else
			memset(&rv, 0, sizeof(rv));
		if (json) {
			printf("{\"file\":");
			tool_json_string(stdout, path);
			printf(",\"size\":%zu,\"valid\":false,", rv.len);
			if (readable) {
				printf("\"format\":\"%s\",",
				       dfk_format_name(dfk_format_detect(path, blob.data, blob.len)));
				json_suffix(&rv, rv.suffix_present && rv.sfx.dwCRC == rv.crc_computed);
				printf(",");
			}
			printf("\"error\":{\"code\":\"%s\",\"exit\":%d,\"message\":", dfk_code_name(err.code),
			       tool_exit_status(err.code));
			tool_json_string(stdout, err.msg);
			printf("}}\n");
		} else if (readable) {
			printf("File:     %s (%zu bytes)\n", path, rv.len);
			text_suffix(&rv, false);
			printf("Valid:    no\n");
		}
		if (readable)
			dfk_blob_free(&blob);
	}
	return tf_fail(cmd, &err);
}
