/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Regression test of the built-in devices (--profile NAME): every built-in
 * device is driven through a fixed script of control transfers (descriptors
 * in both modes, the DFU and DfuSe requests, erases, writes, reads, mass
 * erase, unprotect, option bytes, leave; then deterministic random
 * transfers), in fast and real timing, and the log of every answer (result,
 * bytes, delay, state) is compared with the recorded one in
 * tests/emu/builtin_devices.golden. The log was recorded from the C profile
 * tables before they became JSON files (emu/devices/), so this pins that
 * the JSON descriptions give the same devices, byte for byte and
 * millisecond for millisecond.
 *
 * Usage: test_emu_builtin GOLDEN-FILE        compare
 *        test_emu_builtin --write FILE       record (only after a reviewed change) */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_internal.h"
#include "emu_random_request.h"

static const char *const names[] = {"dfu11",	 "dfu11-will-detach",	"dfu11-dnload-only",	  "dfu11-wait-reset",
				    "stm32f405", "stm32f405-protected", "stm32f103-flash-loader", "stm32l476",
				    "stm32h743"};

typedef struct run {
	FILE *out;
	emu_device *d;
	uint64_t now;
} run;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001B3ull;
	}
	return h;
}

/* One control transfer, logged: setup, result, bytes (hex, the first 40;
 * a hash of the rest), delay, the state afterwards. */
static int xfer(run *r, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx, uint8_t *data, uint16_t len)
{
	uint8_t s[8] = {bm,	      req,
			(uint8_t)val, (uint8_t)(val >> 8),
			(uint8_t)idx, (uint8_t)(idx >> 8),
			(uint8_t)len, (uint8_t)(len >> 8)};
	uint32_t actual = 0, delay = 0;
	int rc = emu_device_control(r->d, s, data, &actual, r->now, &delay);
	emu_event ev = emu_device_take_event(r->d);
	fprintf(r->out, "  %02x %02x %04x %04x %04x t=%" PRIu64 " -> %d n=%u delay=%u", bm, req, val, idx, len, r->now,
		rc, actual, delay);
	if ((bm & 0x80) && actual) {
		fprintf(r->out, " ");
		for (uint32_t i = 0; i < actual && i < 40; i++)
			fprintf(r->out, "%02x", data[i]);
		if (actual > 40)
			fprintf(r->out, "..%016" PRIx64, fnv(0xcbf29ce484222325ull, data, actual));
	}
	emu_usb_identity id;
	emu_device_identity(r->d, &id);
	fprintf(r->out, " | st=%u/%u rt=%d on=%d ev=%d\n", r->d->state, r->d->status, r->d->runtime, id.present,
		(int)ev);
	r->now += delay;
	if (ev != EMU_EVENT_NONE && id.present)
		emu_device_bus_reset(r->d);
	return rc;
}

static void descriptors(run *r)
{
	uint8_t b[1024];
	emu_usb_identity id;
	emu_device_identity(r->d, &id);
	fprintf(r->out, " identity %04x:%04x %04x class %02x/%02x/%02x cfg %u/%u nintf %u intf0 %02x/%02x/%02x on=%d\n",
		id.idVendor, id.idProduct, id.bcdDevice, id.bDeviceClass, id.bDeviceSubClass, id.bDeviceProtocol,
		id.bConfigurationValue, id.bNumConfigurations, id.bNumInterfaces, id.intf_class[0], id.intf_subclass[0],
		id.intf_protocol[0], id.present);
	xfer(r, 0x80, 6, 0x0100, 0, b, 64);
	xfer(r, 0x80, 6, 0x0200, 0, b, 9);
	xfer(r, 0x80, 6, 0x0200, 0, b, 1024);
	for (unsigned i = 0; i < 12; i++)
		xfer(r, 0x80, 6, (uint16_t)(0x0300 | i), i ? 0x0409 : 0, b, 255);
	xfer(r, 0x81, 6, 0x2100, 0, b, 9);
}

static void getstatus(run *r)
{
	uint8_t st[6];
	xfer(r, 0xA1, DFK_REQ_GETSTATUS, 0, 0, st, 6);
}

/* GETSTATUS until the device is no longer busy: in real timing an early
 * poll first (half the announced time), then one on time. */
