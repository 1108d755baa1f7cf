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
#include <unistd.h>

#include "dfukit/dfukit.h"
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
		"  --memory FILE         keep the device memories in FILE (created, erased to\n"
		"                        0xFF, when missing), so flashed data survives restarts\n"
		"  --timing fast|real    fast: answer at once (bwPollTimeout 0, default);\n"
		"                        real: report and enforce the profile's busy times\n"
		"  --fault SPEC          inject a fault (repeatable, at most %d; SPEC below)\n"
		"  --stats FILE          write statistics (JSON) when a host disconnects and at exit\n"
		"  --serial S            USB serial number string instead of the profile's\n"
		"  -v, --verbose         log every connection\n"
		"  --list-profiles       print the profiles, one a line\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"\n"
		"When ready it prints \"dfukit-emu: PROFILE listening on ADDR\" to stderr.\n"
		"With --attach-vhci ADDR is \"vhci port N (SYSFS-DIR, devid 0x...)\"; the device is\n"
		"detached and attached again when it re-enumerates, detached when it leaves\n"
		"the bus, and the program ends when the host detaches the port.\n"
		"The server takes one host connection at a time: OP_REQ_DEVLIST lists the\n"
		"device as busid " EMU_BUSID " (none while it is off the bus), OP_REQ_IMPORT\n"
		"attaches it; URBs may also be sent without the handshake, as vhci-hcd does.\n"
		"A host going away is a USB bus reset for the device. SIGINT or SIGTERM\n"
		"ends it cleanly (exit 0): statistics and memory file written.\n"
		"\n"
		"Statistics (--stats) is one JSON object: control_transfers (every control\n"
		"URB after import, enumeration included), a count per request (GET_DESCRIPTOR,\n"
		"SET_INTERFACE, DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS, ABORT, DETACH, ...),\n"
		"bytes_down, bytes_up, busy_ms (busy time of the timing model), erased_pages.\n"
		"It is replaced atomically (temp file + rename).\n"
		"\n"
		"Fault SPEC:\n",
		EMU_MAX_FAULTS);
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
};

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
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	emu_config cfg;
	const char *listen_spec = NULL, *stats = NULL;
	bool vhci = false, verbose = false;
	int c;

	memset(&cfg, 0, sizeof(cfg));
	cfg.timing = EMU_TIMING_FAST;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vhV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE: cfg.profile = optarg; break;
		case OPT_LISTEN: listen_spec = optarg; break;
		case OPT_MEMORY: cfg.memory_path = optarg; break;
		case OPT_TIMING:
			if (strcmp(optarg, "fast") == 0)
				cfg.timing = EMU_TIMING_FAST;
			else if (strcmp(optarg, "real") == 0)
				cfg.timing = EMU_TIMING_REAL;
			else
				return usage_error("--timing takes fast or real, not \"%s\"", optarg);
			break;
		case OPT_FAULT:
			if (cfg.nfaults >= EMU_MAX_FAULTS)
				return usage_error("too many --fault options (at most 32)%s", "");
			cfg.faults[cfg.nfaults++] = optarg;
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
	if (cfg.memory_path) {
		int rc = check_memory_path(cfg.memory_path);
		if (rc)
			return rc;
	}

	/* Before anything that must be cleaned up: a SIGTERM from now on ends
	 * the loops cleanly. */
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
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
	emu_device *dev = emu_device_new(&cfg, err, sizeof(err));
	if (!dev) {
		fprintf(stderr, "dfukit-emu: %s\n", err[0] ? err : "cannot create the device");
		return EXIT_USAGE;
	}

	int lfd = -1;
	char desc[600] = "";
	if (!vhci) {
		lfd = emu_listen(listen_spec ? listen_spec : "127.0.0.1:3240", desc, sizeof(desc), err, sizeof(err));
		if (lfd < 0) {
			fprintf(stderr, "dfukit-emu: %s\n", err);
			emu_device_free(dev);
			return EXIT_IOERR;
		}
	}

	emu_server_opts o = {dev, cfg.profile, stats, signal_pipe[0], verbose};
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
	if (stats && !emu_write_stats_file(dev, stats, err, sizeof(err))) {
		fprintf(stderr, "dfukit-emu: %s\n", err);
		if (status == 0)
			status = EXIT_CANTCREAT;
	}
	emu_device_free(dev);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	return status;
}
