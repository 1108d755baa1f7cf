/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: what the flashing command line shows while it works.
 *
 * Three modes: a bar redrawn in place when stderr is a terminal, plain
 * lines when it is not (CI logs), and JSON events on stdout with --json. The
 * library reports through dfk_ctx callbacks and never prints itself.
 *
 * With several devices at once (tool_station.c) each device's thread has its
 * own tool_ui: its lines are prefixed with the device's path (JSON events
 * carry it as "device"), or on a terminal become its row of the board, and
 * one lock keeps the threads' output whole. */
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

#define BAR_WIDTH 30

void tool_sanitize(const char *s, char *out, size_t outsz)
{
	dfk_sanitize(s ? s : "", out, outsz);
}

void tool_ui_init(tool_ui *ui, bool json, int verbose)
{
	memset(ui, 0, sizeof(*ui));
	ui->json = json;
	ui->verbose = verbose;
	ui->tty = !json && isatty(STDERR_FILENO);
	ui->phase = -1;
	ui->last_pct = -1;
}

void tool_ui_break(tool_ui *ui)
{
	if (ui->bar_open) {
		fputc('\n', stderr);
		ui->bar_open = false;
	}
}

static void lock(tool_ui *ui)
{
	if (ui->lock)
		pthread_mutex_lock(ui->lock);
}

static void unlock(tool_ui *ui)
{
	if (ui->lock)
		pthread_mutex_unlock(ui->lock);
}

/* One JSON object on stdout: members (without braces), then the device. */
static void out_json(tool_ui *ui, const char *members)
{
	lock(ui);
	printf("{%s", members);
	if (ui->device) {
		printf(",\"device\":");
		tool_json_string(stdout, ui->device);
	}
	printf("}\n");
	fflush(stdout);
	unlock(ui);
}

/* One line of text (sanitised already): the device's row on the board, or
 * the line on f, after the device's path when there is one. */
static void out_text(tool_ui *ui, FILE *f, const char *text)
{
	lock(ui);
	if (ui->board) {
		tool_board_set(ui->board, ui->row, text);
	} else {
		tool_ui_break(ui);
		if (ui->device)
			fprintf(f, "[%s] ", ui->device);
		fprintf(f, "%s\n", text);
		fflush(f);
	}
	unlock(ui);
}

static void json_event(tool_ui *ui, const char *event, const char *key, const char *msg)
{
	char clean[DFK_ERROR_MSG_MAX];
	tool_sanitize(msg, clean, sizeof(clean));
	char members[DFK_ERROR_MSG_MAX * 2 + 64];
	FILE *f = fmemopen(members, sizeof(members), "w");
	if (!f)
		return;
	fprintf(f, "\"event\":\"%s\",\"%s\":", event, key);
	tool_json_string(f, clean);
	fputc('\0', f);
	fclose(f);
	members[sizeof(members) - 1] = '\0';
	out_json(ui, members);
}

static void vline(tool_ui *ui, FILE *f, const char *event, const char *prefix, const char *fmt, va_list ap)
{
	char buf[DFK_ERROR_MSG_MAX];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (ui->json) {
		json_event(ui, event, "message", buf);
		return;
	}
	char clean[DFK_ERROR_MSG_MAX], line[DFK_ERROR_MSG_MAX + 64];
	tool_sanitize(buf, clean, sizeof(clean));
	snprintf(line, sizeof(line), "%s%s", prefix, clean);
	out_text(ui, f, line);
}

void tool_ui_info(tool_ui *ui, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(ui, stdout, "info", "", fmt, ap);
	va_end(ap);
}

void tool_ui_warn(tool_ui *ui, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "%s: warning: ", tool_progname());
	vline(ui, stderr, "warning", prefix, fmt, ap);
	va_end(ap);
}

