/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Jobs (download, upload, verify, leave, detach, wait) against the fake
 * devices of mock_dfu.c: control-transfer budgets, fault handling, safety
 * rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfukit/dfukit.h"
#include "mock_dfu.h"

#define KIB 1024u
#define BASE 0x08000000u

typedef struct fx {
	mock_rig r;
	dfk_firmware fw;
	dfk_job_opts o;
	uint8_t *data;
	unsigned progress[6];
	uint64_t last_done[6], last_total[6];
	/* cancel from the progress callback at the n-th report of a phase */
	int cancel_phase;
	unsigned cancel_at;
	/* cancel from the clock: at the first sleep once this many pages were
	 * erased (the device is then busy erasing the next) */
	unsigned cancel_sleep_erased;
} fx;

static void on_progress(void *user, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	fx *f = user;
	(void)addr;
	f->progress[phase]++;
	if (f->cancel_at && (int)phase == f->cancel_phase && f->progress[phase] == f->cancel_at)
		dfk_ctx_cancel(f->r.ctx);
	f->last_done[phase] = done;
	f->last_total[phase] = total;
}

static fx *fx_new(void (*init)(mock_dev *), int alt)
{
	fx *f = calloc(1, sizeof(*f));
	init(&f->r.d);
	assert_int_equal(mock_rig_open(&f->r, alt), DFK_OK);
	/* dev keeps a pointer to ctx: hooks set after the open still apply. */
	dfk_ctx_set_progress(f->r.ctx, on_progress, f);
	dfk_firmware_init(&f->fw);
	dfk_job_opts_init(&f->o);
	return f;
}

static void fx_free(fx *f)
{
	mock_rig_close(&f->r);
	dfk_firmware_free(&f->fw);
	free(f->data);
	free(f);
}

static void f405(mock_dev *d)
{
	mock_init_f405(d);
}

static void f405_error(mock_dev *d)
{
	mock_init_f405(d);
	d->state = DFK_STATE_ERROR; /* as the F405 ROM comes up */
	d->status = DFK_STATUS_ERR_FIRMWARE;
}

/* Pseudo-random bytes, never 0xFF-only, so a missing write shows. */
static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len);
	uint32_t x = 0x12345678u ^ seed;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

/* A raw binary, placed at addr when addressed. */
static void raw_fw(fx *f, size_t len, bool addressed, uint32_t addr)
{
	dfk_target *t;
	f->data = pattern(len, (unsigned)len);
	f->fw.format = DFK_FORMAT_RAW;
	f->fw.addressed = addressed;
	t = dfk_firmware_add_target(&f->fw, 0, NULL, &f->r.err);
	assert_non_null(t);
	assert_int_equal(dfk_image_add(&t->image, addressed ? addr : 0, f->data, len, &f->r.err), DFK_OK);
}

static uint8_t *mem_at(fx *f, uint32_t addr)
{
	return f->r.d.mem + (addr - f->r.d.mem_base);
}

/* ---- the benchmark job: 256 KiB to the F405 ---- */

static void test_f405_256k_budget(void **state)
{
	fx *f = fx_new(f405_error, 0);
	(void)state;

	dfk_ctx_set_timeout(f->r.ctx, DFK_TIMEOUT_USB, 1234, NULL);
	raw_fw(f, 256 * KIB, true, BASE);
	f->o.verify = false;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, BASE), f->data, 256 * KIB);
	/* everything, enumeration strings and SET_INTERFACE included */
	printf("256 KiB to stm32f405, no verify: %u control transfers\n", mock_transfers(&f->r.d));
	assert_true(mock_transfers(&f->r.d) <= 440);
	/* each touched page erased exactly once; untouched ones never */
	const uint32_t pages[] = {0x08000000, 0x08004000, 0x08008000, 0x0800C000, 0x08010000, 0x08020000};
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(mock_erased(&f->r.d, pages[i]), 1);
	assert_int_equal(f->r.d.n_erase, 6);
	assert_int_equal(mock_erased(&f->r.d, 0x08040000), 0);
	assert_int_equal(f->r.d.n_setaddr, 1); /* one contiguous run */
	assert_int_equal(f->r.d.n_writes, 128);
	assert_int_equal(f->r.d.n_dirty, 0); /* never wrote over unerased flash */
	assert_int_equal(f->r.d.n_req[DFK_REQ_GETSTATE], 0);
	assert_int_equal(f->r.d.n_early, 0); /* honoured every bwPollTimeout */
	assert_int_equal(f->r.d.state, DFK_STATE_IDLE);
	/* every request with the context's USB timeout */
	assert_int_equal(f->r.d.timeout_min, 1234);
	assert_int_equal(f->r.d.timeout_max, 1234);
	assert_int_equal(f->last_done[DFK_PHASE_DOWNLOAD], 256 * KIB);
	assert_int_equal(f->last_total[DFK_PHASE_DOWNLOAD], 256 * KIB);
	assert_int_equal(f->last_done[DFK_PHASE_ERASE], f->last_total[DFK_PHASE_ERASE]);
	fx_free(f);
}

static void test_f405_256k_verify_budget(void **state)
{
	fx *f = fx_new(f405_error, 0);
	(void)state;

	raw_fw(f, 256 * KIB, true, BASE);
	assert_true(f->o.verify); /* the default */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	printf("256 KiB to stm32f405 with verify: %u control transfers\n", mock_transfers(&f->r.d));
	assert_true(mock_transfers(&f->r.d) <= 600);
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 128);
	assert_int_equal(f->last_done[DFK_PHASE_VERIFY], 256 * KIB);
	fx_free(f);
}

static void corrupting(mock_dev *d)
{
	mock_init_f405(d);
	d->corrupt = true;
	d->corrupt_addr = 0x08012345;
}

static void test_verify_names_first_difference(void **state)
{
	fx *f = fx_new(corrupting, 0);
	(void)state;

	raw_fw(f, 256 * KIB, true, BASE);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_VERIFY);
	assert_non_null(strstr(f->r.err.msg, "0x08012345"));
	fx_free(f);
}

