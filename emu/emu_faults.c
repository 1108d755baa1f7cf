/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* --fault SPEC: injected misbehaviour, so that the tool's error paths are
 * tested against a device that really does it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu_internal.h"

static const char *const status_names[16] = {"OK",	   "errTARGET",	      "errFILE",     "errWRITE",
					     "errERASE",   "errCHECK_ERASED", "errPROG",     "errVERIFY",
					     "errADDRESS", "errNOTDONE",      "errFIRMWARE", "errVENDOR",
					     "errUSBR",	   "errPOR",	      "errUNKNOWN",  "errSTALLEDPKT"};

const char *emu_status_name(uint8_t status)
{
	return status < 16 ? status_names[status] : "unknown";
}

int emu_status_parse(const char *name)
{
	for (int i = 1; i < 16; i++)
		if (strcasecmp(name, status_names[i]) == 0)
			return i;
	char *end;
	unsigned long v = strtoul(name, &end, 0);
	if (*name && !*end && v >= 1 && v <= 0xFF)
		return (int)v;
	return -1;
}

static const struct {
	const char *name;
	uint32_t bit;
	const char *help;
} descs[] = {
    {"str-long", EMU_D_STR_LONG, "product string of 126 UTF-16 units (non-ASCII, surrogates, control chars)"},
    {"str-badlen", EMU_D_STR_BADLEN, "product string with bLength 255, longer than what is sent"},
    {"str-odd", EMU_D_STR_ODD, "serial string with an odd bLength (half a UTF-16 unit at the end)"},
    {"memmap-garbage", EMU_D_MEMMAP_GARBAGE, "alt 0 memory map that does not parse"},
    {"memmap-overflow", EMU_D_MEMMAP_OVERFLOW, "alt 0 memory map whose segments overflow 32-bit addresses"},
    {"memmap-empty", EMU_D_MEMMAP_EMPTY, "alt 0 interface string empty"},
    {"xfer0", EMU_D_XFER0, "wTransferSize 0 (announced and enforced)"},
    {"xfer65535", EMU_D_XFER65535, "wTransferSize 65535 (announced and enforced)"},
    {"func-badlen", EMU_D_FUNC_BADLEN, "DFU functional descriptor with bLength 255"},
    {"func-missing", EMU_D_FUNC_MISSING, "no DFU functional descriptor at all"},
    {"total-long", EMU_D_TOTAL_LONG, "wTotalLength 100 bytes more than the configuration has"},
    {"total-short", EMU_D_TOTAL_SHORT, "wTotalLength 14: ends inside the first interface descriptor"},
    {"blen0", EMU_D_BLEN0, "first interface descriptor with bLength 0"},
    {"dev-badlen", EMU_D_DEV_BADLEN, "device descriptor with bLength 8"},
};

bool emu_desc_fault_bit(const char *name, uint32_t *bit)
{
	for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++)
		if (strcmp(name, descs[i].name) == 0) {
			*bit = descs[i].bit;
			return true;
		}
	return false;
}

void emu_faults_help(FILE *f)
{
	fprintf(f,
		"  SPEC = KIND@TRIGGER or desc=NAME (--fault is repeatable, at most %d)\n"
		"  KIND:\n"
		"    stall          the request is answered with a STALL (device state unchanged)\n"
		"    status=ERR     the operation fails with DFU status ERR (errTARGET, errFILE, errWRITE,\n"
		"                   errERASE, errCHECK_ERASED, errPROG, errVERIFY, errADDRESS, errNOTDONE,\n"
		"                   errFIRMWARE, errVENDOR, errUSBR, errPOR, errUNKNOWN, errSTALLEDPKT or a\n"
		"                   number): the next DNLOAD's GETSTATUS, UPLOAD or GETSTATUS reports\n"
		"                   dfuERROR with it, memory untouched\n"
		"    busy           from then on GETSTATUS answers dfuDNBUSY (poll 100 ms) forever\n"
		"    disconnect     the device falls off the bus (URB -ENODEV, DISCONNECT event)\n"
		"    short          the next IN reply carries half its bytes\n"
		"    timeout        the device stops answering (every URB times out)\n"
		"    slow=MS        from then on every control transfer is answered MS ms later\n"
		"  TRIGGER (each fault fires once):\n"
		"    req=N          the Nth control transfer (1 = the first, enumeration included)\n"
		"    block=N        the Nth data block (DNLOAD data or UPLOAD read, 0 = the first)\n"
		"    dnblock=N      the Nth download data block (0-based)\n"
		"    upblock=N      the Nth upload data block (0-based)\n"
		"    addr=A         a write, page erase or read whose range holds address A\n"
		"                   (plain DFU: offset in the download/upload stream)\n"
		"  desc=NAME: hostile descriptors, always on:\n",
		EMU_MAX_FAULTS);
	for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++)
		fprintf(f, "    %-16s %s\n", descs[i].name, descs[i].help);
	fprintf(f, "  Examples: stall@req=40  status=errWRITE@block=5  status=errVERIFY@addr=0x08004000\n"
		   "            busy@block=3  disconnect@req=100  short@req=12  desc=memmap-garbage  desc=xfer0\n");
}

static bool parse_num(const char *s, uint64_t *v)
{
	if (!*s || *s == '-' || *s == '+')
		return false;
	char *end;
	unsigned long long x = strtoull(s, &end, 0);
	if (*end)
		return false;
	*v = x;
	return true;
}

