/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe download plans: which pages to erase and which contiguous runs to
 * write, computed from the image and the memory map before any I/O, so that
 * a refused address fails before the first erase. */
#include <stdlib.h>
#include <string.h>

#include "dfukit/dfu.h"
#include "dynbuf.h"
#include "schedule.h"

#define MAX_ERASE_PAGES (1u << 20)

/* Image bytes that lie in one segment (or in none): the unit of the
 * permission checks and of the page list. */
typedef struct piece {
	uint32_t addr;
	uint32_t len;
	const dfk_mem_segment *seg;
} piece;

/* A run being built: touching bytes whose segments allow the same things. */
typedef struct run {
	uint32_t addr;
	uint32_t len;
	const uint8_t *data;
	bool copy; /* its bytes are not contiguous in memory: gather them */
} run;

typedef struct vec {
	void *p;
	size_t n, cap, elsz;
} vec;

static void *vec_push(vec *v, dfk_error *err)
{
	if (dfk_grow(&v->p, &v->cap, v->n + 1, v->elsz, SIZE_MAX, "plan", err))
		return NULL;
	return (char *)v->p + v->elsz * v->n++;
}

/* The first segment starting above addr, for the end of a gap. */
static uint64_t next_seg_start(const dfk_memmap *map, uint32_t addr)
{
	uint64_t best = (uint64_t)1 << 32;
	size_t i;

	for (i = 0; map && i < map->count; i++)
		if (map->segs[i].start > addr && map->segs[i].start < best)
			best = map->segs[i].start;
	return best;
}

static char perm_letter(uint8_t perms)
{
	return (char)('a' + perms - 1);
}

static dfk_code add_pages(vec *pages, vec *cover, const dfk_mem_segment *seg, uint32_t addr, uint32_t len,
			  dfk_error *err)
{
	uint64_t pos = addr, end = (uint64_t)addr + len;

	while (pos < end) {
		uint32_t ps = dfk_mem_page_start(seg, (uint32_t)pos);
		uint64_t pe = (uint64_t)ps + seg->page_size;
		uint64_t chunk = (pe < end ? pe : end) - pos;
		dfk_plan_page *last = pages->n ? (dfk_plan_page *)pages->p + pages->n - 1 : NULL;

		if (last && last->addr == ps) {
			((uint64_t *)cover->p)[cover->n - 1] += chunk;
		} else {
			dfk_plan_page *pg;
			/* A hostile map with tiny pages must not make the plan eat
			 * memory without bound; no real device has this many. */
			if (pages->n >= MAX_ERASE_PAGES)
				return dfk_error_set(err, DFK_ERR_DATA,
						     "address 0x%08x: more than %u pages to erase (segment 0x%08x has "
						     "%u-byte pages)",
						     ps, MAX_ERASE_PAGES, seg->start, seg->page_size);
			pg = vec_push(pages, err);
			if (!pg)
				return DFK_ERR_NOMEM;
			uint64_t *cv = vec_push(cover, err);
			if (!cv)
				return DFK_ERR_NOMEM;
			pg->addr = ps;
			pg->size = seg->page_size;
			pg->partial = false;
			pg->preserved = false;
			*cv = chunk;
		}
		pos += chunk;
	}
	return DFK_OK;
}

static dfk_code check_piece(const dfk_memmap *map, const piece *pc, unsigned flags, dfk_error *err)
{
	const char *name = map ? map->name : "";

	if (flags & DFK_PLAN_FORCE)
		return DFK_OK;
	if (!pc->seg)
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "address 0x%08x (%u bytes): not in any segment of memory \"%s\" (force overrides)",
				     pc->addr, pc->len, name);
	if (!(pc->seg->perms & DFK_MEM_WRITEABLE))
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "address 0x%08x: segment 0x%08x-0x%08llx of memory \"%s\" is not writeable (type "
				     "'%c') (force overrides)",
				     pc->addr, pc->seg->start, (unsigned long long)(pc->seg->end - 1), name,
				     perm_letter(pc->seg->perms));
	/* ST maps call OTP areas writeable ('e'/'g'), but a write there can
	 * never be undone: treat it like a read-only segment. */
	if (strcasestr(name, "OTP"))
		return dfk_error_set(err, DFK_ERR_USAGE,
				     "address 0x%08x: memory \"%s\" is one-time programmable, a write cannot be undone "
				     "(force overrides)",
				     pc->addr, name);
	return DFK_OK;
}