/* A write that fails at the n-th block: the error names its address and status. */
static void write_fails_at(unsigned n, uint32_t addr)
{
	fx *f = fx_new(f405, 0);
	char want[64];

	f->r.d.fail_write_n = n;
	f->r.d.fail_status = DFK_STATUS_ERR_PROG;
	raw_fw(f, 256 * KIB, true, BASE);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_PROTOCOL);
	snprintf(want, sizeof(want), "at 0x%08X failed", addr);
	assert_non_null(strstr(f->r.err.msg, want));
	assert_non_null(strstr(f->r.err.msg, "errPROG in dfuERROR"));
	assert_int_equal(f->r.d.n_writes, n); /* stopped there */
	fx_free(f);
}

static void test_write_error_first_middle_last(void **state)
{
	(void)state;
	write_fails_at(1, 0x08000000);
	write_fails_at(65, 0x08020000);
	write_fails_at(128, 0x0803F800);
}

static void test_disconnect_mid_download(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	f->r.d.disconnect_after = mock_transfers(&f->r.d) + 100;
	raw_fw(f, 256 * KIB, true, BASE);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_NODEV);
	assert_non_null(strstr(f->r.err.msg, "0x080"));
	fx_free(f);
}

static void test_leave_and_vanish_is_success(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	raw_fw(f, 10 * KIB, true, 0x08004000);
	f->o.leave = true;
	f->o.has_address = true;
	f->o.address = 0x08004000;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_leave, 1);
	assert_int_equal(f->r.d.last_leave_ptr, 0x08004000);
	assert_true(f->r.d.gone);
	fx_free(f);
}

static void test_leave_vanish_before_status(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	f->r.d.leave_vanish_early = true;
	assert_int_equal(dfk_job_leave(f->r.dev, true, 0x08000000, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.last_leave_ptr, 0x08000000);
	fx_free(f);
}

static void test_leave_error_reported(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	f->r.d.leave_error = true;
	assert_int_equal(dfk_job_leave(f->r.dev, false, 0, &f->r.err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(f->r.err.msg, "leave"));
	assert_non_null(strstr(f->r.err.msg, "errTARGET"));
	fx_free(f);
}

static void test_force_rules(void **state)
{
	fx *f = fx_new(f405, 0);
	unsigned before = mock_transfers(&f->r.d);
	(void)state;

	raw_fw(f, 4 * KIB, true, BASE);
	f->o.mass_erase = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_USAGE);
	assert_non_null(strstr(f->r.err.msg, "force"));
	f->o.mass_erase = false;
	f->o.unprotect = true;
	assert_int_equal(dfk_job_dfuse_command(f->r.dev, &f->o, &f->r.err), DFK_ERR_USAGE);
	assert_int_equal(mock_transfers(&f->r.d), before); /* refused before any request */
	assert_int_equal(f->r.d.n_mass + f->r.d.n_unprotect, 0);

	/* with force: one mass erase and no page erases */
	f->o.unprotect = false;
	f->o.mass_erase = true;
	f->o.force = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_mass, 1);
	assert_int_equal(f->r.d.n_erase, 0);
	assert_memory_equal(mem_at(f, BASE), f->data, 4 * KIB);
	fx_free(f);
}

/* dfk_job_opts can grow: a struct that was never initialised is refused
 * before any request, a newer caller's bigger struct is read as far as
 * this library knows it, unless it sets an option beyond. */
typedef struct newer_opts {
	dfk_job_opts o;
	uint64_t future[2];
} newer_opts;

static void test_job_opts_size(void **state)
{
	fx *f = fx_new(f405, 0);
	unsigned before = mock_transfers(&f->r.d);
	dfk_job_opts zero;
	newer_opts n;
	uint64_t bytes = 0;
	(void)state;

	raw_fw(f, 16 * KIB, true, BASE); /* one whole page: nothing to preserve */
	memset(&zero, 0, sizeof(zero));
	zero.verify = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &zero, &f->r.err), DFK_ERR_USAGE);
	assert_non_null(strstr(f->r.err.msg, "dfk_job_opts_init"));
	assert_int_equal(dfk_job_upload(f->r.dev, &zero, NULL, &bytes, &f->r.err), DFK_ERR_USAGE);
	zero.size = 1u << 20; /* garbage */
	assert_int_equal(dfk_job_dfuse_command(f->r.dev, &zero, &f->r.err), DFK_ERR_USAGE);
	assert_non_null(strstr(f->r.err.msg, "not initialised"));
	assert_int_equal(mock_transfers(&f->r.d), before);

	memset(&n, 0, sizeof(n));
	dfk_job_opts_init(&n.o);
	n.o.size = sizeof(n);
	n.o.verify = false;
	n.future[1] = 7; /* an option this library does not know */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &n.o, &f->r.err), DFK_ERR_UNSUPPORTED);
	assert_non_null(strstr(f->r.err.msg, "does not know"));
	assert_int_equal(mock_transfers(&f->r.d), before);
	n.future[1] = 0;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &n.o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, BASE), f->data, 16 * KIB);
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 0); /* verify off was read */

	/* NULL: the defaults (verify on). */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, NULL, &f->r.err), DFK_OK);
	assert_true(f->r.d.n_req[DFK_REQ_UPLOAD] > 0);
	fx_free(f);
}

static void ro_first_page(mock_dev *d)
{
	mock_init_f405(d);
	d->alt_names[0] = "@Internal Flash  /0x08000000/01*016Ka,03*016Kg,01*064Kg,07*128Kg";
}

static void test_read_only_refused_unless_force(void **state)
{
	fx *f = fx_new(ro_first_page, 0);
	(void)state;

	raw_fw(f, 20 * KIB, true, BASE);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_USAGE);
	assert_int_equal(f->r.d.n_erase + f->r.d.n_writes, 0);
	f->o.force = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, BASE), f->data, 20 * KIB);
	fx_free(f);
}

static void test_partial_page_warning(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	raw_fw(f, 1000, true, 0x08004100);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_non_null(strstr(f->r.bus.log, "0x08004000"));
	assert_non_null(strstr(f->r.bus.log, "partly"));
	assert_memory_equal(mem_at(f, 0x08004100), f->data, 1000);
	fx_free(f);
}

