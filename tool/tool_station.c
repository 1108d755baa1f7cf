/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit --all with several devices: a production station.
 *
 * Each device runs on its own thread with its own context and transport,
 * as the library's threading rules ask (a transport and what is made
 * through it belong to one thread at a time). A device is named by its
 * port path (and USB/IP server), never by serial alone: ST's ROM serials
 * collide. The firmware is loaded once and shared read-only. Output: lines
 * prefixed with "[path]", JSON events with "device", or on a terminal one
 * live row per device; then a summary, and a non-zero exit when any
 * device failed, naming which. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool_flash.h"

#define ROW_MAX 160

struct tool_board {
	size_t n;
	char (*rows)[ROW_MAX];
	char (*paths)[TOOL_PATH_MAX];
	bool drawn;
};

typedef struct station_dev {
	flash_run r;
	char path[TOOL_PATH_MAX];  /* as the transport names it (for the search) */
	char shown[TOOL_PATH_MAX]; /* sanitised, for output */
	dfk_code rc;
	bool done;
	tool_trace trace; /* the shared file, with this device's lines */
} station_dev;

typedef struct station {
	flash_run *main;
	station_dev *devs;
	size_t n, next;
	pthread_mutex_t lock; /* output, and the next device to take */
	tool_board board;
} station;

/* Redraws every row in place: the board is at most 64 rows, redrawn only
 * when a device's text changes. */
void tool_board_set(tool_board *b, size_t row, const char *text)
{
	if (row < b->n)
		snprintf(b->rows[row], ROW_MAX, "%s", text);
	if (b->drawn)
		fprintf(stderr, "\033[%zuA", b->n);
	for (size_t i = 0; i < b->n; i++)
		fprintf(stderr, "\r\033[K%-16s %.*s\n", b->paths[i], ROW_MAX - 20, b->rows[i]);
	b->drawn = true;
	fflush(stderr);
}

/* A context like the main one: the same time limits and retries. */
static dfk_code worker_ctx(const dfk_ctx *from, dfk_ctx **out, dfk_error *err)
{
	dfk_code rc = dfk_ctx_new(out, err);
	if (rc)
		return rc;
	static const dfk_timeout kinds[] = {DFK_TIMEOUT_USB, DFK_TIMEOUT_POLL_CAP, DFK_TIMEOUT_OPERATION,
					    DFK_TIMEOUT_REENUM};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		dfk_ctx_set_timeout(*out, kinds[i], dfk_ctx_timeout(from, kinds[i]), NULL);
	dfk_ctx_set_max_error_retries(*out, dfk_ctx_max_error_retries(from));
	return DFK_OK;
}

/* Finds the device again through the thread's own transport, by its path,
 * and runs the job on it. */
static dfk_code run_one(station_dev *d)
{
	flash_run *r = &d->r;
	dfk_code rc = tool_flash_open_transport(r);
	if (rc == DFK_OK)
		rc = dfk_transport_set_only_path(r->t, d->path, &r->err);
	if (rc)
		return rc;
	dfk_match m = r->o->match;
	m.path = d->path;
	m.devnum = DFK_MATCH_ANY;
	dfk_found *found = NULL;
	rc = dfk_find(r->ctx, r->t, &m, &found, &r->err);
	if (rc)
		return rc;
	if (dfk_found_count(found) == 0) {
		dfk_found_free(found);
		return dfk_error_set(&r->err, DFK_ERR_NODEV, "the device is gone");
	}
	rc = tool_flash_device(r, found, dfk_found_get(found, 0)->dev);
	dfk_found_free(found);
	return rc;
}

