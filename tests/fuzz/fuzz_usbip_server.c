/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libFuzzer target: arbitrary bytes from a USB/IP host into dfukit-emu's
 * per-connection input handling (emu_session), through real device models
 * (a bus of two devices).
 * Byte 0 picks the profile and the timing, byte 1 how the stream is split
 * into reads; the rest is the stream. Time advances between reads so that
 * delayed replies and idle limits are exercised too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu_device.h"
#include "emu_session.h"

static const char *const profiles[] = {"stm32f405", "dfu11", "stm32l476", "stm32f103-flash-loader", "stm32h743"};
#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

/* Parsed once, and memories in buffers kept across runs: a fresh 1-2 MiB
 * allocation per run cost more in page faults than the run itself (about
 * 100 runs a second). Each run still starts from fresh contents: the
 * device fills them. */
static emu_profile *parsed[NPROFILES];
static uint8_t *membufs[2];
static size_t membuf_size;

static void init_once(void)
{
	char err[256];
	if (membufs[0])
		return;
	for (size_t i = 0; i < NPROFILES; i++) {
		parsed[i] = emu_profile_builtin(profiles[i], err, sizeof(err));
		if (!parsed[i])
			abort();
		if (emu_profile_memsize(parsed[i]) > membuf_size)
			membuf_size = emu_profile_memsize(parsed[i]);
	}
	for (int i = 0; i < 2; i++)
		if (!(membufs[i] = malloc(membuf_size)))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emu_config cfg;
	char err[256];
	uint64_t now = 1000;

	if (size < 2)
		return 0;
	init_once();
	memset(&cfg, 0, sizeof(cfg));
	cfg.desc = parsed[(data[0] & 0x7f) % NPROFILES];
	cfg.memory_size = membuf_size;
	cfg.timing = (data[0] & 0x80) ? EMU_TIMING_REAL : EMU_TIMING_FAST;
	size_t chunk = (size_t)data[1] * 7 + 1;
	data += 2;
	size -= 2;

	/* Fresh devices per input keep runs reproducible; two of them, so
	 * that imports of 1-2 and lists of several devices are reached. */
	static emu_bus bus;
	memset(&bus, 0, sizeof(bus));
	for (int i = 0; i < 2; i++) {
		cfg.memory = membufs[i];
		emu_device *dev = emu_device_new(&cfg, err, sizeof(err));
		if (!dev || !emu_bus_add(&bus, dev)) {
			emu_device_free(dev);
			break;
		}
	}
	emu_session *s = bus.n == 2 ? emu_session_new(&bus, now) : NULL;
	if (s) {
		size_t off = 0;
		while (off < size && !emu_session_done(s)) {
			size_t n = size - off < chunk ? size - off : chunk;
			size_t olen;
			emu_session_input(s, data + off, n, now);
			off += n;
			now += 7;
			emu_session_tick(s, now);
			emu_session_output(s, &olen);
			emu_session_consume(s, olen);
		}
		/* Let every delayed reply fall due. */
		for (int i = 0; i < 8 && !emu_session_done(s); i++) {
			uint64_t d = emu_session_deadline(s);
			size_t olen;
			if (d == UINT64_MAX)
				break;
			now = d > now ? d : now + 1;
			emu_session_tick(s, now);
			emu_session_output(s, &olen);
			emu_session_consume(s, olen);
		}
		emu_session_free(s);
	}
	for (size_t i = 0; i < bus.n; i++) {
		emu_device_bus_reset(bus.ports[i].dev);
		emu_device_free(bus.ports[i].dev);
	}
	return 0;
}
