/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit, the command-line tool: a client of libdfukit only. */
#ifndef DFUKIT_TOOL_H
#define DFUKIT_TOOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dfukit/dfukit.h"
#include "tool_exit.h"

/* The name dfukit was invoked under: its own, or one of dfu-util's, whose
 * command lines and scraped output it then follows (tool_compat.c). */
typedef enum tool_persona {
	TOOL_AS_DFUKIT,
	TOOL_AS_DFU_UTIL,
	TOOL_AS_DFU_SUFFIX,
	TOOL_AS_DFU_PREFIX,
	TOOL_AS_DFUSE_PACK,
} tool_persona;
extern tool_persona tool_as;
/* "dfukit", "dfu-util", ...: the prefix of messages. */
const char *tool_progname(void);
/* -V: version, git describe, libdfukit and libusb versions (tool_version.c). */
void tool_version(FILE *f);
/* argv[0] is one of dfu-util's names: sets tool_as, runs that tool's command
 * line and stores its exit status in *status. false for any other name. */
bool tool_compat_main(int argc, char **argv, int *status);

/* `dfukit suffix|prefix|pack|info|unpack ...`; argv[0] is the subcommand. */
int tool_files_main(int argc, char **argv);
/* The dfu-util compatible command line (everything else). */
int tool_flash_main(int argc, char **argv);

/* Writes s as a JSON string literal (with quotes) to f. */
void tool_json_string(FILE *f, const char *s);

/* ---- Flashing command line (tool_flash*.c, tool_ui.c, tool_list.c) ---- */

#define TOOL_SERIAL_MAX 256

typedef struct tool_flash_opts {
	int verbose;
	bool list, detach, wait, reset, json, overwrite, all, skip_unchanged;
	long jobs;	     /* --jobs: devices at once with --all; 0 = all */
	bool watch;	     /* --watch */
	long count;	     /* --count: with --watch, stop after this many; 0 = never */
	int verify;	     /* -1: on when the device can upload; 0 off; 1 on (required) */
	long detach_delay_s; /* -E; -1 when not given */
	long wait_timeout_s; /* --wait-timeout; 0 = wait forever, as dfu-util */
	long leave_watch_s;  /* --leave-watch; 0 = do not watch after a DfuSe leave */
	dfk_match match;
	char serial_rt[TOOL_SERIAL_MAX], serial_dfu[TOOL_SERIAL_MAX];
	uint32_t transfer_size; /* -t; 0 = the device's wTransferSize */
	const char *upload, *download;
	bool has_upload_size;
	uint64_t upload_size; /* -Z */
	bool dfuse;	      /* -s given */
	dfk_job_opts job;     /* -s address, length and modifiers */
#define TOOL_USBIP_MAX 16
	const char *usbip[TOOL_USBIP_MAX]; /* --usbip (repeatable) or $DFUKIT_USBIP */
	size_t nusbip;
	const char *trace;			      /* --trace FILE */
	long poll_cap_ms, timeout_ms, usb_timeout_ms; /* -1: library default */
	char match_warning[DFK_ERROR_MSG_MAX + 8];    /* -d parts taken as any; "" if none */
} tool_flash_opts;

#define TOOL_LEAVE_WATCH_DEFAULT_S 3

/* Parses argv into o. Returns -1 to continue, otherwise the exit status
 * (0 after --help/--version). */
int tool_flash_parse(int argc, char **argv, tool_flash_opts *o);
/* getopt codes of the long-only selection options, the same in every
 * command that takes them. */
enum { TOOL_OPT_USBIP = 0x200, TOOL_OPT_USB_TIMEOUT };
/* The device-selection options that -l, the flasher and capture share:
 * -d -p -n -S -c -i --usbip --usb-timeout (usbip_given: set once --usbip
 * came, which replaces $DFUKIT_USBIP). Returns -1 when ch is not one of
 * them, 0 when it was taken, 64 with the message ("-p: invalid path ...")
 * in msg when its argument is wrong. A -d warning goes to o->match_warning. */
int tool_selection_opt(tool_flash_opts *o, int ch, const char *arg, bool *usbip_given, char *msg, size_t msgsz);
/* Parses -s's "[ADDR][:MODIFIER...]" into o->job (whole-word modifiers). */
dfk_code tool_dfuse_spec_parse(const char *spec, dfk_job_opts *job, dfk_error *err);
/* Strict unsigned number (decimal, 0x hex, 0 octal as strtoul base 0):
 * the whole string, no sign, at most max. */
bool tool_parse_u64(const char *s, uint64_t max, uint64_t *out);
void tool_flash_usage(FILE *f);
void tool_flash_banner(FILE *f);

/* Several devices at once on a terminal: one live row each (tool_station.c). */
typedef struct tool_board tool_board;
/* Sets row's text and redraws the board; the caller holds the output lock. */
void tool_board_set(tool_board *b, size_t row, const char *text);

