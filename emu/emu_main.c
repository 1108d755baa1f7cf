/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu: command line, signals and start-up of the virtual DFU device. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dfukit/dfukit.h"
#include "emu_compat.h"
#include "emu_device.h"
#include "emu_server.h"
#include "emu_session.h"
#include "emu_vhci.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_CANTCREAT 73
#define EXIT_IOERR 74

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;
	/* Self-pipe: the poll() loops see the signal as a readable fd. */
	if (write(signal_pipe[1], &c, 1) < 0) {
		/* full pipe: a signal is pending already */
	}
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dfukit-emu --profile NAME [options]\n"
		"       dfukit-emu --device FILE [--device FILE]... [options]\n"
		"       dfukit-emu --list-profiles | --help | --version\n"
		"\n"
		"A virtual USB DFU / DfuSe device served over USB/IP (protocol 0x0111).\n"
		"\n"
		"Options:\n"
		"  --profile NAME        a built-in device to emulate (see --list-profiles)\n"
		"  --device FILE         a device described in a JSON file (doc/device-format.md;\n"
		"                        keys below); repeatable: one server serves every\n"
		"                        device given (--profile and --device alike), each on\n"
		"                        its own busid: the description's bus path, else\n"
		"                        1-1, 1-2, ... in command-line order\n"
		"  --listen HOST:PORT    serve USB/IP on TCP (default 127.0.0.1:3240; port 0 picks one)\n"
		"  --listen [IPV6]:PORT  the same on IPv6\n"
		"  --listen unix:PATH    serve USB/IP on a Unix socket (removed at exit)\n"
		"  --attach-vhci         attach to the local vhci-hcd instead of listening: the\n"
		"                        device then appears to every libusb program; needs root\n"
		"                        and 'modprobe vhci-hcd' (sysfs dir overridable with\n"
		"                        DFUKIT_EMU_VHCI_DIR); detached again at exit\n"
		"  --count N             serve N copies of the one device (1 to %d, default 1):\n"
		"                        busids 1-1 ... 1-N, serials SERIAL-1 ... SERIAL-N\n"
		"  --arrive MS           with several devices: device N (1-based) comes on the\n"
		"                        bus (N-1)*MS ms after the server is ready, as boards\n"
		"                        plugged in one after another (not with --attach-vhci)\n"
		"  --memory FILE         keep the device memories in FILE (created, erased to\n"
		"                        0xFF, when missing), so flashed data survives restarts\n"
		"  --memory DIR          an existing directory: one file per device, DIR/BUSID.mem\n"
		"                        (needed with several devices)\n"
		"  --timing fast|real    fast: answer at once (bwPollTimeout 0, default);\n"
		"                        real: report and enforce the device's busy times and\n"
		"                        USB bus time\n"
		"  --fault [BUSID:]SPEC  inject a fault (repeatable, at most %d a device; SPEC\n"
		"                        below) into every device, or into device BUSID only\n"
		"  --stats FILE          write statistics (JSON) when a host disconnects and at exit\n"
		"  --serial S            USB serial number string instead of the device's (with\n"
		"                        several devices: S-1 ... S-N)\n"
		"  -v, --verbose         log every connection\n"
		"  --list-profiles       print the profiles, one a line\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"\n"
		"When ready it prints \"dfukit-emu: NAME listening on ADDR\" to stderr (NAME: the\n"
		"profile or the description's name; with several devices their names, \", \").\n"
		"With --attach-vhci ADDR is \"vhci port N (SYSFS-DIR, devid 0x...)\"; the device is\n"
		"detached and attached again when it re-enumerates, detached when it leaves\n"
		"the bus, and the program ends when the host detaches the port.\n"
		"With --count N each device gets its own vhci port (and line).\n"
		"OP_REQ_DEVLIST lists the devices as busids 1-1 ... 1-N (not those off the\n"
		"bus), OP_REQ_IMPORT attaches one; each device serves one host connection at\n"
		"a time (a second import gets ST_DEV_BUSY, as from usbipd), different devices\n"
		"and device lists are served at the same time. URBs may also be sent without\n"
		"the handshake, as vhci-hcd does: they go to device 1-1.\n"
		"A host going away is a USB bus reset for its device. SIGINT or SIGTERM\n"
		"ends it cleanly (exit 0): statistics and memory files written.\n"
		"\n"
		"Statistics (--stats) is one JSON object {\"devices\":{\"1-1\":{...},...}}, one\n"
		"object per busid: profile, serial, control_transfers (every control URB after\n"
		"import, enumeration included), requests (a count per request: GET_DESCRIPTOR,\n"
		"SET_INTERFACE, DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS, ABORT, DETACH, ...),\n"
		"bytes_down, bytes_up, busy_ms (busy time of the timing model), erased_pages,\n"
		"stalls. Written when a host disconnects and at exit, replaced atomically\n"
		"(temp file + rename).\n"
		"\n"
		"Fault SPEC:\n",
		EMU_MAX_DEVICES, EMU_MAX_FAULTS);
	emu_faults_help(f);
	fprintf(f, "\nMemory file (--memory):\n");
	emu_memory_help(f);
	fprintf(f, "\nProfiles (built-in devices, each a description in emu/devices/NAME.json):\n");
	emu_profiles_print(f);
	fprintf(f, "\nDevice description (--device FILE), a JSON object; every key is checked, an\n"
		   "unknown one is an error (doc/device-format.md has them all):\n"
		   "  name, description, sources, protocol (\"dfu\" or \"dfuse\"), bus {path, devnum},\n"
		   "  power_on {mode, state, status}, dfu_mode {device, interfaces, dfu_interface,\n"
		   "  functional, alts [{name, memory, kind, contents}]}, runtime {device, interfaces,\n"
		   "  dfu_interface, functional, interface_name}, read_protection, address_pointer,\n"
		   "  timing {...}, quirks [NAME...], faults [SPEC...]\n"
		   "  Quirks:\n");
	emu_quirks_help(f);
	fprintf(f, "\nExit status: 0 ok, 64 usage, 65 a --device FILE with an error (the message\n"
		   "names the file and the key), 66 a --device FILE or memory file that cannot be\n"
		   "read, 73 a memory file that cannot be created, 74 socket or vhci error.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "dfukit-emu: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'dfukit-emu --help'.\n");
	return EXIT_USAGE;
}