bool emu_fault_parse(const char *spec, emu_fault *f, char *errbuf, size_t errsz)
{
	char buf[128];
	memset(f, 0, sizeof *f);
	if (strlen(spec) >= sizeof buf) {
		snprintf(errbuf, errsz, "too long");
		return false;
	}
	strcpy(buf, spec);
	if (strncmp(buf, "desc=", 5) == 0) {
		for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
			if (strcmp(buf + 5, descs[i].name) == 0) {
				f->kind = EMU_F_DESC;
				f->desc = descs[i].bit;
				f->trig = EMU_T_NONE;
				return true;
			}
		}
		snprintf(errbuf, errsz, "unknown descriptor fault '%s' (see --help)", buf + 5);
		return false;
	}
	char *at = strchr(buf, '@');
	if (!at) {
		snprintf(errbuf, errsz, "missing @TRIGGER (req=N, block=N, dnblock=N, upblock=N or addr=A)");
		return false;
	}
	*at = '\0';
	const char *kind = buf, *trig = at + 1;
	if (strcmp(kind, "stall") == 0) {
		f->kind = EMU_F_STALL;
	} else if (strcmp(kind, "busy") == 0) {
		f->kind = EMU_F_BUSY;
	} else if (strcmp(kind, "disconnect") == 0) {
		f->kind = EMU_F_DISCONNECT;
	} else if (strcmp(kind, "short") == 0) {
		f->kind = EMU_F_SHORT;
	} else if (strcmp(kind, "timeout") == 0) {
		f->kind = EMU_F_TIMEOUT;
	} else if (strncmp(kind, "slow=", 5) == 0) {
		char *end = NULL;
		unsigned long ms = strtoul(kind + 5, &end, 10);
		if (!kind[5] || *end || ms == 0 || ms > 10000) {
			snprintf(errbuf, errsz, "slow=MS needs 1 to 10000 milliseconds, not '%s'", kind + 5);
			return false;
		}
		f->kind = EMU_F_SLOW;
		f->ms = (uint32_t)ms;
	} else if (strncmp(kind, "status=", 7) == 0) {
		int st = emu_status_parse(kind + 7);
		if (st < 0) {
			snprintf(errbuf, errsz, "unknown DFU status '%s' (errTARGET ... errSTALLEDPKT or 1..255)",
				 kind + 7);
			return false;
		}
		f->kind = EMU_F_STATUS;
		f->status = (uint8_t)st;
	} else {
		snprintf(errbuf, errsz,
			 "unknown fault kind '%s' (stall, status=ERR, busy, disconnect, short, timeout, "
			 "desc=NAME)",
			 kind);
		return false;
	}
	static const struct {
		const char *prefix;
		emu_fault_trigger t;
	} trigs[] = {{"req=", EMU_T_REQ},
		     {"block=", EMU_T_BLOCK},
		     {"dnblock=", EMU_T_DNBLOCK},
		     {"upblock=", EMU_T_UPBLOCK},
		     {"addr=", EMU_T_ADDR}};
	for (size_t i = 0; i < sizeof trigs / sizeof trigs[0]; i++) {
		size_t n = strlen(trigs[i].prefix);
		if (strncmp(trig, trigs[i].prefix, n) == 0) {
			if (!parse_num(trig + n, &f->n) || (trigs[i].t == EMU_T_REQ && f->n == 0) ||
			    (trigs[i].t == EMU_T_ADDR && f->n > 0xFFFFFFFFull)) {
				snprintf(errbuf, errsz, "bad number in trigger '%s'%s", trig,
					 trigs[i].t == EMU_T_REQ ? " (requests count from 1)" : "");
				return false;
			}
			f->trig = trigs[i].t;
			return true;
		}
	}
	snprintf(errbuf, errsz, "unknown trigger '%s' (req=N, block=N, dnblock=N, upblock=N or addr=A)", trig);
	return false;
}

static bool matches(const emu_fault *f, const emu_fault_ctx *c)
{
	switch (f->trig) {
	case EMU_T_REQ: return c->req != 0 && c->req == f->n;
	case EMU_T_BLOCK: return c->block_dir != 0 && c->block == f->n;
	case EMU_T_DNBLOCK: return c->block_dir == 1 && c->block == f->n;
	case EMU_T_UPBLOCK: return c->block_dir == 2 && c->block == f->n;
	case EMU_T_ADDR: return c->has_addr && f->n >= c->addr && f->n - c->addr < (c->len ? c->len : 1);
	default: return false;
	}
}

static emu_fault *faults_take(emu_device *dev, const emu_fault_ctx *ctx)
{
	for (size_t i = 0; i < dev->nfaults; i++) {
		emu_fault *f = &dev->faults[i];
		if (!f->fired && matches(f, ctx)) {
			f->fired = true;
			return f;
		}
	}
	return NULL;
}

static int fault_apply(emu_device *dev, const emu_fault *f)
{
	switch (f->kind) {
	case EMU_F_STALL: return EMU_URB_STALL;
	case EMU_F_STATUS: dev->forced_status = f->status; return -1;
	case EMU_F_BUSY:
		dev->stuck_busy = true;
		dev->stuck_poll_ms = 100;
		return -1;
	case EMU_F_DISCONNECT:
		dev->gone = true;
		dev->present = false;
		dev->event = EMU_EVENT_DISCONNECT;
		return EMU_URB_NODEV;
	case EMU_F_SHORT: dev->short_pending = true; return -1;
	case EMU_F_TIMEOUT: dev->hung = true; return EMU_URB_TIMEOUT;
	case EMU_F_SLOW: dev->slow_ms = f->ms; return -1;
	default: return -1;
	}
}

int emu_faults_fire(emu_device *dev, const emu_fault_ctx *ctx)
{
	emu_fault *f = faults_take(dev, ctx);
	return f ? fault_apply(dev, f) : -1;
}
