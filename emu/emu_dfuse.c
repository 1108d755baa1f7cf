/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* ST DfuSe 1.1a as the STM32 system-memory bootloader does it
 * (protocols.md B.2-B.4): commands in DNLOAD block 0, data at
 * (wBlockNum - 2) * wTransferSize + address pointer, everything executed on
 * the GETSTATUS that follows, read protection, option bytes, leave. */
#include <string.h>

#include "emu_internal.h"

enum { CMD_GET = 0x00, CMD_SETADDR = 0x21, CMD_ERASE = 0x41, CMD_UNPROTECT = 0x92 };

bool emu_dfuse_protected(const emu_device *dev)
{
	const emu_profile *p = dev->prof;
	if (p->rdp_alt < 0 || (size_t)p->rdp_alt >= dev->nmem)
		return false;
	const emu_mem *m = &dev->mem[p->rdp_alt];
	return p->rdp_off < m->size && m->data[p->rdp_off] != 0xAA;
}

static uint64_t block_addr(const emu_device *dev, uint16_t block)
{
	return (uint64_t)(block - 2) * dev->xfer_size + dev->addr_ptr; /* 64-bit: may lie past 4 GiB */
}

int emu_dfuse_dnload(emu_device *dev, uint16_t block, const uint8_t *data, uint32_t len)
{
	if (len == 0) { /* leave, legal in dfuIDLE too (B.4) */
		dev->state = DFK_STATE_MANIFEST_SYNC;
		return EMU_URB_OK;
	}
	if (len > dev->xfer_size) {
		emu_dfu_error(dev, DFK_STATUS_ERR_STALLEDPKT);
		return EMU_URB_STALL;
	}
	emu_fault_ctx ctx = {0};
	if (block == 0) {
		uint8_t cmd = data[0];
		bool ok = (cmd == CMD_SETADDR && len == 5) || (cmd == CMD_ERASE && (len == 1 || len == 5)) ||
			  (cmd == CMD_UNPROTECT && len == 1 && dev->prof->has_unprotect) ||
			  (cmd == CMD_GET && len == 1);
		if (!ok) {
			emu_dfu_error(dev, DFK_STATUS_ERR_STALLEDPKT);
			return EMU_URB_STALL;
		}
		if (cmd == CMD_ERASE && len == 5) {
			ctx.has_addr = true;
			ctx.addr = emu_le32(data + 1);
			ctx.len = 1;
		}
	} else if (block == 1) {
		emu_dfu_error(dev, DFK_STATUS_ERR_STALLEDPKT);
		return EMU_URB_STALL;
	} else {
		ctx.block_dir = 1;
		ctx.block = dev->dn_blocks++;
		ctx.has_addr = true;
		ctx.addr = block_addr(dev, block);
		ctx.len = len;
	}
	memcpy(dev->op_buf, data, len);
	dev->op_len = len;
	dev->op_block = block;
	dev->op_pending = true;
	dev->op_done = false;
	dev->op_after = EMU_AFTER_NONE;
	dev->state = DFK_STATE_DNLOAD_SYNC;
	dev->stats.bytes_down += len;
	if (ctx.block_dir || ctx.has_addr) {
		int r = emu_faults_fire(dev, &ctx);
		if (r != -1)
			return r;
	}
	return EMU_URB_OK;
}

bool emu_dfuse_pending_erase(const emu_device *dev)
{
	return dev->op_block == 0 && dev->op_len >= 1 && dev->op_buf[0] == CMD_ERASE;
}

static uint32_t scaled(const emu_device *dev, uint32_t ms)
{
	return (uint32_t)((uint64_t)ms * dev->prof->t.report_pct / 100);
}

static uint32_t mass_erase_ms(const emu_device *dev, uint64_t bytes)
{
	if (dev->prof->t.mass_erase_ms)
		return dev->prof->t.mass_erase_ms;
	return emu_flash_erase_ms(dev, bytes);
}

