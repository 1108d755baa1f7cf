/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Reading the extensible option structs callers fill in. */
#include "opts.h"

#include <stdint.h>
#include <string.h>

dfk_code dfk__opts_check(size_t size, size_t min_size, const char *what, const char *init, dfk_error *err)
{
	if (size < min_size || size > DFK__OPTS_MAX_SIZE)
		return dfk_error_set(err, DFK_ERR_USAGE, "%s not initialised (size field %zu): call %s() first", what,
				     size, init);
	return DFK_OK;
}

dfk_code dfk__opts_read(void *dst, size_t dst_size, const void *src, size_t min_size, const char *what,
			const char *init, dfk_error *err)
{
	size_t size;
	dfk_code code;

	memcpy(&size, src, sizeof(size));
	code = dfk__opts_check(size, min_size, what, init, err);
	if (code)
		return code;
	/* A newer caller's struct: what this library does not know must be
	 * left as its init function set it (zero). */
	for (size_t i = dst_size; i < size; i++)
		if (((const uint8_t *)src)[i] != 0)
			return dfk_error_set(err, DFK_ERR_UNSUPPORTED,
					     "%s: an option this version of libdfukit does not know is set (byte %zu "
					     "of %zu; this version knows %zu)",
					     what, i, size, dst_size);
	memcpy((uint8_t *)dst + sizeof(size), (const uint8_t *)src + sizeof(size),
	       (size < dst_size ? size : dst_size) - sizeof(size));
	return DFK_OK;
}