static void test_dfuse_file_targets(void **state)
{
	fx *f = fx_new(f405, 0);
	dfk_target *t0, *t1;
	uint8_t a[3000], ob[16];
	(void)state;

	memset(a, 0x42, sizeof(a));
	memset(ob, 0xAA, sizeof(ob));
	f->fw.format = DFK_FORMAT_DFUSE;
	t0 = dfk_firmware_add_target(&f->fw, 0, "Internal Flash", &f->r.err);
	assert_int_equal(dfk_image_add(&t0->image, 0x08008000, a, sizeof(a), &f->r.err), DFK_OK);
	assert_int_equal(dfk_image_add(&t0->image, 0x08020000, a, 100, &f->r.err), DFK_OK);
	t1 = dfk_firmware_add_target(&f->fw, 3, "Device Feature", &f->r.err);
	assert_int_equal(dfk_image_add(&t1->image, 0xFFFF0000, ob, 4, &f->r.err), DFK_OK);
	f->o.leave = true;
	/* alt 3's memory is not in the mock, so the write there fails: after
	 * alt 0 was done, on the alt the file asked for */
	assert_int_not_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.cur_alt, 3);
	assert_non_null(strstr(f->r.err.msg, "0xFFFF0000"));
	assert_memory_equal(mem_at(f, 0x08008000), a, sizeof(a));
	assert_memory_equal(mem_at(f, 0x08020000), a, 100);
	/* runs: 3000 bytes (a short tail block is addressed again) and 100;
	 * read back the same way (dfk__dfuse_needs_address); then alt 3 */
	assert_int_equal(f->r.d.n_setaddr, 3 + 3 + 1);
	fx_free(f);
}

static void test_dfuse_file_missing_alt(void **state)
{
	fx *f = fx_new(f405, 0);
	dfk_target *t0, *t1;
	uint8_t a[3000];
	(void)state;

	memset(a, 0x42, sizeof(a));
	f->fw.format = DFK_FORMAT_DFUSE;
	t0 = dfk_firmware_add_target(&f->fw, 0, "Internal Flash", &f->r.err);
	assert_int_equal(dfk_image_add(&t0->image, 0x08008000, a, sizeof(a), &f->r.err), DFK_OK);
	t1 = dfk_firmware_add_target(&f->fw, 7, "Nowhere", &f->r.err);
	assert_int_equal(dfk_image_add(&t1->image, 0x20000000, a, 16, &f->r.err), DFK_OK);
	/* refused whole, before anything is erased */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_USAGE);
	assert_non_null(strstr(f->r.err.msg, "target 1 (alt 7), nothing written"));
	assert_non_null(strstr(f->r.err.msg, "the device has no alt setting 7"));
	assert_int_equal(f->r.d.n_erase, 0);
	assert_int_equal(f->r.d.n_writes, 0);
	/* with force: that target is skipped and said so, the rest written */
	f->o.force = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, 0x08008000), a, sizeof(a));
	assert_non_null(strstr(f->r.bus.log, "target 1 skipped: the device has no alt setting 7"));
	assert_int_equal(f->r.d.cur_alt, 0);
	fx_free(f);
}

static void f405_read_protected(mock_dev *d);

/* Skip-unchanged is an optimisation: a comparison that cannot read falls
 * back to erasing and writing every page, and says so. */
static void test_skip_unchanged_read_fails_falls_back(void **state)
{
	fx *f = fx_new(f405_read_protected, 0);
	(void)state;

	raw_fw(f, 16 * KIB, true, BASE);
	f->o.skip_unchanged = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_non_null(strstr(f->r.bus.log, "cannot compare with the device's memory"));
	assert_non_null(strstr(f->r.bus.log, "every page is erased and written"));
	assert_memory_equal(mem_at(f, BASE), f->fw.targets[0].image.elements[0].data, 16 * KIB);
	assert_int_equal(mock_erased(&f->r.d, BASE), 1);
	fx_free(f);
}

/* Pages that read as erased are written without erasing them, when the
 * read-back checks it; the same image again touches nothing. */
static void test_skip_unchanged_erased_pages(void **state)
{
	fx *f = fx_new(mock_init_f405, 0);
	(void)state;

	raw_fw(f, 32 * KIB, true, BASE);
	f->o.skip_unchanged = true;
	f->o.verify = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, BASE), f->fw.targets[0].image.elements[0].data, 32 * KIB);
	assert_int_equal(f->r.d.n_erase, 0);
	assert_non_null(strstr(f->r.bus.log, "0 of 2 pages unchanged, not erased or written; 2 already erased"));
	/* without a read-back, erased-looking pages are erased all the same */
	f->o.verify = false;
	memset(mem_at(f, BASE), 0xFF, 32 * KIB);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_erase, 2);
	fx_free(f);
}

static void f405_read_protected(mock_dev *d)
{
	mock_init_f405(d);
	d->fail_setaddr_n = 1;
	d->fail_status = DFK_STATUS_ERR_VENDOR;
}

static void test_read_protection_explained(void **state)
{
	fx *f = fx_new(f405_read_protected, 0);
	(void)state;

	/* the first SET_ADDRESS is the page read that keeps the rest of the
	 * partly covered page */
	raw_fw(f, 4 * KIB, true, BASE);
	assert_int_not_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_non_null(strstr(f->r.err.msg, "set address 0x08000000 failed"));
	assert_non_null(strstr(f->r.err.msg, "errVENDOR"));
	assert_non_null(strstr(f->r.err.msg, "read protection is likely active"));
	assert_non_null(strstr(f->r.err.msg, "read unprotect (with force)"));
	fx_free(f);
}

static void test_partial_page_preserved(void **state)
{
	fx *f = fx_new(f405, 0);
	uint8_t *old = pattern(16 * KIB, 99);
	(void)state;

	/* 1000 bytes in the middle of the 16 KiB page at 0x08004000, which
	 * holds other data: only the image's bytes change */
	memcpy(mem_at(f, 0x08004000), old, 16 * KIB);
	raw_fw(f, 1000, true, 0x08004100);
	assert_true(f->o.preserve); /* the default */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, 0x08004000), old, 0x100);
	assert_memory_equal(mem_at(f, 0x08004100), f->data, 1000);
	assert_memory_equal(mem_at(f, 0x08004100 + 1000), old + 0x100 + 1000, 16 * KIB - 0x100 - 1000);
	assert_int_equal(mock_erased(&f->r.d, 0x08004000), 1);
	assert_non_null(strstr(f->r.bus.log, "read first and written back"));
	assert_null(strstr(f->r.bus.log, "all of it is erased"));
	fx_free(f);

	/* turned off: the page is erased whole, as before */
	f = fx_new(f405, 0);
	memcpy(mem_at(f, 0x08004000), old, 16 * KIB);
	raw_fw(f, 1000, true, 0x08004100);
	f->o.preserve = false;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, 0x08004100), f->data, 1000);
	assert_int_equal(mem_at(f, 0x08004000)[0], 0xFF);
	assert_non_null(strstr(f->r.bus.log, "all of it is erased"));
	fx_free(f);
	free(old);
}

