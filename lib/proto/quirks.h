/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* Known-wrong device behaviour, keyed by the device's identity: what a
 * device says (descriptors, memory maps, timings) is corrected here, in one
 * table, instead of in `if (vid == ...)` branches through the engine.
 * Pure: no I/O. */
#ifndef DFUKIT_PROTO_QUIRKS_H
#define DFUKIT_PROTO_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>

#include "dfukit/memmap.h"

enum {
	/* bwPollTimeout is meaningless: poll every poll_ms instead. */
	DFK_QUIRK_IGNORE_POLLTIMEOUT = 1u << 0,
	/* bcdDFUVersion claims more than the device does: treat as DFU 1.1. */
	DFK_QUIRK_FORCE_DFU11 = 1u << 1,
	/* The serial string is raw bytes (UTF-8 or binary), not UTF-16LE. */
	DFK_QUIRK_RAW_SERIAL = 1u << 2,
	/* GD32VF103 "version A": alt 0's map advertises 2 KiB pages where the
	 * chip has 1 KiB pages; the real layout comes from the serial. */
	DFK_QUIRK_GD32_LAYOUT = 1u << 3,
	/* The device leaves DFU mode before it answers the last GETSTATUS:
	 * an error after the leave request is not a failure. */
	DFK_QUIRK_LEAVE_NO_STATUS = 1u << 4,
	/* Stays in dfuDNBUSY after some erases until it gets CLRSTATUS
	 * (STM32H7 rev V beyond 1 MiB): clear and re-check once the
	 * advertised time has passed. */
	DFK_QUIRK_BUSY_TAIL_CLRSTATUS = 1u << 5,
	/* Stalls a GETSTATUS sent before the advertised poll time is over
	 * (STM32L4 ROMs): retry a stalled GETSTATUS a few times. */
	DFK_QUIRK_EARLY_STATUS_STALL = 1u << 6,
	/* Erases inside the control transfer itself (ESP32-S2, Zephyr,
	 * TinyUSB): DNLOAD and the GETSTATUS after it get long_timeout_ms. */
	DFK_QUIRK_ERASE_IN_TRANSFER = 1u << 7,
	/* Mass erase takes far longer than the bwPollTimeout it reports. */
	DFK_QUIRK_SLOW_MASS_ERASE = 1u << 8,
	/* Answers dfuDNBUSY with a 0 ms poll timeout forever when wedged
	 * (Black Magic Probe): give up after max_zero_polls such answers. */
	DFK_QUIRK_ZERO_POLL_WEDGE = 1u << 9,
	/* Resets itself once its option bytes are written (STM32 ROMs,
	 * AN2606): the last status never comes. The write is confirmed by
	 * reading them back when the device is back. */
	DFK_QUIRK_OPTION_BYTES_RESET = 1u << 10,
};

typedef struct dfk_quirks {
	unsigned flags;
	uint32_t poll_ms;	    /* IGNORE_POLLTIMEOUT */
	uint32_t long_timeout_ms;   /* ERASE_IN_TRANSFER */
	uint32_t mass_erase_ms;	    /* SLOW_MASS_ERASE */
	unsigned max_zero_polls;    /* ZERO_POLL_WEDGE */
	unsigned max_status_stalls; /* EARLY_STATUS_STALL */
	const char *name;	    /* the entry that matched, for logs; NULL if none */
} dfk_quirks;

/* The quirks of the device with these IDs (bcdDevice as in the device
 * descriptor); all zero when none is known. Several entries may match
 * (their flags add up). */
void dfk_quirks_lookup(uint16_t vid, uint16_t pid, uint16_t bcd_device, dfk_quirks *q);

/* GD32VF103: replaces the advertised map of alt 0 by the real one when the
 * raw serial names the part ("3?xJ": serial[2] gives the flash size).
 * Returns true when the map was replaced (map's old segments freed);
 * false (map untouched) when the serial does not identify the part. */
bool dfk_quirks_gd32_layout(const char *raw_serial, dfk_memmap *map);

#endif
