/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The memory image: a sorted array of non-overlapping elements.  Inputs
 * usually arrive in address order, so the insert position is found by
 * binary search and an append costs no move. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/image.h"
#include "dynbuf.h"

#define SPACE_4G ((uint64_t)1 << 32)

void dfk_image_init(dfk_image *img)
{
	img->elements = NULL;
	img->count = 0;
	img->cap = 0;
}

void dfk_image_free(dfk_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->count; i++)
		if (!img->elements[i].borrowed)
			free(img->elements[i].data);
	free(img->elements);
	dfk_image_init(img);
}

/* Index of the first element starting above addr. */
static size_t upper_bound(const dfk_image *img, uint32_t addr)
{
	size_t lo = 0, hi = img->count;

	if (hi > 0 && img->elements[hi - 1].addr <= addr)
		return hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (img->elements[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static dfk_code overlap(const dfk_element *e, uint32_t addr, size_t len, dfk_error *err)
{
	return dfk_error_set(err, DFK_ERR_DATA,
			     "range 0x%08" PRIX32 "-0x%08" PRIX64 " overlaps range 0x%08" PRIX32 "-0x%08" PRIX64, addr,
			     (uint64_t)addr + len - 1, e->addr, (uint64_t)e->addr + e->size - 1);
}

static dfk_code insert(dfk_image *img, uint32_t addr, uint8_t *data, size_t len, bool borrowed, dfk_error *err)
{
	size_t pos;

	if (len == 0)
		return dfk_error_set(err, DFK_ERR_DATA, "empty range at 0x%08" PRIX32, addr);
	if ((uint64_t)addr + len > SPACE_4G || len > UINT32_MAX)
		return dfk_error_set(err, DFK_ERR_DATA,
				     "range at 0x%08" PRIX32 " of %zu bytes passes the 4 GiB address space", addr, len);
	pos = upper_bound(img, addr);
	if (pos > 0) {
		const dfk_element *prev = &img->elements[pos - 1];
		if ((uint64_t)prev->addr + prev->size > addr)
			return overlap(prev, addr, len, err);
	}
	if (pos < img->count && (uint64_t)addr + len > img->elements[pos].addr)
		return overlap(&img->elements[pos], addr, len, err);
	void *elements = img->elements;
	dfk_code rc =
	    dfk_grow(&elements, &img->cap, img->count + 1, sizeof(dfk_element), SIZE_MAX, "memory image ranges", err);
	img->elements = elements;
	if (rc != DFK_OK)
		return rc;
	memmove(&img->elements[pos + 1], &img->elements[pos], (img->count - pos) * sizeof(dfk_element));
	img->elements[pos] = (dfk_element){.addr = addr, .size = (uint32_t)len, .data = data, .borrowed = borrowed};
	img->count++;
	return DFK_OK;
}

dfk_code dfk_image_add(dfk_image *img, uint32_t addr, const void *data, size_t len, dfk_error *err)
{
	uint8_t *copy;

	if (len == 0 || len > UINT32_MAX || (uint64_t)addr + len > SPACE_4G)
		return insert(img, addr, NULL, len, true, err); /* reports the error */
	copy = malloc(len);
	if (!copy)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory for %zu bytes at 0x%08" PRIX32, len, addr);
	memcpy(copy, data, len);
	return dfk_image_add_owned(img, addr, copy, len, err);
}

dfk_code dfk_image_add_owned(dfk_image *img, uint32_t addr, uint8_t *data, size_t len, dfk_error *err)
{
	dfk_code rc = insert(img, addr, data, len, false, err);
	if (rc != DFK_OK)
		free(data);
	return rc;
}

dfk_code dfk_image_add_ref(dfk_image *img, uint32_t addr, const uint8_t *data, size_t len, dfk_error *err)
{
	/* The cast only drops const for storage; borrowed data is never written or freed. */
	return insert(img, addr, (uint8_t *)(uintptr_t)data, len, true, err);
}

dfk_code dfk_image_coalesce(dfk_image *img, dfk_error *err)
{
	size_t out = 0;

	for (size_t i = 0; i < img->count;) {
		size_t j = i + 1;
		uint64_t total = img->elements[i].size;

		while (j < img->count &&
		       (uint64_t)img->elements[j - 1].addr + img->elements[j - 1].size == img->elements[j].addr &&
		       total + img->elements[j].size <= UINT32_MAX) {
			total += img->elements[j].size;
			j++;
		}
		if (j > i + 1) {
			uint8_t *merged = malloc((size_t)total), *p;
			if (!merged) {
				/* Nothing lost: the elements already compacted are valid. */
				memmove(&img->elements[out], &img->elements[i], (img->count - i) * sizeof(dfk_element));
				img->count = out + img->count - i;
				return dfk_error_set(err, DFK_ERR_NOMEM,
						     "out of memory merging %llu bytes at 0x%08" PRIX32,
						     (unsigned long long)total, img->elements[out].addr);
			}
			p = merged;
			for (size_t k = i; k < j; k++) {
				memcpy(p, img->elements[k].data, img->elements[k].size);
				p += img->elements[k].size;
				if (!img->elements[k].borrowed)
					free(img->elements[k].data);
			}
			img->elements[out] = (dfk_element){
			    .addr = img->elements[i].addr, .size = (uint32_t)total, .data = merged, .borrowed = false};
		} else {
			img->elements[out] = img->elements[i];
		}
		out++;
		i = j;
	}
	img->count = out;
	return DFK_OK;
}

uint64_t dfk_image_bytes(const dfk_image *img)
{
	uint64_t n = 0;

	for (size_t i = 0; i < img->count; i++)
		n += img->elements[i].size;
	return n;
}