static void test_dfuse_file_leaves_at_first_element(void **state)
{
	fx *f = fx_new(f405, 0);
	dfk_target *t;
	uint8_t a[3000];
	(void)state;

	memset(a, 0x42, sizeof(a));
	f->fw.format = DFK_FORMAT_DFUSE;
	t = dfk_firmware_add_target(&f->fw, 0, NULL, &f->r.err);
	assert_int_equal(dfk_image_add(&t->image, 0x08008000, a, sizeof(a), &f->r.err), DFK_OK);
	assert_int_equal(dfk_image_add(&t->image, 0x08020000, a, 100, &f->r.err), DFK_OK);
	f->o.leave = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_leave, 1);
	assert_int_equal(f->r.d.last_leave_ptr, 0x08008000);
	fx_free(f);
}

static void test_raw_needs_address_on_dfuse(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	raw_fw(f, 1024, false, 0);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_USAGE);
	assert_non_null(strstr(f->r.err.msg, "needs a start address"));
	assert_null(strstr(f->r.err.msg, "-s"));
	/* with -s ADDR the same unaddressed file goes there */
	f->o.has_address = true;
	f->o.address = 0x08010000;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, 0x08010000), f->data, 1024);
	fx_free(f);
}

static void test_skip_unchanged(void **state)
{
	fx *f = fx_new(f405, 0);
	unsigned erases, writes;
	(void)state;

	raw_fw(f, 48 * KIB, true, BASE);
	f->o.verify = false;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	erases = f->r.d.n_erase;
	writes = f->r.d.n_writes;
	/* change one byte in the second 16K page of the image (a copy of f->data) */
	f->fw.targets[0].image.elements[0].data[20000] ^= 0xFF;
	f->data[20000] ^= 0xFF;
	f->o.skip_unchanged = true;
	f->o.verify = true;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_erase - erases, 1);
	assert_int_equal(mock_erased(&f->r.d, 0x08004000), 2);
	assert_int_equal(mock_erased(&f->r.d, 0x08000000), 1);
	assert_int_equal(f->r.d.n_writes - writes, 8); /* 16 KiB in 2 KiB blocks */
	assert_memory_equal(mem_at(f, BASE), f->data, 48 * KIB);
	fx_free(f);
}

static void test_will_reset(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	raw_fw(f, 2048, true, BASE);
	f->o.will_reset = true;
	f->o.preserve = false; /* no read of the rest of the page either */
	f->r.d.disconnect_after = 0;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	/* no verify, no ABORT after the last write */
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 0);
	assert_int_equal(f->r.d.n_req[DFK_REQ_ABORT], 0);
	fx_free(f);
}

/* ---- upload ---- */

static void test_dfuse_upload_to_file(void **state)
{
	fx *f = fx_new(f405, 0);
	char path[] = "/tmp/dfk_test_job_XXXXXX";
	int fd = mkstemp(path);
	dfk_out *out;
	uint64_t bytes = 0;
	FILE *fp;
	uint8_t back[5000];
	(void)state;

	close(fd);
	for (size_t i = 0; i < 8192; i++)
		f->r.d.mem[i] = (uint8_t)(i * 31);
	f->o.has_address = true;
	f->o.address = BASE;
	f->o.has_length = true;
	f->o.length = 5000;
	assert_int_equal(dfk_out_open(&out, path, DFK_OUT_OVERWRITE, &f->r.err), DFK_OK);
	assert_int_equal(dfk_job_upload(f->r.dev, &f->o, out, &bytes, &f->r.err), DFK_OK);
	assert_int_equal(dfk_out_commit(out, &f->r.err), DFK_OK);
	assert_int_equal(bytes, 5000);
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 3);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(back, 1, sizeof(back), fp), 5000);
	fclose(fp);
	unlink(path);
	assert_memory_equal(back, f->r.d.mem, 5000);
	fx_free(f);
}

static void test_upload_unreadable_refused(void **state)
{
	fx *f = fx_new(ro_first_page, 0);
	uint64_t bytes;
	(void)state;

	f->r.d.alt_names[0] = "@Internal Flash  /0x08000000/01*016Kd";
	dfk_dev_close(f->r.dev);
	dfk_found_free(f->r.found);
	f->r.found = NULL;
	assert_int_equal(mock_open(&f->r.bus, f->r.ctx, 0, &f->r.found, &f->r.dev, &f->r.err), DFK_OK);
	f->o.has_address = true;
	f->o.address = BASE;
	assert_int_equal(dfk_job_upload(f->r.dev, &f->o, NULL, &bytes, &f->r.err), DFK_ERR_USAGE);
	assert_non_null(strstr(f->r.err.msg, "readable"));
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 0);
	fx_free(f);
}

/* ---- plain DFU ---- */

static void plain_tolerant(mock_dev *d)
{
	mock_init_plain(d, DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD | DFK_ATTR_MANIFEST_TOLERANT, 1024);
}

static void plain_reset(mock_dev *d)
{
	mock_init_plain(d, DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD, 1024);
}

static void plain_ok(fx *f, size_t len)
{
	raw_fw(f, len, false, 0);
	/* what an upload of the device returns: what was downloaded */
	f->r.d.ul = malloc(len);
	memcpy(f->r.d.ul, f->data, len);
	f->r.d.ul_len = len;
}

static void test_plain_download_tolerant(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	(void)state;

	plain_ok(f, 256 * KIB + 100);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.dl_len, 256 * KIB + 100);
	assert_memory_equal(f->r.d.dl, f->data, f->r.d.dl_len);
	assert_int_equal(f->r.d.n_bad_block, 0); /* blocks 0, 1, 2, ... */
	assert_int_equal(f->r.d.n_writes, 257);
	assert_int_equal(f->r.d.state, DFK_STATE_IDLE);
	assert_int_equal(f->r.d.n_resets, 0);
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 257); /* verified */
	assert_int_equal(f->r.d.n_early, 0);
	fx_free(f);
}

