/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The DFU class requests: the DFU 1.1 state machine (Appendix A.2 of the
 * spec, protocols.md A.6) in runtime and DFU mode, plain DFU download and
 * upload streams, manifestation, and the timing model. The ST ROM
 * deviations (protocols.md B.4) are quirks of the description (EMU_Q_*),
 * and the DfuSe commands themselves live in emu_dfuse.c. */
#include <string.h>

#include "emu_internal.h"

static void put_status(uint8_t *data, uint16_t wlength, uint32_t *actual, uint8_t status, uint32_t poll, uint8_t state)
{
	if (poll > 0xFFFFFF)
		poll = 0xFFFFFF;
	const uint8_t b[6] = {status, (uint8_t)poll, (uint8_t)(poll >> 8), (uint8_t)(poll >> 16), state, 0};
	size_t n = wlength < 6 ? wlength : 6;
	memcpy(data, b, n);
	*actual = (uint32_t)n;
}

static int put_state(uint8_t *data, uint16_t wlength, uint32_t *actual, uint8_t state)
{
	if (wlength) {
		data[0] = state;
		*actual = 1;
	}
	return EMU_URB_OK;
}

void emu_dfu_error(emu_device *dev, uint8_t status)
{
	dev->state = DFK_STATE_ERROR;
	dev->status = status;
	dev->op_pending = dev->op_done = false;
	dev->op_after = EMU_AFTER_NONE;
}

/* A request the state table does not allow: STALL, and in DFU mode go to
 * dfuERROR/errSTALLEDPKT (an existing error keeps its status). */
static int stall_error(emu_device *dev)
{
	if (dev->state != DFK_STATE_ERROR)
		emu_dfu_error(dev, DFK_STATUS_ERR_STALLEDPKT);
	return EMU_URB_STALL;
}

/* The same for a request in the wrong state, unless the device only stalls
 * (quirk stall-keeps-state, ST ROMs). */
static int refuse(emu_device *dev)
{
	return emu_quirk(dev, EMU_Q_STALL_KEEPS_STATE) ? EMU_URB_STALL : stall_error(dev);
}

uint32_t emu_dfu_busy(emu_device *dev, uint64_t now_ms, uint32_t real_ms, uint32_t reported_ms)
{
	dev->early_polls = 0;
	dev->busy_ops++;
	if (dev->timing == EMU_TIMING_FAST) {
		dev->deadline = now_ms;
		return 0;
	}
	dev->deadline = now_ms + real_ms;
	dev->stats.busy_ms += real_ms;
	return reported_ms;
}

static uint32_t scaled(const emu_device *dev, uint32_t ms)
{
	return (uint32_t)((uint64_t)ms * dev->prof->t.report_pct / 100);
}

/* The busy period is over: dfuDNBUSY -> dfuDNLOAD-SYNC, dfuMANIFEST ->
 * dfuMANIFEST-SYNC (tolerant) or dfuMANIFEST-WAIT-RESET. */
static void busy_over(emu_device *dev)
{
	if (dev->state == DFK_STATE_DNBUSY) {
		dev->state = DFK_STATE_DNLOAD_SYNC;
	} else if (dev->state == DFK_STATE_MANIFEST) {
		dev->manifested = true;
		dev->state = (emu_attrs(dev) & DFK_ATTR_MANIFEST_TOLERANT) ? DFK_STATE_MANIFEST_SYNC
									   : DFK_STATE_MANIFEST_WAIT_RESET;
	}
}

