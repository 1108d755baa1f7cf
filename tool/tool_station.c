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
#include <stdatomic.h>
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
	_Atomic bool done; /* its thread has finished (watch mode reaps it) */
	bool running;	   /* watch mode: the slot has a thread */
	pthread_t thread;
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

/* A device's run: its path, output (a row when board is set already),
 * context, firmware and trace. */
static dfk_code init_dev(station *st, station_dev *d, const char *path, size_t row)
{
	flash_run *r = st->main;
	tool_board *board = d->r.ui.board;
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", path);
	tool_sanitize(path, d->shown, sizeof(d->shown));
	flash_run *w = &d->r;
	w->o = r->o;
	w->op = r->op;
	dfk_error_clear(&w->err);
	tool_ui_init(&w->ui, r->o->json, r->o->verbose);
	w->ui.tty = false; /* several bars cannot share a line: rows or lines */
	w->ui.device = d->shown;
	w->ui.lock = &st->lock;
	w->ui.board = board;
	w->ui.row = row;
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
	return DFK_OK;
}

/* What init_dev set up. */
static void fini_dev(station_dev *d)
{
	if (d->r.have_fw)
		free(d->r.fw.targets);
	d->r.have_fw = false;
	dfk_ctx_free(d->r.ctx);
	d->r.ctx = NULL;
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
		if (board) {
			st->devs[i].r.ui.board = &st->board;
			tool_sanitize(paths[i], st->board.paths[i], sizeof(st->board.paths[i]));
			snprintf(st->board.rows[i], ROW_MAX, "waiting");
		}
		dfk_code rc = init_dev(st, &st->devs[i], paths[i], i);
		if (rc)
			return rc;
	}
	return DFK_OK;
}

