/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-gui: device snapshot, file summary, device matching and the plan
 * preview, in plain C over libdfukit and GLib (no widgets). */
#include "gui_model.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rough speeds of a full-speed DfuSe ROM bootloader, for the estimate only:
 * writing about 30 KiB/s, reading 60 KiB/s, erasing about 1 s per 64 KiB. */
#define EST_WRITE_BPS (30.0 * 1024)
#define EST_READ_BPS (60.0 * 1024)
#define EST_ERASE_BPS (64.0 * 1024)

static void alt_free(gui_alt *a)
{
	if (a->has_map)
		dfk_memmap_free(&a->map);
	a->has_map = false;
}

void gui_device_list_free(gui_device_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		for (size_t j = 0; j < l->devs[i].nalts; j++)
			alt_free(&l->devs[i].alts[j]);
		free(l->devs[i].alts);
	}
	free(l->devs);
	l->devs = NULL;
	l->count = 0;
}

bool gui_device_list_append(gui_device_list *dst, const gui_device *d)
{
	gui_device *n = realloc(dst->devs, (dst->count + 1) * sizeof(*n));
	if (!n)
		return false;
	dst->devs = n;
	gui_device *c = &dst->devs[dst->count];
	*c = *d;
	c->alts = calloc(d->nalts ? d->nalts : 1, sizeof(*c->alts));
	if (!c->alts)
		return false;
	for (size_t j = 0; j < d->nalts; j++) {
		c->alts[j] = d->alts[j];
		c->alts[j].has_map = false;
		memset(&c->alts[j].map, 0, sizeof(c->alts[j].map));
		if (d->alts[j].has_map) {
			dfk_error e;
			c->alts[j].has_map = dfk_memmap_parse(d->alts[j].name, &c->alts[j].map, &e) == DFK_OK;
		}
	}
	dst->count++;
	return true;
}

static void device_signature(GString *s, const gui_device *d)
{
	g_string_append_printf(s, "%s|%s|%s|%04x:%04x|%d|%s|%zu", d->key, d->name, d->serial, d->vid, d->pid,
			       (int)d->status, d->reason, d->nalts);
	for (size_t j = 0; j < d->nalts; j++)
		g_string_append_printf(s, "|%u:%s", d->alts[j].alt, d->alts[j].name);
}

char *gui_device_list_signature(const gui_device_list *l)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < l->count; i++) {
		device_signature(s, &l->devs[i]);
		g_string_append(s, l->devs[i].fresh ? "|fresh\n" : "\n");
	}
	return g_string_free(s, FALSE);
}

static bool same_shown(const gui_device *a, const gui_device *b)
{
	GString *x = g_string_new(NULL), *y = g_string_new(NULL);
	device_signature(x, a);
	device_signature(y, b);
	bool same = g_string_equal(x, y);
	g_string_free(x, TRUE);
	g_string_free(y, TRUE);
	return same;
}

static long find_key(const gui_device_list *l, const char *key)
{
	for (size_t i = 0; l && i < l->count; i++)
		if (strcmp(l->devs[i].key, key) == 0)
			return (long)i;
	return -1;
}

void gui_list_diff_free(gui_list_diff *d)
{
	free(d->added);
	free(d->removed);
	free(d->changed);
	free(d->unchanged);
	memset(d, 0, sizeof(*d));
}

bool gui_device_list_diff(const gui_device_list *old, const gui_device_list *now, gui_list_diff *d)
{
	memset(d, 0, sizeof(*d));
	size_t nold = old ? old->count : 0, nnow = now ? now->count : 0;
	d->added = calloc(nnow + 1, sizeof(size_t));
	d->changed = calloc(nnow + 1, sizeof(size_t));
	d->unchanged = calloc(nnow + 1, sizeof(size_t));
	d->removed = calloc(nold + 1, sizeof(size_t));
	if (!d->added || !d->changed || !d->unchanged || !d->removed) {
		gui_list_diff_free(d);
		return false;
	}
	for (size_t i = 0; i < nnow; i++) {
		const gui_device *n = &now->devs[i];
		/* A key listed twice in now counts once: the first is the row. */
		if (find_key(now, n->key) != (long)i)
			continue;
		long o = find_key(old, n->key);
		if (o < 0)
			d->added[d->nadded++] = i;
		else if (same_shown(&old->devs[o], n))
			d->unchanged[d->nunchanged++] = i;
		else
			d->changed[d->nchanged++] = i;
	}
	for (size_t i = 0; i < nold; i++)
		if (find_key(old, old->devs[i].key) == (long)i && find_key(now, old->devs[i].key) < 0)
			d->removed[d->nremoved++] = i;
	return true;
}

