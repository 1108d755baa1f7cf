/* The devices dfukit-emu can be: identities, memory maps, DFU attributes
 * and timings of real bootloaders (see docs: protocols.md B.1, B.5, B.7).
 * Profiles are read-only tables; a device only points at one. */
#include <string.h>

#include "emu_internal.h"

/* F4 option bytes at 0x1FFFC000: USER 0xED, RDP 0xAA (level 0), their
 * complements, then nWRP (no sector write-protected) and complements. */
static const uint8_t f405_option[16] = {0xED, 0xAA, 0x12, 0x55, 0xFF, 0xFF, 0xFF, 0xFF,
					0xFF, 0x0F, 0x00, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF};
/* Same with RDP 0xBB: read protection level 1. */
static const uint8_t f405_option_rdp1[16] = {0xED, 0xBB, 0x12, 0x44, 0xFF, 0xFF, 0xFF, 0xFF,
					     0xFF, 0x0F, 0x00, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF};
/* L4 FLASH_OPTR reset value 0xFFEFF8AA and its complement. */
static const uint8_t l476_option[8] = {0xAA, 0xF8, 0xEF, 0xFF, 0x55, 0x07, 0x10, 0x00};
/* H7 FLASH_OPTSR: RDP (bits 15:8) 0xAA. */
static const uint8_t h743_option[4] = {0xF0, 0xAA, 0xC6, 0x13};

#define F405_ALTS(opt)                                                                                                 \
	{                                                                                                              \
		{"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", EMU_MEM_FLASH, 0, 0, NULL, 0},             \
		    {"@Option Bytes  /0x1FFFC000/01*016 e", EMU_MEM_OPTION, 0, 0, opt, sizeof(opt)},                   \
		    {"@OTP Memory /0x1FFF7800/01*512 e,01*016 e", EMU_MEM_OTP, 0, 0, NULL, 0},                         \
		{                                                                                                      \
			"@Device Feature/0xFFFF0000/01*004 e", EMU_MEM_RAM, 0, 0, NULL, 0                              \
		}                                                                                                      \
	}

/* F4 (DS8626): sector erase ~250 ms for 16 KiB up to ~1 s for 128 KiB,
 * word program 16 us; mass erase reported as 100 ms but ~16 s (x32, max). */
#define F405_TIMING                                                                                                    \
	{                                                                                                              \
		143, 6700, 4, 16000, 100, 1, 1, 100, EMU_EARLY_NAK                                                     \
	}

#define DFU11(nm, dsc, attributes)                                                                                     \
	{                                                                                                              \
		.name = nm, .desc = dsc, .dfuse = false, .vid = 0x1209, .pid = 0xdf11, .bcd = 0x0100,                  \
		.manufacturer = "dfukit", .product = "dfukit-emu DFU 1.1 device", .serial = "EMU-DFU11-0001",          \
		.has_runtime = true, .rt_pid = 0xdf10, .rt_bcd = 0x0100, .rt_product = "dfukit-emu application",       \
		.rt_intf = "DFU runtime", .starts_runtime = true, .attrs = attributes, .detach_timeout = 1000,         \
		.xfer_size = 1024, .bcd_dfu = 0x0110,                                                                  \
		.alts = {{"Flash", EMU_MEM_FLASH, 512 * 1024, 1024, NULL, 0},                                          \
			 {"EEPROM", EMU_MEM_RAM, 4096, 0, NULL, 0}},                                                   \
		.nalts = 2, .start_state = DFK_STATE_IDLE, .start_status = DFK_STATUS_OK, .leave = EMU_LEAVE_RUNTIME,  \
		.rdp_alt = -1, .t = {20, 0, 10, 0, 0, 1, 50, 100, EMU_EARLY_SPEC},                                     \
	}

