/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The context: defaults, the system clock, phase names and logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfukit/device.h"

static void test_defaults(void **state)
{
	dfk_ctx *c = NULL;
	dfk_error err;
	(void)state;
	assert_int_equal(dfk_ctx_new(&c, &err), DFK_OK);
	assert_non_null(c);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_USB), 5000);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_POLL_CAP), 60000);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_OPERATION), 120000);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_REENUM), 10000);
	assert_int_equal(dfk_ctx_max_error_retries(c), 5);
	assert_true(dfk_ctx_clock(c)->now_ms == dfk_clock_system().now_ms);
	assert_true(dfk_ctx_clock(c)->sleep_ms == dfk_clock_system().sleep_ms);
	assert_false(dfk_ctx_cancelled(c));
	dfk_ctx_free(c);
	dfk_ctx_free(NULL);
}

static uint64_t fixed_now(void *user)
{
	return *(uint64_t *)user;
}

static void fixed_sleep(void *user, uint32_t ms)
{
	*(uint64_t *)user += ms;
}

static void noop_progress(void *user, dfk_phase phase, uint64_t done, uint64_t total, uint32_t addr)
{
	(void)user;
	(void)phase;
	(void)done;
	(void)total;
	(void)addr;
}

static void test_setters(void **state)
{
	dfk_ctx *c = NULL;
	dfk_error err;
	uint64_t t = 1000;
	dfk_clock fake = {fixed_now, fixed_sleep, &t};
	dfk_clock half = {fixed_now, NULL, &t};
	(void)state;
	assert_int_equal(dfk_ctx_new(&c, &err), DFK_OK);

	assert_int_equal(dfk_ctx_set_timeout(c, DFK_TIMEOUT_USB, 1234, &err), DFK_OK);
	assert_int_equal(dfk_ctx_set_timeout(c, DFK_TIMEOUT_POLL_CAP, 7, &err), DFK_OK);
	assert_int_equal(dfk_ctx_set_timeout(c, DFK_TIMEOUT_OPERATION, 99, &err), DFK_OK);
	assert_int_equal(dfk_ctx_set_timeout(c, DFK_TIMEOUT_REENUM, 0, &err), DFK_OK);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_USB), 1234);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_POLL_CAP), 7);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_OPERATION), 99);
	assert_int_equal(dfk_ctx_timeout(c, DFK_TIMEOUT_REENUM), 0);
	assert_int_equal(dfk_ctx_set_timeout(c, (dfk_timeout)17, 5, &err), DFK_ERR_USAGE);
	assert_int_equal(dfk_ctx_timeout(c, (dfk_timeout)17), 0);
	dfk_ctx_set_max_error_retries(c, 2);
	assert_int_equal(dfk_ctx_max_error_retries(c), 2);
	void *user = NULL;
	dfk_ctx_set_progress(c, noop_progress, &t);
	assert_true(dfk_ctx_progress(c, &user) == noop_progress);
	assert_ptr_equal(user, &t);

	/* The clock is copied; sleeping and cancelling go through it. */
	assert_int_equal(dfk_ctx_set_clock(c, &fake, &err), DFK_OK);
	fake.user = NULL;
	assert_int_equal(dfk_ctx_clock(c)->now_ms(dfk_ctx_clock(c)->user), 1000);
	assert_int_equal(dfk_ctx_sleep(c, 45), DFK_OK);
	assert_int_equal(t, 1045);
	dfk_ctx_cancel(c);
	assert_true(dfk_ctx_cancelled(c));
	assert_int_equal(dfk_ctx_sleep(c, 45), DFK_ERR_CANCELLED);
	assert_int_equal(t, 1045);
	dfk_ctx_cancel_reset(c);
	assert_false(dfk_ctx_cancelled(c));
	/* A clock without sleep is refused and the old one kept; NULL is the
	 * system clock again. */
	assert_int_equal(dfk_ctx_set_clock(c, &half, &err), DFK_ERR_USAGE);
	assert_true(dfk_ctx_clock(c)->sleep_ms == fixed_sleep);
	assert_int_equal(dfk_ctx_set_clock(c, NULL, &err), DFK_OK);
	assert_true(dfk_ctx_clock(c)->now_ms == dfk_clock_system().now_ms);
	dfk_ctx_free(c);
}

static void test_system_clock(void **state)
{
	dfk_clock c = dfk_clock_system();
	uint64_t t0, t1, t2;
	(void)state;
	t0 = c.now_ms(c.user);
	c.sleep_ms(c.user, 30);
	t1 = c.now_ms(c.user);
	assert_true(t1 >= t0 + 30);
	assert_true(t1 < t0 + 5000);
	c.sleep_ms(c.user, 0);
	t2 = c.now_ms(c.user);
	assert_true(t2 >= t1); /* monotonic */
}

static void test_phase_names(void **state)
{
	(void)state;
	assert_string_equal(dfk_phase_name(DFK_PHASE_ERASE), "erase");
	assert_string_equal(dfk_phase_name(DFK_PHASE_DOWNLOAD), "download");
	assert_string_equal(dfk_phase_name(DFK_PHASE_UPLOAD), "upload");
	assert_string_equal(dfk_phase_name(DFK_PHASE_VERIFY), "verify");
	assert_string_equal(dfk_phase_name(DFK_PHASE_MANIFEST), "manifest");
	assert_string_equal(dfk_phase_name(DFK_PHASE_DETACH), "detach");
	assert_string_equal(dfk_phase_name((dfk_phase)99), "unknown");
}

typedef struct log_rec {
	int calls;
	dfk_log_level level;
	char msg[2048];
} log_rec;

static void rec_log(void *user, dfk_log_level level, const char *msg)
{
	log_rec *r = user;
	r->calls++;
	r->level = level;
	strncpy(r->msg, msg, sizeof(r->msg) - 1);
}

static void test_log(void **state)
{
	dfk_ctx *c = NULL;
	log_rec r;
	char big[3000];
	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(dfk_ctx_new(&c, NULL), DFK_OK);
	dfk_log(c, DFK_LOG_WARN, "nobody listens %d", 1); /* no callback: nothing */
	dfk_log(NULL, DFK_LOG_WARN, "no ctx");
	dfk_ctx_set_log(c, rec_log, &r);
	void *user = NULL;
	assert_true(dfk_ctx_log(c, &user) == rec_log);
	assert_ptr_equal(user, &r);
	assert_null(dfk_ctx_progress(c, &user));
	assert_null(user);
	dfk_log(c, DFK_LOG_WARN, "page 0x%08x only %d%% covered", 0x08004000u, 50);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.level, DFK_LOG_WARN);
	assert_string_equal(r.msg, "page 0x08004000 only 50% covered");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dfk_log(c, DFK_LOG_DEBUG, "%s", big); /* cut, not overflowed */
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.level, DFK_LOG_DEBUG);
	assert_true(strlen(r.msg) > 100 && strlen(r.msg) < sizeof(big) - 1);
	dfk_ctx_set_log(c, NULL, NULL);
	assert_null(dfk_ctx_log(c, NULL));
	dfk_log(c, DFK_LOG_WARN, "no longer heard");
	assert_int_equal(r.calls, 2);
	dfk_ctx_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	cmocka_unit_test(test_setters), cmocka_unit_test(test_system_clock),
	    cmocka_unit_test(test_phase_names), cmocka_unit_test(test_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