void dfk_plan_free(dfk_plan *plan)
{
	if (!plan)
		return;
	free(plan->erase);
	free(plan->runs); /* the copied bytes of merged runs live in the same block */
	memset(plan, 0, sizeof(*plan));
}

/* Runs cross segment boundaries when nothing differs but the page size,
 * so that a contiguous image costs one SET_ADDRESS. */
static bool same_kind(const dfk_mem_segment *a, const dfk_mem_segment *b)
{
	if (!a || !b)
		return a == b;
	return a->perms == b->perms;
}

/* Adds [pos, pos+len) with its bytes at data, lying in seg, to the pieces
 * and to the runs. */
static dfk_code add_chunk(vec *pieces, vec *runs, const dfk_mem_segment *seg, const dfk_mem_segment **run_seg,
			  uint32_t pos, uint32_t len, const uint8_t *data, uint64_t *copy_bytes, dfk_error *err)
{
	piece *lp = pieces->n ? (piece *)pieces->p + pieces->n - 1 : NULL;
	run *lr = runs->n ? (run *)runs->p + runs->n - 1 : NULL;

	if (lp && lp->seg == seg && (uint64_t)lp->addr + lp->len == pos && (uint64_t)lp->len + len <= UINT32_MAX) {
		lp->len += len;
	} else {
		piece *pc = vec_push(pieces, err);
		if (!pc)
			return DFK_ERR_NOMEM;
		pc->addr = pos;
		pc->len = len;
		pc->seg = seg;
	}
	if (lr && same_kind(*run_seg, seg) && (uint64_t)lr->addr + lr->len == pos &&
	    (uint64_t)lr->len + len <= UINT32_MAX) {
		/* Touching elements: one SET_ADDRESS covers both. */
		if (!lr->copy && lr->data + lr->len != data) {
			lr->copy = true;
			*copy_bytes += lr->len;
		}
		if (lr->copy)
			*copy_bytes += len;
		lr->len += len;
	} else {
		run *r = vec_push(runs, err);
		if (!r)
			return DFK_ERR_NOMEM;
		r->addr = pos;
		r->len = len;
		r->data = data;
		r->copy = false;
		*run_seg = seg;
	}
	return DFK_OK;
}

