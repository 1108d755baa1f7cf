/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit-emu device model internals, shared by emu_device.c (USB standard
 * requests, descriptors), emu_dfu.c (DFU 1.1 state machine), emu_dfuse.c
 * (ST DfuSe commands), emu_flash.c (memories and the flash rules),
 * emu_profiles.c, emu_faults.c and emu_stats.c. Tests may include it to
 * look at the state directly. Everything hangs off one emu_device: no
 * mutable globals, so several devices can live in one process. */
#ifndef DFUKIT_EMU_INTERNAL_H
#define DFUKIT_EMU_INTERNAL_H

#include "dfukit/usb.h"
#include "emu_device.h"

#define EMU_MAX_ALTS 32	  /* DFU-mode alt settings */
#define EMU_MAX_SEGS 16	  /* segments of one memory's real layout */
#define EMU_MAX_INTFS 8	  /* interfaces of a configuration, the DFU one included */
#define EMU_MAX_LANGIDS 8 /* string descriptor 0 */
#define EMU_MAX_ERASE_SIZES 8
#define EMU_MAX_MEMORY (256u << 20) /* all memories of a device together */
#define EMU_DFUSE_DEFAULT_ADDR 0x08000000u

/* Rights of a memory-map segment (DfuSe type letter 'a'..'g' minus 'a'+1). */
enum { EMU_R = 1, EMU_E = 2, EMU_W = 4 };

typedef enum emu_mem_kind {
	EMU_MEM_FLASH,	/* erase to the fill byte, programming only clears bits */
	EMU_MEM_OTP,	/* programming only clears bits, never erased */
	EMU_MEM_OPTION, /* option bytes: rewritten whole, then the chip resets */
	EMU_MEM_RAM,	/* plain overwrite */
} emu_mem_kind;

typedef struct emu_seg {
	uint32_t start, count, page;
	uint8_t rights;
	uint64_t off; /* offset of the segment in the memory's buffer */
} emu_seg;

/* A USB string: text (UTF-8, sent as UTF-16LE), the raw descriptor bytes
 * as the device sends them, or none (index 0). */
typedef enum emu_str_kind { EMU_STR_NONE, EMU_STR_TEXT, EMU_STR_RAW } emu_str_kind;
typedef struct emu_str {
	emu_str_kind kind;
	char *text;
	uint8_t *raw;
	size_t raw_len;
} emu_str;

/* Initial bytes at an offset of a memory. */
typedef struct emu_patch {
	uint64_t off;
	uint8_t *data;
	size_t len;
} emu_patch;

typedef struct emu_alt_def {
	emu_str name; /* advertised iInterface: plain DFU a name, DfuSe the memory map */
	emu_mem_kind kind;
	emu_seg segs[EMU_MAX_SEGS]; /* the real layout, whatever the name says */
	size_t nsegs;
	uint64_t size;
	uint8_t fill; /* a fresh memory: this byte, then the patches */
	emu_patch *patches;
	size_t npatches;
} emu_alt_def;

/* What a request that comes while the device is still busy gets, as the
 * real chip answers it (quirks busy-*). */
typedef enum emu_early {
	EMU_EARLY_SPEC,	 /* DFU 1.1: any request in dfuDNBUSY stalls, dfuERROR */
	EMU_EARLY_NAK,	 /* the chip NAKs until done: the reply is delayed */
	EMU_EARLY_BUSY,	 /* answered dfuDNBUSY again with the remaining time */
	EMU_EARLY_STALL, /* STM32L4: the first early poll of every other operation stalls */
} emu_early;