static void test_plain_verify_mismatch(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	(void)state;

	plain_ok(f, 10000);
	f->r.d.ul[7777] ^= 1;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_VERIFY);
	assert_non_null(strstr(f->r.err.msg, "0x00001E61"));
	fx_free(f);
}

static void test_plain_wait_reset(void **state)
{
	fx *f = fx_new(plain_reset, -1);
	(void)state;

	plain_ok(f, 5000);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_resets, 1);
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 0); /* cannot verify a rebooted device */
	assert_non_null(strstr(f->r.bus.log, "not verified"));
	fx_free(f);
}

static void test_plain_manifest_vanish(void **state)
{
	fx *f = fx_new(plain_reset, -1);
	(void)state;

	f->r.d.manifest_vanish = true;
	plain_ok(f, 5000);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.dl_len, 5000);
	fx_free(f);
}

static void test_plain_manifest_error(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	(void)state;

	f->r.d.manifest_error = true;
	plain_ok(f, 5000);
	/* dfu-util says "Done!" here */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(f->r.err.msg, "manifestation"));
	assert_non_null(strstr(f->r.err.msg, "errVERIFY"));
	fx_free(f);
}

static void test_plain_error_at_last_block(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	(void)state;

	f->r.d.fail_write_n = 5;
	f->r.d.fail_status = DFK_STATUS_ERR_WRITE;
	plain_ok(f, 5000);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(f->r.err.msg, "block 4"));
	assert_non_null(strstr(f->r.err.msg, "errWRITE"));
	assert_int_equal(f->r.d.n_req[DFK_REQ_DNLOAD], 5); /* no zero-length DNLOAD after it */
	fx_free(f);
}

static void test_plain_upload(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	char path[] = "/tmp/dfk_test_job_XXXXXX";
	int fd = mkstemp(path);
	dfk_out *out;
	uint64_t bytes = 0;
	(void)state;

	close(fd);
	f->r.d.ul = pattern(3 * 1024, 9);
	f->r.d.ul_len = 3 * 1024; /* a multiple of the transfer size: ends with a 0-byte block */
	assert_int_equal(dfk_out_open(&out, path, DFK_OUT_OVERWRITE, &f->r.err), DFK_OK);
	assert_int_equal(dfk_job_upload(f->r.dev, &f->o, out, &bytes, &f->r.err), DFK_OK);
	assert_int_equal(bytes, 3 * 1024);
	assert_int_equal(f->r.d.n_req[DFK_REQ_UPLOAD], 4);
	assert_int_equal(dfk_out_size(out), 3 * 1024);
	assert_int_equal(dfk_out_commit(out, &f->r.err), DFK_OK);
	unlink(path);
	fx_free(f);
}

static void test_capabilities_enforced(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	uint64_t bytes;
	(void)state;

	plain_ok(f, 100);
	/* The same device, now saying it can do neither. */
	dfk_dev_close(f->r.dev);
	dfk_found_free(f->r.found);
	f->r.found = NULL;
	f->r.d.func.bmAttributes = 0;
	assert_int_equal(mock_open(&f->r.bus, f->r.ctx, -1, &f->r.found, &f->r.dev, &f->r.err), DFK_OK);
	assert_int_equal(dfk_dev_if(f->r.dev)->func.bmAttributes, 0);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_UNSUPPORTED);
	assert_non_null(strstr(f->r.err.msg, "bitCanDnload"));
	assert_int_equal(dfk_job_upload(f->r.dev, &f->o, NULL, &bytes, &f->r.err), DFK_ERR_UNSUPPORTED);
	assert_non_null(strstr(f->r.err.msg, "bitCanUpload"));
	assert_int_equal(f->r.d.n_req[DFK_REQ_DNLOAD] + f->r.d.n_req[DFK_REQ_UPLOAD], 0);
	fx_free(f);
}

static void test_dfuse_file_never_raw(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	dfk_target *t;
	uint8_t a[16] = {0};
	(void)state;

	f->fw.format = DFK_FORMAT_DFUSE;
	t = dfk_firmware_add_target(&f->fw, 0, NULL, &f->r.err);
	assert_int_equal(dfk_image_add(&t->image, 0x08000000, a, sizeof(a), &f->r.err), DFK_OK);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_UNSUPPORTED);
	assert_int_equal(f->r.d.n_req[DFK_REQ_DNLOAD], 0);
	fx_free(f);
}

/* ---- detach and re-enumeration ---- */

static void runtime(mock_dev *d)
{
	mock_init_plain(d, DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD, 1024);
	d->protocol = 1;
	d->pid = 0x1234;
	d->dfu_pid = 0x6089;
	d->reappear_after = 3;
}

static void test_detach_and_wait(void **state)
{
	fx *f = fx_new(runtime, -1);
	dfk_found *again = NULL;
	dfk_match m;
	(void)state;

	assert_false(dfk_dev_if(f->r.dev)->dfu_mode);
	assert_int_equal(dfk_job_detach(f->r.dev, &f->r.err), DFK_OK);
	assert_true(f->r.d.detached);
	assert_int_equal(f->r.d.n_resets, 1); /* no bitWillDetach: we reset */
	dfk_match_init(&m);
	m.vid = 0x1d50;
	m.pid = 0x1234;
	assert_int_equal(dfk_wait_for(f->r.ctx, f->r.bus.t, &m, "2-3.1", NULL, &again, &f->r.err), DFK_OK);
	assert_int_equal(dfk_found_count(again), 1);
	assert_true(dfk_found_get(again, 0)->dfu_mode);
	assert_int_equal(dfk_found_get(again, 0)->dev->desc.idProduct, 0x6089);
	/* polled, did not sleep a fixed time */
	assert_true(f->r.bus.enumerations >= 4);
	assert_true(f->r.bus.slept_ms < 1000);
	dfk_found_free(again);
	fx_free(f);
}

static void test_wait_for_times_out(void **state)
{
	fx *f = fx_new(runtime, -1);
	dfk_found *again = NULL;
	(void)state;

	dfk_ctx_set_timeout(f->r.ctx, DFK_TIMEOUT_REENUM, 2000, NULL);
	assert_int_equal(dfk_wait_for(f->r.ctx, f->r.bus.t, NULL, "2-3.1", NULL, &again, &f->r.err), DFK_ERR_NODEV);
	assert_non_null(strstr(f->r.err.msg, "2-3.1"));
	assert_true(f->r.bus.now_ms >= 2000 && f->r.bus.now_ms < 2100);
	fx_free(f);
}

