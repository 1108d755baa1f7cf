/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* DFU requests, status polling, getting to dfuIDLE and DfuSe commands,
 * against the fake device of mock_dfu.c with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/dfukit.h"
#include "mock_dfu.h"

typedef mock_rig fx;

static fx *open_f405(void (*tweak)(mock_dev *))
{
	fx *f = calloc(1, sizeof(*f));
	mock_init_f405(&f->d);
	if (tweak)
		tweak(&f->d);
	assert_int_equal(mock_rig_open(f, 0), DFK_OK);
	return f;
}

static void fx_free(fx *f)
{
	mock_rig_close(f);
	free(f);
}

static void start_in_error(mock_dev *d)
{
	d->state = DFK_STATE_ERROR;
	d->status = DFK_STATUS_ERR_FIRMWARE;
}

static void test_requests_go_to_the_interface(void **state)
{
	fx *f = open_f405(NULL);
	dfk_status st;
	uint8_t s = 0xEE;
	(void)state;

	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_OK);
	assert_int_equal(st.state, DFK_STATE_IDLE);
	assert_int_equal(dfk_dfu_get_state(f->dev, &s, &f->err), DFK_OK);
	assert_int_equal(s, DFK_STATE_IDLE);
	assert_int_equal(f->d.n_req[DFK_REQ_GETSTATUS], 1);
	assert_int_equal(f->d.n_req[DFK_REQ_GETSTATE], 1);
	/* CLRSTATUS outside dfuERROR is stalled by this device: the error names the request. */
	assert_int_equal(dfk_dfu_clr_status(f->dev, &f->err), DFK_ERR_STALL);
	assert_non_null(strstr(f->err.msg, "CLRSTATUS"));
	fx_free(f);
}

static void test_make_idle_clears_dfuerror(void **state)
{
	fx *f = open_f405(start_in_error);
	unsigned before = mock_transfers(&f->d);
	(void)state;

	assert_int_equal(dfk_dfu_make_idle(f->dev, &f->err), DFK_OK);
	assert_int_equal(f->d.state, DFK_STATE_IDLE);
	/* GETSTATUS, CLRSTATUS, GETSTATUS */
	assert_int_equal(mock_transfers(&f->d) - before, 3);
	assert_int_equal(f->d.n_req[DFK_REQ_CLRSTATUS], 1);
	fx_free(f);
}

static void stuck_error(mock_dev *d)
{
	start_in_error(d);
	d->clr_fails = true;
}

