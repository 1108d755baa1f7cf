/* `dfukit suffix|prefix|pack|info|unpack`: dispatch and the helpers the file
 * subcommands share. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tool_files.h"

int tf_fail(const char *cmd, const dfk_error *err)
{
	fprintf(stderr, "dfukit %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
	return dfk_code_exit(err->code);
}

int tf_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dfukit %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
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