/* Behaviour quirks (the "quirks" of a description, emu_desc.c). */
enum {
	EMU_Q_WRITE_UNERASED_ANDS = 1u << 0,  /* programming unerased flash ANDs silently (else errWRITE) */
	EMU_Q_CLRSTATUS_ERRUNKNOWN = 1u << 1, /* CLRSTATUS outside dfuERROR: dfuERROR/errUNKNOWN, no stall */
	EMU_Q_ABORT_ANYWHERE = 1u << 2,	      /* ABORT taken in the SYNC states, ignored elsewhere */
	EMU_Q_DETACH_REENUMERATES = 1u << 3,  /* DFU_DETACH in DFU mode: the loader re-enumerates */
	EMU_Q_STALL_KEEPS_STATE = 1u << 4,    /* refused requests stall without dfuERROR */
	EMU_Q_ALWAYS_DNBUSY = 1u << 5,	      /* the GETSTATUS after each DNLOAD says dfuDNBUSY */
	EMU_Q_LEAVE_CHECKS_VECTOR = 1u << 6,  /* DfuSe leave jumps only to a valid vector table */
	EMU_Q_BUSY_UNTIL_CLRSTATUS = 1u << 7, /* erase beyond the first MiB: dfuDNBUSY until CLRSTATUS */
	EMU_Q_ZERO_POLL_WEDGE = 1u << 8,      /* the first erase wedges: dfuDNBUSY, 0 ms, until a reset */
	EMU_Q_ERASE_IN_TRANSFER = 1u << 9,    /* plain DFU: the work is done inside the DNLOAD transfer */
	EMU_Q_LEAVE_NO_STATUS = 1u << 10,     /* DfuSe leave: the GETSTATUS after it is never answered */
};

typedef struct emu_timing_def {
	uint32_t erase_base_ms, erase_us_per_kib; /* one page/sector of a size not in erase_sizes */
	uint32_t erase_sizes[EMU_MAX_ERASE_SIZES], erase_ms[EMU_MAX_ERASE_SIZES];
	size_t nerase;
	uint32_t prog_ns_per_byte;
	uint32_t mass_erase_ms;		 /* real duration, 0: the pages' erase time */
	uint32_t mass_erase_reported_ms; /* 0: reported like the other operations */
	uint32_t cmd_ms;		 /* set address pointer, get commands */
	uint32_t manifest_ms;
	uint32_t report_pct;			   /* reported bwPollTimeout as % of the real time */
	uint32_t usb_transfer_us, usb_ns_per_byte; /* full-speed bus time of a control transfer */
	emu_early early;
} emu_timing_def;

/* A non-DFU interface of a composite device. */
typedef struct emu_intf_def {
	uint8_t cls, subclass, protocol, num_eps;
	emu_str name;
	uint8_t *extra; /* class and endpoint descriptors after its interface descriptor */
	size_t extra_len;
} emu_intf_def;

typedef enum emu_func_place {
	EMU_FUNC_END,	      /* after every alt setting (ST ROMs) */
	EMU_FUNC_AFTER_FIRST, /* after alt setting 0 */
	EMU_FUNC_AFTER_EACH,  /* after each alt setting */
} emu_func_place;

typedef struct emu_func_def {
	uint8_t length; /* 7 (DFU 1.0, no bcdDFUVersion) or 9 */
	uint8_t attrs;
	uint16_t detach_timeout, xfer_size, bcd_dfu;
	emu_func_place place;
} emu_func_def;

/* How the device shows itself in one mode (DFU mode or run-time). */
typedef struct emu_mode_def {
	uint16_t vid, pid, bcd, bcd_usb;
	uint8_t dev_class, dev_subclass, dev_protocol, ep0_size;
	uint8_t config_attrs, max_power;
	emu_str manufacturer, product, serial;
	uint16_t langids[EMU_MAX_LANGIDS];
	size_t nlangids;
	emu_intf_def intfs[EMU_MAX_INTFS - 1]; /* the other interfaces, in number order */
	size_t nintfs;
	uint8_t dfu_intf; /* bInterfaceNumber of the DFU interface */
	emu_func_def func;
	emu_str dfu_name; /* run-time mode: iInterface of the DFU interface */
} emu_mode_def;

/* A device description (emu_desc.c): a built-in one (emu/devices/NAME.json,
 * compiled in) or a --device FILE. Read-only once parsed; devices point at it. */
struct emu_profile {
	char *name, *desc;
	bool dfuse;
	emu_mode_def mode[2]; /* [0] DFU mode, [1] run-time mode (has_runtime) */
	bool has_runtime;     /* an application with a DFU run-time interface exists */
	bool starts_runtime;
	emu_alt_def alts[EMU_MAX_ALTS];
	size_t nalts;
	uint64_t memsize;		   /* all alts' memories */
	uint8_t start_state, start_status; /* DFU mode after power-on/reset */
	uint32_t quirks;		   /* EMU_Q_* */
	uint32_t desc_quirks;		   /* EMU_D_*: hostile descriptors, always on */
	bool has_unprotect;		   /* the ROM knows Read Unprotect (0x92) */
	int rdp_alt;			   /* alt holding the read-protection byte, -1: none */
	uint32_t rdp_off;		   /* its offset in that memory; 0xAA = unprotected */
	uint32_t dfuse_addr;		   /* address pointer after reset */
	emu_timing_def t;
	char bus_path[32]; /* "" : assigned by the server */
	uint32_t devnum;   /* 0: assigned by the server */
	char *faults[EMU_MAX_FAULTS];
	size_t nfaults;
};

