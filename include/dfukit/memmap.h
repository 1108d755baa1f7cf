/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: DfuSe memory maps, parsed from an alternate setting's iInterface
 * string such as "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg".
 * Robust against hostile strings: counts, sizes and address sums are checked
 * for overflow, page sizes need not be powers of two, size 0 is rejected. */
#ifndef DFUKIT_MEMMAP_H
#define DFUKIT_MEMMAP_H

#include "dfukit/export.h"

#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	DFK_MEM_READABLE = 1,
	DFK_MEM_ERASABLE = 2,
	DFK_MEM_WRITEABLE = 4,
};

typedef struct dfk_mem_segment {
	uint32_t start;
	uint64_t end; /* exclusive: start + pages * page_size, at most 2^32 */
	uint32_t page_size;
	uint32_t pages;
	uint8_t perms; /* DFK_MEM_* bits */
} dfk_mem_segment;

typedef struct dfk_memmap {
	char name[256];	       /* text between '@' and the first '/', trailing spaces kept */
	dfk_mem_segment *segs; /* in string order */
	size_t count;
} dfk_memmap;

DFK_API dfk_code dfk_memmap_parse(const char *str, dfk_memmap *map, dfk_error *err);
DFK_API void dfk_memmap_free(dfk_memmap *map);
/* The segment holding addr, or NULL. */
DFK_API const dfk_mem_segment *dfk_memmap_find(const dfk_memmap *map, uint32_t addr);
/* Start of the page of seg that holds addr (addr must be inside seg). */
DFK_API uint32_t dfk_mem_page_start(const dfk_mem_segment *seg, uint32_t addr);

#ifdef __cplusplus
}
#endif
#endif
