/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfk_firmware: the targets a file holds, and the loader that turns any
 * supported file into one. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dfukit/formats.h"
#include "opts.h"

void dfk_firmware_init(dfk_firmware *fw)
{
	memset(fw, 0, sizeof(*fw));
}

void dfk_firmware_free(dfk_firmware *fw)
{
	if (!fw)
		return;
	for (size_t i = 0; i < fw->ntargets; i++)
		dfk_image_free(&fw->targets[i].image);
	free(fw->targets);
	if (fw->source) {
		dfk_blob_free(fw->source);
		free(fw->source);
	}
	dfk_firmware_init(fw);
}

dfk_target *dfk_firmware_add_target(dfk_firmware *fw, uint8_t alt, const char *name, dfk_error *err)
{
	dfk_target *t;

	if (fw->ntargets >= SIZE_MAX / sizeof(*t) - 1) {
		dfk_error_set(err, DFK_ERR_NOMEM, "too many targets");
		return NULL;
	}
	t = realloc(fw->targets, (fw->ntargets + 1) * sizeof(*t));
	if (!t) {
		dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for target %zu", fw->ntargets);
		return NULL;
	}
	fw->targets = t;
	t = &fw->targets[fw->ntargets++];
	memset(t, 0, sizeof(*t));
	t->alt = alt;
	if (name) {
		size_t n = strnlen(name, sizeof(t->name) - 1);
		t->named = true;
		memcpy(t->name, name, n);
		t->name[n] = '\0';
	}
	dfk_image_init(&t->image);
	return t;
}

uint64_t dfk_firmware_bytes(const dfk_firmware *fw)
{
	uint64_t n = 0;

	for (size_t i = 0; i < fw->ntargets; i++)
		n += dfk_image_bytes(&fw->targets[i].image);
	return n;
}

const char *dfk_format_name(dfk_format fmt)
{
	switch (fmt) {
	case DFK_FORMAT_UNKNOWN: return "unknown";
	case DFK_FORMAT_RAW: return "raw";
	case DFK_FORMAT_DFUSE: return "dfuse";
	case DFK_FORMAT_IHEX: return "ihex";
	case DFK_FORMAT_SREC: return "srec";
	case DFK_FORMAT_ELF: return "elf";
	}
	return "unknown";
}

static bool has_ext(const char *path, const char *ext)
{
	size_t n, e = strlen(ext);

	if (!path)
		return false;
	n = strlen(path);
	/* "dir/.hex" is a hidden file without an extension. */
	return n > e + 1 && path[n - e - 1] == '.' && path[n - e - 2] != '/' && strcasecmp(path + n - e, ext) == 0;
}

dfk_format dfk_format_detect(const char *path, const uint8_t *buf, size_t len)
{
	static const struct {
		const char *ext;
		dfk_format fmt;
	} exts[] = {
	    {"dfu", DFK_FORMAT_DFUSE}, {"hex", DFK_FORMAT_IHEX}, {"ihx", DFK_FORMAT_IHEX}, {"srec", DFK_FORMAT_SREC},
	    {"s19", DFK_FORMAT_SREC},  {"s28", DFK_FORMAT_SREC}, {"s37", DFK_FORMAT_SREC}, {"mot", DFK_FORMAT_SREC},
	    {"elf", DFK_FORMAT_ELF},   {"axf", DFK_FORMAT_ELF},
	};

	/* Content first: the signatures are unambiguous enough. */
	if (buf && len >= 5 && memcmp(buf, "DfuSe", 5) == 0)
		return DFK_FORMAT_DFUSE;
	if (buf && len >= 4 &&
	    memcmp(buf,
		   "\x7f"
		   "ELF",
		   4) == 0)
		return DFK_FORMAT_ELF;
	/* A .bin file is raw even when its first bytes happen to read like a
	 * HEX or S-record line (random data does, about 1 time in 100). */
	if (has_ext(path, "bin"))
		return DFK_FORMAT_RAW;
	if (buf && len >= 3 && buf[0] == ':' && isxdigit(buf[1]) && isxdigit(buf[2]))
		return DFK_FORMAT_IHEX;
	if (buf && len >= 2 && buf[0] == 'S' && buf[1] >= '0' && buf[1] <= '9')
		return DFK_FORMAT_SREC;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		if (!has_ext(path, exts[i].ext))
			continue;
		/* Plain DFU files are named .dfu too: with a suffix that says DFU
		 * (not DfuSe, 0x011A) and no "DfuSe" signature they are raw data.
		 * A damaged DfuSe file still goes to the DfuSe parser and fails
		 * there, so it is never sent raw. */
		if (exts[i].fmt == DFK_FORMAT_DFUSE && buf && dfk_suffix_present(buf, len) &&
		    (buf[len - 10] | buf[len - 9] << 8) != DFK_BCD_DFU_DFUSE)
			return DFK_FORMAT_RAW;
		return exts[i].fmt;
	}
	return DFK_FORMAT_RAW;
}

