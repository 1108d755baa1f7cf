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
	dfk_ctx c;
	(void)state;
	memset(&c, 0x5A, sizeof(c));
	dfk_ctx_init(&c);
	assert_int_equal(c.usb_timeout_ms, 5000);
	assert_int_equal(c.poll_cap_ms, 60000);
	assert_int_equal(c.op_timeout_ms, 120000);
	assert_int_equal(c.reenum_timeout_ms, 10000);
	assert_int_equal(c.max_error_retries, 5);
	assert_null(c.log);
	assert_null(c.log_user);
	assert_null(c.progress);
	assert_null(c.progress_user);
	assert_non_null(c.clock.now_ms);
	assert_non_null(c.clock.sleep_ms);
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
	dfk_ctx c;
	log_rec r;
	char big[3000];
	(void)state;
	memset(&r, 0, sizeof(r));
	dfk_ctx_init(&c);
	dfk_log(&c, DFK_LOG_WARN, "nobody listens %d", 1); /* no callback: nothing */
	dfk_log(NULL, DFK_LOG_WARN, "no ctx");
	c.log = rec_log;
	c.log_user = &r;
	dfk_log(&c, DFK_LOG_WARN, "page 0x%08x only %d%% covered", 0x08004000u, 50);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.level, DFK_LOG_WARN);
	assert_string_equal(r.msg, "page 0x08004000 only 50% covered");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dfk_log(&c, DFK_LOG_DEBUG, "%s", big); /* cut, not overflowed */
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.level, DFK_LOG_DEBUG);
	assert_true(strlen(r.msg) > 100 && strlen(r.msg) < sizeof(big) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_system_clock),
	    cmocka_unit_test(test_phase_names),
	    cmocka_unit_test(test_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
