/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: the memory image, the one structure every input and output meets at.
 *
 * A dfk_image is a sorted list of non-overlapping address ranges with their
 * bytes.  A dfk_firmware is what a file holds: one or more targets (DfuSe alt
 * settings, optionally named), each with its image, plus the file's DFU
 * suffix and prefix if any. */
#ifndef DFUKIT_IMAGE_H
#define DFUKIT_IMAGE_H

#include "dfukit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dfk_element {
	uint32_t addr;
	uint32_t size;
	uint8_t *data;
	bool borrowed; /* data points into memory the image does not own */
} dfk_element;

typedef struct dfk_image {
	dfk_element *elements; /* sorted by addr, never overlapping */
	size_t count;
	size_t cap;
} dfk_image;

DFK_API void dfk_image_init(dfk_image *img);
DFK_API void dfk_image_free(dfk_image *img);
/* Adds a copy of [addr, addr+len). Fails with DFK_ERR_DATA naming both ranges
 * when it overlaps an existing element, or when it would pass 4 GiB; len 0 is
 * rejected as DFK_ERR_DATA ("empty"). Adjacent elements are kept separate. */
DFK_API dfk_code dfk_image_add(dfk_image *img, uint32_t addr, const void *data, size_t len, dfk_error *err);
/* As dfk_image_add, but takes ownership of malloc()ed data (freed on failure too). */
DFK_API dfk_code dfk_image_add_owned(dfk_image *img, uint32_t addr, uint8_t *data, size_t len, dfk_error *err);
/* As dfk_image_add, but only references data, which must outlive the image. */
DFK_API dfk_code dfk_image_add_ref(dfk_image *img, uint32_t addr, const uint8_t *data, size_t len, dfk_error *err);
/* Merges elements that touch (end of one == start of the next) into one. */
DFK_API dfk_code dfk_image_coalesce(dfk_image *img, dfk_error *err);
/* Total number of data bytes. */
DFK_API uint64_t dfk_image_bytes(const dfk_image *img);

typedef struct dfk_target {
	uint8_t alt;
	bool named;
	char name[256]; /* NUL-terminated, at most 255 characters */
	dfk_image image;
} dfk_target;

typedef enum dfk_format {
	DFK_FORMAT_UNKNOWN = 0,
	DFK_FORMAT_RAW,	  /* raw binary, maybe with a DFU suffix and/or prefix */
	DFK_FORMAT_DFUSE, /* DfuSe .dfu container (UM0391) */
	DFK_FORMAT_IHEX,  /* Intel HEX */
	DFK_FORMAT_SREC,  /* Motorola S-record */
	DFK_FORMAT_ELF,	  /* ELF32/ELF64, PT_LOAD segments */
} dfk_format;

typedef enum dfk_prefix_type {
	DFK_PREFIX_NONE = 0,
	DFK_PREFIX_STELLARIS, /* TI Stellaris / lm4flash, 8 bytes */
	DFK_PREFIX_LPC,	      /* NXP LPC unencrypted, 16 bytes */
} dfk_prefix_type;

typedef struct dfk_suffix {
	uint16_t bcdDevice;
	uint16_t idProduct;
	uint16_t idVendor;
	uint16_t bcdDFU; /* 0x0100 plain, 0x011A DfuSe */
	uint8_t bLength; /* >= 16 */
	uint32_t dwCRC;	 /* as stored */
} dfk_suffix;

typedef struct dfk_firmware {
	dfk_format format;
	/* RAW only: false when the file gave no address (plain DFU payload, kept
	 * as one element at address 0 of target 0). */
	bool addressed;
	dfk_target *targets;
	size_t ntargets;
	bool has_suffix;
	dfk_suffix suffix;
	dfk_prefix_type prefix;
	size_t prefix_len;
	uint32_t prefix_address; /* Stellaris load address */
	/* Private: the file's bytes when elements borrow from them. */
	void *source;
} dfk_firmware;

DFK_API void dfk_firmware_init(dfk_firmware *fw);
DFK_API void dfk_firmware_free(dfk_firmware *fw);
/* Appends a new target; name may be NULL (unnamed). Returns NULL on ENOMEM. */
DFK_API dfk_target *dfk_firmware_add_target(dfk_firmware *fw, uint8_t alt, const char *name, dfk_error *err);
DFK_API uint64_t dfk_firmware_bytes(const dfk_firmware *fw);

#ifdef __cplusplus
}
#endif
#endif