static void poll_done(run *r)
{
	for (int i = 0; i < 6; i++) {
		uint8_t st[6];
		if (xfer(r, 0xA1, DFK_REQ_GETSTATUS, 0, 0, st, 6) != EMU_URB_OK)
			continue;
		if (st[4] != DFK_STATE_DNBUSY && st[4] != DFK_STATE_MANIFEST)
			return;
		uint32_t p = (uint32_t)st[1] | (uint32_t)st[2] << 8 | (uint32_t)st[3] << 16;
		r->now += i == 0 ? p / 2 : p;
	}
}

static void dfuse_cmd(run *r, uint8_t cmd, uint32_t a, uint16_t len)
{
	uint8_t c[5] = {cmd, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24)};
	xfer(r, 0x21, DFK_REQ_DNLOAD, 0, 0, c, len);
	poll_done(r);
}

static void simple(run *r, uint8_t req)
{
	xfer(r, 0x21, req, 0, 0, NULL, 0);
}

/* Back to dfuIDLE: CLRSTATUS only in dfuERROR, ABORT elsewhere. */
static void recover(run *r)
{
	if (r->d->state == DFK_STATE_ERROR)
		simple(r, DFK_REQ_CLRSTATUS);
	if (r->d->state != DFK_STATE_IDLE)
		simple(r, DFK_REQ_ABORT);
}

static void memories(run *r)
{
	for (size_t a = 0; a < r->d->nmem; a++) {
		const emu_mem *m = &r->d->mem[a];
		fprintf(r->out, " mem %zu size %" PRIu64 " hash %016" PRIx64 " segs", a, m->size,
			fnv(0xcbf29ce484222325ull, m->data, m->size));
		for (size_t s = 0; s < m->nsegs; s++)
			fprintf(r->out, " %08x:%u*%u/%u", m->segs[s].start, m->segs[s].count, m->segs[s].page,
				m->segs[s].rights);
		fprintf(r->out, "\n");
	}
}

