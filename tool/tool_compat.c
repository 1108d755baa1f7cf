/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit invoked as dfu-util, dfu-suffix, dfu-prefix or dfuse-pack (a link
 * named so, see the install option DFUKIT_INSTALL_COMPAT_LINKS): the
 * command lines, exit codes and the stdout lines that scripts scrape are
 * those of Debian's dfu-util 0.11 package, so recipes written for it
 * (PlatformIO, Arduino, QMK, Zephyr, Klipper, labgrid, LAVA) run unchanged.
 * Everything else (verify by read-back, bounded waits, safety checks) is
 * dfukit's, and -V says it is dfukit. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"
#include "tool_files.h"

/* dfu-util draws a 25 character bar. */
#define COMPAT_BAR 25

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : (path ? path : "");
}

/* The phase as dfu-util names it in its bars (padded as it pads "Erase"). */
static const char *phase_label(dfk_phase phase)
{
	switch (phase) {
	case DFK_PHASE_ERASE: return "Erase   ";
	case DFK_PHASE_DOWNLOAD: return "Download";
	case DFK_PHASE_UPLOAD: return "Upload  ";
	case DFK_PHASE_VERIFY: return "Verify  "; /* dfukit's own phase */
	case DFK_PHASE_MANIFEST:
	case DFK_PHASE_DETACH: break;
	}
	return NULL;
}

static long long now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

void tool_compat_progress(tool_ui *ui, dfk_phase phase, uint64_t done, uint64_t total)
{
	const char *label = phase_label(phase);
	if (!label || total == 0)
		return;
	if (done > total)
		done = total;
	int pct = (int)(done * 100 / total);
	int fill = (int)(done * COMPAT_BAR / total);
	bool start = ui->phase != (int)phase || done == 0;
	if (start) {
		ui->phase = (int)phase;
		ui->compat_fill = -1;
		ui->last_pct = -1;
	}
	/* As dfu-util: redraw when the bar grows or a second has passed. */
	long long sec = now_s();
	if (fill == ui->compat_fill && sec == ui->compat_sec && done != total)
		return;
	if (done == total && ui->last_pct == 100)
		return; /* the phase's end was printed already */
	ui->compat_fill = fill;
	ui->compat_sec = sec;
	ui->last_pct = pct;
	char bar[COMPAT_BAR + 1];
	for (int i = 0; i < COMPAT_BAR; i++)
		bar[i] = i < fill ? '=' : ' ';
	bar[COMPAT_BAR] = '\0';
	printf("\r%s\t[%s] %3d%% %12llu bytes", label, bar, pct, (unsigned long long)done);
	if (done == total)
		printf("\n%s done.\n", label);
	fflush(stdout);
}

void tool_compat_download_done(tool_ui *ui, dfk_dev *dev, bool dfuse)
{
	(void)ui;
	if (dfuse) {
		printf("File downloaded successfully\n");
		fflush(stdout);
		return;
	}
	/* A plain DFU download: dfu-util ends with the device's state and
	 * "Done!" (LAVA looks for "No error condition is present\nDone!").
	 * The state is read from the device, not assumed. */
	dfk_status st;
	dfk_error err;
	dfk_error_clear(&err);
	if (dfk_dfu_get_status(dev, &st, &err) == DFK_OK && st.status == 0)
		printf("DFU state(%u) = %s, status(0) = No error condition is present\n", (unsigned)st.state,
		       dfk_state_name(st.state));
	printf("Done!\n");
	fflush(stdout);
}

/* ---- dfuse-pack -------------------------------------------------------------- */

static void pack_usage(FILE *f)
{
	fprintf(f,
		"Usage:\n"
		"dfuse-pack [-d|--dump] infile.dfu\n"
		"dfuse-pack {-b|--build} address[@alt]:file.bin [-b ...] [{-D|--device}=vendor:device] outfile.dfu\n"
		"dfuse-pack {-s|--build-s19} file.s19 [{-D|--device}=vendor:device] outfile.dfu\n"
		"dfuse-pack {-i|--build-ihex} file.hex [-i file.hex ...] [{-D|--device}=vendor:device] "
		"outfile.dfu\n"
		"(dfukit %s compatibility mode: `dfukit pack --help` for more)\n",
		DFUKIT_VERSION);
}