static const emu_profile profiles[] = {
    DFU11("dfu11", "plain DFU 1.1, runtime mode 1209:df10 -> DFU mode 1209:df11, manifestation tolerant, upload",
	  DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD | DFK_ATTR_MANIFEST_TOLERANT),
    DFU11("dfu11-will-detach", "dfu11 with bitWillDetach: re-enumerates by itself after DFU_DETACH",
	  DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD | DFK_ATTR_MANIFEST_TOLERANT | DFK_ATTR_WILL_DETACH),
    DFU11("dfu11-dnload-only", "dfu11 without bitCanUpload: UPLOAD stalls into dfuERROR",
	  DFK_ATTR_CAN_DNLOAD | DFK_ATTR_MANIFEST_TOLERANT),
    DFU11("dfu11-wait-reset", "dfu11 without bitManifestationTolerant: dfuMANIFEST-WAIT-RESET until a bus reset",
	  DFK_ATTR_CAN_DNLOAD | DFK_ATTR_CAN_UPLOAD),
    {
	.name = "stm32f405",
	.desc = "STM32F405 ROM DfuSe 0483:df11: flash 4x16K,1x64K,7x128K, option bytes, OTP, device feature; "
		"starts in dfuERROR/errFIRMWARE; mass erase reports 100 ms, takes 16 s",
	.dfuse = true,
	.vid = 0x0483,
	.pid = 0xdf11,
	.bcd = 0x2200,
	.manufacturer = "STMicroelectronics",
	.product = "STM32  BOOTLOADER",
	.serial = "3276346C3034",
	.attrs = 0x0B,
	.detach_timeout = 255,
	.xfer_size = 2048,
	.bcd_dfu = 0x011A,
	.alts = F405_ALTS(f405_option),
	.nalts = 4,
	.start_state = DFK_STATE_ERROR,
	.start_status = DFK_STATUS_ERR_FIRMWARE,
	.leave = EMU_LEAVE_GONE,
	.overwrite_and = true,
	.has_unprotect = true,
	.rdp_alt = 1,
	.rdp_off = 1,
	.t = F405_TIMING,
    },
    {
	.name = "stm32f405-protected",
	.desc = "stm32f405 with read protection level 1 set (reads/writes fail errVENDOR until Read Unprotect)",
	.dfuse = true,
	.vid = 0x0483,
	.pid = 0xdf11,
	.bcd = 0x2200,
	.manufacturer = "STMicroelectronics",
	.product = "STM32  BOOTLOADER",
	.serial = "3276346C3035",
	.attrs = 0x0B,
	.detach_timeout = 255,
	.xfer_size = 2048,
	.bcd_dfu = 0x011A,
	.alts = F405_ALTS(f405_option_rdp1),
	.nalts = 4,
	.start_state = DFK_STATE_ERROR,
	.start_status = DFK_STATUS_ERR_FIRMWARE,
	.leave = EMU_LEAVE_GONE,
	.overwrite_and = true,
	.has_unprotect = true,
	.rdp_alt = 1,
	.rdp_off = 1,
	.protected_default = true,
	.t = F405_TIMING,
    },
    {
	.name = "stm32f103-flash-loader",
	.desc = "DfuSe loader in STM32F103 flash 0483:df11: its own first 12 KiB read-only, 1 KiB pages; "
		"leave starts an application with a DFU runtime interface (0483:5740)",
	.dfuse = true,
	.vid = 0x0483,
	.pid = 0xdf11,
	.bcd = 0x0200,
	.manufacturer = "STMicroelectronics",
	.product = "STM Device in DFU Mode",
	.serial = "8D8A39865151",
	.has_runtime = true,
	.rt_pid = 0x5740,
	.rt_bcd = 0x0200,
	.rt_product = "STM32 Application",
	.rt_intf = "DFU runtime",
	.attrs = 0x0B,
	.detach_timeout = 255,
	.xfer_size = 1024,
	.bcd_dfu = 0x011A,
	.alts = {{"@Internal Flash   /0x08000000/12*001Ka,116*001Kg", EMU_MEM_FLASH, 0, 0, NULL, 0}},
	.nalts = 1,
	.start_state = DFK_STATE_IDLE,
	.start_status = DFK_STATUS_OK,
	.leave = EMU_LEAVE_RUNTIME,
	.rdp_alt = -1,
	/* F1: page erase ~20 ms, half-word program 52 us; mass erase is page by page. */
	.t = {20, 0, 26, 2320, 0, 1, 1, 100, EMU_EARLY_NAK},
    },
    {
	.name = "stm32l476",
	.desc = "STM32L476 ROM DfuSe 0483:df11: 512x2K pages, option bytes in two groups; reports poll timeouts "
		"half the real time and stalls the first too-early GETSTATUS of every other operation",
	.dfuse = true,
	.vid = 0x0483,
	.pid = 0xdf11,
	.bcd = 0x2200,
	.manufacturer = "STMicroelectronics",
	.product = "STM32  BOOTLOADER",
	.serial = "206C35A44D4B",
	.attrs = 0x0B,
	.detach_timeout = 255,
	.xfer_size = 2048,
	.bcd_dfu = 0x011A,
	.alts = {{"@Internal Flash  /0x08000000/512*0002Kg", EMU_MEM_FLASH, 0, 0, NULL, 0},
		 {"@Option Bytes  /0x1FFF7800/01*040 e/0x1FFFF800/01*040 e", EMU_MEM_OPTION, 0, 0, l476_option,
		  sizeof(l476_option)},
		 {"@OTP Memory /0x1FFF7000/01*0001Ke", EMU_MEM_OTP, 0, 0, NULL, 0},
		 {"@Device Feature/0xFFFF0000/01*004 e", EMU_MEM_RAM, 0, 0, NULL, 0}},
	.nalts = 4,
	.start_state = DFK_STATE_IDLE,
	.start_status = DFK_STATUS_OK,
	.leave = EMU_LEAVE_GONE,
	.has_unprotect = true,
	.rdp_alt = 1,
	.rdp_off = 0,
	/* L4: 2 KiB page erase ~22 ms (max 24.5), double-word program ~82 us. */
	.t = {22, 0, 10, 25, 0, 1, 1, 50, EMU_EARLY_STALL},
    },
    {
	.name = "stm32h743",
	.desc = "STM32H743 ROM DfuSe 0483:df11: 16x128K sectors, option bytes; a too-early GETSTATUS gets "
		"dfuDNBUSY again",
	.dfuse = true,
	.vid = 0x0483,
	.pid = 0xdf11,
	.bcd = 0x0200,
	.manufacturer = "STMicroelectronics",
	.product = "DFU in FS Mode",
	.serial = "200364500000",
	.attrs = 0x0B,
	.detach_timeout = 255,
	.xfer_size = 1024,
	.bcd_dfu = 0x011A,
	.alts = {{"@Internal Flash   /0x08000000/16*128Kg", EMU_MEM_FLASH, 0, 0, NULL, 0},
		 {"@Option Bytes   /0x5200201C/01*128 e", EMU_MEM_OPTION, 0, 0, h743_option, sizeof(h743_option)}},
	.nalts = 2,
	.start_state = DFK_STATE_IDLE,
	.start_status = DFK_STATUS_OK,
	.leave = EMU_LEAVE_GONE,
	.has_unprotect = true,
	.rdp_alt = 1,
	.rdp_off = 1,
	/* H7: 128 KiB sector erase ~1.5 s, 256-bit word program ~100 us. */
	.t = {100, 11000, 3, 6000, 0, 1, 1, 100, EMU_EARLY_BUSY},
    },
};

const emu_profile *emu_profile_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}

void emu_profiles_print(FILE *f)
{
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		fprintf(f, "%-24s %s\n", profiles[i].name, profiles[i].desc);
}