dfk_code dfk_plan_build(const dfk_image *img, const dfk_memmap *map, unsigned flags, dfk_plan *plan, dfk_error *err)
{
	vec pieces = {NULL, 0, 0, sizeof(piece)};
	vec runs = {NULL, 0, 0, sizeof(run)};
	vec pages = {NULL, 0, 0, sizeof(dfk_plan_page)};
	vec cover = {NULL, 0, 0, sizeof(uint64_t)};
	const dfk_mem_segment *run_seg = NULL;
	uint64_t copy_bytes = 0;
	dfk_code rc = DFK_OK;
	size_t i;

	memset(plan, 0, sizeof(*plan));
	if (!img)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "plan: no image");
	for (i = 0; i < img->count; i++) {
		const dfk_element *el = &img->elements[i];
		uint64_t end = (uint64_t)el->addr + el->size;
		if (end > ((uint64_t)1 << 32) || (el->size && !el->data) ||
		    (i && el->addr < (uint64_t)img->elements[i - 1].addr + img->elements[i - 1].size))
			return dfk_error_set(err, DFK_ERR_SOFTWARE,
					     "plan: image element %zu at 0x%08x is unsorted, overlapping or past 4 GiB",
					     i, el->addr);
	}

	/* Cut every element at segment boundaries. */
	for (i = 0; i < img->count; i++) {
		const dfk_element *el = &img->elements[i];
		uint64_t pos = el->addr, end = (uint64_t)el->addr + el->size;

		while (pos < end) {
			const dfk_mem_segment *seg = dfk_memmap_find(map, (uint32_t)pos);
			uint64_t lim = seg ? seg->end : next_seg_start(map, (uint32_t)pos);
			uint64_t cend = lim < end ? lim : end;

			rc = add_chunk(&pieces, &runs, seg, &run_seg, (uint32_t)pos, (uint32_t)(cend - pos),
				       el->data + (pos - el->addr), &copy_bytes, err);
			if (rc != DFK_OK)
				goto out;
			pos = cend;
		}
	}

	for (i = 0; i < pieces.n; i++) {
		const piece *pc = (piece *)pieces.p + i;
		rc = check_piece(map, pc, flags, err);
		if (rc != DFK_OK)
			goto out;
		/* Segments that cannot be erased (option bytes, 'e') are written
		 * directly, as ST's ROMs expect. */
		if (!(flags & DFK_PLAN_NO_ERASE) && pc->seg && (pc->seg->perms & DFK_MEM_ERASABLE)) {
			rc = add_pages(&pages, &cover, pc->seg, pc->addr, pc->len, err);
			if (rc != DFK_OK)
				goto out;
		}
	}
	for (i = 0; i < pages.n; i++) {
		dfk_plan_page *pg = (dfk_plan_page *)pages.p + i;
		pg->partial = ((uint64_t *)cover.p)[i] < pg->size;
	}

	/* Runs and the gathered bytes of runs spanning several buffers in one
	 * block, so that dfk_plan needs no extra field to own them. */
	if (runs.n) {
		size_t runs_sz = runs.n * sizeof(dfk_plan_run);
		uint8_t *copy;
		size_t k = 0;

		if (copy_bytes > SIZE_MAX - runs_sz) {
			rc = dfk_error_set(err, DFK_ERR_NOMEM, "plan: image too large");
			goto out;
		}
		plan->runs = malloc(runs_sz + (size_t)copy_bytes);
		if (!plan->runs) {
			rc = dfk_error_set(err, DFK_ERR_NOMEM, "plan: out of memory");
			goto out;
		}
		copy = (uint8_t *)plan->runs + runs_sz;
		plan->nruns = runs.n;
		for (i = 0; i < runs.n; i++) {
			const run *rn = (run *)runs.p + i;
			dfk_plan_run *r = &plan->runs[i];
			r->addr = rn->addr;
			r->len = rn->len;
			r->data = rn->data;
			if (rn->copy) {
				/* Runs and elements both ascend, so k only moves forward. */
				uint64_t pos = rn->addr, end = (uint64_t)rn->addr + rn->len;
				r->data = copy;
				while (k < img->count && (uint64_t)img->elements[k].addr + img->elements[k].size <= pos)
					k++;
				for (size_t j = k; j < img->count && pos < end; j++) {
					const dfk_element *el = &img->elements[j];
					uint64_t ee = (uint64_t)el->addr + el->size;
					uint64_t ce = ee < end ? ee : end;
					memcpy(copy, el->data + (pos - el->addr), (size_t)(ce - pos));
					copy += ce - pos;
					pos = ce;
				}
			}
		}
	}
	plan->erase = pages.p;
	plan->nerase = pages.n;
	pages.p = NULL;
out:
	free(pieces.p);
	free(runs.p);
	free(pages.p);
	free(cover.p);
	if (rc != DFK_OK)
		dfk_plan_free(plan);
	return rc;
}

/* Appends [pos, end) of run r to out's runs (which has room for it). */
static void keep_bytes(dfk_plan *out, const dfk_plan_run *r, uint64_t pos, uint64_t end)
{
	if (pos < end)
		out->runs[out->nruns++] =
		    (dfk_plan_run){(uint32_t)pos, (uint32_t)(end - pos), r->data + (pos - r->addr)};
}

