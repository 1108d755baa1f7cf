/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: device listing and jobs on worker threads, over libdfukit.
 *
 * Every libdfukit call that touches a device is in this file, so a change
 * of the library's context or transport API is a change here only.
 *
 * Local USB is rescanned on libusb hotplug events where libusb supports
 * them (libusb is used directly for that alone: libdfukit offers no
 * hotplug notification); USB/IP servers, and local USB without hotplug,
 * are polled. */
#include "gui_worker.h"

#include <glib.h>
#include <libusb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gui_report.h"
#include "gui_station.h"
#include "tool_exit.h"

/* ---- Library context and transports ---- */

static dfk_code transport_open(const dfk_ctx *ctx, const char *source, dfk_transport **t, dfk_error *err)
{
	if (strcmp(source, "libusb") == 0)
		return dfk_transport_libusb_new(t, ctx, 0, err);
	dfk_code rc = dfk_transport_usbip_new(t, ctx, source, err);
	if (rc)
		dfk_error_prefix(err, "USB/IP %s", source);
	return rc;
}

/* NULL when out of memory. */
static dfk_ctx *ctx_new(dfk_log_fn log, void *log_user, dfk_progress_fn progress, void *progress_user)
{
	dfk_ctx *ctx = NULL;
	if (dfk_ctx_new(&ctx, NULL))
		return NULL;
	dfk_ctx_set_log(ctx, log, log_user);
	dfk_ctx_set_progress(ctx, progress, progress_user);
	return ctx;
}

/* ---- Scanner ---- */

struct gui_scanner {
	GThread *thread;
	GMutex lock;
	GCond wake;
	GCond idle;   /* signalled when a source's listing ends */
	int scanning; /* index of the source being listed, or -1 */
	bool stop;
	char **sources;
	int *busy; /* jobs holding each source (not listed meanwhile) */
	/* Station mode's new arrivals, fed by every listing (under lock). */
	gui_arrivals *arrivals;
	unsigned interval_ms;
	gui_scan_cb cb;
	void *user;
	/* Last list per source, kept while the source is busy. */
	gui_device_list *last;
	gint64 *next_due; /* monotonic time of each source's next listing */
	/* libusb hotplug: its own context, events handled on usb_thread; the
	 * callback only flags the event and wakes the scanner. */
	int libusb_index; /* the "libusb" source, or -1 */
	bool hotplug;
	bool hotplug_event;
	libusb_context *usb;
	libusb_hotplug_callback_handle hp;
	GThread *usb_thread;
	atomic_bool usb_stop;
};

/* With hotplug, local USB is listed again at once on an event, once more
 * an interval later (a device may not be openable at its first sight),
 * and otherwise every HOTPLUG_FALLBACK intervals. */
#define HOTPLUG_FALLBACK 5
#define HOTPLUG_SETTLE_US (250 * 1000)

typedef struct scan_delivery {
	gui_scanner *s;
	gui_device_list list;
	char *problems;
} scan_delivery;

/* Warnings of one scan: the reason a device could not be opened. */
typedef struct scan_log {
	GString *warnings;
} scan_log;

static void scan_on_log(void *user, dfk_log_level level, const char *msg)
{
	scan_log *l = user;
	if (level <= DFK_LOG_WARN)
		g_string_append_printf(l->warnings, "%s\n", msg);
}

static bool has_dfu_interface(const dfk_usb_dev *ud)
{
	for (size_t c = 0; c < ud->nconfigs; c++)
		for (size_t a = 0; a < ud->configs[c].nalts; a++)
			if (ud->configs[c].alts[a].bInterfaceClass == 0xfe &&
			    ud->configs[c].alts[a].bInterfaceSubClass == 0x01)
				return true;
	return false;
}

static void product_name(const dfk_ctx *ctx, dfk_transport *t, const dfk_usb_dev *ud, char *out, size_t outsz)
{
	dfk_usb *h = NULL;
	dfk_error e;
	char raw[256] = "";
	uint16_t langid = 0;
	if (ud->desc.iProduct && dfk_usb_open(t, ud, &h, &e) == DFK_OK) {
		if (dfk_usb_get_string(h, ud->desc.iProduct, &langid, raw, sizeof(raw),
				       dfk_ctx_timeout(ctx, DFK_TIMEOUT_USB), &e))
			raw[0] = '\0';
		dfk_usb_close(h);
	}
	if (raw[0])
		dfk_sanitize(raw, out, outsz);
	else
		snprintf(out, outsz, "DFU device");
}

