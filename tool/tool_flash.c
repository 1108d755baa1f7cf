/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: the dfu-util compatible flashing command line.
 *
 * Flow: parse options, load the input file (so a bad file fails before any
 * device is touched), pick the transport, find the interface, bring a
 * run-time device into DFU mode (DETACH, then wait for it to re-enumerate on
 * the same port path), and run the job through the library. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "tool_flash.h"

/* -e without a job: dfu-util's MODE_DETACH (a later -D/-U/-s wins). */
static bool detach_only(const tool_flash_opts *o)
{
	return o->detach && !o->download && !o->upload && !o->dfuse;
}

static const char *op_name(const tool_flash_opts *o)
{
	if (o->list)
		return "list";
	if (o->download)
		return "download";
	if (o->upload)
		return "upload";
	if (o->dfuse)
		return "dfuse-command";
	if (o->detach)
		return "detach";
	return "reset";
}

/* Several --usbip servers: one device space, each device's path prefixed
 * with its server's address (or "usbipN" when that is too long). */
static dfk_code open_farm(flash_run *r)
{
	const tool_flash_opts *o = r->o;
	dfk_transport *children[TOOL_USBIP_MAX] = {0};
	char names[TOOL_USBIP_MAX][49];
	const char *name_ptrs[TOOL_USBIP_MAX];
	dfk_code rc = DFK_OK;
	for (size_t i = 0; i < o->nusbip && rc == DFK_OK; i++) {
		rc = dfk_transport_usbip_new(&children[i], r->ctx, o->usbip[i], &r->err);
		if (rc)
			dfk_error_prefix(&r->err, "USB/IP %s", o->usbip[i]);
		if (strlen(o->usbip[i]) < sizeof(names[i]) && o->usbip[i][strlen(o->usbip[i]) - 1] != '/')
			snprintf(names[i], sizeof(names[i]), "%s", o->usbip[i]);
		else
			snprintf(names[i], sizeof(names[i]), "usbip%zu", i + 1);
		name_ptrs[i] = names[i];
	}
	if (rc == DFK_OK)
		rc = dfk_transport_multi_new(&r->t, r->ctx, children, name_ptrs, o->nusbip, &r->err);
	if (rc)
		for (size_t i = 0; i < o->nusbip; i++)
			dfk_transport_free(children[i]);
	return rc;
}

dfk_code tool_flash_open_transport(flash_run *r)
{
	dfk_code rc;
	if (r->o->nusbip > 1) {
		rc = open_farm(r);
		if (rc)
			return rc;
	} else if (r->o->nusbip == 1) {
		rc = dfk_transport_usbip_new(&r->t, r->ctx, r->o->usbip[0], &r->err);
		if (rc)
			return dfk_error_prefix(&r->err, "USB/IP %s", r->o->usbip[0]);
	} else {
		int level = r->o->verbose >= 3 ? 4 : 0;
		rc = dfk_transport_libusb_new(&r->t, r->ctx, level, &r->err);
		if (rc)
			return rc;
	}
	/* -p: no other device is touched (over USB/IP, none other imported,
	 * so that another dfukit can flash it at the same time). */
	if (r->o->match.path && *r->o->match.path)
		return dfk_transport_set_only_path(r->t, r->o->match.path, &r->err);
	return DFK_OK;
}

/* dfk_find, repeated every 20 ms with -w until something matches. */
static dfk_code find_devices(flash_run *r, dfk_found **found)
{
	const dfk_clock *clock = dfk_ctx_clock(r->ctx);
	uint64_t start = clock->now_ms(clock->user);
	bool told = false;
	for (;;) {
		dfk_code rc = dfk_find(r->ctx, r->t, &r->o->match, found, &r->err);
		if (rc)
			return rc;
		if (dfk_found_count(*found) > 0 || !r->o->wait)
			return DFK_OK;
		dfk_found_free(*found);
		*found = NULL;
		if (!told) {
			tool_ui_info(&r->ui, "Waiting for a matching DFU device...");
			told = true;
		}
		uint64_t now = clock->now_ms(clock->user);
		if (r->o->wait_timeout_s > 0 && now - start >= (uint64_t)r->o->wait_timeout_s * 1000u)
			return dfk_error_set(&r->err, DFK_ERR_NODEV, "no matching DFU device appeared within %ld s",
					     r->o->wait_timeout_s);
		if (dfk_ctx_sleep(r->ctx, 20) == DFK_ERR_CANCELLED)
			return dfk_error_set(&r->err, DFK_ERR_CANCELLED, "cancelled while waiting for a device");
	}
}