static int runtime_request(emu_device *dev, uint8_t req, uint16_t wvalue, uint8_t *data, uint16_t wlength,
			   uint32_t *actual, uint64_t now_ms)
{
	if (dev->state == DFK_STATE_APP_DETACH && now_ms >= dev->detach_deadline)
		dev->state = DFK_STATE_APP_IDLE; /* no reset came in time */
	switch (req) {
	case DFK_REQ_GETSTATUS: put_status(data, wlength, actual, DFK_STATUS_OK, 0, dev->state); return EMU_URB_OK;
	case DFK_REQ_GETSTATE: return put_state(data, wlength, actual, dev->state);
	case DFK_REQ_DETACH:
		if (dev->state == DFK_STATE_APP_IDLE) {
			if (emu_attrs(dev) & DFK_ATTR_WILL_DETACH) {
				emu_reset_into(dev, false, EMU_EVENT_REENUMERATE);
			} else {
				/* wTimeout capped by wDetachTimeOut; 0 taken as "the
				 * device's own" rather than "expired at once". */
				uint16_t max = emu_mode(dev)->func.detach_timeout;
				uint16_t t = wvalue && wvalue < max ? wvalue : max;
				dev->state = DFK_STATE_APP_DETACH;
				dev->detach_deadline = now_ms + t;
			}
			return EMU_URB_OK;
		}
		dev->state = DFK_STATE_APP_IDLE;
		return EMU_URB_STALL;
	default: dev->state = DFK_STATE_APP_IDLE; return EMU_URB_STALL;
	}
}

/* Plain DFU: the received block goes to the next offset of the stream;
 * flash pages are erased the first time the download touches them. */
static uint8_t plain_write(emu_device *dev, uint32_t *real_ms)
{
	emu_mem *m = &dev->mem[dev->alt];
	uint64_t off = dev->dn_off, len = dev->op_len;
	*real_ms = 0;
	if (off + len > m->size)
		return DFK_STATUS_ERR_ADDRESS;
	if (m->def->kind == EMU_MEM_FLASH && len) {
		uint32_t page = m->segs[0].page;
		uint64_t first = off / page, last = (off + len - 1) / page;
		if (off == 0 && emu_quirk(dev, EMU_Q_ERASE_IN_TRANSFER))
			last = m->npages - 1; /* Zephyr, ESP32-S2: the whole slot at the first block */
		for (uint64_t p = first; p <= last; p++) {
			if (!m->touched[p]) {
				emu_flash_erase_page(dev, m, p * page);
				m->touched[p] = 1;
				*real_ms += emu_flash_erase_ms(dev, page);
			}
		}
	}
	*real_ms += emu_flash_prog_ms(dev, len);
	uint8_t st = emu_flash_program(dev, m, off, dev->op_buf, dev->op_len);
	if (st == DFK_STATUS_OK)
		dev->dn_off += len;
	return st;
}

static int plain_dnload(emu_device *dev, uint16_t block, const uint8_t *data, uint16_t wlength, uint32_t *delay_ms)
{
	if (!(emu_attrs(dev) & DFK_ATTR_CAN_DNLOAD))
		return stall_error(dev);
	if (dev->state != DFK_STATE_IDLE && dev->state != DFK_STATE_DNLOAD_IDLE)
		return refuse(dev);
	emu_mem *m = &dev->mem[dev->alt];
	if (wlength == 0) {
		if (dev->state == DFK_STATE_IDLE)
			return stall_error(dev);
		m->image_len = dev->dn_off;
		dev->manifested = false;
		dev->state = DFK_STATE_MANIFEST_SYNC;
		return EMU_URB_OK;
	}
	if (wlength > dev->xfer_size)
		return stall_error(dev);
	if (dev->state == DFK_STATE_IDLE) {
		dev->dn_off = 0;
		if (m->touched)
			memset(m->touched, 0, m->npages);
	}
	memcpy(dev->op_buf, data, wlength);
	dev->op_len = wlength;
	dev->op_block = block;
	dev->op_pending = true;
	dev->op_done = false;
	dev->state = DFK_STATE_DNLOAD_SYNC;
	dev->stats.bytes_down += wlength;
	emu_fault_ctx ctx = {
	    .block_dir = 1, .block = dev->dn_blocks++, .has_addr = true, .addr = dev->dn_off, .len = wlength};
	int r = emu_faults_fire(dev, &ctx);
	if (r != -1)
		return r;
	if (emu_quirk(dev, EMU_Q_ERASE_IN_TRANSFER) && dev->forced_status < 0) {
		/* The work happens in the request handler: the reply to this
		 * DNLOAD comes when it is done, its GETSTATUS says so at once. */
		uint32_t real = 0;
		dev->op_result = plain_write(dev, &real);
		dev->op_done = true;
		if (dev->timing == EMU_TIMING_REAL) {
			*delay_ms = real;
			dev->stats.busy_ms += real;
		}
	}
	return EMU_URB_OK;
}

