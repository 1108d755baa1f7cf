#include "dynbuf.h"

#include <stdlib.h>
#include <string.h>

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

void dfk_dynbuf_init(dfk_dynbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

dfk_code dfk_dynbuf_reserve(dfk_dynbuf *b, size_t n, dfk_error *err)
{
	if (n > SIZE_MAX - b->len)
		return dfk_error_set(err, DFK_ERR_NOMEM, "buffer: size overflow");
	void *p = b->data;
	dfk_code rc = dfk_grow(&p, &b->cap, b->len + n, 1, b->max, "buffer", err);
	b->data = p;
	return rc;
}

dfk_code dfk_dynbuf_add(dfk_dynbuf *b, const void *data, size_t n, dfk_error *err)
{
	dfk_code rc = dfk_dynbuf_reserve(b, n, err);
	if (rc != DFK_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return DFK_OK;
}

void dfk_dynbuf_reset(dfk_dynbuf *b)
{
	b->len = 0;
}

void dfk_dynbuf_free(dfk_dynbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
