/* libdfukit: error reporting.
 *
 * Every fallible library call returns a dfk_code (DFK_OK == 0) and, when the
 * caller passes a dfk_error, fills it with a one-line message that names the
 * context (file, offset, address, device status).  The library never prints
 * and never exits: the tool shows the message once and maps the code to a
 * sysexits(3) exit status with dfk_code_exit(). */
#ifndef DFUKIT_ERROR_H
#define DFUKIT_ERROR_H

#include "dfukit/export.h"

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dfk_code {
	DFK_OK = 0,
	/* The values 64..76 equal the sysexits code the tool exits with. */
	DFK_ERR_USAGE = 64,	/* bad argument or option combination */
	DFK_ERR_DATA = 65,	/* malformed input data (file or device data) */
	DFK_ERR_NOINPUT = 66,	/* input file missing or unreadable */
	DFK_ERR_SOFTWARE = 70,	/* internal error */
	DFK_ERR_CANTCREAT = 73, /* cannot create an output file */
	DFK_ERR_IO = 74,	/* file or USB I/O error */
	DFK_ERR_PROTOCOL = 76,	/* device broke the protocol or reported an error status */
	/* Finer codes; each maps to one of the sysexits codes above. */
	DFK_ERR_NOMEM = 100, /* -> 70 */
	DFK_ERR_TIMEOUT,     /* a deadline passed -> 74 */
	DFK_ERR_NODEV,	     /* device not found or gone -> 74 */
	DFK_ERR_STALL,	     /* device stalled a control request -> 76 */
	DFK_ERR_VERIFY,	     /* read-back differs from what was written -> 74 */
	DFK_ERR_EXISTS,	     /* output exists and overwriting was not asked for -> 73 */
	DFK_ERR_UNSUPPORTED, /* the device or file cannot do what was asked -> 64 */
	DFK_ERR_AMBIGUOUS,   /* more than one device matched -> 74 */
	DFK_ERR_CANCELLED,   /* dfk_ctx_cancel() stopped the job -> 130 */
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

/* The sysexits(3) status for a code: 0, 64, 65, 66, 70, 73, 74 or 76. */
DFK_API int dfk_code_exit(dfk_code code);
/* A short stable identifier ("DATA", "TIMEOUT", ...) for JSON output. */
DFK_API const char *dfk_code_name(dfk_code code);

#ifdef __cplusplus
}
#endif
#endif
