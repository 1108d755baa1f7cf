/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: station mode's rows and counters, and new arrivals through
 * the library's watch (see gui_station.h). */
#include "gui_station.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gui_station_init(gui_station *s)
{
	memset(s, 0, sizeof(*s));
}

static void row_free(gui_station_row *r)
{
	if (r->log)
		g_string_free(r->log, TRUE);
	r->log = NULL;
}

void gui_station_free(gui_station *s)
{
	for (size_t i = 0; i < s->count; i++)
		row_free(&s->rows[i]);
	g_free(s->rows);
	gui_station_init(s);
}

gui_station_row *gui_station_find(gui_station *s, const char *key)
{
	for (size_t i = 0; key && i < s->count; i++)
		if (strcmp(s->rows[i].key, key) == 0)
			return &s->rows[i];
	return NULL;
}

static const gui_device *listed(const gui_device_list *l, const char *key)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->devs[i].key, key) == 0)
			return &l->devs[i];
	return NULL;
}

static void describe(gui_station_row *r, const gui_device *d)
{
	snprintf(r->source, sizeof(r->source), "%s", d->source);
	snprintf(r->path, sizeof(r->path), "%s", d->path);
	snprintf(r->name, sizeof(r->name), "%s", d->name);
	gui_device_ids(d, r->ids, sizeof(r->ids));
}

bool gui_station_sync(gui_station *s, const gui_device_list *l)
{
	bool changed = false;
	/* Rows whose device is gone: dropped while Waiting. */
	size_t k = 0;
	for (size_t i = 0; i < s->count; i++) {
		gui_station_row *r = &s->rows[i];
		const gui_device *d = listed(l, r->key);
		r->present = d != NULL;
		if (!d && r->state == GUI_STATION_WAITING) {
			row_free(r);
			changed = true;
			continue;
		}
		if (d) {
			/* A flashing device may be listed as unopenable: it is busy
			 * with its own job. Its name stays what it was. */
			r->usable = d->status != GUI_DEV_BROKEN;
			if (r->state != GUI_STATION_FLASHING && d->status != GUI_DEV_BROKEN)
				describe(r, d);
			if ((r->state == GUI_STATION_PASSED || r->state == GUI_STATION_FAILED) && d->fresh) {
				r->state = GUI_STATION_WAITING; /* a new board at that port */
				r->message[0] = '\0';
			}
		}
		s->rows[k++] = *r;
	}
	s->count = k;
	for (size_t i = 0; i < l->count; i++) {
		const gui_device *d = &l->devs[i];
		if (gui_station_find(s, d->key))
			continue;
		s->rows = g_renew(gui_station_row, s->rows, s->count + 1);
		gui_station_row *r = &s->rows[s->count++];
		memset(r, 0, sizeof(*r));
		snprintf(r->key, sizeof(r->key), "%s", d->key);
		describe(r, d);
		r->present = true;
		r->usable = d->status != GUI_DEV_BROKEN;
		r->state = GUI_STATION_WAITING;
		r->log = g_string_new(NULL);
		changed = true;
	}
	return changed;
}

bool gui_station_begin(gui_station *s, const char *key)
{
	gui_station_row *r = gui_station_find(s, key);
	if (!r || !r->present || !r->usable || r->state == GUI_STATION_FLASHING)
		return false;
	r->state = GUI_STATION_FLASHING;
	r->message[0] = '\0';
	r->flashes++;
	return true;
}

void gui_station_end(gui_station *s, const char *key, bool ok, const char *msg)
{
	gui_station_row *r = gui_station_find(s, key);
	if (!r || r->state != GUI_STATION_FLASHING)
		return;
	r->state = ok ? GUI_STATION_PASSED : GUI_STATION_FAILED;
	snprintf(r->message, sizeof(r->message), "%s", ok ? "" : (msg && *msg ? msg : "failed"));
	if (ok)
		s->passed++;
	else
		s->failed++;
}

void gui_station_log(gui_station *s, const char *key, const char *line)
{
	gui_station_row *r = gui_station_find(s, key);
	if (r && r->log)
		g_string_append_printf(r->log, "%s\n", line);
}

bool gui_station_wants_auto(const gui_station *s, const gui_device *d)
{
	if (!d->fresh || d->status == GUI_DEV_BROKEN)
		return false;
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->rows[i].key, d->key) == 0)
			return s->rows[i].state == GUI_STATION_WAITING;
	return false;
}

size_t gui_station_running(const gui_station *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->count; i++)
		n += s->rows[i].state == GUI_STATION_FLASHING;
	return n;
}

char *gui_station_counters(const gui_station *s)
{
	return g_strdup_printf("Passed: %u  Failed: %u", s->passed, s->failed);
}

char *gui_station_state_text(const gui_station_row *r)
{
	switch (r->state) {
	case GUI_STATION_WAITING: return g_strdup(r->usable || !r->present ? "Waiting" : "Waiting (cannot be opened)");
	case GUI_STATION_FLASHING: return g_strdup("Flashing");
	case GUI_STATION_PASSED: return g_strdup(r->present ? "Passed" : "Passed (disconnected)");
	case GUI_STATION_FAILED: return g_strdup_printf("Failed: %s", r->message);
	}
	return g_strdup("?");
}

