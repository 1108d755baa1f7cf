/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: the context, finding DFU interfaces, and opening one.
 *
 * A dfk_ctx carries everything that would otherwise be global: the clock
 * (so tests run timing logic instantly), time limits, and the callbacks
 * through which the library reports progress and warnings (it never prints). */
#ifndef DFUKIT_DEVICE_H
#define DFUKIT_DEVICE_H

#include "dfukit/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"
#include "dfukit/memmap.h"
#include "dfukit/transport.h"
#include "dfukit/usb.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dfk_clock {
	uint64_t (*now_ms)(void *user); /* monotonic */
	void (*sleep_ms)(void *user, uint32_t ms);
	void *user;
} dfk_clock;
/* CLOCK_MONOTONIC and nanosleep. */
DFK_API dfk_clock dfk_clock_system(void);

typedef enum dfk_log_level {
	DFK_LOG_ERROR = 0,
	DFK_LOG_WARN = 1,
	DFK_LOG_INFO = 2,
	DFK_LOG_DEBUG = 3,
} dfk_log_level;

typedef enum dfk_phase {
	DFK_PHASE_ERASE,
	DFK_PHASE_DOWNLOAD,
	DFK_PHASE_UPLOAD,
	DFK_PHASE_VERIFY,
	DFK_PHASE_MANIFEST,
	DFK_PHASE_DETACH,
} dfk_phase;
DFK_API const char *dfk_phase_name(dfk_phase phase); /* "erase", "download", ... */

/* The library's callbacks. msg is valid during the call only. */
typedef void (*dfk_log_fn)(void *user, dfk_log_level level, const char *msg);
/* done/total in bytes of the phase; addr is the address being worked on. */
typedef void (*dfk_progress_fn)(void *user, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr);

/* One USB request the library made, as a trace for bug reports (see
 * dfk_ctx_set_trace). Filled by the library: fields may be added at the
 * end, up to size bytes are valid. */
typedef enum dfk_trace_kind {
	DFK_TRACE_CONTROL = 0, /* a control transfer, setup as sent */
	DFK_TRACE_SET_ALT = 1, /* SET_INTERFACE: setup as the standard request */
	DFK_TRACE_CLAIM = 2,   /* claiming interface setup.wIndex (no bus traffic) */
	DFK_TRACE_RESET = 3,   /* a USB bus reset (setup all zero) */
} dfk_trace_kind;
typedef struct dfk_trace_event {
	size_t size; /* sizeof(dfk_trace_event) of the library */
	dfk_trace_kind kind;
	dfk_setup setup;
	/* The data stage: the wLength bytes sent (host to device) or the
	 * bytes received (device to host); NULL when data_len is 0. */
	const uint8_t *data;
	size_t data_len;
	size_t actual;	     /* bytes the transport reported moved */
	dfk_code result;     /* DFK_OK, or why it failed (STALL, NODEV, TIMEOUT...) */
	const char *message; /* the failure's message; NULL on success */
	uint64_t start_ms;   /* on the context's clock */
	uint64_t duration_ms;
} dfk_trace_event;
/* ev and what it points to are valid during the call only. */
typedef void (*dfk_trace_fn)(void *user, const dfk_trace_event *ev);

/* The time limits of a context, in milliseconds. */
typedef enum dfk_timeout {
	DFK_TIMEOUT_USB = 0,	   /* one control transfer (default 5000; 0 = none) */
	DFK_TIMEOUT_POLL_CAP = 1,  /* longest single bwPollTimeout sleep honoured (default 60000) */
	DFK_TIMEOUT_OPERATION = 2, /* deadline of one status wait loop (default 120000) */
	DFK_TIMEOUT_REENUM = 3,	   /* waiting for a device to come back (default 10000) */
} dfk_timeout;

/* Opaque: created by dfk_ctx_new, freed by dfk_ctx_free. Threads: set it
 * up from one thread before use; then it is only read and may be shared
 * (dfukit.h, "Threads"); cancelling works from anywhere. */
