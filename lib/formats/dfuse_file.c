/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* ST DfuSe .dfu container (UM0391): "DfuSe" prefix (11 bytes), bTargets
 * target prefixes (274 bytes each) with their elements (address, size,
 * data), then the DFU suffix, which the caller has already removed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/formats.h"

#define PREFIX_LEN 11
#define TARGET_LEN 274
#define ELEMENT_HDR 8
#define NAME_LEN 255

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

typedef struct pending {
	uint32_t addr;
	uint32_t size;
	size_t off; /* of the element header, for messages */
} pending;

static int by_addr(const void *a, const void *b)
{
	const pending *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Parses the elements of one target, [off, off + tsize) of buf, into img.
 * They are sorted first so that a hostile file listing millions of small
 * elements in reverse order cannot make the insertions quadratic. */
static dfk_code parse_elements(const uint8_t *buf, size_t off, uint64_t tsize, uint32_t nb, unsigned t, dfk_image *img,
			       dfk_error *err)
{
	const size_t end = off + (size_t)tsize;
	pending *el;
	size_t n = 0;
	dfk_code rc = DFK_OK;

	/* Every element needs at least its 8-byte header: checked before allocating. */
	if ((uint64_t)nb * ELEMENT_HDR > tsize)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "offset %zu: target %u claims %" PRIu32 " elements, but its %" PRIu64
				     " bytes hold at most %" PRIu64,
				     off - 4, t, nb, tsize, tsize / ELEMENT_HDR);
	if (nb == 0)
		return tsize == 0 ? DFK_OK
				  : dfk_error_set(err, DFK_ERR_DATA,
						  "offset %zu: target %u has no elements but dwTargetSize %" PRIu64,
						  off - 8, t, tsize);
	el = malloc((size_t)nb * sizeof(*el));
	if (!el)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for %" PRIu32 " elements", nb);
	for (uint32_t i = 0; i < nb; i++) {
		uint64_t left = end - off;
		uint32_t size;
		if (left < ELEMENT_HDR) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "offset %zu: element %" PRIu32
					   " of target %u: header needs 8 bytes, %" PRIu64 " left in the target",
					   off, i, t, left);
			goto out;
		}
		size = get32(buf + off + 4);
		if ((uint64_t)size > left - ELEMENT_HDR) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "offset %zu: element %" PRIu32 " of target %u at 0x%08" PRIX32
					   ": size %" PRIu32 " passes the end of the target (%" PRIu64 " bytes left)",
					   off, i, t, get32(buf + off), size, left - ELEMENT_HDR);
			goto out;
		}
		/* An empty element carries nothing to place; skip it. */
		if (size > 0)
			el[n++] = (pending){.addr = get32(buf + off), .size = size, .off = off};
		off += ELEMENT_HDR + (size_t)size;
	}
	if (off != end) {
		rc = dfk_error_set(err, DFK_ERR_DATA,
				   "offset %zu: target %u: dwTargetSize says %" PRIu64 " bytes, its %" PRIu32
				   " elements end %zu bytes earlier",
				   off, t, tsize, nb, end - off);
		goto out;
	}
	qsort(el, n, sizeof(*el), by_addr);
	for (size_t i = 0; i < n; i++) {
		rc = dfk_image_add_ref(img, el[i].addr, buf + el[i].off + ELEMENT_HDR, el[i].size, err);
		if (rc != DFK_OK) {
			dfk_error_prefix(err, "offset %zu: target %u", el[i].off, t);
			goto out;
		}
	}
out:
	free(el);
	return rc;
}

