/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
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

/* Option c (one of -c, -a, -D: check, add, delete FILE, as in dfu-suffix and
 * dfu-prefix) with its argument: only one mode may be given. 0 or 64. */
int tf_mode_opt(const char *cmd, int c, const char *arg, int *mode, const char **file);
/* After getopt: no operand may be left and a mode must be given. 0 or 64. */
int tf_mode_end(const char *cmd, int argc, char **argv, int mode);

/* Replaces path atomically with head + body, and suffix (its CRC recomputed
 * over what precedes it) when not NULL. 0 or the exit code, message printed. */
int tf_rewrite(const char *cmd, const char *path, const uint8_t *head, size_t head_len, const uint8_t *body,
	       size_t body_len, const dfk_suffix *suffix);

#endif