dfk_code dfk__plan_drop_pages(const dfk_plan *plan, const dfk_page_verdict *v, dfk_plan *out, dfk_error *err)
{
	size_t cap_runs = plan->nruns, gaps = 0;

	memset(out, 0, sizeof(*out));
	/* Each dropped page can split a run in two. */
	for (size_t p = 0; p < plan->nerase; p++)
		gaps += v[p] == DFK_PAGE_SAME;
	cap_runs += gaps;
	out->erase = malloc((plan->nerase ? plan->nerase : 1) * sizeof(*out->erase));
	out->runs = malloc((cap_runs ? cap_runs : 1) * sizeof(*out->runs));
	if (!out->erase || !out->runs) {
		dfk_plan_free(out);
		return dfk_error_set(err, DFK_ERR_NOMEM, "plan: out of memory");
	}
	for (size_t p = 0; p < plan->nerase; p++)
		if (v[p] == DFK_PAGE_WRITE)
			out->erase[out->nerase++] = plan->erase[p];
	for (size_t r = 0; r < plan->nruns; r++) {
		const dfk_plan_run *run = &plan->runs[r];
		uint64_t pos = run->addr, end = pos + run->len;
		for (size_t p = 0; p < plan->nerase; p++) {
			uint64_t ps = plan->erase[p].addr, pe = ps + plan->erase[p].size;
			if (v[p] != DFK_PAGE_SAME || pe <= pos || ps >= end)
				continue;
			keep_bytes(out, run, pos, ps > pos ? ps : pos);
			pos = pe < end ? pe : end;
		}
		keep_bytes(out, run, pos, end);
	}
	return DFK_OK;
}

dfk_code dfk__plan_preserve(const dfk_plan *plan, const dfk_memmap *map, unsigned flags, uint8_t *const *bytes,
			    dfk_plan *out, dfk_error *err)
{
	dfk_image img;
	dfk_code code = DFK_OK;
	size_t p = 0;

	memset(out, 0, sizeof(*out));
	dfk_image_init(&img);
	/* The image's bytes over the device's copy of each preserved page. */
	for (size_t q = 0; q < plan->nerase; q++) {
		uint64_t ps = plan->erase[q].addr, pe = ps + plan->erase[q].size;
		for (size_t r = 0; bytes[q] && r < plan->nruns; r++) {
			const dfk_plan_run *run = &plan->runs[r];
			uint64_t s = run->addr > ps ? run->addr : ps, e = (uint64_t)run->addr + run->len;
			if (e > pe)
				e = pe;
			if (s < e)
				memcpy(bytes[q] + (s - ps), run->data + (s - run->addr), (size_t)(e - s));
		}
	}
	/* The new image: the runs outside preserved pages, and those pages
	 * whole. Pages and runs both ascend. */
	for (size_t r = 0; r < plan->nruns && !code; r++) {
		const dfk_plan_run *run = &plan->runs[r];
		uint64_t pos = run->addr, end = pos + run->len;
		while (!code && pos < end) {
			while (p < plan->nerase && (uint64_t)plan->erase[p].addr + plan->erase[p].size <= pos) {
				if (bytes[p])
					code = dfk_image_add_ref(&img, plan->erase[p].addr, bytes[p],
								 plan->erase[p].size, err);
				p++;
			}
			if (code)
				break;
			if (p < plan->nerase && bytes[p] && plan->erase[p].addr <= pos) {
				pos = (uint64_t)plan->erase[p].addr + plan->erase[p].size; /* inside: the page has it */
				continue;
			}
			uint64_t stop = end;
			for (size_t q = p; q < plan->nerase && plan->erase[q].addr < stop; q++)
				if (bytes[q] && plan->erase[q].addr > pos)
					stop = plan->erase[q].addr;
			code = dfk_image_add_ref(&img, (uint32_t)pos, run->data + (pos - run->addr),
						 (size_t)(stop - pos), err);
			pos = stop;
		}
	}
	for (; p < plan->nerase && !code; p++)
		if (bytes[p])
			code = dfk_image_add_ref(&img, plan->erase[p].addr, bytes[p], plan->erase[p].size, err);
	if (!code)
		code = dfk_plan_build(&img, map, flags, out, err);
	for (size_t i = 0; !code && i < out->nerase; i++)
		for (size_t q = 0; q < plan->nerase; q++)
			if (bytes[q] && plan->erase[q].addr == out->erase[i].addr)
				out->erase[i].preserved = true;
	dfk_image_free(&img);
	return code;
}