int emu_dfu_upload_faults(emu_device *dev, const emu_fault_ctx *ctx)
{
	int r = emu_faults_fire(dev, ctx);
	if (r != -1)
		return r;
	if (dev->forced_status >= 0) {
		emu_dfu_error(dev, (uint8_t)dev->forced_status);
		dev->forced_status = -1;
		return EMU_URB_STALL;
	}
	return -1;
}

static int plain_upload(emu_device *dev, uint8_t *data, uint16_t wlength, uint32_t *actual)
{
	if (!(emu_attrs(dev) & DFK_ATTR_CAN_UPLOAD))
		return stall_error(dev);
	if (dev->state != DFK_STATE_IDLE && dev->state != DFK_STATE_UPLOAD_IDLE)
		return refuse(dev);
	if (wlength > dev->xfer_size)
		return stall_error(dev);
	if (dev->state == DFK_STATE_IDLE)
		dev->up_off = 0;
	const emu_mem *m = &dev->mem[dev->alt];
	emu_fault_ctx ctx = {
	    .block_dir = 2, .block = dev->up_blocks++, .has_addr = true, .addr = dev->up_off, .len = wlength};
	int r = emu_dfu_upload_faults(dev, &ctx);
	if (r != -1)
		return r;
	uint64_t limit = m->image_len ? m->image_len : m->size;
	uint64_t avail = dev->up_off < limit ? limit - dev->up_off : 0;
	uint32_t n = (uint32_t)(avail < wlength ? avail : wlength);
	memcpy(data, m->data + dev->up_off, n);
	dev->up_off += n;
	*actual = n;
	dev->stats.bytes_up += n;
	dev->state = n < wlength ? DFK_STATE_IDLE : DFK_STATE_UPLOAD_IDLE;
	return EMU_URB_OK;
}

/* Whether the pending DNLOAD erases: a DfuSe erase command, a plain DFU
 * data block (pages are erased as the download first touches them). */
static bool erases(const emu_device *dev)
{
	return dev->prof->dfuse ? emu_dfuse_pending_erase(dev) : dev->op_len > 0;
}

/* GETSTATUS in dfuDNLOAD-SYNC: run the pending block/command (first poll)
 * or report its result (after the busy period). */