/* Wraps an image parser's result into target 0 (or opts->alt). */
static dfk_code load_image(dfk_format fmt, const uint8_t *buf, size_t len, const dfk_load_opts *opts, dfk_firmware *fw,
			   dfk_error *err)
{
	char name[256] = "";
	dfk_target *t;
	dfk_code rc;

	t = dfk_firmware_add_target(fw, opts ? opts->alt : 0, NULL, err);
	if (!t)
		return err ? err->code : DFK_ERR_NOMEM;
	switch (fmt) {
	case DFK_FORMAT_IHEX: rc = dfk_ihex_parse(buf, len, &t->image, err); break;
	case DFK_FORMAT_SREC: rc = dfk_srec_parse(buf, len, &t->image, name, err); break;
	case DFK_FORMAT_ELF: rc = dfk_elf_parse(buf, len, &t->image, err); break;
	default: return dfk_error_set(err, DFK_ERR_SOFTWARE, "no parser for format %s", dfk_format_name(fmt));
	}
	if (rc != DFK_OK)
		return rc;
	name[sizeof(name) - 1] = '\0';
	if (name[0]) {
		/* The S0 header names the target, as dfuse-pack does. */
		t->named = true;
		memcpy(t->name, name, sizeof(t->name));
	}
	fw->format = fmt;
	fw->addressed = true;
	if (t->image.count == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "no data records");
	return DFK_OK;
}

static dfk_code load_raw(const uint8_t *buf, size_t len, const dfk_load_opts *opts, dfk_firmware *fw, dfk_error *err)
{
	dfk_target *t;
	dfk_code rc;
	uint32_t addr = opts && opts->has_address ? opts->address : 0;

	rc = dfk_prefix_detect(buf, len, &fw->prefix, &fw->prefix_len, &fw->prefix_address, err);
	if (rc != DFK_OK)
		return rc;
	if (len == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "no data after the DFU suffix");
	t = dfk_firmware_add_target(fw, opts ? opts->alt : 0, NULL, err);
	if (!t)
		return err ? err->code : DFK_ERR_NOMEM;
	/* The prefix stays in the payload: dfu-util downloads it too. */
	rc = dfk_image_add_ref(&t->image, addr, buf, len, err);
	if (rc != DFK_OK)
		return rc;
	fw->format = DFK_FORMAT_RAW;
	fw->addressed = opts && opts->has_address;
	return DFK_OK;
}

static dfk_code load_blob(const char *path, const uint8_t *buf, size_t len, const dfk_load_opts *opts, dfk_firmware *fw,
			  dfk_error *err)
{
	dfk_format fmt;
	dfk_code rc;

	if (len == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "file is empty");
	if (dfk_suffix_present(buf, len)) {
		rc = dfk_suffix_parse(buf, len, &fw->suffix, err);
		if (rc != DFK_OK)
			return rc;
		fw->has_suffix = true;
		len -= fw->suffix.bLength;
	}
	fmt = opts && opts->format != DFK_FORMAT_UNKNOWN ? opts->format : dfk_format_detect(path, buf, len);
	switch (fmt) {
	case DFK_FORMAT_DFUSE: return dfk_dfuse_parse(buf, len, fw, err);
	case DFK_FORMAT_IHEX:
	case DFK_FORMAT_SREC:
	case DFK_FORMAT_ELF: return load_image(fmt, buf, len, opts, fw, err);
	case DFK_FORMAT_RAW: return load_raw(buf, len, opts, fw, err);
	case DFK_FORMAT_UNKNOWN: break;
	}
	return dfk_error_set(err, DFK_ERR_USAGE, "unknown format");
}

void dfk_load_opts_init(dfk_load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->format = DFK_FORMAT_UNKNOWN;
}

dfk_code dfk_firmware_load(const char *path, const dfk_load_opts *in, dfk_firmware *fw, dfk_error *err)
{
	const char *shown = path && strcmp(path, "-") == 0 ? "<stdin>" : path;
	dfk_load_opts opts_copy;
	const dfk_load_opts *opts = &opts_copy;
	dfk_blob *blob;
	dfk_code rc;

	dfk_load_opts_init(&opts_copy);
	if (in) {
		rc = dfk__opts_read(&opts_copy, sizeof(opts_copy), in, DFK__OPTS_V1_SIZE(dfk_load_opts, alt),
				    "file loading options", "dfk_load_opts_init", err);
		if (rc)
			return rc;
	}
	if (fw->source || fw->ntargets)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "%s: firmware already holds a file", shown ? shown : "?");
	blob = calloc(1, sizeof(*blob));
	if (!blob)
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory", shown ? shown : "?");
	rc = dfk_blob_read(path, blob, err); /* its messages name the file */
	if (rc != DFK_OK) {
		free(blob);
		return rc;
	}
	/* Elements borrow from the file's bytes, so fw keeps them. */
	fw->source = blob;
	rc = load_blob(path, blob->data, blob->len, opts, fw, err);
	if (rc != DFK_OK) {
		dfk_error_prefix(err, "%s", shown);
		dfk_firmware_free(fw);
	}
	return rc;
}
