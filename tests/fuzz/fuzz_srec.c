/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* srec parsing into a memory image. */
#include "dfukit/dfukit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dfk_image img;
	dfk_error err;
	char name[256];

	(void)name;
	dfk_image_init(&img);
	if (dfk_srec_parse(data, size, &img, name, &err) == DFK_OK)
		(void)dfk_image_bytes(&img);
	dfk_image_free(&img);
	return 0;
}