static int dnload_sync_status(emu_device *dev, uint8_t *data, uint16_t wlength, uint32_t *actual, uint64_t now_ms)
{
	if (dev->op_pending && !dev->op_done) {
		uint32_t real = 0, rep = 0;
		uint8_t st;
		if (emu_quirk(dev, EMU_Q_ZERO_POLL_WEDGE) && erases(dev)) {
			/* A wedged probe: nothing is erased, busy at 0 ms until a reset. */
			dev->wedged = dev->stuck_busy = true;
			dev->stuck_poll_ms = 0;
			dev->state = DFK_STATE_DNBUSY;
			put_status(data, wlength, actual, DFK_STATUS_OK, 0, DFK_STATE_DNBUSY);
			return EMU_URB_OK;
		}
		if (dev->forced_status >= 0) {
			st = (uint8_t)dev->forced_status; /* status fault: the operation fails, memory untouched */
			dev->forced_status = -1;
			real = dev->prof->t.cmd_ms;
			rep = scaled(dev, real);
		} else if (dev->prof->dfuse) {
			st = emu_dfuse_execute(dev, &real, &rep);
		} else {
			st = plain_write(dev, &real);
			rep = scaled(dev, real);
		}
		dev->op_result = st;
		dev->op_done = true;
		/* DfuSe ROMs say dfuDNBUSY once whatever the operation; a chip
		 * that resets after this status goes out must say it too. */
		if (emu_quirk(dev, EMU_Q_ALWAYS_DNBUSY) || (dev->timing == EMU_TIMING_REAL && real > 0) ||
		    dev->op_after == EMU_AFTER_RESET || dev->busy_tail) {
			uint32_t poll = emu_dfu_busy(dev, now_ms, real, rep);
			dev->state = DFK_STATE_DNBUSY;
			put_status(data, wlength, actual, DFK_STATUS_OK, poll, DFK_STATE_DNBUSY);
			if (dev->op_after == EMU_AFTER_RESET) /* the chip resets once this status went out */
				emu_reset_into(dev, false, EMU_EVENT_REENUMERATE);
			return EMU_URB_OK;
		}
	}
	uint8_t st = dev->op_pending ? dev->op_result : DFK_STATUS_OK;
	dev->op_pending = dev->op_done = false;
	if (st == DFK_STATUS_OK) {
		dev->state = DFK_STATE_DNLOAD_IDLE;
		put_status(data, wlength, actual, DFK_STATUS_OK, 0, dev->state);
	} else {
		emu_dfu_error(dev, st);
		put_status(data, wlength, actual, st, 0, dev->state);
	}
	return EMU_URB_OK;
}

static int getstatus(emu_device *dev, uint8_t *data, uint16_t wlength, uint32_t *actual, uint64_t now_ms)
{
	if (dev->forced_status >= 0 && dev->state != DFK_STATE_DNLOAD_SYNC) {
		emu_dfu_error(dev, (uint8_t)dev->forced_status);
		dev->forced_status = -1;
	}
	switch (dev->state) {
	case DFK_STATE_DNLOAD_SYNC: return dnload_sync_status(dev, data, wlength, actual, now_ms);
	case DFK_STATE_MANIFEST_SYNC:
		if (dev->prof->dfuse) {
			/* Leave: dfuMANIFEST goes out, then the ROM jumps. */
			uint32_t poll = emu_dfu_busy(dev, now_ms, dev->prof->t.manifest_ms, dev->prof->t.manifest_ms);
			put_status(data, wlength, actual, DFK_STATUS_OK, poll, DFK_STATE_MANIFEST);
			emu_dfuse_leave(dev);
			if (emu_quirk(dev, EMU_Q_LEAVE_NO_STATUS)) {
				/* GD32VF103: already running its firmware, this status
				 * never goes out (the session drops the connection). */
				*actual = 0;
				return EMU_URB_TIMEOUT;
			}
			return EMU_URB_OK;
		}
		if (!dev->manifested) {
			uint32_t real = dev->prof->t.manifest_ms;
			uint32_t poll = emu_dfu_busy(dev, now_ms, real, scaled(dev, real));
			dev->state = DFK_STATE_MANIFEST;
			put_status(data, wlength, actual, DFK_STATUS_OK, poll, DFK_STATE_MANIFEST);
			return EMU_URB_OK;
		}
		dev->manifested = false;
		dev->state = DFK_STATE_IDLE;
		put_status(data, wlength, actual, DFK_STATUS_OK, 0, dev->state);
		return EMU_URB_OK;
	default: put_status(data, wlength, actual, dev->status, 0, dev->state); return EMU_URB_OK;
	}
}

/* A request while dfuDNBUSY/dfuMANIFEST is not over yet, answered the way
 * the profile's chip does. Returns -1 when the request should go on. */
