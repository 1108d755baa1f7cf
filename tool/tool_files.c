/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* `dfukit suffix|prefix|pack|info|unpack`: dispatch and the helpers the file
 * subcommands share. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tool_files.h"

int tf_fail(const char *cmd, const dfk_error *err)
{
	if (tool_as != TOOL_AS_DFUKIT)
		fprintf(stderr, "%s: %s\n", tool_progname(), err->msg[0] ? err->msg : "failed");
	else
		fprintf(stderr, "dfukit %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
	return tool_exit_status(err->code);
}

int tf_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (tool_as != TOOL_AS_DFUKIT)
		fprintf(stderr, "%s: ", tool_progname());
	else
		fprintf(stderr, "dfukit %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (tool_as != TOOL_AS_DFUKIT)
		fprintf(stderr, "\nTry '%s --help'.\n", tool_progname());
	else
		fprintf(stderr, "\nTry 'dfukit %s --help'.\n", cmd);
	return 64;
}

bool tf_parse_u32(const char *s, int base, uint32_t *v)
{
	unsigned long long x;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return false;
	errno = 0;
	x = strtoull(s, &end, base);
	if (errno || *end || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

bool tf_parse_u16_hex(const char *s, uint16_t *v)
{
	uint32_t x;

	if (!tf_parse_u32(s, 16, &x) || x > 0xFFFF)
		return false;
	*v = (uint16_t)x;
	return true;
}

int tf_mode_opt(const char *cmd, int c, const char *arg, int *mode, const char **file)
{
	if (*mode && *mode != c)
		return tf_usage(cmd, "give only one of -c, -a and -D");
	*mode = c;
	*file = arg;
	return 0;
}

int tf_mode_end(const char *cmd, int argc, char **argv, int mode)
{
	if (optind < argc)
		return tf_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (!mode)
		return tf_usage(cmd, "give one of -c FILE, -a FILE or -D FILE");
	return 0;
}

int tf_rewrite(const char *cmd, const char *path, const uint8_t *head, size_t head_len, const uint8_t *body,
	       size_t body_len, const dfk_suffix *suffix)
{
	dfk_error err = {0};
	dfk_out *out;
	uint8_t sfx[DFK_SUFFIX_LEN];

	if (dfk_out_open(&out, path, DFK_OUT_OVERWRITE, &err) != DFK_OK)
		return tf_fail(cmd, &err);
	if ((head_len && dfk_out_write(out, head, head_len, &err) != DFK_OK) ||
	    (body_len && dfk_out_write(out, body, body_len, &err) != DFK_OK))
		goto fail;
	if (suffix) {
		dfk_suffix_build(sfx, suffix, dfk_out_crc(out));
		if (dfk_out_write(out, sfx, sizeof(sfx), &err) != DFK_OK)
			goto fail;
	}
	if (dfk_out_commit(out, &err) != DFK_OK)
		return tf_fail(cmd, &err);
	return 0;
fail:
	dfk_out_abort(out);
	return tf_fail(cmd, &err);
}

int tool_files_main(int argc, char **argv)
{
	if (strcmp(argv[0], "suffix") == 0)
		return tool_file_suffix(argc, argv);
	if (strcmp(argv[0], "prefix") == 0)
		return tool_file_prefix(argc, argv);
	if (strcmp(argv[0], "pack") == 0)
		return tool_file_pack(argc, argv);
	if (strcmp(argv[0], "info") == 0)
		return tool_file_info(argc, argv);
	if (strcmp(argv[0], "unpack") == 0)
		return tool_file_unpack(argc, argv);
	fprintf(stderr, "dfukit: unknown file command '%s'\n", argv[0]);
	return 64;
}