typedef struct dfk_ctx dfk_ctx;
/* A context with the defaults above, the system clock, 5 error retries and
 * no callbacks. */
DFK_API dfk_code dfk_ctx_new(dfk_ctx **ctx, dfk_error *err);
/* Frees ctx (NULL is fine). Everything created with it (transports, open
 * devices) must be freed first. */
DFK_API void dfk_ctx_free(dfk_ctx *ctx);
/* Copies *clock into ctx (NULL: the system clock again). Both functions
 * are needed (else DFK_ERR_USAGE). */
DFK_API dfk_code dfk_ctx_set_clock(dfk_ctx *ctx, const dfk_clock *clock, dfk_error *err);
/* ctx's clock; the pointer is valid until the next dfk_ctx_set_clock or
 * dfk_ctx_free. */
DFK_API const dfk_clock *dfk_ctx_clock(const dfk_ctx *ctx);
/* DFK_ERR_USAGE for a value that is no dfk_timeout. */
DFK_API dfk_code dfk_ctx_set_timeout(dfk_ctx *ctx, dfk_timeout which, unsigned ms, dfk_error *err);
/* 0 for a value that is no dfk_timeout. */
DFK_API unsigned dfk_ctx_timeout(const dfk_ctx *ctx, dfk_timeout which);
/* CLRSTATUS/ABORT attempts before giving up on bringing a device to dfuIDLE
 * (default 5). */
DFK_API void dfk_ctx_set_max_error_retries(dfk_ctx *ctx, unsigned n);
DFK_API unsigned dfk_ctx_max_error_retries(const dfk_ctx *ctx);
/* The callbacks through which the library reports (NULL: none). They are
 * called on the thread that runs the library call. */
DFK_API void dfk_ctx_set_log(dfk_ctx *ctx, dfk_log_fn fn, void *user);
DFK_API void dfk_ctx_set_progress(dfk_ctx *ctx, dfk_progress_fn fn, void *user);
/* The callbacks set (NULL: none), and their user pointer into *user (when
 * user is not NULL): for a program that wraps them. */
DFK_API dfk_log_fn dfk_ctx_log(const dfk_ctx *ctx, void **user);
DFK_API dfk_progress_fn dfk_ctx_progress(const dfk_ctx *ctx, void **user);
/* The trace callback (NULL: none): called after every USB request made
 * through a transport of ctx, whatever its result, on the thread that made
 * it. For logs a user attaches to a bug report; costs nothing when unset. */
DFK_API void dfk_ctx_set_trace(dfk_ctx *ctx, dfk_trace_fn fn, void *user);
DFK_API dfk_trace_fn dfk_ctx_trace(const dfk_ctx *ctx, void **user);
/* Asks the job running on ctx to stop: it notices within one control
 * transfer or one slice of a sleep, brings the device back to a defined
 * state where the protocol allows, and returns DFK_ERR_CANCELLED.
 * Async-signal-safe and safe from any thread (one lock-free atomic store). */
DFK_API void dfk_ctx_cancel(dfk_ctx *ctx);
DFK_API bool dfk_ctx_cancelled(const dfk_ctx *ctx);
/* Clears a cancel request, before the context's next job. */
DFK_API void dfk_ctx_cancel_reset(dfk_ctx *ctx);
/* Sleeps ms on ctx's clock in slices of at most 20 ms, returning early
 * (DFK_ERR_CANCELLED) when a cancel is requested; DFK_OK otherwise. */
DFK_API dfk_code dfk_ctx_sleep(const dfk_ctx *ctx, uint32_t ms);
/* Formats and passes a message to ctx's log callback (nothing when there is
 * none). */
DFK_API void dfk_log(const dfk_ctx *ctx, dfk_log_level level, const char *fmt, ...) DFK_PRINTF(3, 4);

/* What to select, with dfu-util's -d/-p/-n/-c/-i/-a/-S meanings. An
 * extensible option struct (see dfukit.h): dfk_match_init first. The
 * strings are borrowed: they must live as long as the calls given m. */
