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

typedef struct dfk_ctx {
	dfk_clock clock;
	unsigned usb_timeout_ms;    /* one control transfer (default 5000) */
	unsigned poll_cap_ms;	    /* longest single bwPollTimeout sleep honoured (default 60000) */
	unsigned op_timeout_ms;	    /* deadline for one status wait loop (default 120000) */
	unsigned reenum_timeout_ms; /* waiting for a device to come back (default 10000) */
	unsigned max_error_retries; /* CLRSTATUS/ABORT attempts before giving up (default 5) */
	void (*log)(void *user, dfk_log_level level, const char *msg);
	void *log_user;
	/* done/total in bytes of the phase; addr is the address being worked on. */
	void (*progress)(void *user, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr);
	void *progress_user;
	/* Set by dfk_ctx_cancel(); read through dfk_ctx_cancelled(). */
	_Atomic int cancel_requested;
} dfk_ctx;
/* Defaults as above, system clock, no callbacks. */
DFK_API void dfk_ctx_init(dfk_ctx *ctx);
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
/* Formats and passes a message to ctx->log (nothing when log is NULL). */
DFK_API void dfk_log(const dfk_ctx *ctx, dfk_log_level level, const char *fmt, ...) DFK_PRINTF(3, 4);

/* What to select, with dfu-util's -d/-p/-n/-c/-i/-a/-S meanings. */
#define DFK_MATCH_ANY (-1)
#define DFK_MATCH_NONE (-2) /* "-" in -d: match nothing */
typedef struct dfk_match {
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

/* One DFU interface alternate setting: what a -l line shows. */
typedef struct dfk_dfu_if {
	const dfk_usb_dev *dev; /* owned by the dfk_found list */
	uint8_t config;		/* bConfigurationValue */
	uint8_t intf;		/* bInterfaceNumber */
	uint8_t intf_index;	/* index in the configuration, what -i matches */
	uint8_t alt;
	uint8_t nalts; /* how many alt settings this interface has */
	bool dfu_mode; /* bInterfaceProtocol 2 (or a known DFU-mode quirk) */
	bool dfuse;    /* bcdDFUVersion 0x011A */
	dfk_func_desc func;
	char name[256];	  /* iInterface string, UTF-8, not sanitised */
	char serial[256]; /* iSerialNumber string */
	/* Added by the engine: the transport that found it, which dfk_dev_open
	 * opens it through (set by dfk_find). */
	dfk_transport *transport;
} dfk_dfu_if;

typedef struct dfk_found {
	dfk_transport *transport;
	dfk_usb_list usb;
	dfk_dfu_if *ifs; /* in descriptor order (dfu-util prints reversed) */
	size_t count;
} dfk_found;
/* Enumerates, keeps the alts that are DFU interfaces and match m (NULL =
 * all), reading their strings. */
DFK_API dfk_code dfk_find(const dfk_ctx *ctx, dfk_transport *t, const dfk_match *m, dfk_found *out, dfk_error *err);
DFK_API void dfk_found_free(dfk_found *found);

/* An open DFU interface. */
typedef struct dfk_dev dfk_dev;
/* Opens the device, claims the interface and selects the alt (SET_INTERFACE
 * only when the interface has more than one alt setting). A SET_INTERFACE
 * that stalls, times out or loses the device does not fail the open: the
 * first job reports it in its own context ("download to 0x...: preparing
 * the device: ..."), where the user can tell what was being done. */
DFK_API dfk_code dfk_dev_open(const dfk_ctx *ctx, const dfk_dfu_if *ifc, dfk_dev **dev, dfk_error *err);
DFK_API void dfk_dev_close(dfk_dev *dev);
DFK_API const dfk_dfu_if *dfk_dev_if(const dfk_dev *dev);
DFK_API const dfk_ctx *dfk_dev_ctx(const dfk_dev *dev);
DFK_API dfk_usb *dfk_dev_usb(dfk_dev *dev);
/* Transfer size in use: wTransferSize, or the override (1..65535). */
DFK_API uint16_t dfk_dev_transfer_size(const dfk_dev *dev);
DFK_API void dfk_dev_set_transfer_size(dfk_dev *dev, uint16_t size);
/* Switches to another alt setting of the same interface (SET_INTERFACE),
 * reading its name; used for multi-target .dfu files. */
DFK_API dfk_code dfk_dev_select_alt(dfk_dev *dev, uint8_t alt, dfk_error *err);
/* The DfuSe memory map of the selected alt (parsed from its name). */
DFK_API dfk_code dfk_dev_memmap(dfk_dev *dev, const dfk_memmap **map, dfk_error *err);

#ifdef __cplusplus
}
#endif
#endif