/* The line of the warnings that names this device's port path. */
static void open_reason(const char *warnings, const char *path, char *out, size_t outsz)
{
	char needle[80];
	snprintf(needle, sizeof(needle), " at %s: ", path);
	const char *hit = strstr(warnings, needle);
	if (!hit) {
		snprintf(out, outsz, "the device could not be opened");
		return;
	}
	const char *start = hit;
	while (start > warnings && start[-1] != '\n')
		start--;
	const char *end = strchr(hit, '\n');
	size_t n = end ? (size_t)(end - start) : strlen(start);
	char raw[512];
	snprintf(raw, sizeof(raw), "%.*s", (int)(n < sizeof(raw) - 1 ? n : sizeof(raw) - 1), start);
	dfk_sanitize(raw, out, outsz);
}

static uint64_t now_ms(void)
{
	return (uint64_t)(g_get_monotonic_time() / 1000);
}

static void scan_source(gui_scanner *s, const char *source, gui_device_list *out, GString *problems)
{
	scan_log log = {g_string_new(NULL)};
	dfk_ctx *ctx = ctx_new(scan_on_log, &log, NULL, NULL);
	dfk_transport *t = NULL;
	dfk_error err;
	dfk_error_clear(&err);
	dfk_found *found = NULL;
	if (!ctx) {
		g_string_append_printf(problems, "%sout of memory", problems->len ? "\n" : "");
		goto done;
	}
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_USB, 1000, NULL);
	if (transport_open(ctx, source, &t, &err) || dfk_find(ctx, t, NULL, &found, &err)) {
		g_string_append_printf(problems, "%s%s", problems->len ? "\n" : "", err.msg);
		goto done;
	}
	g_mutex_lock(&s->lock);
	gui_arrivals_scan(s->arrivals, source, found, now_ms());
	g_mutex_unlock(&s->lock);
	for (size_t u = 0; u < dfk_found_usb_count(found); u++) {
		const dfk_usb_dev *ud = dfk_found_usb_get(found, u);
		if (!has_dfu_interface(ud))
			continue;
		gui_device d;
		memset(&d, 0, sizeof(d));
		snprintf(d.source, sizeof(d.source), "%s", source);
		dfk_sanitize(ud->path, d.path, sizeof(d.path));
		snprintf(d.key, sizeof(d.key), "%s|%s", source, ud->path);
		d.vid = ud->desc.idVendor;
		d.pid = ud->desc.idProduct;
		gui_alt alts[64];
		bool any = false, dfu_mode = false;
		for (size_t i = 0; i < dfk_found_count(found); i++) {
			const dfk_dfu_if *f = dfk_found_get(found, i);
			if (f->dev != ud)
				continue;
			if (!any) {
				dfk_sanitize(f->serial, d.serial, sizeof(d.serial));
				d.dfuse = f->dfuse;
				d.can_upload = (f->func.bmAttributes & DFK_ATTR_CAN_UPLOAD) != 0;
				d.transfer_size = f->func.wTransferSize;
			}
			any = true;
			dfu_mode = dfu_mode || f->dfu_mode;
			if (d.nalts < G_N_ELEMENTS(alts)) {
				gui_alt *a = &alts[d.nalts++];
				memset(a, 0, sizeof(*a));
				a->alt = f->alt;
				dfk_sanitize(f->name, a->name, sizeof(a->name));
				/* Parsed again from the raw string by the copy below. */
				snprintf(a->name, sizeof(a->name), "%s", f->name);
				a->has_map = f->dfuse && f->name[0] == '@';
			}
		}
		if (!any) {
			d.status = GUI_DEV_BROKEN;
			open_reason(log.warnings->str, ud->path, d.reason, sizeof(d.reason));
			if (strcmp(source, "libusb") == 0)
				snprintf(
				    d.fix, sizeof(d.fix),
				    "Allow your user to open it: put the line\n"
				    "SUBSYSTEM==\"usb\", ATTR{idVendor}==\"%04x\", ATTR{idProduct}==\"%04x\", "
				    "TAG+=\"uaccess\"\n"
				    "into /etc/udev/rules.d/70-dfu.rules, run 'udevadm control --reload' and plug the "
				    "device in again.",
				    d.vid, d.pid);
			else
				snprintf(d.fix, sizeof(d.fix),
					 "Check that no other program is using the device on the USB/IP server.");
			snprintf(d.name, sizeof(d.name), "DFU device");
		} else {
			d.status = dfu_mode ? GUI_DEV_READY : GUI_DEV_RUNTIME;
			if (!dfu_mode)
				snprintf(d.reason, sizeof(d.reason),
					 "In run-time mode: it will be switched to DFU mode before writing.");
			product_name(ctx, t, ud, d.name, sizeof(d.name));
		}
		d.alts = alts;
		gui_device_list_append(out, &d);
	}
