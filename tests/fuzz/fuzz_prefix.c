/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Stellaris and LPC prefix detection on arbitrary bytes. */
#include "dfukit/dfukit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dfk_error err;
	dfk_prefix_type type;
	size_t plen = 0;
	uint32_t addr;

	if (dfk_prefix_detect(data, size, &type, &plen, &addr, &err) == DFK_OK && plen > size)
		__builtin_trap();
	return 0;
}