/* ---- New arrivals ---- */

typedef struct arrival_source {
	char *source;
	dfk_watch *watch;
	/* Jobs the watch could not take (it had not seen the device, or had
	 * forgotten it): path -> 0 while the job runs, else the monotonic ms
	 * until which the device, seen new, counts as that job's. */
	GHashTable *pending;
} arrival_source;

struct gui_arrivals {
	uint32_t grace_ms;
	GPtrArray *sources; /* arrival_source */
	GHashTable *fresh;  /* keys new after the last scan, not begun */
};

static void source_free(gpointer p)
{
	arrival_source *s = p;
	dfk_watch_free(s->watch);
	g_hash_table_destroy(s->pending);
	g_free(s->source);
	g_free(s);
}

gui_arrivals *gui_arrivals_new(uint32_t grace_ms)
{
	gui_arrivals *a = g_new0(gui_arrivals, 1);
	a->grace_ms = grace_ms;
	a->sources = g_ptr_array_new_with_free_func(source_free);
	a->fresh = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return a;
}

void gui_arrivals_free(gui_arrivals *a)
{
	if (!a)
		return;
	g_ptr_array_free(a->sources, TRUE);
	g_hash_table_destroy(a->fresh);
	g_free(a);
}

/* NULL when out of memory. */
static arrival_source *source_get(gui_arrivals *a, const char *source)
{
	for (size_t i = 0; i < a->sources->len; i++) {
		arrival_source *s = g_ptr_array_index(a->sources, i);
		if (strcmp(s->source, source) == 0)
			return s;
	}
	arrival_source *s = g_new0(arrival_source, 1);
	dfk_error e;
	if (dfk_watch_new(&s->watch, a->grace_ms, &e)) {
		g_free(s);
		return NULL;
	}
	s->source = g_strdup(source);
	s->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_ptr_array_add(a->sources, s);
	return s;
}

static char *key_of(const char *source, const char *path)
{
	return g_strdup_printf("%s|%s", source, path);
}

static void drop_fresh(gui_arrivals *a, const char *source)
{
	GHashTableIter it;
	gpointer k;
	size_t n = strlen(source);
	g_hash_table_iter_init(&it, a->fresh);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (strncmp(k, source, n) == 0 && ((const char *)k)[n] == '|')
			g_hash_table_iter_remove(&it);
}

void gui_arrivals_scan(gui_arrivals *a, const char *source, const dfk_found *found, uint64_t now_ms)
{
	arrival_source *s = source_get(a, source);
	if (!s)
		return;
	size_t n = 0;
	dfk_error e;
	drop_fresh(a, source);
	if (dfk_watch_scan(s->watch, found, now_ms, &n, &e))
		return;
	/* Copies first: taking a device changes the watch's new list. */
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < n; i++)
		g_ptr_array_add(paths, g_strdup(dfk_watch_new_path(s->watch, i)));
	for (size_t i = 0; i < paths->len; i++) {
		const char *path = g_ptr_array_index(paths, i);
		uint64_t *until = g_hash_table_lookup(s->pending, path);
		if (until && (*until == 0 || now_ms <= *until)) {
			/* A job of ours runs or ran on it before the watch knew it:
			 * the watch takes it now (and releases it when that job has
			 * ended), then owns it. */
			if (dfk_watch_take(s->watch, path, &e) == DFK_OK) {
				if (*until != 0)
					dfk_watch_release(s->watch, path, now_ms, &e);
				g_hash_table_remove(s->pending, path);
			}
			continue;
		}
		g_hash_table_add(a->fresh, key_of(source, path));
	}
	g_ptr_array_free(paths, TRUE);
	/* Pending jobs that ended longer than the grace time ago: a device
	 * seen new now is a new board. */
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, s->pending);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		uint64_t until = *(uint64_t *)v;
		if (until != 0 && now_ms > until)
			g_hash_table_iter_remove(&it);
	}
}

bool gui_arrivals_fresh(const gui_arrivals *a, const char *key)
{
	return a && g_hash_table_contains(a->fresh, key);
}

void gui_arrivals_begin(gui_arrivals *a, const char *source, const char *path)
{
	arrival_source *s = a ? source_get(a, source) : NULL;
	if (!s)
		return;
	char *key = key_of(source, path);
	g_hash_table_remove(a->fresh, key);
	g_free(key);
	dfk_error e;
	if (g_hash_table_contains(s->pending, path) || dfk_watch_take(s->watch, path, &e) != DFK_OK)
		g_hash_table_replace(s->pending, g_strdup(path), g_new0(uint64_t, 1));
}

void gui_arrivals_end(gui_arrivals *a, const char *source, const char *path, uint64_t now_ms)
{
	arrival_source *s = a ? source_get(a, source) : NULL;
	if (!s)
		return;
	uint64_t *until = g_hash_table_lookup(s->pending, path);
	dfk_error e;
	if (until)
		*until = now_ms + a->grace_ms;
	else
		dfk_watch_release(s->watch, path, now_ms, &e);
}
