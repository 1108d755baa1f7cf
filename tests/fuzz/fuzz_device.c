/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* A hostile device: the engine's high layer (dfk_find, dfk_dev_open,
 * dfk_dev_memmap, a DfuSe or plain DFU download job with verify, an
 * upload job and a leave, or a detach and the wait for re-enumeration)
 * against an in-process fake transport whose descriptors and
 * control-transfer answers all come from the fuzz input.
 *
 * Input: a device descriptor (18 bytes), a configuration length (2 bytes,
 * at most 1024) and that many bytes, then one record per control
 * transfer: an action byte (0 stall, 1 gone, 2 timeout, 3 short OUT,
 * else answer) and, for IN transfers answered, a length byte and the
 * bytes (255: up to 255 bytes repeated over the whole wLength). When the
 * input runs out the device is gone, so every run ends. Time is a fake
 * clock that sleeps instantly. Seeds: tests/faults/make_device_seeds.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h" /* the fake transport is a backend */
#include "dfukit/dfukit.h"

typedef struct fz {
	const uint8_t *p;
	size_t left;
	uint64_t now;
	bool trace; /* FUZZ_DEVICE_TRACE set: print each request (seed making) */
} fz;

static size_t take(fz *f, uint8_t *out, size_t n)
{
	if (n > f->left)
		n = f->left;
	if (out)
		memcpy(out, f->p, n);
	f->p += n;
	f->left -= n;
	return n;
}

static int take_byte(fz *f)
{
	uint8_t b;
	return take(f, &b, 1) ? b : -1;
}

/* The fake's parts of the transport and of an open handle. */
typedef struct fake_usb {
	fz *f;
} fake_usb;

static fz *transport_fz(dfk_transport *t)
{
	return ((fake_usb *)dfk__transport_priv(t))->f;
}

static void fake_destroy(dfk_transport *t)
{
	(void)t;
}

static dfk_code fake_enumerate(dfk_transport *t, dfk_usb_list *list, dfk_error *err)
{
	fz *f = transport_fz(t);
	uint8_t dd[18], lenb[2];
	memset(list, 0, sizeof(*list));
	memset(dd, 0, sizeof(dd));
	size_t ddn = take(f, dd, sizeof(dd));
	take(f, lenb, 2);
	size_t clen = (size_t)(lenb[0] | lenb[1] << 8) % 1025;
	uint8_t *cfg = malloc(clen ? clen : 1);
	if (!cfg)
		return dfk_error_set(err, DFK_ERR_NOMEM, "fake: out of memory");
	clen = take(f, cfg, clen);

	dfk_usb_node *node = calloc(1, sizeof(*node));
	dfk_usb_dev *dev = node ? &node->dev : NULL;
	dfk_config_desc *cd = calloc(1, sizeof(*cd));
	if (!node || !cd) {
		free(cfg);
		free(node);
		free(cd);
		return dfk_error_set(err, DFK_ERR_NOMEM, "fake: out of memory");
	}
	/* A device whose descriptors do not parse is skipped, as the real
	 * transports do. */
	if (dfk_device_desc_parse(dd, ddn, &dev->desc, err) != DFK_OK ||
	    dfk_config_desc_parse(cfg, clen, cd, err) != DFK_OK) {
		free(cfg);
		free(node);
		free(cd);
		return DFK_OK;
	}
	free(cfg);
	snprintf(dev->path, sizeof(dev->path), "1-1");
	dev->busnum = 1;
	dev->devnum = 2;
	dev->configs = cd;
	dev->nconfigs = 1;
	list->devs = node;
	list->count = 1;
	return DFK_OK;
}

static void fake_list_free(dfk_transport *t, dfk_usb_list *list)
{
	(void)t;
	for (size_t i = 0; i < list->count; i++) {
		dfk_usb_dev *d = &list->devs[i].dev;
		for (size_t c = 0; c < d->nconfigs; c++)
			dfk_config_desc_free(&d->configs[c]);
		free(d->configs);
	}
	free(list->devs);
	memset(list, 0, sizeof(*list));
}

