/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: dispatch between the file subcommands and the dfu-util compatible
 * flashing command line, which takes no subcommand so that scripts written
 * for dfu-util run unchanged. */
#include <string.h>

#include "tool.h"
#include "tool_capture.h"

int main(int argc, char **argv)
{
	static const char *const file_cmds[] = {"suffix", "prefix", "pack", "info", "unpack"};
	int status;

	/* Invoked as dfu-util, dfu-suffix, dfu-prefix or dfuse-pack. */
	if (tool_compat_main(argc, argv, &status))
		return status;

	if (argc > 1) {
		if (strcmp(argv[1], "capture") == 0)
			return tool_capture_main(argc - 1, argv + 1);
		for (size_t i = 0; i < sizeof(file_cmds) / sizeof(file_cmds[0]); i++) {
			if (strcmp(argv[1], file_cmds[i]) == 0)
				return tool_files_main(argc - 1, argv + 1);
		}
	}
	return tool_flash_main(argc, argv);
}