/* -d: each element to FILE.target<T>.image<E>.bin, as dfuse-pack names them. */
static int pack_dump(const char *path)
{
	dfk_firmware fw;
	dfk_error err;
	dfk_error_clear(&err);
	dfk_firmware_init(&fw);
	if (dfk_firmware_load(path, NULL, &fw, &err) != DFK_OK) {
		fprintf(stderr, "dfuse-pack: %s\n", err.msg);
		return 1;
	}
	int ret = 0;
	for (size_t t = 0; t < fw.ntargets && !ret; t++) {
		const dfk_target *tg = &fw.targets[t];
		for (size_t e = 0; e < tg->image.count && !ret; e++) {
			const dfk_element *el = &tg->image.elements[e];
			char *name = NULL;
			dfk_out *out = NULL;
			if (asprintf(&name, "%s.target%zu.image%zu.bin", path, t, e) < 0)
				name = NULL;
			if (!name) {
				ret = 1;
				break;
			}
			if (dfk_out_open(&out, name, DFK_OUT_OVERWRITE, &err) == DFK_OK &&
			    dfk_out_write(out, el->data, el->size, &err) == DFK_OK) {
				dfk_out *o = out;
				out = NULL;
				if (dfk_out_commit(o, &err) == DFK_OK)
					printf("target %zu, alt %u, element %zu: 0x%08x, %lu bytes -> \"%s\"\n", t,
					       tg->alt, e, el->addr, (unsigned long)el->size, name);
				else
					ret = 1;
			} else {
				ret = 1;
			}
			if (out)
				dfk_out_abort(out);
			if (ret)
				fprintf(stderr, "dfuse-pack: %s\n", err.msg);
			free(name);
		}
	}
	dfk_firmware_free(&fw);
	return ret;
}

/* dfuse-pack's command line: build with -b/-i/-s and one output file,
 * check (or dump with -d) one .dfu file. Exit codes as dfuse-pack's:
 * 0 ok, 1 an error, 2 an unknown option. A file that fails the check
 * exits 1 (dfuse-pack prints "CRC ERROR" and exits 0). */
static int dfuse_pack_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"build", required_argument, NULL, 'b'},
	    {"build-ihex", required_argument, NULL, 'i'},
	    {"build-s19", required_argument, NULL, 's'},
	    {"device", required_argument, NULL, 'D'},
	    {"alt-intf", required_argument, NULL, 'a'},
	    {"dump", no_argument, NULL, 'd'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	bool build = false, dump = false;
	int c;
	/* The argv for `dfukit pack`: the same options but -d. */
	char **pack = calloc((size_t)argc + 2, sizeof(*pack));
	int npack = 0;
	if (!pack)
		return 1;
	pack[npack++] = (char *)"pack";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hb:i:s:D:a:dV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			pack_usage(stdout);
			free(pack);
			return 0;
		case 'V':
			tool_version(stdout);
			free(pack);
			return 0;
		case 'd': dump = true; break;
		case 'b':
		case 'i':
		case 's':
			build = true;
			/* fall through */
		case 'D':
		case 'a': {
			static const char *const flag[] = {
			    ['b'] = "-b", ['i'] = "-i", ['s'] = "-s", ['D'] = "-D", ['a'] = "-a"};
			pack[npack++] = (char *)flag[c];
			pack[npack++] = optarg;
			break;
		}
		case ':':
			pack_usage(stderr);
			fprintf(stderr, "\ndfuse-pack: error: %s option requires an argument\n", argv[optind - 1]);
			free(pack);
			return 2;
		default:
			pack_usage(stderr);
			fprintf(stderr, "\ndfuse-pack: error: no such option: %s\n", argv[optind - 1]);
			free(pack);
			return 2;
		}
	}
	int nargs = argc - optind;
	int ret;
	if (build && nargs == 1) {
		pack[npack++] = argv[optind];
		ret = tool_file_pack(npack, pack) ? 1 : 0;
	} else if (!build && nargs == 1) {
		if (dump) {
			ret = pack_dump(argv[optind]);
		} else {
			char *info[] = {(char *)"info", argv[optind], NULL};
			ret = tool_file_info(2, info) ? 1 : 0;
		}
	} else {
		pack_usage(stdout);
		ret = 1;
	}
	free(pack);
	return ret;
}

bool tool_compat_main(int argc, char **argv, int *status)
{
	const char *name = base_name(argc > 0 ? argv[0] : NULL);
	if (strcmp(name, "dfu-util") == 0) {
		tool_as = TOOL_AS_DFU_UTIL;
		*status = tool_flash_main(argc, argv);
	} else if (strcmp(name, "dfu-suffix") == 0) {
		tool_as = TOOL_AS_DFU_SUFFIX;
		*status = tool_file_suffix(argc, argv);
	} else if (strcmp(name, "dfu-prefix") == 0) {
		tool_as = TOOL_AS_DFU_PREFIX;
		*status = tool_file_prefix(argc, argv);
	} else if (strcmp(name, "dfuse-pack") == 0) {
		tool_as = TOOL_AS_DFUSE_PACK;
		*status = dfuse_pack_main(argc, argv);
	} else {
		return false;
	}
	return true;
}
