/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: JSON report lines in the format of dfukit --json. */
#include "gui_report.h"

#include <string.h>

void gui_report_init(gui_report *r)
{
	r->text = g_string_new(NULL);
	r->device[0] = '\0';
}

void gui_report_free(gui_report *r)
{
	if (r->text)
		g_string_free(r->text, TRUE);
	r->text = NULL;
}

void gui_report_json_string(GString *out, const char *s)
{
	bool utf8 = s && g_utf8_validate(s, -1, NULL);
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		switch (*p) {
		case '"': g_string_append(out, "\\\""); break;
		case '\\': g_string_append(out, "\\\\"); break;
		case '\n': g_string_append(out, "\\n"); break;
		case '\r': g_string_append(out, "\\r"); break;
		case '\t': g_string_append(out, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f || (!utf8 && *p > 0x7f))
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
}

void gui_report_event(gui_report *r, const char *event, const char *message)
{
	g_string_append_printf(r->text, "{\"event\":\"%s\",\"message\":", event);
	gui_report_json_string(r->text, message);
	g_string_append(r->text, "}\n");
}

void gui_report_progress(gui_report *r, const char *phase, uint64_t done, uint64_t total, uint32_t addr)
{
	g_string_append_printf(
	    r->text, "{\"event\":\"progress\",\"phase\":\"%s\",\"done\":%llu,\"total\":%llu,\"address\":%lu}\n", phase,
	    (unsigned long long)done, (unsigned long long)total, (unsigned long)addr);
}

void gui_report_device(gui_report *r, uint16_t vid, uint16_t pid, bool dfu_mode, const char *path, unsigned alt,
		       const char *serial)
{
	GString *s = g_string_new(NULL);
	g_string_append_printf(s, ",\"device\":{\"vid\":\"%04x\",\"pid\":\"%04x\",\"mode\":\"%s\",\"path\":", vid, pid,
			       dfu_mode ? "dfu" : "runtime");
	gui_report_json_string(s, path);
	g_string_append_printf(s, ",\"alt\":%u,\"serial\":", alt);
	gui_report_json_string(s, serial);
	g_string_append_c(s, '}');
	if (s->len < sizeof(r->device))
		memcpy(r->device, s->str, s->len + 1);
	g_string_free(s, TRUE);
}

void gui_report_result(gui_report *r, const char *op, int code, int exit_code, const char *code_name,
		       const char *message, uint64_t bytes, bool is_download, bool verified)
{
	g_string_append_printf(r->text, "{\"result\":\"%s\",\"exit\":%d,\"operation\":\"%s\"", code ? "error" : "ok",
			       exit_code, op);
	if (code) {
		g_string_append_printf(r->text, ",\"code\":\"%s\",\"message\":", code_name);
		gui_report_json_string(r->text, message);
	} else {
		g_string_append_printf(r->text, ",\"bytes\":%llu", (unsigned long long)bytes);
		if (is_download)
			g_string_append_printf(r->text, ",\"verified\":%s", verified ? "true" : "false");
	}
	g_string_append_printf(r->text, "%s}\n", r->device);
}
