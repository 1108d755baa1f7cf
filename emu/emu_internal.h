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

#define EMU_MAX_ALTS 8
#define EMU_MAX_SEGS 16
#define EMU_DFUSE_DEFAULT_ADDR 0x08000000u

/* Rights of a memory-map segment (DfuSe type letter 'a'..'g' minus 'a'+1). */
enum { EMU_R = 1, EMU_E = 2, EMU_W = 4 };

typedef enum emu_mem_kind {
	EMU_MEM_FLASH,	/* erase to 0xFF, programming only clears bits */
	EMU_MEM_OTP,	/* programming only clears bits, never erased */
	EMU_MEM_OPTION, /* option bytes: rewritten whole, then the chip resets */
	EMU_MEM_RAM,	/* plain overwrite */
} emu_mem_kind;

typedef struct emu_alt_def {
	const char *name; /* plain DFU: iInterface text; DfuSe: the memory-map string */
	emu_mem_kind kind;
	uint32_t plain_size, plain_page; /* plain DFU memories only */
	const uint8_t *init;		 /* initial content of a fresh memory; rest 0xFF */
	size_t init_len;
} emu_alt_def;

/* What a GETSTATUS (or other request) that comes while the device is still
 * busy gets, as the profile's real chip answers it. */
typedef enum emu_early {
	EMU_EARLY_SPEC,	 /* DFU 1.1: any request in dfuDNBUSY stalls, dfuERROR */
	EMU_EARLY_NAK,	 /* the chip NAKs until done: the reply is delayed */
	EMU_EARLY_BUSY,	 /* answered dfuDNBUSY again with the remaining time */
	EMU_EARLY_STALL, /* STM32L4: the first early poll of every other operation stalls */
} emu_early;

typedef enum emu_leave {
	EMU_LEAVE_GONE,	   /* the application has no USB: the device leaves the bus */
	EMU_LEAVE_RUNTIME, /* the application enumerates in DFU runtime mode */
} emu_leave;

typedef struct emu_timing_def {
	uint32_t erase_base_ms, erase_us_per_kib; /* one page/sector */
	uint32_t prog_us_per_byte;
	uint32_t mass_erase_ms;		 /* real duration */
	uint32_t mass_erase_reported_ms; /* 0: reported like the other operations */
	uint32_t cmd_ms;		 /* set address pointer, get commands */
	uint32_t manifest_ms;
	uint32_t report_pct; /* reported bwPollTimeout as % of the real time */
	emu_early early;
} emu_timing_def;

typedef struct emu_profile {
	const char *name, *desc;
	bool dfuse;
	uint16_t vid, pid, bcd; /* DFU mode */
	const char *manufacturer, *product, *serial;
	bool has_runtime; /* an application with a DFU runtime interface exists */
	uint16_t rt_pid, rt_bcd;
	const char *rt_product, *rt_intf;
	bool starts_runtime;
	uint8_t attrs;
	uint16_t detach_timeout, xfer_size, bcd_dfu;
	emu_alt_def alts[EMU_MAX_ALTS];
	size_t nalts;
	uint8_t start_state, start_status; /* DFU mode after power-on/reset */
	emu_leave leave;
	bool overwrite_and; /* programming unerased flash ANDs silently (else errWRITE) */
	bool has_unprotect; /* the ROM knows Read Unprotect (0x92) */
	int rdp_alt;	    /* alt holding the read-protection byte, -1: none */
	uint32_t rdp_off;   /* its offset in that memory; 0xAA = unprotected */
	bool protected_default;
	emu_timing_def t;
} emu_profile;

const emu_profile *emu_profile_find(const char *name);

typedef struct emu_seg {
	uint32_t start, count, page;
	uint8_t rights;
	uint64_t off; /* offset of the segment in the memory's buffer */
} emu_seg;

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
	emu_timing timing;
	char serial[64];
	emu_mem mem[EMU_MAX_ALTS];
	size_t nmem;
	uint8_t *membuf;
	uint64_t memsize;
	int memfd;   /* -1: RAM only */
	bool mapped; /* membuf is a MAP_SHARED mapping of memfd */

	/* bus */
	bool runtime; /* application (runtime) mode, else DFU mode */
	bool present; /* false: off the bus after leave into a USB-less app */
	bool gone;    /* disconnect fault */
	bool hung;    /* timeout fault */
	uint8_t config, alt;
	emu_event event;

	/* DFU */
	uint8_t state, status;
	uint16_t xfer_size; /* wTransferSize announced and enforced */
	uint8_t attrs;
	uint64_t deadline; /* end of the current busy period (now_ms) */
	uint64_t detach_deadline;
	uint64_t last_now;    /* now_ms of the last control transfer */
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
/* UPLOAD in DfuSe mode. */
int emu_dfuse_upload(emu_device *dev, uint16_t block, uint8_t *data, uint16_t wlength, uint32_t *actual);
/* Leave after the dfuMANIFEST status went out. */
void emu_dfuse_leave(emu_device *dev);
bool emu_dfuse_protected(const emu_device *dev);

/* emu_flash.c */
bool emu_flash_init(emu_device *dev, const char *path, char *errbuf, size_t errsz);
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