/* Output: progress bars, plain lines or JSON events (tool_ui.c). */
typedef struct tool_ui {
	bool json;
	bool tty; /* stderr is a terminal: redraw bars in place */
	int verbose;
	int phase; /* -1 none */
	int last_pct;
	int compat_fill;      /* dfu-util's bar: filled width drawn last */
	long long compat_sec; /* and the second it was drawn in */
	bool bar_open;	      /* a bar is drawn and not yet ended with a newline */
	uint64_t expected;    /* -Z: upload size for the bar when the device gives none */
	long long last_step;
	uint64_t start_ms;
	/* One of several devices at once (tool_station.c); NULL otherwise. */
	const char *device;    /* sanitised path: line prefix, JSON "device" */
	pthread_mutex_t *lock; /* keeps the devices' threads' output whole */
	tool_board *board;     /* terminal: the device's row shows its output */
	size_t row;
} tool_ui;
void tool_ui_init(tool_ui *ui, bool json, int verbose);
/* Hooks ui into the context's log and progress callbacks. */
void tool_ui_attach(tool_ui *ui, dfk_ctx *ctx);
/* dfu-util's progress lines on stdout (tool_compat.c): "\rDownload\t[===  ]
 * 42%   1234 bytes", then "Download done." at the end of a phase. */
void tool_compat_progress(tool_ui *ui, dfk_phase phase, uint64_t done, uint64_t total);
/* dfu-util's closing lines after a successful download (tool_compat.c). */
void tool_compat_download_done(tool_ui *ui, dfk_dev *dev, bool dfuse);
/* An informational line (stdout; a JSON "info" event in --json mode). */
void tool_ui_info(tool_ui *ui, const char *fmt, ...) DFK_PRINTF(2, 3);
void tool_ui_warn(tool_ui *ui, const char *fmt, ...) DFK_PRINTF(2, 3);
/* Ends a bar still open (before other output). */
void tool_ui_break(tool_ui *ui);
/* One line of the USB trace (-v -v): stderr, or a JSON "trace" event. */
void tool_ui_trace(tool_ui *ui, const char *line);

/* ---- USB trace: -v -v and --trace FILE (tool_trace.c) ---- */

#define TOOL_TRACE_LINE_MAX (DFK_ERROR_MSG_MAX + 160)

typedef struct tool_trace {
	FILE *file;  /* --trace FILE; NULL when not asked for */
	tool_ui *ui; /* -v -v: also shown there; NULL otherwise */
	/* With several devices at once: whose lines, and the lock that keeps
	 * the threads' lines whole in the shared file (NULL otherwise). */
	const char *device;
	pthread_mutex_t *lock;
	uint64_t t0; /* the first request's time: lines give seconds since */
	bool started;
} tool_trace;
/* Creates path (NULL: none) and shows the trace through ui (NULL: not). */
dfk_code tool_trace_open(tool_trace *tr, const char *path, tool_ui *ui, dfk_error *err);
/* Sets ctx's trace callback when there is anywhere to write it. */
void tool_trace_attach(tool_trace *tr, dfk_ctx *ctx);
/* Closes the file; a failed write of its last lines is an I/O error. */
dfk_code tool_trace_close(tool_trace *tr, dfk_error *err);
/* With several devices at once: one device's outcome ("passed" or
 * "FAILED: msg"; a JSON "result" event carrying the device). */
void tool_ui_device_result(tool_ui *ui, dfk_code code, const char *msg, uint64_t bytes, bool verified);
/* Prints the error once ("dfukit: msg" on stderr, or in the JSON result). */
void tool_ui_error(tool_ui *ui, const char *msg);
/* A hint after an error: what the user can do about it (text mode only). */
void tool_ui_hint(tool_ui *ui, const char *msg);
/* The final JSON result object ({"result":...,"exit":N,...}); extra is
 * a pre-formatted list of ,"key":value members or NULL. */
void tool_ui_result(tool_ui *ui, int exit_code, dfk_code code, const char *msg, const char *op, const char *extra);

/* -l: one line per interface, dfu-util's format and order (tool_list.c). */
void tool_list_print(tool_ui *ui, const dfk_found *found);
/* Writes s sanitised (no control characters) into out. */
void tool_sanitize(const char *s, char *out, size_t outsz);

/* SIGINT/SIGTERM cancel the job on ctx; a second one exits at once
 * (tool_signal.c). tool_signal_received: the first signal's number, or 0. */
void tool_signal_install(dfk_ctx *ctx);
/* The same for several contexts (the array must outlive the install). */
void tool_signal_install_many(dfk_ctx *const *ctxs, size_t n);
int tool_signal_received(void);

/* After a DfuSe leave: watches the bus for the device that was on port
 * path with serial (devnum before the leave) for up to seconds, and says
 * what it saw: back in DFU mode (or never gone) is DFK_ERR_PROTOCOL with a
 * hint naming start; a run-time DFU interface of the same device is
 * confirmed success; neither is reported as only that (tool_leave.c). */
dfk_code tool_leave_watch(tool_ui *ui, const dfk_ctx *ctx, dfk_transport *t, const char *path, const char *serial,
			  unsigned devnum, long seconds, bool has_start, uint32_t start, dfk_error *err);

#endif
