/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* example-flash: the smallest useful program built on libdfukit.
 *
 *   example-flash [--usbip SPEC] FILE [ADDRESS]
 *
 * Writes FILE (raw binary, DfuSe .dfu, Intel HEX, S-record or ELF) to the
 * first USB interface in DFU mode (alt setting 0) and reads it back to
 * verify. A raw binary needs ADDRESS on a DfuSe device (e.g. 0x08000000).
 * Without --usbip the devices come from libusb; with it, from a USB/IP
 * server such as dfukit-emu ("HOST[:PORT]" or "unix:PATH").
 *
 * It uses only the public header <dfukit/dfukit.h>: everything a program
 * needs (finding, opening, file formats, the download job, error messages)
 * is in the library; what a result means for the exit status is the
 * program's choice (here: 64, EX_USAGE, for a bad command line, 1 for any
 * other failure). The library itself never prints: it
 * reports through the log and progress callbacks set in the dfk_ctx. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dfukit/dfukit.h>

#define EXIT_USAGE 64 /* sysexits.h EX_USAGE */

/* The library's log messages, on stderr with their level. */
static void on_log(void *user, dfk_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	(void)user;
	if (level <= DFK_LOG_INFO)
		fprintf(stderr, "%s: %s\n", names[level], msg);
}

/* Progress of each phase (erase, download, verify...): one line per 10 %
 * rather than a redrawn bar, so the output also reads well in a log file.
 * user points at the last tenth printed. */
static void on_progress(void *user, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	int *last = user;
	int pct = total ? (int)(done * 100 / total) : 100;
	if (done == 0)
		*last = -1; /* a new phase begins */
	if (pct / 10 == *last)
		return;
	*last = pct / 10;
	printf("%-8s %3d%%  (%llu/%llu bytes, at 0x%08x)\n", dfk_phase_name(phase), pct, (unsigned long long)done,
	       (unsigned long long)total, (unsigned)addr);
	fflush(stdout);
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--usbip SPEC] FILE [ADDRESS]\n", argv0);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *usbip = NULL, *path = NULL, *addr_arg = NULL;
	dfk_load_opts load;
	dfk_transport *transport = NULL;
	dfk_found *found = NULL;
	dfk_dev *dev = NULL;
	dfk_firmware fw;
	dfk_error err = {0};
	dfk_code code;
	dfk_ctx *ctx = NULL;
	dfk_match match;
	dfk_job_opts job;
	bool verified = false;
	const dfk_dfu_if *ifc = NULL;
	int last_pct = -1;

	/* Command line: a loop rather than getopt_long, as there is one option. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--usbip") == 0 && i + 1 < argc)
			usbip = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage(argv[0]);
		else if (!path)
			path = argv[i];
		else if (!addr_arg)
			addr_arg = argv[i];
		else
			return usage(argv[0]);
	}
	if (!path)
		return usage(argv[0]);
	dfk_load_opts_init(&load); /* the format is detected from the content */
	if (addr_arg) {
		char *end;
		errno = 0;
		unsigned long long a = strtoull(addr_arg, &end, 0);
		if (errno || *end || end == addr_arg || a > UINT32_MAX) {
			fprintf(stderr, "%s: bad address '%s'\n", argv[0], addr_arg);
			return EXIT_USAGE;
		}
		load.has_address = true;
		load.address = (uint32_t)a;
	}

	dfk_firmware_init(&fw); /* so that it can be freed whatever happens next */

	/* The context: defaults (timeouts, system clock) plus our callbacks. */
	code = dfk_ctx_new(&ctx, &err);
	if (code != DFK_OK)
		goto out;
	dfk_ctx_set_log(ctx, on_log, NULL);
	dfk_ctx_set_progress(ctx, on_progress, &last_pct);

	/* Load the file first: a bad file should not need a device. */
	code = dfk_firmware_load(path, &load, &fw, &err);
	if (code != DFK_OK)
		goto out;
	printf("%s: %s, %llu bytes\n", path, dfk_format_name(fw.format), (unsigned long long)dfk_firmware_bytes(&fw));

	code = usbip ? dfk_transport_usbip_new(&transport, ctx, usbip, &err)
		     : dfk_transport_libusb_new(&transport, ctx, 0, &err);
	if (code != DFK_OK)
		goto out;

	/* Any device, alt setting 0; of the matches take the first in DFU mode
	 * (a run-time interface would first need dfk_job_detach). */
	dfk_match_init(&match);
	match.alt = 0;
	code = dfk_find(ctx, transport, &match, &found, &err);
	if (code != DFK_OK)
		goto out;
	for (size_t i = 0; i < dfk_found_count(found) && !ifc; i++)
		if (dfk_found_get(found, i)->dfu_mode)
			ifc = dfk_found_get(found, i);
	if (!ifc) {
		code = dfk_error_set(&err, DFK_ERR_NODEV, "no DFU-mode interface with alt setting 0 found");
		goto out;
	}
	printf("device %04x:%04x at %s, alt %u \"%s\"%s\n", ifc->dev->desc.idVendor, ifc->dev->desc.idProduct,
	       ifc->dev->path, ifc->alt, ifc->name, ifc->dfuse ? " (DfuSe)" : "");

	/* The open device copies what it needs: the list can go now. */
	code = dfk_dev_open(ctx, ifc, &dev, &err);
	dfk_found_free(found);
	found = NULL;
	ifc = NULL;
	if (code != DFK_OK)
		goto out;

	dfk_job_opts_init(&job);
	job.verify = true; /* the default; set here to show it */
	job.verified = &verified;
	code = dfk_job_download(dev, &fw, &job, &err);
	if (code == DFK_OK)
		printf("done: %llu bytes written%s\n", (unsigned long long)dfk_firmware_bytes(&fw),
		       verified ? " and verified" : " (not verified: the device could not read them back)");

out:
	/* Everything is safe to free in any state reached above. */
	if (code != DFK_OK)
		fprintf(stderr, "%s: %s\n", argv[0], err.msg[0] ? err.msg : dfk_code_name(code));
	if (dev)
		dfk_dev_close(dev);
	dfk_found_free(found);
	if (transport)
		dfk_transport_free(transport);
	dfk_ctx_free(ctx);
	dfk_firmware_free(&fw);
	return code == DFK_OK ? 0 : 1;
}