/* The compiled-in descriptions (generated from emu/devices/ by CMake). */
typedef struct emu_builtin {
	const char *name;
	const unsigned char *text;
	size_t len;
} emu_builtin;
extern const emu_builtin emu_builtins[];
extern const size_t emu_nbuiltins;

/* The hostile descriptor variants by name (desc=NAME faults and quirks). */
bool emu_desc_fault_bit(const char *name, uint32_t *bit);

typedef struct emu_mem {
	const emu_alt_def *def;
	emu_seg segs[EMU_MAX_SEGS];
	size_t nsegs;
	uint64_t size;
	uint8_t *data;	  /* into emu_device.membuf */
	uint8_t *touched; /* plain DFU: pages erased during this download */
	uint64_t npages;
	uint64_t image_len; /* plain DFU: length of the last download, 0: none */
} emu_mem;

/* Parses a DfuSe memory-map string into segments (own parser: the emulator
 * must not share this code with the tool it tests). Returns false on error. */
bool emu_memmap_parse(const char *s, emu_seg *segs, size_t maxsegs, size_t *nsegs, uint64_t *total);

typedef enum emu_fault_kind {
	EMU_F_STALL,
	EMU_F_STATUS,
	EMU_F_BUSY,
	EMU_F_DISCONNECT,
	EMU_F_SHORT,
	EMU_F_TIMEOUT,
	EMU_F_SLOW,
	EMU_F_DESC,
} emu_fault_kind;

typedef enum emu_fault_trigger {
	EMU_T_NONE,
	EMU_T_REQ,
	EMU_T_BLOCK,
	EMU_T_DNBLOCK,
	EMU_T_UPBLOCK,
	EMU_T_ADDR,
} emu_fault_trigger;

/* Hostile descriptor variants (desc=NAME). */
enum {
	EMU_D_STR_LONG = 1u << 0,
	EMU_D_STR_BADLEN = 1u << 1,
	EMU_D_STR_ODD = 1u << 2,
	EMU_D_MEMMAP_GARBAGE = 1u << 3,
	EMU_D_MEMMAP_OVERFLOW = 1u << 4,
	EMU_D_MEMMAP_EMPTY = 1u << 5,
	EMU_D_XFER0 = 1u << 6,
	EMU_D_XFER65535 = 1u << 7,
	EMU_D_FUNC_BADLEN = 1u << 8,
	EMU_D_FUNC_MISSING = 1u << 9,
	EMU_D_TOTAL_LONG = 1u << 10,
	EMU_D_TOTAL_SHORT = 1u << 11,
	EMU_D_BLEN0 = 1u << 12,
	EMU_D_DEV_BADLEN = 1u << 13,
};

typedef struct emu_fault {
	emu_fault_kind kind;
	uint8_t status; /* EMU_F_STATUS */
	uint32_t desc;	/* EMU_F_DESC: one EMU_D_* bit */
	uint32_t ms;	/* EMU_F_SLOW: delay of every reply */
	emu_fault_trigger trig;
	uint64_t n; /* request number (1-based), block index (0-based) or address */
	bool fired;
} emu_fault;

/* Parses one SPEC; false with a message in errbuf. */
bool emu_fault_parse(const char *spec, emu_fault *f, char *errbuf, size_t errsz);

/* What a request is about, for matching fault triggers. */
typedef struct emu_fault_ctx {
	uint64_t req;	/* 0: not a request-level check */
	int block_dir;	/* 0 none, 1 download data block, 2 upload data block */
	uint64_t block; /* index of the data block since the device was created */
	bool has_addr;
	uint64_t addr, len;
} emu_fault_ctx;