static void scenario(run *r)
{
	emu_device *d = r->d;
	uint8_t b[4096];
	fprintf(r->out, " power-on\n");
	descriptors(r);
	memories(r);
	fprintf(r->out, " timing erase");
	static const uint32_t sizes[] = {0, 512, 1024, 2048, 4096, 16384, 65536, 131072, 1048576};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		fprintf(r->out, " %u", emu_flash_erase_ms(d, sizes[i]));
	fprintf(r->out, " prog");
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		fprintf(r->out, " %u", emu_flash_prog_ms(d, sizes[i]));
	fprintf(r->out, "\n");

	/* run-time requests, then detach into DFU mode */
	getstatus(r);
	xfer(r, 0xA1, DFK_REQ_GETSTATE, 0, 0, b, 1);
	xfer(r, 0xA1, 7, 0, 0, b, 1);
	xfer(r, 0x21, DFK_REQ_DETACH, 500, 0, NULL, 0);
	r->now += 10;
	emu_device_bus_reset(d);
	fprintf(r->out, " after detach+reset ev=%d\n", (int)emu_device_take_event(d));
	descriptors(r);

	/* standard requests */
	xfer(r, 0x00, 9, 1, 0, NULL, 0);
	xfer(r, 0x80, 8, 0, 0, b, 1);
	for (uint16_t a = 0; a <= d->nmem; a++)
		xfer(r, 0x01, 11, a, 0, NULL, 0);
	xfer(r, 0x81, 10, 0, 0, b, 1);
	xfer(r, 0x01, 11, 0, 0, NULL, 0);

	/* state machine basics */
	getstatus(r);
	simple(r, DFK_REQ_CLRSTATUS);
	getstatus(r);
	simple(r, DFK_REQ_CLRSTATUS);
	getstatus(r);
	simple(r, DFK_REQ_CLRSTATUS);
	simple(r, DFK_REQ_ABORT);
	xfer(r, 0xA1, DFK_REQ_GETSTATE, 0, 0, b, 1);
	xfer(r, 0x21, 9, 0, 0, NULL, 0);	      /* no such request */
	xfer(r, 0x21, DFK_REQ_GETSTATUS, 0, 0, b, 6); /* wrong direction */
	getstatus(r);
	simple(r, DFK_REQ_CLRSTATUS);
	simple(r, DFK_REQ_ABORT);
	simple(r, DFK_REQ_DETACH);
	fprintf(r->out, " after DFU-mode detach\n");
	getstatus(r);
	recover(r);

	/* every memory: DfuSe commands and data, then a plain download */
	for (uint16_t a = 0; a < d->nmem; a++) {
		fprintf(r->out, " alt %u\n", a);
		xfer(r, 0x01, 11, a, 0, NULL, 0);
		recover(r);
		xfer(r, 0xA1, DFK_REQ_UPLOAD, 0, 0, b, 64);
		simple(r, DFK_REQ_ABORT);
		uint32_t start = d->mem[a].nsegs ? d->mem[a].segs[0].start : 0;
		dfuse_cmd(r, 0x21, start, 5);
		dfuse_cmd(r, 0x41, start, 5);
		for (int i = 0; i < 256; i++)
			b[i] = (uint8_t)(i * 7 + a);
		xfer(r, 0x21, DFK_REQ_DNLOAD, 2, 0, b, 256);
		poll_done(r);
		xfer(r, 0x21, DFK_REQ_DNLOAD, 2, 0, b, 256); /* again: unerased */
		poll_done(r);
		recover(r);
		xfer(r, 0xA1, DFK_REQ_UPLOAD, 2, 0, b, 300);
		xfer(r, 0xA1, DFK_REQ_UPLOAD, 3, 0, b, 1024);
		simple(r, DFK_REQ_ABORT);
		dfuse_cmd(r, 0x21, 0x12345678, 5);
		recover(r);
		/* plain DFU: a three-block image, its end, manifestation */
		for (uint16_t blk = 0; blk < 3; blk++) {
			for (int i = 0; i < 1024; i++)
				b[i] = (uint8_t)(i + blk * 3);
			xfer(r, 0x21, DFK_REQ_DNLOAD, blk, 0, b, blk == 2 ? 100 : 1024);
			poll_done(r);
		}
		xfer(r, 0x21, DFK_REQ_DNLOAD, 3, 0, NULL, 0);
		poll_done(r);
		getstatus(r);
		if (d->state == DFK_STATE_MANIFEST_WAIT_RESET) {
			emu_device_bus_reset(d);
			fprintf(r->out, " reset ev=%d\n", (int)emu_device_take_event(d));
			if (d->runtime) {
				xfer(r, 0x21, DFK_REQ_DETACH, 500, 0, NULL, 0);
				emu_device_bus_reset(d);
				emu_device_take_event(d);
			}
			xfer(r, 0x01, 11, a, 0, NULL, 0);
		}
		recover(r);
		for (uint16_t blk = 0; blk < 4; blk++)
			if (xfer(r, 0xA1, DFK_REQ_UPLOAD, blk, 0, b, 1024) != EMU_URB_OK)
				break;
		simple(r, DFK_REQ_ABORT);
		if (!d->present || d->runtime)
			return;
	}
	memories(r);

	/* mass erase, unprotect, option bytes */
	xfer(r, 0x01, 11, 0, 0, NULL, 0);
	recover(r);
	dfuse_cmd(r, 0x41, 0, 1);
	recover(r);
	dfuse_cmd(r, 0x92, 0, 1);
	fprintf(r->out, " after unprotect\n");
	getstatus(r);
	recover(r);
	memories(r);
	if (d->nmem > 1) {
		xfer(r, 0x01, 11, 1, 0, NULL, 0);
		uint32_t start = d->mem[1].nsegs ? d->mem[1].segs[0].start : 0;
		dfuse_cmd(r, 0x21, start, 5);
		memset(b, 0xAA, 16);
		xfer(r, 0x21, DFK_REQ_DNLOAD, 2, 0, b, (uint16_t)(d->mem[1].size < 16 ? d->mem[1].size : 16));
		poll_done(r);
		fprintf(r->out, " after option write\n");
		getstatus(r);
		recover(r);
	}

	/* leave without and with a valid vector table */
	xfer(r, 0x01, 11, 0, 0, NULL, 0);
	recover(r);
	uint32_t start = d->mem[0].nsegs ? d->mem[0].segs[0].start : 0;
	dfuse_cmd(r, 0x21, start, 5);
	xfer(r, 0x21, DFK_REQ_DNLOAD, 0, 0, NULL, 0);
	poll_done(r);
	fprintf(r->out, " after leave 1\n");
	getstatus(r);
	recover(r);
	static const uint8_t vec[8] = {0x00, 0x10, 0x00, 0x20, 0x01, 0x02, 0x00, 0x08};
	uint32_t erase_at = start;
	for (size_t s = 0; s < d->mem[0].nsegs; s++)
		if (d->mem[0].segs[s].rights & EMU_W) {
			erase_at = d->mem[0].segs[s].start;
			break;
		}
	dfuse_cmd(r, 0x41, erase_at, 5);
	dfuse_cmd(r, 0x21, erase_at, 5);
	memcpy(b, vec, 8);
	xfer(r, 0x21, DFK_REQ_DNLOAD, 2, 0, b, 8);
	poll_done(r);
	dfuse_cmd(r, 0x21, erase_at, 5);
	xfer(r, 0x21, DFK_REQ_DNLOAD, 0, 0, NULL, 0);
	poll_done(r);
	fprintf(r->out, " after leave 2\n");
	if (d->present)
		descriptors(r);
	memories(r);
}