static void tiny_blocks(mock_dev *d)
{
	mock_init_f405(d);
	d->func.wTransferSize = 8;
	d->busy_ms = d->poll_ms = 0;
}

static void test_write_block_number_wraps(void **state)
{
	fx *f = fx_new(tiny_blocks, 0);
	(void)state;

	/* 76800 blocks: wBlockNum would pass 0xFFFF, the pointer is set again */
	raw_fw(f, 600 * KIB, true, BASE);
	f->o.preserve = false; /* the rest of the last page is not read first */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, BASE), f->data, 600 * KIB);
	assert_int_equal(f->r.d.n_setaddr, 2 + 2); /* written and verified */
	assert_int_equal(f->r.d.n_dirty, 0);
	fx_free(f);
}

static void test_write_with_transfer_size_override(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	raw_fw(f, 8 * KIB + 100, true, BASE);
	dfk_dev_set_transfer_size(f->r.dev, 1024);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, BASE), f->data, 8 * KIB + 100);
	/* the device multiplies by its own 2048: every block addressed */
	assert_true(f->r.d.n_setaddr >= 9);
	fx_free(f);
}

static void plain_quick(mock_dev *d)
{
	mock_init_plain(d, DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD | DFK_ATTR_MANIFEST_TOLERANT, 1024);
	d->quick = true;
}

static void test_plain_budget(void **state)
{
	fx *f = fx_new(plain_quick, -1);
	(void)state;

	/* dfu-util: 514 core transfers at best for 256 KiB in 1 KiB blocks */
	plain_ok(f, 256 * KIB);
	f->o.verify = false;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	printf("256 KiB plain DFU, quick device: %u control transfers\n", mock_transfers(&f->r.d));
	assert_true(mock_transfers(&f->r.d) <= 3 + 1 + 2 * 256 + 1 + 2);
	assert_memory_equal(f->r.d.dl, f->data, 256 * KIB);
	fx_free(f);
}

static void f405_slow_mass_erase(mock_dev *d)
{
	mock_init_f405(d);
	d->mass_poll_ms = 100;
	d->mass_busy_ms = 3000;
}

static void test_mass_erase_reports_time(void **state)
{
	fx *f = fx_new(f405_slow_mass_erase, 0);
	(void)state;

	/* 3 s of erase polled every 100 ms: the program hears of it on every
	 * poll (ms spent of those expected), not only at start and end */
	f->o.mass_erase = f->o.force = true;
	assert_int_equal(dfk_job_dfuse_command(f->r.dev, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_mass, 1);
	assert_true(f->progress[DFK_PHASE_ERASE] >= 2 + 25);
	assert_int_equal(f->last_done[DFK_PHASE_ERASE], f->last_total[DFK_PHASE_ERASE]);
	fx_free(f);
}

/* ---- every failure names the job, its address and the device status ---- */

static void test_first_status_check_in_context(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	raw_fw(f, 4 * KIB, true, 0x08004000);
	f->r.d.stall_class_at = f->r.d.n_class + 1; /* the GETSTATUS of make_idle */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_STALL);
	assert_non_null(strstr(f->r.err.msg, "download to 0x08004000: preparing the device: GETSTATUS"));
	fx_free(f);

	f = fx_new(f405, 0);
	f->o.has_address = true;
	f->o.address = BASE;
	f->o.has_length = true;
	f->o.length = 5000;
	f->r.d.stall_class_at = f->r.d.n_class + 1;
	uint64_t bytes;
	assert_int_equal(dfk_job_upload(f->r.dev, &f->o, NULL, &bytes, &f->r.err), DFK_ERR_STALL);
	assert_non_null(strstr(f->r.err.msg, "upload of 5000 bytes from 0x08000000: preparing the device: GETSTATUS"));
	fx_free(f);

	f = fx_new(f405, 0);
	f->o.mass_erase = f->o.force = f->o.leave = true;
	f->o.has_address = true;
	f->o.address = BASE;
	f->r.d.stall_class_at = f->r.d.n_class + 1;
	assert_int_equal(dfk_job_dfuse_command(f->r.dev, &f->o, &f->r.err), DFK_ERR_STALL);
	assert_non_null(strstr(f->r.err.msg, "mass erase and leave to 0x08000000: preparing the device: GETSTATUS"));
	fx_free(f);

	/* A message that has its context already gets it once. */
	f = fx_new(plain_tolerant, -1);
	plain_ok(f, 3000);
	f->r.d.state = DFK_STATE_APP_IDLE;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_PROTOCOL);
	assert_string_equal(f->r.err.msg,
			    "download of 3000 bytes: preparing the device: device is still in run-time mode (appIDLE)");
	fx_free(f);
}

static void test_mass_erase_in_context(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	f->o.mass_erase = f->o.force = true;
	/* gone after make_idle's GETSTATUS and the erase DNLOAD */
	f->r.d.disconnect_after = f->r.d.n_control + 2;
	assert_int_equal(dfk_job_dfuse_command(f->r.dev, &f->o, &f->r.err), DFK_ERR_NODEV);
	assert_non_null(strstr(f->r.err.msg, "mass erase failed: GETSTATUS"));
	assert_null(strstr(f->r.err.msg, "preparing"));
	fx_free(f);
}

/* The class requests a fault-free 4 KiB download at 0x08004000 makes. */
static unsigned download_requests(void)
{
	fx *f = fx_new(f405, 0);
	unsigned n;

	raw_fw(f, 4 * KIB, true, 0x08004000);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	n = f->r.d.n_class;
	fx_free(f);
	return n;
}

static void test_final_return_to_idle_in_context(void **state)
{
	unsigned total = download_requests();
	(void)state;

	/* the job ends with ABORT and GETSTATUS */
	for (unsigned back = 0; back < 2; back++) {
		fx *f = fx_new(f405, 0);
		raw_fw(f, 4 * KIB, true, 0x08004000);
		f->r.d.stall_class_at = total - back;
		assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_STALL);
		assert_non_null(
		    strstr(f->r.err.msg, back ? "download to 0x08004000: returning to dfuIDLE failed: ABORT"
					      : "download to 0x08004000: returning to dfuIDLE failed: GETSTATUS"));
		fx_free(f);
	}
}