done:
	dfk_found_free(found);
	if (t)
		dfk_transport_free(t);
	dfk_ctx_free(ctx);
	g_string_free(log.warnings, TRUE);
}

static gboolean scan_deliver(gpointer data)
{
	scan_delivery *d = data;
	d->s->cb(d->s->user, &d->list, d->problems);
	g_free(d->problems);
	g_free(d);
	return G_SOURCE_REMOVE;
}

static gpointer scan_thread(gpointer data)
{
	gui_scanner *s = data;
	size_t n = g_strv_length(s->sources);
	g_mutex_lock(&s->lock);
	while (!s->stop) {
		scan_delivery *d = g_new0(scan_delivery, 1);
		d->s = s;
		GString *problems = g_string_new(NULL);
		bool event = s->hotplug_event;
		s->hotplug_event = false;
		for (size_t i = 0; i < n && !s->stop; i++) {
			gint64 now = g_get_monotonic_time();
			bool watched = s->hotplug && (int)i == s->libusb_index;
			bool due = !watched || event || now >= s->next_due[i];
			if (!s->busy[i] && due) {
				s->next_due[i] =
				    now + (gint64)s->interval_ms * 1000 * (watched && !event ? HOTPLUG_FALLBACK : 1);
				s->scanning = (int)i;
				g_mutex_unlock(&s->lock);
				gui_device_list fresh = {0};
				scan_source(s, s->sources[i], &fresh, problems);
				g_mutex_lock(&s->lock);
				s->scanning = -1;
				g_cond_broadcast(&s->idle);
				gui_device_list_free(&s->last[i]);
				s->last[i] = fresh;
			}
			for (size_t k = 0; k < s->last[i].count; k++)
				if (gui_device_list_append(&d->list, &s->last[i].devs[k]))
					d->list.devs[d->list.count - 1].fresh =
					    gui_arrivals_fresh(s->arrivals, s->last[i].devs[k].key);
		}
		d->problems = g_string_free(problems, FALSE);
		if (s->stop) {
			gui_device_list_free(&d->list);
			g_free(d->problems);
			g_free(d);
			break;
		}
		g_idle_add(scan_deliver, d);
		gint64 until = g_get_monotonic_time() + (gint64)s->interval_ms * 1000;
		while (!s->stop && !s->hotplug_event && g_cond_wait_until(&s->wake, &s->lock, until))
			;
		if (s->hotplug_event) {
			/* Let a burst of events (a re-enumeration) settle. */
			until = g_get_monotonic_time() + HOTPLUG_SETTLE_US;
			while (!s->stop && g_cond_wait_until(&s->wake, &s->lock, until))
				;
		}
	}
	g_mutex_unlock(&s->lock);
	return NULL;
}

/* On the libusb event thread: no GTK, no libusb calls, just a wake-up. */
static int LIBUSB_CALL on_hotplug(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event, void *user)
{
	(void)ctx;
	(void)dev;
	(void)event;
	gui_scanner *s = user;
	g_mutex_lock(&s->lock);
	s->hotplug_event = true;
	g_cond_signal(&s->wake);
	g_mutex_unlock(&s->lock);
	return 0; /* stay registered */
}

