/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The libusb transport must come up, enumerate and go down cleanly on any
 * machine, including containers with no USB at all. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "dfukit/device.h"
#include "dfukit/transport.h"
/* The backend itself, for its static descriptor conversion. */
#include "transport_libusb.c"

static dfk_ctx *ctx; /* made in main */

static const uint8_t func11[9] = {9, 0x21, 0x0B, 0xFF, 0, 0, 8, 0x1A, 1};

static void flat_parse(const struct libusb_config_descriptor *c, dfk_config_desc *out)
{
	struct bytes b = {0};
	dfk_error err = {0};
	assert_int_equal(flatten_config(c, &b, &err), DFK_OK);
	assert_int_equal(b.p[0], 9);
	assert_int_equal(b.p[1], LIBUSB_DT_CONFIG);
	assert_int_equal(b.p[2] | b.p[3] << 8, b.len);
	assert_int_equal(dfk_config_desc_parse(b.p, b.len, out, &err), DFK_OK);
	free(b.p);
}

/* libusb keeps the DFU functional descriptor in the `extra` bytes of
 * whatever it followed; each place must end up where dfu-util finds it. */
static void test_flatten(void **state)
{
	(void)state;
	struct libusb_endpoint_descriptor ep = {.bLength = 7,
						.bDescriptorType = LIBUSB_DT_ENDPOINT,
						.bEndpointAddress = 0x81,
						.bmAttributes = 2,
						.wMaxPacketSize = 64};
	struct libusb_interface_descriptor alts[2] = {
	    {.bLength = 9,
	     .bInterfaceNumber = 0,
	     .bAlternateSetting = 0,
	     .bInterfaceClass = 0xFE,
	     .bInterfaceSubClass = 1,
	     .bInterfaceProtocol = 2,
	     .iInterface = 4},
	    {.bLength = 9,
	     .bInterfaceNumber = 0,
	     .bAlternateSetting = 1,
	     .bInterfaceClass = 0xFE,
	     .bInterfaceSubClass = 1,
	     .bInterfaceProtocol = 2,
	     .iInterface = 5,
	     .extra = func11,
	     .extra_length = 9},
	};
	struct libusb_interface vnd_alt = {0};
	struct libusb_interface_descriptor vnd = {
	    .bLength = 9, .bInterfaceNumber = 1, .bInterfaceClass = 0xFF, .bNumEndpoints = 1, .endpoint = &ep};
	struct libusb_interface intfs[2] = {{.altsetting = alts, .num_altsetting = 2}, vnd_alt};
	intfs[1].altsetting = &vnd;
	intfs[1].num_altsetting = 1;
	struct libusb_config_descriptor c = {.bLength = 9,
					     .bDescriptorType = LIBUSB_DT_CONFIG,
					     .bNumInterfaces = 2,
					     .bConfigurationValue = 1,
					     .interface = intfs};
	dfk_config_desc cfg;

	/* In the alt's extra: that alt has it. */
	flat_parse(&c, &cfg);
	assert_int_equal(cfg.bConfigurationValue, 1);
	assert_int_equal(cfg.bNumInterfaces, 2);
	assert_int_equal(cfg.nalts, 3);
	assert_int_equal(cfg.alts[1].bAlternateSetting, 1);
	assert_int_equal(cfg.alts[1].iInterface, 5);
	assert_true(cfg.alts[1].has_func);
	assert_false(cfg.alts[0].has_func);
	assert_true(cfg.has_func);
	assert_int_equal(cfg.func.wTransferSize, 2048);
	assert_int_equal(cfg.alts[2].bInterfaceNumber, 1);
	assert_int_equal(cfg.alts[2].index, 1);
	dfk_config_desc_free(&cfg);

	/* In the config's extra (before any interface): the config has it. */
	alts[1].extra = NULL;
	alts[1].extra_length = 0;
	c.extra = func11;
	c.extra_length = 9;
	flat_parse(&c, &cfg);
	assert_true(cfg.has_func);
	assert_false(cfg.alts[0].has_func);
	assert_false(cfg.alts[1].has_func);
	dfk_config_desc_free(&cfg);

	/* After an endpoint: the alt that owns the endpoint has it. */
	c.extra = NULL;
	c.extra_length = 0;
	ep.extra = func11;
	ep.extra_length = 9;
	flat_parse(&c, &cfg);
	assert_true(cfg.alts[2].has_func);
	assert_false(cfg.alts[1].has_func);
	dfk_config_desc_free(&cfg);

	/* None at all. */
	ep.extra = NULL;
	ep.extra_length = 0;
	flat_parse(&c, &cfg);
	assert_false(cfg.has_func);
	dfk_config_desc_free(&cfg);
}

