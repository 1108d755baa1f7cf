/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The fake bus and devices of mock_dfu.h. */
#include "mock_dfu.h"

#include "backend.h" /* a transport backend: the private table */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	MOCK_OP_NONE,
	MOCK_OP_SETADDR,
	MOCK_OP_ERASE,
	MOCK_OP_MASS,
	MOCK_OP_UNPROTECT,
	MOCK_OP_WRITE,
	MOCK_OP_BLOCK,
	MOCK_OP_LEAVE,
	MOCK_OP_MANIFEST,
	MOCK_OP_BAD,
};

/* The mock's part of an open handle. */
typedef struct mock_usb {
	mock_dev *d;
} mock_usb;

static mock_dev *handle_dev(dfk_usb *h)
{
	return ((mock_usb *)dfk__usb_priv(h))->d;
}

/* ---- clock ---- */

static uint64_t clk_now(void *user)
{
	return ((mock_bus *)user)->now_ms;
}

static void clk_sleep(void *user, uint32_t ms)
{
	mock_bus *b = user;
	b->now_ms += ms;
	b->slept_ms += ms;
}

dfk_clock mock_bus_clock(mock_bus *b)
{
	dfk_clock c = {clk_now, clk_sleep, b};
	return c;
}

/* ---- devices ---- */

static const char *const f405_alts[] = {
    "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
    "@Option Bytes  /0x1FFFC000/01*016 e",
    "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
    "@Device Feature/0xFFFF0000/01*004 e",
};

void mock_init_f405(mock_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->vid = 0x0483;
	d->pid = 0xdf11;
	d->bcd_device = 0x2200;
	strcpy(d->path, "1-1");
	d->devnum = 5;
	strcpy(d->serial, "3276386E3235");
	d->protocol = 2;
	d->nalts = 4;
	for (int i = 0; i < 4; i++)
		d->alt_names[i] = f405_alts[i];
	d->func = (dfk_func_desc){9, 0x0B, 255, 2048, 0x011A};
	d->dfuse = true;
	d->mem_base = 0x08000000;
	d->mem_size = 1024 * 1024;
	d->mem = malloc(d->mem_size);
	memset(d->mem, 0xFF, d->mem_size);
	d->segs[0] = (mock_seg){0x08000000, 16384, 4};
	d->segs[1] = (mock_seg){0x08010000, 65536, 1};
	d->segs[2] = (mock_seg){0x08020000, 131072, 7};
	d->nsegs = 3;
	d->poll_ms = 10;
	d->busy_ms = 10;
	d->mass_poll_ms = 100; /* what the real ROM reports ... */
	d->mass_busy_ms = 100;
	d->manifest_ms = 1;
	d->state = DFK_STATE_IDLE;
	d->ptr = 0x08000000;
}

void mock_init_plain(mock_dev *d, uint8_t attrs, uint16_t xfer)
{
	memset(d, 0, sizeof(*d));
	d->vid = 0x1d50;
	d->pid = 0x6089;
	d->dfu_pid = 0x6089;
	d->bcd_device = 0x0100;
	strcpy(d->path, "2-3.1");
	d->devnum = 9;
	strcpy(d->serial, "PLAIN01");
	d->protocol = 2;
	d->nalts = 1;
	d->alt_names[0] = "firmware";
	d->func = (dfk_func_desc){9, attrs, 1000, xfer, 0x0110};
	d->poll_ms = 5;
	d->busy_ms = 5;
	d->manifest_ms = 20;
	d->state = DFK_STATE_IDLE;
}

void mock_free(mock_dev *d)
{
	free(d->mem);
	free(d->dl);
	free(d->ul);
}

unsigned mock_transfers(const mock_dev *d)
{
	return d->n_control + d->n_set_alt;
}

unsigned mock_erased(const mock_dev *d, uint32_t addr)
{
	for (size_t i = 0; i < d->nerased; i++)
		if (d->erased_pages[i] == addr)
			return d->erase_count[i];
	return 0;
}

/* ---- the DFU state machine ---- */

static dfk_code stall(mock_dev *d, dfk_error *err)
{
	d->n_stalls++;
	if (d->protocol == 2) {
		d->state = DFK_STATE_ERROR;
		d->status = DFK_STATUS_ERR_STALLEDPKT;
	}
	return dfk_error_set(err, DFK_ERR_STALL, "mock: stalled");
}

