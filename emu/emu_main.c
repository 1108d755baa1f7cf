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
#include <unistd.h>

#include "dfukit/dfukit.h"
#include "emu_compat.h"
#include "emu_device.h"
#include "emu_server.h"
#include "emu_session.h"
#include "emu_vhci.h"

#define EXIT_USAGE 64
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
		"       dfukit-emu --list-profiles | --help | --version\n"
		"\n"
		"A virtual USB DFU / DfuSe device served over USB/IP (protocol 0x0111).\n"
		"\n"
		"Options:\n"
		"  --profile NAME        the device to emulate (see --list-profiles)\n"
		"  --listen HOST:PORT    serve USB/IP on TCP (default 127.0.0.1:3240; port 0 picks one)\n"
		"  --listen [IPV6]:PORT  the same on IPv6\n"
		"  --listen unix:PATH    serve USB/IP on a Unix socket (removed at exit)\n"
		"  --attach-vhci         attach to the local vhci-hcd instead of listening: the\n"
		"                        device then appears to every libusb program; needs root\n"
		"                        and 'modprobe vhci-hcd' (sysfs dir overridable with\n"
		"                        DFUKIT_EMU_VHCI_DIR); detached again at exit\n"
		"  --count N             serve N devices of the profile (1 to %d, default 1):\n"
		"                        busids 1-1 ... 1-N, serials SERIAL-1 ... SERIAL-N\n"
		"  --memory FILE         keep the device memories in FILE (created, erased to\n"
		"                        0xFF, when missing), so flashed data survives restarts\n"
		"  --memory DIR          an existing directory: one file per device, DIR/BUSID.mem\n"
		"                        (needed with --count N > 1)\n"
		"  --timing fast|real    fast: answer at once (bwPollTimeout 0, default);\n"
		"                        real: report and enforce the profile's busy times\n"
		"  --fault [BUSID:]SPEC  inject a fault (repeatable, at most %d a device; SPEC\n"
		"                        below) into every device, or into device BUSID only\n"
		"  --stats FILE          write statistics (JSON) when a host disconnects and at exit\n"
		"  --serial S            USB serial number string instead of the profile's (with\n"
		"                        --count N > 1: S-1 ... S-N)\n"
		"  -v, --verbose         log every connection\n"
		"  --list-profiles       print the profiles, one a line\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"\n"
		"When ready it prints \"dfukit-emu: PROFILE listening on ADDR\" to stderr.\n"
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
	fprintf(f, "\nProfiles:\n");
	emu_profiles_print(f);
	fprintf(f, "\nExit status: 0 ok, 64 usage, 66/73 memory file, 74 socket or vhci error.\n");
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
};

/* Everything needed to create the devices of the bus. */
typedef struct devices {
	unsigned count;
	const char *memory; /* FILE (count 1) or DIR */
	bool memory_dir;
	char serial[EMU_MAX_DEVICES][64];
	char memfile[EMU_MAX_DEVICES][4096];
} devices;

/* Serial of device i: the profile's (or --serial) alone, S-1 ... S-N with
 * several devices; returns false when too long. */