static gpointer usb_event_thread(gpointer data)
{
	gui_scanner *s = data;
	while (!atomic_load(&s->usb_stop)) {
		struct timeval tv = {0, 200 * 1000};
		libusb_handle_events_timeout_completed(s->usb, &tv, NULL);
	}
	return NULL;
}

static void hotplug_start(gui_scanner *s)
{
	if (s->libusb_index < 0 || !libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG))
		return;
	if (libusb_init(&s->usb) != LIBUSB_SUCCESS) {
		s->usb = NULL;
		return;
	}
	if (libusb_hotplug_register_callback(s->usb,
					     LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
					     LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
					     LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, s, &s->hp) != LIBUSB_SUCCESS) {
		libusb_exit(s->usb);
		s->usb = NULL;
		return;
	}
	s->hotplug = true;
	s->usb_thread = g_thread_new("dfukit-hotplug", usb_event_thread, s);
}

static void hotplug_stop(gui_scanner *s)
{
	if (!s->usb)
		return;
	atomic_store(&s->usb_stop, true);
	libusb_hotplug_deregister_callback(s->usb, s->hp); /* also wakes the event thread */
	g_thread_join(s->usb_thread);
	libusb_exit(s->usb);
	s->usb = NULL;
}

bool gui_scanner_hotplug(const gui_scanner *s)
{
	return s && s->hotplug;
}

gui_scanner *gui_scanner_start(const char *const *sources, unsigned interval_ms, gui_scan_cb cb, void *user)
{
	gui_scanner *s = g_new0(gui_scanner, 1);
	g_mutex_init(&s->lock);
	g_cond_init(&s->wake);
	g_cond_init(&s->idle);
	s->scanning = -1;
	s->sources = g_strdupv((char **)sources);
	size_t n = g_strv_length(s->sources);
	s->busy = g_new0(int, n + 1);
	s->arrivals = gui_arrivals_new(GUI_STATION_GRACE_MS);
	s->last = g_new0(gui_device_list, n + 1);
	s->next_due = g_new0(gint64, n + 1);
	s->interval_ms = interval_ms;
	s->cb = cb;
	s->user = user;
	s->libusb_index = -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->sources[i], "libusb") == 0 && s->libusb_index < 0)
			s->libusb_index = (int)i;
	atomic_init(&s->usb_stop, false);
	hotplug_start(s);
	s->thread = g_thread_new("dfukit-scan", scan_thread, s);
	return s;
}

static void set_busy(gui_scanner *s, const char *source, bool busy)
{
	g_mutex_lock(&s->lock);
	for (size_t i = 0; s->sources[i]; i++) {
		if (strcmp(s->sources[i], source) != 0)
			continue;
		s->busy[i] += busy ? 1 : (s->busy[i] > 0 ? -1 : 0);
		while (busy && s->scanning == (int)i)
			g_cond_wait(&s->idle, &s->lock);
	}
	g_cond_signal(&s->wake);
	g_mutex_unlock(&s->lock);
}

void gui_scanner_acquire(gui_scanner *s, const char *source)
{
	set_busy(s, source, true);
}

void gui_scanner_release(gui_scanner *s, const char *source)
{
	set_busy(s, source, false);
}

void gui_scanner_watch_begin(gui_scanner *s, const char *source, const char *path)
{
	if (!s)
		return;
	g_mutex_lock(&s->lock);
	gui_arrivals_begin(s->arrivals, source, path);
	g_mutex_unlock(&s->lock);
}

void gui_scanner_watch_end(gui_scanner *s, const char *source, const char *path)
{
	if (!s)
		return;
	g_mutex_lock(&s->lock);
	gui_arrivals_end(s->arrivals, source, path, now_ms());
	g_mutex_unlock(&s->lock);
}

void gui_scanner_stop(gui_scanner *s)
{
	if (!s)
		return;
	hotplug_stop(s);
	g_mutex_lock(&s->lock);
	s->stop = true;
	g_cond_signal(&s->wake);
	g_mutex_unlock(&s->lock);
	g_thread_join(s->thread);
	/* Deliveries already queued still point at s: the callbacks check a
	 * stopped window, so s stays allocated (one small leak at exit). */
	for (size_t i = 0; s->sources[i]; i++)
		gui_device_list_free(&s->last[i]);
}