static void test_make_idle_gives_up(void **state)
{
	fx *f = open_f405(stuck_error);
	(void)state;

	dfk_ctx_set_max_error_retries(f->ctx, 3);
	assert_int_equal(dfk_dfu_make_idle(f->dev, &f->err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(f->err.msg, "errFIRMWARE"));
	assert_non_null(strstr(f->err.msg, "dfuERROR"));
	assert_int_equal(f->d.n_req[DFK_REQ_CLRSTATUS], 4);
	fx_free(f);
}

static void in_dnload_idle(mock_dev *d)
{
	d->state = DFK_STATE_DNLOAD_IDLE;
}

static void test_make_idle_aborts(void **state)
{
	fx *f = open_f405(in_dnload_idle);
	(void)state;

	assert_int_equal(dfk_dfu_make_idle(f->dev, &f->err), DFK_OK);
	assert_int_equal(f->d.n_req[DFK_REQ_ABORT], 1);
	assert_int_equal(f->d.state, DFK_STATE_IDLE);
	fx_free(f);
}

/* A stalled UPLOAD or DNLOAD asks the device why (one GETSTATUS) and
 * clears its dfuERROR (one CLRSTATUS). */
static void test_stall_explained_by_status(void **state)
{
	fx *f = open_f405(in_dnload_idle);
	uint8_t buf[16];
	size_t got = 0;
	(void)state;

	/* UPLOAD is not allowed in dfuDNLOAD-IDLE: the device stalls it */
	assert_int_equal(dfk_dfu_upload(f->dev, 2, buf, sizeof(buf), &got, &f->err), DFK_ERR_STALL);
	assert_string_equal(f->err.msg, "UPLOAD block 2 (16 bytes): stalled: device status errSTALLEDPKT in dfuERROR");
	assert_int_equal(f->d.n_req[DFK_REQ_GETSTATUS], 1);
	assert_int_equal(f->d.n_req[DFK_REQ_CLRSTATUS], 1);
	assert_int_equal(f->d.state, DFK_STATE_IDLE);

	/* a stall that leaves the status OK: the transfer error stays, the state is added */
	f->d.stall_class_at = f->d.n_class + 1;
	assert_int_equal(dfk_dfu_dnload(f->dev, 2, buf, sizeof(buf), &f->err), DFK_ERR_STALL);
	assert_non_null(
	    strstr(f->err.msg, "DNLOAD block 2 (16 bytes): mock: stall fault; device status OK in dfuIDLE"));
	assert_int_equal(f->d.n_req[DFK_REQ_GETSTATUS], 2);
	assert_int_equal(f->d.n_req[DFK_REQ_CLRSTATUS], 1);

	/* no answer to the GETSTATUS either: the first error, and no more requests */
	f->d.stall_class_at = f->d.n_class + 1;
	f->d.disconnect_after = f->d.n_control + 1;
	assert_int_equal(dfk_dfu_dnload(f->dev, 2, buf, sizeof(buf), &f->err), DFK_ERR_STALL);
	assert_string_equal(f->err.msg, "DNLOAD block 2 (16 bytes): mock: stall fault");
	assert_int_equal(f->d.n_req[DFK_REQ_CLRSTATUS], 1);
	fx_free(f);
}

static void test_make_idle_runtime(void **state)
{
	mock_rig r;
	(void)state;

	mock_init_plain(&r.d, 0x0F, 1024);
	r.d.protocol = 1;
	assert_int_equal(mock_rig_open(&r, -1), DFK_OK);
	assert_false(dfk_dev_if(r.dev)->dfu_mode);
	assert_int_equal(dfk_dfu_make_idle(r.dev, &r.err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(r.err.msg, "run-time"));
	mock_rig_close(&r);
}

static void test_erase_error_names_page_and_status(void **state)
{
	fx *f = open_f405(NULL);
	(void)state;

	f->d.fail_erase_n = 1;
	f->d.fail_status = DFK_STATUS_ERR_ERASE;
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08020000, &f->err), DFK_ERR_PROTOCOL);
	assert_string_equal(f->err.msg, "erase of page 0x08020000 failed: device status errERASE in dfuERROR");
	fx_free(f);
}

static void test_command_costs_three_transfers(void **state)
{
	fx *f = open_f405(NULL);
	unsigned before = mock_transfers(&f->d);
	(void)state;

	assert_int_equal(dfk_dfuse_set_address(f->dev, 0x08004000, &f->err), DFK_OK);
	assert_int_equal(f->d.ptr, 0x08004000);
	assert_int_equal(mock_transfers(&f->d) - before, 3);
	/* it slept exactly the reported bwPollTimeout, and never polled early */
	assert_int_equal(f->bus.slept_ms, f->d.poll_ms);
	assert_int_equal(f->d.n_early, 0);
	fx_free(f);
}

static void stuck(mock_dev *d)
{
	d->stuck_busy = true;
	/* not an ST ID: no busy-tail CLRSTATUS, the plain deadline (test_quirk_* has the ST case) */
	d->vid = 0x1209;
}

static void test_stuck_busy_times_out(void **state)
{
	fx *f = open_f405(stuck);
	(void)state;

	dfk_ctx_set_timeout(f->ctx, DFK_TIMEOUT_OPERATION, 5000, NULL);
	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08000000, &f->err), DFK_ERR_TIMEOUT);
	assert_non_null(strstr(f->err.msg, "0x08000000"));
	assert_non_null(strstr(f->err.msg, "dfuDNBUSY"));
	/* fake time ran to the deadline and not past it */
	assert_true(f->bus.now_ms >= 5000);
	assert_true(f->bus.now_ms <= 5000 + f->d.poll_ms);
	fx_free(f);
}

static void long_poll(mock_dev *d)
{
	d->poll_ms = 3000000; /* 50 minutes */
	d->busy_ms = 3000000;
}