/* The device model creates a missing memory file itself; what can be told
 * apart here is a file that exists but cannot be used, or a directory that
 * does not allow creating it. */
static int check_memory_path(const char *path)
{
	char *copy, *dir;
	int rc = 0;

	if (access(path, F_OK) == 0) {
		if (access(path, R_OK | W_OK) != 0) {
			fprintf(stderr, "dfukit-emu: memory file %s: %s\n", path, strerror(errno));
			return EXIT_NOINPUT;
		}
		return 0;
	}
	copy = strdup(path);
	if (!copy)
		return 70;
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "dfukit-emu: cannot create memory file %s: %s: %s\n", path, dir, strerror(errno));
		rc = EXIT_CANTCREAT;
	}
	free(copy);
	return rc;
}

static void free_bus(emu_bus *bus)
{
	for (size_t i = 0; i < bus->n; i++)
		emu_device_free(bus->ports[i].dev);
	bus->n = 0;
}

enum {
	OPT_PROFILE = 256,
	OPT_LISTEN,
	OPT_MEMORY,
	OPT_TIMING,
	OPT_FAULT,
	OPT_STATS,
	OPT_SERIAL,
	OPT_VHCI,
	OPT_LIST,
	OPT_COUNT,
	OPT_ARRIVE,
	OPT_DEVICE,
};

