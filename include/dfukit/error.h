/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: error reporting.
 *
 * Every fallible library call returns a dfk_code (DFK_OK == 0) and, when the
 * caller passes a dfk_error, fills it with a one-line message that names the
 * context (file, offset, address, device status).  The library never prints
 * and never exits; what a code means for a program (an exit status, a
 * dialog) is the program's business. Everything here is reentrant. */
#ifndef DFUKIT_ERROR_H
#define DFUKIT_ERROR_H

#include "dfukit/export.h"

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dfk_code {
	DFK_OK = 0,
	/* The values are the library's own: stable, new codes are appended. */
	DFK_ERR_USAGE = 1,	  /* bad argument or combination of arguments */
	DFK_ERR_DATA = 2,	  /* malformed input data (file or device data) */
	DFK_ERR_NOINPUT = 3,	  /* input file missing or unreadable */
	DFK_ERR_SOFTWARE = 4,	  /* internal error */
	DFK_ERR_CANTCREAT = 5,	  /* cannot create an output file */
	DFK_ERR_IO = 6,		  /* file or USB I/O error */
	DFK_ERR_PROTOCOL = 7,	  /* device broke the protocol or reported an error status */
	DFK_ERR_NOMEM = 8,	  /* out of memory */
	DFK_ERR_TIMEOUT = 9,	  /* a deadline passed */
	DFK_ERR_NODEV = 10,	  /* device not found or gone */
	DFK_ERR_STALL = 11,	  /* device stalled a control request */
	DFK_ERR_VERIFY = 12,	  /* read-back differs from what was written */
	DFK_ERR_EXISTS = 13,	  /* output exists and overwriting was not asked for */
	DFK_ERR_UNSUPPORTED = 14, /* the device, file or library cannot do what was asked */
	DFK_ERR_AMBIGUOUS = 15,	  /* more than one device matched */
	DFK_ERR_CANCELLED = 16,	  /* dfk_ctx_cancel() stopped the job */
} dfk_code;

#define DFK_ERROR_MSG_MAX 768

typedef struct dfk_error {
	dfk_code code;
	char msg[DFK_ERROR_MSG_MAX];
} dfk_error;

#if defined(__GNUC__)
#define DFK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DFK_PRINTF(f, a)
#endif

/* Sets code and message (err may be NULL); returns code so callers can
 * write `return dfk_error_set(err, DFK_ERR_DATA, "...")`. */
DFK_API dfk_code dfk_error_set(dfk_error *err, dfk_code code, const char *fmt, ...) DFK_PRINTF(3, 4);
DFK_API dfk_code dfk_error_vset(dfk_error *err, dfk_code code, const char *fmt, va_list ap);
/* Prepends "context: " to the message already held; returns err->code
 * (DFK_ERR_SOFTWARE when err is NULL). */
DFK_API dfk_code dfk_error_prefix(dfk_error *err, const char *fmt, ...) DFK_PRINTF(2, 3);
DFK_API void dfk_error_clear(dfk_error *err);

/* A short stable identifier ("DATA", "TIMEOUT", ...) for JSON output;
 * "UNKNOWN" for a value that is no dfk_code. Static string, never NULL. */
DFK_API const char *dfk_code_name(dfk_code code);
/* A short English description ("malformed input data", ...); static string,
 * never NULL. */
DFK_API const char *dfk_code_describe(dfk_code code);

#ifdef __cplusplus
}
#endif
#endif