static void test_poll_timeout_capped(void **state)
{
	fx *f = open_f405(long_poll);
	(void)state;

	dfk_ctx_set_timeout(f->ctx, DFK_TIMEOUT_POLL_CAP, 1000, NULL);
	dfk_ctx_set_timeout(f->ctx, DFK_TIMEOUT_OPERATION, 10000, NULL);
	/* The device wants 50 minutes; we poll every second up to the deadline. */
	assert_int_equal(dfk_dfuse_set_address(f->dev, 0x08000000, &f->err), DFK_ERR_TIMEOUT);
	assert_true(f->bus.now_ms <= 10000);
	assert_true(f->d.n_req[DFK_REQ_GETSTATUS] >= 10);
	fx_free(f);
}

static void l476(mock_dev *d)
{
	/* reports 1 ms but needs 25: polls in between stall */
	d->poll_ms = 1;
	d->busy_ms = 25;
	d->stall_early = true;
}

static void test_early_stall_retried(void **state)
{
	fx *f = open_f405(l476);
	(void)state;

	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08004000, &f->err), DFK_OK);
	assert_int_equal(mock_erased(&f->d, 0x08004000), 1);
	assert_true(f->d.n_early >= 1);
	assert_true(f->d.n_early <= 3);
	fx_free(f);
}

static void never_ready(mock_dev *d)
{
	d->poll_ms = 1;
	d->stuck_busy = true;
	d->stall_early = true;
}

static void test_stall_retries_bounded(void **state)
{
	fx *f = open_f405(never_ready);
	(void)state;

	assert_int_equal(dfk_dfuse_erase_page(f->dev, 0x08004000, &f->err), DFK_ERR_STALL);
	/* one command, one busy answer, then 1 + 3 stalled polls */
	assert_int_equal(f->d.n_req[DFK_REQ_GETSTATUS], 5);
	assert_non_null(strstr(f->err.msg, "0x08004000"));
	fx_free(f);
}

static void test_read_one_upload_per_block(void **state)
{
	fx *f = open_f405(NULL);
	size_t len = 1024 * 1024;
	uint8_t *buf = malloc(len);
	unsigned before;
	(void)state;

	for (size_t i = 0; i < len; i++)
		f->d.mem[i] = (uint8_t)(i * 7 + (i >> 11));
	before = mock_transfers(&f->d);
	assert_int_equal(dfk_dfuse_read(f->dev, 0x08000000, buf, len, &f->err), DFK_OK);
	assert_memory_equal(buf, f->d.mem, len);
	assert_int_equal(f->d.n_req[DFK_REQ_UPLOAD], 512);
	/* SET_ADDRESS (3), ABORT, 512 UPLOADs, ABORT */
	assert_int_equal(mock_transfers(&f->d) - before, 512 + 5);
	assert_int_equal(f->d.state, DFK_STATE_IDLE);
	free(buf);
	fx_free(f);
}

static void test_read_unaligned_tail(void **state)
{
	fx *f = open_f405(NULL);
	uint8_t buf[5000];
	(void)state;

	for (size_t i = 0; i < 8192; i++)
		f->d.mem[0x100 + i] = (uint8_t)(i ^ 0x5A);
	assert_int_equal(dfk_dfuse_read(f->dev, 0x08000100, buf, sizeof(buf), &f->err), DFK_OK);
	assert_memory_equal(buf, f->d.mem + 0x100, sizeof(buf));
	fx_free(f);
}

static void test_read_past_memory_fails(void **state)
{
	fx *f = open_f405(NULL);
	uint8_t buf[4096];
	(void)state;

	assert_int_not_equal(dfk_dfuse_read(f->dev, 0x080FF800, buf, sizeof(buf), &f->err), DFK_OK);
	assert_non_null(strstr(f->err.msg, "0x08100000"));
	fx_free(f);
}

static void test_get_commands(void **state)
{
	fx *f = open_f405(NULL);
	uint8_t cmds[16];
	size_t n = 0;
	(void)state;

	assert_int_equal(dfk_dfuse_get_commands(f->dev, cmds, sizeof(cmds), &n, &f->err), DFK_OK);
	assert_int_equal(n, 4);
	assert_int_equal(cmds[1], 0x21);
	assert_int_equal(cmds[3], 0x92);
	assert_int_equal(f->d.state, DFK_STATE_IDLE);
	fx_free(f);
}