/* Everything needed to create the devices of the bus. */
typedef struct devices {
	unsigned count;
	const char *memory; /* FILE (one device) or DIR */
	bool memory_dir;
	/* the --profile / --device options in command-line order */
	struct {
		const char *arg;
		bool file;
	} src[EMU_MAX_DEVICES];
	size_t nsrc;
	emu_profile *desc[EMU_MAX_DEVICES]; /* loaded: ndesc of them */
	size_t ndesc;
	/* the devices */
	unsigned n;
	const emu_profile *dev_desc[EMU_MAX_DEVICES];
	bool has_serial[EMU_MAX_DEVICES];
	char serial[EMU_MAX_DEVICES][64];
	char busid[EMU_MAX_DEVICES][32];
	uint32_t busnum[EMU_MAX_DEVICES], devnum[EMU_MAX_DEVICES];
	char memfile[EMU_MAX_DEVICES][4096];
} devices;

static void free_descs(devices *ds)
{
	for (size_t i = 0; i < ds->ndesc; i++)
		emu_profile_free(ds->desc[i]);
	ds->ndesc = 0;
}

/* Serial of device i: S alone for one device, S-1 ... S-N for several;
 * returns false when too long. */
static bool derive_serial(const char *base, unsigned count, unsigned i, char *out, size_t outsz)
{
	int n = count == 1 ? snprintf(out, outsz, "%s", base) : snprintf(out, outsz, "%s-%u", base, i + 1);
	return n >= 0 && (size_t)n < outsz;
}

/* Bus positions: the descriptions' port paths and device numbers first,
 * then 1-1, 1-2, ... and the lowest free address on the bus for the
 * others, in command-line order. Returns a usage error message or NULL. */
static const char *assign_bus(devices *ds)
{
	static char msg[300];
	for (unsigned i = 0; i < ds->n; i++) {
		const char *b = emu_profile_busid(ds->dev_desc[i]);
		snprintf(ds->busid[i], sizeof(ds->busid[i]), "%s", b);
		ds->devnum[i] = emu_profile_devnum(ds->dev_desc[i]);
		for (unsigned j = 0; *b && j < i; j++)
			if (strcmp(ds->busid[j], b) == 0) {
				snprintf(msg, sizeof(msg), "devices %s and %s are both at bus path %s",
					 emu_profile_name(ds->dev_desc[j]), emu_profile_name(ds->dev_desc[i]), b);
				return msg;
			}
	}
	for (unsigned i = 0, k = 1; i < ds->n; i++) {
		if (ds->busid[i][0])
			continue;
		for (;; k++) {
			char cand[32];
			bool used = false;
			snprintf(cand, sizeof(cand), "1-%u", k);
			for (unsigned j = 0; j < ds->n && !used; j++)
				used = strcmp(ds->busid[j], cand) == 0;
			if (!used) {
				snprintf(ds->busid[i], sizeof(ds->busid[i]), "%s", cand);
				break;
			}
		}
	}
	for (unsigned i = 0; i < ds->n; i++) {
		ds->busnum[i] = (uint32_t)strtoul(ds->busid[i], NULL, 10);
		for (unsigned j = 0; ds->devnum[i] && j < i; j++)
			if (ds->devnum[j] == ds->devnum[i] && ds->busnum[j] == ds->busnum[i]) {
				snprintf(msg, sizeof(msg), "devices %s and %s both have device number %u on bus %u",
					 emu_profile_name(ds->dev_desc[j]), emu_profile_name(ds->dev_desc[i]),
					 ds->devnum[i], ds->busnum[i]);
				return msg;
			}
	}
	for (unsigned i = 0; i < ds->n; i++) {
		if (ds->devnum[i])
			continue;
		for (uint32_t d = EMU_FIRST_DEVNUM; d <= 127; d++) {
			bool used = false;
			for (unsigned j = 0; j < ds->n && !used; j++)
				used = j != i && ds->busnum[j] == ds->busnum[i] && ds->devnum[j] == d;
			if (!used) {
				ds->devnum[i] = d;
				break;
			}
		}
		if (!ds->devnum[i]) {
			snprintf(msg, sizeof(msg), "no free device number left on bus %u", ds->busnum[i]);
			return msg;
		}
	}
	return NULL;
}

