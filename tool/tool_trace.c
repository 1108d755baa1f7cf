/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* -v -v and --trace FILE: one line per USB request the library made (setup
 * packet, data, result, time), for a user to attach to a bug report. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* Bytes of a data stage shown; the length is always given. */
#define TRACE_DATA_MAX 16

static const char *dfu_request(uint8_t req)
{
	static const char *const names[] = {"DFU_DETACH",    "DFU_DNLOAD",   "DFU_UPLOAD", "DFU_GETSTATUS",
					    "DFU_CLRSTATUS", "DFU_GETSTATE", "DFU_ABORT"};
	return req < sizeof(names) / sizeof(names[0]) ? names[req] : "class request";
}

static const char *request_name(const dfk_setup *s)
{
	unsigned type = (s->bmRequestType >> 5) & 3u;
	if (type == 1 && (s->bmRequestType & 0x1f) == 1)
		return dfu_request(s->bRequest);
	if (type != 0)
		return "request";
	switch (s->bRequest) {
	case 0x06:
		switch (s->wValue >> 8) {
		case 1: return "GET_DESCRIPTOR(device)";
		case 2: return "GET_DESCRIPTOR(configuration)";
		case 3: return "GET_DESCRIPTOR(string)";
		default: return "GET_DESCRIPTOR";
		}
	case 0x0B: return "SET_INTERFACE";
	case 0x00: return "GET_STATUS";
	default: return "standard request";
	}
}

/* Formats ev into line (one line, no newline). */
static void format_event(const tool_trace *tr, const dfk_trace_event *ev, char *line, size_t size)
{
	uint64_t t = ev->start_ms - tr->t0;
	int n = snprintf(line, size, "usb %4" PRIu64 ".%03" PRIu64 " ", t / 1000, t % 1000);
	size_t used = n > 0 ? (size_t)n : 0;
#define ADD(...)                                                                                                       \
	do {                                                                                                           \
		if (used < size) {                                                                                     \
			int m = snprintf(line + used, size - used, __VA_ARGS__);                                       \
			used += m > 0 ? (size_t)m : 0;                                                                 \
		}                                                                                                      \
	} while (0)
	const dfk_setup *s = &ev->setup;
	switch (ev->kind) {
	case DFK_TRACE_CLAIM: ADD("claim interface %u", s->wIndex); break;
	case DFK_TRACE_RESET: ADD("bus reset"); break;
	default:
		ADD("%s %02x %02x %04x %04x %04x %s", (s->bmRequestType & 0x80) ? "IN " : "OUT", s->bmRequestType,
		    s->bRequest, s->wValue, s->wIndex, s->wLength, request_name(s));
		break;
	}
	if (ev->result == DFK_OK) {
		if (ev->kind == DFK_TRACE_CONTROL)
			ADD(" -> %zu bytes", ev->actual);
		ADD(" OK");
	} else {
		ADD(" -> %s", dfk_code_name(ev->result));
	}
	ADD(" %" PRIu64 " ms", ev->duration_ms);
	if (ev->data_len) {
		ADD(" [");
		for (size_t i = 0; i < ev->data_len && i < TRACE_DATA_MAX; i++)
			ADD(i ? " %02x" : "%02x", ev->data[i]);
		ADD(ev->data_len > TRACE_DATA_MAX ? " ...]" : "]");
	}
	if (ev->message)
		ADD(": %s", ev->message);
#undef ADD
}

static void on_trace(void *user, const dfk_trace_event *ev)
{
	tool_trace *tr = user;
	char line[TOOL_TRACE_LINE_MAX];

	if (!tr->started) {
		tr->t0 = ev->start_ms;
		tr->started = true;
	}
	format_event(tr, ev, line, sizeof(line));
	if (tr->file) {
		if (tr->lock)
			pthread_mutex_lock(tr->lock);
		if (tr->device)
			fprintf(tr->file, "[%s] ", tr->device);
		fprintf(tr->file, "%s\n", line);
		/* A trace is for what went wrong: it must survive a crash or a
		 * kill, so every line is flushed. */
		fflush(tr->file);
		if (tr->lock)
			pthread_mutex_unlock(tr->lock);
	}
	if (tr->ui)
		tool_ui_trace(tr->ui, line);
}

dfk_code tool_trace_open(tool_trace *tr, const char *path, tool_ui *ui, dfk_error *err)
{
	memset(tr, 0, sizeof(*tr));
	tr->ui = ui;
	if (!path)
		return DFK_OK;
	tr->file = fopen(path, "w");
	if (!tr->file)
		return dfk_error_set(err, DFK_ERR_CANTCREAT, "cannot create trace file %s: %s", path, strerror(errno));
	return DFK_OK;
}

void tool_trace_attach(tool_trace *tr, dfk_ctx *ctx)
{
	if (tr->file || tr->ui)
		dfk_ctx_set_trace(ctx, on_trace, tr);
}

dfk_code tool_trace_close(tool_trace *tr, dfk_error *err)
{
	dfk_code rc = DFK_OK;
	if (tr->file && fclose(tr->file) != 0)
		rc = dfk_error_set(err, DFK_ERR_IO, "cannot write the trace file: %s", strerror(errno));
	tr->file = NULL;
	return rc;
}