/* Keeps only the .dfu targets whose alt setting is among the matched
 * interfaces (as dfu-util does with -a), warning about the others. The
 * filtered firmware shares the images; free only its targets array. */
static dfk_code filter_targets(flash_run *r, const dfk_dfu_if *const *alts, size_t nalts, dfk_firmware *view)
{
	*view = r->fw;
	view->targets = calloc(r->fw.ntargets ? r->fw.ntargets : 1, sizeof(*view->targets));
	if (!view->targets)
		return dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
	view->ntargets = 0;
	for (size_t i = 0; i < r->fw.ntargets; i++) {
		bool ok = false;
		for (size_t j = 0; j < nalts; j++)
			ok = ok || alts[j]->alt == r->fw.targets[i].alt;
		if (ok)
			view->targets[view->ntargets++] = r->fw.targets[i];
		else
			tool_ui_warn(&r->ui, "skipping target %zu of the file: alt setting %u is not selected", i,
				     r->fw.targets[i].alt);
	}
	if (view->ntargets == 0) {
		free(view->targets);
		view->targets = NULL;
		return dfk_error_set(&r->err, DFK_ERR_USAGE,
				     "no target of the DfuSe file is for a selected alt setting (check -a)");
	}
	return DFK_OK;
}

/* A DFU suffix with IDs other than 0xFFFF must name this device. */
static dfk_code check_file_ids(flash_run *r, const dfk_dfu_if *ifc)
{
	if (!r->have_fw || !r->fw.has_suffix)
		return DFK_OK;
	const dfk_suffix *s = &r->fw.suffix;
	uint16_t vid = ifc->dev->desc.idVendor, pid = ifc->dev->desc.idProduct;
	bool vid_ok = s->idVendor == 0xffff || s->idVendor == vid || (r->had_runtime && s->idVendor == r->rt_vid);
	bool pid_ok = s->idProduct == 0xffff || s->idProduct == pid || (r->had_runtime && s->idProduct == r->rt_pid);
	if (vid_ok && pid_ok)
		return DFK_OK;
	if (r->o->job.force) {
		tool_ui_warn(&r->ui,
			     "%s: the DFU suffix is for %04x:%04x, the device is %04x:%04x (%s differ%s); "
			     "written anyway (force)",
			     r->o->download, s->idVendor, s->idProduct, vid, pid,
			     !vid_ok && !pid_ok ? "vendor and product IDs"
			     : !vid_ok		? "vendor ID"
						: "product ID",
			     !vid_ok && !pid_ok ? "" : "s");
		return DFK_OK;
	}
	return dfk_error_set(&r->err, DFK_ERR_USAGE, "%s: the DFU suffix is for %04x:%04x, the device is %04x:%04x",
			     r->o->download, s->idVendor, s->idProduct, vid, pid);
}

/* The device of the last job as a JSON member for the --json result. */
static void record_device(flash_run *r, const dfk_dfu_if *ifc, const char *path, const char *serial)
{
	FILE *f = fmemopen(r->dev_json, sizeof(r->dev_json), "w");
	if (!f)
		return;
	fprintf(f, ",\"device\":{\"vid\":\"%04x\",\"pid\":\"%04x\",\"mode\":\"%s\",\"path\":", ifc->dev->desc.idVendor,
		ifc->dev->desc.idProduct, ifc->dfu_mode ? "dfu" : "runtime");
	tool_json_string(f, path);
	fprintf(f, ",\"alt\":%u,\"serial\":", ifc->alt);
	tool_json_string(f, serial);
	fputc('}', f);
	long n = ftell(f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad || n < 0 || n >= (long)sizeof(r->dev_json) - 1)
		r->dev_json[0] = '\0'; /* truncated: leave it out rather than emit broken JSON */
}

