/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Helpers for the line-oriented hex text formats (Intel HEX, S-record) and
 * for the hex numbers in device and memory-map specs (not public API). */
#ifndef DFUKIT_TEXT_H
#define DFUKIT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfukit/error.h"

/* Value of one hex digit (either case), or -1. */
int dfk__hexval(int c);

/* The next line of buf[*pos..len) as [*start, *end), with *pos moved past
 * its '\n'. Leading and trailing blanks, CR (CRLF files) and DOS's ^Z end
 * marker are not part of a record and are cut off. False at the end. */
bool dfk__next_line(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end);

/* Decodes nbytes bytes from the 2 * nbytes hex digits at buf + off into out;
 * an invalid digit is reported with the line number and its offset. */
dfk_code dfk__hex_bytes(const uint8_t *buf, size_t off, size_t nbytes, uint8_t *out, size_t line, dfk_error *err);

#endif
