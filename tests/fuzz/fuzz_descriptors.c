/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* USB descriptors as the tool reads them from a device: device,
 * configuration (with DFU functional descriptors), string, and the
 * GETSTATUS reply. The first byte picks the parser. */
#include "dfukit/dfukit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dfk_error err;
	char out[256];

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0: {
		dfk_device_desc dd;
		(void)dfk_device_desc_parse(data + 1, size - 1, &dd, &err);
		break;
	}
	case 1: {
		dfk_config_desc cfg;
		if (dfk_config_desc_parse(data + 1, size - 1, &cfg, &err) == DFK_OK)
			dfk_config_desc_free(&cfg);
		break;
	}
	case 2: {
		dfk_func_desc fd;
		(void)dfk_func_desc_parse(data + 1, size - 1, &fd, &err);
		break;
	}
	case 3:
		if (dfk_string_desc_decode(data + 1, size - 1, out, sizeof(out), &err) == DFK_OK) {
			char clean[256];
			dfk_sanitize(out, clean, sizeof(clean));
		}
		break;
	case 4: {
		dfk_status st;
		if (dfk_status_decode(data + 1, size - 1, &st, &err) == DFK_OK) {
			(void)dfk_state_name(st.state);
			(void)dfk_status_name(st.status);
		}
		break;
	}
	}
	return 0;
}