void gui_device_ids(const gui_device *d, char *out, size_t outsz)
{
	snprintf(out, outsz, "%04x:%04x", d->vid, d->pid);
}

static const char *perm_text(uint8_t perms)
{
	static const char *const names[8] = {
	    "no access", "readable",	       "erasable",	     "readable, erasable",
	    "writable",	 "readable, writable", "erasable, writable", "readable, erasable, writable"};
	return names[perms & 7];
}

static char *size_text(uint64_t n)
{
	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		return g_strdup_printf("%llu MiB", (unsigned long long)(n / (1024 * 1024)));
	if (n >= 1024 && n % 1024 == 0)
		return g_strdup_printf("%llu KiB", (unsigned long long)(n / 1024));
	return g_strdup_printf("%llu bytes", (unsigned long long)n);
}

char *gui_alt_describe(const gui_alt *a)
{
	GString *s = g_string_new(NULL);
	if (!a->has_map)
		return g_string_free(s, FALSE);
	for (size_t i = 0; i < a->map.count; i++) {
		const dfk_mem_segment *sg = &a->map.segs[i];
		char *ps = size_text(sg->page_size);
		g_string_append_printf(s, "%s0x%08lx–0x%08llx: %u × %s, %s", i ? "\n" : "", (unsigned long)sg->start,
				       (unsigned long long)(sg->end - 1), sg->pages, ps, perm_text(sg->perms));
		g_free(ps);
	}
	return g_string_free(s, FALSE);
}

bool gui_alt_is_option_bytes(const gui_alt *a)
{
	if (!a->has_map)
		return false;
	char *name = g_strstrip(g_strdup(a->map.name));
	bool yes = g_ascii_strcasecmp(name, "Option Bytes") == 0;
	g_free(name);
	return yes;
}

/* Notes the first write into option bytes: the target's alt itself, or an
 * element inside the memory map of an option-bytes alt. */
static void check_option_bytes(gui_preview *p, const gui_device *d, const gui_alt *target_alt, const dfk_image *img)
{
	if (p->option_bytes)
		return;
	if (target_alt && gui_alt_is_option_bytes(target_alt)) {
		uint32_t at = img->count	      ? img->elements[0].addr
			      : target_alt->map.count ? target_alt->map.segs[0].start
						      : 0;
		p->option_bytes = true;
		g_free(p->option_bytes_where);
		p->option_bytes_where =
		    g_strdup_printf("alt %u \"%s\" at 0x%08lx", target_alt->alt, "Option Bytes", (unsigned long)at);
		return;
	}
	for (size_t j = 0; j < d->nalts; j++) {
		const gui_alt *a = &d->alts[j];
		if (!gui_alt_is_option_bytes(a))
			continue;
		for (size_t i = 0; i < img->count; i++) {
			uint32_t first = img->elements[i].addr;
			uint64_t end = (uint64_t)first + img->elements[i].size;
			for (size_t k = 0; k < a->map.count; k++) {
				const dfk_mem_segment *sg = &a->map.segs[k];
				if (first < sg->end && end > sg->start) {
					uint32_t at = first > sg->start ? first : sg->start;
					p->option_bytes = true;
					g_free(p->option_bytes_where);
					p->option_bytes_where = g_strdup_printf(
					    "0x%08lx, in the option bytes of alt %u", (unsigned long)at, a->alt);
					return;
				}
			}
		}
	}
}