enum {
	EMU_RQ_GET_STATUS,
	EMU_RQ_CLEAR_FEATURE,
	EMU_RQ_SET_FEATURE,
	EMU_RQ_SET_ADDRESS,
	EMU_RQ_GET_DESCRIPTOR,
	EMU_RQ_SET_DESCRIPTOR,
	EMU_RQ_GET_CONFIGURATION,
	EMU_RQ_SET_CONFIGURATION,
	EMU_RQ_GET_INTERFACE,
	EMU_RQ_SET_INTERFACE,
	EMU_RQ_SYNCH_FRAME,
	EMU_RQ_DETACH,
	EMU_RQ_DNLOAD,
	EMU_RQ_UPLOAD,
	EMU_RQ_GETSTATUS,
	EMU_RQ_CLRSTATUS,
	EMU_RQ_GETSTATE,
	EMU_RQ_ABORT,
	EMU_RQ_OTHER,
	EMU_RQ_COUNT,
};

typedef struct emu_stats {
	uint64_t control_transfers;
	uint64_t req[EMU_RQ_COUNT];
	uint64_t bytes_down, bytes_up;
	uint64_t busy_ms;
	uint64_t erased_pages;
	uint64_t stalls;
} emu_stats;

/* Classifies a SETUP packet into an EMU_RQ_* slot. */
int emu_stats_classify(const uint8_t setup[8]);
const char *emu_stats_name(int rq);

/* Pending DNLOAD, executed on the GETSTATUS after it (DfuSe and plain). */
typedef enum emu_after {
	EMU_AFTER_NONE,
	EMU_AFTER_RESET, /* the chip resets once the busy status went out */
} emu_after;

struct emu_device {
	const emu_profile *prof;
	emu_profile *own_prof; /* prof when the device made it (a built-in by name) */
	emu_timing timing;
	bool serial_set; /* serial replaces the description's (--serial, --count) */
	char serial[64];
	emu_mem mem[EMU_MAX_ALTS];
	size_t nmem;
	uint8_t *membuf;
	uint64_t memsize;
	int memfd;     /* -1: RAM only */
	bool mapped;   /* membuf is a MAP_SHARED mapping of memfd */
	bool borrowed; /* membuf is emu_config.memory: not freed */

	/* bus */
	bool runtime; /* application (runtime) mode, else DFU mode */
	bool present; /* false: off the bus after leave into a USB-less app */
	bool gone;    /* disconnect fault */
	bool hung;    /* timeout fault */
	uint8_t config, alt;
	emu_event event;

	/* DFU */
	uint8_t state, status;
	uint16_t xfer_size; /* wTransferSize announced and enforced (DFU mode) */
	uint64_t deadline;  /* end of the current busy period (now_ms) */
	uint64_t detach_deadline;
	uint64_t last_now;    /* now_ms of the last control transfer */
	uint64_t bus_ns;      /* USB bus time owed, below a millisecond */
	unsigned early_polls; /* early GETSTATUS seen in the current busy period */
	uint64_t busy_ops;    /* busy periods so far */
	bool op_pending;      /* a DNLOAD waits for its GETSTATUS */
	bool op_done;	      /* it ran; its result is reported next */
	bool manifested;
	uint8_t op_result;
	emu_after op_after;
	uint8_t *op_buf; /* 64 KiB: any wTransferSize */
	uint32_t op_len;
	uint16_t op_block;
	uint32_t addr_ptr;
	uint64_t dn_off, up_off; /* plain DFU stream offsets */
	bool stuck_busy;	 /* busy fault fired */
	uint32_t stuck_poll_ms;	 /* bwPollTimeout while stuck busy */
	bool wedged;		 /* zero-poll-wedge: stuck until a bus reset */
	bool busy_tail;		 /* busy-until-clrstatus: done, but dfuDNBUSY until CLRSTATUS */
	uint32_t busy_tail_poll; /* bwPollTimeout it keeps reporting meanwhile */
	uint32_t slow_ms;	 /* slow fault fired: every reply this much later */
	int forced_status;	 /* status fault waiting for its request, -1: none */
	bool short_pending;
	uint64_t dn_blocks, up_blocks;

	emu_fault faults[EMU_MAX_FAULTS];
	size_t nfaults;
	uint32_t desc_faults; /* EMU_D_* bits */

	emu_stats stats;
};

