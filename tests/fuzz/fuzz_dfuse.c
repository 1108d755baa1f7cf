/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe .dfu container parsing: every element must lie inside the input. */
#include "dfukit/dfukit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dfk_firmware fw;
	dfk_error err;

	dfk_firmware_init(&fw);
	if (dfk_dfuse_parse(data, size, &fw, &err) == DFK_OK) {
		for (size_t t = 0; t < fw.ntargets; t++) {
			const dfk_image *img = &fw.targets[t].image;
			for (size_t e = 0; e < img->count; e++) {
				const dfk_element *el = &img->elements[e];
				/* Touch the first and last byte so ASan sees a bad reference. */
				volatile uint8_t sink;
				if (el->size) {
					sink = el->data[0];
					sink = el->data[el->size - 1];
					(void)sink;
				}
			}
		}
	}
	dfk_firmware_free(&fw);
	return 0;
}
