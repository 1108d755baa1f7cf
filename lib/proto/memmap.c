/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe memory-map strings (UM0290, as ST ROMs send them):
 *   "@" name { "/0x" hexaddr "/" seg { "," seg } }
 *   seg = count "*" size [mult] type, mult 'B' | 'K' | 'M' | ' ', type 'a'..'g'
 * Hand-written rather than sscanf-based so that every number is range
 * checked and every error can name its offset in the string.
 *
 * As lenient as dfu-util 0.11 wherever the meaning is clear, since real
 * bootloaders send such strings: blanks before a number ("/ 128*1Kg", as
 * sscanf's %d skips them), a zero page count (an empty segment, used as a
 * label: "/0x00000000/0*4Kg"), a trailing comma, an upper-case type letter. */
#include "dfukit/memmap.h"
#include "dynbuf.h"
#include "text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/usb.h"

#define ADDR_LIMIT ((uint64_t)1 << 32)
/* Far more than any device has; a hostile string stops here. */
#define MAX_SEGMENTS 65536

typedef struct parser {
	const char *s;
	size_t pos;
	dfk_memmap *map;
	size_t cap;
	dfk_error *err;
} parser;

static dfk_code fail(parser *p, const char *what)
{
	char shown[128];
	/* The string comes from a device: never echo control characters. */
	dfk_sanitize(p->s, shown, sizeof(shown));
	return dfk_error_set(p->err, DFK_ERR_DATA, "memory map \"%s%s\": offset %zu: %s", shown,
			     strlen(p->s) >= sizeof(shown) - 1 ? "..." : "", p->pos, what);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_blanks(parser *p)
{
	while (p->s[p->pos] == ' ')
		p->pos++;
}

/* 'a'..'g' or 'A'..'G' as the access rights 1..7 (dfu-util takes the low
 * three bits of any character; only these seven mean something). */
static int type_rights(char c)
{
	if (c >= 'a' && c <= 'g')
		return c - 'a' + 1;
	if (c >= 'A' && c <= 'G')
		return c - 'A' + 1;
	return 0;
}

/* Decimal number at p->pos, at most UINT32_MAX. */
static dfk_code parse_dec(parser *p, const char *what, uint32_t *out)
{
	uint64_t v = 0;
	size_t start;
	char msg[96];

	skip_blanks(p);
	start = p->pos;
	if (!is_digit(p->s[p->pos])) {
		snprintf(msg, sizeof(msg), "expected a decimal %s", what);
		return fail(p, msg);
	}
	while (is_digit(p->s[p->pos])) {
		v = v * 10 + (uint64_t)(p->s[p->pos] - '0');
		if (v > UINT32_MAX) {
			p->pos = start;
			snprintf(msg, sizeof(msg), "%s is too large", what);
			return fail(p, msg);
		}
		p->pos++;
	}
	*out = (uint32_t)v;
	return DFK_OK;
}

static dfk_code parse_addr(parser *p, uint32_t *out)
{
	uint64_t v = 0;
	size_t start;

	if (p->s[p->pos] != '0' || (p->s[p->pos + 1] != 'x' && p->s[p->pos + 1] != 'X'))
		return fail(p, "expected \"0x\" and a hexadecimal address");
	p->pos += 2;
	skip_blanks(p);
	start = p->pos;
	if (dfk__hexval(p->s[p->pos]) < 0)
		return fail(p, "expected a hexadecimal address");
	while (dfk__hexval(p->s[p->pos]) >= 0) {
		v = v * 16 + (uint64_t)dfk__hexval(p->s[p->pos]);
		if (v >= ADDR_LIMIT) {
			p->pos = start;
			return fail(p, "address does not fit in 32 bits");
		}
		p->pos++;
	}
	*out = (uint32_t)v;
	return DFK_OK;
}

static dfk_code add_seg(parser *p, const dfk_mem_segment *seg)
{
	dfk_memmap *m = p->map;

	void *segs = m->segs;
	dfk_code rc = dfk_grow(&segs, &p->cap, m->count + 1, sizeof(*seg), MAX_SEGMENTS, "memory map", p->err);
	m->segs = segs;
	if (rc != DFK_OK)
		return rc;
	m->segs[m->count++] = *seg;
	return DFK_OK;
}

/* One "count*size[mult]type" at p->pos, placed at *addr (advanced). */
static dfk_code parse_seg(parser *p, uint64_t *addr, bool feature_quirk)
{
	uint32_t count = 0, size = 0; /* gcc -O2 cannot see parse_dec sets them */
	uint64_t mult = 1, page, total;
	size_t seg_start = p->pos;
	dfk_mem_segment seg;
	char c;
	dfk_code rc;

	rc = parse_dec(p, "page count", &count);
	if (rc != DFK_OK)
		return rc;
	if (p->s[p->pos] != '*')
		return fail(p, "expected '*' after the page count");
	p->pos++;
	rc = parse_dec(p, "page size", &size);
	if (rc != DFK_OK)
		return rc;
	c = p->s[p->pos];
	if (c == ' ') {
		skip_blanks(p);
	} else if (c == 'B' && type_rights(p->s[p->pos + 1])) {
		p->pos++; /* a lone 'B' is the type b, "B" then a type letter is bytes */
	} else if (c == 'K') {
		mult = 1024;
		p->pos++;
	} else if (c == 'M') {
		mult = 1024 * 1024;
		p->pos++;
	} /* else no multiplier: bytes, and the type follows at once ("1536*128g") */
	c = p->s[p->pos];
	if (type_rights(c)) {
		seg.perms = (uint8_t)type_rights(c);
	} else {
		return fail(p, "expected a multiplier B, K, M or ' ' and a type letter a-g");
	}
	p->pos++;
	page = (uint64_t)size * mult;
	if (page == 0) {
		p->pos = seg_start;
		return fail(p, "page size is 0");
	}
	if (page > UINT32_MAX) {
		p->pos = seg_start;
		return fail(p, "page size does not fit in 32 bits");
	}
	/* count and page are both < 2^32, so the product fits in 64 bits. */
	total = (uint64_t)count * page;
	if (total > ADDR_LIMIT - *addr) {
		p->pos = seg_start;
		return fail(p, "segment runs past the end of the 4 GiB address space");
	}
	/* dfu-util's quirk: F4 ROMs call the Device Feature area erasable ('g'),
	 * but erasing it is refused; treat it as read/write only. */
	if (feature_quirk)
		seg.perms = DFK_MEM_READABLE | DFK_MEM_WRITEABLE;
	/* An empty segment (a label) occupies no memory: nothing to add. */
	if (count == 0)
		return DFK_OK;
	seg.start = (uint32_t)*addr;
	seg.end = *addr + total;
	seg.page_size = (uint32_t)page;
	seg.pages = count;
	*addr = seg.end;
	return add_seg(p, &seg);
}

dfk_code dfk_memmap_parse(const char *str, dfk_memmap *map, dfk_error *err)
{
	parser p;
	const char *slash;
	size_t nlen;
	bool feature_quirk;
	dfk_code rc;

	memset(map, 0, sizeof(*map));
	if (!str)
		return dfk_error_set(err, DFK_ERR_DATA, "memory map: no string");
	p.s = str;
	p.pos = 0;
	p.map = map;
	p.cap = 0;
	p.err = err;
	if (str[0] != '@')
		return fail(&p, "expected '@' at the start");
	slash = strchr(str, '/');
	if (!slash) {
		p.pos = strlen(str);
		return fail(&p, "expected '/' after the name");
	}
	nlen = (size_t)(slash - str) - 1;
	/* Names longer than the field are kept cut: they are only shown. */
	if (nlen > sizeof(map->name) - 1)
		nlen = sizeof(map->name) - 1;
	memcpy(map->name, str + 1, nlen);
	map->name[nlen] = '\0';
	feature_quirk = strcmp(map->name, "Device Feature") == 0;
	p.pos = (size_t)(slash - str);

	while (str[p.pos] == '/') {
		uint32_t start = 0;
		uint64_t addr;

		p.pos++;
		rc = parse_addr(&p, &start);
		if (rc != DFK_OK)
			goto fail;
		if (str[p.pos] != '/') {
			rc = fail(&p, "expected '/' after the address");
			goto fail;
		}
		p.pos++;
		addr = start;
		for (;;) {
			rc = parse_seg(&p, &addr, feature_quirk);
			if (rc != DFK_OK)
				goto fail;
			if (str[p.pos] != ',')
				break;
			p.pos++;
			/* A trailing comma ends the list. */
			if (str[p.pos] == '\0' || str[p.pos] == '/')
				break;
		}
	}
	/* Some devices pad the string with spaces. */
	while (str[p.pos] == ' ')
		p.pos++;
	if (str[p.pos] != '\0') {
		rc = fail(&p, "unexpected character after a segment (expected ',', '/' or the end)");
		goto fail;
	}
	return DFK_OK;
fail:
	dfk_memmap_free(map);
	return rc;
}

void dfk_memmap_free(dfk_memmap *map)
{
	if (!map)
		return;
	free(map->segs);
	map->segs = NULL;
	map->count = 0;
}

const dfk_mem_segment *dfk_memmap_find(const dfk_memmap *map, uint32_t addr)
{
	size_t i;

	if (!map)
		return NULL;
	for (i = 0; i < map->count; i++)
		if (addr >= map->segs[i].start && addr < map->segs[i].end)
			return &map->segs[i];
	return NULL;
}

uint32_t dfk_mem_page_start(const dfk_mem_segment *seg, uint32_t addr)
{
	/* Division, not masking: page sizes need not be powers of two. */
	return seg->start + (addr - seg->start) / seg->page_size * seg->page_size;
}