bool gui_default_address(const gui_device *d, uint32_t *addr)
{
	for (size_t j = 0; j < d->nalts; j++) {
		if (d->alts[j].alt != 0 || !d->alts[j].has_map)
			continue;
		for (size_t i = 0; i < d->alts[j].map.count; i++) {
			if (d->alts[j].map.segs[i].perms & DFK_MEM_WRITEABLE) {
				*addr = d->alts[j].map.segs[i].start;
				return true;
			}
		}
	}
	return false;
}

void gui_file_init(gui_file *f)
{
	memset(f, 0, sizeof(*f));
	dfk_firmware_init(&f->fw);
}

void gui_file_free(gui_file *f)
{
	dfk_firmware_free(&f->fw);
	g_free(f->path);
	gui_file_init(f);
}

bool gui_file_load(gui_file *f, const char *path, dfk_error *err)
{
	gui_file_free(f);
	dfk_load_opts lo;
	dfk_load_opts_init(&lo);
	if (dfk_firmware_load(path, &lo, &f->fw, err) != DFK_OK) {
		dfk_firmware_free(&f->fw);
		dfk_firmware_init(&f->fw);
		return false;
	}
	f->path = g_strdup(path);
	f->loaded = true;
	f->raw = f->fw.format == DFK_FORMAT_RAW && !f->fw.addressed;
	return true;
}

char *gui_file_summary(const gui_file *f)
{
	if (!f->loaded)
		return g_strdup("No file selected.");
	GString *s = g_string_new(NULL);
	char *base = g_path_get_basename(f->path);
	char *total = size_text(dfk_firmware_bytes(&f->fw));
	uint64_t nbytes = dfk_firmware_bytes(&f->fw);
	g_string_append_printf(s, "%s: %s, %zu target%s, %s", base, dfk_format_name(f->fw.format), f->fw.ntargets,
			       f->fw.ntargets == 1 ? "" : "s", total);
	if (nbytes >= 1024)
		g_string_append_printf(s, " (%llu bytes)", (unsigned long long)nbytes);
	g_free(total);
	g_free(base);
	for (size_t t = 0; t < f->fw.ntargets; t++) {
		const dfk_target *tg = &f->fw.targets[t];
		char name[256];
		dfk_sanitize(tg->named ? tg->name : "", name, sizeof(name));
		if (f->fw.format == DFK_FORMAT_DFUSE)
			g_string_append_printf(s, "\nTarget %zu: alt %u%s%s%s", t, tg->alt, tg->named ? " \"" : "",
					       name, tg->named ? "\"" : "");
		for (size_t e = 0; e < tg->image.count; e++) {
			const dfk_element *el = &tg->image.elements[e];
			if (f->raw)
				g_string_append_printf(s, "\n  raw data, %lu bytes, no address in the file",
						       (unsigned long)el->size);
			else
				g_string_append_printf(
				    s, "\n  element %zu: 0x%08lx–0x%08llx, %lu bytes", e, (unsigned long)el->addr,
				    (unsigned long long)el->addr + el->size - 1, (unsigned long)el->size);
		}
	}
	if (f->fw.has_suffix)
		g_string_append_printf(s, "\nDFU suffix: device %04x:%04x, bcdDevice %04x, DFU %x.%02x",
				       f->fw.suffix.idVendor, f->fw.suffix.idProduct, f->fw.suffix.bcdDevice,
				       f->fw.suffix.bcdDFU >> 8, f->fw.suffix.bcdDFU & 0xff);
	else
		g_string_append(s, "\nNo DFU suffix: the file does not say which device it is for.");
	return g_string_free(s, FALSE);
}

int gui_file_match_device(const gui_file *f, const gui_device_list *l)
{
	if (!f->loaded || !f->fw.has_suffix)
		return -1;
	uint16_t vid = f->fw.suffix.idVendor, pid = f->fw.suffix.idProduct;
	if (vid == 0xffff && pid == 0xffff)
		return -1;
	for (size_t i = 0; i < l->count; i++) {
		const gui_device *d = &l->devs[i];
		if ((vid == 0xffff || vid == d->vid) && (pid == 0xffff || pid == d->pid) && d->status != GUI_DEV_BROKEN)
			return (int)i;
	}
	return -1;
}

