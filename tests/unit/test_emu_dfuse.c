/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DfuSe as the STM32 ROMs do it: commands, address formula, execution on
 * GETSTATUS, flash rules, leave, read protection, option bytes. */
#include "test_emu_util.h"

static const uint8_t app_vector[8] = {0x00, 0x10, 0x00, 0x20, 0x01, 0x02, 0x00, 0x08}; /* SP 0x20001000 */

static void test_f405_power_up_error(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	uint8_t st[6];
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[0], DFK_STATUS_ERR_FIRMWARE);
	assert_int_equal(st[4], DFK_STATE_ERROR);
	clear_error(d);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[0], 0);
	assert_int_equal(st[4], DFK_STATE_IDLE);
	emu_device_free(d);
}

static void test_get_commands(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32l476", EMU_TIMING_FAST);
	uint8_t b[16];
	uint32_t n;
	assert_int_equal(upload(d, 0, b, 4, &n), EMU_URB_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(b, ((uint8_t[]){0x00, 0x21, 0x41, 0x92}), 4);
	assert_int_equal(d->state, DFK_STATE_UPLOAD_IDLE);
	assert_int_equal(upload(d, 0, b, 16, &n), EMU_URB_OK);
	assert_int_equal(n, 4);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	assert_int_equal(upload(d, 1, b, 16, &n), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	emu_device_free(d);
	d = mkdev("stm32f103-flash-loader", EMU_TIMING_FAST);
	assert_int_equal(upload(d, 0, b, 16, &n), EMU_URB_OK);
	assert_int_equal(n, 3);
	emu_device_free(d);
}

static void test_command_flow_and_address(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	clear_error(d);
	uint8_t data[2048], st[6], back[2048];
	for (int i = 0; i < 2048; i++)
		data[i] = (uint8_t)(i ^ 0x5A);
	assert_int_equal(dfuse_setaddr(d, 0x08000000), 0);
	assert_int_equal(d->addr_ptr, 0x08000000);
	/* block 3 = 0x08000000 + 1 * 2048; executed only on the GETSTATUS */
	assert_int_equal(dnload(d, 3, data, 2048), EMU_URB_OK);
	assert_int_equal(d->state, DFK_STATE_DNLOAD_SYNC);
	assert_int_equal(d->mem[0].data[2048], 0xFF);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(poll_of(st), 0); /* fast timing */
	assert_memory_equal(d->mem[0].data + 2048, data, 2048);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[0], 0);
	assert_int_equal(st[4], DFK_STATE_DNLOAD_IDLE);
	/* UPLOAD needs dfuIDLE: stall (no state change), ABORT, then read */
	uint32_t n;
	assert_int_equal(upload(d, 3, back, 2048, &n), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_DNLOAD_IDLE);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	assert_int_equal(upload(d, 3, back, 2048, &n), EMU_URB_OK);
	assert_int_equal(n, 2048);
	assert_memory_equal(back, data, 2048);
	assert_int_equal(d->state, DFK_STATE_UPLOAD_IDLE);
	assert_int_equal(upload(d, 2, back, 16, &n), EMU_URB_OK);
	assert_int_equal(back[0], 0xFF);
	/* DNLOAD in dfuUPLOAD-IDLE: stall, state kept (ST ROM) */
	assert_int_equal(dnload(d, 2, data, 4), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_UPLOAD_IDLE);
	/* set address outside every segment: errTARGET */
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	assert_int_equal(dfuse_setaddr(d, 0x07000000), DFK_STATUS_ERR_TARGET);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	emu_device_free(d);
}

static void test_erase(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	clear_error(d);
	memset(d->mem[0].data, 0, d->mem[0].size);
	assert_int_equal(dfuse_erase(d, 0x08004010), 0); /* sector 1, 16 KiB */
	assert_int_equal(d->mem[0].data[0x3FFF], 0x00);
	assert_int_equal(d->mem[0].data[0x4000], 0xFF);
	assert_int_equal(d->mem[0].data[0x7FFF], 0xFF);
	assert_int_equal(d->mem[0].data[0x8000], 0x00);
	assert_int_equal(dfuse_erase(d, 0x08020000), 0); /* first 128 KiB sector */
	assert_int_equal(d->mem[0].data[0x3FFFF], 0xFF);
	assert_int_equal(d->mem[0].data[0x40000], 0x00);
	assert_int_equal(d->stats.erased_pages, 2);
	assert_int_equal(dfuse_erase(d, 0x08100000), DFK_STATUS_ERR_TARGET);
	clear_error(d);
	/* mass erase: every flash sector, option bytes untouched */
	uint8_t st[6], cmd = 0x41;
	assert_int_equal(dfuse_cmd(d, &cmd, 1, st), 0);
	for (uint64_t i = 0; i < d->mem[0].size; i += 4096)
		assert_int_equal(d->mem[0].data[i], 0xFF);
	assert_int_equal(d->stats.erased_pages, 14);
	assert_int_equal(d->mem[1].data[1], 0xAA);
	/* erase in a non-erasable memory (OTP): errTARGET */
	assert_int_equal(ctl(d, 0x01, 11, 2, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(dfuse_erase(d, 0x1FFF7800), DFK_STATUS_ERR_TARGET);
	emu_device_free(d);
}

static void test_flash_rules(void **state)
{
	(void)state;
	uint8_t a[4] = {0xF0, 0xF0, 0xF0, 0xF0}, b[4] = {0x0F, 0x0F, 0xF0, 0x00};
	/* F4: programming over data only clears bits, no error */
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	clear_error(d);
	assert_int_equal(dfuse_write(d, 0x08000100, a, 4), 0);
	assert_int_equal(dfuse_write(d, 0x08000100, b, 4), 0);
	assert_memory_equal(d->mem[0].data + 0x100, ((uint8_t[]){0x00, 0x00, 0xF0, 0x00}), 4);
	/* outside the flash */
	assert_int_equal(dfuse_write(d, 0x080FFFFE, a, 4), DFK_STATUS_ERR_TARGET);
	clear_error(d);
	/* read outside: stall + errTARGET */
	uint8_t buf[16];
	uint32_t n;
	assert_int_equal(dfuse_read(d, 0x080FFFF8, buf, 16, &n), EMU_URB_OK);
	assert_int_equal(n, 8); /* up to the end of the flash: short frame */
	assert_int_equal(d->state, DFK_STATE_IDLE);
	d->addr_ptr = 0x08100000;
	assert_int_equal(upload(d, 2, buf, 16, &n), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(d->status, DFK_STATUS_ERR_TARGET);
	emu_device_free(d);

	/* L4: programming unerased flash is errWRITE, nothing written */
	d = mkdev("stm32l476", EMU_TIMING_FAST);
	assert_int_equal(dfuse_write(d, 0x08000100, a, 4), 0);
	assert_int_equal(dfuse_write(d, 0x08000100, b, 4), DFK_STATUS_ERR_WRITE);
	assert_memory_equal(d->mem[0].data + 0x100, a, 4);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	emu_device_free(d);

	/* F103 loader: its own 12 KiB are read-only */
	d = mkdev("stm32f103-flash-loader", EMU_TIMING_FAST);
	memset(d->mem[0].data, 0x11, 12 * 1024);
	uint8_t a8[8] = {0};
	assert_int_equal(dfuse_write(d, 0x08002FFC, a8, 8), DFK_STATUS_ERR_TARGET);
	clear_error(d);
	assert_int_equal(dfuse_erase(d, 0x08000400), DFK_STATUS_ERR_TARGET);
	clear_error(d);
	assert_int_equal(dfuse_write(d, 0x08003000, a, 4), 0);
	assert_int_equal(dfuse_read(d, 0x08000000, buf, 16, &n), EMU_URB_OK);
	assert_int_equal(n, 16);
	assert_int_equal(buf[0], 0x11);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	uint8_t st[6], cmd = 0x41;
	assert_int_equal(dfuse_cmd(d, &cmd, 1, st), 0);
	assert_int_equal(d->mem[0].data[0], 0x11);
	assert_int_equal(d->mem[0].data[12 * 1024], 0xFF);
	assert_int_equal(d->stats.erased_pages, 116);
	/* no Read Unprotect in this loader */
	cmd = 0x92;
	assert_int_equal(dnload(d, 0, &cmd, 1), EMU_URB_STALL);
	assert_int_equal(d->status, DFK_STATUS_ERR_STALLEDPKT);
	emu_device_free(d);
}

static void test_rom_deviations(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32h743", EMU_TIMING_FAST);
	/* CLRSTATUS outside dfuERROR: errUNKNOWN, no stall; the second one clears */
	assert_int_equal(simple(d, DFK_REQ_CLRSTATUS), EMU_URB_OK);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(d->status, DFK_STATUS_ERR_UNKNOWN);
	/* ABORT in dfuERROR is ignored */
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(simple(d, DFK_REQ_CLRSTATUS), EMU_URB_OK);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	/* unknown command, block 1: stall, dfuERROR */
	uint8_t c = 0x55;
	assert_int_equal(dnload(d, 0, &c, 1), EMU_URB_STALL);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	clear_error(d);
	assert_int_equal(dnload(d, 1, &c, 1), EMU_URB_STALL);
	clear_error(d);
	/* ABORT in dfuDNLOAD-SYNC drops the command */
	uint8_t sa[5] = {0x21, 0x00, 0x00, 0x02, 0x08};
	assert_int_equal(dnload(d, 0, sa, 5), EMU_URB_OK);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	assert_int_equal(d->addr_ptr, 0x08000000);
	/* DETACH in DFU mode: the ROM re-attaches */
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 0, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	emu_device_free(d);
}

static void test_leave(void **state)
{
	(void)state;
	uint8_t st[6];
	/* blank flash: the ROM resets into itself */
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	clear_error(d);
	assert_int_equal(dfuse_setaddr(d, 0x08000000), 0);
	assert_int_equal(dnload(d, 2, NULL, 0), EMU_URB_OK);
	assert_int_equal(d->state, DFK_STATE_MANIFEST_SYNC);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_MANIFEST);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_int_equal(d->state, DFK_STATE_ERROR);
	assert_int_equal(d->status, DFK_STATUS_ERR_FIRMWARE);
	/* a valid application: leaves the bus for good */
	clear_error(d);
	assert_int_equal(dfuse_write(d, 0x08000000, app_vector, 8), 0);
	assert_int_equal(dfuse_setaddr(d, 0x08000000), 0);
	assert_int_equal(dnload(d, 2, NULL, 0), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_MANIFEST);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_DISCONNECT);
	emu_usb_identity id;
	emu_device_identity(d, &id);
	assert_false(id.present);
	assert_int_equal(getstatus(d, st), EMU_URB_NODEV);
	emu_device_free(d);

	/* F103 loader: leave from dfuIDLE into an application with DFU runtime */
	d = mkdev("stm32f103-flash-loader", EMU_TIMING_FAST);
	assert_int_equal(dfuse_write(d, 0x08003000, app_vector, 8), 0);
	assert_int_equal(dfuse_setaddr(d, 0x08003000), 0);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	assert_int_equal(dnload(d, 0, NULL, 0), EMU_URB_OK); /* legal in dfuIDLE for DfuSe */
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	emu_device_identity(d, &id);
	assert_true(id.present);
	assert_int_equal(id.idProduct, 0x5740);
	assert_int_equal(id.intf_protocol[0], 1);
	assert_int_equal(d->state, DFK_STATE_APP_IDLE);
	/* bitWillDetach: DETACH brings the loader back */
	assert_int_equal(ctl(d, 0x21, DFK_REQ_DETACH, 100, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	emu_device_identity(d, &id);
	assert_int_equal(id.idProduct, 0xdf11);
	assert_int_equal(d->state, DFK_STATE_IDLE);
	emu_device_free(d);
}

static void test_read_protection(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405-protected", EMU_TIMING_FAST);
	clear_error(d);
	assert_true(emu_dfuse_protected(d));
	memset(d->mem[0].data, 0x33, d->mem[0].size);
	uint8_t buf[16] = {0}, st[6];
	uint32_t n;
	assert_int_equal(dfuse_read(d, 0x08000000, buf, 16, &n), EMU_URB_STALL);
	assert_int_equal(d->status, DFK_STATUS_ERR_VENDOR);
	clear_error(d);
	assert_int_equal(dfuse_write(d, 0x08000000, buf, 16), DFK_STATUS_ERR_VENDOR);
	clear_error(d);
	assert_int_equal(dfuse_erase(d, 0x08000000), DFK_STATUS_ERR_VENDOR);
	clear_error(d);
	uint8_t cmd = 0x41;
	assert_int_equal(dfuse_cmd(d, &cmd, 1, st), DFK_STATUS_ERR_VENDOR);
	clear_error(d);
	assert_int_equal(d->mem[0].data[5], 0x33);
	/* Read Unprotect: busy status, then the chip erases and resets */
	cmd = 0x92;
	assert_int_equal(dnload(d, 0, &cmd, 1), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_false(emu_dfuse_protected(d));
	assert_int_equal(d->mem[0].data[5], 0xFF);
	clear_error(d);
	assert_int_equal(dfuse_read(d, 0x08000000, buf, 16, &n), EMU_URB_OK);
	assert_int_equal(n, 16);
	emu_device_free(d);
}

static void test_option_bytes(void **state)
{
	(void)state;
	emu_device *d = mkdev("stm32f405", EMU_TIMING_FAST);
	clear_error(d);
	assert_int_equal(ctl(d, 0x01, 11, 1, 0, NULL, 0, NULL, 0), EMU_URB_OK);
	uint8_t ob[16], st[6];
	uint32_t n;
	assert_int_equal(dfuse_read(d, 0x1FFFC000, ob, 16, &n), EMU_URB_OK);
	assert_int_equal(n, 16);
	assert_int_equal(ob[1], 0xAA);
	assert_int_equal(simple(d, DFK_REQ_ABORT), EMU_URB_OK);
	/* not from the start of the block: errTARGET */
	assert_int_equal(dfuse_write(d, 0x1FFFC001, ob, 4), DFK_STATUS_ERR_TARGET);
	clear_error(d);
	/* set RDP level 1: busy, then the chip resets with protection on */
	ob[1] = 0xBB;
	assert_int_equal(dfuse_setaddr(d, 0x1FFFC000), 0);
	assert_int_equal(dnload(d, 2, ob, 16), EMU_URB_OK);
	assert_int_equal(getstatus(d, st), EMU_URB_OK);
	assert_int_equal(st[4], DFK_STATE_DNBUSY);
	assert_int_equal(emu_device_take_event(d), EMU_EVENT_REENUMERATE);
	assert_true(emu_dfuse_protected(d));
	assert_int_equal(d->alt, 0);
	emu_device_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_f405_power_up_error),
	    cmocka_unit_test(test_get_commands),
	    cmocka_unit_test(test_command_flow_and_address),
	    cmocka_unit_test(test_erase),
	    cmocka_unit_test(test_flash_rules),
	    cmocka_unit_test(test_rom_deviations),
	    cmocka_unit_test(test_leave),
	    cmocka_unit_test(test_read_protection),
	    cmocka_unit_test(test_option_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
