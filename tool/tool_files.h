/* Private to the file subcommands (tool_files.c, tool_file_*.c). */
#ifndef DFUKIT_TOOL_FILES_H
#define DFUKIT_TOOL_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "tool.h"

int tool_file_suffix(int argc, char **argv);
int tool_file_prefix(int argc, char **argv);
int tool_file_pack(int argc, char **argv);
int tool_file_info(int argc, char **argv);
int tool_file_unpack(int argc, char **argv);

/* Prints "dfukit CMD: message" on stderr; returns the sysexits code for err. */
int tf_fail(const char *cmd, const dfk_error *err);
/* Prints a usage error and a pointer to --help; returns 64. */
int tf_usage(const char *cmd, const char *fmt, ...) DFK_PRINTF(2, 3);
/* Strict number parsing: the whole string, no sign, in range. */
bool tf_parse_u32(const char *s, int base, uint32_t *v);
bool tf_parse_u16_hex(const char *s, uint16_t *v);

#endif