static bool page_of(const mock_dev *d, uint32_t addr, uint32_t *start, uint32_t *size)
{
	for (size_t i = 0; i < d->nsegs; i++) {
		const mock_seg *s = &d->segs[i];
		uint64_t end = (uint64_t)s->start + (uint64_t)s->page_size * s->pages;
		if (addr >= s->start && addr < end) {
			*start = s->start + (addr - s->start) / s->page_size * s->page_size;
			*size = s->page_size;
			return true;
		}
	}
	return false;
}

static bool in_mem(const mock_dev *d, uint32_t addr, uint32_t len)
{
	return addr >= d->mem_base && (uint64_t)addr + len <= (uint64_t)d->mem_base + d->mem_size;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Runs the pending operation; returns the resulting bStatus. */
static uint8_t execute(mock_dev *d)
{
	uint32_t addr, start, size;

	switch (d->pending) {
	case MOCK_OP_SETADDR:
		d->n_setaddr++;
		if (d->fail_setaddr_n && d->n_setaddr == d->fail_setaddr_n)
			return d->fail_status;
		d->ptr = le32(d->pbuf + 1);
		return DFK_STATUS_OK;
	case MOCK_OP_ERASE:
		d->n_erase++;
		if (d->fail_erase_n && d->n_erase == d->fail_erase_n)
			return d->fail_status;
		addr = le32(d->pbuf + 1);
		if (!page_of(d, addr, &start, &size) || !in_mem(d, start, size))
			return DFK_STATUS_ERR_TARGET;
		memset(d->mem + (start - d->mem_base), 0xFF, size);
		for (size_t i = 0; i < d->nerased; i++)
			if (d->erased_pages[i] == start) {
				d->erase_count[i]++;
				return DFK_STATUS_OK;
			}
		if (d->nerased < MOCK_MAX_PAGES) {
			d->erased_pages[d->nerased] = start;
			d->erase_count[d->nerased++] = 1;
		}
		return DFK_STATUS_OK;
	case MOCK_OP_MASS:
		d->n_mass++;
		memset(d->mem, 0xFF, d->mem_size);
		return DFK_STATUS_OK;
	case MOCK_OP_WRITE:
		d->n_writes++;
		if (d->fail_write_n && d->n_writes == d->fail_write_n)
			return d->fail_status;
		addr = (uint32_t)((d->pblock - 2u) * (uint32_t)d->func.wTransferSize + d->ptr);
		if (!in_mem(d, addr, d->plen))
			return DFK_STATUS_ERR_TARGET;
		for (uint32_t i = 0; i < d->plen; i++) {
			uint8_t *m = &d->mem[addr - d->mem_base + i];
			if (*m != 0xFF)
				d->n_dirty++;
			*m &= d->pbuf[i]; /* flash: programming only clears bits */
			if (d->corrupt && addr + i == d->corrupt_addr)
				*m ^= 0x10;
		}
		return DFK_STATUS_OK;
	case MOCK_OP_BLOCK:
		d->n_writes++;
		if (d->pblock != (uint16_t)d->next_block)
			d->n_bad_block++;
		d->next_block++;
		if (d->fail_write_n && d->n_writes == d->fail_write_n)
			return d->fail_status;
		if (d->dl_len + d->plen > d->dl_cap) {
			d->dl_cap = (d->dl_len + d->plen) * 2;
			d->dl = realloc(d->dl, d->dl_cap);
		}
		memcpy(d->dl + d->dl_len, d->pbuf, d->plen);
		d->dl_len += d->plen;
		return DFK_STATUS_OK;
	default: return DFK_STATUS_ERR_STALLEDPKT;
	}
}

static dfk_code status_reply(mock_dev *d, uint8_t *data, size_t *actual, uint32_t poll)
{
	data[0] = d->status;
	data[1] = (uint8_t)poll;
	data[2] = (uint8_t)(poll >> 8);
	data[3] = (uint8_t)(poll >> 16);
	data[4] = d->state;
	data[5] = 0;
	*actual = 6;
	return DFK_OK;
}

static dfk_code get_status(mock_dev *d, uint8_t *data, size_t *actual, dfk_error *err)
{
	uint64_t now = d->bus->now_ms;
	int op = d->pending;
	uint8_t result;
	uint32_t busy, poll;

	if (d->protocol != 2) {
		d->state = d->detached ? DFK_STATE_APP_DETACH : DFK_STATE_APP_IDLE;
		return status_reply(d, data, actual, 0);
	}
	switch (d->state) {
	case DFK_STATE_DNLOAD_SYNC:
		if (d->pending == MOCK_OP_UNPROTECT) {
			d->n_unprotect++;
			d->state = DFK_STATE_DNBUSY;
			status_reply(d, data, actual, d->poll_ms);
			d->gone = true; /* erases everything and resets */
			return DFK_OK;
		}
		result = execute(d);
		d->after_status = result;
		d->after_state = result == DFK_STATUS_OK ? DFK_STATE_DNLOAD_IDLE : DFK_STATE_ERROR;
		d->pending = MOCK_OP_NONE;
		if (d->quick) {
			d->state = d->after_state;
			d->status = d->after_status;
			return status_reply(d, data, actual, 0);
		}
		busy = op == MOCK_OP_MASS ? d->mass_busy_ms : d->busy_ms;
		poll = op == MOCK_OP_MASS ? d->mass_poll_ms : d->poll_ms;
		d->busy_until = d->stuck_busy ? UINT64_MAX : now + busy;
		d->state = DFK_STATE_DNBUSY;
		d->status = DFK_STATUS_OK;
		return status_reply(d, data, actual, poll);
	case DFK_STATE_DNBUSY:
	case DFK_STATE_MANIFEST:
		if (d->busy_tail && d->state == DFK_STATE_DNBUSY && now >= d->busy_until)
			return status_reply(d, data, actual, d->poll_ms);
		if (now < d->busy_until) {
			d->n_early++;
			if (d->stall_early)
				return dfk_error_set(err, DFK_ERR_STALL, "mock: stalled early poll");
			return status_reply(d, data, actual, d->poll_ms);
		}
		d->state = d->after_state;
		d->status = d->after_status;
		if (d->state == DFK_STATE_MANIFEST_WAIT_RESET && d->manifest_vanish)
			d->gone = true;
		return status_reply(d, data, actual, 0);
	case DFK_STATE_MANIFEST_SYNC:
		if (d->pending == MOCK_OP_LEAVE) {
			d->n_leave++;
			d->last_leave_ptr = d->ptr;
			if (d->leave_ignored) {
				d->state = DFK_STATE_IDLE;
				d->pending = MOCK_OP_NONE;
				return dfk_error_set(err, DFK_ERR_STALL, "mock: leave ignored");
			}
			if (d->leave_vanish_early) {
				d->gone = true;
				return dfk_error_set(err, DFK_ERR_NODEV, "mock: device gone");
			}
			if (d->leave_error) {
				d->state = DFK_STATE_ERROR;
				d->status = DFK_STATUS_ERR_TARGET;
				return status_reply(d, data, actual, 0);
			}
			d->state = DFK_STATE_MANIFEST;
			status_reply(d, data, actual, 1);
			d->gone = true; /* jumps to the application */
			return DFK_OK;
		}
		d->state = DFK_STATE_MANIFEST;
		d->busy_until = now + d->manifest_ms;
		d->after_status = d->manifest_error ? DFK_STATUS_ERR_VERIFY : DFK_STATUS_OK;
		d->after_state = d->manifest_error				       ? DFK_STATE_ERROR
				 : (d->func.bmAttributes & DFK_ATTR_MANIFEST_TOLERANT) ? DFK_STATE_IDLE
										       : DFK_STATE_MANIFEST_WAIT_RESET;
		status_reply(d, data, actual, d->manifest_ms);
		if (d->manifest_vanish)
			d->gone = true;
		return DFK_OK;
	default: return status_reply(d, data, actual, 0);
	}
}

static dfk_code dnload(mock_dev *d, const dfk_setup *s, const uint8_t *data, dfk_error *err)
{
	if (d->state != DFK_STATE_IDLE && d->state != DFK_STATE_DNLOAD_IDLE)
		return stall(d, err);
	if (s->wLength == 0) {
		if (!d->dfuse && d->state == DFK_STATE_IDLE)
			return stall(d, err);
		d->pending = d->dfuse ? MOCK_OP_LEAVE : MOCK_OP_MANIFEST;
		d->state = DFK_STATE_MANIFEST_SYNC;
		return DFK_OK;
	}
	if (s->wLength > sizeof(d->pbuf) || s->wLength > d->func.wTransferSize)
		return stall(d, err);
	memcpy(d->pbuf, data, s->wLength);
	d->plen = s->wLength;
	d->pblock = s->wValue;
	if (!d->dfuse) {
		d->pending = MOCK_OP_BLOCK;
	} else if (s->wValue == 0) {
		if (data[0] == DFK_DFUSE_SET_ADDRESS && s->wLength == 5)
			d->pending = MOCK_OP_SETADDR;
		else if (data[0] == DFK_DFUSE_ERASE && s->wLength == 5)
			d->pending = MOCK_OP_ERASE;
		else if (data[0] == DFK_DFUSE_ERASE && s->wLength == 1)
			d->pending = MOCK_OP_MASS;
		else if (data[0] == DFK_DFUSE_READ_UNPROTECT && s->wLength == 1)
			d->pending = MOCK_OP_UNPROTECT;
		else
			d->pending = MOCK_OP_BAD;
	} else if (s->wValue == 1) {
		return stall(d, err);
	} else {
		d->pending = MOCK_OP_WRITE;
	}
	d->state = DFK_STATE_DNLOAD_SYNC;
	return DFK_OK;
}

static dfk_code upload(mock_dev *d, const dfk_setup *s, uint8_t *data, size_t *actual, dfk_error *err)
{
	size_t n;

	if (d->state != DFK_STATE_IDLE && d->state != DFK_STATE_UPLOAD_IDLE)
		return stall(d, err);
	if (!(d->func.bmAttributes & DFK_ATTR_CAN_UPLOAD))
		return stall(d, err);
	if (d->dfuse) {
		static const uint8_t cmds[] = {0x00, 0x21, 0x41, 0x92};
		if (s->wValue == 0) {
			n = s->wLength < sizeof(cmds) ? s->wLength : sizeof(cmds);
			memcpy(data, cmds, n);
		} else if (s->wValue == 1) {
			return stall(d, err);
		} else {
			uint32_t addr = (uint32_t)((s->wValue - 2u) * (uint32_t)d->func.wTransferSize + d->ptr);
			if (!in_mem(d, addr, 1))
				return stall(d, err);
			if (d->fail_read_n && ++d->n_reads == d->fail_read_n) {
				d->n_stalls++;
				d->state = DFK_STATE_ERROR;
				d->status = d->fail_status;
				return dfk_error_set(err, DFK_ERR_STALL, "mock: read fault");
			}
			n = s->wLength;
			if ((uint64_t)addr + n > (uint64_t)d->mem_base + d->mem_size)
				n = d->mem_base + d->mem_size - addr;
			memcpy(data, d->mem + (addr - d->mem_base), n);
		}
	} else {
		if (s->wValue == 0)
			d->ul_off = 0;
		n = d->ul_len - d->ul_off < s->wLength ? d->ul_len - d->ul_off : s->wLength;
		memcpy(data, d->ul + d->ul_off, n);
		d->ul_off += n;
	}
	*actual = n;
	d->state = n < s->wLength ? DFK_STATE_IDLE : DFK_STATE_UPLOAD_IDLE;
	return DFK_OK;
}

static void put_string(const char *s, uint8_t *data, size_t cap, size_t *actual)
{
	uint8_t buf[256];
	size_t n = 2;

	for (; *s && n + 2 <= 254; s++) {
		buf[n++] = (uint8_t)*s;
		buf[n++] = 0;
	}
	buf[0] = (uint8_t)n;
	buf[1] = 3;
	*actual = n < cap ? n : cap;
	memcpy(data, buf, *actual);
}

static dfk_code std_request(mock_dev *d, const dfk_setup *s, uint8_t *data, size_t *actual, dfk_error *err)
{
	uint8_t type = s->wValue >> 8, index = s->wValue & 0xFF;

	if (s->bmRequestType != 0x80 || s->bRequest != 6)
		return dfk_error_set(err, DFK_ERR_STALL, "mock: unknown standard request");
	if (type == 3) {
		d->n_string++;
		if (index == 0) {
			static const uint8_t langids[] = {4, 3, 0x09, 0x04};
			*actual = s->wLength < 4 ? s->wLength : 4;
			memcpy(data, langids, *actual);
		} else if (index == 3 && d->serial[0] && d->raw_serial) {
			size_t n = strlen(d->serial);
			data[0] = (uint8_t)(n + 2);
			data[1] = 3;
			memcpy(data + 2, d->serial, n);
			*actual = n + 2 < s->wLength ? n + 2 : s->wLength;
		} else if (index == 3 && d->serial[0]) {
			put_string(d->serial, data, s->wLength, actual);
		} else if (index >= 4 && index < 4 + d->nalts) {
			put_string(d->alt_names[index - 4], data, s->wLength, actual);
		} else if (index == 1 || index == 2) {
			put_string(index == 1 ? "Mock" : "Mock DFU", data, s->wLength, actual);
		} else {
			return dfk_error_set(err, DFK_ERR_STALL, "mock: no string %u", index);
		}
		return DFK_OK;
	}
	return dfk_error_set(err, DFK_ERR_STALL, "mock: no descriptor type %u", type);
}

static dfk_code op_control(dfk_usb *h, const dfk_setup *s, uint8_t *data, size_t *actual, unsigned timeout_ms,
			   dfk_error *err)
{
	mock_dev *d = handle_dev(h);

	*actual = 0;
	d->n_control++;
	if (d->disconnect_after && d->n_control > d->disconnect_after)
		d->gone = true;
	if (d->gone)
		return dfk_error_set(err, DFK_ERR_NODEV, "mock: device gone");
	if ((s->bmRequestType & 0x60) == 0)
		return std_request(d, s, data, actual, err);
	if ((s->bmRequestType != 0x21 && s->bmRequestType != 0xA1) || s->wIndex != 0 || s->bRequest > 6)
		return dfk_error_set(err, DFK_ERR_STALL, "mock: bad class request");
	d->n_req[s->bRequest]++;
	d->n_class++;
	if (d->stall_class_at && d->n_class == d->stall_class_at) {
		d->n_stalls++;
		return dfk_error_set(err, DFK_ERR_STALL, "mock: stall fault");
	}
	if (!d->timeout_min || timeout_ms < d->timeout_min)
		d->timeout_min = timeout_ms;
	if (timeout_ms > d->timeout_max)
		d->timeout_max = timeout_ms;
	d->req_timeout[s->bRequest] = timeout_ms;
	if (d->protocol != 2) { /* run-time mode */
		if (s->bRequest == DFK_REQ_GETSTATUS)
			return get_status(d, data, actual, err);
		if (s->bRequest == DFK_REQ_DETACH) {
			d->detached = true;
			return DFK_OK;
		}
		return stall(d, err);
	}
	switch (s->bRequest) {
	case DFK_REQ_DETACH: return DFK_OK;
	case DFK_REQ_DNLOAD:
		if (d->dnload_ms) {
			d->bus->now_ms += d->dnload_ms < timeout_ms ? d->dnload_ms : timeout_ms;
			if (d->dnload_ms > timeout_ms)
				return dfk_error_set(err, DFK_ERR_TIMEOUT, "mock: DNLOAD timed out");
		}
		if (dnload(d, s, data, err))
			return err->code;
		*actual = s->wLength;
		return DFK_OK;
	case DFK_REQ_UPLOAD: return upload(d, s, data, actual, err);
	case DFK_REQ_GETSTATUS:
		if (s->wLength < 6)
			return stall(d, err);
		if (get_status(d, data, actual, err))
			return err->code;
		if (d->short_status)
			*actual = 3;
		return DFK_OK;
	case DFK_REQ_CLRSTATUS:
		if (d->busy_tail && d->state == DFK_STATE_DNBUSY && d->bus->now_ms >= d->busy_until) {
			d->n_tail_clears++;
			d->state = d->after_state;
			d->status = d->after_status;
			return DFK_OK;
		}
		if (d->state != DFK_STATE_ERROR)
			return stall(d, err);
		if (!d->clr_fails) {
			d->state = DFK_STATE_IDLE;
			d->status = DFK_STATUS_OK;
		}
		return DFK_OK;
	case DFK_REQ_GETSTATE:
		data[0] = d->state;
		*actual = 1;
		return DFK_OK;
	case DFK_REQ_ABORT:
		switch (d->state) {
		case DFK_STATE_IDLE:
		case DFK_STATE_DNLOAD_SYNC:
		case DFK_STATE_DNLOAD_IDLE:
		case DFK_STATE_MANIFEST_SYNC:
		case DFK_STATE_UPLOAD_IDLE:
			d->state = DFK_STATE_IDLE;
			d->pending = MOCK_OP_NONE;
			return DFK_OK;
		default: return stall(d, err);
		}
	}
	return stall(d, err);
}

/* ---- transport ops ---- */

static void op_destroy(dfk_transport *t)
{
	(void)t;
}

static dfk_code op_enumerate(dfk_transport *t, dfk_usb_list *list, dfk_error *err)
{
	mock_bus *b = *(mock_bus **)dfk__transport_priv(t);

	b->enumerations++;
	list->devs = calloc(MOCK_MAX_DEVS, sizeof(dfk_usb_node));
	list->count = 0;
	if (!list->devs)
		return dfk_error_set(err, DFK_ERR_NOMEM, "mock: out of memory");
	for (size_t i = 0; i < b->ndevs; i++) {
		mock_dev *d = b->devs[i];
		dfk_usb_dev *u;
		dfk_config_desc *cfg;

		if (d->gone)
			continue;
		if (d->hidden) {
			if (d->reappear_after) {
				d->reappear_after--;
				continue;
			}
			d->hidden = false;
		}
		u = &list->devs[list->count].dev;
		list->devs[list->count++].backend = d;
		snprintf(u->path, sizeof(u->path), "%s", d->path);
		u->busnum = 1;
		u->devnum = d->devnum;
		u->desc = (dfk_device_desc){
		    0x0200, 0, 0, 0, 64, d->vid, d->pid, d->bcd_device, 1, 2, (uint8_t)(d->serial[0] ? 3 : 0), 1};
		cfg = calloc(1, sizeof(*cfg));
		cfg->bConfigurationValue = 1;
		cfg->bNumInterfaces = 1;
		cfg->alts = calloc(d->nalts, sizeof(dfk_intf_desc));
		cfg->nalts = d->nalts;
		for (uint8_t a = 0; a < d->nalts; a++)
			cfg->alts[a] = (dfk_intf_desc){0, 0, a, 0xFE, 1, d->protocol, (uint8_t)(4 + a), false, {0}};
		cfg->has_func = true;
		cfg->func = d->func;
		u->configs = cfg;
		u->nconfigs = 1;
	}
	return DFK_OK;
}

/* Poisons what it frees, so that a reader left behind sees garbage even
 * before the memory is reused. */
static void op_list_free(dfk_transport *t, dfk_usb_list *list)
{
	(void)t;
	for (size_t i = 0; i < list->count; i++) {
		dfk_config_desc *cfg = list->devs[i].dev.configs;
		memset(cfg->alts, 0xA5, cfg->nalts * sizeof(dfk_intf_desc));
		free(cfg->alts);
		memset(cfg, 0xA5, sizeof(*cfg));
		free(cfg);
	}
	memset(list->devs, 0xA5, MOCK_MAX_DEVS * sizeof(dfk_usb_node));
	free(list->devs);
	list->devs = NULL;
	list->count = 0;
}

static dfk_code op_open(dfk_transport *t, const dfk_usb_node *dev, dfk_usb *h, dfk_error *err)
{
	mock_dev *d = dev->backend;
	mock_usb *m = dfk__usb_priv(h);

	(void)t;
	if (d->gone)
		return dfk_error_set(err, DFK_ERR_NODEV, "mock: device gone");
	if (d->open_fails)
		return dfk_error_set(err, DFK_ERR_IO, "mock: access denied");
	m->d = d;
	d->n_open++;
	return DFK_OK;
}

static void op_close(dfk_usb *h)
{
	(void)h;
}

static dfk_code op_claim(dfk_usb *h, uint8_t intf, dfk_error *err)
{
	(void)h;
	return intf == 0 ? DFK_OK : dfk_error_set(err, DFK_ERR_IO, "mock: no interface %u", intf);
}

static void op_release(dfk_usb *h, uint8_t intf)
{
	(void)h;
	(void)intf;
}

static dfk_code op_set_alt(dfk_usb *h, uint8_t intf, uint8_t alt, dfk_error *err)
{
	mock_dev *d = handle_dev(h);

	d->n_set_alt++;
	if (d->gone)
		return dfk_error_set(err, DFK_ERR_NODEV, "mock: device gone");
	if (d->set_alt_timeout)
		return dfk_error_set(err, DFK_ERR_TIMEOUT, "mock: no answer to SET_INTERFACE");
	if (d->set_alt_stalls) {
		d->set_alt_stalls--;
		return dfk_error_set(err, DFK_ERR_STALL, "mock: SET_INTERFACE stalled");
	}
	if (intf != 0 || alt >= d->nalts)
		return dfk_error_set(err, DFK_ERR_STALL, "mock: no alt %u", alt);
	d->cur_alt = alt;
	return DFK_OK;
}

static dfk_code op_reset(dfk_usb *h, dfk_error *err)
{
	mock_dev *d = handle_dev(h);

	d->n_resets++;
	if (d->protocol != 2 && d->detached) {
		/* Comes back in DFU mode on a new address, after a while. */
		d->protocol = 2;
		d->pid = d->dfu_pid;
		d->devnum++;
		d->state = DFK_STATE_IDLE;
		d->hidden = true;
		return dfk_error_set(err, DFK_ERR_NODEV, "mock: re-enumerating");
	}
	if (d->state == DFK_STATE_MANIFEST_WAIT_RESET) {
		d->gone = true; /* boots the new firmware */
		return dfk_error_set(err, DFK_ERR_NODEV, "mock: re-enumerating");
	}
	return DFK_OK;
}

static const dfk_transport_ops mock_ops = {
    .name = "mock",
    .transport_size = sizeof(mock_bus *),
    .handle_size = sizeof(mock_usb),
    .destroy = op_destroy,
    .enumerate = op_enumerate,
    .list_free = op_list_free,
    .open = op_open,
    .close = op_close,
    .control = op_control,
    .claim = op_claim,
    .release = op_release,
    .set_alt = op_set_alt,
    .reset = op_reset,
};

void mock_bus_init(mock_bus *b)
{
	memset(b, 0, sizeof(*b));
	if (dfk__transport_new(&mock_ops, NULL, &b->t, NULL)) {
		fprintf(stderr, "mock: cannot make a transport\n");
		abort();
	}
	*(mock_bus **)dfk__transport_priv(b->t) = b;
}

void mock_bus_fini(mock_bus *b)
{
	dfk_transport_free(b->t);
	b->t = NULL;
}

void mock_bus_add(mock_bus *b, mock_dev *d)
{
	d->bus = b;
	b->devs[b->ndevs++] = d;
}

/* ---- test helpers ---- */

static void log_capture(void *user, dfk_log_level level, const char *msg)
{
	mock_bus *b = user;
	int n = snprintf(b->log + b->loglen, sizeof(b->log) - b->loglen, "%d %s\n", (int)level, msg);
	if (n > 0 && b->loglen + (size_t)n < sizeof(b->log))
		b->loglen += (size_t)n;
}

dfk_ctx *mock_ctx(mock_bus *b)
{
	dfk_ctx *ctx = NULL;
	dfk_clock c = mock_bus_clock(b);

	if (dfk_ctx_new(&ctx, NULL) || dfk_ctx_set_clock(ctx, &c, NULL)) {
		fprintf(stderr, "mock: cannot make a context\n");
		abort();
	}
	dfk_ctx_set_log(ctx, log_capture, b);
	return ctx;
}

dfk_code mock_open(mock_bus *b, const dfk_ctx *ctx, int alt, dfk_found **found, dfk_dev **dev, dfk_error *err)
{
	dfk_match m;
	dfk_code code;

	dfk_match_init(&m);
	m.alt = alt;
	code = dfk_find(ctx, b->t, &m, found, err);
	if (code)
		return code;
	if (dfk_found_count(*found) == 0)
		return dfk_error_set(err, DFK_ERR_NODEV, "mock: nothing found");
	return dfk_dev_open(ctx, dfk_found_get(*found, 0), dev, err);
}

dfk_code mock_rig_open(mock_rig *r, int alt)
{
	mock_bus_init(&r->bus);
	mock_bus_add(&r->bus, &r->d);
	r->ctx = mock_ctx(&r->bus);
	/* As a real transport reports to the context it was made with (its
	 * trace callback): the bus was made before the context. */
	r->bus.t->ctx = r->ctx;
	return mock_open(&r->bus, r->ctx, alt, &r->found, &r->dev, &r->err);
}

void mock_rig_close(mock_rig *r)
{
	dfk_dev_close(r->dev);
	dfk_found_free(r->found);
	r->found = NULL;
	mock_bus_fini(&r->bus);
	dfk_ctx_free(r->ctx);
	r->ctx = NULL;
	mock_free(&r->d);
}