bool gui_parse_address(const char *s, uint32_t *out)
{
	if (!s)
		return false;
	while (*s == ' ')
		s++;
	if (!*s || *s == '-' || *s == '+')
		return false;
	char *end = NULL;
	guint64 v = g_ascii_strtoull(s, &end, 0);
	while (end && *end == ' ')
		end++;
	if (!end || *end || v > 0xffffffffull)
		return false;
	*out = (uint32_t)v;
	return true;
}

static const gui_alt *find_alt(const gui_device *d, unsigned alt)
{
	for (size_t j = 0; j < d->nalts; j++)
		if (d->alts[j].alt == alt)
			return &d->alts[j];
	return NULL;
}

/* Flags an element that is not wholly inside writable memory, naming the
 * first offending range. */
static void check_element(GString *problems, const dfk_memmap *map, uint32_t addr, uint32_t size)
{
	uint64_t at = addr, end = (uint64_t)addr + size;
	while (at < end) {
		const dfk_mem_segment *sg = dfk_memmap_find(map, (uint32_t)at);
		if (!sg) {
			g_string_append_printf(problems, "%s0x%08llx is outside the device's memory",
					       problems->len ? "\n" : "", (unsigned long long)at);
			return;
		}
		if (!(sg->perms & DFK_MEM_WRITEABLE)) {
			g_string_append_printf(problems, "%s0x%08llx–0x%08llx is read-only memory (%s)",
					       problems->len ? "\n" : "", (unsigned long long)at,
					       (unsigned long long)(sg->end < end ? sg->end : end) - 1,
					       perm_text(sg->perms));
			return;
		}
		at = sg->end;
	}
}