#define DFK_MATCH_ANY (-1)
#define DFK_MATCH_NONE (-2) /* "-" in -d: match nothing */
typedef struct dfk_match {
	size_t size;	      /* set by dfk_match_init */
	int vid, pid;	      /* run-time (or any-mode) IDs */
	int dfu_vid, dfu_pid; /* DFU-mode IDs (after ",") */
	bool dfu_ids_given;
	int devnum;
	const char *path;
	int cfg;	      /* bConfigurationValue; 0 or ANY = any */
	int intf;	      /* interface index */
	int alt;	      /* bAlternateSetting */
	const char *alt_name; /* exact match on the iInterface string */
	const char *serial;   /* run-time serial; "" or NULL = any */
	const char *dfu_serial;
} dfk_match;
/* Everything ANY, no strings. */
DFK_API void dfk_match_init(dfk_match *m);
/* Parses -d's "[vid]:[pid][,[vid_dfu]:[pid_dfu]]" (hex with an optional
 * 0x, "*" any, "-" none, blanks around an ID ignored). As dfu-util does, an
 * ID that does not start with a number (the literal "vid:pid" some tools
 * pass) matches any: then warning (may be NULL) gets a message naming it,
 * code DFK_OK; otherwise its message is empty. */
DFK_API dfk_code dfk_match_parse_device(dfk_match *m, const char *spec, dfk_error *warning, dfk_error *err);
/* Parses -S's "serial[,serial_dfu]" into the two buffers given (bufsz each)
 * and points m at them. */
DFK_API dfk_code dfk_match_parse_serial(dfk_match *m, const char *spec, char *rt_buf, char *dfu_buf, size_t bufsz,
					dfk_error *err);

/* One DFU interface alternate setting: what a -l line shows. Only ever
 * handed out by the library (const), which may append fields. */
typedef struct dfk_dfu_if {
	/* The device: owned by the dfk_found list (dfk_found_get) or by the
	 * open device (dfk_dev_if), and valid as long as that is. */
	const dfk_usb_dev *dev;
	uint8_t config;	    /* bConfigurationValue */
	uint8_t intf;	    /* bInterfaceNumber */
	uint8_t intf_index; /* index in the configuration, what -i matches */
	uint8_t alt;
	uint8_t nalts; /* how many alt settings this interface has */
	bool dfu_mode; /* bInterfaceProtocol 2 (or a known DFU-mode quirk) */
	bool dfuse;    /* bcdDFUVersion 0x011A */
	dfk_func_desc func;
	char name[256];	  /* iInterface string, UTF-8, not sanitised */
	char serial[256]; /* iSerialNumber string */
	/* The transport that found it, which dfk_dev_open opens it through. */
	dfk_transport *transport;
} dfk_dfu_if;

/* What dfk_find found (opaque): the DFU interfaces that matched, and every
 * USB device the transport listed. Used by one thread at a time, with its
 * transport. */
typedef struct dfk_found dfk_found;
/* Enumerates, keeps the alts that are DFU interfaces and match m (NULL =
 * all; DFK_ERR_USAGE when not initialised), reading their strings. *out
 * is a new list (NULL on failure), which the caller frees with
 * dfk_found_free; nothing in it refers to m. */
DFK_API dfk_code dfk_find(const dfk_ctx *ctx, dfk_transport *t, const dfk_match *m, dfk_found **out, dfk_error *err);
/* Frees the list and everything its accessors returned (NULL is fine).
 * Devices opened from it stay open and usable. */
DFK_API void dfk_found_free(dfk_found *found);
/* The matching interfaces, in descriptor order (dfu-util prints them
 * reversed). dfk_found_get returns NULL for i >= dfk_found_count; the
 * pointer is owned by found. Interfaces of one device share one dev. */
DFK_API size_t dfk_found_count(const dfk_found *found);
DFK_API const dfk_dfu_if *dfk_found_get(const dfk_found *found, size_t i);