/* The faults of device busid: those without a BUSID: prefix and those with
 * its own. Returns a usage error message or NULL. */
static const char *device_faults(const char *const *faults, size_t nfaults, const char *busid, emu_config *cfg)
{
	static char msg[300];
	cfg->nfaults = 0;
	for (size_t i = 0; i < nfaults; i++) {
		const char *spec = faults[i], *colon = strchr(spec, ':');
		if (colon) {
			size_t n = (size_t)(colon - spec);
			if (strlen(busid) != n || strncmp(spec, busid, n) != 0)
				continue;
			spec = colon + 1;
		}
		if (cfg->nfaults >= EMU_MAX_FAULTS) {
			snprintf(msg, sizeof(msg), "too many --fault options for device %s (at most %d)", busid,
				 EMU_MAX_FAULTS);
			return msg;
		}
		cfg->faults[cfg->nfaults++] = spec;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"device", required_argument, NULL, OPT_DEVICE},
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"timing", required_argument, NULL, OPT_TIMING},
	    {"fault", required_argument, NULL, OPT_FAULT},
	    {"stats", required_argument, NULL, OPT_STATS},
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"attach-vhci", no_argument, NULL, OPT_VHCI},
	    {"list-profiles", no_argument, NULL, OPT_LIST},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"arrive", required_argument, NULL, OPT_ARRIVE},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	emu_config cfg;
	static devices ds;
	static const char *faults[EMU_MAX_DEVICES * EMU_MAX_FAULTS];
	size_t nfaults = 0;
	const char *listen_spec = NULL, *stats = NULL, *serial = NULL;
	bool vhci = false, verbose = false;
	unsigned long arrive_ms = 0;
	int profile_src = -1;
	int c;

	memset(&cfg, 0, sizeof(cfg));
	cfg.timing = EMU_TIMING_FAST;
	ds.count = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vhV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE:
			/* One built-in device; a later --profile replaces it. */
			if (profile_src < 0) {
				if (ds.nsrc >= EMU_MAX_DEVICES)
					return usage_error("too many devices (at most 64)%s", "");
				profile_src = (int)ds.nsrc++;
			}
			ds.src[profile_src].arg = optarg;
			ds.src[profile_src].file = false;
			break;
		case OPT_DEVICE:
			if (ds.nsrc >= EMU_MAX_DEVICES)
				return usage_error("too many devices (at most 64)%s", "");
			ds.src[ds.nsrc].arg = optarg;
			ds.src[ds.nsrc++].file = true;
			break;
		case OPT_LISTEN: listen_spec = optarg; break;
		case OPT_MEMORY: ds.memory = optarg; break;
		case OPT_COUNT: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-' || v < 1 || v > EMU_MAX_DEVICES)
				return usage_error("--count takes 1 to 64, not \"%s\"", optarg);
			ds.count = (unsigned)v;
			break;
		}
		case OPT_ARRIVE: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-' || v < 1 || v > 3600000)
				return usage_error("--arrive takes 1 to 3600000 ms, not \"%s\"", optarg);
			arrive_ms = v;
			break;
		}
		case OPT_TIMING:
			if (strcmp(optarg, "fast") == 0)
				cfg.timing = EMU_TIMING_FAST;
			else if (strcmp(optarg, "real") == 0)
				cfg.timing = EMU_TIMING_REAL;
			else
				return usage_error("--timing takes fast or real, not \"%s\"", optarg);
			break;
		case OPT_FAULT:
			if (nfaults >= sizeof(faults) / sizeof(faults[0]))
				return usage_error("too many --fault options%s", "");
			faults[nfaults++] = optarg;
			break;
		case OPT_STATS: stats = optarg; break;
		case OPT_SERIAL: serial = optarg; break;
		case OPT_VHCI: vhci = true; break;
		case OPT_LIST: emu_profiles_print(stdout); return 0;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("dfukit-emu %s\n", DFUKIT_VERSION); return 0;
		case ':': return usage_error("option %s needs an argument", argv[optind - 1]);
		default: return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (ds.nsrc == 0)
		return usage_error("--profile NAME is required, or --device FILE (see --list-profiles)%s", "");
	if (vhci && listen_spec)
		return usage_error("--attach-vhci and --listen %s exclude each other", listen_spec);
	if (stats && stats[0] == '\0')
		return usage_error("--stats needs a file name%s", "");
	if (arrive_ms && vhci)
		return usage_error("--arrive is for a USB/IP server (--listen), not --attach-vhci%s", "");
	if (ds.count > 1 && ds.nsrc > 1)
		return usage_error("--count N serves copies of one device, not of several --profile/--device%s", "");

	/* The descriptions: a built-in device or a file. */
	for (size_t i = 0; i < ds.nsrc; i++) {
		char err[1024];
		bool unreadable = false;
		emu_profile *p = ds.src[i].file ? emu_desc_load(ds.src[i].arg, &unreadable, err, sizeof(err))
						: emu_profile_builtin(ds.src[i].arg, err, sizeof(err));
		if (!p) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			free_descs(&ds);
			return !ds.src[i].file ? EXIT_USAGE : unreadable ? EXIT_NOINPUT : EXIT_DATAERR;
		}
		ds.desc[i] = p;
		ds.ndesc = i + 1;
	}
	int rc = 0;
	const char *msg = NULL;
	ds.n = ds.count > 1 ? ds.count : (unsigned)ds.nsrc;
	for (unsigned i = 0; i < ds.n; i++)
		ds.dev_desc[i] = ds.desc[ds.count > 1 ? 0 : i];
	if (ds.count > 1 && (emu_profile_busid(ds.desc[0])[0] || emu_profile_devnum(ds.desc[0]))) {
		rc = usage_error("--count N > 1: %s fixes its bus position (bus), so it cannot be copied",
				 emu_profile_name(ds.desc[0]));
		goto out;
	}
	/* Serials: --serial S, or the description's with -N for copies. */
	for (unsigned i = 0; i < ds.n; i++) {
		const char *base = serial ? serial : ds.count > 1 ? emu_profile_serial(ds.dev_desc[i]) : NULL;
		if (!base)
			continue;
		ds.has_serial[i] = true;
		if (!derive_serial(base, ds.n, i, ds.serial[i], sizeof(ds.serial[i]))) {
			rc = usage_error(ds.n > 1 ? "serial \"%s\" is too long (at most 63 bytes with -N appended)"
						  : "serial \"%s\" is too long (at most 63 bytes)",
					 base);
			goto out;
		}
	}
	msg = assign_bus(&ds);
	if (msg) {
		rc = usage_error("%s", msg);
		goto out;
	}
	for (size_t i = 0; i < nfaults; i++) {
		const char *colon = strchr(faults[i], ':');
		bool found = false;
		for (unsigned d = 0; colon && d < ds.n && !found; d++)
			found = strlen(ds.busid[d]) == (size_t)(colon - faults[i]) &&
				strncmp(ds.busid[d], faults[i], (size_t)(colon - faults[i])) == 0;
		if (colon && !found) {
			rc =
			    usage_error("--fault %s: no device with that busid (1-1 to 1-N with --count N)", faults[i]);
			goto out;
		}
	}
	if (ds.memory) {
		struct stat st;
		ds.memory_dir = stat(ds.memory, &st) == 0 && S_ISDIR(st.st_mode);
		if (!ds.memory_dir && ds.n > 1) {
			rc = usage_error("--memory %s: with several devices (--count N > 1) it must be an existing "
					 "directory",
					 ds.memory);
			goto out;
		}
	}
	for (unsigned i = 0; i < ds.n; i++) {
		if (!ds.memory)
			continue;
		char busid[32];
		memcpy(busid, ds.busid[i], sizeof(busid)); /* not into the struct it comes from */
		if (ds.memory_dir)
			snprintf(ds.memfile[i], sizeof(ds.memfile[i]), "%s/%s.mem", ds.memory, busid);
		else
			snprintf(ds.memfile[i], sizeof(ds.memfile[i]), "%s", ds.memory);
		rc = check_memory_path(ds.memfile[i]);
		if (rc)
			goto out;
	}

	/* Before anything that must be cleaned up: a SIGTERM from now on ends
	 * the loops cleanly. */
	if (emu_pipe_nb(signal_pipe) != 0) {
		fprintf(stderr, "dfukit-emu: pipe: %s\n", strerror(errno));
		rc = 70;
		goto out;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char err[1024] = "";
	static emu_bus bus;
	for (unsigned i = 0; i < ds.n; i++) {
		const char *busid = ds.busid[i];
		const char *fmsg = device_faults(faults, nfaults, busid, &cfg);
		emu_device *dev = NULL;
		cfg.desc = ds.dev_desc[i];
		cfg.serial = ds.has_serial[i] ? ds.serial[i] : NULL;
		cfg.memory_path = ds.memory ? ds.memfile[i] : NULL;
		if (!fmsg)
			dev = emu_device_new(&cfg, err, sizeof(err));
		if (!dev || !emu_bus_add_at(&bus, dev, busid, ds.devnum[i])) {
			fprintf(stderr, "dfukit-emu: %s%s%s\n", ds.n > 1 ? busid : "", ds.n > 1 ? ": " : "",
				fmsg	 ? fmsg
				: err[0] ? err
					 : "cannot create the device");
			emu_device_free(dev);
			free_bus(&bus);
			rc = EXIT_USAGE;
			goto out;
		}
	}

	/* The ready line's name: the device's, or every distinct one. */
	char label[512] = "";
	for (size_t i = 0, n = 0; i < ds.nsrc; i++) {
		const char *name = emu_profile_name(ds.desc[i]);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(emu_profile_name(ds.desc[j]), name) == 0;
		if (!seen && n < sizeof(label)) {
			int w = snprintf(label + n, sizeof(label) - n, "%s%s", n ? ", " : "", name);
			n += w > 0 ? (size_t)w : 0;
		}
	}

	int lfd = -1;
	char desc[600] = "";
	if (!vhci) {
		lfd = emu_listen(listen_spec ? listen_spec : "127.0.0.1:3240", desc, sizeof(desc), err, sizeof(err));
		if (lfd < 0) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			free_bus(&bus);
			rc = EXIT_IOERR;
			goto out;
		}
	}

	if (arrive_ms) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts); /* the server's clock (emu_server.c) */
		uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
		for (size_t i = 0; i < bus.n; i++)
			bus.ports[i].arrive_ms = now + i * arrive_ms;
	}
	emu_server_opts o = {&bus, label, stats, signal_pipe[0], verbose};
	if (vhci) {
		const char *dir = getenv("DFUKIT_EMU_VHCI_DIR");
		rc = emu_serve_vhci(&o, dir && dir[0] ? dir : EMU_VHCI_SYSFS);
	} else {
		rc = emu_serve_listener(&o, lfd, desc);
		close(lfd);
		if (strncmp(desc, "unix:", 5) == 0)
			unlink(desc + 5);
	}
	if (stats && !emu_bus_write_stats_file(&bus, stats, err, sizeof(err))) {
		fprintf(stderr, "dfukit-emu: %s\n", err);
		if (rc == 0)
			rc = EXIT_CANTCREAT;
	}
	free_bus(&bus);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
out:
	free_descs(&ds);
	return rc;
}
