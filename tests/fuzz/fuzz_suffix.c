/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DFU suffix parsing on arbitrary bytes. */
#include "dfukit/dfukit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dfk_suffix s;
	dfk_error err;

	(void)dfk_suffix_present(data, size);
	(void)dfk_suffix_parse(data, size, &s, &err);
	return 0;
}