static dfk_code fake_open(dfk_transport *t, const dfk_usb_node *dev, dfk_usb *h, dfk_error *err)
{
	(void)dev;
	(void)err;
	((fake_usb *)dfk__usb_priv(h))->f = transport_fz(t);
	return DFK_OK;
}

static void fake_close(dfk_usb *h)
{
	(void)h;
}

static dfk_code fake_control(dfk_usb *h, const dfk_setup *s, uint8_t *data, size_t *actual, unsigned timeout_ms,
			     dfk_error *err)
{
	fz *f = ((fake_usb *)dfk__usb_priv(h))->f;
	if (f->trace)
		fprintf(stderr, "ctl %02x %02x %04x %04x %04x left=%zu\n", s->bmRequestType, s->bRequest, s->wValue,
			s->wIndex, s->wLength, f->left);
	int action = take_byte(f);

	*actual = 0;
	f->now += 1;
	if (action < 0 || action == 1)
		return dfk_error_set(err, DFK_ERR_NODEV, "fake: device gone");
	if (action == 0)
		return dfk_error_set(err, DFK_ERR_STALL, "fake: stall");
	if (action == 2) {
		f->now += timeout_ms;
		return dfk_error_set(err, DFK_ERR_TIMEOUT, "fake: timeout");
	}
	if (!(s->bmRequestType & 0x80)) {
		*actual = action == 3 ? s->wLength / 2 : s->wLength;
		return DFK_OK;
	}
	int n = take_byte(f);
	if (n < 0)
		return dfk_error_set(err, DFK_ERR_NODEV, "fake: device gone");
	/* Up to 255 fuzz bytes; a longer request gets them repeated, so that
	 * whole transfer-size blocks are cheap to express. */
	size_t want = (size_t)n;
	if (n == 255)
		want = s->wLength;
	if (want > s->wLength)
		want = s->wLength;
	uint8_t chunk[255];
	size_t got = take(f, chunk, want < sizeof(chunk) ? want : sizeof(chunk));
	for (size_t i = 0; got && i < want; i++)
		data[i] = chunk[i % got];
	*actual = got ? want : 0;
	return DFK_OK;
}

static dfk_code fake_claim(dfk_usb *h, uint8_t intf, dfk_error *err)
{
	(void)h;
	(void)intf;
	(void)err;
	return DFK_OK;
}

static void fake_release(dfk_usb *h, uint8_t intf)
{
	(void)h;
	(void)intf;
}

static dfk_code fake_set_alt(dfk_usb *h, uint8_t intf, uint8_t alt, dfk_error *err)
{
	dfk_setup s = {0x01, 11, alt, intf, 0};
	size_t actual;
	return fake_control(h, &s, NULL, &actual, 1000, err);
}

static dfk_code fake_reset(dfk_usb *h, dfk_error *err)
{
	(void)h;
	return dfk_error_set(err, DFK_ERR_NODEV, "fake: reset, device re-enumerates");
}

static const dfk_transport_ops fake_ops = {
    .name = "fuzz",
    .transport_size = sizeof(fake_usb),
    .handle_size = sizeof(fake_usb),
    .destroy = fake_destroy,
    .enumerate = fake_enumerate,
    .list_free = fake_list_free,
    .open = fake_open,
    .close = fake_close,
    .control = fake_control,
    .claim = fake_claim,
    .release = fake_release,
    .set_alt = fake_set_alt,
    .reset = fake_reset,
};

static uint64_t fake_now(void *user)
{
	return ((fz *)user)->now;
}

static void fake_sleep(void *user, uint32_t ms)
{
	((fz *)user)->now += ms;
}