static emu_device *mk(const char *name, emu_timing timing)
{
	emu_config cfg = {.profile = name, .timing = timing};
	char err[256] = "";
	emu_device *d = emu_device_new(&cfg, err, sizeof err);
	if (!d) {
		fprintf(stderr, "emu_device_new(%s): %s\n", name, err);
		exit(1);
	}
	return d;
}

/* The random transfers of test_emu_random, logged as hashes every 500. */
static void random_part(run *r, const char *name, emu_timing timing)
{
	static uint8_t buf[65536];
	uint64_t h = 0xcbf29ce484222325ull;
	uint64_t rng = EMU_RANDOM_SEED;
	for (int i = 1; i <= 4000; i++) {
		uint8_t s[8];
		emu_random_request(&rng, s, buf);
		uint8_t bm = s[0];
		if (emu_rnd(&rng) % 5 == 0)
			r->now += emu_rnd(&rng) % 3000;
		uint32_t actual = 0, delay = 0;
		int rc = emu_device_control(r->d, s, buf, &actual, r->now, &delay);
		uint32_t rec[5] = {(uint32_t)rc, actual, delay, r->d->state, r->d->status};
		h = fnv(h, rec, sizeof rec);
		if ((bm & 0x80) && rc == EMU_URB_OK)
			h = fnv(h, buf, actual);
		r->now += delay;
		if (emu_rnd(&rng) % 50 == 0 || emu_device_take_event(r->d) != EMU_EVENT_NONE)
			emu_device_bus_reset(r->d);
		emu_usb_identity id;
		emu_device_identity(r->d, &id);
		if (!id.present || rc == EMU_URB_TIMEOUT) {
			emu_device_free(r->d);
			r->d = mk(name, timing);
		}
		if (i % 500 == 0)
			fprintf(r->out, " random %d %016" PRIx64 "\n", i, h);
	}
	char *st = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&st, &len);
	emu_device_write_stats(r->d, f);
	fclose(f);
	fprintf(r->out, " stats %s\n", st);
	free(st);
}

static void one(FILE *out, const char *name, emu_timing timing)
{
	run r = {out, mk(name, timing), 1000};
	fprintf(out, "%s %s\n", name, timing == EMU_TIMING_REAL ? "real" : "fast");
	scenario(&r);
	emu_device_free(r.d);
	r.d = mk(name, timing);
	random_part(&r, name, timing);
	emu_device_free(r.d);
}

int main(int argc, char **argv)
{
	bool write = argc == 3 && strcmp(argv[1], "--write") == 0;
	if (argc != 2 && !write) {
		fprintf(stderr, "usage: test_emu_builtin GOLDEN | --write GOLDEN\n");
		return 2;
	}
	char *got = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&got, &len);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		one(out, names[i], EMU_TIMING_FAST);
		one(out, names[i], EMU_TIMING_REAL);
	}
	fclose(out);
	const char *path = write ? argv[2] : argv[1];
	if (write) {
		FILE *f = fopen(path, "w");
		if (!f || fwrite(got, 1, len, f) != len || fclose(f) != 0) {
			perror(path);
			return 1;
		}
		free(got);
		return 0;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	/* Line by line: the first difference is what a reader needs. */
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	const char *p = got;
	int rc = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		const char *nl = strchr(p, '\n');
		size_t gl = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (gl != (size_t)n || memcmp(p, line, gl) != 0) {
			fprintf(stderr, "%s:%zu: differs\n  expected: %s  got:      %.*s%s", path, lineno, line,
				(int)gl, p, gl && p[gl - 1] == '\n' ? "" : "\n");
			rc = 1;
			break;
		}
		p += gl;
	}
	if (rc == 0 && *p) {
		fprintf(stderr, "%s: output goes on after line %zu: %.*s\n", path, lineno, (int)strcspn(p, "\n"), p);
		rc = 1;
	}
	free(line);
	fclose(f);
	free(got);
	if (rc == 0)
		printf("every built-in device matches %s (%zu lines)\n", path, lineno);
	return rc;
}
