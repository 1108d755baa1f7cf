/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe memory-map strings from a (hostile) device, then a plan over them. */
#include <stdlib.h>
#include <string.h>

#include "dfukit/dfukit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char str[512];
	dfk_memmap map;
	dfk_error err;
	size_t n = size < sizeof(str) - 1 ? size : sizeof(str) - 1;

	memcpy(str, data, n);
	str[n] = '\0';
	memset(&map, 0, sizeof(map));
	if (dfk_memmap_parse(str, &map, &err) == DFK_OK) {
		static const uint8_t bytes[64];
		dfk_image img;
		dfk_plan plan;

		dfk_image_init(&img);
		if (map.count && dfk_image_add_ref(&img, map.segs[0].start, bytes, sizeof(bytes), &err) == DFK_OK &&
		    dfk_plan_build(&img, &map, 0, &plan, &err) == DFK_OK)
			dfk_plan_free(&plan);
		dfk_image_free(&img);
		for (size_t i = 0; i < map.count; i++)
			if (map.segs[i].end > 0x100000000ull || map.segs[i].page_size == 0)
				abort();
		dfk_memmap_free(&map);
	}
	return 0;
}
