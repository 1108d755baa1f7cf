/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: file formats. CRC, DFU suffix, prefixes, DfuSe .dfu, Intel HEX,
 * S-record, ELF, and the loader that turns any of them into a dfk_firmware.
 *
 * Parsers work on memory (const uint8_t *, length) and report problems as
 * DFK_ERR_DATA with the offset (or line) and what is wrong; the file-level
 * functions prefix the file name. All are reentrant: any thread, on its own
 * objects (a dfk_out by one thread at a time). */
#ifndef DFUKIT_FORMATS_H
#define DFUKIT_FORMATS_H

#include "dfukit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"
#include "dfukit/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CRC (zlib) ---- */
/* zlib's running CRC-32 (start with 0). */
DFK_API uint32_t dfk_crc32_update(uint32_t crc, const void *data, size_t len);
/* The DFU suffix dwCRC of data: ~crc32(data). "123456789" -> 0x340BC6D9. */
DFK_API uint32_t dfk_dfu_crc(const void *data, size_t len);

/* ---- DFU suffix (last 16 bytes of a file) ---- */
#define DFK_SUFFIX_LEN 16
#define DFK_BCD_DFU_PLAIN 0x0100
#define DFK_BCD_DFU_DFUSE 0x011A
/* True when the last bytes carry the "UFD" signature (CRC not checked). */
DFK_API bool dfk_suffix_present(const uint8_t *buf, size_t len);
/* Parses and validates the suffix at the end of buf: signature, bLength
 * (16..len), and CRC over all but the last 4 bytes. */
DFK_API dfk_code dfk_suffix_parse(const uint8_t *buf, size_t len, dfk_suffix *out, dfk_error *err);
/* Writes the 16 suffix bytes for a payload whose running zlib CRC is
 * payload_crc (dfk_crc32_update over the payload); fields->dwCRC and
 * fields->bLength are ignored (16 is written). */
DFK_API void dfk_suffix_build(uint8_t out[DFK_SUFFIX_LEN], const dfk_suffix *fields, uint32_t payload_crc);

/* ---- Prefixes ---- */
/* Detects a Stellaris or LPC prefix at the start of buf (heuristic, as the
 * peers do). Sets *type (NONE when absent), *len and *address. */
DFK_API dfk_code dfk_prefix_detect(const uint8_t *buf, size_t len, dfk_prefix_type *type, size_t *prefix_len,
				   uint32_t *address, dfk_error *err);
/* Builds a prefix for a payload of payload_len bytes into out (16 bytes
 * room), sets *out_len. Stellaris needs a 1 KiB-aligned address. */
DFK_API dfk_code dfk_prefix_build(dfk_prefix_type type, uint32_t address, uint64_t payload_len, uint8_t out[16],
				  size_t *out_len, dfk_error *err);

/* ---- Reading files and writing them atomically ---- */
typedef struct dfk_blob {
	uint8_t *data;
	size_t len;
	int kind; /* private: how data was obtained (mmap, malloc) */
} dfk_blob;
/* Reads a whole file ("-" = stdin). Missing/unreadable -> DFK_ERR_NOINPUT. */
DFK_API dfk_code dfk_blob_read(const char *path, dfk_blob *blob, dfk_error *err);
DFK_API void dfk_blob_free(dfk_blob *blob);

/* An output written to a temporary file beside path and renamed over it by
 * dfk_out_commit, so an existing file is never half-overwritten. Only a
 * regular file is ever replaced: "-" is standard output, a character device
 * or FIFO is opened and written in place (as dd does), a symbolic link is
 * followed and what it names is replaced (the link stays), and a directory,
 * socket or block device is refused (DFK_ERR_CANTCREAT). */
typedef struct dfk_out dfk_out;
#define DFK_OUT_OVERWRITE 1u /* replace an existing file; else DFK_ERR_EXISTS */
/* fsync the file and its directory before the rename: for data that exists
 * nowhere else (a device read-out). Without it the rename still never
 * exposes a partial file, but a power cut may lose the new contents. */
#define DFK_OUT_SYNC 2u
DFK_API dfk_code dfk_out_open(dfk_out **out, const char *path, unsigned flags, dfk_error *err);
DFK_API dfk_code dfk_out_write(dfk_out *out, const void *data, size_t len, dfk_error *err);
DFK_API uint32_t dfk_out_crc(const dfk_out *out); /* running zlib CRC of all bytes written */
DFK_API uint64_t dfk_out_size(const dfk_out *out);
DFK_API dfk_code dfk_out_commit(dfk_out *out, dfk_error *err); /* always frees out */
DFK_API void dfk_out_abort(dfk_out *out);		       /* removes the temp file, frees */

/* ---- DfuSe .dfu (UM0391) ---- */
/* Parses a DfuSe container; len excludes the suffix. DFUImageSize may be len
 * or len + 16. Elements borrow from buf. */
DFK_API dfk_code dfk_dfuse_parse(const uint8_t *buf, size_t len, dfk_firmware *fw, dfk_error *err);
/* Writes prefix, targets and a suffix (bcdDFU 0x011A); DFUImageSize is the
 * file length without the suffix. */
DFK_API dfk_code dfk_dfuse_write(dfk_out *out, const dfk_firmware *fw, uint16_t vid, uint16_t pid, uint16_t bcd_device,
				 dfk_error *err);

/* ---- Intel HEX, S-record, ELF ---- */
DFK_API dfk_code dfk_ihex_parse(const uint8_t *buf, size_t len, dfk_image *img, dfk_error *err);
DFK_API dfk_code dfk_ihex_write(dfk_out *out, const dfk_image *img, dfk_error *err);
/* name (256 bytes, may be NULL) receives the S0 header text. */
DFK_API dfk_code dfk_srec_parse(const uint8_t *buf, size_t len, dfk_image *img, char *name, dfk_error *err);
DFK_API dfk_code dfk_elf_parse(const uint8_t *buf, size_t len, dfk_image *img, dfk_error *err);

/* ---- Any file to a firmware ---- */
/* How to read a file. An extensible option struct (see dfukit.h): set up
 * with dfk_load_opts_init, then change fields. NULL means the defaults. */
typedef struct dfk_load_opts {
	size_t size;	   /* set by dfk_load_opts_init */
	dfk_format format; /* UNKNOWN: detect from content, then extension */
	bool has_address;  /* raw binaries: place at address */
	uint32_t address;
	uint8_t alt; /* target alt for non-DfuSe inputs */
} dfk_load_opts;
/* Format detected, no address, alt 0. */
DFK_API void dfk_load_opts_init(dfk_load_opts *o);
DFK_API dfk_format dfk_format_detect(const char *path, const uint8_t *buf, size_t len);
DFK_API const char *dfk_format_name(dfk_format fmt);
/* Loads path into fw (initialised by the caller). A valid suffix is parsed
 * and stripped; a present suffix with a bad CRC is DFK_ERR_DATA. opts not
 * initialised: DFK_ERR_USAGE. */
DFK_API dfk_code dfk_firmware_load(const char *path, const dfk_load_opts *opts, dfk_firmware *fw, dfk_error *err);

#ifdef __cplusplus
}
#endif
#endif