static int early(emu_device *dev, uint8_t req, uint8_t *data, uint16_t wlength, uint32_t *actual, uint64_t *now_ms,
		 uint32_t *delay_ms)
{
	uint64_t left = dev->deadline - *now_ms;
	switch (dev->prof->t.early) {
	case EMU_EARLY_NAK:
		*delay_ms = (uint32_t)(left > 0xFFFFFFFFu ? 0xFFFFFFFFu : left);
		*now_ms = dev->deadline;
		busy_over(dev);
		return -1;
	case EMU_EARLY_STALL:
		/* "occasional": the 1st, 3rd, 5th... operation; dfu-util
		 * retries up to 3 stalls, so a host that does likewise copes. */
		if (req == DFK_REQ_GETSTATUS && dev->early_polls++ == 0 && dev->busy_ops % 2 == 1)
			return EMU_URB_STALL;
		/* fall through */
	case EMU_EARLY_BUSY:
		if (req == DFK_REQ_GETSTATUS) {
			uint32_t poll = scaled(dev, (uint32_t)(left > 0xFFFFFF ? 0xFFFFFF : left));
			put_status(data, wlength, actual, DFK_STATUS_OK, poll ? poll : 1, dev->state);
			return EMU_URB_OK;
		}
		if (req == DFK_REQ_GETSTATE)
			return put_state(data, wlength, actual, dev->state);
		return EMU_URB_STALL;
	case EMU_EARLY_SPEC:
	default: return stall_error(dev);
	}
}

/* STM32H7 rev V (quirk busy-until-clrstatus): the erase is over, yet the
 * device reports dfuDNBUSY with the same poll timeout until CLRSTATUS. */
static int busy_tail(emu_device *dev, uint8_t req, uint8_t *data, uint16_t wlength, uint32_t *actual)
{
	switch (req) {
	case DFK_REQ_GETSTATUS:
		put_status(data, wlength, actual, DFK_STATUS_OK, dev->busy_tail_poll, DFK_STATE_DNBUSY);
		return EMU_URB_OK;
	case DFK_REQ_GETSTATE: return put_state(data, wlength, actual, DFK_STATE_DNBUSY);
	case DFK_REQ_CLRSTATUS:
		dev->busy_tail = false;
		dev->op_pending = dev->op_done = false;
		dev->state = DFK_STATE_IDLE;
		dev->status = DFK_STATUS_OK;
		return EMU_URB_OK;
	default: return EMU_URB_STALL;
	}
}