/* ---- Jobs ---- */

const char *gui_phase_title(gui_phase p)
{
	static const char *const t[GUI_PHASE_COUNT] = {"Detach", "Erase", "Write", "Verify", "Leave", "Read"};
	return p < GUI_PHASE_COUNT ? t[p] : "?";
}

struct gui_job {
	dfk_ctx *ctx; /* NULL when it could not be made */
	gui_job_events ev;
	bool is_read;
	bool is_command;
	gui_command command;
	gui_device dev;		/* alts not kept */
	char dev_raw_path[128]; /* the path as the transport names it (from the key) */
	char *file, *out_path;
	gui_download_opts o;
	uint32_t read_addr, read_len;
	bool has_read_range;
	gui_report report;
	/* Progress posting: the last percentage per phase sent to the window. */
	int last_phase, last_pct;
	dfk_error err;
	gui_job_result result;
};

typedef struct job_msg {
	gui_job *j;
	char *level, *text;
	gui_phase phase;
	uint64_t done, total;
	uint32_t addr;
} job_msg;

static gboolean post_log(gpointer data)
{
	job_msg *m = data;
	if (m->j->ev.log)
		m->j->ev.log(m->j->ev.user, m->level, m->text);
	g_free(m->level);
	g_free(m->text);
	g_free(m);
	return G_SOURCE_REMOVE;
}

static void job_log(gui_job *j, const char *level, const char *text)
{
	gui_report_event(&j->report, level, text);
	job_msg *m = g_new0(job_msg, 1);
	m->j = j;
	m->level = g_strdup(level);
	m->text = g_strdup(text);
	g_idle_add(post_log, m);
}

static void job_on_log(void *user, dfk_log_level level, const char *msg)
{
	char clean[DFK_ERROR_MSG_MAX];
	dfk_sanitize(msg, clean, sizeof(clean));
	job_log(user,
		level <= DFK_LOG_ERROR	? "error"
		: level == DFK_LOG_WARN ? "warning"
		: level == DFK_LOG_INFO ? "info"
					: "debug",
		clean);
}

static gboolean post_progress(gpointer data)
{
	job_msg *m = data;
	if (m->j->ev.progress)
		m->j->ev.progress(m->j->ev.user, m->phase, m->done, m->total, m->addr);
	g_free(m);
	return G_SOURCE_REMOVE;
}

static void job_on_progress(void *user, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	gui_job *j = user;
	gui_phase p = phase == DFK_PHASE_ERASE	    ? GUI_PHASE_ERASE
		      : phase == DFK_PHASE_DOWNLOAD ? GUI_PHASE_WRITE
		      : phase == DFK_PHASE_VERIFY   ? GUI_PHASE_VERIFY
		      : phase == DFK_PHASE_MANIFEST ? GUI_PHASE_LEAVE
		      : phase == DFK_PHASE_DETACH   ? GUI_PHASE_DETACH
						    : GUI_PHASE_READ;
	if (p == GUI_PHASE_READ && total == 0 && j->has_read_range)
		total = j->read_len;
	int pct = total ? (int)(done * 100 / total) : 0;
	/* Erase steps are few and slow: every one is shown. */
	if ((int)p == j->last_phase && pct == j->last_pct && p != GUI_PHASE_ERASE)
		return;
	j->last_phase = (int)p;
	j->last_pct = pct;
	gui_report_progress(&j->report, dfk_phase_name(phase), done, total, addr);
	job_msg *m = g_new0(job_msg, 1);
	m->j = j;
	m->phase = p;
	m->done = done;
	m->total = total;
	m->addr = addr;
	g_idle_add(post_progress, m);
}

static gboolean post_done(gpointer data)
{
	gui_job *j = data;
	if (j->ev.done)
		j->ev.done(j->ev.user, &j->result);
	gui_report_free(&j->report);
	dfk_ctx_free(j->ctx);
	g_free(j->file);
	g_free(j->out_path);
	g_free(j);
	return G_SOURCE_REMOVE;
}

