/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Device selection criteria with dfu-util's -d and -S syntax. */
#include "match.h"
#include "opts.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

void dfk_match_init(dfk_match *m)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->vid = m->pid = DFK_MATCH_ANY;
	m->dfu_vid = m->dfu_pid = DFK_MATCH_ANY;
	m->dfu_ids_given = false;
	m->devnum = DFK_MATCH_ANY;
	m->path = NULL;
	m->cfg = DFK_MATCH_ANY;
	m->intf = DFK_MATCH_ANY;
	m->alt = DFK_MATCH_ANY;
}

/* Names of the ID fields taken as any because they are no number. */
typedef struct lenient {
	char names[160];
	size_t count;
} lenient;

/* One ID field, s[0..n): empty or "*" = any, "-" = none, else 1-4 hex
 * digits with an optional 0x, blanks around them ignored. As in dfu-util,
 * a field that does not start with a number (PlatformIO passes the
 * literal "vid:pid") is any, noted in *len for a warning. Stricter than
 * dfu-util, which silently ignores garbage after the digits. */
static dfk_code parse_id(const char *spec, const char *s, size_t n, const char *what, int *out, lenient *len,
			 dfk_error *err)
{
	unsigned v = 0;
	size_t i;

	while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || (n == 1 && s[0] == '*')) {
		*out = DFK_MATCH_ANY;
		return DFK_OK;
	}
	if (n == 1 && s[0] == '-') {
		*out = DFK_MATCH_NONE;
		return DFK_OK;
	}
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (dfk__hexval(s[0]) < 0 && s[0] != '*' && s[0] != '-' && s[0] != '+') {
		size_t used = strlen(len->names);
		if (used + 1 < sizeof(len->names))
			snprintf(len->names + used, sizeof(len->names) - used, "%s%s \"%.*s\"", len->count ? ", " : "",
				 what, (int)n, s);
		len->count++;
		*out = DFK_MATCH_ANY;
		return DFK_OK;
	}
	if (n > 4)
		return dfk_error_set(err, DFK_ERR_USAGE, "device IDs \"%s\": %s \"%.*s\" is longer than 4 hex digits",
				     spec, what, (int)n, s);
	for (i = 0; i < n; i++) {
		int h = dfk__hexval(s[i]);
		if (h < 0)
			return dfk_error_set(err, DFK_ERR_USAGE,
					     "device IDs \"%s\": %s \"%.*s\" is not hexadecimal, \"*\" or \"-\"", spec,
					     what, (int)n, s);
		v = v * 16 + (unsigned)h;
	}
	*out = (int)v;
	return DFK_OK;
}

/* "vid:pid", "vid", ":pid" or "" into two IDs. */
static dfk_code parse_pair(const char *spec, const char *s, size_t n, bool dfu, int *vid, int *pid, lenient *len,
			   dfk_error *err)
{
	const char *colon = memchr(s, ':', n);
	size_t vn = colon ? (size_t)(colon - s) : n;
	dfk_code rc;

	rc = parse_id(spec, s, vn, dfu ? "DFU-mode vendor ID" : "vendor ID", vid, len, err);
	if (rc != DFK_OK)
		return rc;
	if (!colon) {
		*pid = DFK_MATCH_ANY;
		return DFK_OK;
	}
	if (memchr(colon + 1, ':', n - vn - 1))
		return dfk_error_set(err, DFK_ERR_USAGE, "device IDs \"%s\": more than one ':' in one ID pair", spec);
	return parse_id(spec, colon + 1, n - vn - 1, dfu ? "DFU-mode product ID" : "product ID", pid, len, err);
}

dfk_code dfk_match_parse_device(dfk_match *m, const char *spec, dfk_error *warning, dfk_error *err)
{
	const char *comma;
	int vid, pid, dvid, dpid;
	lenient len;
	dfk_code rc;

	memset(&len, 0, sizeof(len));
	if (warning)
		dfk_error_clear(warning);
	rc = dfk__opts_check(m->size, DFK__OPTS_V1_SIZE(dfk_match, dfu_serial), "device match", "dfk_match_init", err);
	if (rc)
		return rc;
	if (!spec)
		return dfk_error_set(err, DFK_ERR_USAGE, "no device IDs given");
	comma = strchr(spec, ',');
	if (comma && strchr(comma + 1, ','))
		return dfk_error_set(err, DFK_ERR_USAGE, "device IDs \"%s\": more than one ','", spec);
	if (comma == spec) {
		/* Only DFU-mode IDs: run-time devices are ignored. */
		vid = pid = DFK_MATCH_NONE;
	} else {
		rc =
		    parse_pair(spec, spec, comma ? (size_t)(comma - spec) : strlen(spec), false, &vid, &pid, &len, err);
		if (rc != DFK_OK)
			return rc;
	}
	if (comma) {
		rc = parse_pair(spec, comma + 1, strlen(comma + 1), true, &dvid, &dpid, &len, err);
		if (rc != DFK_OK)
			return rc;
	} else {
		/* Without ",", the same IDs apply in DFU mode; dfu_ids_given lets the
		 * finder also accept any DFU-mode device after a detach. */
		dvid = vid;
		dpid = pid;
	}
	m->vid = vid;
	m->pid = pid;
	m->dfu_vid = dvid;
	m->dfu_pid = dpid;
	m->dfu_ids_given = comma != NULL;
	if (len.count && warning)
		dfk_error_set(warning, DFK_OK, "device IDs \"%s\": %s %s no hexadecimal number: taken as any", spec,
			      len.names, len.count > 1 ? "are" : "is");
	return DFK_OK;
}

dfk_code dfk_match_parse_serial(dfk_match *m, const char *spec, char *rt_buf, char *dfu_buf, size_t bufsz,
				dfk_error *err)
{
	const char *comma;
	size_t rn, dn;

	dfk_code rc =
	    dfk__opts_check(m->size, DFK__OPTS_V1_SIZE(dfk_match, dfu_serial), "device match", "dfk_match_init", err);
	if (rc)
		return rc;
	if (!spec)
		return dfk_error_set(err, DFK_ERR_USAGE, "no serial number given");
	if (!rt_buf || !dfu_buf || bufsz == 0)
		return dfk_error_set(err, DFK_ERR_SOFTWARE, "serial numbers: no buffers to hold them");
	comma = strchr(spec, ',');
	rn = comma ? (size_t)(comma - spec) : strlen(spec);
	dn = comma ? strlen(comma + 1) : rn;
	if (rn >= bufsz || dn >= bufsz)
		return dfk_error_set(err, DFK_ERR_USAGE, "serial numbers \"%s\": one is longer than %zu characters",
				     spec, bufsz - 1);
	memcpy(rt_buf, spec, rn);
	rt_buf[rn] = '\0';
	/* One value applies to both modes. */
	memcpy(dfu_buf, comma ? comma + 1 : spec, dn);
	dfu_buf[dn] = '\0';
	m->serial = rt_buf;
	m->dfu_serial = dfu_buf;
	return DFK_OK;
}

dfk_code dfk__match_read(const dfk_match *in, dfk_match *out, dfk_error *err)
{
	dfk_match_init(out);
	return dfk__opts_read(out, sizeof(*out), in, DFK__OPTS_V1_SIZE(dfk_match, dfu_serial), "device match",
			      "dfk_match_init", err);
}
