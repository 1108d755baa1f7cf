/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* The quirk table. Sources for each entry are in its comment; the entries
 * follow dfu-util 0.11's quirks.c in what they fix (facts, not its code)
 * and add the timing quirks seen in public bug reports. */
#include "quirks.h"

#include <stdlib.h>
#include <string.h>

typedef struct quirk_entry {
	uint16_t vid, pid_lo, pid_hi;
	int bcd; /* -1: any bcdDevice */
	const char *name;
	dfk_quirks q;
} quirk_entry;

#define ANY_BCD (-1)

static const quirk_entry table[] = {
    /* Openmoko Neo1973/FreeRunner and friends (DFU 1.0 era): bwPollTimeout
     * is not honoured by the firmware; dfu-util polls every 5 ms. */
    {0x1d50, 0x5117, 0x5126, ANY_BCD, "Openmoko", {DFK_QUIRK_IGNORE_POLLTIMEOUT, 5, 0, 0, 0, 0, NULL}},
    {0x16c0, 0x076b, 0x076b, ANY_BCD, "OpenPCD", {DFK_QUIRK_IGNORE_POLLTIMEOUT, 5, 0, 0, 0, 0, NULL}},
    {0x16c0, 0x0762, 0x0762, ANY_BCD, "SIMtrace", {DFK_QUIRK_IGNORE_POLLTIMEOUT, 5, 0, 0, 0, 0, NULL}},
    {0x16c0, 0x076c, 0x076c, ANY_BCD, "OpenPICC", {DFK_QUIRK_IGNORE_POLLTIMEOUT, 5, 0, 0, 0, 0, NULL}},
    {0x0908, 0x02c4, 0x02c5, 0x0000, "Siemens PXM40/PXM50", {DFK_QUIRK_IGNORE_POLLTIMEOUT, 5, 0, 0, 0, 0, NULL}},
    {0x0763, 0x2806, 0x2806, ANY_BCD, "M-Audio Transit", {DFK_QUIRK_IGNORE_POLLTIMEOUT, 5, 0, 0, 0, 0, NULL}},
    /* LeafLabs Maple bootloader v2: claims a DFU version it does not speak. */
    {0x1eaf, 0x0003, 0x0003, 0x0200, "Maple", {DFK_QUIRK_FORCE_DFU11, 0, 0, 0, 0, 0, NULL}},
    /* GigaDevice GD32VF103 ROM: raw serial, wrong page size in alt 0's map,
     * leaves before its last status (riscv-mcu/gd32-dfu-utils). */
    {0x28e9,
     0x0189,
     0x0189,
     ANY_BCD,
     "GD32VF103",
     {DFK_QUIRK_RAW_SERIAL | DFK_QUIRK_GD32_LAYOUT | DFK_QUIRK_LEAVE_NO_STATUS, 0, 0, 0, 0, 0, NULL}},
    /* STM32 system bootloaders (AN2606): F4 mass erase reports 100 ms but
     * takes up to ~32 s; L4 stalls an early GETSTATUS; H7 rev V stays busy
     * after erases beyond 1 MiB until CLRSTATUS (betaflight-configurator
     * #1861); every family resets after an option-byte write. One PID for
     * every family, so all apply, each only where its symptom shows. */
    {0x0483,
     0xdf11,
     0xdf11,
     ANY_BCD,
     "STM32 system bootloader",
     {DFK_QUIRK_SLOW_MASS_ERASE | DFK_QUIRK_EARLY_STATUS_STALL | DFK_QUIRK_BUSY_TAIL_CLRSTATUS |
	  DFK_QUIRK_OPTION_BYTES_RESET,
      0, 0, 40000, 0, 3, NULL}},
    /* Espressif ESP32-S2/S3 USB DFU (ROM/TinyUSB): erases inside the
     * DNLOAD control transfer, which can exceed the 5 s USB timeout. */
    {0x303a, 0x0002, 0x0002, ANY_BCD, "ESP32-S2", {DFK_QUIRK_ERASE_IN_TRANSFER, 0, 30000, 0, 0, 0, NULL}},
    {0x303a, 0x0009, 0x0009, ANY_BCD, "ESP32-S3", {DFK_QUIRK_ERASE_IN_TRANSFER, 0, 30000, 0, 0, 0, NULL}},
    /* Zephyr's USB DFU class (nRF52840 and others, Nordic's VID in the
     * samples): flash erase happens in the request handler. */
    {0x2fe3, 0x0100, 0x0100, ANY_BCD, "Zephyr USB DFU", {DFK_QUIRK_ERASE_IN_TRANSFER, 0, 30000, 0, 0, 0, NULL}},
    /* Black Magic Probe DFU bootloader (1d50:6017 native, 6018 in DFU
     * mode): a wedged probe answers dfuDNBUSY with 0 ms forever. */
    {0x1d50, 0x6017, 0x6018, ANY_BCD, "Black Magic Probe", {DFK_QUIRK_ZERO_POLL_WEDGE, 0, 0, 0, 100, 0, NULL}},
};

void dfk_quirks_lookup(uint16_t vid, uint16_t pid, uint16_t bcd_device, dfk_quirks *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const quirk_entry *e = &table[i];
		if (e->vid != vid || pid < e->pid_lo || pid > e->pid_hi)
			continue;
		if (e->bcd != ANY_BCD && e->bcd != bcd_device)
			continue;
		q->flags |= e->q.flags;
		if (e->q.poll_ms)
			q->poll_ms = e->q.poll_ms;
		if (e->q.long_timeout_ms > q->long_timeout_ms)
			q->long_timeout_ms = e->q.long_timeout_ms;
		if (e->q.mass_erase_ms > q->mass_erase_ms)
			q->mass_erase_ms = e->q.mass_erase_ms;
		if (e->q.max_zero_polls)
			q->max_zero_polls = e->q.max_zero_polls;
		if (e->q.max_status_stalls)
			q->max_status_stalls = e->q.max_status_stalls;
		q->name = e->name;
	}
}

bool dfk_quirks_gd32_layout(const char *serial, dfk_memmap *map)
{
	uint32_t pages;
	dfk_mem_segment *seg;

	/* "3?xJ": serial[0] '3' and serial[3] 'J' identify the GD32VF103
	 * family; serial[2] is the flash size code (fwupd, gd32-dfu-utils). */
	if (!serial || strlen(serial) < 4 || serial[0] != '3' || serial[3] != 'J')
		return false;
	switch (serial[2]) {
	case '2': pages = 8; break;
	case '4': pages = 16; break;
	case '6': pages = 32; break;
	case '8': pages = 64; break;
	case 'B': pages = 128; break;
	case 'D': pages = 256; break;
	default: return false;
	}
	seg = malloc(sizeof(*seg));
	if (!seg)
		return false;
	seg->start = 0x08000000;
	seg->page_size = 1024;
	seg->pages = pages;
	seg->end = (uint64_t)seg->start + (uint64_t)pages * 1024u;
	seg->perms = DFK_MEM_READABLE | DFK_MEM_ERASABLE | DFK_MEM_WRITEABLE;
	dfk_memmap_free(map);
	map->segs = seg;
	map->count = 1;
	return true;
}