static void test_plain_final_abort_in_context(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	(void)state;

	plain_ok(f, 4 * KIB); /* whole blocks: the verify ends with ABORT */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	unsigned total = f->r.d.n_class;
	fx_free(f);

	f = fx_new(plain_tolerant, -1);
	plain_ok(f, 4 * KIB);
	f->r.d.stall_class_at = total;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_STALL);
	assert_non_null(strstr(f->r.err.msg, "verify read of 4096 bytes: returning to dfuIDLE failed: ABORT"));
	fx_free(f);
}

static void test_stalled_read_asks_the_device(void **state)
{
	fx *f = fx_new(f405, 0);
	uint64_t bytes;
	(void)state;

	/* the verify of a download */
	raw_fw(f, 4 * KIB, true, 0x08004000);
	f->o.preserve = false; /* the first read is the verify's */
	f->r.d.fail_read_n = 2;
	f->r.d.fail_status = DFK_STATUS_ERR_TARGET;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_STALL);
	assert_string_equal(f->r.err.msg, "read at 0x08004800 failed: UPLOAD block 3 (2048 bytes): stalled: device "
					  "status errTARGET in dfuERROR");
	assert_int_equal(f->r.d.state, DFK_STATE_IDLE); /* cleared for the next job */
	fx_free(f);

	/* an upload */
	f = fx_new(f405, 0);
	f->o.has_address = true;
	f->o.address = BASE;
	f->o.has_length = true;
	f->o.length = 5000;
	f->r.d.fail_read_n = 1;
	f->r.d.fail_status = DFK_STATUS_ERR_ADDRESS;
	assert_int_equal(dfk_job_upload(f->r.dev, &f->o, NULL, &bytes, &f->r.err), DFK_ERR_STALL);
	assert_non_null(strstr(f->r.err.msg, "read at 0x08000000 failed"));
	assert_non_null(strstr(f->r.err.msg, "device status errADDRESS in dfuERROR"));
	assert_int_equal(f->r.d.n_req[DFK_REQ_CLRSTATUS], 1);
	fx_free(f);
}

static void test_leave_failure_names_address(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	f->r.d.leave_error = true;
	assert_int_equal(dfk_job_leave(f->r.dev, true, 0x08003000, &f->r.err), DFK_ERR_PROTOCOL);
	assert_string_equal(f->r.err.msg, "leave to 0x08003000 failed: device status errTARGET in dfuERROR");
	fx_free(f);
}

static void test_leave_stalled_status_rechecked(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	/* stalled, but the second GETSTATUS runs the leave: it goes */
	f->r.d.stall_class_at = f->r.d.n_class + 2; /* DNLOAD, GETSTATUS */
	assert_int_equal(dfk_job_leave(f->r.dev, false, 0, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_leave, 1);
	assert_true(f->r.d.gone);
	fx_free(f);

	/* stalled and still in DFU mode: never a success */
	f = fx_new(f405, 0);
	f->r.d.leave_ignored = true;
	assert_int_equal(dfk_job_leave(f->r.dev, false, 0, &f->r.err), DFK_ERR_PROTOCOL);
	assert_string_equal(f->r.err.msg,
			    "leave at the current address pointer failed: device stayed in DFU mode (dfuIDLE)");
	assert_false(f->r.d.gone);
	assert_int_equal(f->r.d.n_req[DFK_REQ_GETSTATUS], 2); /* asked once more, no more */
	fx_free(f);
}

static void f405_set_alt_stalls_once(mock_dev *d)
{
	mock_init_f405(d);
	d->set_alt_stalls = 1;
}

static void f405_set_alt_stalls(mock_dev *d)
{
	mock_init_f405(d);
	d->set_alt_stalls = 2;
}

static void f405_set_alt_silent(mock_dev *d)
{
	mock_init_f405(d);
	d->set_alt_timeout = true;
}

static void test_set_interface_in_job_context(void **state)
{
	fx *f = fx_new(f405_set_alt_stalls_once, 0);
	(void)state;

	/* a stall is an answer: asked once more, and the job runs */
	raw_fw(f, 1024, true, BASE);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_int_equal(f->r.d.n_set_alt, 2);
	assert_memory_equal(mem_at(f, BASE), f->data, 1024);
	fx_free(f);

	f = fx_new(f405_set_alt_stalls, 1);
	raw_fw(f, 1024, true, BASE);
	f->o.force = true; /* alt 1's map has no 0x08000000: planned (and refused) before any request */
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_STALL);
	assert_non_null(
	    strstr(f->r.err.msg, "download to 0x08000000: preparing the device: cannot select alt setting 1"));
	assert_int_equal(f->r.d.n_class, 0); /* nothing sent to a wrong alt */
	fx_free(f);

	/* silent: not asked again (the deadline was spent once) */
	f = fx_new(f405_set_alt_silent, 1);
	assert_int_equal(dfk_job_leave(f->r.dev, true, BASE, &f->r.err), DFK_ERR_TIMEOUT);
	assert_non_null(strstr(f->r.err.msg, "leave to 0x08000000 failed"));
	assert_non_null(strstr(f->r.err.msg, "cannot select alt setting 1"));
	assert_int_equal(f->r.d.n_set_alt, 1);
	assert_int_equal(f->r.d.n_class, 0);
	fx_free(f);
}

/* ---- cancel ---- */

static void cancel_sleep(void *user, uint32_t ms)
{
	fx *f = user;
	f->r.bus.now_ms += ms;
	if (f->cancel_sleep_erased && f->r.d.n_erase == f->cancel_sleep_erased && f->r.d.state == DFK_STATE_DNBUSY)
		dfk_ctx_cancel(f->r.ctx);
}

static uint64_t cancel_now(void *user)
{
	return ((fx *)user)->r.bus.now_ms;
}