/* emu_device.c */
/* The current mode's description and DFU attributes. */
static inline const emu_mode_def *emu_mode(const emu_device *dev)
{
	return &dev->prof->mode[dev->runtime && dev->prof->has_runtime];
}
static inline uint8_t emu_attrs(const emu_device *dev)
{
	return emu_mode(dev)->func.attrs;
}
static inline bool emu_quirk(const emu_device *dev, uint32_t q)
{
	return (dev->prof->quirks & q) != 0;
}
void emu_enter_dfu_mode(emu_device *dev);     /* (re)boot into the DFU/ROM mode */
void emu_enter_runtime_mode(emu_device *dev); /* boot the application */
void emu_reset_into(emu_device *dev, bool runtime, emu_event ev);

/* emu_dfu.c: class requests on the DFU interface. */
int emu_dfu_request(emu_device *dev, const uint8_t setup[8], uint8_t *data, uint32_t *actual, uint64_t now_ms,
		    uint32_t *delay_ms);
/* Sets dfuERROR with a status (stall bookkeeping is the caller's). */
void emu_dfu_error(emu_device *dev, uint8_t status);
/* The faults of an UPLOAD block (plain DFU and DfuSe alike): an injected
 * fault, then a status error armed by status=ERR. -1: go on. */
int emu_dfu_upload_faults(emu_device *dev, const emu_fault_ctx *ctx);
/* Busy time bookkeeping: returns the bwPollTimeout to report. */
uint32_t emu_dfu_busy(emu_device *dev, uint64_t now_ms, uint32_t real_ms, uint32_t reported_ms);

/* emu_dfuse.c */
/* Decodes a DfuSe DNLOAD at DNLOAD time; returns EMU_URB_OK or STALL. */
int emu_dfuse_dnload(emu_device *dev, uint16_t block, const uint8_t *data, uint32_t len);
/* Runs the pending DfuSe command/write; returns the status and sets
 * *real_ms / *reported_ms to its busy time. */
uint8_t emu_dfuse_execute(emu_device *dev, uint32_t *real_ms, uint32_t *reported_ms);
/* Whether the pending DfuSe DNLOAD is an erase command (page or mass). */
bool emu_dfuse_pending_erase(const emu_device *dev);
/* UPLOAD in DfuSe mode. */
int emu_dfuse_upload(emu_device *dev, uint16_t block, uint8_t *data, uint16_t wlength, uint32_t *actual);
/* Leave after the dfuMANIFEST status went out. */
void emu_dfuse_leave(emu_device *dev);
bool emu_dfuse_protected(const emu_device *dev);

/* emu_flash.c */
bool emu_flash_init(emu_device *dev, const emu_config *cfg, char *errbuf, size_t errsz);
void emu_flash_close(emu_device *dev);
/* Finds the segment of mem holding addr; NULL when none. */
const emu_seg *emu_flash_seg(const emu_mem *m, uint64_t addr);
/* True when every byte of [addr, addr+len) lies in segments having all
 * rights in `need`. */
bool emu_flash_range_ok(const emu_mem *m, uint64_t addr, uint64_t len, uint8_t need);
/* Byte pointer of addr (inside a segment); NULL when none. */
uint8_t *emu_flash_ptr(const emu_mem *m, uint64_t addr);
/* Programs data at addr (range already checked): returns a DFU status. */
uint8_t emu_flash_program(emu_device *dev, emu_mem *m, uint64_t addr, const uint8_t *data, uint32_t len);
/* Erases the page holding addr; returns its size (0: not erasable). */
uint32_t emu_flash_erase_page(emu_device *dev, emu_mem *m, uint64_t addr);
/* Erases every erasable page of every flash memory; returns bytes erased. */
uint64_t emu_flash_mass_erase(emu_device *dev);
/* Modelled busy time (ms, rounded up) of an erase of `bytes` in one page. */
uint32_t emu_flash_erase_ms(const emu_device *dev, uint64_t bytes);
uint32_t emu_flash_prog_ms(const emu_device *dev, uint64_t bytes);
/* Fills a fresh memory with its initial content. */
void emu_flash_fill_initial(emu_mem *m);

/* emu_faults.c */
/* Fires the first unfired fault whose trigger matches ctx: returns -1 to go
 * on with the request, or an EMU_URB_* result to return at once. */
int emu_faults_fire(emu_device *dev, const emu_fault_ctx *ctx);
const char *emu_status_name(uint8_t status);
int emu_status_parse(const char *name);

/* emu_stats.c */
void emu_stats_count(emu_device *dev, const uint8_t setup[8]);

static inline uint16_t emu_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t emu_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#endif