/* The DFU-mode interface of our device (after a detach if needed), found
 * again by port path on a fresh listing. */
static dfk_code job_find(gui_job *j, dfk_transport *t, dfk_found **found, const dfk_dfu_if **ifc)
{
	dfk_match m;
	dfk_match_init(&m);
	m.path = j->dev.path;
	dfk_code rc = dfk_find(j->ctx, t, &m, found, &j->err);
	if (rc)
		return rc;
	const dfk_dfu_if *rt = NULL;
	*ifc = NULL;
	for (size_t i = 0; i < dfk_found_count(*found); i++) {
		const dfk_dfu_if *f = dfk_found_get(*found, i);
		if (f->dfu_mode && !*ifc && f->alt == 0)
			*ifc = f;
		if (!f->dfu_mode && !rt)
			rt = f;
	}
	for (size_t i = 0; i < dfk_found_count(*found) && !*ifc; i++)
		if (dfk_found_get(*found, i)->dfu_mode)
			*ifc = dfk_found_get(*found, i);
	if (*ifc)
		return DFK_OK;
	if (!rt)
		return dfk_error_set(&j->err, DFK_ERR_NODEV, "the device at %s is gone", j->dev.path);
	/* Run-time mode: DETACH, then wait for it in DFU mode on the same port. */
	job_log(j, "info", "Switching the device to DFU mode (DETACH)");
	dfk_dev *dev = NULL;
	rc = dfk_dev_open(j->ctx, rt, &dev, &j->err);
	if (rc)
		return rc;
	rc = dfk_job_detach(dev, &j->err);
	dfk_dev_close(dev);
	char path[sizeof(j->dev.path)];
	snprintf(path, sizeof(path), "%s", j->dev.path);
	dfk_found_free(*found);
	*found = NULL;
	if (rc)
		return rc;
	dfk_match any;
	dfk_match_init(&any);
	rc = dfk_wait_for(j->ctx, t, &any, path, NULL, found, &j->err);
	if (rc)
		return dfk_error_prefix(&j->err, "after DETACH");
	for (size_t i = 0; i < dfk_found_count(*found) && !*ifc; i++)
		if (dfk_found_get(*found, i)->dfu_mode)
			*ifc = dfk_found_get(*found, i);
	if (!*ifc)
		return dfk_error_set(&j->err, DFK_ERR_NODEV, "after DETACH: the device did not come back in DFU mode");
	return DFK_OK;
}

static dfk_code run_download(gui_job *j, dfk_dev *dev, uint64_t *bytes, bool *verified)
{
	const dfk_dfu_if *ifc = dfk_dev_if(dev);
	dfk_firmware fw;
	dfk_firmware_init(&fw);
	dfk_load_opts lo;
	dfk_load_opts_init(&lo);
	lo.has_address = j->o.has_address;
	lo.address = j->o.address;
	lo.alt = ifc->alt;
	dfk_code rc = dfk_firmware_load(j->file, &lo, &fw, &j->err);
	if (rc) {
		dfk_firmware_free(&fw);
		return rc;
	}
	dfk_job_opts jo;
	dfk_job_opts_init(&jo);
	bool can_upload = (ifc->func.bmAttributes & DFK_ATTR_CAN_UPLOAD) != 0;
	jo.verify = j->o.verify && can_upload;
	jo.leave = j->o.leave && ifc->dfuse;
	if (j->o.has_address) {
		jo.has_address = true;
		jo.address = j->o.address;
		jo.dfuse = true;
	}
	if (fw.format != DFK_FORMAT_DFUSE && fw.ntargets > 0)
		fw.targets[0].alt = ifc->alt;
	*bytes = dfk_firmware_bytes(&fw);
	jo.verified = verified; /* true only when a read-back matched */
	rc = dfk_job_download(dev, &fw, &jo, &j->err);
	dfk_firmware_free(&fw);
	if (rc == DFK_OK && !can_upload && j->o.verify)
		job_log(j, "warning", "the device cannot read back (bitCanUpload is clear): not verified");
	if (rc == DFK_OK && jo.leave)
		job_log(
		    j, "info",
		    "Leave request accepted: the device left DFU mode (whether the new firmware runs was not checked)");
	return rc;
}