/* New arrivals, for a station that flashes each board once as it is
 * plugged in (dfukit --watch): bookkeeping over successive dfk_find
 * results, no I/O. A device is its port path. It is new when seen and not
 * yet taken; taken (being flashed) until released; then done while the same
 * serial stays there, or comes back within grace_ms of when it was last
 * seen (a re-enumeration after leave or reset). A different serial, or the
 * same after longer, is a new board. A device that goes before it is taken
 * is forgotten. */
typedef struct dfk_watch dfk_watch;
DFK_API dfk_code dfk_watch_new(dfk_watch **w, uint32_t grace_ms, dfk_error *err);
DFK_API void dfk_watch_free(dfk_watch *w);
/* One look at the bus (found: what dfk_find returned now; now_ms on the
 * caller's clock): *nnew gets how many devices are new and not taken. */
DFK_API dfk_code dfk_watch_scan(dfk_watch *w, const dfk_found *found, uint64_t now_ms, size_t *nnew, dfk_error *err);
/* The i-th new device's path after the last scan (NULL past the end). */
DFK_API const char *dfk_watch_new_path(const dfk_watch *w, size_t i);
/* The caller starts on a new device, and is done with it. */
DFK_API dfk_code dfk_watch_take(dfk_watch *w, const char *path, dfk_error *err);
DFK_API dfk_code dfk_watch_release(dfk_watch *w, const char *path, uint64_t now_ms, dfk_error *err);
/* Every device the transport listed, DFU-capable or not, matching or not
 * (e.g. to show a device whose DFU interface could not be read). NULL for
 * i >= dfk_found_usb_count; owned by found. */
DFK_API size_t dfk_found_usb_count(const dfk_found *found);
DFK_API const dfk_usb_dev *dfk_found_usb_get(const dfk_found *found, size_t i);

/* An open DFU interface (opaque). Used by one thread at a time, with its
 * transport; dfk_ctx_cancel on its context from any thread stops what it
 * is doing. */
typedef struct dfk_dev dfk_dev;
/* Opens the device, claims the interface and selects the alt (SET_INTERFACE
 * only when the interface has more than one alt setting). A SET_INTERFACE
 * that stalls, times out or loses the device does not fail the open: the
 * first job reports it in its own context ("download to 0x...: preparing
 * the device: ..."), where the user can tell what was being done.
 * The device copies what it needs of ifc (and of ifc->dev): the list ifc
 * came from may be freed while it is open. ctx and ifc->transport must
 * outlive it. Close with dfk_dev_close. */
DFK_API dfk_code dfk_dev_open(const dfk_ctx *ctx, const dfk_dfu_if *ifc, dfk_dev **dev, dfk_error *err);
/* Releases the interface, closes and frees dev (NULL is fine). */
DFK_API void dfk_dev_close(dfk_dev *dev);
/* The open interface: the device's own copy (with its own dev), valid
 * until dfk_dev_close; alt and name follow dfk_dev_select_alt. */
DFK_API const dfk_dfu_if *dfk_dev_if(const dfk_dev *dev);
DFK_API const dfk_ctx *dfk_dev_ctx(const dfk_dev *dev);
/* The open USB handle under dev, owned by dev (for dfk_usb_control). */
DFK_API dfk_usb *dfk_dev_usb(dfk_dev *dev);
/* Transfer size in use: wTransferSize, or the override (1..65535). */
DFK_API uint16_t dfk_dev_transfer_size(const dfk_dev *dev);
DFK_API void dfk_dev_set_transfer_size(dfk_dev *dev, uint16_t size);
/* Switches to another alt setting of the same interface (SET_INTERFACE),
 * reading its name; used for multi-target .dfu files. */
DFK_API dfk_code dfk_dev_select_alt(dfk_dev *dev, uint8_t alt, dfk_error *err);
/* The DfuSe memory map of the selected alt (parsed from its name); *map is
 * owned by dev, valid until the next dfk_dev_select_alt or dfk_dev_close. */
DFK_API dfk_code dfk_dev_memmap(dfk_dev *dev, const dfk_memmap **map, dfk_error *err);

#ifdef __cplusplus
}
#endif
#endif