static void teardown(station *st)
{
	for (size_t i = 0; i < st->n; i++)
		fini_dev(&st->devs[i]);
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

/* ---- --watch: each device once as it is plugged in ---------------------- */

/* How long a flashed device may be away and come back as the same one (a
 * re-enumeration after leave or reset) rather than a new board. */
#define WATCH_GRACE_MS 5000
#define WATCH_SCAN_MS 200
#define WATCH_FAILED_KEPT 64

static void *watch_slot(void *arg)
{
	station_dev *d = arg;
	d->rc = run_one(d);
	if (d->r.t) {
		dfk_transport_free(d->r.t);
		d->r.t = NULL;
	}
	tool_ui_device_result(&d->r.ui, d->rc, d->r.err.msg, d->r.bytes, d->r.verified);
	atomic_store(&d->done, true);
	return NULL;
}

typedef struct watch_run {
	station st;
	dfk_watch *w;
	dfk_ctx *scan_ctx; /* no log: a scan sees devices busy with our threads */
	dfk_ctx **ctxs;	   /* for the signal handler: the run's, then each slot's */
	size_t started, passed, failed, running;
	char failed_paths[WATCH_FAILED_KEPT][TOOL_PATH_MAX];
	char failed_msgs[WATCH_FAILED_KEPT][DFK_ERROR_MSG_MAX];
	dfk_code first_rc;
	dfk_error first_err;
	size_t scans_ok;
	char last_warning[DFK_ERROR_MSG_MAX];
} watch_run;

static uint64_t wall_ms(const dfk_ctx *ctx)
{
	const dfk_clock *c = dfk_ctx_clock(ctx);
	return c->now_ms(c->user);
}

/* Joins the slots whose job has ended, and counts them. */
static void reap(watch_run *wr, bool wait_all)
{
	flash_run *r = wr->st.main;
	for (size_t i = 0; i < wr->st.n; i++) {
		station_dev *d = &wr->st.devs[i];
		if (!d->running || (!wait_all && !atomic_load(&d->done)))
			continue;
		pthread_join(d->thread, NULL);
		d->running = false;
		wr->running--;
		if (d->rc == DFK_OK) {
			wr->passed++;
		} else {
			if (wr->failed < WATCH_FAILED_KEPT) {
				snprintf(wr->failed_paths[wr->failed], TOOL_PATH_MAX, "%s", d->shown);
				snprintf(wr->failed_msgs[wr->failed], DFK_ERROR_MSG_MAX, "%s", d->r.err.msg);
			}
			if (wr->first_rc == DFK_OK) {
				wr->first_rc = d->rc;
				wr->first_err = d->r.err;
			}
			wr->failed++;
		}
		dfk_watch_release(wr->w, d->path, wall_ms(r->ctx), NULL);
		wr->ctxs[i + 1] = NULL; /* before the context goes */
		fini_dev(d);
		tool_ui_info(&r->ui, "Done: %zu passed, %zu failed, %zu running", wr->passed, wr->failed, wr->running);
	}
}

/* Starts the job on the new device at path in a free slot; false when
 * every slot is busy (it stays new and is offered again). */
static bool start(watch_run *wr, const char *path)
{
	flash_run *r = wr->st.main;
	for (size_t i = 0; i < wr->st.n; i++) {
		station_dev *d = &wr->st.devs[i];
		if (d->running)
			continue;
		if (init_dev(&wr->st, d, path, i) || dfk_watch_take(wr->w, path, &r->err)) {
			fini_dev(d);
			tool_ui_warn(&r->ui, "cannot start on the device at %s: %s", d->shown, r->err.msg);
			dfk_error_clear(&r->err);
			return true;
		}
		wr->ctxs[i + 1] = d->r.ctx;
		atomic_store(&d->done, false);
		if (pthread_create(&d->thread, NULL, watch_slot, d) != 0) {
			wr->ctxs[i + 1] = NULL;
			fini_dev(d);
			return false; /* offered again at the next scan */
		}
		d->running = true;
		wr->running++;
		wr->started++;
		tool_ui_info(&r->ui, "New device at path \"%s\": started (%zu running)", d->shown, wr->running);
		return true;
	}
	return false;
}

/* One look at the bus through a transport of its own, released before
 * any job starts (a USB/IP server lets one host import a device). */
static dfk_code scan(watch_run *wr)
{
	flash_run *r = wr->st.main, s;
	memset(&s, 0, sizeof(s));
	s.o = r->o;
	s.ctx = wr->scan_ctx;
	dfk_error_clear(&s.err);
	dfk_code rc = tool_flash_open_transport(&s);
	dfk_found *found = NULL;
	if (rc == DFK_OK)
		rc = dfk_find(s.ctx, s.t, &r->o->match, &found, &s.err);
	size_t nnew = 0;
	if (rc == DFK_OK)
		rc = dfk_watch_scan(wr->w, found, wall_ms(r->ctx), &nnew, &s.err);
	dfk_found_free(found);
	dfk_transport_free(s.t);
	if (rc) {
		r->err = s.err;
		return rc;
	}
	uint64_t limit = r->o->count ? (uint64_t)r->o->count : UINT64_MAX;
	char path[TOOL_PATH_MAX];
	for (size_t i = 0; i < nnew && wr->started < limit; i++) {
		snprintf(path, sizeof(path), "%s", dfk_watch_new_path(wr->w, i));
		if (!start(wr, path))
			break;
	}
	return DFK_OK;
}

dfk_code tool_station_watch(flash_run *r)
{
	watch_run *wr = calloc(1, sizeof(*wr));
	if (!wr)
		return dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
	station *st = &wr->st;
	st->main = r;
	st->n = r->o->jobs > 0 ? (size_t)r->o->jobs : TOOL_STATION_MAX;
	st->devs = calloc(st->n, sizeof(*st->devs));
	wr->ctxs = calloc(st->n + 1, sizeof(*wr->ctxs));
	pthread_mutex_init(&st->lock, NULL);
	dfk_code rc = !st->devs || !wr->ctxs ? dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory") : DFK_OK;
	if (rc == DFK_OK)
		rc = worker_ctx(r->ctx, &wr->scan_ctx, &r->err);
	if (rc == DFK_OK)
		rc = dfk_watch_new(&wr->w, WATCH_GRACE_MS, &r->err);
	if (rc == DFK_OK) {
		wr->ctxs[0] = r->ctx;
		tool_signal_install_many(wr->ctxs, st->n + 1);
		if (r->o->count)
			tool_ui_info(&r->ui, "Waiting for devices: %ld to do, %zu at a time (interrupt to stop)",
				     r->o->count, st->n);
		else
			tool_ui_info(&r->ui, "Waiting for devices, %zu at a time (interrupt to stop)", st->n);
	}
	while (rc == DFK_OK) {
		reap(wr, false);
		if (r->o->count && wr->passed + wr->failed >= (size_t)r->o->count)
			break;
		if (dfk_ctx_cancelled(r->ctx))
			break;
		rc = scan(wr);
		/* The first look fails the run (a wrong address, say); later a
		 * server restarting or a bus hiccup is waited out, said once. */
		if (rc == DFK_OK) {
			wr->scans_ok++;
			wr->last_warning[0] = '\0';
		} else if (wr->scans_ok > 0 && rc != DFK_ERR_NOMEM) {
			if (strcmp(wr->last_warning, r->err.msg) != 0) {
				tool_ui_warn(&r->ui, "%s (still watching)", r->err.msg);
				snprintf(wr->last_warning, sizeof(wr->last_warning), "%s", r->err.msg);
			}
			dfk_error_clear(&r->err);
			rc = DFK_OK;
		}
		if (rc == DFK_OK && dfk_ctx_sleep(r->ctx, WATCH_SCAN_MS) == DFK_ERR_CANCELLED)
			break;
	}
	reap(wr, true); /* a signal cancelled the jobs still running */
	tool_signal_install(r->ctx);

	if (rc == DFK_OK) {
		tool_ui_info(&r->ui, "Summary: %zu passed, %zu failed (of %zu devices)", wr->passed, wr->failed,
			     wr->passed + wr->failed);
		for (size_t i = 0; i < wr->failed && i < WATCH_FAILED_KEPT; i++)
			tool_ui_info(&r->ui, "  FAILED [%s]: %s", wr->failed_paths[i], wr->failed_msgs[i]);
		snprintf(r->dev_json, sizeof(r->dev_json), ",\"passed\":%zu,\"failed\":%zu", wr->passed, wr->failed);
		if (wr->failed) {
			char why[DFK_ERROR_MSG_MAX];
			snprintf(why, sizeof(why), "%s", wr->first_err.msg);
			rc = dfk_error_set(&r->err, wr->first_rc, "%zu of %zu devices failed; the first (%s): %s",
					   wr->failed, wr->passed + wr->failed, wr->failed_paths[0], why);
		}
	}
	dfk_watch_free(wr->w);
	dfk_ctx_free(wr->scan_ctx);
	free(wr->ctxs);
	free(st->devs);
	pthread_mutex_destroy(&st->lock);
	free(wr);
	return rc;
}