void tool_ui_device_result(tool_ui *ui, dfk_code code, const char *msg, uint64_t bytes, bool verified)
{
	char clean[DFK_ERROR_MSG_MAX];
	tool_sanitize(code ? msg : "", clean, sizeof(clean));
	if (!ui->json) {
		char line[DFK_ERROR_MSG_MAX + 16];
		if (code)
			snprintf(line, sizeof(line), "FAILED: %s", clean);
		else
			snprintf(line, sizeof(line), "passed: %llu bytes%s", (unsigned long long)bytes,
				 verified ? ", verified" : "");
		out_text(ui, code ? stderr : stdout, line);
		return;
	}
	char members[DFK_ERROR_MSG_MAX * 2 + 128];
	FILE *f = fmemopen(members, sizeof(members), "w");
	if (!f)
		return;
	fprintf(f, "\"event\":\"result\",\"result\":\"%s\",\"exit\":%d,\"bytes\":%llu,\"verified\":%s",
		code ? "error" : "ok", tool_exit_status(code), (unsigned long long)bytes, verified ? "true" : "false");
	if (code) {
		fprintf(f, ",\"code\":\"%s\",\"message\":", dfk_code_name(code));
		tool_json_string(f, clean);
	}
	fputc('\0', f);
	fclose(f);
	members[sizeof(members) - 1] = '\0';
	out_json(ui, members);
}

void tool_ui_error(tool_ui *ui, const char *msg)
{
	if (ui->json)
		return; /* the message goes into the result object */
	char clean[DFK_ERROR_MSG_MAX];
	tool_sanitize(msg, clean, sizeof(clean));
	tool_ui_break(ui);
	fprintf(stderr, "%s: %s\n", tool_progname(), clean);
}

void tool_ui_hint(tool_ui *ui, const char *msg)
{
	if (ui->json)
		return;
	tool_ui_break(ui);
	fprintf(stderr, "%s: hint: %s\n", tool_progname(), msg);
}

void tool_ui_result(tool_ui *ui, int exit_code, dfk_code code, const char *msg, const char *op, const char *extra)
{
	if (!ui->json)
		return;
	char clean[DFK_ERROR_MSG_MAX];
	printf("{\"result\":\"%s\",\"exit\":%d", exit_code == 0 ? "ok" : "error", exit_code);
	if (op) {
		printf(",\"operation\":");
		tool_json_string(stdout, op);
	}
	if (exit_code != 0) {
		printf(",\"code\":\"%s\",\"message\":", dfk_code_name(code));
		tool_sanitize(msg, clean, sizeof(clean));
		tool_json_string(stdout, clean);
	}
	if (extra)
		fputs(extra, stdout);
	printf("}\n");
	fflush(stdout);
}

static void on_log(void *user, dfk_log_level level, const char *msg)
{
	tool_ui *ui = user;
	if (level <= DFK_LOG_WARN) {
		tool_ui_warn(ui, "%s", msg);
		return;
	}
	if ((level == DFK_LOG_INFO && ui->verbose >= 1) || (level == DFK_LOG_DEBUG && ui->verbose >= 2)) {
		if (ui->json) {
			json_event(ui, level == DFK_LOG_INFO ? "info" : "debug", "message", msg);
		} else {
			char clean[DFK_ERROR_MSG_MAX];
			tool_sanitize(msg, clean, sizeof(clean));
			out_text(ui, stderr, clean);
		}
	}
}

void tool_ui_trace(tool_ui *ui, const char *line)
{
	if (ui->json) {
		json_event(ui, "trace", "message", line);
		return;
	}
	out_text(ui, stderr, line);
}

static void draw_bar(tool_ui *ui, const char *name, int pct, uint64_t done)
{
	char bar[BAR_WIDTH + 1];
	int fill = pct * BAR_WIDTH / 100;
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '=' : ' ';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r%-9s [%s] %3d%% %12llu bytes", name, bar, pct, (unsigned long long)done);
	ui->bar_open = true;
}

static void progress_json(tool_ui *ui, const char *name, uint64_t done, uint64_t total, uint32_t addr)
{
	char members[160];
	snprintf(members, sizeof(members),
		 "\"event\":\"progress\",\"phase\":\"%s\",\"done\":%llu,\"total\":%llu,\"address\":%lu", name,
		 (unsigned long long)done, (unsigned long long)total, (unsigned long)addr);
	out_json(ui, members);
}

