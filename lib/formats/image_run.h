/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Gathering the data records of a text firmware file into image elements
 * (not public API). Contiguous records become one run before going into the
 * image, so a 64 MiB file becomes a few elements, not 4 million. */
#ifndef DFUKIT_IMAGE_RUN_H
#define DFUKIT_IMAGE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "dfukit/image.h"

typedef struct dfk__run {
	uint64_t addr;
	uint8_t *data;
	size_t len, cap;
	uint64_t total; /* data bytes taken in, all runs */
} dfk__run;

/* Adds the len bytes of the record at line/offset that hold addr..: they
 * extend the current run, or the run goes into img and a new one starts.
 * Data past the 4 GiB address space is refused. */
dfk_code dfk__run_add(dfk__run *run, dfk_image *img, uint64_t addr, const uint8_t *data, size_t len, size_t line,
		      size_t offset, dfk_error *err);

/* At the end of a file of the given format: flushes the run and coalesces
 * img; a file without any data bytes is refused. Frees the run. */
dfk_code dfk__run_finish(dfk__run *run, dfk_image *img, size_t line, const char *format, dfk_error *err);

/* Frees a run that will not be flushed (after an error). */
void dfk__run_free(dfk__run *run);

#endif