static void test_mass_erase_slow_device(void **state)
{
	fx *f = open_f405(NULL);
	(void)state;

	/* The F405 says 100 ms and takes 32 s: keep polling, within the deadline. */
	f->d.mass_busy_ms = 32000;
	memset(f->d.mem, 0, 4096);
	assert_int_equal(dfk_dfuse_mass_erase(f->dev, &f->err), DFK_OK);
	assert_int_equal(f->d.n_mass, 1);
	assert_int_equal(f->d.mem[0], 0xFF);
	assert_true(f->bus.now_ms >= 32000);
	fx_free(f);
}

static void test_unprotect_reset_is_success(void **state)
{
	fx *f = open_f405(NULL);
	(void)state;

	assert_int_equal(dfk_dfuse_read_unprotect(f->dev, &f->err), DFK_OK);
	assert_int_equal(f->d.n_unprotect, 1);
	assert_true(f->d.gone);
	fx_free(f);
}

static void test_short_status_reply(void **state)
{
	fx *f = open_f405(NULL);
	dfk_status st;
	(void)state;

	f->d.short_status = true;
	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(f->err.msg, "GETSTATUS"));
	fx_free(f);
}

static void bad_state(mock_dev *d)
{
	d->state = 42;
}

static void test_unknown_state(void **state)
{
	fx *f = open_f405(bad_state);
	(void)state;

	assert_int_equal(dfk_dfu_make_idle(f->dev, &f->err), DFK_ERR_PROTOCOL);
	assert_non_null(strstr(f->err.msg, "42"));
	fx_free(f);
}

static void test_null_error_allowed(void **state)
{
	fx *f = open_f405(stuck_error);
	(void)state;

	/* the code survives without a place for the message */
	assert_int_equal(dfk_dfu_make_idle(f->dev, NULL), DFK_ERR_PROTOCOL);
	assert_int_equal(dfk_dfuse_set_address(f->dev, 0x08000000, NULL), DFK_ERR_STALL);
	fx_free(f);
}

static void test_read_with_transfer_size_override(void **state)
{
	fx *f = open_f405(NULL);
	uint8_t buf[5000];
	(void)state;

	for (size_t i = 0; i < sizeof(buf); i++)
		f->d.mem[i] = (uint8_t)(i * 13);
	/* the device still computes with its own 2048: each block addressed */
	dfk_dev_set_transfer_size(f->dev, 1024);
	assert_int_equal(dfk_dfuse_read(f->dev, 0x08000000, buf, sizeof(buf), &f->err), DFK_OK);
	assert_memory_equal(buf, f->d.mem, sizeof(buf));
	assert_int_equal(f->d.n_setaddr, 5);
	fx_free(f);
}

static void tiny_blocks(mock_dev *d)
{
	d->func.wTransferSize = 8;
}

static void test_read_block_number_wraps(void **state)
{
	fx *f = open_f405(tiny_blocks);
	size_t len = 600 * 1024;
	uint8_t *buf = malloc(len);
	(void)state;

	for (size_t i = 0; i < len; i++)
		f->d.mem[i] = (uint8_t)(i ^ (i >> 8));
	/* 76800 blocks: wBlockNum would pass 0xFFFF, so the pointer is set again */
	f->err.msg[0] = 0;
	dfk_code rc = dfk_dfuse_read(f->dev, 0x08000000, buf, len, &f->err);
	if (rc)
		print_message("%s\n", f->err.msg);
	assert_int_equal(rc, DFK_OK);
	assert_memory_equal(buf, f->d.mem, len);
	assert_int_equal(f->d.n_setaddr, 2);
	free(buf);
	fx_free(f);
}

/* The trace callback (what --trace prints) sees every request: its setup
 * packet, the bytes moved, the result with its message, and the time on
 * the context's clock. */
typedef struct trace_log {
	unsigned n;
	dfk_trace_event last;
	uint8_t data[16];
	char message[DFK_ERROR_MSG_MAX];
} trace_log;

static void on_trace(void *user, const dfk_trace_event *ev)
{
	trace_log *t = user;
	t->n++;
	t->last = *ev;
	assert_true(ev->data_len <= sizeof(t->data));
	if (ev->data_len)
		memcpy(t->data, ev->data, ev->data_len);
	snprintf(t->message, sizeof(t->message), "%s", ev->message ? ev->message : "");
}

static void slow_dnload(mock_dev *d)
{
	d->dnload_ms = 7;
}

