/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Which devices are new arrivals, for a station that flashes each board once
 * as it is plugged in (dfk_watch_*). Pure bookkeeping over successive
 * dfk_find results and the caller's clock: no I/O.
 *
 * A device is its port path (ST ROM serials collide). A path's device is new
 * when it is seen and not yet taken; once taken and released (flashed),
 * the path stays done while the same serial is there, or comes back within
 * the grace time after it was last seen (a re-enumeration, after a leave or a
 * reset); a different serial, or a return after longer, is a new board. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/device.h"

enum state { ST_NEW, ST_TAKEN, ST_DONE };

struct entry {
	char path[sizeof(((dfk_usb_dev *)0)->path)];
	char serial[sizeof(((dfk_dfu_if *)0)->serial)];
	enum state state;
	uint64_t last_seen; /* ms: the last scan it was in, or its release */
	bool seen;	    /* in the current scan */
};

struct dfk_watch {
	uint32_t grace_ms;
	struct entry *e;
	size_t n, cap;
	/* The new paths of the last scan, indexes into e. */
	size_t *fresh;
	size_t nfresh;
};

dfk_code dfk_watch_new(dfk_watch **out, uint32_t grace_ms, dfk_error *err)
{
	if (!out)
		return dfk_error_set(err, DFK_ERR_USAGE, "no place for the watch");
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	(*out)->grace_ms = grace_ms;
	return DFK_OK;
}

void dfk_watch_free(dfk_watch *w)
{
	if (!w)
		return;
	free(w->e);
	free(w->fresh);
	free(w);
}

static struct entry *find(dfk_watch *w, const char *path)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->e[i].path, path) == 0)
			return &w->e[i];
	return NULL;
}

static struct entry *add(dfk_watch *w, const char *path, dfk_error *err)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct entry *e = realloc(w->e, cap * sizeof(*e));
		size_t *f = realloc(w->fresh, cap * sizeof(*f));
		if (e)
			w->e = e;
		if (f)
			w->fresh = f;
		if (!e || !f) {
			dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
			return NULL;
		}
		w->cap = cap;
	}
	struct entry *e = &w->e[w->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	return e;
}

/* One device of the scan (the first interface of it found). */
static dfk_code see(dfk_watch *w, const dfk_dfu_if *ifc, uint64_t now, dfk_error *err)
{
	const char *path = ifc->dev->path;
	const char *serial = ifc->serial;
	struct entry *e = find(w, path);
	if (e && e->seen)
		return DFK_OK; /* another interface of the same device */
	if (!e) {
		e = add(w, path, err);
		if (!e)
			return DFK_ERR_NOMEM;
		e->state = ST_NEW;
	} else if (e->state == ST_DONE &&
		   (strcmp(e->serial, serial) != 0 || now - e->last_seen > (uint64_t)w->grace_ms)) {
		e->state = ST_NEW; /* another board, or the same one plugged in again */
	}
	snprintf(e->serial, sizeof(e->serial), "%s", serial);
	e->seen = true;
	e->last_seen = now;
	return DFK_OK;
}

dfk_code dfk_watch_scan(dfk_watch *w, const dfk_found *found, uint64_t now_ms, size_t *nnew, dfk_error *err)
{
	if (nnew)
		*nnew = 0;
	if (!w)
		return dfk_error_set(err, DFK_ERR_USAGE, "no watch");
	for (size_t i = 0; i < w->n; i++)
		w->e[i].seen = false;
	for (size_t i = 0; i < dfk_found_count(found); i++) {
		dfk_code rc = see(w, dfk_found_get(found, i), now_ms, err);
		if (rc)
			return rc;
	}
	/* A device that went before it was taken is forgotten (it is new
	 * again when it comes back); taken and done ones are kept. */
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->e[i].seen || w->e[i].state != ST_NEW)
			w->e[k++] = w->e[i];
	w->n = k;
	w->nfresh = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->e[i].state == ST_NEW)
			w->fresh[w->nfresh++] = i;
	if (nnew)
		*nnew = w->nfresh;
	return DFK_OK;
}

const char *dfk_watch_new_path(const dfk_watch *w, size_t i)
{
	return w && i < w->nfresh ? w->e[w->fresh[i]].path : NULL;
}

dfk_code dfk_watch_take(dfk_watch *w, const char *path, dfk_error *err)
{
	struct entry *e = w && path ? find(w, path) : NULL;
	if (!e || e->state != ST_NEW)
		return dfk_error_set(err, DFK_ERR_USAGE, "no new device at path \"%s\" to take", path ? path : "");
	e->state = ST_TAKEN;
	return DFK_OK;
}

dfk_code dfk_watch_release(dfk_watch *w, const char *path, uint64_t now_ms, dfk_error *err)
{
	struct entry *e = w && path ? find(w, path) : NULL;
	if (!e || e->state != ST_TAKEN)
		return dfk_error_set(err, DFK_ERR_USAGE, "no device taken at path \"%s\"", path ? path : "");
	e->state = ST_DONE;
	e->last_seen = now_ms;
	return DFK_OK;
}
