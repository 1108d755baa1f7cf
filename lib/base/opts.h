/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Extensible option structs (see "Growing without breaking" in
 * dfukit/dfukit.h): the caller's struct starts with a size_t size that its
 * init function sets, and the library reads no byte past it. */
#ifndef DFUKIT_OPTS_H
#define DFUKIT_OPTS_H

#include <stddef.h>

#include "dfukit/error.h"

/* Bigger than any option struct will grow: a larger size is garbage. */
#define DFK__OPTS_MAX_SIZE 4096

/* The end of a struct's last field in its first published version: the
 * smallest size a caller's struct can have. */
#define DFK__OPTS_V1_SIZE(type, last_field) (offsetof(type, last_field) + sizeof(((type *)0)->last_field))

/* DFK_OK when size is that of an initialised struct (min_size..max);
 * DFK_ERR_USAGE otherwise, naming what and the init function. */
dfk_code dfk__opts_check(size_t size, size_t min_size, const char *what, const char *init, dfk_error *err);
/* Reads the caller's src into dst, which holds the library's defaults
 * (dst_size bytes, its own size first): only the first src->size bytes of
 * src are read, the rest of dst keeps the defaults. DFK_ERR_USAGE for an
 * uninitialised src (dfk__opts_check); DFK_ERR_UNSUPPORTED when src is
 * bigger than dst and sets a byte beyond it (an option this version of the
 * library does not know). dst keeps its own size. */
dfk_code dfk__opts_read(void *dst, size_t dst_size, const void *src, size_t min_size, const char *what,
			const char *init, dfk_error *err);

#endif