static void test_trace_reports_each_request(void **state)
{
	fx *f = open_f405(slow_dnload);
	trace_log t;
	dfk_status st;
	void *user = NULL;
	(void)state;

	memset(&t, 0, sizeof(t));
	assert_null(dfk_ctx_trace(f->ctx, NULL));
	/* Nothing before a callback is set. */
	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_OK);
	dfk_ctx_set_trace(f->ctx, on_trace, &t);
	assert_ptr_equal(dfk_ctx_trace(f->ctx, &user), on_trace);
	assert_ptr_equal(user, &t);

	unsigned before = mock_transfers(&f->d);
	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_OK);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.last.size, sizeof(dfk_trace_event));
	assert_int_equal(t.last.kind, DFK_TRACE_CONTROL);
	assert_int_equal(t.last.setup.bmRequestType, 0xA1);
	assert_int_equal(t.last.setup.bRequest, DFK_REQ_GETSTATUS);
	assert_int_equal(t.last.setup.wLength, 6);
	assert_int_equal(t.last.result, DFK_OK);
	assert_null(t.last.message);
	assert_int_equal(t.last.data_len, 6);
	assert_int_equal(t.last.actual, 6);
	assert_int_equal(t.data[4], DFK_STATE_IDLE);

	/* A host-to-device request shows the bytes sent; its time is the
	 * device's (7 ms on the fake clock). */
	uint8_t cmd[5] = {0x21, 0x00, 0x40, 0x00, 0x08};
	uint64_t now = f->bus.now_ms;
	assert_int_equal(dfk_dfu_dnload(f->dev, 0, cmd, sizeof(cmd), &f->err), DFK_OK);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.last.setup.bmRequestType, 0x21);
	assert_int_equal(t.last.setup.wValue, 0);
	assert_int_equal(t.last.data_len, 5);
	assert_memory_equal(t.data, cmd, 5);
	assert_int_equal(t.last.start_ms, now);
	assert_int_equal(t.last.duration_ms, 7);

	/* A stalled request: its result and message (then the engine asks why,
	 * and those requests are traced too). */
	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_OK);
	unsigned n = t.n;
	f->d.stall_class_at = f->d.n_class + 1;
	assert_int_equal(dfk_dfu_get_state(f->dev, &st.state, &f->err), DFK_ERR_STALL);
	assert_int_equal(t.n, n + 1);
	assert_int_equal(t.last.result, DFK_ERR_STALL);
	assert_string_equal(t.message, "mock: stall fault");
	assert_int_equal(t.last.data_len, 0);

	/* One event per request the device saw. */
	assert_int_equal(t.n, mock_transfers(&f->d) - before);

	/* Unset: no more events. */
	dfk_ctx_set_trace(f->ctx, NULL, NULL);
	n = t.n;
	assert_int_equal(dfk_dfu_get_status(f->dev, &st, &f->err), DFK_OK);
	assert_int_equal(t.n, n);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_go_to_the_interface),
	    cmocka_unit_test(test_make_idle_clears_dfuerror),
	    cmocka_unit_test(test_make_idle_gives_up),
	    cmocka_unit_test(test_make_idle_aborts),
	    cmocka_unit_test(test_stall_explained_by_status),
	    cmocka_unit_test(test_make_idle_runtime),
	    cmocka_unit_test(test_erase_error_names_page_and_status),
	    cmocka_unit_test(test_command_costs_three_transfers),
	    cmocka_unit_test(test_stuck_busy_times_out),
	    cmocka_unit_test(test_poll_timeout_capped),
	    cmocka_unit_test(test_early_stall_retried),
	    cmocka_unit_test(test_stall_retries_bounded),
	    cmocka_unit_test(test_read_one_upload_per_block),
	    cmocka_unit_test(test_read_unaligned_tail),
	    cmocka_unit_test(test_read_past_memory_fails),
	    cmocka_unit_test(test_get_commands),
	    cmocka_unit_test(test_mass_erase_slow_device),
	    cmocka_unit_test(test_unprotect_reset_is_success),
	    cmocka_unit_test(test_short_status_reply),
	    cmocka_unit_test(test_unknown_state),
	    cmocka_unit_test(test_null_error_allowed),
	    cmocka_unit_test(test_read_with_transfer_size_override),
	    cmocka_unit_test(test_read_block_number_wraps),
	    cmocka_unit_test(test_trace_reports_each_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
