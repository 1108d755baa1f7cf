/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Random control transfers for the emulator model: the generator that
 * test_emu_random and the built-in devices' golden log (test_emu_builtin)
 * share. The golden log records hashes of the answers, so the sequence of
 * draws here is part of its expected output: change it only with the log. */
#ifndef EMU_RANDOM_REQUEST_H
#define EMU_RANDOM_REQUEST_H

#include <stdint.h>
#include <string.h>

#include "dfukit/usb.h"

#define EMU_RANDOM_SEED 0x9E3779B97F4A7C15ull

/* xorshift64, upper bits. */
static inline uint32_t emu_rnd(uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	return (uint32_t)(*rng >> 16);
}

/* Fills setup (8 bytes) and, for an OUT request, buf (65536 bytes of room):
 * mostly the DFU and standard requests with small values, sometimes any
 * byte; DfuSe commands with addresses in and past an F4's flash. Returns
 * wLength. */
static inline uint16_t emu_random_request(uint64_t *rng, uint8_t setup[8], uint8_t *buf)
{
	static const uint8_t bms[] = {0x00, 0x80, 0x01, 0x81, 0x02, 0x82, 0x21,
				      0xA1, 0x21, 0xA1, 0x21, 0xA1, 0x23, 0x40};
	uint8_t bm = (emu_rnd(rng) % 16 == 0) ? (uint8_t)emu_rnd(rng) : bms[emu_rnd(rng) % sizeof bms];
	uint8_t req = (uint8_t)(emu_rnd(rng) % ((bm & 0x60) == 0x20 ? 8 : 14));
	uint16_t wvalue = (uint16_t)(emu_rnd(rng) % 4 == 0 ? emu_rnd(rng) : emu_rnd(rng) % 6);
	uint16_t windex = (uint16_t)(emu_rnd(rng) % 8 == 0 ? emu_rnd(rng) : 0);
	uint16_t wlength;
	switch (emu_rnd(rng) % 6) {
	case 0: wlength = 0; break;
	case 1: wlength = (uint16_t)emu_rnd(rng); break;
	case 2: wlength = 5; break;
	case 3: wlength = 6; break;
	default: wlength = (uint16_t)(emu_rnd(rng) % 2100); break;
	}
	if (bm == 0x21 && req == DFK_REQ_DNLOAD && wvalue == 0 && emu_rnd(rng) % 2) {
		static const uint8_t cmds[] = {0x21, 0x41, 0x92, 0x00};
		buf[0] = cmds[emu_rnd(rng) % 4];
		uint32_t a = 0x08000000u + (emu_rnd(rng) % 0x120000u);
		memcpy(buf + 1, &a, 4);
		wlength = emu_rnd(rng) % 2 ? 5 : 1;
	} else if (!(bm & 0x80)) {
		for (uint32_t k = 0; k < wlength; k++)
			buf[k] = (uint8_t)emu_rnd(rng);
	}
	uint8_t s[8] = {bm,
			req,
			(uint8_t)wvalue,
			(uint8_t)(wvalue >> 8),
			(uint8_t)windex,
			(uint8_t)(windex >> 8),
			(uint8_t)wlength,
			(uint8_t)(wlength >> 8)};
	memcpy(setup, s, sizeof s);
	return wlength;
}

#endif