static void describe(flash_run *r, const dfk_dfu_if *ifc)
{
	char name[256], serial[256], path[64];
	tool_sanitize(ifc->name, name, sizeof(name));
	tool_sanitize(ifc->serial, serial, sizeof(serial));
	tool_sanitize(ifc->dev->path, path, sizeof(path));
	record_device(r, ifc, path, serial);
	tool_ui_info(
	    &r->ui, "Opening DFU %s interface: [%04x:%04x] path=\"%s\" cfg=%u intf=%u alt=%u name=\"%s\" serial=\"%s\"",
	    ifc->dfu_mode ? "mode" : "run-time", ifc->dev->desc.idVendor, ifc->dev->desc.idProduct, path, ifc->config,
	    ifc->intf, ifc->alt, name, serial);
	if (r->o->verbose >= 1)
		tool_ui_info(&r->ui, "DFU version %04x, attributes 0x%02x, wTransferSize %u, wDetachTimeOut %u ms%s",
			     ifc->func.bcdDFUVersion, ifc->func.bmAttributes, ifc->func.wTransferSize,
			     ifc->func.wDetachTimeOut, ifc->dfuse ? " (DfuSe)" : "");
}

/* -v: the DfuSe memory map as the library parsed it. */
static void show_memmap(flash_run *r, dfk_dev *dev)
{
	const dfk_memmap *map = NULL;
	dfk_error err;
	dfk_error_clear(&err);
	if (dfk_dev_memmap(dev, &map, &err) || !map)
		return; /* the job reports a bad map when it needs one */
	char name[256];
	tool_sanitize(map->name, name, sizeof(name));
	tool_ui_info(&r->ui, "Memory map \"%s\": %zu segment(s)", name, map->count);
	for (size_t i = 0; i < map->count; i++) {
		const dfk_mem_segment *sg = &map->segs[i];
		tool_ui_info(&r->ui, "  0x%08lx-0x%08llx %u page(s) of %u bytes %s%s%s", (unsigned long)sg->start,
			     (unsigned long long)(sg->end - 1), sg->pages, sg->page_size,
			     sg->perms & DFK_MEM_READABLE ? "r" : "-", sg->perms & DFK_MEM_ERASABLE ? "e" : "-",
			     sg->perms & DFK_MEM_WRITEABLE ? "w" : "-");
	}
}