static uint8_t write_block(emu_device *dev, uint32_t *real_ms)
{
	emu_mem *m = &dev->mem[dev->alt];
	uint64_t addr = block_addr(dev, dev->op_block);
	*real_ms = dev->prof->t.cmd_ms;
	if (emu_dfuse_protected(dev))
		return DFK_STATUS_ERR_VENDOR;
	if (!emu_flash_range_ok(m, addr, dev->op_len, EMU_W))
		return DFK_STATUS_ERR_TARGET;
	if (m->def->kind == EMU_MEM_OPTION) {
		/* Option bytes are written from the start of their block; the
		 * chip reloads them with a system reset. */
		const emu_seg *s = emu_flash_seg(m, addr);
		if (!s || s->start != addr)
			return DFK_STATUS_ERR_TARGET;
		uint8_t st = emu_flash_program(dev, m, addr, dev->op_buf, dev->op_len);
		*real_ms += emu_flash_erase_ms(dev, 0) + emu_flash_prog_ms(dev, dev->op_len);
		if (st == DFK_STATUS_OK)
			dev->op_after = EMU_AFTER_RESET;
		return st;
	}
	*real_ms += emu_flash_prog_ms(dev, dev->op_len);
	return emu_flash_program(dev, m, addr, dev->op_buf, dev->op_len);
}

uint8_t emu_dfuse_execute(emu_device *dev, uint32_t *real_ms, uint32_t *reported_ms)
{
	const emu_timing_def *t = &dev->prof->t;
	emu_mem *m = &dev->mem[dev->alt];
	uint8_t st = DFK_STATUS_OK;
	*real_ms = t->cmd_ms;
	*reported_ms = UINT32_MAX;
	if (dev->op_block >= 2) {
		st = write_block(dev, real_ms);
	} else if (dev->op_buf[0] == CMD_SETADDR) {
		uint32_t a = emu_le32(dev->op_buf + 1);
		if (emu_flash_seg(m, a))
			dev->addr_ptr = a; /* allowed under read protection too */
		else
			st = DFK_STATUS_ERR_TARGET;
	} else if (dev->op_buf[0] == CMD_ERASE && dev->op_len == 5) {
		uint32_t a = emu_le32(dev->op_buf + 1);
		if (emu_dfuse_protected(dev)) {
			st = DFK_STATUS_ERR_VENDOR;
		} else {
			uint32_t page = emu_flash_erase_page(dev, m, a);
			if (page == 0)
				st = DFK_STATUS_ERR_TARGET;
			else
				*real_ms = emu_flash_erase_ms(dev, page);
			/* STM32H7 rev V: past the first MiB the ROM stays busy. */
			if (page && emu_quirk(dev, EMU_Q_BUSY_UNTIL_CLRSTATUS) && m->nsegs &&
			    (uint64_t)a >= (uint64_t)m->segs[0].start + (1u << 20))
				dev->busy_tail = true;
		}
	} else if (dev->op_buf[0] == CMD_ERASE) {
		if (emu_dfuse_protected(dev)) {
			st = DFK_STATUS_ERR_VENDOR;
		} else {
			*real_ms = mass_erase_ms(dev, emu_flash_mass_erase(dev));
			if (t->mass_erase_reported_ms)
				*reported_ms = t->mass_erase_reported_ms;
		}
	} else if (dev->op_buf[0] == CMD_UNPROTECT) {
		/* RDP level 1 -> 0: the chip erases all flash, then resets. */
		*real_ms = mass_erase_ms(dev, emu_flash_mass_erase(dev));
		const emu_profile *p = dev->prof;
		if (p->rdp_alt >= 0 && p->rdp_off < dev->mem[p->rdp_alt].size)
			dev->mem[p->rdp_alt].data[p->rdp_off] = 0xAA;
		dev->op_after = EMU_AFTER_RESET;
	}
	if (*reported_ms == UINT32_MAX)
		*reported_ms = scaled(dev, *real_ms);
	if (dev->busy_tail)
		dev->busy_tail_poll = *reported_ms ? *reported_ms : 1;
	return st;
}