static void run_jobs(dfk_dev *dev, const dfk_dfu_if *ifc)
{
	dfk_error err;
	const dfk_memmap *map = NULL;
	uint32_t addr = 0x08000000;

	if (ifc->dfuse && dfk_dev_memmap(dev, &map, &err) == DFK_OK && map->count > 0)
		addr = map->segs[0].start;

	/* One byte value, so that a seed's repeated UPLOAD answers can match it
	 * and the verify step is reached and passed. */
	uint8_t payload[3000];
	memset(payload, 0xA5, sizeof(payload));

	dfk_firmware fw;
	dfk_firmware_init(&fw);
	fw.format = DFK_FORMAT_RAW;
	fw.addressed = ifc->dfuse;
	dfk_target *t = dfk_firmware_add_target(&fw, ifc->alt, NULL, &err);
	if (t && dfk_image_add_ref(&t->image, addr, payload, sizeof(payload), &err) == DFK_OK) {
		dfk_job_opts o;
		dfk_job_opts_init(&o);
		o.dfuse = ifc->dfuse;
		o.has_address = ifc->dfuse;
		o.address = addr;
		(void)dfk_job_download(dev, &fw, &o, &err);
	}
	dfk_firmware_free(&fw);

	/* The upload streams into a temp file that is always thrown away. */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/fuzz_device_%ld.bin", (long)getpid());
	dfk_out *out = NULL;
	if (dfk_out_open(&out, path, DFK_OUT_OVERWRITE, &err) == DFK_OK) {
		dfk_job_opts o;
		dfk_job_opts_init(&o);
		o.dfuse = ifc->dfuse;
		o.has_address = ifc->dfuse;
		o.address = addr;
		o.has_length = true;
		o.length = 5000;
		uint64_t bytes = 0;
		(void)dfk_job_upload(dev, &o, out, &bytes, &err);
		dfk_out_abort(out);
	}
	if (ifc->dfuse)
		(void)dfk_job_leave(dev, true, addr, &err);
}

/* A run-time interface: DETACH, then wait for the device to come back in
 * DFU mode (the fake clock bounds the wait). */
static void run_detach(const dfk_ctx *ctx, dfk_transport *t, dfk_dev *dev, const dfk_dfu_if *ifc)
{
	dfk_error err;
	char path[sizeof(ifc->dev->path)];
	snprintf(path, sizeof(path), "%s", ifc->dev->path);
	if (dfk_job_detach(dev, &err) != DFK_OK)
		return;
	dfk_found *again = NULL;
	if (dfk_wait_for(ctx, t, NULL, path, NULL, &again, &err) == DFK_OK)
		dfk_found_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz f = {data, size, 0, getenv("FUZZ_DEVICE_TRACE") != NULL};
	dfk_transport *t = NULL;
	dfk_ctx *ctx = NULL;
	dfk_clock clock = {fake_now, fake_sleep, &f};
	dfk_error err;
	dfk_found *found = NULL;

	if (dfk_ctx_new(&ctx, &err) != DFK_OK || dfk__transport_new(&fake_ops, ctx, &t, &err) != DFK_OK)
		abort();
	((fake_usb *)dfk__transport_priv(t))->f = &f;
	dfk_ctx_set_clock(ctx, &clock, NULL);
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_USB, 1000, NULL);
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_OPERATION, 5000, NULL);
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_REENUM, 100, NULL);
	dfk_ctx_set_timeout(ctx, DFK_TIMEOUT_POLL_CAP, 1000, NULL);

	if (dfk_find(ctx, t, NULL, &found, &err) != DFK_OK) {
		dfk_transport_free(t);
		dfk_ctx_free(ctx);
		return 0;
	}
	for (size_t i = 0; i < dfk_found_count(found); i++) {
		const dfk_dfu_if *ifc = dfk_found_get(found, i);
		dfk_dev *dev = NULL;
		if (dfk_dev_open(ctx, ifc, &dev, &err) != DFK_OK)
			continue;
		if (ifc->dfu_mode)
			run_jobs(dev, ifc);
		else
			run_detach(ctx, t, dev, ifc);
		dfk_dev_close(dev);
		break; /* one device job per input keeps runs short */
	}
	dfk_found_free(found);
	dfk_transport_free(t);
	dfk_ctx_free(ctx);
	if (f.trace)
		fprintf(stderr, "end left=%zu\n", f.left);
	return 0;
}