static dfk_code run_job(flash_run *r, dfk_dev *dev, const dfk_dfu_if *const *alts, size_t nalts)
{
	tool_flash_opts *o = r->o;
	const dfk_dfu_if *ifc = dfk_dev_if(dev);
	dfk_code rc;

	if (o->verbose >= 1 && (ifc->dfuse || o->dfuse))
		show_memmap(r, dev);
	if (o->transfer_size) {
		tool_ui_warn(&r->ui, "transfer size set to %u by -t (the device says %u)", o->transfer_size,
			     ifc->func.wTransferSize);
		dfk_dev_set_transfer_size(dev, (uint16_t)o->transfer_size);
	}
	if (dfk_dev_transfer_size(dev) == 0 && (o->download || o->upload))
		return dfk_error_set(&r->err, DFK_ERR_USAGE, "the device reports wTransferSize 0: give -t SIZE");

	if (detach_only(o)) {
		/* -e on a device already in DFU mode: DETACH asks it to leave
		 * (some bootloaders do). Most refuse it, which dfu-util 0.11 only
		 * warns about: the device is where -e wants it, in DFU mode. */
		rc = dfk_dfu_detach(dev, ifc->func.wDetachTimeOut, &r->err);
		if (rc == DFK_OK || rc == DFK_ERR_NODEV) {
			tool_ui_info(&r->ui, "DETACH sent to the DFU-mode device");
			return DFK_OK;
		}
		if (rc == DFK_ERR_CANCELLED || rc == DFK_ERR_NOMEM)
			return rc;
		tool_ui_warn(&r->ui, "the device is already in DFU mode and refused DETACH (%s); nothing to do",
			     r->err.msg);
		/* A refused request may leave it in dfuERROR: back to dfuIDLE. */
		dfk_error_clear(&r->err);
		if (dfk_dfu_make_idle(dev, &r->err) != DFK_OK)
			tool_ui_warn(&r->ui, "%s", r->err.msg);
		dfk_error_clear(&r->err);
		return DFK_OK;
	}

	dfk_job_opts jo = o->job;
	jo.dfuse = o->dfuse;
	jo.skip_unchanged = o->skip_unchanged;
	bool can_upload = (ifc->func.bmAttributes & DFK_ATTR_CAN_UPLOAD) != 0;
	if (o->download) {
		if (o->verify == 1 && !can_upload)
			return dfk_error_set(&r->err, DFK_ERR_UNSUPPORTED,
					     "--verify: the device cannot upload (bitCanUpload is clear)");
		jo.verify = o->verify < 0 ? can_upload : o->verify == 1;
		rc = check_file_ids(r, ifc);
		if (rc)
			return rc;
		const dfk_firmware *fw = &r->fw;
		dfk_firmware view;
		memset(&view, 0, sizeof(view));
		if (r->fw.format == DFK_FORMAT_DFUSE) {
			rc = filter_targets(r, alts, nalts, &view);
			if (rc)
				return rc;
			fw = &view;
		} else if (r->fw.ntargets > 0) {
			r->fw.targets[0].alt = ifc->alt; /* non-DfuSe input goes to the opened alt */
		}
		r->bytes = dfk_firmware_bytes(fw);
		/* Where a leave starts the firmware: the job's rule. */
		r->left_has_start = jo.has_address;
		r->left_start = jo.address;
		for (size_t i = 0; i < fw->ntargets && !r->left_has_start; i++) {
			if (fw->targets[i].image.count) {
				r->left_has_start = true;
				r->left_start = fw->targets[i].image.elements[0].addr;
			}
		}
		jo.verified = &r->verified; /* true only when a read-back matched */
		rc = dfk_job_download(dev, fw, &jo, &r->err);
		free(view.targets);
		if (rc)
			return rc;
		if (tool_as == TOOL_AS_DFU_UTIL && !o->json && !r->ui.device) {
			/* dfu-util's closing lines, which its wrappers look for. */
			tool_compat_download_done(&r->ui, dev,
						  ifc->dfuse || o->dfuse || r->fw.format == DFK_FORMAT_DFUSE);
		} else {
			tool_ui_info(&r->ui, "Download done: %llu bytes%s", (unsigned long long)r->bytes,
				     r->verified ? ", verified" : "");
			/* Wrappers written for dfu-util look for this line. */
			tool_ui_info(&r->ui, "File downloaded successfully");
		}
		r->left = jo.leave;
	} else if (o->upload) {
		if (!can_upload)
			return dfk_error_set(&r->err, DFK_ERR_UNSUPPORTED,
					     "-U: the device cannot upload (bitCanUpload is clear)");
		rc = dfk_job_upload(dev, &jo, r->out, &r->bytes, &r->err);
		if (rc)
			return rc;
		if (o->has_upload_size && r->bytes != o->upload_size)
			tool_ui_warn(&r->ui, "read %llu bytes, -Z said %llu", (unsigned long long)r->bytes,
				     (unsigned long long)o->upload_size);
		dfk_out *out = r->out;
		r->out = NULL;
		rc = dfk_out_commit(out, &r->err);
		if (rc)
			return rc;
		tool_ui_info(&r->ui, "Upload done: %llu bytes written to %s", (unsigned long long)r->bytes, o->upload);
	} else if (o->dfuse) {
		rc = dfk_job_dfuse_command(dev, &jo, &r->err);
		if (rc)
			return rc;
		if (jo.unprotect)
			tool_ui_info(&r->ui, "Read unprotect sent: the device erases its flash and resets");
		else
			tool_ui_info(&r->ui, "DfuSe command%s%s done", jo.mass_erase ? " mass-erase" : "",
				     jo.leave ? " leave" : "");
		if (jo.leave && !jo.unprotect) {
			r->left = true;
			r->left_has_start = jo.has_address;
			r->left_start = jo.address;
		}
	}

	if (o->reset) {
		if (jo.leave || jo.unprotect || jo.will_reset) {
			tool_ui_info(&r->ui, "Not resetting: the device has left DFU mode already");
		} else {
			rc = dfk_job_reset(dev, &r->err);
			if (rc)
				return rc;
			tool_ui_info(&r->ui, "Device reset");
		}
	}
	return DFK_OK;
}