void gui_preview_build(const gui_file *f, const gui_device *d, uint32_t address, bool verify, bool leave,
		       gui_preview *p)
{
	memset(p, 0, sizeof(*p));
	GString *problems = g_string_new(NULL);
	GString *plan = g_string_new(NULL);
	p->ok = f->loaded && d;
	if (!f->loaded)
		g_string_append(problems, "Select a firmware file.");
	else if (!d)
		g_string_append(problems, "Connect a DFU device.");
	else if (d->status == GUI_DEV_BROKEN) {
		g_string_append_printf(problems, "The device cannot be opened: %s", d->reason);
		p->ok = false;
	}
	if (!p->ok)
		goto out;
	p->write_bytes = dfk_firmware_bytes(&f->fw);
	bool addressed = d->dfuse;
	if (!d->dfuse) {
		/* Plain DFU: the device decides where the bytes go. */
		if (f->fw.format == DFK_FORMAT_DFUSE)
			g_string_append(problems, "A DfuSe file needs a DfuSe device; this one speaks plain DFU.");
		g_string_append_printf(plan,
				       "Write %llu bytes as one plain DFU download (the device erases as it needs).",
				       (unsigned long long)p->write_bytes);
		addressed = false;
	}
	for (size_t t = 0; addressed && t < f->fw.ntargets; t++) {
		const dfk_target *tg = &f->fw.targets[t];
		unsigned alt = f->fw.format == DFK_FORMAT_DFUSE ? tg->alt : 0;
		const gui_alt *a = find_alt(d, alt);
		if (!a || !a->has_map) {
			if (!f->raw)
				check_option_bytes(p, d, NULL, &tg->image);
			g_string_append_printf(problems, "%sThe device has no alt setting %u with a memory map.",
					       problems->len ? "\n" : "", alt);
			continue;
		}
		dfk_image view;
		dfk_image_init(&view);
		const dfk_image *img = &tg->image;
		if (f->raw) {
			dfk_error e;
			for (size_t i = 0; i < tg->image.count; i++)
				if (dfk_image_add_ref(&view, address + tg->image.elements[i].addr,
						      tg->image.elements[i].data, tg->image.elements[i].size, &e)) {
					g_string_append_printf(problems, "%s%s", problems->len ? "\n" : "", e.msg);
					break;
				}
			img = &view;
		}
		check_option_bytes(p, d, a, img);
		for (size_t i = 0; i < img->count; i++)
			check_element(problems, &a->map, img->elements[i].addr, img->elements[i].size);
		dfk_plan pl;
		dfk_error e;
		if (problems->len == 0 && dfk_plan_build(img, &a->map, 0, &pl, &e) == DFK_OK) {
			for (size_t i = 0; i < pl.nerase; i++) {
				p->pages++;
				p->erase_bytes += pl.erase[i].size;
				p->partial_pages += pl.erase[i].partial;
			}
			/* Every partly covered page is listed (its other bytes are
			 * lost); whole pages only up to a screenful. */
			size_t shown = 0;
			for (size_t i = 0; i < pl.nerase; i++) {
				if (!pl.erase[i].partial && shown++ >= 12) {
					if (shown == 13)
						g_string_append(plan, "\n…");
					continue;
				}
				char *sz = size_text(pl.erase[i].size);
				g_string_append_printf(
				    plan, "%sErase page 0x%08lx (%s)%s", plan->len ? "\n" : "",
				    (unsigned long)pl.erase[i].addr, sz,
				    pl.erase[i].partial ? ": only partly covered by the file, the rest is lost" : "");
				g_free(sz);
			}
			for (size_t i = 0; i < pl.nruns && i < 12; i++)
				g_string_append_printf(plan, "%sWrite %lu bytes at 0x%08lx", plan->len ? "\n" : "",
						       (unsigned long)pl.runs[i].len, (unsigned long)pl.runs[i].addr);
			dfk_plan_free(&pl);
		} else if (problems->len == 0) {
			g_string_append_printf(problems, "%s", e.msg);
		}
		dfk_image_free(&view);
	}
	if (problems->len)
		p->ok = false;
	p->seconds = (double)p->erase_bytes / EST_ERASE_BPS + (double)p->write_bytes / EST_WRITE_BPS +
		     (verify ? (double)p->write_bytes / EST_READ_BPS : 0.0);
	{
		char *eb = size_text(p->erase_bytes);
		GString *head = g_string_new(NULL);
		g_string_append_printf(head,
				       "%s%zu page%s to erase (%s, %zu partly covered), %llu bytes to write; "
				       "verify %s; leave DFU mode %s; about %.0f s",
				       "", p->pages, p->pages == 1 ? "" : "s", eb, p->partial_pages,
				       (unsigned long long)p->write_bytes, verify ? "on" : "off",
				       leave && d->dfuse ? "on" : "off", p->seconds < 1 ? 1.0 : p->seconds);
		g_free(eb);
		if (plan->len)
			g_string_append_c(head, '\n');
		g_string_prepend(plan, head->str);
		g_string_free(head, TRUE);
	}
	if (p->option_bytes)
		g_string_append_printf(plan,
				       "\nWrites option bytes (%s): wrong ones can lock the chip or enable read "
				       "protection; you are asked to confirm first.",
				       p->option_bytes_where);
out:
	if (!p->option_bytes_where)
		p->option_bytes_where = g_strdup("");
	p->problems = g_string_free(problems, FALSE);
	p->plan = g_string_free(plan, FALSE);
}

void gui_preview_free(gui_preview *p)
{
	g_free(p->problems);
	g_free(p->plan);
	g_free(p->option_bytes_where);
	memset(p, 0, sizeof(*p));
}

char *gui_result_text(const char *operation, bool ok, bool verified, uint64_t bytes, const char *msg)
{
	bool write = strcmp(operation, "download") == 0;
	if (ok && strcmp(operation, "mass-erase") == 0)
		return g_strdup("Success: the whole flash was erased");
	if (ok && strcmp(operation, "unprotect") == 0)
		return g_strdup("Success: read protection removed; the device erased its flash and resets");
	if (!ok)
		return g_strdup_printf("Failed: %s", msg && *msg ? msg : "unknown error");
	if (!verified)
		return g_strdup_printf("Not verified: %s %llu bytes but could not read them back to compare",
				       write ? "wrote" : "read", (unsigned long long)bytes);
	if (write)
		return g_strdup_printf("Success: wrote %llu bytes, read them back and they match",
				       (unsigned long long)bytes);
	return g_strdup_printf("Success: read %llu bytes from the device", (unsigned long long)bytes);
}
