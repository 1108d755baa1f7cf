/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Counters for --stats: what a host did to the device and how long the
 * timing model kept it busy. Benchmarks read the JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu_internal.h"
#include "emu_session.h"

static const char *const names[EMU_RQ_COUNT] = {"GET_STATUS",
						"CLEAR_FEATURE",
						"SET_FEATURE",
						"SET_ADDRESS",
						"GET_DESCRIPTOR",
						"SET_DESCRIPTOR",
						"GET_CONFIGURATION",
						"SET_CONFIGURATION",
						"GET_INTERFACE",
						"SET_INTERFACE",
						"SYNCH_FRAME",
						"DETACH",
						"DNLOAD",
						"UPLOAD",
						"GETSTATUS",
						"CLRSTATUS",
						"GETSTATE",
						"ABORT",
						"OTHER"};

const char *emu_stats_name(int rq)
{
	return rq >= 0 && rq < EMU_RQ_COUNT ? names[rq] : "OTHER";
}

int emu_stats_classify(const uint8_t setup[8])
{
	unsigned type = setup[0] & 0x60, req = setup[1];
	if (type == 0) {
		static const int std[13] = {EMU_RQ_GET_STATUS,	      EMU_RQ_CLEAR_FEATURE,  EMU_RQ_OTHER,
					    EMU_RQ_SET_FEATURE,	      EMU_RQ_OTHER,	     EMU_RQ_SET_ADDRESS,
					    EMU_RQ_GET_DESCRIPTOR,    EMU_RQ_SET_DESCRIPTOR, EMU_RQ_GET_CONFIGURATION,
					    EMU_RQ_SET_CONFIGURATION, EMU_RQ_GET_INTERFACE,  EMU_RQ_SET_INTERFACE,
					    EMU_RQ_SYNCH_FRAME};
		return req < 13 ? std[req] : EMU_RQ_OTHER;
	}
	if (type == 0x20 && req <= DFK_REQ_ABORT)
		return EMU_RQ_DETACH + (int)req; /* same order as the DFU request codes */
	return EMU_RQ_OTHER;
}

void emu_stats_count(emu_device *dev, const uint8_t setup[8])
{
	dev->stats.control_transfers++;
	dev->stats.req[emu_stats_classify(setup)]++;
}

/* The serial is the user's text (--serial). */
static void json_string(FILE *f, const char *str)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7F)
			fprintf(f, "\\u%04x", *p); /* bytes, not characters: the text may not be UTF-8 */
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void emu_device_write_stats(const emu_device *dev, FILE *f)
{
	const emu_stats *s = &dev->stats;
	const char *serial = emu_device_serial(dev);
	fprintf(f, "{\"profile\":\"%s\",\"serial\":", dev->prof->name);
	if (serial)
		json_string(f, serial);
	else
		fputs("null", f);
	fprintf(f, ",\"control_transfers\":%" PRIu64 ",\"requests\":{", s->control_transfers);
	for (int i = 0; i < EMU_RQ_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", names[i], s->req[i]);
	fprintf(f, "}");
	fprintf(f,
		",\"bytes_down\":%" PRIu64 ",\"bytes_up\":%" PRIu64 ",\"busy_ms\":%" PRIu64 ",\"erased_pages\":%" PRIu64
		",\"stalls\":%" PRIu64 "}",
		s->bytes_down, s->bytes_up, s->busy_ms, s->erased_pages, s->stalls);
	fflush(f);
}

void emu_bus_write_stats(const emu_bus *bus, FILE *f)
{
	fprintf(f, "{\"devices\":{");
	for (size_t i = 0; i < bus->n; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", bus->ports[i].busid);
		emu_device_write_stats(bus->ports[i].dev, f);
	}
	fprintf(f, "}}\n");
}

bool emu_bus_write_stats_file(const emu_bus *bus, const char *path, char *err, size_t errsz)
{
	char tmp[4096];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errsz, "stats path too long: %s", path);
		return false;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errsz, "cannot create %s: %s", tmp, strerror(errno));
		return false;
	}
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return false;
	}
	emu_bus_write_stats(bus, f);
	fchmod(fd, 0644);
	if (fflush(f) != 0 || ferror(f)) {
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return false;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}