static void *worker(void *arg)
{
	station *st = arg;
	for (;;) {
		pthread_mutex_lock(&st->lock);
		size_t i = st->next < st->n ? st->next++ : st->n;
		pthread_mutex_unlock(&st->lock);
		if (i >= st->n)
			return NULL;
		station_dev *d = &st->devs[i];
		if (dfk_ctx_cancelled(d->r.ctx))
			d->rc = dfk_error_set(&d->r.err, DFK_ERR_CANCELLED, "cancelled before it started");
		else
			d->rc = run_one(d);
		if (d->r.t) {
			dfk_transport_free(d->r.t);
			d->r.t = NULL;
		}
		tool_ui_device_result(&d->r.ui, d->rc, d->r.err.msg, d->r.bytes, d->r.verified);
		d->done = true;
	}
}

/* The devices' firmware: the images shared, the targets array copied (a
 * job sets the alt of a non-DfuSe target). */
static dfk_code share_firmware(const flash_run *from, flash_run *to, dfk_error *err)
{
	if (!from->have_fw)
		return DFK_OK;
	to->fw = from->fw;
	to->fw.targets = calloc(from->fw.ntargets ? from->fw.ntargets : 1, sizeof(*to->fw.targets));
	if (!to->fw.targets)
		return dfk_error_set(err, DFK_ERR_NOMEM, "out of memory");
	memcpy(to->fw.targets, from->fw.targets, from->fw.ntargets * sizeof(*to->fw.targets));
	to->have_fw = true;
	return DFK_OK;
}

static dfk_code setup(station *st, const char (*paths)[TOOL_PATH_MAX])
{
	flash_run *r = st->main;
	bool board = r->ui.tty && !r->ui.json;
	if (board) {
		st->board.n = st->n;
		st->board.rows = calloc(st->n, sizeof(*st->board.rows));
		st->board.paths = calloc(st->n, sizeof(*st->board.paths));
		if (!st->board.rows || !st->board.paths)
			return dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < st->n; i++) {
		station_dev *d = &st->devs[i];
		snprintf(d->path, sizeof(d->path), "%s", paths[i]);
		tool_sanitize(paths[i], d->shown, sizeof(d->shown));
		flash_run *w = &d->r;
		w->o = r->o;
		w->op = r->op;
		dfk_error_clear(&w->err);
		tool_ui_init(&w->ui, r->o->json, r->o->verbose);
		w->ui.device = d->shown;
		w->ui.lock = &st->lock;
		if (board) {
			w->ui.board = &st->board;
			w->ui.row = i;
			snprintf(st->board.paths[i], sizeof(st->board.paths[i]), "%s", d->shown);
			snprintf(st->board.rows[i], ROW_MAX, "waiting");
		}
		dfk_code rc = worker_ctx(r->ctx, &w->ctx, &r->err);
		if (rc == DFK_OK)
			rc = share_firmware(r, w, &r->err);
		if (rc)
			return rc;
		tool_ui_attach(&w->ui, w->ctx);
		if (r->trace) {
			d->trace = *r->trace;
			d->trace.device = d->shown;
			d->trace.lock = &st->lock;
			d->trace.ui = r->trace->ui ? &w->ui : NULL;
			tool_trace_attach(&d->trace, w->ctx);
		}
	}
	return DFK_OK;
}

static void teardown(station *st)
{
	for (size_t i = 0; i < st->n; i++) {
		flash_run *w = &st->devs[i].r;
		if (w->have_fw)
			free(w->fw.targets);
		dfk_ctx_free(w->ctx);
	}
	free(st->board.rows);
	free(st->board.paths);
}

/* The summary: counts, and each failed device with its reason. The run's
 * error is the first failed device's, its message naming them all. */