/* The readable memory of alt 0 from its first segment on, as long as the
 * segments follow each other. */
static bool read_range(dfk_dev *dev, uint32_t *addr, uint32_t *len)
{
	const dfk_memmap *map = NULL;
	dfk_error e;
	if (!dfk_dev_if(dev)->dfuse || dfk_dev_memmap(dev, &map, &e) || !map || map->count == 0)
		return false;
	uint64_t start = map->segs[0].start, end = start;
	for (size_t i = 0; i < map->count && map->segs[i].start == end && (map->segs[i].perms & DFK_MEM_READABLE); i++)
		end = map->segs[i].end;
	if (end == start || end - start > 0xffffffffu)
		return false;
	*addr = (uint32_t)start;
	*len = (uint32_t)(end - start);
	return true;
}

static dfk_code run_read(gui_job *j, dfk_dev *dev, uint64_t *bytes)
{
	const dfk_dfu_if *ifc = dfk_dev_if(dev);
	if (!(ifc->func.bmAttributes & DFK_ATTR_CAN_UPLOAD))
		return dfk_error_set(&j->err, DFK_ERR_UNSUPPORTED, "the device cannot be read (bitCanUpload is clear)");
	dfk_job_opts jo;
	dfk_job_opts_init(&jo);
	jo.verify = false;
	if (read_range(dev, &j->read_addr, &j->read_len)) {
		j->has_read_range = true;
		jo.has_address = jo.has_length = jo.dfuse = true;
		jo.address = j->read_addr;
		jo.length = j->read_len;
		char msg[128];
		snprintf(msg, sizeof(msg), "Reading %lu bytes from 0x%08lx", (unsigned long)j->read_len,
			 (unsigned long)j->read_addr);
		job_log(j, "info", msg);
	}
	dfk_out *out = NULL;
	dfk_code rc = dfk_out_open(&out, j->out_path, DFK_OUT_SYNC, &j->err);
	if (rc)
		return rc;
	rc = dfk_job_upload(dev, &jo, out, bytes, &j->err);
	if (rc) {
		dfk_out_abort(out);
		return rc;
	}
	return dfk_out_commit(out, &j->err);
}

static dfk_code run_command(gui_job *j, dfk_dev *dev)
{
	if (!dfk_dev_if(dev)->dfuse)
		return dfk_error_set(&j->err, DFK_ERR_UNSUPPORTED, "the device is not a DfuSe device: it has no %s",
				     j->command == GUI_CMD_MASS_ERASE ? "mass erase" : "read unprotect");
	dfk_job_opts jo;
	dfk_job_opts_init(&jo);
	jo.force = true; /* the window asked the user */
	jo.mass_erase = j->command == GUI_CMD_MASS_ERASE;
	jo.unprotect = j->command == GUI_CMD_UNPROTECT;
	dfk_code rc = dfk_job_dfuse_command(dev, &jo, &j->err);
	if (rc == DFK_OK && jo.unprotect)
		job_log(j, "info", "Read unprotect sent: the device erases its flash and resets");
	return rc;
}

