/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: parsing the dfu-util 0.11 compatible options (and dfukit's own).
 * Numbers are checked by hand (whole string, no sign, range) because
 * dfu-util's atoi/strtoul accept garbage and negative values silently. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

enum {
	OPT_VERIFY = 0x100,
	OPT_NO_VERIFY,
	OPT_POLL_CAP,
	OPT_TIMEOUT,
	OPT_WAIT_TIMEOUT,
	OPT_LEAVE_WATCH,
	OPT_FORCE,
	OPT_JSON,
	OPT_SKIP_UNCHANGED,
	OPT_ALL,
	OPT_TRACE,
	OPT_JOBS,
	OPT_WATCH,
	OPT_COUNT,
};

void tool_flash_banner(FILE *f)
{
	if (tool_as == TOOL_AS_DFU_UTIL)
		fprintf(f, "dfu-util 0.11 (dfukit %s compatibility mode)\n\n", DFUKIT_VERSION);
	else
		fprintf(f, "dfukit %s - USB DFU 1.1 / DfuSe flasher (dfu-util 0.11 command line)\n\n", DFUKIT_VERSION);
}

void tool_flash_usage(FILE *f)
{
	fprintf(f, "Usage: dfukit [options] ...            (dfu-util compatible)\n"
		   "       dfukit suffix|prefix|pack|info|unpack ...  (file commands)\n"
		   "       dfukit capture [-d|-p|-n|-S ...] -o FILE  (describe a device for dfukit-emu)\n"
		   "  -h --help                     this text\n"
		   "  -V --version                  print the version and exit\n"
		   "  -v --verbose                  more output; -v -v: every USB request too\n"
		   "  -l --list                     list DFU interfaces (run-time and DFU mode)\n"
		   "  -e --detach                   detach the run-time device into DFU mode and stop\n"
		   "  -E --detach-delay SECONDS     how long to wait for the device after detach\n"
		   "  -d --device VID:PID[,VID:PID] run-time[,DFU-mode] IDs in hex (* any, - none)\n"
		   "  -n --devnum N                 USB device number (kept across detach via the path)\n"
		   "  -p --path BUS-PORT[.PORT...]  USB port path\n"
		   "  -c --cfg N                    bConfigurationValue\n"
		   "  -i --intf N                   interface index\n"
		   "  -a --alt N|NAME               alternate setting by number or by name\n"
		   "  -S --serial SERIAL[,DFU]      iSerialNumber (run-time[,DFU mode])\n"
		   "  -t --transfer-size N          override wTransferSize (1..65535)\n"
		   "  -U --upload FILE              read the device into FILE\n"
		   "  -Z --upload-size N            expected upload size (plain DFU)\n"
		   "  -D --download FILE            write FILE (.bin, .dfu, .hex, .srec, .elf)\n"
		   "  -R --reset                    reset the device when done\n"
		   "  -w --wait                     wait for a matching device to appear\n"
		   "  -s --dfuse-address ADDR[:MOD...] DfuSe address; modifiers: force, leave,\n"
		   "                                mass-erase, unprotect, will-reset, LENGTH\n"
		   "dfukit extras:\n"
		   "     --usbip HOST[:PORT]|unix:PATH  use a USB/IP server (also $DFUKIT_USBIP);\n"
		   "                                repeat for several: paths become SERVER/BUSID\n"
		   "     --verify / --no-verify     read back and compare (default: when possible)\n"
		   "     --skip-unchanged           do not erase or write pages that already match\n"
		   "     --force                    let -U replace an existing file\n"
		   "     --json                     JSON events and result on stdout, one per line\n"
		   "     --all                      run the job on every matching device, all at once\n"
		   "     --jobs N                   with --all or --watch: at most N devices at once (1..64)\n"
		   "     --watch                    wait for devices; run the job once on each new one\n"
		   "     --count N                  with --watch: stop after N devices\n"
		   "     --poll-cap MS              longest bwPollTimeout sleep honoured (60000)\n"
		   "     --timeout MS               deadline for one device operation (120000)\n"
		   "     --usb-timeout MS           deadline for one control transfer (5000)\n"
		   "     --wait-timeout SECONDS     give up --wait after this long (0: never)\n"
		   "     --leave-watch SECONDS      after leave, watch for the device this long (3; 0: off)\n"
		   "     --trace FILE               log every USB request to FILE (for bug reports)\n"
		   "Exit status: 0 ok, 64 usage, 65 bad data, 66 no input, 70 internal,\n"
		   "73 cannot create, 74 I/O, 76 protocol.\n");
}

bool tool_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || !end || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* One -s word after the address: whole-word match only (dfu-util 0.11
 * accepts any prefix and then skips past the end of the string). */
static dfk_code dfuse_word(const char *w, size_t n, dfk_job_opts *job, dfk_error *err)
{
	static const struct {
		const char *name;
		size_t off;
	} words[] = {
	    {"force", offsetof(dfk_job_opts, force)},		{"leave", offsetof(dfk_job_opts, leave)},
	    {"mass-erase", offsetof(dfk_job_opts, mass_erase)}, {"unprotect", offsetof(dfk_job_opts, unprotect)},
	    {"will-reset", offsetof(dfk_job_opts, will_reset)},
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].name) == n && memcmp(words[i].name, w, n) == 0) {
			*(bool *)((char *)job + words[i].off) = true;
			return DFK_OK;
		}
	}
	char buf[64];
	uint64_t v;
	if (n > 0 && n < sizeof(buf)) {
		memcpy(buf, w, n);
		buf[n] = '\0';
		if (tool_parse_u64(buf, UINT32_MAX, &v)) {
			if (v == 0)
				return dfk_error_set(err, DFK_ERR_USAGE, "-s: upload length must not be 0");
			job->has_length = true;
			job->length = (uint32_t)v;
			return DFK_OK;
		}
	}
	return dfk_error_set(
	    err, DFK_ERR_USAGE,
	    "-s: unknown modifier \"%.*s\" (force, leave, mass-erase, unprotect, will-reset or a length)",
	    (int)(n > 40 ? 40 : n), w);
}

