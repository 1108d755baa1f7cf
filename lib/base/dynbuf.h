/* One growable buffer with a cap, as curl's dynbuf: every array or byte
 * buffer in the library grows through here, so overflow checks and the
 * doubling policy live in one place. */
#ifndef DFUKIT_BASE_DYNBUF_H
#define DFUKIT_BASE_DYNBUF_H

#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"

/* Makes room for at least `need` elements of `elsz` bytes in *p (capacity
 * *cap elements, doubled as needed), never beyond `max` elements. The
 * contents are kept; *p and *cap change only on success. NOMEM with a
 * message naming `what` on overflow, cap or allocation failure. */
dfk_code dfk_grow(void **p, size_t *cap, size_t need, size_t elsz, size_t max, const char *what, dfk_error *err);

/* A byte buffer: data[0..len), with room for cap bytes, capped at max. */
typedef struct dfk_dynbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
} dfk_dynbuf;

void dfk_dynbuf_init(dfk_dynbuf *b, size_t max);
dfk_code dfk_dynbuf_add(dfk_dynbuf *b, const void *data, size_t n, dfk_error *err);
/* Room for n more bytes at data + len (the caller then adds to len). */
dfk_code dfk_dynbuf_reserve(dfk_dynbuf *b, size_t n, dfk_error *err);
void dfk_dynbuf_reset(dfk_dynbuf *b); /* len = 0, memory kept */
void dfk_dynbuf_free(dfk_dynbuf *b);

#endif