static gpointer job_thread(gpointer data)
{
	gui_job *j = data;
	dfk_transport *t = NULL;
	dfk_found *found = NULL;
	const dfk_dfu_if *ifc = NULL;
	uint64_t bytes = 0;
	bool verified = false;
	bool holding = j->ev.scanner != NULL;
	if (holding)
		gui_scanner_acquire(j->ev.scanner, j->dev.source);
	dfk_code rc = j->ctx ? transport_open(j->ctx, j->dev.source, &t, &j->err)
			     : dfk_error_set(&j->err, DFK_ERR_NOMEM, "out of memory");
	/* Station mode: this transport imports only its own device, so that
	 * the jobs on the other devices of a USB/IP server can import theirs. */
	if (rc == DFK_OK && j->ev.only_path)
		rc = dfk_transport_set_only_path(t, j->dev_raw_path, &j->err);
	if (rc == DFK_OK)
		rc = job_find(j, t, &found, &ifc);
	if (rc == DFK_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "Opening %04x:%04x at %s, alt %u \"%s\"", ifc->dev->desc.idVendor,
			 ifc->dev->desc.idProduct, j->dev.path, ifc->alt, ifc->name);
		char clean[600];
		dfk_sanitize(msg, clean, sizeof(clean));
		job_log(j, "info", clean);
		gui_report_device(&j->report, ifc->dev->desc.idVendor, ifc->dev->desc.idProduct, ifc->dfu_mode,
				  j->dev.path, ifc->alt, j->dev.serial);
		dfk_dev *dev = NULL;
		rc = dfk_dev_open(j->ctx, ifc, &dev, &j->err);
		/* Station mode: the device is ours now; the listing goes on (it
		 * shows new arrivals while the others are flashed). */
		if (j->ev.only_path && holding) {
			gui_scanner_release(j->ev.scanner, j->dev.source);
			holding = false;
		}
		if (rc == DFK_OK) {
			if (j->is_command) {
				rc = run_command(j, dev);
				verified = rc == DFK_OK;
			} else if (j->is_read) {
				rc = run_read(j, dev, &bytes);
				verified = rc == DFK_OK;
			} else {
				rc = run_download(j, dev, &bytes, &verified);
			}
			dfk_dev_close(dev);
		}
	}
	dfk_found_free(found);
	if (t)
		dfk_transport_free(t);
	if (holding)
		gui_scanner_release(j->ev.scanner, j->dev.source);
	j->result.operation = j->is_command ? (j->command == GUI_CMD_MASS_ERASE ? "mass-erase" : "unprotect")
			      : j->is_read  ? "upload"
					    : "download";
	j->result.ok = rc == DFK_OK;
	j->result.cancelled = rc == DFK_ERR_CANCELLED;
	j->result.verified = verified;
	j->result.bytes = bytes;
	j->result.message = j->err.msg[0] ? j->err.msg : "failed";
	if (rc == DFK_ERR_CANCELLED)
		j->result.message = "cancelled; the device was brought back to an idle DFU state";
	gui_report_result(&j->report, j->is_command ? "dfuse-command" : j->result.operation, rc, tool_exit_status(rc),
			  dfk_code_name(rc), j->err.msg, bytes, !j->is_read && !j->is_command, verified);
	j->result.report = j->report.text->str;
	g_idle_add(post_done, j);
	return NULL;
}

static gui_job *job_new(const gui_device *d, const gui_job_events *ev)
{
	gui_job *j = g_new0(gui_job, 1);
	j->ev = *ev;
	j->dev = *d;
	j->dev.alts = NULL;
	j->dev.nalts = 0;
	/* The key is "source|path" with the transport's own path. */
	size_t n = strlen(d->source);
	snprintf(j->dev_raw_path, sizeof(j->dev_raw_path), "%s",
		 strncmp(d->key, d->source, n) == 0 && d->key[n] == '|' ? d->key + n + 1 : d->path);
	j->last_phase = -1;
	j->last_pct = -1;
	dfk_error_clear(&j->err);
	gui_report_init(&j->report);
	j->ctx = ctx_new(job_on_log, j, job_on_progress, j);
	return j;
}

gui_job *gui_job_download(const gui_device *d, const gui_download_opts *o, const gui_job_events *ev)
{
	gui_job *j = job_new(d, ev);
	j->file = g_strdup(o->file);
	j->o = *o;
	j->o.file = j->file;
	g_thread_unref(g_thread_new("dfukit-job", job_thread, j));
	return j;
}

gui_job *gui_job_read(const gui_device *d, const char *path, const gui_job_events *ev)
{
	gui_job *j = job_new(d, ev);
	j->is_read = true;
	j->out_path = g_strdup(path);
	g_thread_unref(g_thread_new("dfukit-job", job_thread, j));
	return j;
}

gui_job *gui_job_command(const gui_device *d, gui_command cmd, const gui_job_events *ev)
{
	gui_job *j = job_new(d, ev);
	j->is_command = true;
	j->command = cmd;
	g_thread_unref(g_thread_new("dfukit-job", job_thread, j));
	return j;
}

void gui_job_cancel(gui_job *j)
{
	dfk_ctx_cancel(j->ctx);
}