dfk_code tool_dfuse_spec_parse(const char *spec, dfk_job_opts *job, dfk_error *err)
{
	const char *colon = strchr(spec, ':');
	size_t alen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (alen > 0) {
		char buf[32];
		uint64_t v;
		if (alen >= sizeof(buf))
			return dfk_error_set(err, DFK_ERR_USAGE, "-s: address is too long");
		memcpy(buf, spec, alen);
		buf[alen] = '\0';
		if (!tool_parse_u64(buf, UINT32_MAX, &v))
			return dfk_error_set(err, DFK_ERR_USAGE, "-s: invalid address \"%s\"", buf);
		job->has_address = true;
		job->address = (uint32_t)v;
	}
	while (colon) {
		const char *w = colon + 1;
		colon = strchr(w, ':');
		size_t n = colon ? (size_t)(colon - w) : strlen(w);
		if (n == 0)
			return dfk_error_set(err, DFK_ERR_USAGE, "-s: empty modifier in \"%s\"", spec);
		dfk_code rc = dfuse_word(w, n, job, err);
		if (rc)
			return rc;
	}
	if ((job->mass_erase || job->unprotect) && !job->force)
		return dfk_error_set(err, DFK_ERR_USAGE, "-s: %s needs the force modifier too",
				     job->mass_erase ? "mass-erase" : "unprotect");
	return DFK_OK;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", tool_progname());
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return 64;
}

static bool num_arg(const char *s, uint64_t max, long *out)
{
	uint64_t v;
	if (!tool_parse_u64(s, max, &v))
		return false;
	*out = (long)v;
	return true;
}

int tool_selection_opt(tool_flash_opts *o, int ch, const char *arg, bool *usbip_given, char *msg, size_t msgsz)
{
	dfk_error err, warning;
	uint64_t u;

#define BAD(...) (snprintf(msg, msgsz, __VA_ARGS__), 64)
	switch (ch) {
	case 'd':
		if (dfk_match_parse_device(&o->match, arg, &warning, &err))
			return BAD("-d: %s", err.msg);
		/* Shown once the output mode is known. */
		if (warning.msg[0])
			snprintf(o->match_warning, sizeof(o->match_warning), "-d: %s", warning.msg);
		return 0;
	case 'n':
		if (!tool_parse_u64(arg, 255, &u))
			return BAD("-n: invalid device number \"%s\" (0..255)", arg);
		o->match.devnum = (int)u;
		return 0;
	case 'p':
		if (!*arg || strlen(arg) >= 64)
			return BAD("-p: invalid path \"%s\"", arg);
		o->match.path = arg;
		return 0;
	case 'c':
		if (!tool_parse_u64(arg, 255, &u))
			return BAD("-c: invalid configuration value \"%s\" (0..255)", arg);
		o->match.cfg = u == 0 ? DFK_MATCH_ANY : (int)u; /* 0 means any, as in dfu-util */
		return 0;
	case 'i':
		if (!tool_parse_u64(arg, 255, &u))
			return BAD("-i: invalid interface index \"%s\" (0..255)", arg);
		o->match.intf = (int)u;
		return 0;
	case 'S':
		if (dfk_match_parse_serial(&o->match, arg, o->serial_rt, o->serial_dfu, TOOL_SERIAL_MAX, &err))
			return BAD("-S: %s", err.msg);
		return 0;
	case TOOL_OPT_USBIP:
		if (!*arg)
			return BAD("--usbip: empty address");
		if (!*usbip_given)
			o->nusbip = 0;
		*usbip_given = true;
		if (o->nusbip == TOOL_USBIP_MAX)
			return BAD("--usbip: more than 16 servers (\"%s\")", arg);
		for (size_t i = 0; i < o->nusbip; i++)
			if (strcmp(o->usbip[i], arg) == 0)
				return BAD("--usbip %s given twice", arg);
		o->usbip[o->nusbip++] = arg;
		return 0;
	case TOOL_OPT_USB_TIMEOUT:
		if (!tool_parse_u64(arg, 600000, &u) || u == 0)
			return BAD("--usb-timeout: invalid milliseconds \"%s\"", arg);
		o->usb_timeout_ms = (long)u;
		return 0;
	default: return -1;
	}
#undef BAD
}

