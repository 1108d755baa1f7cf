/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* One way to grow a buffer, with a cap, as curl's dynbuf: every array and
 * byte buffer in the library grows through dfk_grow, so the overflow checks
 * and the doubling policy live in one place. */
#ifndef DFUKIT_BASE_DYNBUF_H
#define DFUKIT_BASE_DYNBUF_H

#include <stddef.h>

#include "dfukit/error.h"

/* Makes room for at least `need` elements of `elsz` bytes in *p (capacity
 * *cap elements, doubled as needed), never beyond `max` elements. The
 * contents are kept; *p and *cap change only on success. NOMEM with a
 * message naming `what` on overflow, cap or allocation failure. */
dfk_code dfk_grow(void **p, size_t *cap, size_t need, size_t elsz, size_t max, const char *what, dfk_error *err);

#endif