static void test_cancel_while_erasing(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	/* the cancel comes while the third page is being erased (dfuDNBUSY):
	 * that erase finishes, then ABORT to dfuIDLE */
	dfk_clock clock = {cancel_now, cancel_sleep, f};
	assert_int_equal(dfk_ctx_set_clock(f->r.ctx, &clock, NULL), DFK_OK);
	f->cancel_sleep_erased = 3;
	raw_fw(f, 256 * KIB, true, BASE);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_CANCELLED);
	assert_string_equal(f->r.err.msg, "cancelled while erasing page 0x08008000: 0x08000000-0x0800BFFF erased (3 "
					  "of the job's pages), nothing written");
	assert_int_equal(f->r.d.n_erase, 3);
	assert_int_equal(f->r.d.n_writes, 0);
	assert_int_equal(f->r.d.n_early, 0); /* no poll cut short while it was busy */
	assert_int_equal(f->r.d.state, DFK_STATE_IDLE);
	assert_int_equal(f->r.d.status, DFK_STATUS_OK);
	fx_free(f);
}

static void test_cancel_while_writing(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	f->cancel_phase = DFK_PHASE_DOWNLOAD;
	f->cancel_at = 10; /* after the 10th block of 2048 bytes */
	raw_fw(f, 256 * KIB, true, BASE);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_CANCELLED);
	assert_string_equal(f->r.err.msg, "cancelled while writing 0x08005000: 0x08000000-0x08004FFF written, the "
					  "rest of the job's pages erased");
	assert_int_equal(f->r.d.n_writes, 10);
	assert_int_equal(f->r.d.n_erase, 6);
	assert_memory_equal(mem_at(f, BASE), f->data, 10 * 2048);
	assert_int_equal(f->r.d.state, DFK_STATE_IDLE);
	/* the context is reusable once the request is cleared */
	dfk_ctx_cancel_reset(f->r.ctx);
	f->cancel_at = 0;
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_OK);
	assert_memory_equal(mem_at(f, BASE), f->data, 256 * KIB);
	fx_free(f);
}

static void test_cancel_plain_and_before_start(void **state)
{
	fx *f = fx_new(plain_tolerant, -1);
	(void)state;

	f->cancel_phase = DFK_PHASE_DOWNLOAD;
	f->cancel_at = 5; /* the report at offset 0, then four blocks */
	raw_fw(f, 64 * KIB, false, 0);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_CANCELLED);
	assert_non_null(strstr(f->r.err.msg, "cancelled at offset"));
	assert_non_null(strstr(f->r.err.msg, "before manifestation"));
	assert_int_equal(f->r.d.state, DFK_STATE_IDLE);
	fx_free(f);

	/* a request made before the job: nothing is sent but what brings the
	 * device to a defined state */
	f = fx_new(f405, 0);
	raw_fw(f, 4 * KIB, true, BASE);
	dfk_ctx_cancel(f->r.ctx);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, &f->r.err), DFK_ERR_CANCELLED);
	assert_non_null(strstr(f->r.err.msg, "cancelled before it started"));
	assert_int_equal(f->r.d.n_erase, 0);
	assert_int_equal(f->r.d.n_writes, 0);
	fx_free(f);
}

static void test_null_error_job(void **state)
{
	fx *f = fx_new(f405, 0);
	(void)state;

	raw_fw(f, 1024, false, 0);
	assert_int_equal(dfk_job_download(f->r.dev, &f->fw, &f->o, NULL), DFK_ERR_USAGE);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_f405_256k_budget),
	    cmocka_unit_test(test_f405_256k_verify_budget),
	    cmocka_unit_test(test_verify_names_first_difference),
	    cmocka_unit_test(test_write_error_first_middle_last),
	    cmocka_unit_test(test_disconnect_mid_download),
	    cmocka_unit_test(test_leave_and_vanish_is_success),
	    cmocka_unit_test(test_leave_vanish_before_status),
	    cmocka_unit_test(test_leave_error_reported),
	    cmocka_unit_test(test_force_rules),
	    cmocka_unit_test(test_job_opts_size),
	    cmocka_unit_test(test_read_only_refused_unless_force),
	    cmocka_unit_test(test_partial_page_warning),
	    cmocka_unit_test(test_dfuse_file_targets),
	    cmocka_unit_test(test_dfuse_file_leaves_at_first_element),
	    cmocka_unit_test(test_dfuse_file_missing_alt),
	    cmocka_unit_test(test_read_protection_explained),
	    cmocka_unit_test(test_skip_unchanged_read_fails_falls_back),
	    cmocka_unit_test(test_skip_unchanged_erased_pages),
	    cmocka_unit_test(test_mass_erase_reports_time),
	    cmocka_unit_test(test_partial_page_preserved),
	    cmocka_unit_test(test_raw_needs_address_on_dfuse),
	    cmocka_unit_test(test_skip_unchanged),
	    cmocka_unit_test(test_will_reset),
	    cmocka_unit_test(test_dfuse_upload_to_file),
	    cmocka_unit_test(test_upload_unreadable_refused),
	    cmocka_unit_test(test_plain_download_tolerant),
	    cmocka_unit_test(test_plain_verify_mismatch),
	    cmocka_unit_test(test_plain_wait_reset),
	    cmocka_unit_test(test_plain_manifest_vanish),
	    cmocka_unit_test(test_plain_manifest_error),
	    cmocka_unit_test(test_plain_error_at_last_block),
	    cmocka_unit_test(test_plain_upload),
	    cmocka_unit_test(test_capabilities_enforced),
	    cmocka_unit_test(test_dfuse_file_never_raw),
	    cmocka_unit_test(test_detach_and_wait),
	    cmocka_unit_test(test_wait_for_times_out),
	    cmocka_unit_test(test_write_block_number_wraps),
	    cmocka_unit_test(test_write_with_transfer_size_override),
	    cmocka_unit_test(test_plain_budget),
	    cmocka_unit_test(test_null_error_job),
	    cmocka_unit_test(test_cancel_while_erasing),
	    cmocka_unit_test(test_cancel_while_writing),
	    cmocka_unit_test(test_cancel_plain_and_before_start),
	    cmocka_unit_test(test_first_status_check_in_context),
	    cmocka_unit_test(test_mass_erase_in_context),
	    cmocka_unit_test(test_final_return_to_idle_in_context),
	    cmocka_unit_test(test_plain_final_abort_in_context),
	    cmocka_unit_test(test_stalled_read_asks_the_device),
	    cmocka_unit_test(test_leave_failure_names_address),
	    cmocka_unit_test(test_leave_stalled_status_rechecked),
	    cmocka_unit_test(test_set_interface_in_job_context),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