int tool_flash_parse(int argc, char **argv, tool_flash_opts *o)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"list", no_argument, NULL, 'l'},
	    {"detach", no_argument, NULL, 'e'},
	    {"detach-delay", required_argument, NULL, 'E'},
	    {"device", required_argument, NULL, 'd'},
	    {"devnum", required_argument, NULL, 'n'},
	    {"path", required_argument, NULL, 'p'},
	    {"cfg", required_argument, NULL, 'c'},
	    {"configuration", required_argument, NULL, 'c'},
	    {"intf", required_argument, NULL, 'i'},
	    {"interface", required_argument, NULL, 'i'},
	    {"alt", required_argument, NULL, 'a'},
	    {"altsetting", required_argument, NULL, 'a'},
	    {"serial", required_argument, NULL, 'S'},
	    {"transfer-size", required_argument, NULL, 't'},
	    {"upload", required_argument, NULL, 'U'},
	    {"upload-size", required_argument, NULL, 'Z'},
	    {"download", required_argument, NULL, 'D'},
	    {"reset", no_argument, NULL, 'R'},
	    {"wait", no_argument, NULL, 'w'}, /* dfu-util 0.11 wrongly wants an argument */
	    {"dfuse-address", required_argument, NULL, 's'},
	    {"usbip", required_argument, NULL, TOOL_OPT_USBIP},
	    {"verify", no_argument, NULL, OPT_VERIFY},
	    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
	    {"poll-cap", required_argument, NULL, OPT_POLL_CAP},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"usb-timeout", required_argument, NULL, TOOL_OPT_USB_TIMEOUT},
	    {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
	    {"leave-watch", required_argument, NULL, OPT_LEAVE_WATCH},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"skip-unchanged", no_argument, NULL, OPT_SKIP_UNCHANGED},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"trace", required_argument, NULL, OPT_TRACE},
	    {"jobs", required_argument, NULL, OPT_JOBS},
	    {"watch", no_argument, NULL, OPT_WATCH},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {NULL, 0, NULL, 0},
	};
	dfk_error err;
	dfk_error_clear(&err);
	memset(o, 0, sizeof(*o));
	o->verify = -1;
	o->detach_delay_s = -1;
	o->leave_watch_s = TOOL_LEAVE_WATCH_DEFAULT_S;
	o->poll_cap_ms = o->timeout_ms = o->usb_timeout_ms = -1;
	dfk_match_init(&o->match);
	dfk_job_opts_init(&o->job);
	/* $DFUKIT_USBIP: one server, replaced by --usbip. */
	const char *env_usbip = getenv("DFUKIT_USBIP");
	if (env_usbip && *env_usbip)
		o->usbip[o->nusbip++] = env_usbip;
	bool usbip_given = false;

	uint64_t u;
	int c;
	opterr = 0;
	optind = 0; /* glibc: full re-initialisation (the parser is also unit-tested) */
	while ((c = getopt_long(argc, argv, ":hVvleE:d:p:c:i:a:S:t:U:D:Rs:Z:wn:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': tool_flash_usage(stderr); return 0;
		case 'V': tool_version(stdout); return 0;
		case 'v': o->verbose++; break;
		case 'l': o->list = true; break;
		case 'e': o->detach = true; break;
		case 'E':
			if (!num_arg(optarg, 3600, &o->detach_delay_s))
				return usage_error("-E: invalid number of seconds \"%s\" (0..3600)", optarg);
			break;
		case 'a':
			/* A number selects bAlternateSetting; anything else is an
			 * exact name (dfu-util's rule). */
			if (tool_parse_u64(optarg, 255, &u)) {
				o->match.alt = (int)u;
				o->match.alt_name = NULL;
			} else if (*optarg) {
				o->match.alt = DFK_MATCH_ANY;
				o->match.alt_name = optarg;
			} else {
				return usage_error("-a: empty alternate setting%s", "");
			}
			break;
		case 't':
			if (!tool_parse_u64(optarg, 65535, &u) || u == 0)
				return usage_error("-t: invalid transfer size \"%s\" (1..65535)", optarg);
			o->transfer_size = (uint32_t)u;
			break;
		case 'U': o->upload = optarg; break;
		case 'D': o->download = optarg; break;
		case 'Z':
			if (!tool_parse_u64(optarg, UINT32_MAX, &u))
				return usage_error("-Z: invalid size \"%s\"", optarg);
			o->has_upload_size = true;
			o->upload_size = u;
			break;
		case 'R': o->reset = true; break;
		case 'w': o->wait = true; break;
		case 's':
			o->dfuse = true;
			if (tool_dfuse_spec_parse(optarg, &o->job, &err)) {
				fprintf(stderr, "%s: %s\n", tool_progname(), err.msg);
				return 64;
			}
			break;
		case OPT_VERIFY: o->verify = 1; break;
		case OPT_NO_VERIFY: o->verify = 0; break;
		case OPT_POLL_CAP:
			if (!num_arg(optarg, 16777215, &o->poll_cap_ms))
				return usage_error("--poll-cap: invalid milliseconds \"%s\"", optarg);
			break;
		case OPT_TIMEOUT:
			if (!num_arg(optarg, 86400000, &o->timeout_ms) || o->timeout_ms == 0)
				return usage_error("--timeout: invalid milliseconds \"%s\"", optarg);
			break;
		case OPT_WAIT_TIMEOUT:
			if (!num_arg(optarg, 86400, &o->wait_timeout_s))
				return usage_error("--wait-timeout: invalid seconds \"%s\"", optarg);
			break;
		case OPT_LEAVE_WATCH:
			if (!num_arg(optarg, 600, &o->leave_watch_s))
				return usage_error("--leave-watch: invalid seconds \"%s\" (0..600)", optarg);
			break;
		case OPT_FORCE: o->overwrite = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_SKIP_UNCHANGED: o->skip_unchanged = true; break;
		case OPT_ALL: o->all = true; break;
		case OPT_JOBS:
			if (!num_arg(optarg, 64, &o->jobs) || o->jobs < 1)
				return usage_error("--jobs: invalid number of devices at once \"%s\" (1..64)", optarg);
			break;
		case OPT_WATCH: o->watch = true; break;
		case OPT_COUNT:
			if (!num_arg(optarg, 1000000, &o->count) || o->count < 1)
				return usage_error("--count: invalid number of devices \"%s\" (1..1000000)", optarg);
			break;
		case OPT_TRACE:
			if (!*optarg)
				return usage_error("--trace: no file name%s", "");
			o->trace = optarg;
			break;
		case ':':
			fprintf(stderr, "%s: option %s needs an argument\n", tool_progname(), argv[optind - 1]);
			tool_flash_usage(stderr);
			return 64;
		default: {
			char msg[DFK_ERROR_MSG_MAX + 64];
			int r = tool_selection_opt(o, c, optarg, &usbip_given, msg, sizeof(msg));
			if (r == 0)
				break;
			if (r > 0) {
				fprintf(stderr, "%s: %s\n", tool_progname(), msg);
				return r;
			}
			if (optopt && optopt < 0x100)
				fprintf(stderr, "%s: unknown option -%c\n", tool_progname(), optopt);
			else
				fprintf(stderr, "%s: unknown option %s\n", tool_progname(), argv[optind - 1]);
			tool_flash_usage(stderr);
			return 64;
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (o->upload && o->download)
		return usage_error("-U and -D cannot be used together%s", "");
	if (o->list && (o->upload || o->download))
		return usage_error("-l cannot be combined with -U or -D%s", "");
	if (!o->list && !o->detach && !o->upload && !o->download && !o->dfuse && !o->reset)
		return usage_error("nothing to do: give -l, -e, -D FILE, -U FILE or -s ADDR:MODIFIERS%s", "");
	if (o->all && o->upload)
		return usage_error("--all cannot be used with -U (one output file)%s", "");
	if (o->watch && (o->upload || o->list || o->all || o->wait))
		return usage_error("--watch cannot be used with -U, -l, --all or -w%s", "");
	if (o->count && !o->watch)
		return usage_error("--count needs --watch%s", "");
	if (o->verify == 1 && !o->download)
		return usage_error("--verify needs -D%s", "");
	if (o->skip_unchanged && !o->download)
		return usage_error("--skip-unchanged needs -D%s", "");
	if (o->overwrite && !o->upload)
		return usage_error("--force needs -U (use -s ...:force for the DfuSe modifier)%s", "");
	if (o->dfuse && !o->upload && !o->download && !o->job.leave && !o->job.mass_erase && !o->job.unprotect)
		return usage_error("-s without -D or -U needs leave, mass-erase or unprotect%s", "");
	if (o->job.has_length && !o->upload)
		return usage_error("-s: a length is only meaningful with -U%s", "");
	return -1;
}