int emu_dfu_request(emu_device *dev, const uint8_t setup[8], uint8_t *data, uint32_t *actual, uint64_t now_ms,
		    uint32_t *delay_ms)
{
	uint8_t bm = setup[0], req = setup[1];
	uint16_t wvalue = emu_le16(setup + 2), wlength = emu_le16(setup + 6);
	bool dfuse = dev->prof->dfuse;
	bool in = bm & 0x80;
	bool want_in = req == DFK_REQ_UPLOAD || req == DFK_REQ_GETSTATUS || req == DFK_REQ_GETSTATE;
	if (req > DFK_REQ_ABORT || in != want_in) {
		if (dev->runtime)
			return EMU_URB_STALL;
		return refuse(dev);
	}
	if (dev->runtime)
		return runtime_request(dev, req, wvalue, data, wlength, actual, now_ms);

	bool data_req = req == DFK_REQ_DNLOAD || req == DFK_REQ_UPLOAD;
	if (dev->stuck_busy && !(data_req && dev->state != DFK_STATE_DNBUSY)) {
		/* busy fault: stuck in dfuDNBUSY from the next status on */
		dev->state = DFK_STATE_DNBUSY;
		if (req == DFK_REQ_GETSTATUS) {
			put_status(data, wlength, actual, DFK_STATUS_OK, dev->stuck_poll_ms, DFK_STATE_DNBUSY);
			return EMU_URB_OK;
		}
		if (req == DFK_REQ_GETSTATE)
			return put_state(data, wlength, actual, dev->state);
		return EMU_URB_STALL;
	}
	if (dev->busy_tail && dev->state == DFK_STATE_DNBUSY && now_ms >= dev->deadline)
		return busy_tail(dev, req, data, wlength, actual);
	if (dev->state == DFK_STATE_DNBUSY || dev->state == DFK_STATE_MANIFEST) {
		if (now_ms >= dev->deadline) {
			busy_over(dev);
		} else {
			int r = early(dev, req, data, wlength, actual, &now_ms, delay_ms);
			if (r != -1)
				return r;
		}
	}
	if (dev->state == DFK_STATE_MANIFEST_WAIT_RESET) {
		/* Only a USB reset gets it out; status requests are answered. */
		if (req == DFK_REQ_GETSTATUS)
			return getstatus(dev, data, wlength, actual, now_ms);
		if (req == DFK_REQ_GETSTATE)
			return put_state(data, wlength, actual, dev->state);
		return EMU_URB_STALL;
	}

	switch (req) {
	case DFK_REQ_DNLOAD:
		if (dfuse) {
			if (!(emu_attrs(dev) & DFK_ATTR_CAN_DNLOAD))
				return stall_error(dev);
			if (dev->state != DFK_STATE_IDLE && dev->state != DFK_STATE_DNLOAD_IDLE)
				return refuse(dev);
			return emu_dfuse_dnload(dev, wvalue, data, wlength);
		}
		return plain_dnload(dev, wvalue, data, wlength, delay_ms);
	case DFK_REQ_UPLOAD:
		if (dfuse) {
			if (!(emu_attrs(dev) & DFK_ATTR_CAN_UPLOAD))
				return stall_error(dev);
			if (dev->state != DFK_STATE_IDLE && dev->state != DFK_STATE_UPLOAD_IDLE)
				return refuse(dev);
			return emu_dfuse_upload(dev, wvalue, data, wlength, actual);
		}
		return plain_upload(dev, data, wlength, actual);
	case DFK_REQ_GETSTATUS: return getstatus(dev, data, wlength, actual, now_ms);
	case DFK_REQ_GETSTATE:
		if (dev->state == DFK_STATE_DNBUSY || dev->state == DFK_STATE_MANIFEST)
			return stall_error(dev);
		return put_state(data, wlength, actual, dev->state);
	case DFK_REQ_CLRSTATUS:
		if (dev->state == DFK_STATE_ERROR) {
			dev->state = DFK_STATE_IDLE;
			dev->status = DFK_STATUS_OK;
			return EMU_URB_OK;
		}
		if (emu_quirk(dev, EMU_Q_CLRSTATUS_ERRUNKNOWN)) { /* ST ROMs: no stall, but dfuERROR/errUNKNOWN */
			emu_dfu_error(dev, DFK_STATUS_ERR_UNKNOWN);
			return EMU_URB_OK;
		}
		return stall_error(dev);
	case DFK_REQ_ABORT:
		switch (dev->state) {
		case DFK_STATE_IDLE:
		case DFK_STATE_DNLOAD_IDLE:
		case DFK_STATE_UPLOAD_IDLE:
			dev->state = DFK_STATE_IDLE;
			dev->op_pending = dev->op_done = false;
			return EMU_URB_OK;
		case DFK_STATE_DNLOAD_SYNC:
		case DFK_STATE_MANIFEST_SYNC:
			if (emu_quirk(dev, EMU_Q_ABORT_ANYWHERE)) {
				dev->state = DFK_STATE_IDLE;
				dev->op_pending = dev->op_done = false;
				return EMU_URB_OK;
			}
			return stall_error(dev);
		default: /* ST ROMs ignore it elsewhere */
			return emu_quirk(dev, EMU_Q_ABORT_ANYWHERE) ? EMU_URB_OK : stall_error(dev);
		}
	case DFK_REQ_DETACH:
		if (emu_quirk(dev, EMU_Q_DETACH_REENUMERATES)) { /* "not meaningful" in the ROM: it re-attaches */
			emu_reset_into(dev, false, EMU_EVENT_REENUMERATE);
			return EMU_URB_OK;
		}
		return stall_error(dev);
	default: return stall_error(dev);
	}
}