/* Bytes readable from addr on, up to max. */
static uint32_t readable(const emu_mem *m, uint64_t addr, uint32_t max)
{
	uint32_t n = 0;
	while (n < max) {
		const emu_seg *s = emu_flash_seg(m, addr + n);
		if (!s || !(s->rights & EMU_R))
			break;
		uint64_t left = (uint64_t)s->start + (uint64_t)s->count * s->page - (addr + n);
		n += (uint32_t)(left < max - n ? left : max - n);
	}
	return n;
}

int emu_dfuse_upload(emu_device *dev, uint16_t block, uint8_t *data, uint16_t wlength, uint32_t *actual)
{
	if (wlength > dev->xfer_size) {
		emu_dfu_error(dev, DFK_STATUS_ERR_STALLEDPKT);
		return EMU_URB_STALL;
	}
	if (block == 0) { /* Get Commands: the ROM answers 4 bytes, ST's library 3 */
		static const uint8_t cmds[4] = {CMD_GET, CMD_SETADDR, CMD_ERASE, CMD_UNPROTECT};
		uint32_t n = dev->prof->has_unprotect ? 4 : 3;
		if (n > wlength)
			n = wlength;
		memcpy(data, cmds, n);
		*actual = n;
		dev->stats.bytes_up += n;
		dev->state = n < wlength ? DFK_STATE_IDLE : DFK_STATE_UPLOAD_IDLE;
		return EMU_URB_OK;
	}
	if (block == 1) {
		emu_dfu_error(dev, DFK_STATUS_ERR_STALLEDPKT);
		return EMU_URB_STALL;
	}
	uint64_t addr = block_addr(dev, block);
	emu_fault_ctx ctx = {.block_dir = 2, .block = dev->up_blocks++, .has_addr = true, .addr = addr, .len = wlength};
	int r = emu_dfu_upload_faults(dev, &ctx);
	if (r != -1)
		return r;
	if (emu_dfuse_protected(dev)) {
		emu_dfu_error(dev, DFK_STATUS_ERR_VENDOR);
		return EMU_URB_STALL;
	}
	const emu_mem *m = &dev->mem[dev->alt];
	uint32_t n = readable(m, addr, wlength);
	if (n == 0 && wlength > 0) {
		emu_dfu_error(dev, DFK_STATUS_ERR_TARGET);
		return EMU_URB_STALL;
	}
	for (uint32_t i = 0; i < n; i++)
		data[i] = *emu_flash_ptr(m, addr + i);
	*actual = n;
	dev->stats.bytes_up += n;
	dev->state = n < wlength ? DFK_STATE_IDLE : DFK_STATE_UPLOAD_IDLE;
	return EMU_URB_OK;
}

void emu_dfuse_leave(emu_device *dev)
{
	/* The ROM jumps to the address pointer: a valid vector table starts
	 * with an initial stack pointer in SRAM. Otherwise it resets into
	 * itself. */
	bool valid = !emu_quirk(dev, EMU_Q_LEAVE_CHECKS_VECTOR);
	for (size_t a = 0; a < dev->nmem && !valid; a++) {
		const emu_mem *m = &dev->mem[a];
		if (m->def->kind != EMU_MEM_FLASH || !emu_flash_range_ok(m, dev->addr_ptr, 4, 0))
			continue;
		uint8_t w[4];
		for (int i = 0; i < 4; i++)
			w[i] = *emu_flash_ptr(m, (uint64_t)dev->addr_ptr + (uint64_t)i);
		valid = (emu_le32(w) & 0x2FFE0000u) == 0x20000000u;
	}
	if (!valid)
		emu_reset_into(dev, false, EMU_EVENT_REENUMERATE);
	else if (dev->prof->has_runtime)
		emu_reset_into(dev, true, EMU_EVENT_REENUMERATE);
	else {
		dev->present = false;
		dev->event = EMU_EVENT_DISCONNECT;
	}
}