static void test_init_enumerate(void **state)
{
	(void)state;
	dfk_transport *t = NULL;
	dfk_error err = {0};
	assert_int_equal(dfk_transport_libusb_new(&t, NULL, 0, &err), DFK_ERR_USAGE);
	assert_null(t);
	dfk_code rc = dfk_transport_libusb_new(&t, ctx, 0, &err);

	if (rc != DFK_OK) {
		/* No usable USB stack: a clear "no device" error, no crash. */
		assert_int_equal(rc, DFK_ERR_NODEV);
		assert_null(t);
		assert_non_null(strstr(err.msg, "libusb"));
		return;
	}
	assert_non_null(t);
	assert_string_equal(dfk_transport_name(t), "libusb");
	for (int round = 0; round < 2; round++) {
		dfk_usb_list l = {(dfk_usb_node *)1, 99};
		rc = t->ops->enumerate(t, &l, &err);
		assert_true(rc == DFK_OK || rc == DFK_ERR_NODEV || rc == DFK_ERR_IO);
		if (rc != DFK_OK) {
			assert_null(l.devs);
			assert_int_equal(l.count, 0);
			continue;
		}
		assert_true(l.count == 0 || l.devs != NULL);
		for (size_t i = 0; i < l.count; i++) {
			const dfk_usb_dev *d = &l.devs[i].dev;
			assert_true(d->nconfigs <= d->desc.bNumConfigurations);
			/* dfu-util's path: BUS-PORT[.PORT...] or empty for a root hub. */
			assert_true(d->path[0] == '\0' || strchr(d->path, '-') != NULL);
			for (size_t c = 0; c < d->nconfigs; c++)
				assert_true(d->configs[c].nalts == 0 || d->configs[c].alts != NULL);
		}
		t->ops->list_free(t, &l);
		assert_null(l.devs);
		assert_int_equal(l.count, 0);
	}
	dfk_transport_free(t);
}

static void test_debug_levels(void **state)
{
	(void)state;
	/* Out-of-range levels are clamped, not passed on to libusb (high
	 * ones would only make libusb chatty on stderr). */
	const int levels[] = {-5, 0, 1};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		dfk_transport *t = NULL;
		dfk_error err = {0};
		dfk_code rc = dfk_transport_libusb_new(&t, ctx, levels[i], &err);
		assert_true(rc == DFK_OK || rc == DFK_ERR_NODEV);
		assert_true((rc == DFK_OK) == (t != NULL));
		dfk_transport_free(t);
	}
}

/* Two transports in one process have separate contexts: destroying one
 * leaves the other working. */
/* The version string is the loaded libusb's, whole or truncated, never
 * overrunning the buffer. */
static void test_libusb_version(void **state)
{
	(void)state;
	const struct libusb_version *v = libusb_get_version();
	char want[64], buf[64];
	snprintf(want, sizeof(want), "%u.%u.%u.%u", v->major, v->minor, v->micro, v->nano);
	assert_ptr_equal(dfk_transport_libusb_version(buf, sizeof(buf)), buf);
	assert_int_equal(strncmp(buf, want, strlen(want)), 0);
	assert_int_equal(v->major, 1);
	char small[4];
	memset(small, 'x', sizeof(small));
	dfk_transport_libusb_version(small, sizeof(small));
	assert_int_equal(small[3], '\0');
	assert_int_equal(strncmp(small, want, 3), 0);
	assert_null(dfk_transport_libusb_version(NULL, 0));
}

static void test_two_contexts(void **state)
{
	(void)state;
	dfk_transport *a = NULL, *b = NULL;
	dfk_error err = {0};
	if (dfk_transport_libusb_new(&a, ctx, 0, &err) != DFK_OK)
		return;
	assert_int_equal(dfk_transport_libusb_new(&b, ctx, 0, &err), DFK_OK);
	dfk_transport_free(a);
	dfk_usb_list l;
	dfk_code rc = b->ops->enumerate(b, &l, &err);
	assert_true(rc == DFK_OK || rc == DFK_ERR_NODEV || rc == DFK_ERR_IO);
	if (rc == DFK_OK)
		b->ops->list_free(b, &l);
	dfk_transport_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flatten),	   cmocka_unit_test(test_init_enumerate),
	    cmocka_unit_test(test_debug_levels),   cmocka_unit_test(test_two_contexts),
	    cmocka_unit_test(test_libusb_version),
	};
	if (dfk_ctx_new(&ctx, NULL))
		return 1;
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	dfk_ctx_free(ctx);
	return failed;
}
