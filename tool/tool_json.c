/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
#include <stdbool.h>

#include "tool.h"

static bool valid_utf8(const unsigned char *p)
{
	while (*p) {
		unsigned n = *p < 0x80		   ? 0
			     : (*p & 0xE0) == 0xC0 ? 1
			     : (*p & 0xF0) == 0xE0 ? 2
			     : (*p & 0xF8) == 0xF0 ? 3
						   : 9;
		if (n == 9 || (n == 1 && *p < 0xC2))
			return false;
		p++;
		for (unsigned i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return false;
	}
	return true;
}

/* JSON must be UTF-8: a string that is not (a name from a file, a path)
 * gets its high bytes escaped one by one, read as Latin-1, instead of
 * breaking the document. */
void tool_json_string(FILE *f, const char *s)
{
	bool utf8 = s && valid_utf8((const unsigned char *)s);

	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f || (!utf8 && *p > 0x7f))
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}
