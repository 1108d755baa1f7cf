/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
#include "dynbuf.h"

#include <stdint.h>
#include <stdlib.h>

dfk_code dfk_grow(void **p, size_t *cap, size_t need, size_t elsz, size_t max, const char *what, dfk_error *err)
{
	if (need <= *cap)
		return DFK_OK;
	if (need > max || elsz == 0 || need > SIZE_MAX / elsz)
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: more than %zu entries", what, max);
	size_t ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap = ncap > max / 2 ? max : ncap * 2;
	if (ncap > SIZE_MAX / elsz)
		ncap = need;
	void *np = realloc(*p, ncap * elsz);
	if (!np)
		return dfk_error_set(err, DFK_ERR_NOMEM, "%s: out of memory for %zu entries", what, ncap);
	*p = np;
	*cap = ncap;
	return DFK_OK;
}
