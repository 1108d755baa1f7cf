/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Helpers for the emulator model tests: control transfers on a device made
 * in-process, as the USB/IP server would send them. */
#ifndef TEST_EMU_UTIL_H
#define TEST_EMU_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emu_internal.h"

static inline emu_device *mkdev_f(const char *profile, emu_timing timing, const char *path, const char *const *faults,
				  size_t nfaults)
{
	emu_config cfg = {.profile = profile, .memory_path = path, .timing = timing};
	for (size_t i = 0; i < nfaults; i++)
		cfg.faults[i] = faults[i];
	cfg.nfaults = nfaults;
	char err[256] = "";
	emu_device *d = emu_device_new(&cfg, err, sizeof err);
	if (!d)
		print_error("emu_device_new(%s): %s\n", profile, err);
	assert_non_null(d);
	return d;
}

static inline emu_device *mkdev(const char *profile, emu_timing timing)
{
	return mkdev_f(profile, timing, NULL, NULL, 0);
}

static inline int ctl(emu_device *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx, uint8_t *data, uint16_t len,
		      uint32_t *actual, uint64_t now)
{
	uint8_t s[8] = {bm,	      req,
			(uint8_t)val, (uint8_t)(val >> 8),
			(uint8_t)idx, (uint8_t)(idx >> 8),
			(uint8_t)len, (uint8_t)(len >> 8)};
	uint32_t a = 0, delay = 0;
	int r = emu_device_control(d, s, data, &a, now, &delay);
	if (actual)
		*actual = a;
	assert_true(a <= len);
	return r;
}

static inline int dnload_at(emu_device *d, uint16_t block, const void *buf, uint16_t len, uint64_t now)
{
	uint8_t tmp[65536];
	if (len)
		memcpy(tmp, buf, len);
	return ctl(d, 0x21, DFK_REQ_DNLOAD, block, 0, tmp, len, NULL, now);
}

static inline int dnload(emu_device *d, uint16_t block, const void *buf, uint16_t len)
{
	return dnload_at(d, block, buf, len, 0);
}

/* GETSTATUS: returns the URB result; st gets the 6 bytes. */
static inline int getstatus_at(emu_device *d, uint8_t st[6], uint64_t now, uint32_t *delay)
{
	uint8_t s[8] = {0xA1, DFK_REQ_GETSTATUS, 0, 0, 0, 0, 6, 0};
	uint32_t a = 0, dl = 0;
	memset(st, 0xEE, 6);
	int r = emu_device_control(d, s, st, &a, now, &dl);
	if (delay)
		*delay = dl;
	if (r == EMU_URB_OK)
		assert_int_equal(a, 6);
	return r;
}

static inline int getstatus(emu_device *d, uint8_t st[6])
{
	return getstatus_at(d, st, 0, NULL);
}

static inline uint32_t poll_of(const uint8_t st[6])
{
	return (uint32_t)st[1] | ((uint32_t)st[2] << 8) | ((uint32_t)st[3] << 16);
}

static inline int upload(emu_device *d, uint16_t block, uint8_t *buf, uint16_t len, uint32_t *actual)
{
	return ctl(d, 0xA1, DFK_REQ_UPLOAD, block, 0, buf, len, actual, 0);
}

static inline int simple(emu_device *d, uint8_t req)
{
	return ctl(d, 0x21, req, 0, 0, NULL, 0, NULL, 0);
}

/* DfuSe: one command + the two GETSTATUS it needs; returns the final status. */
static inline int dfuse_cmd(emu_device *d, const uint8_t *cmd, uint16_t len, uint8_t st[6])
{
	assert_int_equal(dnload(d, 0, cmd, len), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	return st[0];
}

static inline int dfuse_setaddr(emu_device *d, uint32_t a)
{
	uint8_t c[5] = {0x21, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24)}, st[6];
	return dfuse_cmd(d, c, 5, st);
}

static inline int dfuse_erase(emu_device *d, uint32_t a)
{
	uint8_t c[5] = {0x41, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24)}, st[6];
	return dfuse_cmd(d, c, 5, st);
}

/* Write len bytes at a (set address, block 2, two polls): final status. */
static inline int dfuse_write(emu_device *d, uint32_t a, const void *buf, uint16_t len)
{
	uint8_t st[6];
	int r = dfuse_setaddr(d, a);
	if (r)
		return r;
	assert_int_equal(dnload(d, 2, buf, len), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	return st[0];
}

/* Read len bytes at a: URB result of the upload. */
static inline int dfuse_read(emu_device *d, uint32_t a, uint8_t *buf, uint16_t len, uint32_t *actual)
{
	if (dfuse_setaddr(d, a))
		return -1;
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	return upload(d, 2, buf, len, actual);
}

/* dfu11 family: runtime -> DETACH -> bus reset -> dfuIDLE. */
static inline void to_dfu_mode(emu_device *d)
{
	assert_true(d->runtime);
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 1000, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	if (d->runtime) {
		assert_int_equal(d->state, DFK_STATE_APP_DETACH);
		emu_device_bus_reset(d);
	}
	assert_false(d->runtime);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_int_equal(d->state, DFK_STATE_IDLE);
}

/* STM32F405 comes up in dfuERROR: clear it. */
static inline void clear_error(emu_device *d)
{
	if (d->state == DFK_STATE_ERROR)
		assert_int_equal(simple(d, DFK_REQ_CLRSTATUS), EMU_URB_OK);
	assert_int_equal(d->state, DFK_STATE_IDLE);
}

#endif