/* A progress line (not a terminal), or the device's row of the board. */
static void progress_line(tool_ui *ui, const char *fmt, ...) DFK_PRINTF(2, 3);
static void progress_line(tool_ui *ui, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	out_text(ui, stderr, line);
}

/* Plain DFU upload does not know its length (it ends at a short block):
 * show the byte count, a step per 64 KiB. */
static void on_progress_unknown(tool_ui *ui, const char *name, uint64_t done, uint32_t addr, bool first)
{
	long long step = (long long)(done / 65536u);
	if (!first && step == ui->last_step)
		return;
	ui->last_step = step;
	if (ui->json) {
		progress_json(ui, name, done, 0, addr);
	} else if (ui->board) {
		progress_line(ui, "%-9s %12llu bytes", name, (unsigned long long)done);
	} else if (ui->tty) {
		fprintf(stderr, "\r%-9s %12llu bytes", name, (unsigned long long)done);
		ui->bar_open = true;
		fflush(stderr);
	} else if (first) {
		progress_line(ui, "%s: until the device ends the transfer", name);
	}
}

static void on_progress(void *user, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	tool_ui *ui = user;
	if (total == 0 && phase == DFK_PHASE_UPLOAD)
		total = ui->expected; /* -Z scales the bar, as in dfu-util */
	if (tool_as == TOOL_AS_DFU_UTIL && !ui->json && !ui->device) {
		tool_compat_progress(ui, phase, done, total);
		return;
	}
	int pct = total ? (int)(done * 100 / total) : 100;
	if (pct > 100)
		pct = 100;
	bool new_phase = ui->phase != (int)phase || (done == 0 && ui->last_pct == 100);
	if (new_phase) {
		tool_ui_break(ui);
		ui->phase = (int)phase;
		ui->last_pct = -1;
	}
	if (total == 0 && phase == DFK_PHASE_UPLOAD) {
		on_progress_unknown(ui, dfk_phase_name(phase), done, addr, new_phase);
		ui->last_pct = 0;
		return;
	}
	if (pct == ui->last_pct)
		return;
	int prev = ui->last_pct;
	ui->last_pct = pct;
	const char *name = dfk_phase_name(phase);
	if (ui->json) {
		progress_json(ui, name, done, total, addr);
		return;
	}
	/* Detach and manifestation are single steps, not worth a bar. */
	if (phase == DFK_PHASE_DETACH || phase == DFK_PHASE_MANIFEST)
		return;
	if (ui->board) {
		progress_line(ui, "%-9s %3d%% %12llu bytes", name, pct, (unsigned long long)done);
		return;
	}
	if (ui->tty) {
		draw_bar(ui, name, pct, done);
		if (pct == 100)
			tool_ui_break(ui);
		fflush(stderr);
		return;
	}
	/* Not a terminal: a line when a phase starts and ends, and every 25%
	 * with -v, so logs stay short. */
	if (total <= 1) { /* a single step (mass erase): no byte counts */
		if (pct == 100)
			progress_line(ui, "%s: done", name);
		return;
	}
	if (prev < 0)
		progress_line(ui, "%s: %llu bytes from 0x%08lx", name, (unsigned long long)total, (unsigned long)addr);
	if (pct == 100)
		progress_line(ui, "%s: done, %llu bytes", name, (unsigned long long)done);
	else if (ui->verbose >= 1 && prev >= 0 && pct / 25 != prev / 25)
		progress_line(ui, "%s: %d%% (%llu bytes, at 0x%08lx)", name, pct, (unsigned long long)done,
			      (unsigned long)addr);
}

void tool_ui_attach(tool_ui *ui, dfk_ctx *ctx)
{
	dfk_ctx_set_log(ctx, on_log, ui);
	dfk_ctx_set_progress(ctx, on_progress, ui);
}