/* The DFU-mode interfaces of one device among found: all its matched alts
 * (for multi-target .dfu files) and the one to open. */
static dfk_code pick_alt(flash_run *r, const dfk_found *found, const dfk_usb_dev *udev, bool dfu_mode,
			 const dfk_dfu_if **alts, size_t *nalts, const dfk_dfu_if **chosen)
{
	*nalts = 0;
	for (size_t i = 0; i < dfk_found_count(found); i++) {
		const dfk_dfu_if *f = dfk_found_get(found, i);
		if (f->dev == udev && f->dfu_mode == dfu_mode)
			alts[(*nalts)++] = f;
	}
	if (*nalts == 0)
		return dfk_error_set(&r->err, DFK_ERR_NODEV, "no matching DFU interface on the device");
	*chosen = alts[0];
	if (*nalts == 1 || !dfu_mode)
		return DFK_OK;
	/* Several alt settings of a DFU-mode device match. */
	if (r->have_fw && r->fw.format == DFK_FORMAT_DFUSE) {
		for (size_t t = 0; t < r->fw.ntargets; t++) {
			for (size_t j = 0; j < *nalts; j++) {
				if (alts[j]->alt == r->fw.targets[t].alt) {
					*chosen = alts[j];
					return DFK_OK;
				}
			}
		}
		return DFK_OK;
	}
	if (detach_only(r->o)) {
		/* DETACH addresses the interface, so any alt would do; take the
		 * one dfu-util would (its list is built by prepending: the last
		 * alt setting in descriptor order heads it). */
		*chosen = alts[*nalts - 1];
		return DFK_OK;
	}
	if (r->o->reset && !r->o->download && !r->o->upload && !r->o->dfuse)
		return DFK_OK;
	char list[256] = "";
	size_t len = 0;
	for (size_t j = 0; j < *nalts && len < sizeof(list) - 16; j++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u", j ? ", " : "", alts[j]->alt);
	return dfk_error_set(&r->err, DFK_ERR_AMBIGUOUS,
			     "%zu alternate settings match (alt %s): choose one with -a NUMBER or -a NAME", *nalts,
			     list);
}

/* Opens the interface and runs the job on it. */
static dfk_code on_dfu_if(flash_run *r, const dfk_found *found, const dfk_usb_dev *udev)
{
	const dfk_dfu_if **alts = calloc(dfk_found_count(found) + 1, sizeof(*alts));
	if (!alts)
		return dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
	const dfk_dfu_if *ifc = NULL;
	size_t nalts = 0;
	dfk_code rc = pick_alt(r, found, udev, true, alts, &nalts, &ifc);
	if (rc == DFK_OK) {
		describe(r, ifc);
		dfk_dev *dev = NULL;
		rc = dfk_dev_open(r->ctx, ifc, &dev, &r->err);
		if (rc == DFK_OK) {
			r->left = false;
			rc = run_job(r, dev, alts, nalts);
			dfk_dev_close(dev);
		}
		if (rc == DFK_OK && r->left)
			rc = tool_leave_watch(&r->ui, r->ctx, r->t, ifc->dev->path, ifc->serial, ifc->dev->devnum,
					      r->o->leave_watch_s, r->left_has_start, r->left_start, &r->err);
	}
	free(alts);
	return rc;
}

/* A run-time interface: DETACH, then wait for the DFU-mode device on the
 * same port path (device numbers change on re-enumeration, so -n is kept
 * as the path) and continue there. */
static dfk_code on_runtime_if(flash_run *r, const dfk_found *found, const dfk_usb_dev *udev)
{
	const dfk_dfu_if *ifc = NULL;
	for (size_t i = 0; i < dfk_found_count(found) && !ifc; i++) {
		const dfk_dfu_if *f = dfk_found_get(found, i);
		if (f->dev == udev && !f->dfu_mode)
			ifc = f;
	}
	if (!ifc)
		return dfk_error_set(&r->err, DFK_ERR_NODEV, "no run-time DFU interface on the device");
	describe(r, ifc);
	char path[sizeof(udev->path)];
	snprintf(path, sizeof(path), "%s", udev->path);
	r->had_runtime = true;
	r->rt_vid = udev->desc.idVendor;
	r->rt_pid = udev->desc.idProduct;

	dfk_dev *dev = NULL;
	dfk_code rc = dfk_dev_open(r->ctx, ifc, &dev, &r->err);
	if (rc)
		return rc;
	rc = dfk_job_detach(dev, &r->err);
	dfk_dev_close(dev);
	if (rc)
		return rc;
	if (detach_only(r->o)) {
		tool_ui_info(&r->ui, "Detached: the device is switching to DFU mode");
		return DFK_OK;
	}
	tool_ui_info(&r->ui, "Detached; waiting for the device in DFU mode on path \"%s\"", path);

	dfk_match m = r->o->match;
	m.devnum = DFK_MATCH_ANY; /* replaced by the path */
	m.path = NULL;
	if (m.dfu_ids_given) {
		m.vid = m.dfu_vid;
		m.pid = m.dfu_pid;
	} else {
		/* Only run-time IDs given: any DFU-mode IDs, as in dfu-util. */
		m.vid = m.pid = m.dfu_vid = m.dfu_pid = DFK_MATCH_ANY;
	}
	m.serial = m.dfu_serial;
	const char *serial = (m.dfu_serial && *m.dfu_serial) ? m.dfu_serial : NULL;
	dfk_found *again = NULL;
	rc = dfk_wait_for(r->ctx, r->t, &m, path, serial, &again, &r->err);
	if (rc)
		return dfk_error_prefix(&r->err, "after DETACH");
	const dfk_usb_dev *nd = NULL;
	for (size_t i = 0; i < dfk_found_count(again) && !nd; i++)
		if (dfk_found_get(again, i)->dfu_mode)
			nd = dfk_found_get(again, i)->dev;
	if (!nd)
		rc = dfk_error_set(&r->err, DFK_ERR_NODEV, "after DETACH: the device did not come back in DFU mode");
	else
		rc = on_dfu_if(r, again, nd);
	dfk_found_free(again);
	return rc;
}

dfk_code tool_flash_device(flash_run *r, const dfk_found *found, const dfk_usb_dev *udev)
{
	for (size_t i = 0; i < dfk_found_count(found); i++)
		if (dfk_found_get(found, i)->dev == udev && dfk_found_get(found, i)->dfu_mode)
			return on_dfu_if(r, found, udev);
	return on_runtime_if(r, found, udev);
}

static dfk_code run_devices(flash_run *r)
{
	if (r->o->watch) {
		/* The watch finds devices through transports of its own. */
		dfk_transport_free(r->t);
		r->t = NULL;
		return tool_station_watch(r);
	}
	dfk_found *found = NULL;
	dfk_code rc = find_devices(r, &found);
	if (rc)
		return rc;
	size_t count = dfk_found_count(found);
	if (r->o->list) {
		tool_list_print(&r->ui, found);
		dfk_found_free(found);
		return DFK_OK;
	}
	if (count == 0) {
		dfk_found_free(found);
		if (tool_as == TOOL_AS_DFU_UTIL) /* dfu-util's words, which scripts match */
			return dfk_error_set(&r->err, DFK_ERR_NODEV, "No DFU capable USB device available");
		return dfk_error_set(&r->err, DFK_ERR_NODEV, "no DFU capable USB device found%s",
				     r->o->nusbip > 1 ? " on the USB/IP servers"
				     : r->o->nusbip   ? " on the USB/IP server"
						      : "");
	}
	/* Distinct devices, in the order -l prints them. */
	const dfk_usb_dev **devs = calloc(count, sizeof(*devs));
	if (!devs) {
		dfk_found_free(found);
		return dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
	}
	size_t ndevs = 0;
	for (size_t i = count; i-- > 0;) {
		const dfk_usb_dev *d = dfk_found_get(found, i)->dev;
		bool seen = false;
		for (size_t j = 0; j < ndevs; j++)
			seen = seen || devs[j] == d;
		if (!seen)
			devs[ndevs++] = d;
	}
	if (ndevs > 1 && !r->o->all) {
		rc =
		    dfk_error_set(&r->err, DFK_ERR_AMBIGUOUS,
				  "%zu DFU capable USB devices match: select one with -S SERIAL, -p PATH or -d VID:PID "
				  "(see -l), or use --all",
				  ndevs);
	} else if (ndevs > 1) {
		/* The devices' threads find them again, each through a transport
		 * of its own: this one lets them go first (a USB/IP server lets
		 * one host import a device at a time). */
		char(*paths)[TOOL_PATH_MAX] = calloc(ndevs, sizeof(*paths));
		if (!paths) {
			rc = dfk_error_set(&r->err, DFK_ERR_NOMEM, "out of memory");
		} else {
			for (size_t j = 0; j < ndevs; j++)
				snprintf(paths[j], sizeof(paths[j]), "%s", devs[j]->path);
			free(devs);
			devs = NULL;
			dfk_found_free(found);
			found = NULL;
			dfk_transport_free(r->t);
			r->t = NULL;
			rc = tool_station_run(r, (const char(*)[TOOL_PATH_MAX])paths, ndevs);
			free(paths);
		}
	} else {
		rc = tool_flash_device(r, found, devs[0]);
	}
	free(devs);
	dfk_found_free(found);
	return rc;
}

static dfk_code prepare_files(flash_run *r)
{
	tool_flash_opts *o = r->o;
	if (o->download) {
		dfk_load_opts lo;
		dfk_load_opts_init(&lo);
		lo.has_address = o->job.has_address;
		lo.address = o->job.address;
		lo.alt = o->match.alt >= 0 ? (uint8_t)o->match.alt : 0;
		dfk_firmware_init(&r->fw);
		r->have_fw = true;
		dfk_code rc = dfk_firmware_load(o->download, &lo, &r->fw, &r->err);
		if (rc)
			return rc;
		if (o->verbose >= 1)
			tool_ui_info(&r->ui, "%s: %s, %zu target(s), %llu bytes", o->download,
				     dfk_format_name(r->fw.format), r->fw.ntargets,
				     (unsigned long long)dfk_firmware_bytes(&r->fw));
	}
	if (o->upload)
		return dfk_out_open(&r->out, o->upload, DFK_OUT_SYNC | (o->overwrite ? DFK_OUT_OVERWRITE : 0u),
				    &r->err);
	return DFK_OK;
}

int tool_flash_main(int argc, char **argv)
{
	tool_flash_opts opts;
	int ex = tool_flash_parse(argc, argv, &opts);
	if (ex >= 0)
		return ex;

	flash_run r;
	memset(&r, 0, sizeof(r));
	r.o = &opts;
	r.op = op_name(&opts);
	dfk_error_clear(&r.err);
	tool_ui_init(&r.ui, opts.json, opts.verbose);
	if (opts.has_upload_size)
		r.ui.expected = opts.upload_size;
	if (!opts.json)
		tool_flash_banner(stdout);
	if (opts.match_warning[0])
		tool_ui_warn(&r.ui, "%s", opts.match_warning);

	tool_trace trace;
	dfk_code rc = tool_trace_open(&trace, opts.trace, opts.verbose >= 2 ? &r.ui : NULL, &r.err);
	if (rc == DFK_OK)
		rc = dfk_ctx_new(&r.ctx, &r.err);
	if (rc == DFK_OK) {
		tool_ui_attach(&r.ui, r.ctx);
		tool_trace_attach(&trace, r.ctx);
		r.trace = &trace;
		tool_signal_install(r.ctx);
		if (opts.poll_cap_ms >= 0)
			dfk_ctx_set_timeout(r.ctx, DFK_TIMEOUT_POLL_CAP, (unsigned)opts.poll_cap_ms, NULL);
		if (opts.timeout_ms > 0)
			dfk_ctx_set_timeout(r.ctx, DFK_TIMEOUT_OPERATION, (unsigned)opts.timeout_ms, NULL);
		if (opts.usb_timeout_ms > 0)
			dfk_ctx_set_timeout(r.ctx, DFK_TIMEOUT_USB, (unsigned)opts.usb_timeout_ms, NULL);
		/* -E: dfu-util sleeps this long and probes once; dfukit polls
		 * and gives up after it (at least one second). */
		if (opts.detach_delay_s >= 0)
			dfk_ctx_set_timeout(r.ctx, DFK_TIMEOUT_REENUM,
					    (unsigned)(opts.detach_delay_s < 1 ? 1 : opts.detach_delay_s) * 1000u,
					    NULL);
	}

	if (rc == DFK_OK)
		rc = prepare_files(&r);
	if (rc == DFK_OK)
		rc = tool_flash_open_transport(&r);
	if (rc == DFK_OK)
		rc = run_devices(&r);

	if (r.out)
		dfk_out_abort(r.out); /* never leave a partial upload behind */
	if (r.have_fw)
		dfk_firmware_free(&r.fw);
	if (r.t)
		dfk_transport_free(r.t);
	tool_signal_install(NULL); /* the context goes */
	dfk_ctx_free(r.ctx);
	dfk_error trace_err;
	if (tool_trace_close(&trace, &trace_err) && rc == DFK_OK) {
		rc = trace_err.code;
		r.err = trace_err;
	}

	ex = tool_exit_status(rc);
	if (rc == DFK_ERR_CANCELLED && tool_signal_received()) {
		int sig = tool_signal_received();
		ex = 128 + sig; /* 130 SIGINT, 143 SIGTERM, as a shell reports them */
		dfk_error_prefix(&r.err, "interrupted by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	}
	if (rc)
		tool_ui_error(&r.ui, r.err.msg[0] ? r.err.msg : "failed");
	if (rc && strstr(r.err.msg, "read protection is likely active"))
		tool_ui_hint(&r.ui, "-s :unprotect:force removes read protection by mass-erasing the whole flash "
				    "(everything on it is lost), then the device resets");
	char extra[1200] = "";
	if (rc == DFK_OK && (opts.download || opts.upload))
		snprintf(extra, sizeof(extra), ",\"bytes\":%llu%s", (unsigned long long)r.bytes,
			 opts.download ? (r.verified ? ",\"verified\":true" : ",\"verified\":false") : "");
	size_t used = strlen(extra);
	snprintf(extra + used, sizeof(extra) - used, "%s", r.dev_json);
	tool_ui_result(&r.ui, ex, rc, r.err.msg, r.op, extra[0] ? extra : NULL);
	return ex;
}