static dfk_code summarise(station *st)
{
	flash_run *r = st->main;
	size_t failed = 0;
	dfk_code first = DFK_OK;
	char names[512] = "";
	size_t used = 0;
	uint64_t bytes = 0;
	bool all_verified = true;
	for (size_t i = 0; i < st->n; i++) {
		station_dev *d = &st->devs[i];
		bytes += d->r.bytes;
		all_verified = all_verified && d->r.verified;
		if (d->rc == DFK_OK)
			continue;
		failed++;
		if (first == DFK_OK) {
			first = d->rc;
			r->err = d->r.err;
		}
		if (used < sizeof(names))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s\"%s\"", failed > 1 ? ", " : "",
						 d->shown);
	}
	r->bytes = bytes;
	r->verified = all_verified && failed == 0;
	tool_ui_info(&r->ui, "Summary: %zu passed, %zu failed (of %zu devices)", st->n - failed, failed, st->n);
	for (size_t i = 0; i < st->n; i++) {
		station_dev *d = &st->devs[i];
		if (d->rc)
			tool_ui_info(&r->ui, "  FAILED [%s]: %s", d->shown, d->r.err.msg);
	}
	/* For the --json result. */
	FILE *f = fmemopen(r->dev_json, sizeof(r->dev_json), "w");
	if (f) {
		fprintf(f, ",\"passed\":%zu,\"failed\":%zu,\"failed_devices\":[", st->n - failed, failed);
		for (size_t i = 0, k = 0; i < st->n; i++)
			if (st->devs[i].rc) {
				fputs(k++ ? "," : "", f);
				tool_json_string(f, st->devs[i].shown);
			}
		fputc(']', f);
		long len = ftell(f);
		bool bad = ferror(f) != 0;
		fclose(f);
		if (bad || len < 0 || len >= (long)sizeof(r->dev_json) - 1)
			r->dev_json[0] = '\0';
	}
	if (failed == 0)
		return DFK_OK;
	char why[DFK_ERROR_MSG_MAX];
	snprintf(why, sizeof(why), "%s", r->err.msg);
	return dfk_error_set(&r->err, first, "%zu of %zu devices failed (path %s); the first: %s", failed, st->n, names,
			     why);
}

dfk_code tool_station_run(flash_run *r, const char (*paths)[TOOL_PATH_MAX], size_t ndevs)
{
	station st;
	memset(&st, 0, sizeof(st));
	st.main = r;
	st.n = ndevs;
	st.devs = calloc(ndevs, sizeof(*st.devs));
	if (!st.devs)
		return dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&st.lock, NULL);
	dfk_code rc = setup(&st, paths);

	size_t nthreads = r->o->jobs > 0 && (size_t)r->o->jobs < ndevs ? (size_t)r->o->jobs : ndevs;
	pthread_t *threads = rc == DFK_OK ? calloc(nthreads, sizeof(*threads)) : NULL;
	dfk_ctx **ctxs = rc == DFK_OK ? calloc(ndevs + 1, sizeof(*ctxs)) : NULL;
	if (rc == DFK_OK && (!threads || !ctxs))
		rc = dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
	size_t started = 0;
	if (rc == DFK_OK) {
		tool_ui_info(&r->ui, "%zu devices, %zu at a time", ndevs, nthreads);
		/* A signal cancels every device's job. */
		ctxs[0] = r->ctx;
		for (size_t i = 0; i < ndevs; i++)
			ctxs[i + 1] = st.devs[i].r.ctx;
		tool_signal_install_many(ctxs, ndevs + 1);
		if (st.board.n) {
			pthread_mutex_lock(&st.lock);
			tool_board_set(&st.board, st.n, "");
			pthread_mutex_unlock(&st.lock);
		}
		for (; started < nthreads; started++) {
			if (pthread_create(&threads[started], NULL, worker, &st) != 0) {
				rc = dfk_error_set(&r->err, DFK_ERR_SOFTWARE, "cannot start a thread for device %zu",
						   started + 1);
				break;
			}
		}
	}
	/* Threads started keep taking devices until none is left, so a
	 * failure to start one more only lowers the concurrency. */
	if (started > 0)
		rc = DFK_OK;
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (ctxs)
		tool_signal_install(r->ctx);
	if (rc == DFK_OK)
		rc = summarise(&st);
	teardown(&st);
	free(threads);
	free(ctxs);
	pthread_mutex_destroy(&st.lock);
	free(st.devs);
	return rc;
}
