/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit -V, and the name the program was invoked under (dfukit, or one of
 * dfu-util's names: tool_compat.c). */
#include <string.h>

#include "dfukit_build_info.h"
#include "tool.h"

tool_persona tool_as = TOOL_AS_DFUKIT;

const char *tool_progname(void)
{
	switch (tool_as) {
	case TOOL_AS_DFU_UTIL: return "dfu-util";
	case TOOL_AS_DFU_SUFFIX: return "dfu-suffix";
	case TOOL_AS_DFU_PREFIX: return "dfu-prefix";
	case TOOL_AS_DFUSE_PACK: return "dfuse-pack";
	case TOOL_AS_DFUKIT: break;
	}
	return "dfukit";
}

/* The build's `git describe` when it says more than the version. */
static const char *describe_suffix(void)
{
	return strcmp(DFUKIT_GIT_DESCRIBE, DFUKIT_VERSION) != 0 ? DFUKIT_GIT_DESCRIBE : NULL;
}

void tool_version(FILE *f)
{
	char usb[64];
	const char *git = describe_suffix();
	if (tool_as == TOOL_AS_DFUKIT) {
		fprintf(f, "dfukit %s%s%s%s\n", DFUKIT_VERSION, git ? " (git " : "", git ? git : "", git ? ")" : "");
	} else {
		/* First the line version scrapers parse ("dfu-util 0.11"), then
		 * what it really is. */
		fprintf(f, "%s%s 0.11 (dfukit %s compatibility mode)\n", tool_progname(),
			tool_as == TOOL_AS_DFU_UTIL || tool_as == TOOL_AS_DFUSE_PACK ? "" : " (dfu-util)",
			DFUKIT_VERSION);
		fprintf(f, "This is dfukit %s%s%s%s invoked as %s: dfu-util's command line, dfukit's engine.\n",
			DFUKIT_VERSION, git ? " (git " : "", git ? git : "", git ? ")" : "", tool_progname());
	}
	fprintf(f, "libdfukit %s, libusb %s\n", dfk_version(), dfk_transport_libusb_version(usb, sizeof(usb)));
}
