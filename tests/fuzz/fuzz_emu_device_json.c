/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libFuzzer target: arbitrary bytes as a dfukit-emu device description
 * (--device FILE, emu/emu_desc.c). The parser must refuse or accept any
 * input without a crash, a leak or a hang; an accepted description must
 * make a device that serves its descriptors and the DFU requests within
 * its bounds. Files named in the description are refused (no directory is
 * given), so the target reads nothing but its input.
 * Seeds: tests/fuzz/corpus/emu_device_json (the built-in devices, the test
 * doubles, small descriptions of every key). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emu_device.h"

/* Devices larger than this are parsed but not made: memset of their
 * memories would only slow the fuzzer down. */
#define MAX_MADE (4u << 20)

static int xfer(emu_device *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx, uint8_t *buf, uint16_t len,
		uint64_t *now)
{
	uint8_t s[8] = {bm,	      req,
			(uint8_t)val, (uint8_t)(val >> 8),
			(uint8_t)idx, (uint8_t)(idx >> 8),
			(uint8_t)len, (uint8_t)(len >> 8)};
	uint32_t actual = 0, delay = 0;
	int r = emu_device_control(d, s, buf, &actual, *now, &delay);
	if (actual > len)
		__builtin_trap();
	*now += delay + 1;
	if (emu_device_take_event(d) != EMU_EVENT_NONE)
		emu_device_bus_reset(d);
	return r;
}

static void drive(emu_device *d, uint64_t seed)
{
	static uint8_t buf[65536];
	uint64_t now = 1;
	emu_usb_identity id;
	emu_device_identity(d, &id);
	for (int mode = 0; mode < 2; mode++) {
		xfer(d, 0x80, 6, 0x0100, 0, buf, 64, &now);
		xfer(d, 0x80, 6, 0x0200, 0, buf, 65535, &now);
		for (unsigned i = 0; i < 48; i++)
			xfer(d, 0x80, 6, (uint16_t)(0x0300 | i), 0x0409, buf, 255, &now);
		xfer(d, 0x81, 6, 0x2100, 0, buf, 9, &now);
		for (uint16_t intf = 0; intf < 9; intf++) {
			xfer(d, 0xA1, 3, 0, intf, buf, 6, &now);			     /* GETSTATUS */
			xfer(d, 0x21, 0, 100, intf, NULL, 0, &now);			     /* DETACH */
			xfer(d, 0x01, 11, (uint16_t)(mode + intf % 2), intf, NULL, 0, &now); /* SET_INTERFACE */
		}
		emu_device_bus_reset(d);
		(void)emu_device_take_event(d);
	}
	/* DfuSe and plain DFU requests with bytes from a generator seeded by
	 * the input: set address, erase, data blocks, uploads, leave. */
	uint64_t x = seed | 1;
	for (int i = 0; i < 300; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t r = (uint32_t)(x >> 11);
		uint16_t intf = (uint16_t)(r % 3 == 0 ? (r >> 4) % 9 : 0);
		uint16_t len = (uint16_t)((r >> 8) % 4 == 0 ? (r >> 12) % 3000 : 5);
		switch (r % 9) {
		case 0: xfer(d, 0x01, 11, (uint16_t)((r >> 5) % 40), intf, NULL, 0, &now); break;
		case 1:
			buf[0] = (r >> 3) % 2 ? 0x21 : 0x41;
			memcpy(buf + 1, &x, 4);
			xfer(d, 0x21, 1, 0, intf, buf, (r >> 20) % 2 ? 5 : 1, &now);
			break;
		case 2:
			memset(buf, (int)r, len);
			xfer(d, 0x21, 1, (uint16_t)((r >> 16) % 6), intf, buf, len, &now);
			break;
		case 3: xfer(d, 0xA1, 2, (uint16_t)((r >> 16) % 6), intf, buf, len, &now); break;
		case 4: xfer(d, 0x21, (uint8_t)((r >> 16) % 8), 0, intf, NULL, 0, &now); break;
		case 5: xfer(d, 0x21, 1, 3, intf, NULL, 0, &now); break; /* leave / end of download */
		case 6: now += (r >> 4) % 20000; break;
		case 7:
			emu_device_bus_reset(d);
			(void)emu_device_take_event(d);
			break;
		default: xfer(d, 0xA1, 3, 0, intf, buf, 6, &now); break;
		}
		emu_device_identity(d, &id);
		if (!id.present)
			break;
	}
	char out[4096];
	FILE *f = fmemopen(out, sizeof out, "w");
	if (f) {
		emu_device_write_stats(d, f);
		fclose(f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	emu_profile *p = emu_desc_parse((const char *)data, size, "fuzz.json", NULL, err, sizeof err);
	if (!p)
		return 0;
	/* What main() asks of it. */
	(void)emu_profile_name(p);
	(void)emu_profile_busid(p);
	(void)emu_profile_devnum(p);
	(void)emu_profile_serial(p);
	if (emu_profile_memsize(p) <= MAX_MADE) {
		uint64_t seed = 0xcbf29ce484222325ull;
		for (size_t i = 0; i < size; i++)
			seed = (seed ^ data[i]) * 0x100000001B3ull;
		for (int t = 0; t < 2; t++) {
			emu_config cfg = {.desc = p, .timing = t ? EMU_TIMING_REAL : EMU_TIMING_FAST};
			emu_device *d = emu_device_new(&cfg, err, sizeof err);
			if (d) {
				drive(d, seed + (uint64_t)t);
				emu_device_free(d);
			}
		}
	}
	emu_profile_free(p);
	return 0;
}
