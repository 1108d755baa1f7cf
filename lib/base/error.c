/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
#include "dfukit/error.h"

#include <stdio.h>
#include <string.h>

dfk_code dfk_error_vset(dfk_error *err, dfk_code code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

dfk_code dfk_error_set(dfk_error *err, dfk_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dfk_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

dfk_code dfk_error_prefix(dfk_error *err, const char *fmt, ...)
{
	char buf[DFK_ERROR_MSG_MAX];
	size_t n, m;
	va_list ap;

	if (!err)
		return DFK_ERR_SOFTWARE;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The message is cut to fit; the context comes first because it says where. */
	n = strlen(buf);
	if (n + 2 < sizeof(buf)) {
		memcpy(buf + n, ": ", 2);
		n += 2;
	}
	m = strnlen(err->msg, sizeof(err->msg));
	if (m > sizeof(buf) - 1 - n)
		m = sizeof(buf) - 1 - n;
	memcpy(buf + n, err->msg, m);
	buf[n + m] = '\0';
	memcpy(err->msg, buf, sizeof(buf));
	return err->code;
}

void dfk_error_clear(dfk_error *err)
{
	if (err) {
		err->code = DFK_OK;
		err->msg[0] = '\0';
	}
}

const char *dfk_code_name(dfk_code code)
{
	switch (code) {
	case DFK_OK: return "OK";
	case DFK_ERR_USAGE: return "USAGE";
	case DFK_ERR_DATA: return "DATA";
	case DFK_ERR_NOINPUT: return "NOINPUT";
	case DFK_ERR_SOFTWARE: return "SOFTWARE";
	case DFK_ERR_CANTCREAT: return "CANTCREAT";
	case DFK_ERR_IO: return "IO";
	case DFK_ERR_PROTOCOL: return "PROTOCOL";
	case DFK_ERR_NOMEM: return "NOMEM";
	case DFK_ERR_TIMEOUT: return "TIMEOUT";
	case DFK_ERR_NODEV: return "NODEV";
	case DFK_ERR_STALL: return "STALL";
	case DFK_ERR_VERIFY: return "VERIFY";
	case DFK_ERR_EXISTS: return "EXISTS";
	case DFK_ERR_UNSUPPORTED: return "UNSUPPORTED";
	case DFK_ERR_AMBIGUOUS: return "AMBIGUOUS";
	case DFK_ERR_CANCELLED: return "CANCELLED";
	}
	return "UNKNOWN";
}

const char *dfk_code_describe(dfk_code code)
{
	switch (code) {
	case DFK_OK: return "success";
	case DFK_ERR_USAGE: return "invalid argument";
	case DFK_ERR_DATA: return "malformed data";
	case DFK_ERR_NOINPUT: return "input file missing or unreadable";
	case DFK_ERR_SOFTWARE: return "internal error";
	case DFK_ERR_CANTCREAT: return "cannot create the output file";
	case DFK_ERR_IO: return "input/output error";
	case DFK_ERR_PROTOCOL: return "device protocol error";
	case DFK_ERR_NOMEM: return "out of memory";
	case DFK_ERR_TIMEOUT: return "timed out";
	case DFK_ERR_NODEV: return "no such device, or it is gone";
	case DFK_ERR_STALL: return "the device stalled the request";
	case DFK_ERR_VERIFY: return "verification failed";
	case DFK_ERR_EXISTS: return "the output already exists";
	case DFK_ERR_UNSUPPORTED: return "not supported";
	case DFK_ERR_AMBIGUOUS: return "more than one device matches";
	case DFK_ERR_CANCELLED: return "cancelled";
	}
	return "unknown error";
}