static bool derive_serial(const char *base, unsigned count, unsigned i, char *out, size_t outsz)
{
	int n = count == 1 ? snprintf(out, outsz, "%s", base) : snprintf(out, outsz, "%s-%u", base, i + 1);
	return n >= 0 && (size_t)n < outsz;
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
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"timing", required_argument, NULL, OPT_TIMING},
	    {"fault", required_argument, NULL, OPT_FAULT},
	    {"stats", required_argument, NULL, OPT_STATS},
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"attach-vhci", no_argument, NULL, OPT_VHCI},
	    {"list-profiles", no_argument, NULL, OPT_LIST},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	emu_config cfg;
	static devices ds;
	static const char *faults[EMU_MAX_DEVICES * EMU_MAX_FAULTS];
	size_t nfaults = 0;
	const char *listen_spec = NULL, *stats = NULL;
	bool vhci = false, verbose = false;
	int c;

	memset(&cfg, 0, sizeof(cfg));
	cfg.timing = EMU_TIMING_FAST;
	ds.count = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vhV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE: cfg.profile = optarg; break;
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
		case OPT_SERIAL: cfg.serial = optarg; break;
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
	if (!cfg.profile)
		return usage_error("--profile NAME is required (see --list-profiles)%s", "");
	if (vhci && listen_spec)
		return usage_error("--attach-vhci and --listen %s exclude each other", listen_spec);
	if (stats && stats[0] == '\0')
		return usage_error("--stats needs a file name%s", "");
	for (size_t i = 0; i < nfaults; i++) {
		const char *colon = strchr(faults[i], ':');
		unsigned long n = 0;
		int used = 0;
		if (!colon)
			continue;
		if (sscanf(faults[i], "1-%lu%n", &n, &used) != 1 || faults[i] + used != colon || n < 1 || n > ds.count)
			return usage_error("--fault %s: no device with that busid (1-1 to 1-N with --count N)",
					   faults[i]);
	}
	if (ds.memory) {
		struct stat st;
		ds.memory_dir = stat(ds.memory, &st) == 0 && S_ISDIR(st.st_mode);
		if (!ds.memory_dir && ds.count > 1)
			return usage_error("--memory %s: with --count N > 1 it must be an existing directory",
					   ds.memory);
	}
	{
		const char *base = cfg.serial;
		emu_config probe = cfg;
		char perr[256];
		if (!base) {
			/* The profile's serial, from a throw-away RAM device. */
			probe.nfaults = 0;
			emu_device *d = emu_device_new(&probe, perr, sizeof(perr));
			if (!d) {
				fprintf(stderr, "dfukit-emu: %s\n", perr);
				return EXIT_USAGE;
			}
			snprintf(ds.serial[0], sizeof(ds.serial[0]), "%s", emu_device_serial(d));
			emu_device_free(d);
		} else {
			snprintf(ds.serial[0], sizeof(ds.serial[0]), "%s", base);
		}
		char first[64];
		memcpy(first, ds.serial[0], sizeof(first));
		for (unsigned i = 0; i < ds.count; i++)
			if (!derive_serial(first, ds.count, i, ds.serial[i], sizeof(ds.serial[i])))
				return usage_error("serial \"%s\" is too long for --count", first);
	}
	for (unsigned i = 0; i < ds.count; i++) {
		if (!ds.memory)
			continue;
		if (ds.memory_dir)
			snprintf(ds.memfile[i], sizeof(ds.memfile[i]), "%s/1-%u.mem", ds.memory, i + 1);
		else
			snprintf(ds.memfile[i], sizeof(ds.memfile[i]), "%s", ds.memory);
		int rc = check_memory_path(ds.memfile[i]);
		if (rc)
			return rc;
	}

	/* Before anything that must be cleaned up: a SIGTERM from now on ends
	 * the loops cleanly. */
	if (emu_pipe_nb(signal_pipe) != 0) {
		fprintf(stderr, "dfukit-emu: pipe: %s\n", strerror(errno));
		return 70;
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
	for (unsigned i = 0; i < ds.count; i++) {
		char busid[16];
		snprintf(busid, sizeof(busid), "1-%u", i + 1);
		const char *msg = device_faults(faults, nfaults, busid, &cfg);
		emu_device *dev = NULL;
		cfg.serial = ds.serial[i];
		cfg.memory_path = ds.memory ? ds.memfile[i] : NULL;
		if (!msg)
			dev = emu_device_new(&cfg, err, sizeof(err));
		if (!dev || !emu_bus_add(&bus, dev)) {
			fprintf(stderr, "dfukit-emu: %s%s%s\n", ds.count > 1 ? busid : "", ds.count > 1 ? ": " : "",
				msg	 ? msg
				: err[0] ? err
					 : "cannot create the device");
			emu_device_free(dev);
			free_bus(&bus);
			return EXIT_USAGE;
		}
	}

	int lfd = -1;
	char desc[600] = "";
	if (!vhci) {
		lfd = emu_listen(listen_spec ? listen_spec : "127.0.0.1:3240", desc, sizeof(desc), err, sizeof(err));
		if (lfd < 0) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			free_bus(&bus);
			return EXIT_IOERR;
		}
	}

	emu_server_opts o = {&bus, cfg.profile, stats, signal_pipe[0], verbose};
	int status;
	if (vhci) {
		const char *dir = getenv("DFUKIT_EMU_VHCI_DIR");
		status = emu_serve_vhci(&o, dir && dir[0] ? dir : EMU_VHCI_SYSFS);
	} else {
		status = emu_serve_listener(&o, lfd, desc);
		close(lfd);
		if (strncmp(desc, "unix:", 5) == 0)
			unlink(desc + 5);
	}
	if (stats && !emu_bus_write_stats_file(&bus, stats, err, sizeof(err))) {
		fprintf(stderr, "dfukit-emu: %s\n", err);
		if (status == 0)
			status = EXIT_CANTCREAT;
	}
	free_bus(&bus);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	return status;
}