dfk_code dfk_dfuse_parse(const uint8_t *buf, size_t len, dfk_firmware *fw, dfk_error *err)
{
	const size_t first = fw->ntargets;
	uint32_t image_size;
	unsigned ntargets;
	size_t off;
	dfk_code rc = DFK_OK;

	if (!buf || len < PREFIX_LEN)
		return dfk_error_set(err, DFK_ERR_DATA, "offset 0: DfuSe prefix needs 11 bytes, %zu present", len);
	if (memcmp(buf, "DfuSe", 5) != 0)
		return dfk_error_set(err, DFK_ERR_DATA, "offset 0: no \"DfuSe\" signature");
	if (buf[5] != 1)
		return dfk_error_set(err, DFK_ERR_DATA, "offset 5: DfuSe version %u is not supported (only 1)", buf[5]);
	image_size = get32(buf + 6);
	/* UM0391 says the size without the suffix; dfuse-pack (since 0.10)
	 * writes it with the suffix. Both are in use. */
	if (image_size != len && (uint64_t)image_size != (uint64_t)len + DFK_SUFFIX_LEN)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "offset 6: DFUImageSize %" PRIu32 " matches neither the file size without suffix "
				     "(%zu) nor with it (%llu)",
				     image_size, len, (unsigned long long)len + DFK_SUFFIX_LEN);
	ntargets = buf[10];
	if ((uint64_t)ntargets * TARGET_LEN > len - PREFIX_LEN)
		return dfk_error_set(err, DFK_ERR_DATA, "offset 10: %u targets need at least %llu bytes, %zu left",
				     ntargets, (unsigned long long)ntargets * TARGET_LEN, len - PREFIX_LEN);
	off = PREFIX_LEN;
	for (unsigned t = 0; t < ntargets; t++) {
		const uint8_t *tp = buf + off;
		uint64_t left = len - off, tsize;
		char name[NAME_LEN + 1];
		uint32_t nb;
		bool named;
		dfk_target *tgt;

		if (left < TARGET_LEN) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "offset %zu: target %u prefix needs 274 bytes, %" PRIu64 " left", off, t,
					   left);
			goto fail;
		}
		if (memcmp(tp, "Target", 6) != 0) {
			rc = dfk_error_set(err, DFK_ERR_DATA, "offset %zu: target %u has no \"Target\" signature", off,
					   t);
			goto fail;
		}
		named = get32(tp + 7) != 0;
		/* The name field need not hold a NUL; stop at 255 bytes. */
		memcpy(name, tp + 11, NAME_LEN);
		name[NAME_LEN] = '\0';
		tsize = get32(tp + 266);
		nb = get32(tp + 270);
		if (tsize > left - TARGET_LEN) {
			rc = dfk_error_set(err, DFK_ERR_DATA,
					   "offset %zu: target %u dwTargetSize %" PRIu64
					   " passes the end of the file (%" PRIu64 " bytes left)",
					   off + 266, t, tsize, left - TARGET_LEN);
			goto fail;
		}
		tgt = dfk_firmware_add_target(fw, tp[6], named ? name : NULL, err);
		if (!tgt) {
			rc = err ? err->code : DFK_ERR_NOMEM;
			goto fail;
		}
		off += TARGET_LEN;
		rc = parse_elements(buf, off, tsize, nb, t, &tgt->image, err);
		if (rc != DFK_OK)
			goto fail;
		off += (size_t)tsize;
	}
	if (off != len) {
		rc = dfk_error_set(err, DFK_ERR_DATA, "offset %zu: %zu bytes after the last of %u targets", off,
				   len - off, ntargets);
		goto fail;
	}
	fw->format = DFK_FORMAT_DFUSE;
	fw->addressed = true;
	return DFK_OK;

fail:
	/* Leave fw as it came in. */
	while (fw->ntargets > first)
		dfk_image_free(&fw->targets[--fw->ntargets].image);
	return rc;
}

dfk_code dfk_dfuse_write(dfk_out *out, const dfk_firmware *fw, uint16_t vid, uint16_t pid, uint16_t bcd_device,
			 dfk_error *err)
{
	uint64_t total = PREFIX_LEN;
	uint8_t hdr[TARGET_LEN];
	uint8_t suffix[DFK_SUFFIX_LEN];
	dfk_suffix sfx;
	dfk_code rc;

	if (fw->ntargets > 255)
		return dfk_error_set(err, DFK_ERR_DATA, "%zu targets; a DfuSe file holds at most 255", fw->ntargets);
	if (fw->ntargets == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "nothing to write: no targets");
	/* Sizes first: every field must fit its 32 bits before a byte is written. */
	for (size_t t = 0; t < fw->ntargets; t++) {
		const dfk_image *img = &fw->targets[t].image;
		uint64_t tsize = (uint64_t)img->count * ELEMENT_HDR + dfk_image_bytes(img);
		if (img->count > UINT32_MAX || tsize > UINT32_MAX)
			return dfk_error_set(err, DFK_ERR_DATA, "target %zu (alt %u) is too large for a DfuSe file", t,
					     fw->targets[t].alt);
		total += TARGET_LEN + tsize;
	}
	if (total > UINT32_MAX)
		return dfk_error_set(err, DFK_ERR_DATA, "%llu bytes are too large for a DfuSe file (4 GiB max)",
				     (unsigned long long)total);

	memcpy(hdr, "DfuSe", 5);
	hdr[5] = 1;
	put32(hdr + 6, (uint32_t)total);
	hdr[10] = (uint8_t)fw->ntargets;
	rc = dfk_out_write(out, hdr, PREFIX_LEN, err);
	for (size_t t = 0; rc == DFK_OK && t < fw->ntargets; t++) {
		const dfk_target *tgt = &fw->targets[t];
		const dfk_image *img = &tgt->image;

		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, "Target", 6);
		hdr[6] = tgt->alt;
		if (tgt->named) {
			put32(hdr + 7, 1);
			memcpy(hdr + 11, tgt->name, strnlen(tgt->name, NAME_LEN));
		}
		put32(hdr + 266, (uint32_t)(img->count * ELEMENT_HDR + dfk_image_bytes(img)));
		put32(hdr + 270, (uint32_t)img->count);
		rc = dfk_out_write(out, hdr, TARGET_LEN, err);
		for (size_t i = 0; rc == DFK_OK && i < img->count; i++) {
			uint8_t eh[ELEMENT_HDR];
			put32(eh, img->elements[i].addr);
			put32(eh + 4, img->elements[i].size);
			rc = dfk_out_write(out, eh, sizeof(eh), err);
			if (rc == DFK_OK)
				rc = dfk_out_write(out, img->elements[i].data, img->elements[i].size, err);
		}
	}
	if (rc != DFK_OK)
		return rc;
	sfx = (dfk_suffix){.bcdDevice = bcd_device, .idProduct = pid, .idVendor = vid, .bcdDFU = DFK_BCD_DFU_DFUSE};
	dfk_suffix_build(suffix, &sfx, dfk_out_crc(out));
	return dfk_out_write(out, suffix, sizeof(suffix), err);
}
